"""Event preprocessing: frozen dataclass transforms in tonic's style.

The paper's N-MNIST input (`docs/paper-notes.md` §2.1): centre crop 34x34 -> 16x16 (pixels 9..24,
tonic's CenterCrop), one polarity channel, T = 50 binary frames, flattened to 256 inputs
per step. Frames are binary: a pixel is 1 in a bin if it fired at least once there.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tonic.transforms as tt
from tqdm import tqdm

from lsm.datasets.readers import nmnist, ntidigits
from lsm.datasets.splits import check_int, check_real, group_val_split, stratified_val_split

N_BINS_MAX = 100_000  # the config schema's bound on time steps
BINNINGS = ("per_sample_chunks", "fixed")


@dataclass(frozen=True)
class SelectPolarity:
    """Keep only the events of one polarity channel (0 or 1)."""

    polarity: int

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return events[events["p"] == self.polarity]


@dataclass(frozen=True)
class ToBinaryFrames:
    """Bin events into `n_bins` equal bins over ``[0, window_us)``; 1 where a pixel fired.

    Unlike tonic's ``ToFrame(n_time_bins=...)``, the bins are fixed in absolute time (the
    same for every sample) and no event inside the window is dropped. Events at or after
    ``window_us`` are outside the window and ignored.

    Returns uint8 [n_bins, height * width] (row-major: index = y * width + x).
    """

    width: int
    height: int
    n_bins: int
    window_us: int

    def __call__(self, events: np.ndarray) -> np.ndarray:
        t = events["t"]
        inside = (t >= 0) & (t < self.window_us)
        ev = events[inside]
        b = (ev["t"].astype(np.int64) * self.n_bins) // self.window_us
        frames = np.zeros((self.n_bins, self.height * self.width), dtype=np.uint8)
        frames[b, ev["y"].astype(np.int64) * self.width + ev["x"]] = 1
        return frames


def _check_split_args(val_fraction: float, split_seed: int) -> None:
    check_real("frames", "val_fraction", val_fraction, 0.0, 1.0, lo_open=True, hi_open=True)
    check_int("frames", "split_seed", split_seed, 0, 2**63 - 1)


@dataclass(frozen=True)
class VisualPrep:
    """The full N-MNIST preprocessing chain, hashable and recordable."""

    crop: int = 16
    polarity: int = 0
    n_bins: int = 50
    window_us: int = 315_000

    def __post_init__(self) -> None:
        """Refuse values that would give wrong frames silently (a crop wider than the
        34x34 sensor, a polarity no event has) or fail deep in numpy (0 bins)."""
        w = nmnist.SENSOR_SIZE[0]
        check_int("VisualPrep", "crop", self.crop, 1, w)
        check_int("VisualPrep", "polarity", self.polarity, 0, nmnist.SENSOR_SIZE[2] - 1)
        check_int("VisualPrep", "n_bins", self.n_bins, 1, N_BINS_MAX)
        check_int("VisualPrep", "window_us", self.window_us, 1, 10**9)

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, events: np.ndarray) -> np.ndarray:
        ev = tt.CenterCrop(sensor_size=nmnist.SENSOR_SIZE, size=self.crop)(events)
        ev = SelectPolarity(self.polarity)(ev)
        return ToBinaryFrames(self.crop, self.crop, self.n_bins, self.window_us)(ev)


def nmnist_frames(
    root: str | Path, prep: VisualPrep, val_fraction: float, split_seed: int,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Read an N-MNIST folder and return frames and labels for train, val and test.

    Keys: ``x_train`` uint8 [N, T, C], ``y_train`` int64 [N], likewise ``_val`` and
    ``_test``. Validation is a stratified part of Train (seeded by `split_seed`).
    """
    _check_split_args(val_fraction, split_seed)  # before any file is read
    out: dict[str, np.ndarray] = {}
    listed = nmnist.list_splits(root)  # both listed (and their classes compared) first
    for split in ("Train", "Test"):
        items = listed[split]
        xs = np.stack(
            [prep(nmnist.read_bin(f)) for f, _ in tqdm(items, desc=f"frames {split}",
                                                       disable=not progress, mininterval=2)]
        )
        ys = np.array([lab for _, lab in items], dtype=np.int64)
        if split == "Train":
            tr, va = stratified_val_split(ys, val_fraction, split_seed)
            out["x_train"], out["y_train"] = xs[tr], ys[tr]
            out["x_val"], out["y_val"] = xs[va], ys[va]
        else:
            out["x_test"], out["y_test"] = xs, ys
    return out


