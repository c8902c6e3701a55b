"""Zero-shot evidence with statistical power (issue 16): the per-epoch test accuracies
feed no choice, the paper's rule, rotated splits, RSA, statistics and config checks.

Tiny synthetic frames keep the file to a few seconds."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

# the same classes, per-class sample counts and pairing as the normalisation tests
from test_zeroshot_normalisation import CLASSES, PAIRING, PER_CLASS, UNSEEN

from lsm.config import load_yaml_strict, validate_config
from lsm.errors import ConfigError
from lsm.results.contract import STAT_COLUMNS, aggregate, metrics_doc
from lsm.results.stats import binom_test_above, bootstrap_ci, t_test_above
from lsm.zeroshot import power as zs_power
from lsm.zeroshot import stage as zeroshot

ENC = {"dataset": "x", "n_res": 16, "decay": 0.9, "v_th": 1.0, "batch_size": 64,
       "weights": {"source": "gaussian", "const": 0.2, "sigma_g": 6.6, "mean_g": 0.0,
                   "weight_bits": 16}}
RUNS = {"clip": {"model": "LSM-CLIP", "variant": "software",
                 "encoders": {"query": ENC, "gallery": ENC},
                 "params": {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0},
                 "train": {"lr": 0.01, "epochs": 3, "batch_size": 8, "threads": 1}}}
POWER = {"runs": ["clip"], "n_reservoirs": 2, "n_heads": 2, "pd": 8,
         "paper_rule": {"seen_min": 0, "unseen_min": 60},
         "rotations": {"runs": ["clip"], "n_unseen": 2, "n_splits": 3, "n_reservoirs": 2,
                       "n_heads": 1, "seed": 0}}


def _frames(side: str, t: int = 6, c: int = 9) -> dict[str, np.ndarray]:
    """Binary frames whose spike density depends on the class (so heads can learn)."""
    rng = np.random.default_rng(0 if side == "a" else 1)
    out = {}
    for s, n in PER_CLASS.items():
        y = np.tile(np.array(CLASSES, dtype=np.int64), n)
        p = 0.1 + 0.08 * (y[:, None, None] % 5) * (np.arange(c) % 3 == y[:, None, None] % 3)
        out[f"x_{s}"] = (rng.random((y.size, t, c)) < p).astype(np.uint8)
        out[f"y_{s}"] = y
    out["data_source"] = np.array("simulated")
    return out


def _run(tmp_path, fa, fb, power=POWER):
    tmp_path.mkdir(parents=True, exist_ok=True)
    pa, pb = tmp_path / "a.npz", tmp_path / "b.npz"
    np.savez(pa, **fa)
    np.savez(pb, **fb)
    return zs_power.power_run(pa, pb, copy.deepcopy(RUNS), PAIRING, power, ("a", "i"),
                              experiment="zeroshot", dataset="synthetic",
                              metrics_path=tmp_path / "m.json",
                              curves_path=tmp_path / "c.csv",
                              provenance_path=tmp_path / "p.json")


def _rows(doc, split=None, selection=None, metric="a2i_top1_dot"):
    return sorted((r["variant"], r["seed"], r["value"]) for r in doc["records"]
                  if (split is None or r["split"] == split) and r["metric"] == metric
                  and (selection is None or r.get("selection") == selection))


def test_the_test_split_feeds_no_training_and_no_choice(tmp_path):
    """Scrambling every test frame and every unseen-class training and validation frame
    changes the monitored test accuracies, and nothing that training or selection
    produced: validation curves epoch by epoch, chosen epochs."""
    import pandas as pd

    fa, fb = _frames("a"), _frames("b")
    ref = _run(tmp_path / "ref", fa, fb)
    rng = np.random.default_rng(5)
    ga, gb = dict(fa), dict(fb)
    for d in (ga, gb):
        d["x_test"] = (rng.random(d["x_test"].shape) < 0.5).astype(np.uint8)
        for s in ("train", "val"):
            x = d[f"x_{s}"].copy()
            m = np.isin(d[f"y_{s}"], UNSEEN)
            x[m] = (rng.random(x[m].shape) < 0.5).astype(np.uint8)
            d[f"x_{s}"] = x
    out = _run(tmp_path / "out", ga, gb)

    def main_rows(doc, *a, **k):  # the configured split (the rotations make 8, 9 seen)
        return [r for r in _rows(doc, *a, **k) if "reservoirs x" in r[0]]

    assert main_rows(ref, "val_seen") == main_rows(out, "val_seen") and main_rows(ref, "val_seen")
    assert (main_rows(ref, "train", metric="best_epoch")
            == main_rows(out, "train", metric="best_epoch"))
    assert main_rows(ref, "test_unseen", "val") != main_rows(out, "test_unseen", "val")
    c_ref, c_out = (pd.read_csv(tmp_path / d / "c.csv") for d in ("ref", "out"))
    main = c_ref.variant.str.contains("reservoirs x")
    np.testing.assert_array_equal(c_ref.loc[main, "val_seen"], c_out.loc[main, "val_seen"])


def test_monitor_sees_the_model_but_changes_nothing():
    torch.manual_seed(0)
    xa = {s: torch.randn(14, 5) for s in ("train", "val", "t")}
    xb = {s: torch.randn(14, 4) for s in ("train", "val", "t")}
    y = {s: np.repeat(np.arange(7), 2) for s in ("train", "val", "t")}
    params = {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0}
    cfg = zeroshot.TrainConfig(lr=0.05, epochs=4, batch_size=4)
    def hostile(m):  # draws from the global RNG, switches to train mode, zeroes weights
        torch.rand(10)
        m.train()
        out = {"x": float(m(xa["t"], xb["t"])[0].sum())}
        for p in m.parameters():
            p.data.zero_()
        return out

    fits = []
    for monitor in (None, hostile):
        net, _ = zeroshot.build_model("lsm", params, 5, 4, 0, 0, 3, seed=1)
        fits.append(zeroshot.fit_pairs(net, xa, xb, y, cfg, 1, monitor=monitor))
    a, b = fits
    assert a.val_curve == b.val_curve and a.train_loss == b.train_loss
    assert a.best_epoch == b.best_epoch
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    assert len(b.monitored) == cfg.epochs + 1 and a.monitored == []  # epoch 0 included


def test_untrained_heads_are_scored_with_training_statistics():
    """Epoch 0 standardises as every trained epoch does (not raw counts through unit
    statistics): its monitor sees a model whose running mean is the training mean."""
    torch.manual_seed(0)
    xa = {s: 50.0 + torch.randn(14, 5) for s in ("train", "val")}
    xb = {s: 20.0 + torch.randn(14, 4) for s in ("train", "val")}
    y = {s: np.repeat(np.arange(7), 2) for s in ("train", "val")}
    net, _ = zeroshot.build_model("lsm", {"head": "OneFC", "loss": "clip_soft",
                                          "temperature": 1.0}, 5, 4, 0, 0, 3, seed=1)
    means = []

    def monitor(m):
        bn = next(x for x in m.modules() if isinstance(x, torch.nn.BatchNorm1d))
        means.append(bn.running_mean.mean().item())
        return {}

    zeroshot.fit_pairs(net, xa, xb, y, zeroshot.TrainConfig(lr=0.01, epochs=1, batch_size=4),
                       0, monitor=monitor)
    # the average of the training batches' means (not the unit statistics' 0)
    assert means[0] == pytest.approx(float(xa["train"].mean()), rel=1e-2)


def test_rows_and_counts(tmp_path):
    doc = _run(tmp_path, _frames("a"), _frames("b"))
    recs = doc["records"]
    main = "software, 2 reservoirs x 2 heads"
    val = [r for r in recs if r["variant"] == main and r["split"] == "test_unseen"
           and r["pd"] == 8
           and r["selection"] == "val"]
    assert sorted(r["seed"] for r in val) == [0, 1, 100, 101]  # reservoir + 100 x head
    assert all(r["chance"] == 50.0 and r["n_queries"] == 8 for r in val)
    # the rule, recomputed from the per-epoch curves: a run qualifies iff some trained
    # epoch has test-unseen >= 60 (seen >= 0), and reports that epoch's unseen value
    curves = __import__("pandas").read_csv(tmp_path / "c.csv")
    assert set(curves["pd"]) == {8}  # the curves name their projection dimension
    summary = zs_power.summary(doc)
    assert "pd" in summary and set(summary.loc[summary.variant == main, "pd"]) == {8}
    curves = curves[(curves.variant == main) & (curves.epoch > 0)]
    q = {r["seed"]: r["value"] for r in recs if r["metric"] == "paper_rule_runs_qualifying"
         and r["variant"] == main}
    rule = {r["seed"]: r["value"] for r in recs if r["variant"] == main
            and r["selection"] == zs_power.SELECT_PAPER and r["split"] == "test_unseen"}
    for seed, g in curves.groupby("seed"):
        ok = g[g.test_unseen >= 60]
        assert q[seed] == float(len(ok) > 0)
        if len(ok):
            assert rule[seed] == ok.sort_values(["test_seen", "epoch"], ascending=[False, True]
                                                ).test_unseen.iloc[0]
        else:
            assert seed not in rule
    assert 0 < sum(q.values()) < 4 or len(q) == 4  # the check above saw real cases
    # rotated: three splits (8+9 first, from the main runs), pooled over splits
    per_split = {r["variant"] for r in recs if ", unseen " in r["variant"]}
    assert len(per_split) == 3 and "software, unseen 8+9 (2 x 1)" in per_split
    pooled = [r for r in recs if "pooled" in r["variant"] and r["split"] == "test_unseen"
              and r["selection"] == "val"]
    assert len(pooled) == 3 * 2  # 3 splits x 2 reservoirs x 1 head
    first = sorted(r["value"] for r in recs if r["variant"] == "software, unseen 8+9 "
                   "(2 x 1)" and r["split"] == "test_unseen" and r["selection"] == "val")
    assert first == sorted(r["value"] for r in val if r["seed"] < 100)  # reused, not retrained
    rsa = [r for r in recs if r["metric"].startswith("rsa_")]
    assert {r["model"] for r in rsa} == {"RSA: input", "RSA: reservoir features"}
    table = aggregate([doc])
    assert set(STAT_COLUMNS) <= set(table.columns)
    assert set(table.selection) >= {"val", zs_power.SELECT_PAPER, zs_power.SELECT_ORACLE,
                                    zs_power.SELECT_UNTRAINED}
    json.dumps(doc)  # the document is plain JSON


def test_paper_rule_picks_the_best_seen_among_qualifying_epochs():
    rule = zs_power.PaperRule(65, 85)
    seen = [70, 80, 80, 60, 90]
    unseen = [90, 86, 88, 99, 80]
    assert rule.pick(seen, unseen) == 1  # 1 and 2 tie on seen: the earlier
    assert rule.pick([10, 20], [99, 99]) is None
    assert rule.pick([65.0, 64.9], [85.0, 99.0]) == 0  # the thresholds are inclusive
    assert rule.pick([99.0], [84.9]) is None  # unseen below its threshold


def test_rotated_splits():
    classes = list(range(1, 10))
    every = zs_power.rotated_splits(classes, 2, None, 0, (8, 9))
    assert len(every) == 36 and every[0] == ((1, 2, 3, 4, 5, 6, 7), (8, 9))
    sample = zs_power.rotated_splits(classes, 2, 8, 0, (8, 9))
    assert len(sample) == 8 and sample[0][1] == (8, 9) and len({u for _, u in sample}) == 8
    assert sample == zs_power.rotated_splits(classes, 2, 8, 0, (8, 9))  # seeded
    assert sample != zs_power.rotated_splits(classes, 2, 8, 1, (8, 9))
    for s, u in sample:
        assert set(s) | set(u) == set(classes) and not set(s) & set(u)


def test_rsa_is_one_for_shared_geometry_and_near_zero_for_none():
    rng = np.random.default_rng(0)
    classes = list(range(1, 10))
    centres = rng.normal(size=(9, 20))
    y = np.repeat(classes, 30)
    fa = centres[y - 1] + 0.1 * rng.normal(size=(y.size, 20))
    fb = np.concatenate([fa, fa ** 2], axis=1) * 3.0 + 1.0  # same class geometry, new space
    same = zs_power.rsa(fa, y, fa * 2.0 + 5.0, y, classes, (8, 9))
    assert same["rsa_seen_classes"] == pytest.approx(1.0)
    assert zs_power.rsa(fa, y, fb, y, classes, (8, 9))["rsa_seen_classes"] > 0.3
    other = [zs_power.rsa(fa, y, rng.normal(size=(9, 20))[y - 1]
                          + 0.1 * rng.normal(size=(y.size, 20)), y, classes, (8, 9))
             for _ in range(40)]
    assert abs(np.mean([o["rsa_seen_classes"] for o in other])) < 0.1


def test_statistics():
    v = np.array([60.0, 62, 58, 61, 59])
    lo, hi = bootstrap_ci(v)
    assert lo < v.mean() < hi and (lo, hi) == bootstrap_ci(v)  # deterministic
    assert t_test_above(v, 50.0) < 1e-3 and t_test_above(v, 70.0) > 0.99
    assert np.isnan(bootstrap_ci(v[:1])[0]) and np.isnan(t_test_above(v[:1], 50.0))
    assert binom_test_above(np.array([60.0]), np.array([1000]), 50.0) < 1e-6
    assert binom_test_above(np.array([50.0]), np.array([10]), 50.0) > 0.3


def test_aggregate_adds_ci_and_p_values_and_splits_rows_by_selection():
    recs = [{"seed": s, "split": "test", "metric": "acc", "value": 60.0 + s, "unit": "%",
             "chance": 50.0, "n_queries": 100} for s in range(5)]
    recs += [{**r, "value": 99.0, "selection": "paper_rule (test-selected)"} for r in recs]
    doc = metrics_doc(experiment="zeroshot", dataset="d", model="m", variant="v",
                      data_source="simulated", selection="val", records=recs)
    t = aggregate([doc]).set_index("selection")
    assert t.loc["val", "mean"] == 62.0 and t.loc["paper_rule (test-selected)", "mean"] == 99
    assert t.loc["val", "ci95_low"] < 62 < t.loc["val", "ci95_high"]
    assert 0 < t.loc["val", "p_above_chance_t"] < 1e-3
    assert 0 < t.loc["val", "p_above_chance_binom"] < 1e-3
    # a value picked on the test set has no CI, no p-value
    sel = t.loc["paper_rule (test-selected)"]
    assert sel[["ci95_low", "ci95_high", "p_above_chance_t", "p_above_chance_binom"]].isna().all()


def _cfg():
    return load_yaml_strict("config/config.yaml")


def _set(path: str, value):
    """A mutation of the default config: the value at a '/'-separated key path."""
    def apply(cfg):
        *head, last = path.split("/")
        node = cfg
        for k in head:
            node = node[k]
        node[last] = value(node[last]) if callable(value) else value
    return apply


PW = "zeroshot/audio_visual/power"


@pytest.mark.parametrize("mutate,match", [
    (_set(f"{PW}/runs", lambda r: [*r, "srnn_clip"]), "kind lsm"),
    (_set(f"{PW}/rotations/n_reservoirs", 50), "rotations/n_reservoirs"),
    (_set(f"{PW}/runs", ["nope"]), "not a run"),
    (_set(f"{PW}/rotations/runs", ["lsm_clip_infonce"]), "not in power/runs"),
    (_set(f"{PW}/rotations/n_unseen", 8), "n_unseen"),
    (_set("zeroshot/bmi/power", {"runs": ["lsm_clip_software"]}), "enlarge"),
    (_set(f"{PW}/n_reservoirs", 101), "n_reservoirs"),  # seeds r + 100 h would collide
])
def test_config_checks(mutate, match):
    assert validate_config(_cfg())["zeroshot"]["audio_visual"]["power"]["n_reservoirs"] >= 20
    bad = _cfg()
    mutate(bad)
    with pytest.raises(ConfigError, match=match):
        validate_config(bad)


def test_report_paragraph_states_the_honest_number_the_rule_and_the_diagnostic(tmp_path):
    from lsm.results.report import _headline, zeroshot_paragraph

    table = aggregate([_run(tmp_path, _frames("a"), _frames("b"))])
    text = zeroshot_paragraph(table)
    assert "Selected on seen-class validation pairs" in text and "over 4 runs" in text
    assert "95 % CI" in text and "p = " in text
    assert "authors' test-set rule" in text and "Rotated unseen pairs" in text
    assert "RSA" in text and "per-pair means" in text
    # the headline keeps the honest per-run rows only: no power, rotation or RSA rows
    head = _headline("zeroshot_synthetic", table)
    assert head.empty or not head.variant.str.contains("reservoirs x|unseen|RSA").any()
