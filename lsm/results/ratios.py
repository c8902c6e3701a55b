"""Training-cost ratios between two runs (e.g. SRNN-CLIP / LSM-CLIP), per seed.

A ratio is computed seed by seed from the two runs' metrics documents and aggregated like
any other metric (mean ± std over seeds), so it carries its spread. Only deterministic
counts are divided; wall-clock seconds stay in the timing table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsm.errors import ConfigError, DataFormatError
from lsm.results.contract import metrics_doc

RATIO_METRICS = ("total_macs_dense", "total_macs_events", "train_macs", "trainable_params",
                 "optimizer_steps")


def _per_seed(doc: dict[str, Any], metric: str, pd: int) -> dict[int, float]:
    return {r["seed"]: float(r["value"]) for r in doc["records"]
            if r["metric"] == metric and r.get("pd") == pd}


def ratio_doc(num: dict[str, Any], den: dict[str, Any], pd: int, pd_den: int | None = None
              ) -> dict[str, Any]:
    """A metrics document of numerator / denominator per seed for :data:`RATIO_METRICS`.

    Row labels: model ``"<num model> / <den model>"``, variant ``"<num variant> / <den
    variant>"`` at projection dimension ``pd`` (or variant ``"<num variant> pd=<pd> / <den
    variant> pd=<pd_den>"`` and no pd when the two differ), split ``train``, metric
    ``ratio_<m>``.
    """
    pd_den = pd if pd_den is None else pd_den
    records = []
    for m in RATIO_METRICS:
        a, b = _per_seed(num, m, pd), _per_seed(den, m, pd_den)
        seeds = sorted(set(a) & set(b))
        if not seeds:
            raise ValueError(f"no common seeds with metric {m} at pd={pd}/{pd_den} in runs "
                             f"{num.get('run')!r} and {den.get('run')!r}")
        records += [{"seed": s, "split": "train", "metric": f"ratio_{m}", "unit": "x",
                     **({"pd": pd} if pd == pd_den else {}),
                     "value": a[s] / b[s] if b[s] else float("nan")} for s in seeds]
    return metrics_doc(
        experiment=num["experiment"], dataset=num["dataset"],
        model=f"{num['model']} / {den['model']}",
        variant=(f"{num['variant']} / {den['variant']}" if pd == pd_den else
                 f"{num['variant']} pd={pd} / {den['variant']} pd={pd_den}"),
        data_source="+".join(sorted({num["data_source"], den["data_source"]})),
        selection="+".join(sorted({num["selection"], den["selection"]})), records=records)


def check_specs(specs: Any, key: str = "--ratios") -> list[dict[str, Any]]:
    """The ratio specs (a zero-shot experiment's ``cost_ratios``), or a
    :class:`ConfigError` naming the item and the field."""
    fix = ('give a JSON list of {"numerator": run, "denominator": run, "proj_dim": n} '
           '(optionally "denominator_proj_dim": n), as a zero-shot cost_ratios entry.')
    if not isinstance(specs, list):
        raise ConfigError(key, f"is {type(specs).__name__}, not a list of ratios.", fix)
    for i, spec in enumerate(specs):
        at = f"{key}/{i}"
        if not isinstance(spec, dict):
            raise ConfigError(at, f"is {spec!r}, not an object naming two runs.", fix)
        unknown = sorted(set(spec) - {"numerator", "denominator", "proj_dim",
                                      "denominator_proj_dim"})
        if unknown:
            raise ConfigError(f"{at}/{unknown[0]}", "is not a field of a ratio.", fix)
        for end in ("numerator", "denominator"):
            if not isinstance(spec.get(end), str) or not spec[end]:
                raise ConfigError(f"{at}/{end}", f"is {spec.get(end)!r}, not a run name.", fix)
        for field in ("proj_dim", "denominator_proj_dim"):
            v = spec.get(field)
            if (field == "proj_dim" or v is not None) and (
                    isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 100_000):
                raise ConfigError(f"{at}/{field}", f"is {v!r}, not a projection dimension "
                                  "(an integer from 1 to 100000).", fix)
    return specs


def ratio_docs(docs: list[dict[str, Any]], specs: list[dict[str, Any]],
               paths: list[str | Path] | None = None) -> list[dict[str, Any]]:
    """One ratio document per spec {numerator, denominator, proj_dim[,
    denominator_proj_dim]} (run names). Specs are checked (:func:`check_specs`); a run no
    document holds is a :class:`ConfigError`; with `paths` (the documents' files), runs
    without common seeds are a :class:`DataFormatError` naming the numerator's file."""
    check_specs(specs)
    by_run = {d["run"]: k for k, d in enumerate(docs) if isinstance(d.get("run"), str)}
    out = []
    for i, spec in enumerate(specs):
        for end in ("numerator", "denominator"):
            if spec[end] not in by_run:
                raise ConfigError(f"--ratios/{i}/{end}", f"no metrics file given holds run "
                                  f"'{spec[end]}' (runs given: {sorted(by_run)}).",
                                  "pass that run's metrics file, or name a run that has "
                                  "one.")
        num, den = by_run[spec["numerator"]], by_run[spec["denominator"]]
        try:
            out.append(ratio_doc(docs[num], docs[den], spec["proj_dim"],
                                 spec.get("denominator_proj_dim")))
        except ValueError as exc:
            if paths is None:
                raise
            raise DataFormatError(paths[num], f"{exc} (the denominator: {paths[den]}).",
                                  "check the ratio's runs and proj_dim against what the "
                                  "runs trained, or rerun them with the same seeds.") from exc
    return out


def ratio_curve(num: dict[str, Any], den: dict[str, Any], pd: int, pd_den: int | None = None,
                max_epochs: int = 100) -> list[dict[str, Any]]:
    """The cost ratio numerator / denominator as a function of the number of training
    epochs E (both models trained E epochs), per count, averaged over common seeds::

        ratio(E) = (E a_num + enc_num) / (E a_den + enc_den)

    with a = training MACs per epoch (``train_macs`` or ``train_macs_events`` over
    ``cost_epochs``) and enc = the one-time encoding (``encode_macs_dense`` or
    ``encode_macs_events``). Rows: {epochs, count ("dense" | "events"), ratio}."""
    pd_den = pd if pd_den is None else pd_den
    counts = {"dense": ("train_macs", "encode_macs_dense"),
              "events": ("train_macs_events", "encode_macs_events")}
    rows = []
    for count, (train_m, enc_m) in counts.items():
        per = {}
        for side, doc, p in (("num", num, pd), ("den", den, pd_den)):
            tr, ep = _per_seed(doc, train_m, p), _per_seed(doc, "cost_epochs", p)
            enc = _per_seed(doc, enc_m, p)
            dense_enc = _per_seed(doc, "encode_macs_dense", p)
            per[side] = {s: (tr[s] / ep[s], enc.get(s) or dense_enc.get(s, 0.0))
                         for s in tr if s in ep and ep[s] > 0}
        seeds = sorted(set(per["num"]) & set(per["den"]))
        if not seeds:
            raise ValueError(f"no common seeds with {train_m} and cost_epochs at "
                             f"pd={pd}/{pd_den} in runs {num.get('run')!r} and "
                             f"{den.get('run')!r}")
        for e in range(1, max_epochs + 1):
            dens = [e * per["den"][s][0] + per["den"][s][1] for s in seeds]
            vals = [(e * per["num"][s][0] + per["num"][s][1]) / d if d else float("nan")
                    for s, d in zip(seeds, dens, strict=True)]
            rows.append({"epochs": e, "count": count, "ratio": sum(vals) / len(vals)})
    return rows
