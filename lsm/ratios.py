"""Training-cost ratios between two runs (e.g. SRNN-CLIP / LSM-CLIP), per seed.

A ratio is computed seed by seed from the two runs' metrics documents and aggregated like
any other metric (mean ± std over seeds), so it carries its spread. Only deterministic
counts are divided; wall-clock seconds stay in the timing table.
"""

from __future__ import annotations

from typing import Any

from lsm.results import metrics_doc

RATIO_METRICS = ("total_macs_dense", "total_macs_events", "train_macs", "trainable_params",
                 "optimizer_steps")


def _per_seed(doc: dict[str, Any], metric: str, pd: int) -> dict[int, float]:
    suffix = f" pd={pd}"
    return {r["seed"]: float(r["value"]) for r in doc["records"]
            if r["metric"] == metric and r.get("variant", doc["variant"]).endswith(suffix)}


def ratio_doc(num: dict[str, Any], den: dict[str, Any], pd: int, pd_den: int | None = None
              ) -> dict[str, Any]:
    """A metrics document of numerator / denominator per seed for :data:`RATIO_METRICS`.

    Row labels: model ``"<num model> / <den model>"``, variant
    ``"<num variant> / <den variant> pd=<pd>"`` (or ``"<num variant> pd=<pd> / <den
    variant> pd=<pd_den>"`` when the two differ), split ``train``, metric ``ratio_<m>``.
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
                     "value": a[s] / b[s] if b[s] else float("nan")} for s in seeds]
    return metrics_doc(
        experiment=num["experiment"], dataset=num["dataset"],
        model=f"{num['model']} / {den['model']}",
        variant=(f"{num['variant']} / {den['variant']} pd={pd}" if pd == pd_den else
                 f"{num['variant']} pd={pd} / {den['variant']} pd={pd_den}"),
        data_source="+".join(sorted({num["data_source"], den["data_source"]})),
        selection="+".join(sorted({num["selection"], den["selection"]})), records=records)


def ratio_docs(docs: list[dict[str, Any]], specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ratio document per spec {numerator, denominator, proj_dim[,
    denominator_proj_dim]} (run names)."""
    by_run = {d.get("run"): d for d in docs}
    out = []
    for spec in specs:
        missing = [r for r in (spec["numerator"], spec["denominator"]) if r not in by_run]
        if missing:
            raise ValueError(f"cost ratio {spec}: no metrics for run(s) {missing}")
        out.append(ratio_doc(by_run[spec["numerator"]], by_run[spec["denominator"]],
                             spec["proj_dim"], spec.get("denominator_proj_dim")))
    return out
