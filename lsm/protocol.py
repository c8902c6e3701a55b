"""The supervised comparison protocol as pure functions of the config (no heavy imports:
the workflow's common.smk calls them at start-up). See docs/protocol.md."""

from __future__ import annotations

from typing import Any


def run_budgets(cfg: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    """Each supervised run's budget: (epoch cap, patience) of its readout settings."""
    readouts = cfg.get("readouts", {})
    return {name: (readouts.get(r["readout"], {}).get("epochs"),
                   readouts.get(r["readout"], {}).get("patience", 0))
            for name, r in cfg.get("supervised", {}).get("runs", {}).items()}


def protocol_caption(cfg: dict[str, Any]) -> str:
    """What the supervised runs of `cfg` went through, in one sentence for captions."""
    sup = cfg.get("supervised", {})
    grid = tuning_grid(sup.get("tuning"))
    budgets = set(run_budgets(cfg).values())
    if grid and len(budgets) == 1:
        (cap, patience), = budgets
        stop = (f"early stopping after {patience} epochs without a validation gain"
                if patience else "no early stopping")
        g = sup["tuning"]["grid"]
        return (f"Every model goes through one protocol: a {len(g['lr'])} x "
                f"{len(g['batch_size'])} grid of lr x batch size on the first seed, at most "
                f"{cap} epochs, {stop}; the best validation point trains every seed "
                f"(tuning.csv).")
    return ("No tuning grid: each run trains with its own readout settings (epochs and "
            "learning rate as configured).")


def tuning_grid(tuning: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The grid's points, lr-major: ``[{"lr": a, "batch_size": b}, ...]`` (empty: none)."""
    if not tuning or not tuning.get("grid"):
        return []
    g = tuning["grid"]
    return [{"lr": float(lr), "batch_size": int(bs)} for lr in g.get("lr", [])
            for bs in g.get("batch_size", [])]
