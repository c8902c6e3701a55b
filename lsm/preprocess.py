"""Event preprocessing: frozen dataclass transforms in tonic's style.

The paper's N-MNIST input (`paper.md` §2.1): centre crop 34x34 -> 16x16 (pixels 9..24,
tonic's CenterCrop), one polarity channel, T = 50 binary frames, flattened to 256 inputs
per step. Frames are binary: a pixel is 1 in a bin if it fired at least once there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tonic.transforms as tt
from tqdm import tqdm

from lsm.io import nmnist
from lsm.splits import stratified_val_split


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


@dataclass(frozen=True)
class VisualPrep:
    """The full N-MNIST preprocessing chain, hashable and recordable."""

    crop: int = 16
    polarity: int = 0
    n_bins: int = 50
    window_us: int = 315_000

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
    out: dict[str, np.ndarray] = {}
    for split in ("Train", "Test"):
        items = nmnist.list_split(root, split)
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
