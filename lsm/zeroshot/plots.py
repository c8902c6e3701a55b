"""Figures of the zero-shot retrieval experiments. Every caption states the data source."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lsm.results.contract import POWER_VARIANTS, variant_label
from lsm.results.plots import _caption, save
from lsm.zeroshot.retrieval import similarity

TSNE_MAX_POINTS = 600  # the map's points (a figure: about 10 s of t-SNE saved per job)


def joint_embedding(emb: dict[str, np.ndarray], names: tuple[str, str], title: str,
                    data_source: str, path: str | Path, seed: int = 0) -> None:
    """t-SNE (scikit-learn) of the test embeddings of both modalities, seen and unseen
    classes together; colour = class, marker = modality, unseen classes ringed in black."""
    from sklearn.manifold import TSNE

    parts, labels, mods = [], [], []
    for split in ("test_seen", "test_unseen"):
        for m, key in enumerate(("za", "zb")):
            parts.append(emb[f"{key}_{split}"])
            labels.append(emb[f"y_{split}"])
            mods.append(np.full(emb[f"y_{split}"].size, m))
    x, y, mod = np.concatenate(parts), np.concatenate(labels), np.concatenate(mods)
    if len(x) > TSNE_MAX_POINTS:  # t-SNE is O(n log n) per iteration: a seeded subsample
        keep = np.sort(np.random.default_rng(seed).choice(len(x), TSNE_MAX_POINTS,
                                                          replace=False))
        x, y, mod = x[keep], y[keep], mod[keep]
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    xy = TSNE(2, perplexity=min(30.0, (len(x) - 1) / 3), init="pca",
              random_state=seed).fit_transform(x)
    unseen = set(np.asarray(emb["unseen"]).tolist())
    classes = sorted(set(y.tolist()))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for ci, c in enumerate(classes):
        for m, marker in ((0, "o"), (1, "^")):
            sel = (y == c) & (mod == m)
            ax.scatter(xy[sel, 0], xy[sel, 1], s=14, marker=marker, color=f"C{ci % 10}",
                       edgecolors="black" if c in unseen else "none", linewidths=0.6,
                       label=f"{c}{' (unseen)' if c in unseen else ''}" if m == 0 else None)
    ax.scatter([], [], marker="o", color="gray", label=f"{names[0]} (query)")
    ax.scatter([], [], marker="^", color="gray", label=f"{names[1]} (gallery)")
    ax.set(title=title, xticks=[], yticks=[])
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title="class")
    fig.subplots_adjust(bottom=0.15)
    _caption(fig, "t-SNE of L2-normalised test embeddings (first seed, first pd; at most "
             f"{TSNE_MAX_POINTS} points, a seeded sample); black rings: classes never seen "
             "in training.", [data_source])
    save(fig, path)


def similarity_heatmap(emb: dict[str, np.ndarray], names: tuple[str, str], kind: str,
                       title: str, data_source: str, path: str | Path,
                       per_class: int = 10) -> None:
    """Query-gallery similarity of test pairs (up to `per_class` per class, sorted by
    class, seen then unseen): a block diagonal means retrieval works."""
    za, zb, y = [], [], []
    for split in ("test_seen", "test_unseen"):
        lab = emb[f"y_{split}"]
        for c in np.unique(lab):
            idx = np.flatnonzero(lab == c)[:per_class]
            za.append(emb[f"za_{split}"][idx])
            zb.append(emb[f"zb_{split}"][idx])
            y.append(lab[idx])
    yy = np.concatenate(y)
    sim = similarity(np.concatenate(za), np.concatenate(zb), kind)
    fig, ax = plt.subplots(figsize=(6, 5.4))
    lo, hi = np.percentile(sim, [1, 99])  # robust colour range: a few hubs do not wash it out
    im = ax.imshow(sim, cmap="viridis", aspect="auto", vmin=lo, vmax=hi)
    edges = np.flatnonzero(np.diff(yy)) + 0.5
    for e in edges:
        ax.axhline(e, color="white", lw=0.4)
        ax.axvline(e, color="white", lw=0.4)
    centres = [np.flatnonzero(yy == c).mean() for c in np.unique(yy)]
    ax.set_xticks(centres, [str(c) for c in np.unique(yy)])
    ax.set_yticks(centres, [str(c) for c in np.unique(yy)])
    ax.set(xlabel=f"{names[1]} (gallery) class", ylabel=f"{names[0]} (query) class",
           title=title)
    fig.colorbar(im, ax=ax, label=f"similarity ({kind})")
    fig.subplots_adjust(bottom=0.17)
    _caption(fig, f"Test pairs, {per_class} per class, first seed and pd; unseen classes last.",
             [data_source])
    save(fig, path)


def val_curves(curves: pd.DataFrame, title: str, data_source: str, path: str | Path) -> None:
    """Validation top-1 (seen classes) per epoch, one line per pd (mean over seeds)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for pd_, g in curves.groupby("pd"):
        m = g.groupby("epoch")["val_accuracy"].mean()
        ax.plot(m.index, m.values, label=f"pd={pd_}")
    ax.set(xlabel="epoch", ylabel="validation top-1 (%)", title=title)
    ax.legend(fontsize=7)
    fig.subplots_adjust(bottom=0.2)
    _caption(fig, f"Mean over {curves['seed'].nunique()} seeds; the selection metric.",
             [data_source])
    save(fig, path)


