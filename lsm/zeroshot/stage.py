"""Zero-shot cross-modal retrieval: paired encoders + projection heads, trained on seen
classes, evaluated on seen and unseen ones (`docs/paper-notes.md` §1.7-1.9, §2.3).

Two model families share everything but the encoders:

* ``lsm``: frozen reservoir spike counts (encoded once by the encode stage) feed the
  heads; only the heads train (LSM-CLIP, LSM-Proto);
* ``srnn``: the same recurrent LIF layers, trainable by BPTT with a surrogate gradient
  (:class:`lsm.models.srnn.SRNNEncoder`), feed the heads (SRNN-CLIP, SRNN-Proto).

The loss (:mod:`lsm.zeroshot.contrastive`) picks CLIP or prototypical training. The epoch is
selected on the validation pairs (seen classes only, from both datasets' training sets);
the test pairs are evaluated once, on the selected weights (:mod:`lsm.zeroshot.retrieval`).

What the heads see (``feature_scale``, one meaning for both families):

* ``standardized`` (the default): the encoder's spike counts over its T steps (LSM:
  the encoded counts; SRNN: its spike rate times T), standardised per feature by the
  normalisation that starts every head (:func:`lsm.zeroshot.contrastive.feature_norm`, which says
  why this one): batch statistics in training, running estimates from the training
  batches in evaluation, no learned gain or bias. It is one mechanism, inside the
  forward pass, for the frozen and the trainable encoders alike: the SRNN's features
  change while it trains, so statistics fixed from the data before training (the LSM's
  z-scores) could not be applied to it. Its statistics come from the seen-class training
  pairs only: no unseen class and no validation or test pair shapes them, training sees
  only the training pairs, and epoch selection only the seen-class validation pairs
  (tests/test_zeroshot_normalisation.py checks all three, for every model built here).
* ``counts`` / ``rates``: no normalisation; spike counts, or counts / T (the paper's
  literal input). The OneFC head with the soft-target CLIP loss stays at chance on raw
  counts on the default data.

Earlier versions z-scored the LSM features only, with the mean and std of the whole
encoded training split (unseen classes and unpaired samples included), and fed the
SRNN's rates raw: SRNN-CLIP sat at exactly chance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsm.errors import ConfigError, DataFormatError
from lsm.models.cost import TrainingCost
from lsm.models.registry import ZS_BUILTIN, build_zs_encoder, zs_entry, zs_input
from lsm.models.training import FitTask, TrainConfig, TrainResult, fit
from lsm.pipeline.spec import StageOutputs, StageResult, ZeroShotSpec, write_stage
from lsm.pipeline.stages import (
    SPLITS,
    check_frames,
    check_labels,
    check_splits,
    load_npz,
    npz_meta,
    time_steps,
)
from lsm.reservoir.workload import encode_cost
from lsm.results.contract import metrics_doc
from lsm.zeroshot.contrastive import PairLoss, head_macs, projection_head
from lsm.zeroshot.pairing import PairSpec, make_pairs
from lsm.zeroshot.retrieval import retrieval_records, topk_accuracy

KINDS = tuple(ZS_BUILTIN)  # the built-in kinds; plug-in encoders: lsm.models.registry
EVAL_SPLITS = ("test_seen", "test_unseen")
FEATURE_SCALES = ("standardized", "counts", "rates")
DEFAULT_SCALE = "standardized"


def _check_scale(scale: str) -> None:
    if scale not in FEATURE_SCALES:
        raise ValueError(f"feature_scale must be one of {FEATURE_SCALES}, not {scale!r}")


class PairModel(nn.Module):
    """enc_a -> x gain_a -> head_a and enc_b -> x gain_b -> head_b; an encoder is
    nn.Identity when frozen. The gains turn an SRNN encoder's spike rate into counts
    (gain T) where the heads take counts; they are 1 otherwise."""

    def __init__(self, enc_a: nn.Module, enc_b: nn.Module, head_a: nn.Module,
                 head_b: nn.Module, loss: PairLoss, gain_a: float = 1.0,
                 gain_b: float = 1.0) -> None:
        super().__init__()
        self.enc_a, self.enc_b, self.head_a, self.head_b = enc_a, enc_b, head_a, head_b
        self.loss = loss
        self.gain_a, self.gain_b = float(gain_a), float(gain_b)

    def features(self, xa: torch.Tensor, xb: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """What the heads take: the encoders' outputs in the heads' units."""
        fa, fb = self.enc_a(xa), self.enc_b(xb)
        return (fa if self.gain_a == 1.0 else fa * self.gain_a,
                fb if self.gain_b == 1.0 else fb * self.gain_b)

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fa, fb = self.features(xa, xb)
        return self.head_a(fa), self.head_b(fb)

    @torch.no_grad()
    def embed(self, xa: torch.Tensor, xb: torch.Tensor, batch: int = 256
              ) -> tuple[np.ndarray, np.ndarray]:
        self.eval()
        outs = [self(xa[i : i + batch], xb[i : i + batch]) for i in range(0, xa.shape[0], batch)]
        return (torch.cat([o[0] for o in outs]).numpy(), torch.cat([o[1] for o in outs]).numpy())


def _batches(n: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) of the mini-batches of n pairs; a lone last pair joins the batch
    before it."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [(i, starts[k + 1] if k + 1 < len(starts) else n) for k, i in enumerate(starts)]


def _isolated(monitor: Callable[[PairModel], dict[str, float]], twin: PairModel
              ) -> dict[str, float]:
    """`monitor` on a copy of the model, without gradients, with torch's global random
    state restored afterwards: whatever it does cannot reach training or selection."""
    state = torch.random.get_rng_state()
    try:
        with torch.no_grad():
            return dict(monitor(twin))
    finally:
        torch.random.set_rng_state(state)


@torch.no_grad()
def _with_training_statistics(model: PairModel, xa: dict[str, torch.Tensor],
                              xb: dict[str, torch.Tensor], cfg: TrainConfig) -> PairModel:
    """A copy of `model` in eval mode whose normalisation statistics are those of one pass
    over the training pairs (as every trained epoch's are): without them the untrained
    heads would see raw counts, a different architecture. The original is untouched."""
    twin = copy.deepcopy(model)
    twin.train()
    for m in twin.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_running_stats()
    n = xa["train"].shape[0]
    for i, j in _batches(n, cfg.batch_size):
        twin(xa["train"][i:j], xb["train"][i:j])
    return twin.eval()


def fit_pairs(model: PairModel, xa: dict[str, torch.Tensor], xb: dict[str, torch.Tensor],
              y: dict[str, np.ndarray], cfg: TrainConfig, seed: int,
              select: tuple[str, str] = ("a2b", "dot"),
              monitor: Callable[[PairModel], dict[str, float]] | None = None) -> TrainResult:
    """Train a pair model with the one training loop (:func:`lsm.models.training.fit`) on
    the train pairs; after each epoch, top-1 retrieval on the validation pairs (direction
    a2b or b2a, similarity dot or cos) picks the epoch (ties: the earliest). Returns the
    model loaded with the selected weights (and the normalisation's running statistics of
    that epoch). A last batch of one pair joins the one before it (batch statistics need
    two samples); each epoch's normalisation statistics come from its own training batches.

    `monitor` (analysis only, e.g. test-set accuracy per epoch for the paper's selection
    rule): called on the model before training and after each epoch's validation, its
    results go to ``TrainResult.monitored``. It runs after the epoch's choice is made, on
    a copy of the model in eval mode, without gradients and with torch's random state
    restored, so nothing it does reaches training or selection (tests/test_zs_power.py: a
    hostile monitor and swapped test data leave weights, curves and choices identical).
    At epoch 0 the copy's normalisation statistics come from one pass over the training
    pairs, as after every trained epoch."""
    ytr = torch.from_numpy(y["train"])
    xa_tr, xb_tr = xa["train"], xb["train"]

    def reset_statistics() -> None:  # this epoch's training batches only (feature_norm)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.reset_running_stats()

    def loss(idx: torch.Tensor) -> torch.Tensor | None:
        za, zb = model(xa_tr[idx], xb_tr[idx])
        return model.loss(za, zb, ytr[idx])  # None: a prototypical batch without a repeat

    def validate() -> float:
        za, zb = model.embed(xa["val"], xb["val"])
        q, g = (za, zb) if select[0] == "a2b" else (zb, za)
        return topk_accuracy(q, g, y["val"], y["val"], (1,), select[1])[1]

    monitored: list[dict[str, float]] = []
    after = None
    if monitor is not None:  # epoch 0: the untrained heads, their statistics measured
        torch.set_num_threads(cfg.threads)
        monitored.append(_isolated(monitor, _with_training_statistics(model, xa, xb, cfg)))

        def after(epoch: int, res: TrainResult, net: nn.Module) -> None:
            monitored.append(_isolated(monitor, copy.deepcopy(model).eval()))

    res = fit(model, FitTask(n_train=int(ytr.shape[0]), loss=loss, validate=validate,
                             batches=_batches, start_epoch=reset_statistics,
                             after_epoch=after), cfg, seed)
    res.monitored = monitored
    return res


def build_model(kind: str, params: dict[str, Any], n_a: int, n_b: int, t_a: int, t_b: int,
                pd: int, seed: int) -> tuple[PairModel, float]:
    """The model and its forward MACs per training pair (trainable parts, all T steps).

    ``params["feature_scale"]`` (default :data:`DEFAULT_SCALE`) sets what the heads take,
    the same for both kinds (module docstring): ``standardized`` starts both heads with
    :func:`lsm.zeroshot.contrastive.feature_norm`; an SRNN encoder's rate is scaled to counts (x T)
    for ``standardized`` and ``counts`` (the LSM's features arrive as counts from
    :func:`_inputs`, or as rates for ``rates``)."""
    scale = params.get("feature_scale", DEFAULT_SCALE)
    _check_scale(scale)
    entry = zs_entry(kind)
    torch.manual_seed(seed)
    gain_a = gain_b = 1.0
    if entry.input == "features":  # frozen encoders: their spike counts arrive as input
        enc_a, enc_b, f_a, f_b, enc_macs = nn.Identity(), nn.Identity(), n_a, n_b, 0
    else:  # trainable encoders, query side first (the order draws the same weights)
        sides = params[entry.params_key]
        enc_a = build_zs_encoder(kind, n_a, sides["query"])
        enc_b = build_zs_encoder(kind, n_b, sides["gallery"])
        f_a, f_b = enc_a.n_out, enc_b.n_out
        enc_macs = enc_a.forward_macs(t_a) + enc_b.forward_macs(t_b)
        if scale != "rates":  # rates -> spike counts over the T steps
            gain_a = float(t_a) if getattr(enc_a, "output_is_rate", False) else 1.0
            gain_b = float(t_b) if getattr(enc_b, "output_is_rate", False) else 1.0
    norm = scale == "standardized"
    head_a = projection_head(params["head"], f_a, pd, norm=norm)
    head_b = projection_head(params["head"], f_b, pd, norm=norm)
    loss = PairLoss(params["loss"], params["temperature"], seed)
    return (PairModel(enc_a, enc_b, head_a, head_b, loss, gain_a, gain_b),
            float(enc_macs + head_macs(head_a) + head_macs(head_b)))


def _encoder_events(net: PairModel, xa: torch.Tensor, xb: torch.Tensor, fwd: float,
                    kind: str) -> float:
    """Event-driven operations of one training pair's forward pass with trainable
    encoders: each encoder's ``event_ops`` (the SRNN's accumulates per input event and
    spike; an encoder without it: its dense MACs), the heads dense (:mod:`lsm.models.cost`)."""
    if zs_input(kind) == "features":
        return fwd

    def ops(enc: nn.Module, x: torch.Tensor) -> float:
        if hasattr(enc, "event_ops"):
            return float(enc.event_ops(x))
        return float(enc.forward_macs(x.shape[1]))

    return (ops(net.enc_a, xa) + ops(net.enc_b, xb)
            + float(head_macs(net.head_a) + head_macs(net.head_b)))


def gather_pairs(x: dict[str, np.ndarray], pairs: dict[str, Any], side: str
                 ) -> dict[str, torch.Tensor]:
    """Per pair set (train, val, test_seen, test_unseen): one side's rows of its split,
    float32 (`side` a: the query's indices, b: the gallery's)."""
    return {name: torch.from_numpy(np.asarray(
        x[p.split][p.idx_a if side == "a" else p.idx_b], dtype=np.float32))
        for name, p in pairs.items()}


def _check_inputs(kind: str, data: dict[str, np.ndarray], seed: int, path: str | Path
                  ) -> None:
    """What :func:`_inputs` reads, checked (:func:`lsm.pipeline.stages.check_splits`): binary 3-D
    frames (srnn) or one seed's finite 2-D features (lsm), or a :class:`DataFormatError`
    naming the array."""
    if zs_input(kind) == "frames":
        check_frames(data, path, kind)
        return
    for s in SPLITS:
        key = f"{s}_s{seed}"
        if key not in data:
            raise DataFormatError(path, f"has no features for seed {seed} ({key}).",
                                  "encode with the same seed list as the zero-shot runs.")
    check_splits(data, path, f"{{split}}_s{seed}", ndim=2)


def _inputs(kind: str, data: dict[str, np.ndarray], seed: int, path: str | Path,
            scale: str, checked: bool = False) -> dict[str, np.ndarray]:
    """Per split: frames [N, T, C] (srnn) or features [N, R] (lsm: counts, or counts / T
    for ``rates``), checked by :func:`_check_inputs` (unless `checked` says the caller
    did). Each sample is returned as read: no statistic of any split is applied here
    (``standardized`` normalises inside the heads, with training-batch statistics;
    :func:`build_model`)."""
    _check_scale(scale)
    if not checked:
        _check_inputs(kind, data, seed, path)
    if zs_input(kind) == "frames":
        return {s: data[f"x_{s}"] for s in SPLITS}
    out = {}
    for s in SPLITS:
        key = f"{s}_s{seed}"
        out[s] = data[key] / float(time_steps(data, path)) if scale == "rates" else data[key]
    return out


def zeroshot_outputs(metrics: str | Path, curves: str | Path, embeddings: str | Path,
                     provenance: str | Path) -> StageOutputs:
    """Where :func:`zeroshot_run` writes."""
    return StageOutputs(provenance=provenance, metrics=metrics, curves=curves,
                        arrays={"embeddings": embeddings})


def zeroshot_run(path_a: str | Path, path_b: str | Path, spec: ZeroShotSpec,
                 out: StageOutputs, workload_a: str | Path = "", workload_b: str | Path = ""
                 ) -> dict[str, Any]:
    """Load, fit (:func:`fit_zeroshot`), write (:func:`lsm.pipeline.spec.write_stage`):
    one zero-shot run. `path_a`/`path_b`: the two modalities' frames (trainable encoders)
    or encoder features (frozen encoders; with their workload metrics `workload_a`/`_b`
    for the one-time encoding cost). Returns the metrics document."""
    da, db = (load_npz(path, ("y_train", "y_val", "y_test")) for path in (path_a, path_b))
    check_labels(da, path_a)
    check_labels(db, path_b)
    doc = write_stage(fit_zeroshot(da, db, (path_a, path_b), spec, (workload_a, workload_b)),
                      out)
    assert doc is not None
    return doc


def fit_zeroshot(da: dict[str, np.ndarray], db: dict[str, np.ndarray],
                 paths: tuple[str | Path, str | Path], spec: ZeroShotSpec,
                 workloads: tuple[str | Path, str | Path] = ("", "")) -> StageResult:
    """Train and evaluate one zero-shot model per projection dimension and seed.

    `spec.pairing`: seen, unseen, n_{train,val,test}_pairs_per_class and select
    ({direction, similarity}). Returns per-seed metrics under the results contract (one row
    per projection dimension, in the records' ``pd`` field), validation curves, the test
    embeddings of the first seed and first pd (for the figures) and the provenance.
    """
    path_a, path_b = paths
    workload_a, workload_b = workloads
    kind, params, train = spec.kind, dict(spec.params), dict(spec.train)
    pairing, proj_dims, seeds = dict(spec.pairing), list(spec.proj_dims), list(spec.seeds)
    experiment, modalities = spec.experiment, spec.modalities
    dataset, model, variant, run_name = (spec.labels.dataset, spec.labels.model,
                                         spec.labels.variant, spec.labels.run)
    pair_spec = PairSpec(tuple(pairing["seen"]), tuple(pairing["unseen"]),
                         pairing["n_train_pairs_per_class"], pairing["n_val_pairs_per_class"],
                         pairing["n_test_pairs_per_class"], pairing.get("enlarge", 1))
    pairs = make_pairs({s: da[f"y_{s}"] for s in SPLITS}, {s: db[f"y_{s}"] for s in SPLITS},
                       pair_spec, field=experiment)
    y = {name: p.labels for name, p in pairs.items()}
    # the one-time encoding is billed per distinct *training* sample (enlarge reuses
    # samples), as the trainable models' cost counts training passes only; encoding the
    # test samples is inference, reported in its own records (test_seen and test_unseen
    # index disjoint parts of the test split)
    n_used_a = np.unique(pairs["train"].idx_a).size
    n_used_b = np.unique(pairs["train"].idx_b).size
    n_test_a = sum(np.unique(p.idx_a).size for n, p in pairs.items() if n.startswith("test"))
    n_test_b = sum(np.unique(p.idx_b).size for n, p in pairs.items() if n.startswith("test"))
    select = (pairing["select"]["direction"], pairing["select"]["similarity"])
    sel_dir = "a2b" if select[0] == f"{modalities[0]}2{modalities[1]}" else "b2a"
    cfg = TrainConfig(**train)
    if params["loss"] == "proto" and cfg.batch_size <= len(pair_spec.seen):
        raise ConfigError(f"{experiment}: the training settings' batch_size",
                          f"{cfg.batch_size} pairs cannot hold two of any of the "
                          f"{len(pair_spec.seen)} seen classes, which prototypical training "
                          "needs.", f"use a batch_size above {len(pair_spec.seen)} (the paper: "
                          "the full set).")
    scale = params.get("feature_scale", DEFAULT_SCALE)
    if scale not in FEATURE_SCALES:
        raise ConfigError(f"{experiment}: the run's feature_scale",
                          f"{scale!r} is not one of {list(FEATURE_SCALES)}.",
                          "use standardized (the default: both heads standardise each "
                          "feature), or counts / rates (no normalisation).")
    if scale == "standardized" and cfg.batch_size < 2:
        raise ConfigError(f"{experiment}: the training settings' batch_size",
                          "1 pair per batch leaves the heads' standardisation (feature_scale "
                          "standardized) no batch statistics.",
                          "use a batch_size of at least 2, or feature_scale counts or rates.")
    frozen = zs_input(kind) == "features"
    for seed in seeds if frozen else seeds[:1]:  # all inputs, before any training
        _check_inputs(kind, da, seed, path_a)
        _check_inputs(kind, db, seed, path_b)
    records, curves = [], []
    emb: dict[str, np.ndarray] = {}
    for seed in seeds:
        xa_np = _inputs(kind, da, seed, path_a, scale, checked=True)
        xb_np = _inputs(kind, db, seed, path_b, scale, checked=True)

        xa, xb = gather_pairs(xa_np, pairs, "a"), gather_pairs(xb_np, pairs, "b")
        enc_dense = enc_events = 0.0
        if frozen and workload_a and workload_b:
            # per-sample counts (the supervised stage's reader, for one sample): the
            # training split's for the bill, the test split's for inference
            (dad, dae), (dbd, dbe) = (encode_cost(workload_a, seed, 1),
                                      encode_cost(workload_b, seed, 1))
            enc_dense = dad * n_used_a + dbd * n_used_b
            enc_events = dae * n_used_a + dbe * n_used_b
            (dad, dae), (dbd, dbe) = (encode_cost(workload_a, seed, 1, "test"),
                                      encode_cost(workload_b, seed, 1, "test"))
            records += [{"seed": seed, "pd": pd_, "split": "test",
                         "metric": f"inference_encode_macs_{k}", "unit": u, "value": v}
                        for pd_ in proj_dims for k, u, v in (
                            ("dense", "MACs", dad * n_test_a + dbd * n_test_b),
                            ("events", "ACs", dae * n_test_a + dbe * n_test_b))]
        t_a = 0 if frozen else xa["train"].shape[1]
        t_b = 0 if frozen else xb["train"].shape[1]
        for pd_ in proj_dims:
            net, fwd = build_model(kind, params, xa["train"].shape[-1], xb["train"].shape[-1],
                                   t_a, t_b, pd_, seed)
            events_init = _encoder_events(net, xa["train"], xb["train"], fwd, kind)
            trained = fit_pairs(net, xa, xb, y, cfg, seed, (sel_dir, select[1]))
            cost = TrainingCost(sum(p.numel() for p in net.parameters() if p.requires_grad),
                                fwd, cfg.epochs, int(y["train"].size), trained.optimizer_steps,
                                trained.train_seconds, enc_dense, enc_events)
            if not frozen:  # spikes move in training: the initial and trained mean
                cost.forward_events_per_sample = 0.5 * (
                    events_init + _encoder_events(net, xa["train"], xb["train"], fwd, kind))
            tag = {"seed": seed, "pd": pd_}
            records.append({**tag, "split": "val_seen", "unit": "%",
                            "metric": f"{select[0]}_top1_{select[1]}",
                            "value": trained.best_val_acc})
            records.append({**tag, "split": "train", "metric": "best_epoch",
                            "value": trained.best_epoch, "unit": "epoch"})
            records += [{**r, "pd": pd_} for r in cost.records(seed)]
            for split in EVAL_SPLITS:
                za, zb = net.embed(xa[split], xb[split])
                records += [{**tag, "split": split, **r} for r in retrieval_records(
                    za, zb, y[split], modalities, ids=(pairs[split].idx_a, pairs[split].idx_b))]
                if seed == seeds[0] and pd_ == proj_dims[0]:
                    emb[f"za_{split}"], emb[f"zb_{split}"], emb[f"y_{split}"] = za, zb, y[split]
                    # where each pair came from in the test split (for example figures)
                    emb[f"ia_{split}"] = pairs[split].idx_a
                    emb[f"ib_{split}"] = pairs[split].idx_b
            curves += [{"seed": seed, "pd": pd_, "epoch": e + 1, "val_accuracy": v,
                        "train_loss": lo} for e, (v, lo) in enumerate(
                            zip(trained.val_curve, trained.train_loss, strict=True))]
    if frozen:  # the RSA diagnostic per reservoir, before any head (lsm.zeroshot.power)
        from lsm.zeroshot.power import rsa_records

        classes = sorted(pair_spec.seen + pair_spec.unseen)
        for seed in seeds:
            records += rsa_records(da[f"test_s{seed}"], db[f"test_s{seed}"],
                                    {"test": np.asarray(da["y_test"])},
                                    {"test": np.asarray(db["y_test"])}, classes, pair_spec.unseen,
                                    seed, "reservoir features",
                                    f"encoders of {model} {variant}, per-run seeds")
    source = "+".join(sorted({npz_meta(da, "data_source"), npz_meta(db, "data_source")}))
    doc = metrics_doc(experiment=experiment, dataset=dataset, model=model, variant=variant,
                      data_source=source, selection="val", records=records, run=run_name,
                      kind=kind, seen=list(pair_spec.seen), unseen=list(pair_spec.unseen))
    arrays = {**emb, "unseen": np.array(pair_spec.unseen), "modalities": np.array(modalities),
              "pd": np.array(proj_dims[0]), "similarity": np.array(select[1]),
              "data_source": np.array(source)}
    return StageResult(
        doc=doc, curves=curves, arrays={"embeddings": arrays},
        provenance=dict(
            params={"run": run_name, "kind": kind, "params": params, "feature_scale": scale,
                    "train": train, "pairing": pairing, "proj_dims": proj_dims},
            seeds=seeds, data_source=source,
            generator_version=npz_meta(da, "generator_version")))
