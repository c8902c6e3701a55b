"""Typed run specifications and the one writer every stage ends with.

A stage is three steps: load its inputs, fit (a pure function of the inputs and a spec,
returning a :class:`StageResult`), and :func:`write_stage`, which writes the metrics
document, the curves, any further tables and arrays, and the provenance, each atomically
(a temporary name, then a rename), provenance last: an output set with its provenance is
complete. The specs replace the 15-20 keyword arguments the stage functions once took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lsm import atomic
from lsm.provenance import provenance


@dataclass(frozen=True)
class RunLabels:
    """How a run's rows read in the tables (the results contract's text fields)."""

    dataset: str
    model: str
    variant: str
    run: str = ""  # the run's name in the config (ratios and figures find it by this)


@dataclass(frozen=True)
class SupervisedSpec:
    """One supervised run: a model `kind` (registered, or ``module:Class``) with its
    `params`, trained under `train` (lsm.models.training.TrainConfig's fields) per seed;
    `tuning` (``{"grid": ..., "halving": ...}``) picks lr and batch size on the first
    seed's validation split; `feature_scale` ("counts" or "rates") for feature models."""

    kind: str
    params: Mapping[str, Any]
    train: Mapping[str, Any]
    seeds: Sequence[int]
    labels: RunLabels
    feature_scale: str = "counts"
    tuning: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ZeroShotSpec:
    """One zero-shot run: a pair model `kind` with its `params` (head, loss, temperature,
    feature_scale, encoder settings), trained under `train` per projection dimension in
    `proj_dims` and seed; `pairing` (seen, unseen, pair counts, select); `experiment`
    names the table; `modalities` the query and gallery tags (metric names a2i_...)."""

    kind: str
    params: Mapping[str, Any]
    train: Mapping[str, Any]
    pairing: Mapping[str, Any]
    proj_dims: Sequence[int]
    seeds: Sequence[int]
    labels: RunLabels
    experiment: str
    modalities: tuple[str, str]


@dataclass(frozen=True)
class StageOutputs:
    """Where a stage writes: the metrics document (None: a stage without one), its
    provenance, the per-epoch curves, and further CSV tables and .npz arrays by role
    (e.g. ``{"confusion": path}``, ``{"embeddings": path}``)."""

    provenance: str | Path
    metrics: str | Path | None = None
    curves: str | Path | None = None
    tables: Mapping[str, str | Path | None] = field(default_factory=dict)
    arrays: Mapping[str, str | Path | None] = field(default_factory=dict)


@dataclass
class StageResult:
    """What a stage's fit returns: the metrics document, the provenance's fields
    (:func:`lsm.provenance.provenance`'s keyword arguments), curves as rows, and further
    tables (DataFrames or rows) and arrays by the roles of :class:`StageOutputs`."""

    doc: dict[str, Any] | None
    provenance: dict[str, Any]
    curves: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # a CSV's index (e.g. the confusion matrix's class labels), by table role
    indexed: tuple[str, ...] = ()


def write_stage(result: StageResult, out: StageOutputs) -> dict[str, Any] | None:
    """Write everything `result` holds to `out`, each file atomically, provenance last;
    a role `out` leaves at None is not written. Returns the metrics document."""
    import pandas as pd

    for role in result.tables:
        if role not in out.tables:
            raise ValueError(f"the stage made a '{role}' table but its outputs have no path "
                             f"for it (outputs: {sorted(out.tables)})")
    for role in result.arrays:
        if role not in out.arrays:
            raise ValueError(f"the stage made '{role}' arrays but its outputs have no path "
                             f"for them (outputs: {sorted(out.arrays)})")
    if out.metrics is not None and result.doc is not None:
        atomic.write_json(out.metrics, result.doc)
    if out.curves is not None:
        with atomic.atomic_path(out.curves) as tmp:
            pd.DataFrame(result.curves).to_csv(tmp, index=False)
    for role, table in result.tables.items():
        path = out.tables[role]
        if path is None:
            continue
        df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        with atomic.atomic_path(path) as tmp:
            df.to_csv(tmp, index=role in result.indexed)
    for role, arrays in result.arrays.items():
        path = out.arrays[role]
        if path is not None:
            atomic.write_npz(path, **arrays)
    atomic.write_json(out.provenance, provenance(**result.provenance))
    return result.doc
