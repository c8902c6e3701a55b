"""The work of each workflow stage, as plain functions the notebooks call.

Each stage reads declared inputs, loops over seeds inside (a notebook costs seconds to
start, so we never start one per seed), and writes declared outputs atomically with a
provenance JSON beside them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from lsm import atomic
from lsm.errors import DataFormatError
from lsm.provenance import provenance
from lsm.readout import ReadoutConfig, predict, train_linear_readout
from lsm.reservoir import GaussianWeightSource, LIFParams, encode
from lsm.results import metrics_doc

SPLITS = ("train", "val", "test")


def load_npz(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Load an .npz fully, failing with the file name and the missing keys."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "rerun the workflow rule that makes it.")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, f"not a readable .npz ({exc}).",
                              "delete it and rerun the workflow.") from exc
    missing = [k for k in required if k not in data]
    if missing:
        raise DataFormatError(path, f"lacks the array(s) {missing}.",
                              "delete it and rerun the workflow.")
    return data


def _meta(data: dict[str, np.ndarray], key: str) -> str:
    return str(data[key]) if key in data else "unknown"


def weight_source(cfg: dict[str, Any]) -> GaussianWeightSource:
    kind = cfg.get("source", "gaussian")
    if kind != "gaussian":
        raise ValueError(f"unknown weight source {kind!r}")
    return GaussianWeightSource(const=cfg["const"], sigma_g=cfg["sigma_g"],
                                mean_g=cfg["mean_g"], grid_bits=cfg["grid_bits"])


def encode_features(
    frames_path: str | Path, encoder: dict[str, Any], seeds: list[int], device: str,
    out_path: str | Path, provenance_path: str | Path, encoder_name: str = "",
) -> dict[str, Any]:
    """Encode the train/val/test frames with one reservoir per seed.

    Output arrays: ``{split}_s{seed}`` float32 features [N, R], ``y_{split}`` labels, and
    the metadata ``data_source`` and ``generator_version`` copied from the frames.
    Returns summary statistics (mean firing rate per seed).
    """
    req = tuple(f"{p}_{s}" for s in SPLITS for p in ("x", "y"))
    data = load_npz(frames_path, req)
    lif = LIFParams(decay=encoder["decay"], v_th=encoder["v_th"])
    src = weight_source(encoder["weights"])
    n_in = int(data["x_train"].shape[2])
    n_t = int(data["x_train"].shape[1])
    out: dict[str, np.ndarray] = {f"y_{s}": data[f"y_{s}"] for s in SPLITS}
    out["data_source"] = data.get("data_source", np.array("unknown"))
    out["generator_version"] = data.get("generator_version", np.array("unknown"))
    out["time_steps"] = np.array(n_t)
    stats: dict[str, Any] = {"n_in": n_in, "time_steps": n_t, "mean_spikes_per_neuron_step": {}}
    t0 = time.perf_counter()
    for seed in seeds:
        w = src.sample(n_in, encoder["n_res"], seed)
        for s in SPLITS:
            out[f"{s}_s{seed}"] = encode(data[f"x_{s}"], w, lif, encoder["batch_size"], device,
                                         output="counts")
        # Mean spikes per neuron per step, a check that the reservoir is neither silent
        # nor saturated (features are counts; rates are derived by the readout if asked).
        stats["mean_spikes_per_neuron_step"][seed] = float(out[f"train_s{seed}"].mean() / n_t)
    stats["encode_seconds"] = time.perf_counter() - t0
    atomic.write_npz(out_path, **out)
    atomic.write_json(provenance_path, provenance(
        params={"encoder": encoder_name, **encoder}, seeds=seeds, device=device,
        data_source=_meta(data, "data_source"),
        generator_version=_meta(data, "generator_version"), stats=stats))
    return stats


def supervised_readout(
    features_path: str | Path, readout: dict[str, Any], seeds: list[int], *,
    dataset: str, model: str, variant: str, feature_scale: str,
    metrics_path: str | Path, curves_path: str | Path, confusion_path: str | Path,
    provenance_path: str | Path, run_name: str = "",
) -> dict[str, Any]:
    """Train a linear readout per seed on that seed's reservoir features.

    Selection: epoch with the best validation accuracy. Test: evaluated once, on that
    epoch. Writes metrics (per-seed records), learning curves, the test confusion matrix
    summed over seeds, and provenance. Returns the metrics document.
    """
    import pandas as pd

    data = load_npz(features_path, ("y_train", "y_val", "y_test", "time_steps"))
    cfg = ReadoutConfig(**readout)
    n_classes = int(max(data["y_train"].max(), data["y_test"].max()) + 1)
    records, curves = [], []
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    for seed in seeds:
        feats = {}
        for s in SPLITS:
            key = f"{s}_s{seed}"
            if key not in data:
                raise DataFormatError(features_path, f"has no features for seed {seed} ({key}).",
                                      "encode with the same seed list as the readout.")
            f = data[key]
            feats[s] = f / float(data["time_steps"]) if feature_scale == "rates" else f
        res = train_linear_readout(feats["train"], data["y_train"], feats["val"], data["y_val"],
                                   n_classes, cfg, seed)
        pred = predict(res.model, feats["test"])
        test_acc = float((pred == data["y_test"]).mean() * 100.0)
        np.add.at(confusion, (data["y_test"], pred), 1)
        chance = 100.0 / n_classes
        records += [
            {"seed": seed, "split": "test", "metric": "accuracy", "value": test_acc,
             "unit": "%", "chance": chance},
            {"seed": seed, "split": "val", "metric": "accuracy", "value": res.best_val_acc,
             "unit": "%", "chance": chance},
            {"seed": seed, "split": "train", "metric": "train_seconds",
             "value": res.train_seconds, "unit": "s"},
            {"seed": seed, "split": "train", "metric": "optimizer_steps",
             "value": res.optimizer_steps, "unit": "steps"},
            {"seed": seed, "split": "train", "metric": "trainable_params",
             "value": res.n_params, "unit": "params"},
            {"seed": seed, "split": "train", "metric": "best_epoch",
             "value": res.best_epoch, "unit": "epoch"},
        ]
        curves += [{"seed": seed, "epoch": e + 1, "val_accuracy": v, "train_loss": loss}
                   for e, (v, loss) in enumerate(zip(res.val_curve, res.train_loss, strict=True))]
    source = _meta(data, "data_source")
    doc = metrics_doc(experiment="supervised", dataset=dataset, model=model, variant=variant,
                      data_source=source, selection="val", records=records, run=run_name)
    atomic.write_json(metrics_path, doc)
    with atomic.atomic_path(curves_path) as tmp:
        pd.DataFrame(curves).to_csv(tmp, index=False)
    with atomic.atomic_path(confusion_path) as tmp:
        pd.DataFrame(confusion).to_csv(tmp)
    atomic.write_json(provenance_path, provenance(
        params={"run": run_name, "readout": readout, "feature_scale": feature_scale},
        seeds=seeds, data_source=source,
        generator_version=_meta(data, "generator_version")))
    return doc
