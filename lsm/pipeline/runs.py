"""Supervised and zero-shot runs: what each job reads, the parameters it is given, its
threads and priority (rules/supervised.smk, rules/zeroshot.smk, rules/encode.smk).

What a model kind reads is asked of :mod:`lsm.models.registry` (torch-free); nothing here
compares kind names.
"""

from __future__ import annotations

from typing import Any

from lsm.config import FRAME_CLASSES, LETTER_FRAMES, class_ids, select_direction
from lsm.models.registry import model_input, model_priority, zs_input
from lsm.pipeline import paths
from lsm.pipeline.paths import fill
from lsm.pipeline.protocol import BUDGET_KEYS, run_budgets

Config = dict[str, Any]

# ------------------------------------------------------------------ supervised runs


def supervised_run(cfg: Config, run: str) -> dict[str, Any]:
    return cfg["supervised"]["runs"][run]


def reads_features(cfg: Config, run: str) -> bool:
    """Whether a supervised run reads a frozen encoder's features (else a dataset's frames)."""
    return model_input(supervised_run(cfg, run)["kind"]) == "features"


def dataset_of_run(cfg: Config, run: str) -> str:
    """The frames a run learns from: its encoder's dataset, or its own."""
    r = supervised_run(cfg, run)
    return cfg["encoders"][r["encoder"]]["dataset"] if reads_features(cfg, run) else r["dataset"]


def supervised_priority(cfg: Config, run: str) -> int:
    """Longest first (LPT on two cores): the BPTT baselines take minutes, readouts seconds."""
    return model_priority(supervised_run(cfg, run)["kind"])


def run_input(cfg: Config, run: str) -> str:
    """Features of the run's encoder (a features model) or the dataset's frames."""
    r = supervised_run(cfg, run)
    if reads_features(cfg, run):
        return fill(paths.FEATURES, encoder=r["encoder"])
    return fill(paths.FRAMES, dataset=r["dataset"])


def run_workload(cfg: Config, run: str) -> list[str]:
    """The encoder's workload document of a features run (none for a frames run)."""
    if reads_features(cfg, run):
        return [fill(paths.WORKLOAD, encoder=supervised_run(cfg, run)["encoder"])]
    return []


def encoder_frames(cfg: Config, encoder: str) -> str:
    """The frames file an encoder encodes (its dataset's)."""
    return fill(paths.FRAMES, dataset=cfg["encoders"][encoder]["dataset"])


def supervised_datasets(cfg: Config) -> list[str]:
    """The datasets the supervised runs learn from, sorted (one cost figure each)."""
    return sorted({dataset_of_run(cfg, r) for r in cfg["supervised"]["runs"]})


def tuning_budget(cfg: Config, key: str) -> str:
    """The supervised runs' shared epoch cap or patience (one protocol: they must agree),
    as the largest over runs; "0" without runs."""
    vals = [b[BUDGET_KEYS.index(key)] for b in run_budgets(cfg).values()]
    return str(max(vals)) if vals else "0"


def variability_encoder(cfg: Config) -> dict[str, Any]:
    """The encoder of the variability study, with RRAM weights."""
    enc = dict(cfg["encoders"][cfg["variability"]["encoder"]])
    enc["weights"] = {**enc["weights"], "source": "rram"}
    return enc


# ------------------------------------------------------------------ zero-shot runs

# the run keys the workflow itself reads; every other key is the model's
ZS_WORKFLOW_KEYS = ("kind", "encoders", "model", "variant", "proj_dims", "train")
# the experiment keys the pairing step reads as they are
PAIRING_KEYS = ("seen", "unseen", "n_train_pairs_per_class", "n_val_pairs_per_class",
                "n_test_pairs_per_class", "enlarge")


def zs_experiment(cfg: Config, zs: str) -> dict[str, Any]:
    return cfg["zeroshot"][zs]


def zs_run(cfg: Config, zs: str, run: str) -> dict[str, Any]:
    return cfg["zeroshot"][zs]["runs"][run]


def zs_threads(cfg: Config, zs: str, run: str) -> int:
    """Cores a zero-shot job reserves: its training's torch threads (BPTT runs 2, heads 1),
    so that 1-thread head runs share the machine instead of holding both cores."""
    return int(cfg["readouts"][zs_run(cfg, zs, run)["train"]].get("threads", 1))


def zs_inputs(cfg: Config, zs: str, run: str) -> dict[str, str]:
    """Both sides' inputs: frozen encoders' features (+ workload) or frames (trainable)."""
    r = zs_run(cfg, zs, run)
    if zs_input(r["kind"]) == "features":
        enc = r["encoders"]
        return {
            "a": fill(paths.FEATURES, encoder=enc["query"]),
            "b": fill(paths.FEATURES, encoder=enc["gallery"]),
            "wa": fill(paths.WORKLOAD, encoder=enc["query"]),
            "wb": fill(paths.WORKLOAD, encoder=enc["gallery"]),
        }
    return {"a": zs_frames(cfg, zs, "query"), "b": zs_frames(cfg, zs, "gallery")}


def zs_frames(cfg: Config, zs: str, side: str) -> str:
    """The frames file a side ("query" or "gallery") of an experiment reads."""
    return fill(paths.FRAMES, dataset=zs_experiment(cfg, zs)[side]["frames"])


def zs_pairing(cfg: Config, zs: str) -> dict[str, Any]:
    """The pairing settings of an experiment: classes as ids (letters a-z = 0-25), pair
    counts, and the selection direction and similarity."""
    e = zs_experiment(cfg, zs)
    out = {k: e[k] for k in PAIRING_KEYS}
    out["seen"], out["unseen"] = class_ids(e["seen"]), class_ids(e["unseen"])
    out["select"] = {"direction": select_direction(e), "similarity": e["select"]["similarity"]}
    return out


def zs_run_params(cfg: Config, zs: str, run: str) -> dict[str, Any]:
    """The model's own settings of a run: every key but :data:`ZS_WORKFLOW_KEYS`."""
    return {k: v for k, v in zs_run(cfg, zs, run).items() if k not in ZS_WORKFLOW_KEYS}


def zs_power(cfg: Config, zs: str) -> dict[str, Any] | None:
    """The experiment's power-analysis settings (None: off)."""
    return zs_experiment(cfg, zs).get("power")


def zs_power_runs(cfg: Config, zs: str) -> dict[str, dict[str, Any]]:
    """The power analysis's runs, each with its encoders' settings and its training."""
    out = {}
    for name in zs_power(cfg, zs)["runs"]:
        r = zs_run(cfg, zs, name)
        out[name] = {
            "model": r["model"],
            "variant": r["variant"],
            "encoders": {side: cfg["encoders"][enc] for side, enc in r["encoders"].items()},
            "params": zs_run_params(cfg, zs, name),
            "train": cfg["readouts"][r["train"]],
        }
    return out


def zs_class_names(cfg: Config, zs: str) -> list[str]:
    """Display names of the class labels 0..n-1, n the larger class count of the two
    sides' frames (lsm.config.FRAME_CLASSES): letters a.. when a side holds letters
    (lsm.config.LETTER_FRAMES), the label numbers otherwise."""
    e = zs_experiment(cfg, zs)
    frames = [e[side]["frames"] for side in ("query", "gallery")]
    n = max(len(FRAME_CLASSES[f]) for f in frames)
    if any(f in LETTER_FRAMES for f in frames):
        return [chr(ord("a") + i) for i in range(n)]
    return [str(i) for i in range(n)]
