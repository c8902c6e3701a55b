"""Successive halving (lsm.models.tuning): the survivor equals a straight run, pruned points stop at
their rung, and the trials do not disturb each other's random numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lsm.models.training import TrainConfig, train_classifier
from lsm.models.tuning import chosen_index, rungs, successive_halving
from lsm.pipeline.spec import RunLabels, SupervisedSpec
from lsm.pipeline.stages import supervised_outputs

GRID = [{"lr": lr, "batch_size": bs} for lr in (1e-3, 1e-2) for bs in (16, 64)]


def _data(seed: int = 0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(240, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0.8)
    return x[:160], y[:160], x[160:], y[160:]


def _fit(point, epochs=30, patience=0):
    """A model that draws from the global RNG while it trains (dropout) and at init: a
    trial that resumed with another trial's RNG state would train differently."""
    xtr, ytr, xva, yva = _data()
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 4))
    cfg = TrainConfig(epochs=epochs, patience=patience, **point)
    return train_classifier(model, xtr, ytr, xva, yva, cfg, seed=0)


def _state(res):
    return [p.detach().clone() for p in res.model.parameters()]


def test_rungs_halve_until_one_point_is_left():
    assert rungs(10, 2, 4) == [10, 20]
    assert rungs(5, 3, 9) == [5, 15]
    assert rungs(10, 2, 1) == []
    with pytest.raises(ValueError, match="eta >= 2"):
        successive_halving(GRID, _fit, min_epochs=5, eta=1)


def test_the_survivor_is_bit_identical_to_a_straight_run_and_the_rest_stop_at_their_rung():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    out = successive_halving(GRID, _fit, min_epochs=4, eta=2)
    # the caller's RNG is where it was: the trials ran on their own copies
    assert torch.equal(torch.get_rng_state(), before)
    i = chosen_index(out)
    assert [o.eliminated_at is None for o in out].count(True) == 1
    # rung 4 drops two points, rung 8 one more: each pruned point ran exactly to its rung
    assert sorted(o.eliminated_at for o in out if o.eliminated_at) == [4, 4, 8]
    for o in out:
        if o.eliminated_at:
            assert o.pruned and o.result is None and o.epochs_run == o.eliminated_at
    # the ranking at each rung is by best validation accuracy so far: the survivor of rung
    # 4 beat the two points dropped there
    r4 = [o for o in out if o.eliminated_at != 4]
    assert min(o.best_val_acc for o in r4) >= max(o.best_val_acc for o in out
                                                 if o.eliminated_at == 4) - 1e-9
    torch.set_rng_state(before)  # a straight run from the same state as the trials
    straight = _fit(GRID[i])
    got = out[i].result
    assert got.val_curve == straight.val_curve and got.train_loss == straight.train_loss
    assert got.epochs_run == 30 and out[i].epochs_run == 30
    for a, b in zip(_state(got), _state(straight), strict=True):
        assert torch.equal(a, b)
    # and the whole procedure is deterministic
    torch.set_rng_state(before)
    again = successive_halving(GRID, _fit, min_epochs=4, eta=2)
    assert [(o.best_val_acc, o.epochs_run, o.eliminated_at) for o in again] == \
        [(o.best_val_acc, o.epochs_run, o.eliminated_at) for o in out]


def test_a_point_that_stopped_early_is_ranked_with_what_it_reached():
    def fit(point):  # the second point stops (early stopping) after 3 epochs
        return _fit(point, epochs=3 if point is GRID[1] else 20)

    out = successive_halving(GRID, fit, min_epochs=5, eta=2)
    assert out[1].epochs_run == 3 and not out[1].pruned  # it ended on its own
    assert out[1].eliminated_at in (5, 10, None)
    assert (out[1].result is None) == (out[1].eliminated_at is not None)  # lost: freed
    assert sum(o.eliminated_at is None for o in out) == 1


