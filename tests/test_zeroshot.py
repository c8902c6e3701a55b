"""Zero-shot retrieval: pairing, losses, retrieval metrics, cost ratios and the stage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lsm.errors import ConfigError
from lsm.pipeline.spec import RunLabels, ZeroShotSpec
from lsm.results.contract import aggregate
from lsm.results.ratios import ratio_doc
from lsm.zeroshot import stage as zeroshot
from lsm.zeroshot.contrastive import (
    PairLoss,
    clip_soft_loss,
    head_macs,
    projection_head,
    proto_loss,
)
from lsm.zeroshot.pairing import PairSpec, make_pairs
from lsm.zeroshot.retrieval import chance_topk, retrieval_records, topk_accuracy

SEEN, UNSEEN = (1, 2, 3, 4, 5, 6, 7), (8, 9)


def _labels(n_per_class, classes=range(10)):
    return np.repeat(np.array(list(classes)), n_per_class)


def test_pairs_zip_classes_in_file_order_and_keep_unseen_out_of_training():
    la = {"train": _labels(5), "val": _labels(2), "test": _labels(3)}
    lb = {"train": np.tile(np.arange(10), 6), "val": _labels(3), "test": _labels(4)}
    spec = PairSpec(SEEN, UNSEEN, n_train=4, n_val=2, n_test=3)
    p = make_pairs(la, lb, spec)
    assert set(p["train"].labels) == set(SEEN) and set(p["val"].labels) == set(SEEN)
    assert set(p["test_unseen"].labels) == set(UNSEEN)
    tr = p["train"]
    assert (la["train"][tr.idx_a] == tr.labels).all() and (lb["train"][tr.idx_b] == tr.labels).all()
    first = tr.idx_b[tr.labels == 3]
    assert list(first) == [3, 13, 23, 33]  # the first four "3"s, in file order
    assert p["val"].split == "val" and p["test_seen"].split == "test"


def test_pairing_shortfall_names_the_config_field():
    la = {s: _labels(3) for s in ("train", "val", "test")}
    with pytest.raises(ConfigError, match=r"n_train_pairs_per_class.*at most 3"):
        make_pairs(la, la, PairSpec(SEEN, UNSEEN, 4, 1, 1), field="zeroshot/audio_visual")


def test_overlapping_seen_and_unseen_is_refused():
    with pytest.raises(ConfigError, match="both seen and unseen"):
        PairSpec((1, 2, 3), (3, 4), 1, 1, 1)


def test_topk_accuracy_and_chance():
    y = np.array([0, 0, 1, 1])
    z = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert topk_accuracy(z, z, y, y, (1,), "cos")[1] == 100.0
    assert topk_accuracy(z, z[::-1], y, y[::-1], (1,), "dot")[1] == 100.0
    assert topk_accuracy(z, z[:, ::-1], y, y, (1,), "cos")[1] == 0.0  # swapped classes
    assert chance_topk(y, y, 1) == pytest.approx(50.0)
    assert chance_topk(y, y, 3) == pytest.approx(100.0)  # 3 of 4 always include a match
    # 7 balanced classes of 10: 1 - C(60, 5) / C(70, 5)
    y7 = np.repeat(np.arange(7), 10)
    assert chance_topk(y7, y7, 5) == pytest.approx(100 * (1 - math.comb(60, 5) / math.comb(70, 5)))


def test_dot_and_cosine_differ_when_norms_do():
    """A long gallery vector wins every dot-product query (a hub), not every cosine one."""
    y = np.array([0, 1])
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    g = np.array([[1.0, 0.0], [10.0, 5.0]])
    assert topk_accuracy(q, g, y, y, (1,), "dot")[1] == 50.0  # both queries pick item 1
    assert topk_accuracy(q, g, y, y, (1,), "cos")[1] == 100.0
    recs = retrieval_records(q, g, y, ("a", "i"), ks=(1,))
    names = {r["metric"] for r in recs}
    assert names == {"a2i_top1_dot", "a2i_top1_cos", "i2a_top1_dot", "i2a_top1_cos"}
    assert all(r["chance"] == 50.0 for r in recs)


def test_clip_soft_loss_matches_the_formula():
    torch.manual_seed(0)
    a, b = torch.randn(5, 3), torch.randn(5, 3)
    tau = 0.7
    logits = a @ b.T / tau
    t = torch.softmax((a @ a.T + b @ b.T) / 2 * tau, dim=-1)
    ce1 = -(t * torch.log_softmax(logits, -1)).sum(1).mean()
    ce2 = -(t.T * torch.log_softmax(logits.T, -1)).sum(1).mean()
    assert clip_soft_loss(a, b, tau).item() == pytest.approx(((ce1 + ce2) / 2).item(), rel=1e-6)


def test_proto_loss_is_low_for_separated_classes_and_high_for_mixed():
    gen = torch.Generator().manual_seed(0)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    sep = torch.cat([torch.zeros(4, 2), torch.full((4, 2), 10.0)]) + 0.01 * torch.randn(8, 2)
    mixed = torch.randn(8, 2)
    assert proto_loss(sep, sep, y, gen).item() < 1e-3
    assert proto_loss(mixed, mixed, y, gen).item() > 0.1
    assert proto_loss(sep[:2], sep[:2], torch.tensor([0, 1]), gen) is None  # no query


def test_heads_and_their_macs():
    assert head_macs(projection_head("OneFC", 200, 64)) == 200 * 64
    assert head_macs(projection_head("ThreeFC", 200, 64)) == 200 * 64 + 2 * 64 * 64
    assert isinstance(projection_head("linear", 10, 4)[-1], torch.nn.Linear)
    sup = PairLoss("clip_sup", temperature=0.5)
    assert sup.logit_scale.item() == pytest.approx(math.log(2.0))
    assert sup.logit_scale.requires_grad


def test_ratio_doc_divides_seed_by_seed():
    def doc(run, model, variant, vals):
        return {"experiment": "zeroshot", "dataset": "av", "model": model, "variant": variant,
                "data_source": "simulated", "selection": "val", "run": run,
                "records": [{"seed": s, "split": "train", "metric": m, "value": v * (s + 1),
                             "pd": 64}
                            for s in (0, 1) for m, v in vals.items()]}

    metrics = ("total_macs_dense", "total_macs_events", "train_macs", "trainable_params",
               "optimizer_steps")
    num = doc("s", "SRNN-CLIP", "trainable", dict.fromkeys(metrics, 300.0))
    den = doc("l", "LSM-CLIP", "software", dict.fromkeys(metrics, 2.0))
    r = ratio_doc(num, den, 64)
    assert r["model"] == "SRNN-CLIP / LSM-CLIP" and r["variant"] == "trainable / software"
    assert {x["pd"] for x in r["records"]} == {64}  # the pd is its own field
    vals = {(x["seed"], x["metric"]): x["value"] for x in r["records"]}
    assert vals[(0, "ratio_total_macs_events")] == 150.0 == vals[(1, "ratio_train_macs")]
    with pytest.raises(ValueError, match="pd=128"):
        ratio_doc(num, den, 128)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from lsm.datasets.demo import demo_pairs

    return demo_pairs(tmp_path_factory.mktemp("zsdemo"))


PAIRING = {"seen": list(SEEN), "unseen": list(UNSEEN), "n_train_pairs_per_class": 4,
           "n_val_pairs_per_class": 2, "n_test_pairs_per_class": 4,
           "select": {"direction": "a2i", "similarity": "dot"}}
TRAIN = {"lr": 0.005, "epochs": 3, "batch_size": 8}


def _run(demo, out, kind="lsm", params=None, seeds=(0, 1), pairing=PAIRING):
    params = params or {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0,
                        "feature_scale": "standardized"}
    side = "features" if kind == "lsm" else "frames"
    spec = ZeroShotSpec(kind, params, TRAIN, pairing, [8, 16], list(seeds),
                        RunLabels("audio_visual", "LSM-CLIP", "software", "r"),
                        experiment="zeroshot", modalities=("a", "i"))
    return zeroshot.zeroshot_run(
        demo[f"{side}_a"], demo[f"{side}_b"], spec,
        zeroshot.zeroshot_outputs(out / "m.json", out / "c.csv", out / "e.npz", out / "p.json"),
        workload_a=demo["workload_a"] if kind == "lsm" else "",
        workload_b=demo["workload_b"] if kind == "lsm" else "")


def test_no_unseen_sample_reaches_training_or_selection(demo, tmp_path, monkeypatch):
    """Spy on the training loop: every tensor it trains or selects on is seen-class only."""
    seen_by_loop = []
    real_fit = zeroshot.fit_pairs

    def spy(model, xa, xb, y, cfg, seed, select):
        seen_by_loop.append({k: set(np.unique(v).tolist()) for k, v in y.items()})
        return real_fit(model, xa, xb, y, cfg, seed, select)

    monkeypatch.setattr(zeroshot, "fit_pairs", spy)
    _run(demo, tmp_path, seeds=(0,))
    assert seen_by_loop
    for labels in seen_by_loop:
        assert labels["train"] <= set(SEEN) and labels["val"] <= set(SEEN)
        assert labels["test_unseen"] == set(UNSEEN)  # present for evaluation only


def test_zeroshot_run_records_costs_and_is_deterministic(demo, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    doc = _run(demo, tmp_path / "a")
    again = _run(demo, tmp_path / "b")
    strip = [r for r in doc["records"] if r["metric"] != "train_seconds"]
    assert strip == [r for r in again["records"] if r["metric"] != "train_seconds"]
    recs = doc["records"]
    # the projection dimension is a field of its own, not part of the variant text
    assert {(r.get("variant"), r.get("pd")) for r in recs} == {
        (None, 8), (None, 16), ("encoders of LSM-CLIP software, per-run seeds", None)}
    assert {(r.variant, r.pd) for r in aggregate([doc]).itertuples()} >= {
        ("software", 8), ("software", 16)}
    rsa = [r for r in recs if r["metric"].startswith("rsa_")]  # one pair per seed
    assert sorted((r["seed"], r["metric"]) for r in rsa) == sorted(
        (s, m) for s in (0, 1) for m in ("rsa_seen_classes", "rsa_unseen_classes"))
    assert all(-1.0 <= r["value"] <= 1.0 and r["model"] == "RSA: reservoir features"
               for r in rsa)
    top1 = [r for r in recs if r["metric"] == "a2i_top1_dot" and r["split"] == "test_unseen"]
    assert len(top1) == 4 and all(r["chance"] == 50.0 for r in top1)
    assert all(0.0 <= r["value"] <= 100.0 for r in top1)
    enc = [r for r in recs if r["metric"] == "encode_macs_dense"]
    assert all(r["value"] > 0 for r in enc)  # the one-time LSM encoding is counted
    sel = [r for r in recs if r["split"] == "val_seen"]
    assert len(sel) == 4 and {r["metric"] for r in sel} == {"a2i_top1_dot"}
    saved = json.loads((tmp_path / "a" / "m.json").read_text())
    assert saved["selection"] == "val" and saved["unseen"] == [8, 9]
    emb = np.load(tmp_path / "a" / "e.npz")
    assert emb["za_test_unseen"].shape == (8, 8) and int(emb["pd"]) == 8


def test_another_unseen_split_runs(demo, tmp_path):
    pairing = {**PAIRING, "seen": [1, 2, 3, 4, 5, 8, 9], "unseen": [6, 7]}
    doc = _run(demo, tmp_path, seeds=(0,), pairing=pairing)
    assert doc["unseen"] == [6, 7]


def test_srnn_kind_trains_its_encoders(demo, tmp_path):
    params = {"head": "linear", "loss": "proto", "temperature": 1.0,
              "srnn": {"query": {"n_res": 8, "decay": 0.9, "v_th": 1.0, "const": 0.5},
                       "gallery": {"n_res": 8, "decay": 0.9, "v_th": 1.0, "const": 0.5}}}
    doc = _run(demo, tmp_path, kind="srnn", params=params, seeds=(0,))
    cost = {r["metric"]: r["value"] for r in doc["records"] if r.get("pd") == 8
            and r["split"] == "train"}
    # encoders (64->8 over 129 steps, 256->8 over 50) + heads, all trainable
    assert cost["trainable_params"] == (64 * 8 + 64 + 256 * 8 + 64) + 2 * (8 * 8 + 8)
    assert cost["encode_macs_dense"] == 0.0
    fwd = 129 * (64 * 8 + 64) + 50 * (256 * 8 + 64) + 2 * 8 * 8
    assert cost["train_macs"] == 3 * fwd * 28 * TRAIN["epochs"]
    # the event-driven count is events on this side too (inputs and spikes x fan-out,
    # heads dense), not the dense MACs it used to divide by the LSM's events
    assert 2 * 8 * 8 * 3 * 28 * TRAIN["epochs"] < cost["train_macs_events"] < cost["train_macs"]


def test_prototypical_batch_too_small_is_a_config_error(demo, tmp_path, monkeypatch):
    monkeypatch.setitem(TRAIN, "batch_size", 7)
    params = {"head": "linear", "loss": "proto", "temperature": 1.0}
    with pytest.raises(ConfigError, match="batch_size above 7"):
        _run(demo, tmp_path, params=params, seeds=(0,))
    assert not (tmp_path / "m.json").exists()  # nothing half-written


def test_encoding_cost_counts_each_sample_once(demo, tmp_path):
    """With enlarge, a query sample serves several pairs but is encoded once."""
    per = {}
    for side in ("a", "b"):
        doc = json.loads(open(demo[f"workload_{side}"]).read())
        per[side] = {r["metric"]: r["value"] for r in doc["records"] if r["seed"] == 0}
    pairing = {**PAIRING, "enlarge": 2, "n_train_pairs_per_class": 4,
               "n_val_pairs_per_class": 2, "n_test_pairs_per_class": 4}
    doc = _run(demo, tmp_path, seeds=(0,), pairing=pairing)
    enc = next(r["value"] for r in doc["records"] if r["metric"] == "encode_macs_dense")
    inf = next(r["value"] for r in doc["records"]
               if r["metric"] == "inference_encode_macs_dense")
    # billed: the 7 x 4 training pairs, whose queries are used twice each; the 9 x 4 test
    # pairs are inference, in their own record; validation pairs are billed on neither side
    n_b, n_b_test = 7 * 4, 9 * 4
    n_a, n_a_test = n_b // 2, n_b_test // 2
    assert enc == pytest.approx(per["a"]["dense_synops"] * n_a + per["b"]["dense_synops"] * n_b)
    assert inf == pytest.approx(per["a"]["dense_synops"] * n_a_test
                                + per["b"]["dense_synops"] * n_b_test)


def test_accuracy_vs_pd_plots_run_families_not_the_power_summaries():
    """The power analysis's rows carry a pd too; the accuracy-vs-pd figure draws one line
    per run family and leaves them out (they are the power figure's)."""
    import pandas as pd

    from lsm.zeroshot.plots import _rows

    rows = [{"model": "LSM-CLIP", "variant": v, "pd": p, "metric": "a2i_top1_dot",
             "split": "test_unseen", "mean": 60.0}
            for v, p in (("software", 16), ("software", 32),
                         ("software, 3 reservoirs x 2 heads", 16),
                         ("software, unseen 8+9 (2 x 1)", 16),
                         ("software, rotated unseen pairs (pooled, 3 splits)", 16))]
    t = _rows(pd.DataFrame(rows).astype({"pd": "Int64"}), "a2i_top1_dot")
    assert list(zip(t.base, t.pd, strict=True)) == [("software", 16.0), ("software", 32.0)]
