"""Crossbar-variability study: how much device non-ideality can the readout tolerate?

For each reservoir seed, the *nominal* chip (stochastic-SET conductances, ideal reads) is
encoded and a readout is trained on it. Then, for every point of every axis (the other
non-idealities at their configured defaults), the *deployed* chip is encoded and the test
accuracy is measured two ways:

* ``trained on ideal``: the readout of the nominal chip, tested on deployed-chip features;
* ``variability-aware``: a readout trained (and epoch-selected on validation) on features
  of the deployed chip itself, tested on it.

Read noise is drawn afresh on every read, also while encoding the training split of the
variability-aware readout, so that readout sees the noise it will meet.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from lsm.models.readout import predict, train_linear_readout
from lsm.models.training import TrainConfig
from lsm.reservoir.crossbar import RRAMParams, RRAMWeightSource
from lsm.reservoir.network import LIFParams, encode


def axis_change(axis: str, value: float) -> dict[str, Any]:
    """The RRAMParams fields one axis point sets."""
    if axis == "bits":
        return {"levels": 2 ** int(value) if value > 0 else 0}
    if axis == "p_stuck":
        return {"p_stuck_on": value / 2, "p_stuck_off": value / 2}
    if axis in ("read_sigma", "prog_sigma_us", "drift_t_s"):
        return {axis: value}
    raise ValueError(f"unknown variability axis {axis!r}")


# Split-specific read-noise streams, so train, val and test reads are independent.
_SPLIT_KEY = {"train": 1, "val": 2, "test": 3}


def _acc(model, f: np.ndarray, y: np.ndarray) -> float:
    return float((predict(model, f) == y).mean() * 100.0)


def sweep(data: dict[str, np.ndarray], lif: LIFParams, base: RRAMParams, n_res: int,
          readout: TrainConfig, axes: dict[str, list[float]], seeds: list[int],
          batch_size: int = 500, progress: bool = True) -> list[dict[str, Any]]:
    """Per-seed records: ``{seed, axis, value, training, accuracy}`` (test, percent)."""
    from tqdm import tqdm

    x = {s: data[f"x_{s}"] for s in ("train", "val", "test")}
    y = {s: data[f"y_{s}"] for s in ("train", "val", "test")}
    n_classes = int(max(y["train"].max(), y["test"].max()) + 1)
    n_in = x["train"].shape[2]
    points = [(a, v) for a, vals in axes.items() for v in vals]
    out = []
    bar = tqdm(total=len(seeds) * len(points), desc="variability", disable=not progress,
               mininterval=2)
    for seed in seeds:
        nominal = RRAMWeightSource(base).program(n_in, n_res, seed, ideal=True)
        f_nom = {s: encode(x[s], nominal.weights(), lif, batch_size) for s in x}
        ideal = train_linear_readout(f_nom["train"], y["train"], f_nom["val"], y["val"],
                                     n_classes, readout, seed)
        out.append({"seed": seed, "axis": "none", "value": 0.0, "training": "nominal chip",
                    "accuracy": _acc(ideal.model, f_nom["test"], y["test"])})
        for axis, value in points:
            params = replace(base, **axis_change(axis, value))
            chip = RRAMWeightSource(params).program(n_in, n_res, seed)
            f = {s: chip.encode(x[s], lif, seed * 10 + _SPLIT_KEY[s], batch_size) for s in x}
            aware = train_linear_readout(f["train"], y["train"], f["val"], y["val"],
                                         n_classes, readout, seed)
            for training, model in (("trained on ideal", ideal.model),
                                    ("variability-aware", aware.model)):
                out.append({"seed": seed, "axis": axis, "value": float(value),
                            "training": training,
                            "accuracy": _acc(model, f["test"], y["test"])})
            bar.update()
    bar.close()
    return out


def as_metric_records(rows: list[dict[str, Any]], n_classes: int) -> list[dict[str, Any]]:
    """Sweep rows as results-contract records (variant = ``axis=value``)."""
    return [{"seed": r["seed"], "split": "test", "metric": "accuracy", "value": r["accuracy"],
             "unit": "%", "chance": 100.0 / n_classes,
             "model": f"LSM-RRAM ({r['training']})",
             "variant": "nominal" if r["axis"] == "none" else f"{r['axis']}={r['value']:g}"}
            for r in rows]
