"""Zero-shot heads on equal footing (issue 15, item 3).

* Nothing but the seen-class training pairs shapes training and the normalisation, and
  nothing but those and the seen-class validation pairs shapes epoch selection: every
  other sample (unseen classes, unused seen-class samples, the whole test split) is
  replaced by wild values, and what the training loop sees and returns must stay
  bit-identical, for every model the zero-shot stage builds.
* The heads normalise LSM features and SRNN encoder outputs with one and the same
  per-feature standardisation (training-batch statistics, running estimates from the
  training batches in evaluation, no learned gain or bias).

Tiny synthetic inputs keep the whole file to a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lsm.errors import ConfigError
from lsm.pipeline.spec import RunLabels, ZeroShotSpec
from lsm.zeroshot import stage as zeroshot
from lsm.zeroshot.contrastive import FEATURE_NORM_EPS, feature_norm, projection_head
from lsm.zeroshot.pairing import PairSpec, make_pairs

SEEN, UNSEEN = (1, 2, 3, 4, 5, 6, 7), (8, 9)
CLASSES = SEEN + UNSEEN
# samples per class in each split: one more than the pairs take, so that unused
# seen-class samples exist too (they must not count either)
PER_CLASS = {"train": 5, "val": 3, "test": 5}
PAIRING = {"seen": list(SEEN), "unseen": list(UNSEEN), "n_train_pairs_per_class": 4,
           "n_val_pairs_per_class": 2, "n_test_pairs_per_class": 4,
           "select": {"direction": "a2i", "similarity": "dot"}}
TRAIN = {"lr": 0.01, "epochs": 4, "batch_size": 8}
T_A, T_B, C_A, C_B, R_A, R_B, T_LSM = 8, 6, 5, 7, 12, 10, 20
SRNN = {"query": {"n_res": 6, "decay": 0.9, "v_th": 1.0, "const": 0.5},
        "gallery": {"n_res": 5, "decay": 0.9, "v_th": 1.0, "const": 0.5}}
MODELS = {  # every zero-shot model the stage builds: (kind, params)
    "LSM-CLIP": ("lsm", {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0}),
    "LSM-CLIP InfoNCE": ("lsm", {"head": "OneFC", "loss": "infonce", "temperature": 0.1}),
    "LSM-CLIP supervised": ("lsm", {"head": "TwoFC", "loss": "clip_sup", "temperature": 1.0}),
    "LSM-Proto": ("lsm", {"head": "linear", "loss": "proto", "temperature": 1.0}),
    "SRNN-CLIP": ("srnn", {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0,
                           "srnn": SRNN}),
    "SRNN-Proto": ("srnn", {"head": "linear", "loss": "proto", "temperature": 1.0,
                            "srnn": SRNN}),
}
SCALES = (None, "standardized", "counts", "rates")  # None: the default


def _labels(split: str) -> np.ndarray:
    # classes interleaved, so that the pairs (the first n per class) skip some samples
    return np.tile(np.array(CLASSES, dtype=np.int64), PER_CLASS[split])


def _synthetic(kind: str, side: str) -> dict[str, np.ndarray]:
    """A features file (lsm: class-dependent spike counts, seed 0) or a frames file
    (srnn: class-dependent binary frames) for one side."""
    rng = np.random.default_rng(0 if side == "a" else 1)
    out: dict[str, np.ndarray] = {"data_source": np.array("simulated"),
                                  "generator_version": np.array("test")}
    for s in PER_CLASS:
        y = _labels(s)
        out[f"y_{s}"] = y
        if kind == "lsm":
            r = R_A if side == "a" else R_B
            lam = 1.0 + 4.0 * ((y[:, None] * np.arange(1, r + 1)[None]) % 7)
            out[f"{s}_s0"] = rng.poisson(lam).astype(np.float32)
        else:
            t, c = (T_A, C_A) if side == "a" else (T_B, C_B)
            p = 0.1 + 0.08 * ((y[:, None, None] + np.arange(c)[None, None]) % 5)
            out[f"x_{s}"] = (rng.random((y.size, t, c)) < p).astype(np.uint8)
    if kind == "lsm":
        out["time_steps"] = np.array(T_LSM)
    return out


def _used(side: str, which: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per source split, the sample indices of one side that the pairs `which` use."""
    labels = {s: _labels(s) for s in PER_CLASS}
    spec = PairSpec(SEEN, UNSEEN, PAIRING["n_train_pairs_per_class"],
                    PAIRING["n_val_pairs_per_class"], PAIRING["n_test_pairs_per_class"])
    pairs = make_pairs(labels, labels, spec)
    used = {s: np.zeros(labels[s].size, bool) for s in PER_CLASS}
    for name in which:
        p = pairs[name]
        used[p.split][p.idx_a if side == "a" else p.idx_b] = True
    return used


