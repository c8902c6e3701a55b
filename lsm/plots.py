"""Figures. Every figure carries a caption line stating the data source."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lsm import atomic
from lsm.results import data_caption


def _caption(fig: plt.Figure, text: str, sources: list[str]) -> None:
    cap = f"{text} {data_caption(sources).replace('**', '')}"
    fig.text(0.01, 0.005, cap, ha="left", va="bottom", fontsize=7, wrap=True)


def save(fig: plt.Figure, path: str | Path) -> None:
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight")
    plt.close(fig)


def learning_curves(curves: pd.DataFrame, title: str, data_source: str,
                    path: str | Path) -> None:
    """Validation accuracy per epoch: mean over seeds with a ±1 std band, and the
    selected (best-validation) epoch of each seed."""
    fig, ax = plt.subplots(figsize=(6, 4))
    g = curves.groupby("epoch")["val_accuracy"]
    m, s = g.mean(), g.std(ddof=1).fillna(0.0)
    ax.plot(m.index, m.values, label="validation accuracy (mean over seeds)")
    ax.fill_between(m.index, m - s, m + s, alpha=0.25, label="±1 std")
    for _, c in curves.groupby("seed"):
        best = c.loc[c["val_accuracy"].idxmax()]
        ax.plot(best["epoch"], best["val_accuracy"], "kv", ms=5)
    ax.plot([], [], "kv", label="selected epoch per seed")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.subplots_adjust(bottom=0.2)
    _caption(fig, f"n_seeds={curves['seed'].nunique()}; selection on validation only.",
             [data_source])
    save(fig, path)


def confusion_matrix(conf: np.ndarray, title: str, data_source: str, path: str | Path) -> None:
    """Row-normalised test confusion matrix (summed over seeds)."""
    norm = conf / np.maximum(conf.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5, 4.6))
    im = ax.imshow(norm * 100, cmap="Blues", vmin=0, vmax=100)
    for i in range(conf.shape[0]):
        for j in range(conf.shape[1]):
            if norm[i, j] >= 0.01:
                ax.text(j, i, f"{norm[i, j] * 100:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title,
           xticks=range(conf.shape[1]), yticks=range(conf.shape[0]))
    fig.colorbar(im, ax=ax, label="% of true class")
    _caption(fig, "Test split, summed over seeds.", [data_source])
    save(fig, path)
