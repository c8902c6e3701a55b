"""Supervised models behind one interface: semantics, surrogate gradient, cost formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lsm.models import MODELS
from lsm.models.cost import BACKWARD_FACTOR, TrainingCost, recurrent_macs
from lsm.models.srnn import SRNN, RectSpike
from lsm.reservoir.network import LIFParams, ReservoirWeights, encode, fit_grid

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_registry_names_every_model():
    assert set(MODELS) == {"lsm_readout", "raw_readout", "time_sum_readout",
                           "random_projection_readout", "srnn", "rnn"}
    assert MODELS["lsm_readout"].input == "features" and MODELS["srnn"].input == "frames"


def test_the_registry_table_agrees_with_the_classes_and_the_schema():
    """The workflow reads BUILTIN at start-up without importing the model code: each entry's
    input and priority must be its class's, and the schema's enum must be the table."""
    from pathlib import Path

    import yaml

    from lsm.models.registry import BUILTIN

    for kind, entry in BUILTIN.items():
        cls = MODELS[kind]
        assert (cls.kind, cls.input, cls.priority) == (kind, entry.input, entry.priority)
    schema = yaml.safe_load((Path(__file__).parents[1]
                             / "workflow/schemas/config.schema.yaml").read_text())
    kind = schema["$defs"]["supervised_run"]["properties"]["kind"]["anyOf"]
    assert set(kind[0]["enum"]) == set(BUILTIN)


def test_a_plugin_kind_resolves_from_the_path_and_bad_ones_say_why(tmp_path, monkeypatch):
    from lsm.models.registry import PluginError, is_plugin, model_input, resolve_model

    pkg = tmp_path / "myplug"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(
        "from lsm.models.base import SupervisedModel\n"
        "class Good(SupervisedModel):\n    input = 'features'\n    priority = 5\n"
        "    def fit(self, *a):\n        raise NotImplementedError\n"
        "class NoInput(SupervisedModel):\n    input = 'pixels'\n"
        "    def fit(self, *a):\n        raise NotImplementedError\n"
        "class NotAModel:\n    input = 'frames'\n")
    (pkg / "needsdep.py").write_text("import not_installed_dep\n")
    (pkg / "broken.py").write_text("def oops(:\n")
    monkeypatch.chdir(tmp_path)  # importable from the working directory
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # undone after the test
    assert is_plugin("myplug.m:Good") and not is_plugin("rnn") and not is_plugin("a b:c")
    assert not is_plugin("myplug.m:Good\n")
    assert model_input("myplug.m:Good") == "features"
    assert resolve_model("myplug.m:Good").priority == 5
    for kind, why in (("myplug.m:Missing", "has no 'Missing'"),
                      ("nopkg.m:X", "cannot import module 'nopkg.m'"),
                      ("myplug.m:NotAModel", "not a subclass"),
                      ("myplug.m:NoInput", "declare input"),
                      ("myplug.needsdep:X", "imports 'not_installed_dep', which is not "
                                            "installed"),
                      ("myplug.broken:X", "importing module 'myplug.broken' failed: "
                                          "SyntaxError"),
                      ("lstm", "unknown model kind 'lstm'")):
        with pytest.raises(PluginError, match=why):
            resolve_model(kind)
    import sys

    # the working directory is appended, never put first: it cannot shadow a module
    assert sys.path[0] != str(tmp_path) and str(tmp_path) in sys.path


def test_the_energy_table_prices_what_a_features_model_declares(tmp_path, monkeypatch):
    from lsm.models.registry import model_head_macs

    assert model_head_macs("lsm_readout", 200, 10, {}) == 2000  # a linear readout
    assert model_head_macs("raw_readout", 200, 10, {}) is None  # reads frames: not priced
    monkeypatch.syspath_prepend(str(REPO / "examples/new_baseline"))
    mlp = "new_baseline.mlp:MLPReadout"
    assert model_head_macs(mlp, 200, 10, {"n_hidden": 64}) == 200 * 64 + 64 * 10


def test_rect_surrogate_gradient():
    v = torch.tensor([-0.3, -0.2, 0.0, 0.1, 0.3], requires_grad=True)
    s = RectSpike.apply(v, 0.25)
    assert s.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]  # strict threshold
    s.sum().backward()
    assert v.grad.tolist() == [0.0, 2.0, 2.0, 2.0, 0.0]  # 1 / (2 * 0.25) inside the window


def test_srnn_forward_has_the_reservoir_semantics():
    """With the LSM's weights, the SRNN's hidden spikes are the reservoir's."""
    torch.manual_seed(0)
    net = SRNN(8, 12, 3, decay=0.9, v_th=1.0, const=0.05).double()
    w_in, b_in = fit_grid(net.encoder.w_in.detach().numpy())
    w_rec = np.round(net.encoder.w_rec.detach().numpy() * 2.0**b_in) / 2.0**b_in
    with torch.no_grad():
        net.encoder.w_in.copy_(torch.from_numpy(w_in))
        net.encoder.w_rec.copy_(torch.from_numpy(w_rec))
    x = (np.random.default_rng(0).random((4, 15, 8)) < 0.3).astype(np.uint8)
    counts = encode(x, ReservoirWeights(torch.from_numpy(w_in), torch.from_numpy(w_rec), b_in),
                    LIFParams(0.9, 1.0))
    with torch.no_grad():
        logits = net(torch.from_numpy(x).double())
        rate = torch.from_numpy(counts).double() / 15
        np.testing.assert_allclose(logits.numpy(), net.fc(rate).numpy(), atol=1e-12)


