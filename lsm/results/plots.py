"""Figures. Every figure carries a caption line stating the data source, and is written
twice: a PNG to look at and an SVG (vector) to put in a paper."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lsm import atomic
from lsm.results.contract import data_caption


def _caption(fig: plt.Figure, text: str, sources: list[str]) -> None:
    cap = f"{text} {data_caption(sources).replace('**', '')}"
    fig.text(0.01, 0.005, cap, ha="left", va="bottom", fontsize=7, wrap=True)


# every figure's formats: the PNG is the path the workflow names, the SVG lies beside it
FORMATS = (".png", ".svg")
# SVG element ids from a fixed salt (not a random one): the same figure, the same bytes
plt.rcParams["svg.hashsalt"] = "lsm-bench"


def render(fig: plt.Figure) -> dict[str, bytes]:
    """The figure in every format of :data:`FORMATS` (bytes; nothing written), then closed.
    The SVG carries no date, so reruns give identical files."""
    out = {}
    try:
        for ext in FORMATS:
            buf = io.BytesIO()
            extra: dict = {"dpi": 130} if ext == ".png" else {"metadata": {"Date": None}}
            fig.savefig(buf, format=ext[1:], bbox_inches="tight", **extra)
            out[ext] = buf.getvalue()
    finally:
        plt.close(fig)
    return out


def write_figure(images: dict[str, bytes], path: str | Path) -> None:
    """Write :func:`render`'s images beside each other: `path` (the .png) and its .svg,
    each atomically."""
    path = Path(path)
    for ext, data in images.items():
        atomic.write_bytes(path.with_suffix(ext), data)


def save(fig: plt.Figure, path: str | Path) -> None:
    """Write `fig` to `path` (PNG) and beside it as SVG; closes it."""
    write_figure(render(fig), path)


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


def event_frames(events: np.ndarray, title: str, path: str | Path, n: int = 6,
                 sensor: int = 34) -> None:
    """ON/OFF event frames in `n` equal time slices, and the event rate over time."""
    t = events["t"]
    edges = np.linspace(0, max(int(t.max()) + 1, 1), n + 1)
    fig, axes = plt.subplots(1, n + 1, figsize=(2.0 * (n + 1), 2.4))
    for k in range(n):
        sl = events[(t >= edges[k]) & (t < edges[k + 1])]
        img = np.zeros((sensor, sensor))
        np.add.at(img, (sl["y"], sl["x"]), np.where(sl["p"] == 1, 1.0, -1.0))
        lim = max(np.abs(img).max(), 1)
        axes[k].imshow(img, cmap="bwr", vmin=-lim, vmax=lim)
        axes[k].set(title=f"{edges[k] / 1000:.0f}-{edges[k + 1] / 1000:.0f} ms", xticks=[],
                    yticks=[])
    rate, be = np.histogram(t, bins=60)
    axes[n].plot(be[:-1] / 1000, rate)
    axes[n].set(xlabel="ms", ylabel="events/bin", title="event rate")
    fig.suptitle(f"{title} — red ON, blue OFF", fontsize=9)
    save(fig, path)


def cochleagram(events: np.ndarray, title: str, path: str | Path, n_channels: int = 64
                ) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.scatter(events["t"] / 1000, events["x"], s=1, c="k", marker="|")
    ax.set(xlabel="time (ms)", ylabel="channel (0 = lowest frequency)", ylim=(-1, n_channels),
           title=title)
    save(fig, path)


def neural_raster(trial: np.ndarray, title: str, path: str | Path) -> None:
    """Threshold-crossing counts [bins, channels] of one trial."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    im = ax.imshow(trial.T, aspect="auto", cmap="Greys", interpolation="nearest",
                   extent=(0, trial.shape[0] * 10, trial.shape[1], 0))
    ax.axvline(500, color="r", lw=0.8, label="go cue")
    ax.set(xlabel="time (ms)", ylabel="electrode", title=title)
    ax.legend(loc="upper right", fontsize=7)
    fig.colorbar(im, ax=ax, label="counts / 10 ms")
    save(fig, path)


