"""The trainable baselines learn (issue 15): each would have caught the failure it had.

Fixtures are small and separable, so a model that learns reaches a loss far below the
one of a constant prediction within a few epochs; the checks fail for a model whose
gradient does not flow (a saturated SRNN, a surrogate window that misses the membrane
potentials, a tanh RNN read at the end of a long horizon, or spike-rate outputs under
cross-entropy)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lsm import atomic
from lsm.datasets.preprocess import coarsen_bins
from lsm.errors import ConfigError
from lsm.models.rnn import RNNClassifier, rnn_inputs
from lsm.models.srnn import (
    INIT_RATE_RANGE,
    LENS_PER_VTH,
    SRNNClassifier,
    SRNNEncoder,
    calibrate_const,
    firing_rate,
)
from lsm.models.training import TrainConfig, make_loss, train_classifier
from lsm.pipeline import stages
from lsm.pipeline.spec import RunLabels, SupervisedSpec

K = 4


def separable(n: int, n_t: int = 20, c: int = 32, seed: int = 0, early: int | None = None):
    """Class k drives input block k (p = 0.5) over a background at p = 0.05; with
    `early`, the class signal is only in the first `early` steps."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    x = rng.random((n, n_t, c)) < 0.05
    block = c // K
    for k in range(K):
        idx = np.flatnonzero(y == k)
        steps = early or n_t
        x[idx, :steps, k * block:(k + 1) * block] |= (
            rng.random((idx.size, steps, block)) < 0.5)
    return x.astype(np.uint8), y


TRAIN = {"lr": 0.005, "epochs": 8, "batch_size": 32, "threads": 1}


def _fit(model_cls, params, n_t=20, early=None, train=None):
    x, y = separable(240, n_t, early=early)
    xv, yv = separable(80, n_t, seed=1, early=early)
    return model_cls(train=train or TRAIN, **params).fit(x, y, xv, yv, K, seed=0)


@pytest.mark.parametrize("readout", ["ann", "snn"])
def test_srnn_learns_well_below_a_constant_prediction(readout):
    f = _fit(SRNNClassifier, {"n_res": 64, "decay": 0.9, "v_th": 0.6, "readout": readout,
                              "readout_decay": 0.9})
    if readout == "ann":  # cross-entropy: a constant prediction gives ln K
        assert f.extra["loss"] == "ce" and f.train_loss[-1] < 0.5 * math.log(K)
    else:  # the spiking readout's rates under MSE to one-hot; constant 1/K gives (K-1)/K^2
        assert f.extra["loss"] == "mse" and f.train_loss[-1] < 0.5 * (K - 1) / K**2
    assert f.best_val_acc > 90.0


def test_srnn_initial_firing_rate_is_calibrated_and_recorded():
    # the paper's N-TIDIGITS const 1.0 at V_th 0.6: saturated; "auto" puts it in 5-20 %
    x, _ = separable(240)
    torch.manual_seed(0)
    saturated = firing_rate(SRNNEncoder(32, 64, 0.9, 0.6, 1.0), x)
    assert saturated > INIT_RATE_RANGE[1]
    const, rate = calibrate_const(32, 64, 0.9, 0.6, x, seed=0)
    assert INIT_RATE_RANGE[0] <= rate <= INIT_RATE_RANGE[1] and const < 1.0
    f = _fit(SRNNClassifier, {"n_res": 64, "decay": 0.9, "v_th": 0.6})
    assert INIT_RATE_RANGE[0] <= f.extra["init_firing_rate"] <= INIT_RATE_RANGE[1]
    assert f.extra["const"] == pytest.approx(const)


def test_surrogate_width_scales_with_the_threshold():
    for v_th in (0.3, 0.6, 5.0):
        f = SRNNClassifier(train={**TRAIN, "epochs": 1}, n_res=16, decay=0.9, v_th=v_th
                           ).fit(*separable(64), *separable(32, seed=1), K, seed=0)
        assert f.extra["lens"] == pytest.approx(LENS_PER_VTH * v_th)
    assert LENS_PER_VTH * 0.3 == pytest.approx(0.25)  # the paper's width at its V_th


def test_cross_entropy_on_spike_rates_is_bounded_away_from_zero():
    # why SRNN-SNN gets MSE: with outputs in [0, 1], even a perfect one-hot rate leaves CE
    # at log(1 + (K-1)/e), while MSE reaches 0
    y = torch.arange(11)
    perfect = torch.eye(11)
    ce = make_loss(TrainConfig(loss="ce"))(perfect, y).item()
    assert ce == pytest.approx(math.log(1 + 10 / math.e), rel=1e-5) and ce > 1.4
    assert make_loss(TrainConfig(loss="mse"))(perfect, y).item() == 0.0