def test_cost_formula():
    c = TrainingCost(trainable_params=10, forward_macs_per_sample=100.0, epochs=3,
                     train_samples=7, optimizer_steps=9, train_seconds=1.0,
                     encode_macs_dense=1e4, encode_macs_events=1e3)
    assert c.train_macs == 3 * 7 * 100.0 * (1 + BACKWARD_FACTOR)
    assert c.total_macs_dense == c.train_macs + 1e4
    assert c.total_macs_events == c.train_macs + 1e3
    recs = {r["metric"]: r for r in c.records(seed=2)}
    assert recs["train_seconds"]["unit"] == "s" and recs["optimizer_steps"]["value"] == 9
    assert recurrent_macs(256, 200, 50) == 50 * (256 * 200 + 200 * 200)


@pytest.mark.parametrize("kind,params", [
    ("raw_readout", {"train": {"lr": 0.05, "epochs": 8, "batch_size": 16}}),
    ("rnn", {"n_hidden": 16, "train": {"lr": 0.01, "epochs": 8, "batch_size": 16}}),
    ("srnn", {"n_res": 16, "decay": 0.9, "v_th": 0.3, "const": 0.05, "readout": "ann",
              "train": {"lr": 0.01, "epochs": 8, "batch_size": 16}}),
    ("srnn", {"n_res": 16, "decay": 0.9, "v_th": 0.3, "const": 0.05, "readout": "snn",
              "train": {"lr": 0.01, "epochs": 8, "batch_size": 16}}),
])
def test_models_learn_a_toy_task_and_report_cost(kind, params):
    rng = np.random.default_rng(1)
    proto = rng.random((3, 10, 6)) < 0.4

    def make(n):
        y = np.arange(n) % 3
        return (proto[y] ^ (rng.random((n, 10, 6)) < 0.05)).astype(np.uint8), y

    (xtr, ytr), (xva, yva), (xte, yte) = make(60), make(30), make(30)
    fitted = MODELS[kind](**params).fit(xtr, ytr, xva, yva, 3, seed=0)
    assert fitted.best_val_acc == max(fitted.val_curve)
    assert (fitted.predict(xte) == yte).mean() > 0.5
    assert fitted.cost.trainable_params > 0 and fitted.cost.train_macs > 0
    assert fitted.cost.optimizer_steps == 8 * 4  # 60 samples, batch 16


def test_rnn_takes_the_papers_mse_loss_when_asked():
    """The paper trained its N-MNIST RNN with MSE to one-hot targets (§3.1): params.loss
    reaches the training loop (the loss curve is an MSE: below 1 from the start, where
    cross-entropy on 3 classes starts near ln 3)."""
    g = np.random.default_rng(0)
    y = g.integers(0, 3, 90)
    x = (g.random((90, 6, 5)) < 0.1 + 0.5 * (np.arange(5) == y[:, None, None])).astype(np.float32)
    train = {"lr": 0.01, "epochs": 3, "batch_size": 30}
    ce = MODELS["rnn"](train=train, n_hidden=8).fit(x[:60], y[:60], x[60:], y[60:], 3, 0)
    mse = MODELS["rnn"](train=train, n_hidden=8, loss="mse").fit(x[:60], y[:60], x[60:],
                                                                 y[60:], 3, 0)
    assert ce.train_loss[0] > 0.9 and mse.train_loss[0] < 0.6