def _perturb(data: dict[str, np.ndarray], kind: str, side: str, keep: tuple[str, ...] = (),
             hit: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Wild values for every sample outside the pairs `keep` (or inside the pairs `hit`):
    lsm features become huge random numbers (not a rescaling, which a per-sample
    standardisation would undo; finite, because the stage refuses NaN), srnn frames are
    inverted (they must stay binary)."""
    rng = np.random.default_rng(7)
    mask = (_used(side, hit) if hit is not None
            else {s: ~m for s, m in _used(side, keep).items()})
    out = dict(data)
    for s, m in mask.items():
        key = f"{s}_s0" if kind == "lsm" else f"x_{s}"
        x = data[key].copy()
        if kind == "lsm":
            x[m] = rng.exponential(1e6, size=x[m].shape).astype(np.float32)
        else:
            x[m] = 1 - x[m]
        out[key] = x
    return out


def _write(folder, kind, data_a, data_b):
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "a.npz", folder / "b.npz")
    for p, d in zip(paths, (data_a, data_b), strict=True):
        np.savez(p, **d)
    return paths


def _spec(kind, params, train, run=""):
    return ZeroShotSpec(kind, params, train, PAIRING, [4], [0], RunLabels("synthetic", "m", "v",
                                                                          run),
                        experiment="zeroshot", modalities=("a", "i"))


def _outputs(folder):
    return zeroshot.zeroshot_outputs(folder / "m.json", folder / "c.csv", folder / "e.npz",
                                     folder / "p.json")


def _run(folder, kind, params, monkeypatch, data_a, data_b, train=TRAIN):
    """zeroshot_run on the given inputs; returns what the training loop was handed and
    gave back (inputs, every weight and buffer, selected epoch, curves), every value the
    model's statistics (its buffers: the normalisation's running estimates) took in
    training, and the saved test embeddings."""
    calls = []
    real_fit = zeroshot.fit_pairs

    def spy(model, xa, xb, y, cfg, seed, select):
        stats: list[dict[str, torch.Tensor]] = []

        def record(m, _inp, _out):
            if m.training:  # a training forward pass: the statistics may move
                stats.append({k: v.detach().clone() for k, v in m.named_buffers()})

        hooks = [m.register_forward_hook(record) for m in model.modules()
                 if list(m.buffers(recurse=False))]
        fit = real_fit(model, xa, xb, y, cfg, seed, select)
        for h in hooks:
            h.remove()
        calls.append({
            "stats": stats,
            "inputs": {f"{side}_{s}": x[s].clone() for side, x in (("a", xa), ("b", xb))
                       for s in ("train", "val")},
            "labels": {s: y[s].copy() for s in ("train", "val")},
            "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "buffers": {k: v.detach().clone() for k, v in model.named_buffers()},
            "best_epoch": fit.best_epoch, "best_val": fit.best_val_acc,
            "val_curve": list(fit.val_curve), "train_loss": list(fit.train_loss),
            "optimizer_steps": fit.optimizer_steps})
        return fit

    monkeypatch.setattr(zeroshot, "fit_pairs", spy)
    path_a, path_b = _write(folder, kind, data_a, data_b)
    zeroshot.zeroshot_run(path_a, path_b, _spec(kind, params, train, run="r"),
                          _outputs(folder))
    monkeypatch.setattr(zeroshot, "fit_pairs", real_fit)
    emb = dict(np.load(folder / "e.npz"))
    assert len(calls) == 1
    return calls[0], emb


def _same_tensors(x: dict, y: dict, what: str) -> None:
    assert x.keys() == y.keys(), what
    for k in x:
        assert torch.equal(torch.as_tensor(x[k]), torch.as_tensor(y[k])), f"{what}: {k}"


def _params(base: dict, scale: str | None) -> dict:
    return dict(base) if scale is None else {**base, "feature_scale": scale}


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: s or "default")
@pytest.mark.parametrize("name", list(MODELS))
def test_only_seen_training_pairs_shape_training_normalisation_and_selection(
        name, scale, tmp_path, monkeypatch):
    kind, base = MODELS[name]
    params = _params(base, scale)
    da, db = _synthetic(kind, "a"), _synthetic(kind, "b")
    ref, ref_emb = _run(tmp_path / "ref", kind, params, monkeypatch, da, db)
    assert set(np.unique(ref["labels"]["train"])) == set(SEEN)
    if scale in (None, "standardized"):  # the statistics exist and move (not vacuous)
        assert ref["buffers"] and len(ref["stats"]) > 2
        first, last = ref["stats"][0], ref["stats"][-1]
        assert any(not torch.equal(first[k], last[k]) for k in first)

    # (a)-(c): every sample outside the seen-class training and validation pairs (the
    # unseen classes in every split, unused seen-class samples, the whole test split)
    # replaced: training, normalisation and selection are bit-identical
    keep = ("train", "val")
    out, out_emb = _run(tmp_path / "out", kind, params, monkeypatch,
                        _perturb(da, kind, "a", keep), _perturb(db, kind, "b", keep))
    _same_tensors(ref["inputs"], out["inputs"], "training/validation inputs")
    _same_tensors(ref["state"], out["state"], "selected weights")
    _same_tensors(ref["buffers"], out["buffers"], "normalisation statistics")
    assert len(ref["stats"]) == len(out["stats"])
    for i, (x, y) in enumerate(zip(ref["stats"], out["stats"], strict=True)):
        _same_tensors(x, y, f"normalisation statistics, training pass {i}")
    for key in ("best_epoch", "best_val", "val_curve", "train_loss", "optimizer_steps"):
        assert ref[key] == out[key], key
    # the perturbation did reach what is evaluated (the check above is not vacuous)
    assert not np.array_equal(ref_emb["za_test_unseen"], out_emb["za_test_unseen"])
    assert not np.array_equal(ref_emb["zb_test_seen"], out_emb["zb_test_seen"])

    # (b): the validation pairs (seen classes) may pick the epoch, but shape neither the
    # training trajectory nor any normalisation statistic
    val, _ = _run(tmp_path / "val", kind, params, monkeypatch,
                  _perturb(da, kind, "a", hit=("val",)), _perturb(db, kind, "b", hit=("val",)))
    _same_tensors({k: v for k, v in ref["inputs"].items() if k.endswith("train")},
                  {k: v for k, v in val["inputs"].items() if k.endswith("train")},
                  "training inputs")
    assert len(ref["stats"]) == len(val["stats"])
    for i, (x, y) in enumerate(zip(ref["stats"], val["stats"], strict=True)):
        _same_tensors(x, y, f"normalisation statistics, training pass {i}")
    assert ref["train_loss"] == val["train_loss"]  # the same weights, epoch after epoch
    assert ref["optimizer_steps"] == val["optimizer_steps"]


def _first_linear_inputs(model: zeroshot.PairModel) -> tuple[list, list]:
    """Hooks that record what the first Linear layer of each head receives."""
    seen_a: list[torch.Tensor] = []
    seen_b: list[torch.Tensor] = []
    for head, store in ((model.head_a, seen_a), (model.head_b, seen_b)):
        first = next(m for m in head.modules() if isinstance(m, nn.Linear))
        first.register_forward_pre_hook(lambda _m, args, store=store: store.append(args[0]))
    return seen_a, seen_b


def _norms(model: zeroshot.PairModel) -> list[nn.Module]:
    return [m for h in (model.head_a, model.head_b) for m in h.modules()
            if isinstance(m, nn.modules.batchnorm._NormBase | nn.LayerNorm | nn.GroupNorm)]


def _standardised(f: torch.Tensor, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    return (f - mu) / torch.sqrt(var + FEATURE_NORM_EPS)


@pytest.mark.parametrize("head", ["OneFC", "linear", "ThreeFC"])
def test_heads_standardise_lsm_features_and_srnn_outputs_alike(head):
    rng = np.random.default_rng(3)
    n = 16
    # LSM counts whose neurons differ by orders of magnitude; neuron 0 silent in training
    fa = rng.poisson(3.0, (n, R_A)) * 10.0 ** (np.arange(R_A)[None] % 4)
    fa[:, 0] = 0.0
    fb = rng.poisson(5.0, (n, R_B)).astype(float)
    lsm_in = (torch.tensor(fa, dtype=torch.float32), torch.tensor(fb, dtype=torch.float32))
    srnn_in = (torch.tensor(rng.random((n, T_A, C_A)) < 0.3, dtype=torch.float32),
               torch.tensor(rng.random((n, T_B, C_B)) < 0.3, dtype=torch.float32))
    built = {}
    for kind, (n_a, n_b), (t_a, t_b) in (("lsm", (R_A, R_B), (0, 0)),
                                        ("srnn", (C_A, C_B), (T_A, T_B))):
        params = {"head": head, "loss": "clip_soft", "temperature": 1.0, "srnn": SRNN}
        model, _ = zeroshot.build_model(kind, params, n_a, n_b, t_a, t_b, 4, seed=0)
        built[kind] = model
    # one mechanism: the same module, configured the same, first in all four heads;
    # no gain or bias to learn
    norms = [m for model in built.values() for m in _norms(model)]
    assert len(norms) == 4
    for m, n_in in zip(norms, (R_A, R_B, SRNN["query"]["n_res"], SRNN["gallery"]["n_res"]),
                       strict=True):
        ref = feature_norm(n_in)
        assert type(m) is type(ref) and m.num_features == n_in
        assert (m.eps, m.momentum, m.affine, m.track_running_stats) == (
            ref.eps, ref.momentum, False, True)
        assert not list(m.parameters())
    for kind, model in built.items():
        for h in (model.head_a, model.head_b):
            assert h[0] is next(m for m in h.modules() if m in norms)  # before any Linear
        seen_a, seen_b = _first_linear_inputs(model)
        xa, xb = lsm_in if kind == "lsm" else srnn_in
        feats = [f.detach().double() for f in model.features(xa, xb)]
        model.train()  # a training pass: the batch's own statistics
        model(xa, xb)
        norm_a, norm_b = (h[0] for h in (model.head_a, model.head_b))
        stats = [(m.running_mean.double(), m.running_var.double()) for m in (norm_a, norm_b)]
        model.embed(xa, xb)  # evaluation: the running estimates from training
        for z, f in zip(seen_a[:1] + seen_b[:1], feats, strict=True):
            z = z.detach().double()
            mu, var = f.mean(0), f.var(0, unbiased=False)
            assert torch.allclose(z, _standardised(f, mu, var), atol=1e-5), kind
            assert torch.allclose(z.mean(0), torch.zeros_like(mu), atol=1e-5), kind
            assert torch.allclose(z.var(0, unbiased=False), var / (var + FEATURE_NORM_EPS),
                                  atol=1e-5), kind
            big = var > 100  # well above the one-spike floor: unit variance
            assert torch.allclose(z.var(0, unbiased=False)[big],
                                  torch.ones(int(big.sum()), dtype=z.dtype), rtol=1e-2)
        for z, f, (mu, var) in zip(seen_a[1:] + seen_b[1:], feats, stats, strict=True):
            assert torch.allclose(z.detach().double(), _standardised(f, mu, var),
                                  atol=1e-5), kind
        if kind == "lsm":
            assert bool((feats[0].var(0, unbiased=False) > 100).any())  # exercised
            # a neuron silent in training that spikes once at test time stays bounded
            probe = lsm_in[0][:1].clone()
            probe[0, 0] = 1.0
            seen_a.clear()
            model.embed(probe, lsm_in[1][:1])
            assert 0.0 < float(seen_a[0][0, 0]) <= 1.0
    # both families enter the normalisation as spike counts (SRNN: rate x T), so the
    # one-spike floor means the same for both
    enc = built["srnn"].enc_a
    fa_srnn, _ = built["srnn"].features(*srnn_in)
    assert torch.equal(fa_srnn, enc(srnn_in[0]) * T_A)


def test_default_is_standardized_and_raw_scales_add_no_normalisation():
    base = {"head": "OneFC", "loss": "clip_soft", "temperature": 1.0, "srnn": SRNN}
    assert zeroshot.DEFAULT_SCALE == "standardized"
    for kind, n_a, n_b, t_a, t_b in (("lsm", R_A, R_B, 0, 0), ("srnn", C_A, C_B, T_A, T_B)):
        model, macs = zeroshot.build_model(kind, base, n_a, n_b, t_a, t_b, 4, seed=0)
        assert len(_norms(model)) == 2, kind  # the default normalises both heads
        for scale in ("counts", "rates"):
            raw, raw_macs = zeroshot.build_model(kind, {**base, "feature_scale": scale},
                                                 n_a, n_b, t_a, t_b, 4, seed=0)
            assert not _norms(raw), (kind, scale)
            # the normalisation adds no trainable parameter and leaves the counted MACs
            assert (sum(p.numel() for p in raw.parameters())
                    == sum(p.numel() for p in model.parameters()))
            assert raw_macs == macs
        gains = (model.gain_a, model.gain_b)
        assert gains == ((1.0, 1.0) if kind == "lsm" else (T_A, T_B))
    with pytest.raises(ValueError, match="feature_scale"):
        zeroshot.build_model("lsm", {**base, "feature_scale": "zscore"}, R_A, R_B, 0, 0, 4, 0)
    assert isinstance(projection_head("OneFC", 3, 2, norm=True)[0], type(feature_norm(3)))
    assert not isinstance(projection_head("OneFC", 3, 2)[0], type(feature_norm(3)))


def test_unknown_feature_scale_is_a_config_error_before_anything_is_written(tmp_path):
    path_a, path_b = _write(tmp_path, "lsm", _synthetic("lsm", "a"), _synthetic("lsm", "b"))
    params = {**MODELS["LSM-CLIP"][1], "feature_scale": "zscore"}
    with pytest.raises(ConfigError, match=r"feature_scale.*'zscore'.*Fix: use standardized"):
        zeroshot.zeroshot_run(path_a, path_b, _spec("lsm", params, TRAIN), _outputs(tmp_path))
    assert not (tmp_path / "m.json").exists()


def test_batches_never_hold_a_lone_pair():
    assert zeroshot._batches(16, 8) == [(0, 8), (8, 16)]
    assert zeroshot._batches(17, 8) == [(0, 8), (8, 17)]  # the 17th pair joins the last
    assert zeroshot._batches(18, 8) == [(0, 8), (8, 16), (16, 18)]
    assert zeroshot._batches(5, 8) == [(0, 5)]


def test_a_lone_last_pair_trains_and_batch_size_one_is_a_config_error(tmp_path, monkeypatch):
    # 7 seen classes x 4 pairs = 28 = 3 x 9 + 1: three batches per epoch, none of one pair
    params = dict(MODELS["LSM-CLIP"][1])
    ref, _ = _run(tmp_path / "ok", "lsm", params, monkeypatch, _synthetic("lsm", "a"),
                  _synthetic("lsm", "b"), train={**TRAIN, "batch_size": 9})
    assert ref["optimizer_steps"] == 3 * TRAIN["epochs"]
    path_a, path_b = _write(tmp_path / "one", "lsm", _synthetic("lsm", "a"),
                            _synthetic("lsm", "b"))
    with pytest.raises(ConfigError, match=r"batch_size.*Fix: use a batch_size of at least 2"):
        zeroshot.zeroshot_run(path_a, path_b,
                              _spec("lsm", params, {**TRAIN, "batch_size": 1}),
                              _outputs(tmp_path / "one"))
    assert not (tmp_path / "one" / "m.json").exists()
