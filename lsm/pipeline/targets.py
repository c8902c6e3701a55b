"""What the workflow builds: the final targets (rule all), and the inputs of the table,
timing and report rules. A stage the config leaves empty (no datasets, encoders,
supervised runs, zero-shot runs, variability encoder, sweep) adds no target."""

from __future__ import annotations

from typing import Any

from lsm.pipeline.runs import supervised_datasets, zs_power
from lsm.pipeline.tables import energy_systems

Config = dict[str, Any]

SUPERVISED_RUN_FIGURES = ("learning_curves", "confusion")
ZEROSHOT_RUN_FIGURES = ("tsne", "similarity", "curves", "per_class", "examples")
# the summary figures the report shows (per-run figures stay in results/figures/)
REPORT_FIGURE_KEYS = ("accuracy_vs_", "sensitivity", "variability.png", "cost_ratio_vs_epochs",
                      "reservoir_size")


def _both(table: str) -> list[str]:
    return [f"results/tables/{table}.{ext}" for ext in ("csv", "md")]


def table_inputs(cfg: Config, experiment: str) -> list[str]:
    """The metrics documents table `experiment` aggregates; ValueError for an unknown one."""
    if experiment in ("supervised", "training_cost"):
        return [f"results/metrics/supervised/{run}.json" for run in cfg["supervised"]["runs"]]
    if experiment == "workload":
        return [f"results/metrics/workload/{enc}.json" for enc in cfg["encoders"]]
    if experiment == "variability":
        return ["results/metrics/variability/variability.json"]
    for zs, e in cfg["zeroshot"].items():
        if experiment in (f"zeroshot_{zs}", f"zeroshot_{zs}_cost"):
            runs = [f"results/metrics/zeroshot/{zs}/{run}.json" for run in e["runs"]]
            if zs_power(cfg, zs) and experiment == f"zeroshot_{zs}":
                runs.append(f"results/metrics/zeroshot_power/{zs}.json")
            return runs
    raise ValueError(f"no table named {experiment}")


def timing_inputs(cfg: Config) -> list[str]:
    """The per-run metrics documents (the power analysis's has no timing)."""
    out = table_inputs(cfg, "supervised") if cfg["supervised"]["runs"] else []
    for zs in cfg["zeroshot"]:
        out += [p for p in table_inputs(cfg, f"zeroshot_{zs}") if "/zeroshot_power/" not in p]
    return out


def report_tables(cfg: Config) -> list[str]:
    """The tables the report is built from (all but workload, variability and timing)."""
    names = []
    if cfg["supervised"]["runs"]:
        names += ["supervised", "training_cost"]
    for zs, e in cfg["zeroshot"].items():
        if e["runs"]:
            names += [f"zeroshot_{zs}", f"zeroshot_{zs}_cost"]
    if energy_systems(cfg):
        names.append("energy")
    return [f"results/tables/{n}.csv" for n in names]


def report_figures(cfg: Config) -> list[str]:
    """The summary figures among the final targets (per-run figures stay out)."""
    return [t for t in final_targets(cfg, report=False)
            if t.endswith(".png") and any(k in t for k in REPORT_FIGURE_KEYS)]


def final_targets(cfg: Config, report: bool = True) -> list[str]:
    """Every file the default target asks for, in a fixed order; with `report` also the
    report (when it has a table to be built from)."""
    from lsm.sweep import plan as sweep_plan  # imports numpy and pandas: only when called

    runs = list(cfg["supervised"]["runs"])
    targets = ["results/config.json"]
    if cfg["datasets"]:
        targets += ["results/data_qc/calibration.json", "results/data_qc/summary.csv"]
    if cfg["encoders"]:
        targets += _both("workload")
    if cfg["variability"]["encoder"]:
        targets += ["results/tables/variability.csv", "results/figures/variability/variability.png"]
    if runs:
        targets += _both("supervised") + _both("training_cost") + _both("tuning")
        targets += [f"results/figures/supervised/accuracy_vs_cost_{ds}.png"
                    for ds in supervised_datasets(cfg)]
        targets += [f"results/figures/supervised/{run}_{fig}.png"
                    for run in runs for fig in SUPERVISED_RUN_FIGURES]
    for ds in sweep_plan(cfg):  # reservoir-size sweep (rules/sweep.smk)
        targets += _both(f"reservoir_size_{ds}")
        targets.append(f"results/figures/supervised/reservoir_size_{ds}.png")
    for zs, e in cfg["zeroshot"].items():
        if not e["runs"]:
            continue
        targets += _both(f"zeroshot_{zs}") + _both(f"zeroshot_{zs}_cost")
        if e["cost_ratios"]:
            targets.append(f"results/figures/cost/{zs}_cost_ratio_vs_epochs.png")
        if e.get("power"):
            targets.append(f"results/figures/zeroshot/{zs}/power_unseen_by_selection.png")
        targets += [f"results/figures/zeroshot/{zs}/accuracy_vs_{what}_{sim}.png"
                    for what in ("pd", "cost") for sim in ("dot", "cos")]
        targets += [f"results/figures/zeroshot/{zs}/{run}_{fig}.png"
                    for run in e["runs"] for fig in ZEROSHOT_RUN_FIGURES]
    if energy_systems(cfg):
        targets += [*_both("energy"), "results/figures/energy/sensitivity.png"]
    if timing_inputs(cfg):
        targets += _both("timing")
    if report and report_tables(cfg):
        targets.append("results/report.md")
    return targets