def test_rnn_learns_through_a_long_horizon():
    # the class signal only in the first 10 of 129 steps: read at the last step, the tanh
    # RNN does not generalise (it memorises the training set); the mean readout learns
    train = {**TRAIN, "lr": 0.01, "epochs": 15}
    f = _fit(RNNClassifier, {"n_hidden": 32}, n_t=129, early=10, train=train)
    assert f.train_loss[-1] < 0.5 * math.log(K) and f.best_val_acc > 90.0
    last = _fit(RNNClassifier, {"n_hidden": 32, "readout": "last"}, n_t=129, early=10,
                train=train)
    assert last.best_val_acc < 60.0  # what the old readout did


def test_rnn_reads_the_papers_bins_and_window():
    x, _ = separable(4, n_t=129)
    assert rnn_inputs(x, 50, 30).shape == (4, 30, 32)
    assert rnn_inputs(x, None, None).shape == x.shape
    with pytest.raises(ValueError, match="time_window"):
        rnn_inputs(x, 20, 30)


def test_coarsen_bins_is_an_or_over_consecutive_bins():
    x = np.zeros((1, 129, 2), np.uint8)
    x[0, 128, 0] = 1
    x[0, 0, 1] = 1
    c = coarsen_bins(x, 90)
    assert c.shape == (1, 90, 2) and c[0, -1, 0] == 1 and c[0, 0, 1] == 1
    assert c.sum() == 2  # nothing lost, nothing invented
    np.testing.assert_array_equal(coarsen_bins(x, 129), x)
    with pytest.raises(ValueError, match="n_bins"):
        coarsen_bins(x, 130)


def test_early_stopping_stops_after_patience_epochs_without_gain():
    x, y = separable(64)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(20 * 32, K))
    with torch.no_grad():  # no learning at all: validation never improves after epoch 1
        for p in model.parameters():
            p.zero_()
    res = train_classifier(model, x, y, x, y,
                           TrainConfig(lr=1e-12, epochs=50, batch_size=32, patience=3), 0)
    assert res.best_epoch == 1 and res.epochs_run == 4 and len(res.val_curve) == 4


def test_lr_halves_after_lr_patience_epochs_without_a_validation_gain():
    x, y = separable(64)
    class Frozen(torch.nn.Module):  # outputs 0 * logits: zero gradients, constant accuracy
        def forward(self, z):
            return 0.0 * z

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(20 * 32, K), Frozen())
    cfg = TrainConfig(lr=1e-3, epochs=8, batch_size=32, lr_patience=2, lr_factor=0.5)
    lrs = []
    real = torch.optim.Adam.step

    def spy(self, *a, **k):
        lrs.append(self.param_groups[0]["lr"])
        return real(self, *a, **k)

    torch.optim.Adam.step = spy
    try:
        train_classifier(model, x, y, x, y, cfg, 0)
    finally:
        torch.optim.Adam.step = real
    per_epoch = lrs[::2]  # two steps per epoch (64 / 32)
    # epoch 1 sets the best; after epochs 2-4 without a gain (more than lr_patience = 2)
    # the lr halves, from epoch 5 on
    assert per_epoch[:4] == [1e-3] * 4 and per_epoch[4] == pytest.approx(5e-4)
    assert per_epoch[-1] < per_epoch[4]  # and again after the next plateau
    with pytest.raises(ValueError, match="lr_factor"):
        TrainConfig(lr_factor=1.0)


@pytest.fixture
def frames(tmp_path):
    data = {}
    for split, n, seed in (("train", 96, 0), ("val", 48, 1), ("test", 48, 2)):
        data[f"x_{split}"], data[f"y_{split}"] = separable(n, seed=seed)
    path = tmp_path / "frames.npz"
    atomic.write_npz(path, **data, data_source=np.array("simulated"),
                     generator_version=np.array("test-1"))
    return path, data


def _run(path, tmp_path, tag, kind="raw_readout", params=None, halving=None):
    out = {k: tmp_path / f"{tag}.{k}" for k in ("m", "c", "cm", "p", "t")}
    spec = SupervisedSpec(
        kind, params or {}, {"lr": 0.01, "epochs": 6, "batch_size": 32, "patience": 3},
        [0, 1], RunLabels("toy", "M", "v", run="r"),
        tuning={"grid": {"lr": [0.0001, 0.01], "batch_size": [16, 48]}, "halving": halving})
    doc = stages.supervised_run(path, spec, stages.supervised_outputs(
        out["m"], out["c"], out["cm"], out["p"], out["t"]))
    return doc, pd.read_csv(out["t"]), json.loads(out["p"].read_text()), out


