"""The supervised comparison protocol as pure functions of the config (no heavy imports:
the workflow's common.smk calls them at start-up). See docs/protocol.md."""

from __future__ import annotations

from typing import Any

# the readout settings that make up a run's budget, in the order of run_budgets' tuples
BUDGET_KEYS = ("epochs", "patience", "lr_patience", "lr_factor", "optimizer", "weight_decay")
BUDGET_DEFAULTS = {"patience": 0, "lr_patience": 0, "lr_factor": 0.5, "optimizer": "adam",
                   "weight_decay": 0.0}


def run_budgets(cfg: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Each supervised run's budget: the :data:`BUDGET_KEYS` of its readout settings
    (epoch cap, early-stopping patience, lr-decay patience and factor, optimiser, weight
    decay). One protocol means one budget for every run."""
    readouts = cfg.get("readouts", {})
    return {name: tuple(readouts.get(r["readout"], {}).get(k, BUDGET_DEFAULTS.get(k))
                        for k in BUDGET_KEYS)
            for name, r in cfg.get("supervised", {}).get("runs", {}).items()}


def protocol_caption(cfg: dict[str, Any]) -> str:
    """What the supervised runs of `cfg` went through, in one sentence for captions."""
    sup = cfg.get("supervised", {})
    grid = tuning_grid(sup.get("tuning"))
    budgets = set(run_budgets(cfg).values())
    if grid and len(budgets) == 1:
        (cap, patience, lr_patience, lr_factor, opt, wd), = budgets
        stop = (f"early stopping after {patience} epochs without a validation gain"
                if patience else "no early stopping")
        decay = (f", lr x {lr_factor:g} after {lr_patience + 1} epochs without a gain"
                 if lr_patience else "")
        opt_s = f"{'AdamW' if opt == 'adamw' else 'Adam'}" + (f" (weight decay {wd:g})"
                                                              if wd else "")
        g = sup["tuning"]["grid"]
        sh = halving_phrase(*halving_setting(sup["tuning"]))
        return (f"Every model goes through one protocol: a {len(g['lr'])} x "
                f"{len(g['batch_size'])} grid of lr x batch size on the first seed{sh}, "
                f"{opt_s}, "
                f"at most {cap} epochs, {stop}{decay}; the best validation point trains "
                f"every seed (tuning.csv).")
    return ("No tuning grid: each run trains with its own readout settings (epochs and "
            "learning rate as configured).")


def halving_setting(tuning: dict[str, Any] | None) -> tuple[int, int]:
    """``(min_epochs, eta)`` of the grid's successive halving (lsm.models.tuning); (0, 2): none,
    every point trains to its own end."""
    h = (tuning or {}).get("halving") or {}
    return int(h.get("min_epochs", 0)), int(h.get("eta", 2))


def halving_phrase(min_epochs: int, eta: int) -> str:
    """The successive-halving part of a caption ('' without halving)."""
    if not min_epochs:
        return ""
    keep = "half" if eta == 2 else f"1/{eta}"
    return (f" under successive halving (every point trains {min_epochs} epochs, the best "
            f"{keep} by validation accuracy go on to {min_epochs * eta}, and so on until one "
            f"is left; a survivor resumes where it paused)")


def tuning_grid(tuning: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The grid's points, lr-major: ``[{"lr": a, "batch_size": b}, ...]`` (empty: none)."""
    if not tuning or not tuning.get("grid"):
        return []
    g = tuning["grid"]
    return [{"lr": float(lr), "batch_size": int(bs)} for lr in g.get("lr", [])
            for bs in g.get("batch_size", [])]


def zeroshot_encoder_caption(cfg: dict[str, Any], zs: str) -> str:
    """The frozen encoders' weight scales of one zero-shot experiment, for its caption
    (the LSM rows use the consts named here, e.g. the authors' zero-shot values)."""
    e = cfg.get("zeroshot", {}).get(zs, {})
    encs = cfg.get("encoders", {})
    parts = []
    from lsm.models.registry import zs_input

    for r in e.get("runs", {}).values():
        if zs_input(r["kind"]) != "features":  # frozen encoders only: they have a const
            continue
        q, g = (encs.get(r["encoders"][s], {}).get("weights", {}).get("const")
                for s in ("query", "gallery"))
        cell = f"{r['model']} ({r['variant']}): {e['query']['name']} {q:g} / " \
               f"{e['gallery']['name']} {g:g}"
        if cell not in parts:
            parts.append(cell)
    if not parts:
        return ""
    power = e.get("power")
    more = (" Rows whose variant names 'R reservoirs x H heads' repeat the run over R "
            "reservoirs and H head initialisations (lsm.zeroshot.power); 'paper_rule' and 'best "
            "unseen epoch' rows choose their epoch on the test set (analysis only); RSA "
            "rows are a diagnostic (chance 0)." if power else "")
    return ("Frozen-encoder weight scale const (query / gallery): " + "; ".join(parts)
            + "." + more)
