"""Workload metrics of a reservoir, in NeuroBench's vocabulary, measured on real inputs.

Per sample (means over the samples):

* ``effective_synops``: accumulate operations actually performed by an event-driven
  reservoir: every non-zero input drives one row of W_in (R accumulates) and every spike
  drives one row of W_rec at the next step (R accumulates). Spikes at the last step are
  counted too, so this is an upper bound by at most R per final-step spike.
* ``dense_synops``: multiply-accumulates of the dense equivalent, ``T (C + R) R``.
* ``activation_sparsity``: share of (neuron, step) pairs without a spike.
* ``mean_rate``: spikes per neuron per step; ``membrane_updates``: ``T R``.
* ``input_density``: share of non-zero inputs.

Static footprint: ``weights`` ``(C + R) R``, ``cells`` (two per weight, differential) and
``arrays`` of the configured size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lsm.errors import DataFormatError
from lsm.reservoir.crossbar import RRAMParams, footprint


def workload(x: np.ndarray, counts: np.ndarray, array: RRAMParams | None = None
             ) -> dict[str, float]:
    n, n_t, n_in = x.shape
    n_res = counts.shape[1]
    in_events = np.count_nonzero(x.reshape(n, -1), axis=1)
    spikes = counts.sum(axis=1)
    fp = footprint(n_in, n_res, array or RRAMParams())
    return {
        "effective_synops": float(((in_events + spikes) * n_res).mean()),
        "dense_synops": float(n_t * (n_in + n_res) * n_res),
        "activation_sparsity": float(1.0 - spikes.sum() / (n * n_t * n_res)),
        "mean_rate": float(spikes.sum() / (n * n_t * n_res)),
        "membrane_updates": float(n_t * n_res),
        "input_density": float(in_events.sum() / (n * n_t * n_in)),
        "weights": float(fp.weights),
        "cells": float(fp.cells),
        "arrays": float(fp.arrays),
    }


UNITS = {"effective_synops": "ACs/sample", "dense_synops": "MACs/sample",
         "activation_sparsity": "", "mean_rate": "spikes/neuron/step",
         "membrane_updates": "updates/sample", "input_density": "", "weights": "weights",
         "cells": "cells", "arrays": "arrays"}


# ------------------------------------------------- the workload file: the one reader


def read_workload(path: str | Path) -> tuple[dict[int, dict[str, float]], str]:
    """A workload metrics file (:mod:`lsm.reservoir.workload` metrics per seed, as the encode stage
    writes them): ``({seed: {metric: value}}, data_source)``, or a
    :class:`DataFormatError` naming the file, the record and the field."""
    from lsm.results.contract import check_records, read_json

    path = Path(path)
    fix = "delete it and rerun the encode rule that writes it."
    doc = read_json(path, "workload metrics", fix)
    if not isinstance(doc, dict):
        raise DataFormatError(path, f"holds a JSON {type(doc).__name__}, not a workload "
                              "metrics object (with data_source and records).", fix)
    if "data_source" not in doc or "records" not in doc:
        missing = [k for k in ("data_source", "records") if k not in doc]
        raise DataFormatError(path, f"workload metrics file lacks the key(s) {missing}.", fix)
    if not isinstance(doc["data_source"], str) or not doc["data_source"]:
        raise DataFormatError(path, f"field 'data_source' is {doc['data_source']!r}, not "
                              "text (simulated or real).", fix)
    per_seed: dict[int, dict[str, float]] = {}
    for r in check_records(doc["records"], path, split=False, fix=fix):
        per_seed.setdefault(r["seed"], {})[r["metric"]] = float(r["value"])
    return per_seed, doc["data_source"]


def encode_cost(workload_path: str | Path | None, seed: int, n_samples: int,
                split: str = "train") -> tuple[float, float]:
    """One-time encoding MACs of `n_samples` samples of `split`: dense, and event-driven
    (measured on that split: ``train_effective_synops`` for the training samples that
    training bills, ``effective_synops`` of the test split for inference). No path: no
    frozen encoder, (0, 0)."""
    if not workload_path:
        return 0.0, 0.0
    per_seed, _ = read_workload(workload_path)  # a bad file names itself and the field
    per = per_seed.get(seed)
    if not per:
        raise DataFormatError(workload_path, f"has no workload records for seed {seed}.",
                              "encode with the same seed list as the runs that read it.")
    events = "train_effective_synops" if split == "train" else "effective_synops"
    missing = [m for m in ("dense_synops", events) if m not in per]
    if missing:
        raise DataFormatError(workload_path, f"lacks the workload metric(s) {missing} for "
                              f"seed {seed}.", "delete it and rerun the encode rule.")
    negative = [m for m in ("dense_synops", events) if per[m] < 0]
    if negative:
        raise DataFormatError(workload_path, f"workload metric(s) {negative} of seed {seed} "
                              "are negative, not counts.", "delete it and rerun the encode "
                              "rule.")
    return per["dense_synops"] * n_samples, per[events] * n_samples