def test_tuning_grid_picks_the_best_validation_point_and_records_it(frames, tmp_path):
    path, _ = frames
    _, tun, prov, _ = _run(path, tmp_path, "a")
    assert len(tun) == 4 and tun["chosen"].sum() == 1
    chosen = tun[tun["chosen"]].iloc[0]
    assert chosen["val_accuracy"] == tun["val_accuracy"].max()
    first_best = tun.index[tun["val_accuracy"] == tun["val_accuracy"].max()][0]
    assert tun.index[tun["chosen"]][0] == first_best  # ties: the first in grid order
    t = prov["params"]["tuning"]
    assert t["chosen"] == {"lr": chosen["lr"], "batch_size": chosen["batch_size"]}
    assert len(t["grid"]) == 4 and t["tune_seed"] == 0 and t["patience"] == 3
    assert prov["params"]["train"]["lr"] == chosen["lr"]


@pytest.mark.parametrize("halving", [None, {"min_epochs": 2, "eta": 2}],
                         ids=["full-grid", "successive-halving"])
def test_test_split_feeds_no_choice(frames, tmp_path, halving):
    """Test frames scrambled: every tuning result, the chosen point, validation records
    and curves are identical; only the test accuracy moves."""
    path, data = frames
    doc_a, tun_a, prov_a, out_a = _run(path, tmp_path, "a", halving=halving)
    rng = np.random.default_rng(9)
    scrambled = {**data, "x_test": (rng.random(data["x_test"].shape) < 0.5).astype(np.uint8),
                 "y_test": rng.permutation(data["y_test"])}
    path_b = tmp_path / "scrambled.npz"
    atomic.write_npz(path_b, **scrambled, data_source=np.array("simulated"),
                     generator_version=np.array("test-1"))
    doc_b, tun_b, prov_b, out_b = _run(path_b, tmp_path, "b", halving=halving)
    if halving:  # the halving ran: points were eliminated at its rungs
        assert tun_a["eliminated_at"].notna().sum() == 3
    pd.testing.assert_frame_equal(tun_a, tun_b)
    assert prov_a["params"]["tuning"] == prov_b["params"]["tuning"]
    pd.testing.assert_frame_equal(pd.read_csv(out_a["c"]), pd.read_csv(out_b["c"]))

    def non_test(doc):
        return [r for r in doc["records"] if r["split"] != "test" and r["unit"] != "s"]

    assert non_test(doc_a) == non_test(doc_b)
    acc = [[r["value"] for r in d["records"] if r["split"] == "test"
            and r["metric"] == "accuracy"] for d in (doc_a, doc_b)]
    assert acc[0] != acc[1]


def test_srnn_records_its_initial_firing_rate(frames, tmp_path):
    path, _ = frames
    doc, _, _, _ = _run(path, tmp_path, "s", "srnn",
                        {"n_res": 32, "decay": 0.9, "v_th": 0.6, "const": "auto"})
    rates = [r["value"] for r in doc["records"] if r["metric"] == "init_firing_rate"]
    assert len(rates) == 2 and all(INIT_RATE_RANGE[0] <= v <= INIT_RATE_RANGE[1]
                                   for v in rates)


def test_config_refuses_unequal_budgets_and_bins_beyond_the_frames(tmp_path):
    from lsm.config import load_yaml_strict, validate_config

    cfg = load_yaml_strict("config/config.yaml")
    cfg["readouts"]["short"] = {**cfg["readouts"]["supervised"], "epochs": 10}
    cfg["supervised"]["runs"]["nmnist_rnn"]["readout"] = "short"
    with pytest.raises(ConfigError, match="same budget"):
        validate_config(cfg)
    cfg = load_yaml_strict("config/config.yaml")
    cfg["supervised"]["runs"]["ntidigits_srnn_ann"]["params"]["n_bins"] = 200
    with pytest.raises(ConfigError, match=r"n_bins.*129"):
        validate_config(cfg)


