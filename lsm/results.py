"""The results contract: per-job metrics JSON -> long-format tables (CSV + Markdown).

A metrics file (one per job) holds per-seed records; :func:`aggregate` turns any number of
them into one long table with the contract's columns. Nothing here knows about specific
models, so a new baseline appears in the tables without code changes.

Statistics: ``mean`` and ``std`` over seeds; ``std`` is the sample standard deviation
(ddof = 1), and 0 for a single seed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lsm import atomic
from lsm.errors import DataFormatError
from lsm.paper import paper_value

COLUMNS = [
    "experiment", "dataset", "model", "variant", "split", "metric",
    "mean", "std", "n_seeds", "paper", "data_source", "selection",
    "chance", "unit",
]
_KEYS = ["experiment", "dataset", "model", "variant", "split", "metric"]
_REQUIRED = ["experiment", "dataset", "model", "variant", "data_source", "selection", "records"]


def metrics_doc(
    *, experiment: str, dataset: str, model: str, variant: str, data_source: str,
    selection: str, records: list[dict[str, Any]], **extra: Any,
) -> dict[str, Any]:
    """Build a metrics document. Each record: seed, split, metric, value, and optionally
    unit and chance (both constant per split and metric)."""
    for r in records:
        missing = {"seed", "split", "metric", "value"} - set(r)
        if missing:
            raise ValueError(f"metrics record {r} lacks {sorted(missing)}")
    return {"experiment": experiment, "dataset": dataset, "model": model, "variant": variant,
            "data_source": data_source, "selection": selection, "records": records, **extra}


def read_metrics(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"cannot read metrics JSON ({exc}).",
                              "delete it and rerun the workflow.") from exc
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise DataFormatError(path, f"metrics file lacks the key(s) {missing}.")
    return doc


def is_timing(record: dict[str, Any]) -> bool:
    """Wall-clock measurements (unit "s") depend on the machine and its load, so they go to
    separate timing tables; every other table is bit-identical across reruns on CPU."""
    return record.get("unit") == "s"


def aggregate(docs: Iterable[dict[str, Any]], timing: bool = False) -> pd.DataFrame:
    """Long table with mean, std and n_seeds per (experiment .. metric).

    With ``timing=False`` (default) wall-clock records are left out; with ``timing=True``
    only they are kept.
    """
    rows = []
    for doc in docs:
        for r in doc["records"]:
            if is_timing(r) != timing:
                continue
            # a record may override the document's model and variant (one job, many rows)
            rows.append({**{k: doc[k] for k in ("experiment", "dataset", "data_source",
                                               "selection")},
                         "model": r.get("model", doc["model"]),
                         "variant": r.get("variant", doc["variant"]),
                         "split": r["split"], "metric": r["metric"], "seed": r["seed"],
                         "value": float(r["value"]), "chance": r.get("chance"),
                         "unit": r.get("unit", "")})
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.DataFrame(rows)
    out = []
    for key, g in df.groupby(_KEYS, sort=False):
        seeds = g["seed"].tolist()
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"duplicate seeds {seeds} for {dict(zip(_KEYS, key, strict=True))}")
        sources = set(g["data_source"])
        vals = g["value"].to_numpy()
        row = dict(zip(_KEYS, key, strict=True))
        pv = paper_value(*key)
        row.update(
            mean=float(vals.mean()),
            std=float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
            n_seeds=int(vals.size),
            paper=pv if pv is not None else np.nan,
            data_source="+".join(sorted(sources)),
            selection="+".join(sorted(set(g["selection"]))),
            chance=g["chance"].iloc[0] if g["chance"].notna().any() else np.nan,
            unit=g["unit"].iloc[0],
        )
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def _fmt(mean: float, std: float, n: int, unit: str) -> str:
    u = "" if unit in ("%", "") else f" {unit}"
    if abs(mean) >= 1e6:  # operation counts: scientific notation reads better
        return f"{mean:.3e} ± {std:.2e}{u} (n={n})"
    if unit == "%":
        prec = 2
    elif float(mean).is_integer() and std == 0:
        prec = 0
    else:
        prec = 3 if abs(mean) < 100 else 1
    return f"{mean:.{prec}f} ± {std:.{prec}f}{u} (n={n})"


def to_markdown(df: pd.DataFrame, title: str, caption: str) -> str:
    """A human-readable table: ours (mean ± std, n) beside the paper's value."""
    shown = pd.DataFrame({
        "dataset": df["dataset"], "model": df["model"], "variant": df["variant"],
        "split": df["split"], "metric": df["metric"],
        "ours (mean ± std over seeds)": [
            _fmt(m, s, n, u) for m, s, n, u in zip(df["mean"], df["std"], df["n_seeds"],
                                                   df["unit"], strict=True)],
        "paper (single run, test-selected)": [
            "" if pd.isna(p) else f"{p:.2f}" for p in df["paper"]],
        "chance": ["" if pd.isna(c) else f"{c:.2f}" for c in df["chance"]],
        "data": df["data_source"], "selection": df["selection"],
    })
    return f"# {title}\n\n{caption}\n\n{shown.to_markdown(index=False)}\n"


def data_caption(sources: Iterable[str]) -> str:
    """The sentence every caption carries about where the data came from."""
    s = set()
    for src in sources:
        s.update(src.split("+"))
    if "simulated" in s:
        return ("**Data: SIMULATED** offline substitutes of the paper's recordings (see the "
                "data cards in the README), not the recordings themselves; numbers are not "
                "directly comparable to the paper's.")
    return "Data: real datasets."


def write_table(df: pd.DataFrame, csv_path: str | Path, title: str, caption: str) -> None:
    """Write the CSV and its Markdown rendering next to it, both atomically."""
    csv_path = Path(csv_path)
    with atomic.atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    full_caption = f"{caption} {data_caption(df['data_source'])}".strip()
    atomic.write_text(csv_path.with_suffix(".md"), to_markdown(df, title, full_caption))
