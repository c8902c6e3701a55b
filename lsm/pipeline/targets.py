"""What the workflow builds: the final targets (rule all), and the inputs of the table,
timing and report rules. A stage the config leaves empty (no datasets, encoders,
supervised runs, zero-shot runs, variability encoder, sweep) adds no target."""

from __future__ import annotations

from typing import Any

from lsm.pipeline import paths
from lsm.pipeline.paths import both_tables, fill
from lsm.pipeline.runs import supervised_datasets, zs_power
from lsm.pipeline.tables import energy_systems

Config = dict[str, Any]

# the figures of each run (patterns of lsm.pipeline.paths), in target order
SUPERVISED_RUN_FIGURES = (paths.SUPERVISED_FIG_CURVES, paths.SUPERVISED_FIG_CONFUSION)
ZEROSHOT_RUN_FIGURES = (paths.ZS_FIG_TSNE, paths.ZS_FIG_SIMILARITY, paths.ZS_FIG_CURVES,
                        paths.ZS_FIG_PER_CLASS, paths.ZS_FIG_EXAMPLES)
# the summary figures the report shows (per-run figures stay out)
REPORT_FIGURES = (paths.VARIABILITY_FIG, paths.SUPERVISED_FIG_COST, paths.RESERVOIR_SIZE_FIG,
                  paths.ZS_FIG_COST_RATIO, paths.ZS_FIG_PD, paths.ZS_FIG_COST,
                  paths.ZS_POWER_FIG, paths.ENERGY_FIG)


def table_inputs(cfg: Config, experiment: str) -> list[str]:
    """The metrics documents table `experiment` aggregates; ValueError for an unknown one."""
    if experiment in ("supervised", "training_cost"):
        return [fill(paths.SUPERVISED_METRICS, run=run) for run in cfg["supervised"]["runs"]]
    if experiment == "workload":
        return [fill(paths.WORKLOAD, encoder=enc) for enc in cfg["encoders"]]
    if experiment == "variability":
        return [paths.VARIABILITY_METRICS]
    for zs, e in cfg["zeroshot"].items():
        if experiment in (f"zeroshot_{zs}", f"zeroshot_{zs}_cost"):
            runs = [fill(paths.ZS_METRICS, zs=zs, zsrun=run) for run in e["runs"]]
            if zs_power(cfg, zs) and experiment == f"zeroshot_{zs}":
                runs.append(fill(paths.ZS_POWER_METRICS, zs=zs))
            return runs
    raise ValueError(f"no table named {experiment}")


def timing_inputs(cfg: Config) -> list[str]:
    """The per-run metrics documents (the power analysis's has no timing)."""
    out = table_inputs(cfg, "supervised") if cfg["supervised"]["runs"] else []
    for zs in cfg["zeroshot"]:
        power = fill(paths.ZS_POWER_METRICS, zs=zs)
        out += [p for p in table_inputs(cfg, f"zeroshot_{zs}") if p != power]
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
    return [fill(paths.TABLE_CSV, experiment=n) for n in names]


def report_figures(cfg: Config) -> list[str]:
    """The summary figures among the final targets (per-run figures stay out)."""
    return [t for t in final_targets(cfg, report=False)
            if any(paths.matches(fig, t) for fig in REPORT_FIGURES)]


def final_targets(cfg: Config, report: bool = True) -> list[str]:
    """Every file the default target asks for, in a fixed order; with `report` also the
    report (when it has a table to be built from)."""
    from lsm.reservoir.sweep import plan as sweep_plan  # imports numpy and pandas: only when called

    runs = list(cfg["supervised"]["runs"])
    targets = [paths.CONFIG_JSON]
    if cfg["datasets"]:
        targets += [paths.QC_CALIBRATION, paths.QC_SUMMARY]
    if cfg["encoders"]:
        targets += both_tables("workload")
    if cfg["variability"]["encoder"]:
        targets += [fill(paths.TABLE_CSV, experiment="variability"), paths.VARIABILITY_FIG]
    if runs:
        targets += both_tables("supervised") + both_tables("training_cost") + both_tables("tuning")
        targets += [fill(paths.SUPERVISED_FIG_COST, dataset=ds) for ds in supervised_datasets(cfg)]
        targets += [fill(fig, run=run) for run in runs for fig in SUPERVISED_RUN_FIGURES]
    for ds in sweep_plan(cfg):  # reservoir-size sweep (rules/sweep.smk)
        targets += both_tables(f"reservoir_size_{ds}")
        targets.append(fill(paths.RESERVOIR_SIZE_FIG, dataset=ds))
    for zs, e in cfg["zeroshot"].items():
        if not e["runs"]:
            continue
        targets += both_tables(f"zeroshot_{zs}") + both_tables(f"zeroshot_{zs}_cost")
        if e["cost_ratios"]:
            targets.append(fill(paths.ZS_FIG_COST_RATIO, zs=zs))
        if e.get("power"):
            targets.append(fill(paths.ZS_POWER_FIG, zs=zs))
        targets += [fill(fig, zs=zs, sim=sim)
                    for fig in (paths.ZS_FIG_PD, paths.ZS_FIG_COST) for sim in ("dot", "cos")]
        targets += [fill(fig, zs=zs, zsrun=run)
                    for run in e["runs"] for fig in ZEROSHOT_RUN_FIGURES]
    if energy_systems(cfg):
        targets += [*both_tables("energy"), paths.ENERGY_FIG]
    if timing_inputs(cfg):
        targets += both_tables("timing")
    if report and report_tables(cfg):
        targets += [paths.REPORT, paths.REPORT_HTML]
    return targets


def html_tables(cfg: Config) -> list[str]:
    """Every table of the run (CSV paths; the HTML report shows their .md renderings)."""
    return [t for t in final_targets(cfg, report=False)
            if paths.matches(paths.TABLE_CSV, t)]


def executed_notebooks(cfg: Config) -> list[str]:
    """Every notebook the run executes (the HTML report links their rendered pages)."""
    from lsm.reservoir.sweep import plan as sweep_plan

    out = [paths.QC_NOTEBOOK] if cfg["datasets"] else []
    out += [fill(paths.ENCODE_NOTEBOOK, encoder=e) for e in cfg["encoders"]]
    if cfg["variability"]["encoder"]:
        out.append(paths.VARIABILITY_NOTEBOOK)
    out += [fill(paths.SUPERVISED_NOTEBOOK, run=r) for r in cfg["supervised"]["runs"]]
    out += [fill(paths.RESERVOIR_SIZE_NOTEBOOK, dataset=ds) for ds in sweep_plan(cfg)]
    for zs, e in cfg["zeroshot"].items():
        out += [fill(paths.ZS_NOTEBOOK, zs=zs, zsrun=r) for r in e["runs"]]
        if e["runs"] and e.get("power"):
            out.append(fill(paths.ZS_POWER_NOTEBOOK, zs=zs))
    return out