def montage(images: np.ndarray, labels: np.ndarray, path: str | Path, per_class: int = 6
            ) -> None:
    classes = np.unique(labels)
    fig, axes = plt.subplots(per_class, len(classes),
                             figsize=(0.45 * len(classes), 0.45 * per_class))
    axes = np.atleast_2d(axes)
    for j, c in enumerate(classes):
        idx = np.flatnonzero(labels == c)[:per_class]
        for i in range(per_class):
            ax = axes[i, j]
            ax.axis("off")
            if i < idx.size:
                ax.imshow(images[idx[i]], cmap="gray")
    save(fig, path)


def _frame(events: np.ndarray, sensor: int = 34) -> np.ndarray:
    img = np.zeros((sensor, sensor))
    np.add.at(img, (events["y"], events["x"]), np.where(events["p"] == 1, 1.0, -1.0))
    return img


def datasets_overview(real: np.ndarray, sim: list[np.ndarray], loaded: dict, sources: list[str],
                      path: str | Path) -> None:
    """Simulated beside real N-MNIST, event rates, class counts, a cochleagram, a neural
    raster and letter images, on one page."""
    from lsm.datasets.calibration import rate_profile

    fig, ax = plt.subplots(2, 4, figsize=(16, 7.5))
    ax = ax.ravel()
    for k, (ev, name) in enumerate([(real, "real N-MNIST '4'"),
                                    (sim[0] if sim else None, "simulated N-MNIST")]):
        if ev is None:
            ax[k].axis("off")
            continue
        img = _frame(ev)
        lim = max(np.abs(img).max(), 1)
        ax[k].imshow(img, cmap="bwr", vmin=-lim, vmax=lim)
        ax[k].set(title=f"{name}: {ev.size} events\n(red ON, blue OFF)", xticks=[], yticks=[])
    t = np.linspace(0, 315, 43)[:-1]
    ax[2].plot(t, rate_profile(real), label="real")
    if sim:
        ax[2].plot(t, rate_profile(sim[0]), label="simulated")
    ax[2].set(xlabel="time (ms)", ylabel="share of events", title="event rate (3 saccades)")
    ax[2].legend(fontsize=8)
    bars = {}
    if "nmnist_Train_labels" in loaded:
        bars["N-MNIST train"] = np.bincount(loaded["nmnist_Train_labels"], minlength=10)
    if "ntidigits_train" in loaded:
        bars["N-TIDIGITS train"] = np.bincount([u.label for u, _ in loaded["ntidigits_train"]],
                                               minlength=11)
    for j, (name, b) in enumerate(bars.items()):
        ax[3].bar(np.arange(b.size) + 0.4 * j, b, width=0.4, label=name)
    ax[3].set(xlabel="class", ylabel="samples", title="class counts")
    if bars:
        ax[3].legend(fontsize=8)
    if "ntidigits_train" in loaded:
        utt, ev = loaded["ntidigits_train"][min(7, len(loaded["ntidigits_train"]) - 1)]
        ax[4].scatter(ev["t"] / 1000, ev["x"], s=1, c="k", marker="|")
        ax[4].set(xlabel="time (ms)", ylabel="channel", title=f"cochleagram: {utt.key}")
    else:
        ax[4].axis("off")
    if "willett" in loaded:
        trial = loaded["willett"]["a"][0]
        ax[5].imshow(trial.T, aspect="auto", cmap="Greys", extent=(0, 2010, 192, 0))
        ax[5].axvline(500, color="r", lw=0.8)
        ax[5].set(xlabel="time (ms); red = go cue", ylabel="electrode",
                  title="neural raster: letter 'a'")
    else:
        ax[5].axis("off")
    if "emnist_train" in loaded:
        imgs, labs = loaded["emnist_train"]
        pick = [np.flatnonzero(labs == c)[0] for c in range(1, 27) if (labs == c).any()][:24]
        tile = np.vstack([np.hstack([imgs[i] for i in pick[r * 6:(r + 1) * 6]])
                          for r in range(len(pick) // 6)]) if len(pick) >= 6 else imgs[0]
        ax[6].imshow(tile, cmap="gray")
        ax[6].set(title="letter images (EMNIST format)", xticks=[], yticks=[])
    else:
        ax[6].axis("off")
    ax[7].axis("off")
    fig.subplots_adjust(bottom=0.1, hspace=0.35)
    _caption(fig, "Dataset overview.", sources)
    save(fig, path)


def nmnist_calibration(real: np.ndarray, sims: list[np.ndarray], cal: dict,
                       sources: list[str], path: str | Path) -> None:
    """Event-rate profile and events per sample, simulated against the real recording."""
    from lsm.datasets.calibration import rate_profile, saccade_fractions

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    t = np.linspace(0, 315, 43)[:-1]
    ax[0].plot(t, rate_profile(real), "k", lw=2, label="real '4'")
    if sims:
        prof = np.array([rate_profile(s) for s in sims])
        ax[0].plot(t, prof.mean(0), label=f"simulated '4' (mean of {len(sims)})")
        ax[0].fill_between(t, prof.mean(0) - prof.std(0), prof.mean(0) + prof.std(0), alpha=.3)
        ax[1].hist([s.size for s in sims], bins=20, alpha=0.7, label="simulated")
        fr = np.array([saccade_fractions(s) for s in sims]).mean(0)
        ax[2].bar(np.arange(3) + 0.2, fr, width=0.4, label="simulated")
    ax[0].set(xlabel="time (ms)", ylabel="share of events", title="event rate over time")
    ax[0].legend(fontsize=8)
    ax[1].axvline(real.size, color="k", lw=2, label="real")
    ax[1].axvspan(real.size * 0.7, real.size * 1.3, color="k", alpha=0.08, label="±30 %")
    ax[1].set(xlabel="events per sample", ylabel="samples", title="events per sample")
    ax[1].legend(fontsize=8)
    ax[2].bar(np.arange(3) - 0.2, saccade_fractions(real), width=0.4, color="k", label="real")
    ax[2].set(xticks=range(3), xticklabels=["saccade 1", "saccade 2", "saccade 3"],
              ylabel="share of events", title="events per saccade")
    ax[2].legend(fontsize=8)
    if cal:
        fig.suptitle(f"DVS simulator calibration: sim/real events = "
                     f"{cal['sim_over_real_events']:.2f}, rate-profile r = "
                     f"{cal['rate_profile_correlation']:.2f}, bell ratio sim "
                     f"{cal['sim_bell_ratio']:.2f} vs real {cal['real_bell_ratio']:.2f}",
                     fontsize=9)
    fig.subplots_adjust(bottom=0.22)
    _caption(fig, "Real: one genuine N-MNIST recording.", sources)
    save(fig, path)


_AXIS_LABEL = {"read_sigma": "relative read noise σ", "prog_sigma_us": "programming error σ (µS)",
               "bits": "bits per cell (0 = analogue)", "p_stuck": "stuck-at fault rate",
               "drift_t_s": "time since programming (s)"}


def variability(rows: pd.DataFrame, title: str, data_source: str, path: str | Path) -> None:
    """Test accuracy against each non-ideality: mean ± std over seeds, for the readout
    trained on the ideal chip and the variability-aware one; dashed: the nominal chip."""
    axes_names = [a for a in _AXIS_LABEL if a in set(rows["axis"])]
    fig, axs = plt.subplots(1, len(axes_names), figsize=(3.6 * len(axes_names), 3.4),
                            squeeze=False)
    nominal = rows[rows["axis"] == "none"]["accuracy"]
    for ax, axis in zip(axs[0], axes_names, strict=True):
        sub = rows[rows["axis"] == axis]
        for training, c in (("trained on ideal", "C3"), ("variability-aware", "C0")):
            g = sub[sub["training"] == training].groupby("value")["accuracy"]
            m, s = g.mean(), g.std(ddof=1).fillna(0.0)
            xs = np.arange(len(m)) if axis in ("bits", "drift_t_s") else m.index.to_numpy()
            ax.plot(xs, m.values, "o-", color=c, label=training)
            ax.fill_between(xs, m - s, m + s, color=c, alpha=0.2)
            if axis in ("bits", "drift_t_s"):
                ax.set_xticks(xs, [f"{v:g}" for v in m.index], fontsize=7)
        ax.axhline(nominal.mean(), color="k", ls="--", lw=0.8, label="nominal chip")
        ax.set(xlabel=_AXIS_LABEL[axis], ylabel="test accuracy (%)")
    axs[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(bottom=0.25, wspace=0.3)
    _caption(fig, f"Mean ± std over {rows['seed'].nunique()} seeds; epochs selected on "
                  "validation.", [data_source])
    save(fig, path)


def accuracy_vs_cost(acc: pd.DataFrame, cost: pd.DataFrame, dataset: str, path: str | Path
                     ) -> None:
    """Test accuracy (mean ± std over seeds) against total training MACs (event-driven
    encoding counted for the LSM), log axis; the paper's accuracy as hollow markers at the
    same cost (the paper gives no per-model cost)."""
    a = acc[(acc.dataset == dataset) & (acc.split == "test") & (acc.metric == "accuracy")]
    c = cost[(cost.dataset == dataset) & (cost.metric == "total_macs_events")]
    m = a.merge(c[["model", "variant", "mean"]], on=["model", "variant"], suffixes=("", "_c"))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for k, r in enumerate(m.itertuples()):
        label = f"{r.model} ({r.variant})"
        ax.errorbar(r.mean_c, r.mean, yerr=r.std, fmt="o", color=f"C{k}", capsize=3,
                    label=label)
        if not pd.isna(r.paper):
            ax.plot(r.mean_c, r.paper, "o", mfc="none", color=f"C{k}", ms=9)
            ax.annotate(f"paper {r.paper:.1f}", (r.mean_c, r.paper), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.plot([], [], "o", mfc="none", color="gray", label="paper's value (test-selected)")
    ax.set(xscale="log", xlabel="total training cost (MACs; LSM encoding event-driven)",
           ylabel="test accuracy (%)", title=f"{dataset}: accuracy against training cost")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))  # keep points visible
    fig.subplots_adjust(bottom=0.22)
    _caption(fig, "Mean ± std over seeds; selection on validation.",
             sorted(set(a["data_source"])) or ["real"])
    save(fig, path)


def cost_ratio_vs_epochs(curves: dict[str, pd.DataFrame], paper: dict[str, float],
                         title: str, data_source: str, path: str | Path) -> None:
    """One line per (ratio, count) against training epochs (log y); the paper's values as
    stars at 100 epochs, labelled as points whose formula is unknown."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = {"dense": "-", "events": "--"}
    for i, (name, df) in enumerate(curves.items()):
        color = f"C{i}"
        for count, g in df.groupby("count", sort=False):
            label = f"{name}, {'dense / dense' if count == 'dense' else 'event / event'}"
            ax.plot(g["epochs"], g["ratio"], styles.get(count, ":"), color=color, label=label)
        if name in paper:
            ax.plot([100], [paper[name]], "*", color=color, markersize=14, mec="k",
                    label=f"{name}: paper {paper[name]:g}x (formula, epochs unknown)")
    ax.set_yscale("log")
    ax.set_xlabel("training epochs (both models)")
    ax.set_ylabel("training-cost ratio (x)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(bottom=0.22)  # room for the caption below the axis label
    ax.grid(alpha=0.3, which="both")
    _caption(fig, "Ratio of total training operations, numerator / denominator; "
             "encoding counted once for the training samples.", [data_source])
    save(fig, path)