def _rows(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of `metric` of each run family (not the power analysis's summaries), with
    the variant as ``base`` (the pd is its own column)."""
    t = table[(table.metric == metric)
              & ~table.variant.astype(str).str.contains(POWER_VARIANTS)].copy()
    t["base"] = t["variant"]
    t["pd"] = t["pd"].astype("float")  # NaN where a row has no pd
    return t


def accuracy_vs_pd(table: pd.DataFrame, metric: str, path: str | Path) -> None:
    """Top-1 (mean ± std over seeds) against projection dimension, seen and unseen, with
    the chance level and the paper's values (hollow)."""
    t = _rows(table, metric).dropna(subset=["pd"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=False)
    for ax, split in zip(axes, ("test_seen", "test_unseen"), strict=True):
        s = t[t.split == split]
        for k, ((model, base), g) in enumerate(s.groupby(["model", "base"], sort=False)):
            g = g.sort_values("pd")
            ax.errorbar(g["pd"], g["mean"], yerr=g["std"], fmt="-o", ms=4, capsize=3,
                        color=f"C{k}", label=f"{model} ({base})")
            p = g.dropna(subset=["paper"])
            ax.plot(p["pd"], p["paper"], "o", mfc="none", ms=9, color=f"C{k}")
        if len(s):
            ax.axhline(s["chance"].iloc[0], color="gray", ls=":", label="chance")
        ax.set(xscale="log", xlabel="projection dimension", ylabel=f"{metric} (%)",
               title=split.replace("_", " "))
        ax.set_xticks([64, 128, 256, 512, 1024], ["64", "128", "256", "512", "1024"])
    axes[1].plot([], [], "o", mfc="none", color="gray", label="paper (test-selected)")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.subplots_adjust(bottom=0.22)
    _caption(fig, "Mean ± std over seeds; epochs selected on seen-class validation pairs.",
             sorted(set(t["data_source"])) or ["real"])
    save(fig, path)


def accuracy_vs_cost(table: pd.DataFrame, cost: pd.DataFrame, metric: str,
                     path: str | Path) -> None:
    """Seen and unseen top-1 against total training MACs (event-driven LSM encoding)."""
    t = _rows(table, metric)
    c = cost[cost.metric == "total_macs_events"][["model", "variant", "pd", "mean"]].copy()
    c["pd"] = c["pd"].astype("float")
    m = t.merge(c, on=["model", "variant", "pd"], suffixes=("", "_cost"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, split in zip(axes, ("test_seen", "test_unseen"), strict=True):
        s = m[m.split == split]
        # one colour per model family; points along a family differ in pd (annotated)
        for k, ((model, base), g) in enumerate(s.groupby(["model", "base"], sort=False)):
            g = g.sort_values("mean_cost")
            ax.errorbar(g["mean_cost"], g["mean"], yerr=g["std"], fmt="-o", ms=4, capsize=3,
                        color=f"C{k % 10}", label=f"{model} ({base})")
            for r in g.itertuples():
                if r.pd is not None and not pd.isna(r.pd):
                    ax.annotate(f"{int(r.pd)}", (r.mean_cost, r.mean), fontsize=6,
                                xytext=(3, -8), textcoords="offset points")
            p = g.dropna(subset=["paper"])
            ax.plot(p["mean_cost"], p["paper"], "o", mfc="none", ms=9, color=f"C{k % 10}")
        if len(s):
            ax.axhline(s["chance"].iloc[0], color="gray", ls=":", label="chance")
        ax.set(xscale="log", xlabel="total training cost (MACs)", ylabel=f"{metric} (%)",
               title=split.replace("_", " "))
    axes[1].plot([], [], "o", mfc="none", color="gray", label="paper (test-selected)")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.subplots_adjust(bottom=0.22)
    _caption(fig, "Mean ± std over seeds; numbers: projection dimension; hollow: the paper's "
             "value at our cost; event-driven LSM encoding counted.",
             sorted(set(t["data_source"])) or ["real"])
    save(fig, path)


def _top1_per_class(emb: dict[str, np.ndarray], split: str, kind: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    sim = similarity(emb[f"za_{split}"], emb[f"zb_{split}"], kind)
    y = emb[f"y_{split}"]
    hit = y[np.argsort(-sim, axis=1, kind="stable")[:, 0]] == y
    classes = np.unique(y)
    return classes, np.array([hit[y == c].mean() * 100 for c in classes])


def per_class_accuracy(emb: dict[str, np.ndarray], names: tuple[str, str], kind: str,
                       class_names: list[str], title: str, data_source: str,
                       path: str | Path) -> None:
    """Top-1 query -> gallery accuracy per class on the test pairs; unseen classes in a
    second colour, each split's chance level dotted."""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * sum(np.unique(emb[f"y_{s}"]).size
                                                          for s in ("test_seen",
                                                                    "test_unseen"))), 4))
    x0 = 0
    for split, colour in (("test_seen", "C0"), ("test_unseen", "C3")):
        classes, acc = _top1_per_class(emb, split, kind)
        xs = np.arange(x0, x0 + classes.size)
        ax.bar(xs, acc, color=colour, label=split.replace("_", " "))
        chance = 100.0 / classes.size
        ax.hlines(chance, xs[0] - 0.4, xs[-1] + 0.4, colors=colour, linestyles=":",
                  label=f"chance ({split.split('_')[1]}) {chance:.1f}%")
        for x, c in zip(xs, classes, strict=True):
            ax.text(x, -6, class_names[c] if c < len(class_names) else str(c), ha="center",
                    fontsize=7)
        x0 += classes.size + 1
    ax.set(xticks=[], ylabel=f"top-1 {names[0]}2{names[1]} ({kind}, %)", ylim=(-9, 100),
           title=title)
    ax.legend(fontsize=7, loc="upper right")
    fig.subplots_adjust(bottom=0.18)
    _caption(fig, "Test pairs, first seed and pd.", [data_source])
    save(fig, path)


def _as_image(frames: np.ndarray) -> np.ndarray:
    """A gallery item [T, C] as a picture: spike counts per input, square if C is."""
    counts = frames.sum(0)
    side = math.isqrt(counts.size)
    return counts.reshape(side, side) if side * side == counts.size else frames.T


def example_retrievals(emb: dict[str, np.ndarray], x_a: np.ndarray, x_b: np.ndarray,
                       names: tuple[str, str], kind: str, class_names: list[str], title: str,
                       data_source: str, path: str | Path, k: int = 5) -> None:
    """One query per unseen class (and up to two seen ones): its raster (query test
    frames) beside its top-k retrieved gallery items (green: right class)."""
    rows = []
    for split in ("test_unseen", "test_seen"):
        y = emb[f"y_{split}"]
        firsts = [np.flatnonzero(y == c)[0] for c in np.unique(y)]
        rows += [(split, i) for i in (firsts if split == "test_unseen" else firsts[:2])]
    fig, axes = plt.subplots(len(rows), k + 1, figsize=(1.6 * (k + 1) + 1.5, 1.7 * len(rows)),
                             squeeze=False)
    for r, (split, i) in enumerate(rows):
        y = emb[f"y_{split}"]
        sim = similarity(emb[f"za_{split}"][i : i + 1], emb[f"zb_{split}"], kind)[0]
        top = np.argsort(-sim, kind="stable")[:k]
        q = x_a[emb[f"ia_{split}"][i]]
        axes[r, 0].imshow(q.T, aspect="auto", cmap="Greys", interpolation="nearest")
        axes[r, 0].set_title(f"{names[0]}: {class_names[y[i]]} ({split[5:]})", fontsize=7)
        for j, g in enumerate(top, start=1):
            ax = axes[r, j]
            ax.imshow(_as_image(x_b[emb[f"ib_{split}"][g]]), cmap="Greys")
            ok = y[g] == y[i]
            ax.set_title(f"{class_names[y[g]]}", fontsize=8, color="green" if ok else "red")
            for sp in ax.spines.values():
                sp.set_edgecolor("green" if ok else "red")
                sp.set_linewidth(2)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{title}: query raster (time ->, inputs ^) and top-{k} retrieved", fontsize=9)
    fig.subplots_adjust(bottom=0.12)
    _caption(fig, "Test pairs, first seed and pd; green = same class as the query.",
             [data_source])
    save(fig, path)


def power_distribution(records: pd.DataFrame, metric: str, paper_unseen: float | None,
                       data_source: str, path: str | Path, paper_label: str = "") -> None:
    """Left: per-run unseen top-1 of the configured split, one column per run and
    selection rule (honest validation choice, the paper's test-selected rule, the best
    test epoch, the untrained head), with the chance level and the paper's value. Right:
    per-run unseen top-1 (validation-selected) of each rotated unseen pair."""
    r = records[(records.metric == metric) & (records.split == "test_unseen")]
    if "pd" in r:  # the labels read "<variant> pd=<pd>, ..."
        r = r.assign(variant=[variant_label(v, p) for v, p in zip(r.variant, r.pd,
                                                                   strict=True)])
    main = r[r.variant.str.contains(" reservoirs x ", regex=False)]
    rot = r[r.variant.str.contains(", unseen ", regex=False) & (r.selection == "val")]
    order = ["val", "paper_rule (test-selected)", "best unseen epoch (test-selected)",
             "untrained head"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), width_ratios=[3, 2])
    ax = axes[0]
    labels, pos = [], 0
    rng = np.random.default_rng(0)  # jitter only
    for (model, variant), g in main.groupby(["model", "variant"], sort=False):
        for k, sel in enumerate(order):
            v = g.loc[g.selection == sel, "value"].to_numpy()
            if v.size:
                ax.scatter(pos + rng.uniform(-0.15, 0.15, v.size), v, s=10, alpha=0.6,
                           color=f"C{k}")
                ax.errorbar(pos, v.mean(), yerr=v.std(ddof=1) if v.size > 1 else 0,
                            fmt="_", ms=18, color="k", capsize=4)
            labels.append(f"{model} {variant.split(',')[0]}\n{sel.split(' (')[0]} (n={v.size})")
            pos += 1
        pos += 0.5
    chance = main["chance"].dropna()
    if len(chance):
        ax.axhline(chance.iloc[0], color="grey", ls=":", label="chance")
    if paper_unseen is not None:
        ax.axhline(paper_unseen, color="r", ls="--", label=f"paper {paper_label} "
                   f"{paper_unseen:g} (one run, test-selected)".replace("  ", " "))
    ticks = [i + 0.5 * (i // len(order)) for i in range(len(labels))]
    ax.set_xticks(ticks, labels, rotation=60, ha="right", fontsize=6)
    ax.set(ylabel=f"test unseen {metric} (%)",
           title="Unseen accuracy by selection rule (one dot per run)")
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[1]
    splits = list(dict.fromkeys(rot.variant))
    for i, v in enumerate(splits):
        vals = rot.loc[rot.variant == v, "value"].to_numpy()
        ax.scatter(i + rng.uniform(-0.15, 0.15, vals.size), vals, s=10, color="C0", alpha=0.7)
        ax.errorbar(i, vals.mean(), yerr=vals.std(ddof=1) if vals.size > 1 else 0, fmt="_",
                    ms=18, color="k", capsize=4)
    if len(chance):
        ax.axhline(chance.iloc[0], color="grey", ls=":")
    ax.set_xticks(range(len(splits)), [v.split("unseen ")[-1].split(" (")[0] for v in splits],
                  fontsize=7)
    ax.set(xlabel="unseen pair", ylabel="test unseen top-1 (%), val-selected",
           title="Rotated unseen pairs")
    fig.subplots_adjust(bottom=0.35)
    _caption(fig, "Test-selected columns (paper rule, best epoch) use the test set to pick "
             "the epoch: analysis only. Bars: mean ± std over runs.", [data_source])
    save(fig, path)
