"""The results contract: per-job metrics JSON -> long-format tables (CSV + Markdown).

A metrics file (one per job) holds per-seed records; :func:`aggregate` turns any number of
them into one long table with the contract's columns. Nothing here knows about specific
models, so a new baseline appears in the tables without code changes.

Statistics: ``mean`` and ``std`` over seeds; ``std`` is the sample standard deviation
(ddof = 1), and 0 for a single seed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lsm import atomic
from lsm.errors import DataFormatError
from lsm.results.paper import paper_value
from lsm.results.stats import binom_test_above, bootstrap_ci, t_test_above

# 'software pd=64': how metrics written before pd became its own field (0.1.0's first
# results) packed the projection dimension into the variant text (a ratio's variant,
# "software pd=64 / software pd=128", still names both and has a '/')
_OLD_PD = re.compile(r"^[^/]* pd=\d+(,|$)")

COLUMNS = [
    "experiment", "dataset", "model", "variant", "pd", "split", "metric",
    "mean", "std", "n_seeds", "paper", "data_source", "selection",
    "chance", "unit", "ci95_low", "ci95_high", "p_above_chance_t", "p_above_chance_binom",
]
# the statistics columns (lsm.results.stats): empty where n < 2, or where there is no chance
# level (p-values) or no query count (binomial)
STAT_COLUMNS = COLUMNS[-4:]
# the variants of the power analysis's rows (lsm.zeroshot.power: "<variant>, R reservoirs x H
# heads", "<variant>, unseen 8+9 (R x H)", "<variant>, rotated unseen pairs (...)"): summary
# rows of many runs, kept apart from the per-run-family rows in headlines and figures
POWER_VARIANTS = r" reservoirs x |, unseen |rotated unseen"
# rows that are not comparable to the paper's reported number (lsm.zeroshot.power)
NO_PAPER_SELECTIONS = ("best unseen epoch (test-selected)", "untrained head")
# "pd": the projection dimension of a zero-shot row, a sweep axis of its own (empty for
# rows without one); never folded into the variant text
_KEYS = ["experiment", "dataset", "model", "variant", "pd", "split", "metric"]
MAX_PD = 100_000
_REQUIRED = ["experiment", "dataset", "model", "variant", "data_source", "selection", "records"]


def metrics_doc(
    *, experiment: str, dataset: str, model: str, variant: str, data_source: str,
    selection: str, records: list[dict[str, Any]], **extra: Any,
) -> dict[str, Any]:
    """Build a metrics document. Each record: seed, split, metric, value, and optionally
    unit and chance (both constant per split and metric), and pd (the projection
    dimension of a zero-shot row)."""
    for r in records:
        missing = {"seed", "split", "metric", "value"} - set(r)
        if missing:
            raise ValueError(f"metrics record {r} lacks {sorted(missing)}")
    return {"experiment": experiment, "dataset": dataset, "model": model, "variant": variant,
            "data_source": data_source, "selection": selection, "records": records, **extra}


MAX_INT = 2**53  # the largest integer a JSON number (a float) holds exactly
_TEXT = ["experiment", "dataset", "model", "variant", "data_source", "selection"]


class DuplicateRowsError(DataFormatError, ValueError):
    """The same seed of one table row, twice (in one file or across files)."""


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean",
            int: "an integer", float: "a float", type(None): "JSON null"}.get(
                type(v), f"a {type(v).__name__}")


def is_number(v: Any) -> bool:
    """A finite real number (int or float; a bool is not a number here)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an int beyond the float range
        return False