def test_an_error_in_a_trial_reaches_the_caller_and_stops_the_others():
    import threading

    def fit(point):
        if point is GRID[2]:
            raise RuntimeError("diverged")
        return _fit(point)

    torch.manual_seed(5)
    before = torch.get_rng_state()
    n_threads = threading.active_count()
    with pytest.raises(RuntimeError, match="diverged"):
        successive_halving(GRID, fit, min_epochs=4, eta=2)
    # the two trials paused at the first rung were stopped, not left waiting forever
    assert threading.active_count() == n_threads
    assert torch.equal(torch.get_rng_state(), before)


def test_a_model_that_trains_without_the_hook_is_ranked_by_what_it_reports():
    """A fit that never calls train_classifier never pauses: it runs to its end and is
    ranked by its result's best validation accuracy (not left at -1, which would keep
    the first point whatever it scored)."""
    from types import SimpleNamespace

    scores = {0: 10.0, 1: 50.0, 2: 90.0, 3: 20.0}

    def fit(point):
        i = GRID.index(point)
        return SimpleNamespace(best_val_acc=scores[i], best_epoch=2, val_curve=[0.0] * 7)

    out = successive_halving(GRID, fit, min_epochs=4, eta=2)
    assert chosen_index(out) == 2 and out[2].best_val_acc == 90.0 and out[2].epochs_run == 7
    assert [o.eliminated_at for o in out] == [4, 8, None, 4]


def test_a_model_that_swallows_exceptions_cannot_train_on_after_pruning():
    def fit(point):
        try:
            return _fit(point, epochs=12)
        except Exception:  # a careless retry: TrialPruned must not land here
            return _fit(point, epochs=12)

    out = successive_halving(GRID, fit, min_epochs=3, eta=2)
    assert sorted(o.epochs_run for o in out if o.pruned) == [3, 3, 6]


def test_supervised_run_under_halving_records_the_rungs(tmp_path):
    """The stage's tuning CSV names the rung each point lost at, and the chosen point is
    the one still running after the last rung."""
    import json

    import pandas as pd

    from lsm.pipeline.stages import supervised_run

    g = np.random.default_rng(0)
    n_t, n_c = 6, 5
    data = {}
    for s, n in (("train", 120), ("val", 40), ("test", 40)):
        y = g.integers(0, 3, n)
        x = (g.random((n, n_t, n_c)) < 0.1 + 0.25 * (np.arange(n_c) == y[:, None, None]))
        data[f"x_{s}"], data[f"y_{s}"] = x.astype(np.uint8), y
    np.savez(tmp_path / "frames.npz", **data, data_source=np.array("simulated"))
    paths = {k: tmp_path / f"{k}.out" for k in ("metrics", "curves", "confusion",
                                                 "provenance", "tuning")}
    spec = SupervisedSpec("raw_readout", {}, {"epochs": 12, "lr": 1e-3}, [0, 1],
                          RunLabels("toy", "linear", "raw", run="toy"),
                          tuning={"grid": {"lr": [1e-3, 1e-2], "batch_size": [16, 64]},
                                  "halving": {"min_epochs": 3, "eta": 2}})
    supervised_run(tmp_path / "frames.npz", spec, supervised_outputs(
        paths["metrics"], paths["curves"], paths["confusion"], paths["provenance"],
        paths["tuning"]))
    t = pd.read_csv(paths["tuning"])
    assert sorted(t["eliminated_at"].dropna().astype(int)) == [3, 3, 6]
    assert t["chosen"].sum() == 1 and t.loc[t["chosen"], "eliminated_at"].isna().all()
    assert (t.loc[t["eliminated_at"] == 3, "epochs_run"] == 3).all()
    assert int(t.loc[t["chosen"], "epochs_run"].iloc[0]) == 12
    prov = json.loads(paths["provenance"].read_text())
    assert prov["params"]["tuning"]["halving"] == {"min_epochs": 3, "eta": 2}
