"""The result tables (rules/tables.smk, rules/energy.smk): titles, captions, the metric
names each table keeps, cost-ratio rows, and the systems the energy table compares.

The sentence on where the data came from (simulated or real) is not part of these
captions: ``lsm results aggregate`` appends it from the metrics' data sources
(:func:`lsm.results.contract.data_caption`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsm.config import FRAME_CLASSES
from lsm.models.registry import model_head_macs, model_input, zs_input
from lsm.pipeline.data import as_path
from lsm.pipeline.protocol import protocol_caption, zeroshot_encoder_caption

Config = dict[str, Any]

SUPERVISED_TITLE = "Supervised classification accuracy"
SUPERVISED_SELECTION = (" Epoch selected on a validation split carved from train; test evaluated "
                        "once.")
TRAINING_COST_TITLE = "Training cost of the supervised models"
TRAINING_COST_CAPTION = (
    "training MACs = one-time encoding of the training samples by a frozen encoder "
    "plus, over the epochs trained, N_train x (forward and backward) of the trainable "
    "part, backward = 2 x forward, BPTT through all T steps. Two counts: dense MACs on "
    "both sides (total_macs_dense), and event-driven operations on both sides "
    "(total_macs_events: accumulates per input event or spike, measured; non-spiking "
    "layers dense). Also trainable parameters and optimizer steps; wall-clock is in "
    "timing.csv."
)
WORKLOAD_TITLE = "Reservoir workload (NeuroBench vocabulary)"
WORKLOAD_CAPTION = (
    "Per test sample: effective synaptic operations (accumulates of an event-driven "
    "reservoir), dense MACs, activation sparsity, firing rate; static footprint in "
    "weights, RRAM cells (two per weight) and 512x512 arrays."
)
VARIABILITY_TITLE = "RRAM crossbar variability"
VARIABILITY_CAPTION = (
    "Test accuracy of a linear readout under device non-idealities (one axis at a "
    "time): trained on the ideal chip, or variability-aware (trained on the non-ideal "
    "chip); epochs selected on validation."
)
ZEROSHOT_CAPTION = (
    "Top-1/top-5 cross-modal retrieval on test pairs of seen classes (test_seen) and of "
    "classes never seen in training (test_unseen); val_seen is the selection metric on "
    "seen-class validation pairs. dot = unnormalised dot product (the LSM-CLIP metric of "
    "the paper), cos = cosine. Chance = expected accuracy of a random ranking. pd: the "
    "projection dimension of the heads. "
)
ZEROSHOT_COST_RATIOS = (
    " Ratios: numerator / denominator per seed, dense / dense "
    "(ratio_total_macs_dense) and event-driven / event-driven (ratio_total_macs_events), "
    "never one count over the other. The paper's 152.83x (SRNN-CLIP / LSM-CLIP) and "
    "393.07x (SRNN-Proto / LSM-Proto) stand beside both; their formula is unknown, so "
    "closeness to either is not agreement. Ratios move with the epochs trained (figure "
    "cost/<experiment>_cost_ratio_vs_epochs)."
)

SUPERVISED_METRICS = ["accuracy", "best_epoch"]
TRAINING_COST_METRICS = [
    "trainable_params",
    "train_macs",
    "train_macs_events",
    "cost_epochs",
    "encode_macs_dense",
    "encode_macs_events",
    "total_macs_dense",
    "total_macs_events",
    "optimizer_steps",
]
# the zero-shot table's rows besides the retrieval metrics (power analysis, RSA)
ZEROSHOT_EXTRA_METRICS = [
    "best_epoch", "rsa_seen_classes", "rsa_unseen_classes", "paper_rule_runs_qualifying"
]


def table_definitions(cfg: Config) -> dict[str, tuple[str, str]]:
    """Every aggregated table (results/tables/<name>.csv) as name -> (title, caption):
    supervised, training_cost, workload, variability, and per zero-shot experiment
    zeroshot_<zs> and zeroshot_<zs>_cost (the energy and timing tables have rules of
    their own)."""
    tables = {
        "supervised": (SUPERVISED_TITLE, protocol_caption(cfg) + SUPERVISED_SELECTION),
        "training_cost": (TRAINING_COST_TITLE, TRAINING_COST_CAPTION),
        "workload": (WORKLOAD_TITLE, WORKLOAD_CAPTION),
        "variability": (VARIABILITY_TITLE, VARIABILITY_CAPTION),
    }
    for zs in cfg["zeroshot"]:
        tables[f"zeroshot_{zs}"] = (
            f"Zero-shot retrieval: {zs}",
            ZEROSHOT_CAPTION + zeroshot_encoder_caption(cfg, zs),
        )
        tables[f"zeroshot_{zs}_cost"] = (
            f"Training cost of the zero-shot models: {zs}",
            TRAINING_COST_CAPTION + ZEROSHOT_COST_RATIOS,
        )
    return tables


def zs_metrics(cfg: Config, zs: str) -> list[str]:
    """Retrieval metric names of an experiment: direction x top-k x similarity, and per
    direction the numbers of distinct query and gallery items ranked (lsm.zeroshot.retrieval)."""
    q, g = cfg["zeroshot"][zs]["query"]["name"], cfg["zeroshot"][zs]["gallery"]["name"]
    dirs = (f"{q}2{g}", f"{g}2{q}")
    return [f"{d}_top{k}_{s}" for d in dirs for k in (1, 5) for s in ("dot", "cos")] + [
        f"{d}_n_distinct_{side}" for d in dirs for side in ("query", "gallery")
    ]


def table_metrics(cfg: Config) -> dict[str, list[str]]:
    """The metrics each table keeps (`lsm results aggregate --only`); a table not named
    here keeps every metric."""
    from lsm.results.ratios import RATIO_METRICS  # imports pandas: only when called

    out = {"supervised": list(SUPERVISED_METRICS), "training_cost": list(TRAINING_COST_METRICS)}
    for zs in cfg["zeroshot"]:
        out[f"zeroshot_{zs}"] = zs_metrics(cfg, zs) + ZEROSHOT_EXTRA_METRICS
        out[f"zeroshot_{zs}_cost"] = TRAINING_COST_METRICS + [f"ratio_{m}" for m in RATIO_METRICS]
    return out


def table_ratios(cfg: Config, experiment: str) -> list[dict[str, Any]]:
    """The cost-ratio rows a table adds (empty when the table has none)."""
    for zs in cfg["zeroshot"]:
        if experiment == f"zeroshot_{zs}_cost":
            return cfg["zeroshot"][zs]["cost_ratios"]
    return []


# ------------------------------------------------------------------ energy


def head_classes(frames: str) -> int:
    """The classes a supervised readout on `frames` tells apart (lsm.config.FRAME_CLASSES)."""
    return len(FRAME_CLASSES[frames])


def energy_systems(cfg: Config) -> list[dict[str, Any]]:
    """What the energy table compares: each supervised LSM readout (encoder + linear
    readout) and each zero-shot LSM model (both encoders + heads at its first pd)."""
    from lsm.energy.model import fc_head_macs

    out = []
    for r in cfg["supervised"]["runs"].values():
        if model_input(r["kind"]) != "features":
            continue
        enc = cfg["encoders"][r["encoder"]]
        macs = model_head_macs(r["kind"], enc["n_res"], head_classes(enc["dataset"]),
                               r.get("params", {}))
        if macs is None:  # a features model that does not say what its head costs
            continue
        out.append(
            {
                "dataset": enc["dataset"],
                "label": f"{r['model']} ({r['variant']})",
                "encoders": [r["encoder"]],
                "head_macs": macs,
                "sensitivity": False,
            }
        )
    for zs, e in cfg["zeroshot"].items():
        first = True
        for r in e["runs"].values():
            if zs_input(r["kind"]) != "features":  # the energy model prices frozen encoders
                continue
            encs = [r["encoders"]["query"], r["encoders"]["gallery"]]
            heads = sum(
                fc_head_macs(r["head"], cfg["encoders"][x]["n_res"], r["proj_dims"][0])
                for x in encs
            )
            out.append(
                {
                    "dataset": zs,
                    "label": f"{r['model']} ({r['variant']})",
                    "encoders": encs,
                    "head_macs": heads,
                    "sensitivity": first,
                }
            )
            first = False
    return out


def energy_encoders(cfg: Config) -> list[str]:
    """The encoders whose workloads the energy table reads, sorted."""
    return sorted({x for s in energy_systems(cfg) for x in s["encoders"]})


def energy_constants(cfg: Config, repo: str | Path) -> str:
    """The constants file: relative to the working directory, else to the repository."""
    path = Path(cfg["energy"]["constants"])
    if path.is_absolute() or path.exists():
        return as_path(path)
    return str(Path(repo) / path)