def test_event_driven_cost_counts_events_on_both_sides():
    from lsm.models.cost import TrainingCost

    f = _fit(SRNNClassifier, {"n_res": 64, "decay": 0.9, "v_th": 0.6})
    c = f.cost
    # sparse inputs and ~10 % spikes: far fewer accumulates than the dense MACs
    assert 0 < c.forward_events_per_sample < 0.5 * c.forward_macs_per_sample
    assert c.train_macs_events == pytest.approx(
        c.epochs * c.train_samples * c.forward_events_per_sample * 3)
    assert c.total_macs_events < c.total_macs_dense
    # a non-spiking model has no events: both counts agree, encoding aside
    head = TrainingCost(10, 2000.0, 5, 100, 50, 1.0, encode_macs_dense=1e6,
                        encode_macs_events=1e4)
    assert head.train_macs_events == head.train_macs
    assert head.total_macs_events == head.train_macs + 1e4
    assert head.total_macs_dense == head.train_macs + 1e6
    rec = {r["metric"]: r["value"] for r in c.records(0)}
    assert rec["cost_epochs"] == c.epochs and rec["train_macs_events"] == c.train_macs_events


def test_tuning_grid_needs_both_axes_and_captions_follow_the_config():
    from lsm.config import load_yaml_strict, validate_config
    from lsm.pipeline.protocol import protocol_caption

    cfg = load_yaml_strict("config/config.yaml")
    assert "2 x 2 grid" in protocol_caption(validate_config(cfg))
    caption = protocol_caption(validate_config(cfg))
    patience = cfg["readouts"]["supervised"]["patience"]
    assert f"early stopping after {patience} epochs" in caption
    cfg["readouts"]["supervised"]["patience"] = patience + 3  # the caption follows the config
    assert f"early stopping after {patience + 3} epochs" in protocol_caption(validate_config(cfg))
    cfg["readouts"]["supervised"]["patience"] = patience
    assert "lr x 0.5 after 4 epochs" in caption and "AdamW (weight decay 0.05)" in caption
    cfg["supervised"]["tuning"] = {"grid": {"lr": [0.001]}}  # one axis: refused, not off
    with pytest.raises(ConfigError, match="batch_size"):
        validate_config(cfg)
    cfg = load_yaml_strict("config/config.yaml")
    assert "successive halving (every point trains 20 epochs" in protocol_caption(
        validate_config(cfg))
    cfg["supervised"]["tuning"]["halving"]["min_epochs"] = 100  # the cap: nothing to halve
    with pytest.raises(ConfigError, match="not below the epoch cap 100"):
        validate_config(cfg)
    cfg["supervised"]["tuning"] = {"halving": {"min_epochs": 5}}
    with pytest.raises(ConfigError, match="without a grid"):
        validate_config(cfg)
    test_cfg = validate_config(load_yaml_strict(".test/config/config.yaml"))
    assert protocol_caption(test_cfg).startswith("No tuning grid")


def test_zero_shot_readouts_refuse_a_patience_they_would_ignore():
    from lsm.config import load_yaml_strict, validate_config

    cfg = load_yaml_strict("config/config.yaml")
    cfg["readouts"]["zs_heads"]["patience"] = 3
    with pytest.raises(ConfigError, match="neither early stopping"):
        validate_config(cfg)
    cfg = load_yaml_strict("config/config.yaml")
    cfg["readouts"]["zs_heads"]["lr_patience"] = 2
    with pytest.raises(ConfigError, match="sets lr_patience"):
        validate_config(cfg)


@pytest.mark.parametrize("key,value", [("lr_patience", 5), ("weight_decay", 0.0),
                                       ("optimizer", "adam"), ("epochs", 50)])
def test_one_budget_covers_lr_decay_optimiser_and_weight_decay(key, value):
    """A run whose readout differs in any budget setting is refused, naming the key."""
    from lsm.config import load_yaml_strict, validate_config

    cfg = load_yaml_strict("config/config.yaml")
    cfg["readouts"]["supervised_other"] = {**cfg["readouts"]["supervised"], key: value}
    cfg["supervised"]["runs"]["nmnist_rnn"]["readout"] = "supervised_other"
    with pytest.raises(ConfigError, match=f"same budget.*{key}|{key}.*same budget") as e:
        validate_config(cfg)
    assert "supervised/runs/nmnist_rnn/readout" in str(e.value)


def test_calibration_reads_every_class_of_the_sorted_training_split():
    x, y = separable(400)
    order = np.argsort(y, kind="stable")  # splits come sorted by class
    x, y = x[order], y[order]
    enc = SRNNEncoder(32, 64, 0.9, 0.6, 0.05)
    seen = []
    real = enc.forward
    enc.forward = lambda xb: (seen.append(xb.shape[0]), real(xb))[1]
    firing_rate(enc, x, batch=100)
    assert seen == [100]
    sub = x[:: len(x) // 100][:100]
    assert set(y[:: len(x) // 100][:100]) == set(range(K)) and sub.shape[0] == 100
