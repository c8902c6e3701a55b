"""The energy sensitivity figure: which assumptions carry the RRAM-vs-digital ratio."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from lsm.energy.model import Workload, digital_energy, rram_energy
from lsm.results.plots import _caption, render, write_figure


def _ratio(ws: list[Workload], consts: dict[str, Any], baseline: str, head_macs: float
           ) -> float:
    e_rram = sum(sum(rram_energy(w, consts, head_macs if k == 0 else 0.0).values())
                 for k, w in enumerate(ws))
    e_dig = sum(digital_energy(w, consts, baseline, head_macs if k == 0 else 0.0)
                for k, w in enumerate(ws))
    return e_dig / e_rram


def sensitivity(systems: list[tuple[str, list[Workload], float, float | None]],
                consts: dict[str, Any], data_source: str, path: str | Path) -> None:
    """Per system (label, workloads, head MACs, paper ratio): the ratio against each
    baseline as the ADC energy and the LIF-update energy sweep their plausible ranges,
    and at the default constants."""
    write_figure(sensitivity_images(systems, consts, data_source), path)


def sensitivity_images(systems: list[tuple[str, list[Workload], float, float | None]],
                       consts: dict[str, Any], data_source: str) -> dict[str, bytes]:
    """:func:`sensitivity`, drawn into PNG and SVG bytes (nothing written): a caller can
    draw the figure before it writes any of its outputs."""
    if not systems:  # nothing marked for the sweep (e.g. no zero-shot LSM model)
        fig, ax = plt.subplots(figsize=(8, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "No system of this configuration is marked for the sensitivity "
                "sweep\n(the workflow marks the first LSM model of each zero-shot "
                "experiment).", ha="center", va="center", fontsize=9)
        return render(fig)
    sweeps = {"e_adc": np.geomspace(0.1, 30, 9), "e_lif": np.geomspace(0.5, 81, 9)}
    fig, axes = plt.subplots(len(systems), 3, figsize=(14, 3.6 * len(systems)), squeeze=False)
    baselines = list(consts["baselines"])
    for row, (label, ws, heads, paper) in enumerate(systems):
        for col, (key, values) in enumerate(sweeps.items()):
            ax = axes[row, col]
            for k, b in enumerate(baselines):
                ratios = []
                for v in values:
                    c = copy.deepcopy(consts)
                    c["rram"][key]["value"] = float(v)
                    ratios.append(_ratio(ws, c, b, heads))
                ax.plot(values, ratios, "-o", ms=3, color=f"C{k}", label=b)
            ax.axvline(consts["rram"][key]["value"], color="gray", ls=":", lw=1)
            if paper:
                ax.axhline(paper, color="black", ls="--", lw=1, label=f"paper {paper}x")
            ax.set(xscale="log", yscale="log", xlabel=f"{key} (pJ)", ylabel="E_digital / E_RRAM",
                   title=f"{label}: {key}")
        ax = axes[row, 2]
        vals = [_ratio(ws, consts, b, heads) for b in baselines]
        ax.barh(range(len(baselines)), vals, color=[f"C{k}" for k in range(len(baselines))])
        ax.set_yticks(range(len(baselines)), baselines, fontsize=7)
        if paper:
            ax.axvline(paper, color="black", ls="--", lw=1)
        ax.set(xscale="log", xlabel="E_digital / E_RRAM at the default constants",
               title=f"{label}: choice of baseline")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _caption(fig, "Energy per inference from measured operation counts (first seed); dotted: "
             "the default constant; dashed: the paper's ratio (baseline unknown).",
             [data_source])
    return render(fig)