@dataclass(frozen=True)
class AudioPrep:
    """N-TIDIGITS events to binary frames [n_bins, 64] (paper §2.2).

    ``per_sample_chunks`` reproduces the authors' ``rec_array_to_spike_train``: events in
    1 ms bins over ``L = floor(t_max_ms) + 1`` bins, grouped into chunks of
    ``ceil(L / n_bins)`` bins (so every utterance spans at most n_bins steps, each with its
    own bin width), binarised and zero-padded at the end. ``fixed`` uses bins of
    ``bin_ms`` from t = 0, truncated or zero-padded to n_bins.
    """

    binning: str = "per_sample_chunks"
    n_bins: int = 129
    bin_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.binning not in BINNINGS:
            raise ValueError(f"AudioPrep.binning must be one of {', '.join(BINNINGS)}, not "
                             f"{self.binning!r}.")
        check_int("AudioPrep", "n_bins", self.n_bins, 1, N_BINS_MAX)
        check_real("AudioPrep", "bin_ms", self.bin_ms, 0.0, math.inf, lo_open=True,
                   hi_open=True)

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, events: np.ndarray) -> np.ndarray:
        frames = np.zeros((self.n_bins, ntidigits.N_CHANNELS), dtype=np.uint8)
        if events.size == 0:
            return frames
        t_ms = events["t"] / 1000.0
        if self.binning == "per_sample_chunks":
            ms = np.floor(t_ms).astype(np.int64)
            length = int(ms.max()) + 1
            chunk = -(-length // self.n_bins)  # ceil
            b = ms // chunk
        elif self.binning == "fixed":
            b = np.floor(t_ms / self.bin_ms).astype(np.int64)
        else:
            raise ValueError(f"binning must be per_sample_chunks or fixed, not {self.binning!r}")
        keep = b < self.n_bins
        frames[b[keep], events["x"][keep]] = 1
        return frames


def ntidigits_frames(
    path: str | Path, prep: AudioPrep, val_fraction: float, split_seed: int,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Frames and labels (paper mapping z->0 .. o->10) for train, val and test.

    Validation holds out whole train *speakers*, so no voice is in both. Also returns
    ``speakers_{split}`` (speaker codes) for audits.
    """
    _check_split_args(val_fraction, split_seed)  # before any file is read
    out: dict[str, np.ndarray] = {}
    classes: dict[str, set[int]] = {}
    for split in ("train", "test"):
        utts = ntidigits.read_split(path, split, single_digits=True)
        classes[split] = {u.label for u, _ in utts}
        if split == "test":  # before any test frame is made
            ntidigits.check_same_classes(path, classes)
        xs = np.stack([prep(ev) for _, ev in tqdm(utts, desc=f"frames {split}",
                                                  disable=not progress, mininterval=2)])
        ys = np.array([u.label for u, _ in utts], dtype=np.int64)
        spk = np.array([u.speaker for u, _ in utts])
        if split == "train":
            tr, va = group_val_split(spk, val_fraction, split_seed)
            for name, idx in (("train", tr), ("val", va)):
                out[f"x_{name}"], out[f"y_{name}"] = xs[idx], ys[idx]
                out[f"speakers_{name}"] = spk[idx]
        else:
            out["x_test"], out["y_test"], out["speakers_test"] = xs, ys, spk
    return out


def coarsen_bins(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Binary frames [N, T, C] -> [N, n_bins, C] (n_bins <= T): bin k is the OR of the
    consecutive input bins ``floor(k T / n_bins) .. floor((k + 1) T / n_bins) - 1``.

    Why: the paper bins N-TIDIGITS per model (SRNN-ANN 90 bins, SRNN-SNN 70, RNN 50;
    §3.1) by chunking each utterance into that many bins; our frames are chunked per
    utterance into T = 129 bins already, so grouping them reproduces "the whole utterance
    in n_bins bins" up to the rounding of the chunk edges (documented in docs/)."""
    x = np.asarray(x)
    n_t = x.shape[1]
    if not 1 <= n_bins <= n_t:
        raise ValueError(f"n_bins must be in 1..{n_t} (the frames' bins), got {n_bins}")
    if n_bins == n_t:
        return x
    edges = (np.arange(n_bins + 1) * n_t) // n_bins
    return np.maximum.reduceat(x, edges[:-1], axis=1)