def _show(v: Any) -> str:
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_INT:
        return f"an integer of {v.bit_length()} bits"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def read_json(path: str | Path, what: str, fix: str) -> Any:
    """A JSON file as Python, or a :class:`DataFormatError` naming the file: missing or
    unreadable, not UTF-8 text, or not valid JSON."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(path, f"cannot read {what} ({exc.strerror or exc}).",
                              fix) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"cannot read {what}: not UTF-8 text (byte "
                              f"0x{raw[exc.start]:02x} at offset {exc.start}).", fix) from exc
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, a huge int literal
        raise DataFormatError(path, f"cannot read {what} ({exc}).", fix) from exc


def check_records(records: Any, path: str | Path, split: bool = True,
                  fix: str = "delete it and rerun the workflow.") -> list[dict[str, Any]]:
    """The ``records`` of a metrics document, by the results contract: a non-empty list
    of objects, each with an integer ``seed`` (0 .. 2**53), a text ``metric``, a finite
    number ``value`` (not a boolean), a text ``split`` (with `split`), optional text
    ``model``, ``variant``, ``unit`` and ``selection`` (overriding the document's), an
    optional finite ``chance``, an optional integer ``n_queries`` and an optional
    projection dimension ``pd`` (1 .. 100000); no (seed, model, variant, pd, split, metric,
    selection) twice. A :class:`DataFormatError` names the file, the record
    index and the field."""
    if not isinstance(records, list):
        raise DataFormatError(path, f"field 'records' is {_kind(records)}, not a list of "
                              "records.", fix)
    if not records:
        raise DataFormatError(path, "field 'records' is empty: the job recorded no "
                              "metrics.", fix)
    need = ["seed", "split", "metric", "value"] if split else ["seed", "metric", "value"]
    first: dict[tuple, int] = {}
    for i, r in enumerate(records):
        at = f"records[{i}]"
        if not isinstance(r, dict):
            raise DataFormatError(path, f"{at} is {_kind(r)} ({_show(r)}), not an object with "
                                  f"the fields {need}.", fix)
        missing = [k for k in need if k not in r]
        if missing:
            raise DataFormatError(path, f"{at} lacks the field(s) {missing}.", fix)
        seed = r["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_INT:
            raise DataFormatError(path, f"{at}.seed is {_show(seed)} ({_kind(seed)}), not a "
                                  "seed (an integer from 0 to 2**53).", fix)
        for key in ("metric", *(("split",) if split else ())):
            if not isinstance(r[key], str) or not r[key]:
                raise DataFormatError(path, f"{at}.{key} is {_show(r[key])} "
                                      f"({_kind(r[key])}), not a name (non-empty text).", fix)
        for key in ("model", "variant", "unit", "selection", *(() if split else ("split",))):
            if key in r and not isinstance(r[key], str):
                raise DataFormatError(path, f"{at}.{key} is {_show(r[key])} "
                                      f"({_kind(r[key])}), not text.", fix)
        if not is_number(r["value"]):
            raise DataFormatError(path, f"{at}.value is {_show(r['value'])} "
                                  f"({_kind(r['value'])}), not a finite number "
                                  f"(metric '{r['metric']}', seed {seed}).", fix)
        if r.get("chance") is not None and not is_number(r["chance"]):
            raise DataFormatError(path, f"{at}.chance is {_show(r['chance'])} "
                                  f"({_kind(r['chance'])}), not a finite number or null.", fix)
        nq = r.get("n_queries")
        if nq is not None and (isinstance(nq, bool) or not isinstance(nq, int) or nq < 0):
            raise DataFormatError(path, f"{at}.n_queries is {_show(nq)} ({_kind(nq)}), not a "
                                  "count of queries (an integer >= 0).", fix)
        pd_ = r.get("pd")
        if pd_ is not None and (isinstance(pd_, bool) or not isinstance(pd_, int)
                                or not 1 <= pd_ <= MAX_PD):
            raise DataFormatError(path, f"{at}.pd is {_show(pd_)} ({_kind(pd_)}), not a "
                                  f"projection dimension (an integer from 1 to {MAX_PD}).", fix)
        if pd_ is None and _OLD_PD.search(r.get("variant") or ""):
            raise DataFormatError(path, f"{at}.variant is {r['variant']!r}: the projection "
                                  "dimension inside the variant text is the format of an "
                                  "older LSM-Bench (pd is now its own field), so its rows "
                                  "would be grouped wrongly.", "delete it and rerun the "
                                  "workflow to rewrite it in the current format.")
        key = (seed, r.get("model"), r.get("variant"), pd_, r.get("split"), r["metric"],
               r.get("selection"))
        if key in first:
            raise DuplicateRowsError(path, f"{at} repeats records[{first[key]}] (seed {seed}, "
                                     f"split {r.get('split')!r}, metric {r['metric']!r}"
                                     + "".join(f", {k} {r[k]!r}" for k in ("model", "variant",
                                                                          "pd", "selection")
                                               if k in r)
                                     + "): one seed counted twice would skew the mean.", fix)
        first[key] = i
    return records


def check_doc(doc: Any, path: str | Path, fix: str = "delete it and rerun the workflow.",
              split: bool = True) -> dict[str, Any]:
    """A metrics document by the results contract (:func:`metrics_doc`): an object with
    text fields experiment .. selection and valid ``records`` (:func:`check_records`;
    `split`: every record must name its split, as a table needs)."""
    if not isinstance(doc, dict):
        raise DataFormatError(path, f"holds {_kind(doc)}, not a metrics object (with the "
                              f"keys {_REQUIRED}).", fix)
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise DataFormatError(path, f"metrics file lacks the key(s) {missing}.", fix)
    for k in _TEXT:
        if not isinstance(doc[k], str):
            raise DataFormatError(path, f"field '{k}' is {_show(doc[k])} ({_kind(doc[k])}), "
                                  "not text.", fix)
    check_records(doc["records"], path, split=split, fix=fix)
    return doc


def read_metrics(path: str | Path, split: bool = True) -> dict[str, Any]:
    """A metrics JSON file, checked against the results contract (:func:`check_doc`;
    ``split=False``: for a reader of per-seed values that needs no split, such as the
    workload metrics a training stage reads)."""
    fix = "delete it and rerun the workflow."
    return check_doc(read_json(path, "metrics JSON", fix), Path(path), fix, split)


def read_table(path: str | Path, columns: list[str] = COLUMNS) -> pd.DataFrame:
    """A results table (CSV with the contract's `columns`), as :func:`write_table` wrote
    it, or a :class:`DataFormatError` naming the file: missing, empty, not UTF-8, not a
    CSV, a missing column, or text where the statistics must be numbers."""
    path = Path(path)
    fix = "delete it and rerun the workflow rule that writes it (lsm results aggregate)."
    if not path.is_file():
        raise DataFormatError(path, "file not found." if not path.exists() else
                              "is not a file.", fix)
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise DataFormatError(path, "is empty (not even a header line): not a results "
                              "table.", fix) from exc
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"is not UTF-8 text (byte offset {exc.start}): not a "
                              "results table.", fix) from exc
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataFormatError(path, f"is not a readable CSV table ({exc}).".replace("\n", " "),
                              fix) from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = [str(c) for c in df.columns[:8]] + (["..."] if len(df.columns) > 8 else [])
        raise DataFormatError(path, f"lacks the results-table column(s) {missing} (it has "
                              f"{have}).", fix)
    if len(df):
        for c in ("mean", "std", "n_seeds", "paper", "chance"):
            if c in columns and not pd.api.types.is_numeric_dtype(df[c]):
                raise DataFormatError(path, f"column '{c}' holds {_not_number(df[c])!r}, not "
                                      "a number.", fix)
    return df


def _not_number(col: pd.Series) -> Any:
    """The first cell of a text column that is not a number."""
    for v in col:
        if isinstance(v, str):
            try:
                float(v)
            except ValueError:
                return v
    return col.iloc[0]


def is_timing(record: dict[str, Any]) -> bool:
    """Wall-clock measurements (unit "s") depend on the machine and its load, so they go to
    separate timing tables; every other table is bit-identical across reruns on CPU."""
    return record.get("unit") == "s"


def aggregate(docs: Iterable[dict[str, Any]], timing: bool = False,
              paths: list[str | Path] | None = None) -> pd.DataFrame:
    """Long table with mean, std and n_seeds per (experiment .. metric).

    With ``timing=False`` (default) wall-clock records are left out; with ``timing=True``
    only they are kept. A seed given twice for one row raises :class:`DuplicateRowsError`
    (naming the files, when `paths` lists the documents' files).
    """
    rows = []
    for d, doc in enumerate(docs):
        for r in doc["records"]:
            if is_timing(r) != timing:
                continue
            # a record may override the document's model and variant (one job, many rows)
            # ... and its selection rule (test-selected analysis rows beside the val rows)
            rows.append({**{k: doc[k] for k in ("experiment", "dataset", "data_source")},
                         "selection": r.get("selection", doc["selection"]),
                         "model": r.get("model", doc["model"]),
                         "variant": r.get("variant", doc["variant"]),
                         "pd": r.get("pd"), "split": r["split"], "metric": r["metric"],
                         "seed": r["seed"],
                         "value": float(r["value"]), "chance": r.get("chance"),
                         "unit": r.get("unit", ""), "n_queries": r.get("n_queries"),
                         "_doc": d})
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.DataFrame(rows)
    df["pd"] = df["pd"].astype("Int64")  # integers, empty where a row has no pd
    out = []
    for key, g in df.groupby([*_KEYS, "selection"], sort=False, dropna=False):
        key = key[:-1]
        key = (*key[:4], None if pd.isna(key[4]) else int(key[4]), *key[5:])
        seeds = g["seed"].tolist()
        if len(set(seeds)) != len(seeds):
            dup = next(x for x in seeds if seeds.count(x) > 1)
            where = sorted(set(g.loc[g["seed"] == dup, "_doc"]))
            files = [str(paths[i]) for i in where] if paths is not None else []
            raise DuplicateRowsError(
                files[0] if files else "<metrics documents>",
                f"duplicate seeds {seeds} for {dict(zip(_KEYS, key, strict=True))}"
                + (f" (seed {dup} in {files})" if files else "")
                + ": two runs give the same table row.",
                "give the runs different model or variant names, or pass each metrics file "
                "once.")
        sources = set(g["data_source"])
        vals = g["value"].to_numpy()
        row = dict(zip(_KEYS, key, strict=True))
        sel = g["selection"].iloc[0]
        # the paper's value stands beside our honest rows and beside its own rule's rows,
        # not beside the untrained heads or the best-test-epoch ceiling
        pv = None if sel in NO_PAPER_SELECTIONS else paper_value(*key)
        chance = g["chance"].iloc[0] if g["chance"].notna().any() else np.nan
        # a value chosen on the test set (e.g. >= 85 by the rule's threshold) has no
        # sampling distribution a CI or a test against chance could describe
        test_selected = "test-selected" in sel
        lo, hi = (np.nan, np.nan) if test_selected else bootstrap_ci(vals)
        chance_p = np.nan if test_selected else chance
        nq = g["n_queries"].dropna()
        row.update(
            ci95_low=lo, ci95_high=hi,
            p_above_chance_t=t_test_above(vals, chance_p) if pd.notna(chance_p) else np.nan,
            p_above_chance_binom=(binom_test_above(g.loc[nq.index, "value"].to_numpy(),
                                                   nq.to_numpy(), chance_p)
                                  if pd.notna(chance_p) and len(nq) == len(g) else np.nan),
            mean=float(vals.mean()),
            std=float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
            n_seeds=int(vals.size),
            paper=pv if pv is not None else np.nan,
            data_source="+".join(sorted(sources)),
            selection=sel,
            chance=chance,
            unit=g["unit"].iloc[0],
        )
        out.append(row)
    table = pd.DataFrame(out, columns=COLUMNS)
    table["pd"] = table["pd"].astype("Int64")
    return table


def variant_label(variant: Any, pd_: Any) -> str:
    """How a row's variant reads beside its model in text and figures: ``"software pd=64"``
    for a zero-shot row (variant ``software``, pd 64), the variant alone otherwise."""
    v = "" if variant is None or pd.isna(variant) else str(variant)
    if pd_ is None or pd.isna(pd_):
        return v
    base, _, rest = v.partition(", ")  # the pd belongs to the model, before any qualifier
    return f"{base} pd={int(pd_)}" + (f", {rest}" if rest else "")


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
        **({"pd": ["" if pd.isna(p) else str(int(p)) for p in df["pd"]]}
           if "pd" in df and df["pd"].notna().any() else {}),
        "split": df["split"], "metric": df["metric"],
        "ours (mean ± std over seeds)": [
            _fmt(m, s, n, u) for m, s, n, u in zip(df["mean"], df["std"], df["n_seeds"],
                                                   df["unit"], strict=True)],
        "paper (single run, test-selected)": [
            "" if pd.isna(p) else f"{p:.2f}" for p in df["paper"]],
        "chance": ["" if pd.isna(c) else f"{c:.2f}" for c in df["chance"]],
        "95 % CI (bootstrap over runs)": [
            "" if pd.isna(lo) else f"[{lo:.2f}, {hi:.2f}]"
            for lo, hi in zip(df["ci95_low"], df["ci95_high"], strict=True)],
        "p > chance (t over runs)": [
            "" if pd.isna(p) else f"{p:.2g}" for p in df["p_above_chance_t"]],
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
    full_caption = f"{caption} {data_caption(df['data_source'])}".strip()
    markdown = to_markdown(df, title, full_caption)  # before writing anything
    with atomic.atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    atomic.write_text(csv_path.with_suffix(".md"), markdown)


TUNING_TABLE_COLUMNS = ["run", "dataset", "model", "variant", "seed", "lr", "batch_size",
                        "val_accuracy", "best_epoch", "epochs_run", "eliminated_at", "chosen",
                        "data_source"]


def tuning_table(paths: Iterable[str | Path], csv_path: str | Path, epoch_cap: int,
                 patience: int, halving: tuple[int, int] = (0, 2)) -> pd.DataFrame:
    """The per-run tuning CSVs (``lsm.pipeline.stages.supervised_run``) -> one table, CSV and
    Markdown, atomically: every grid point's validation accuracy, the epochs it ran and the
    chosen point. Validation only: the test split plays no part in any of these numbers."""
    frames = []
    for p in paths:
        df = read_table(p, TUNING_TABLE_COLUMNS)
        for c in ("lr", "batch_size", "val_accuracy", "epochs_run"):
            if len(df) and not pd.api.types.is_numeric_dtype(df[c]):
                raise DataFormatError(p, f"column '{c}' holds {_not_number(df[c])!r}, not a "
                                      "number.", "delete it and rerun its train_supervised job.")
        frames.append(df)
    df = (pd.concat(frames, ignore_index=True) if frames
          else pd.DataFrame(columns=TUNING_TABLE_COLUMNS))
    shown = df.assign(chosen=np.where(df["chosen"].astype(bool), "**chosen**", ""),
                      val_accuracy=df["val_accuracy"].map(lambda v: f"{v:.2f}"),
                      eliminated_at=df["eliminated_at"].map(
                          lambda v: "" if pd.isna(v) else f"epoch {int(v)}"))
    stop = (f"early stopping after {patience} epochs without a validation gain" if patience
            else "no early stopping")
    from lsm.pipeline.protocol import halving_phrase

    caption = (f"Every supervised run goes through the same grid on its first seed (lr x "
               f"batch size){halving_phrase(*halving)}, at most {epoch_cap} epochs, {stop}; "
               f"the best validation accuracy picks the point that then trains every seed "
               f"(eliminated_at: the rung a point lost at). Validation split "
               f"only: test accuracy feeds no choice. "
               f"{data_caption(df['data_source'].astype(str))}" if len(df) else
               "No tuning grid in this configuration: every run trained with its own "
               "readout settings.")
    markdown = (f"# Tuning: one protocol for every model\n\n{caption}\n\n"
                f"{shown.drop(columns=['data_source']).to_markdown(index=False)}\n")
    with atomic.atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    atomic.write_text(Path(csv_path).with_suffix(".md"), markdown)
    return df
