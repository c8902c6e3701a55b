"""Brain-machine-interface inputs (`docs/paper-notes.md` §2.4): neural trials and letter images as
binary event frames, split for zero-shot training.

* Neural: Willett's ``neuralActivityCube_<c>`` trials [201 bins of 10 ms, 192 channels],
  threshold-crossing counts clamped to binary events (``min(x, 1)``, the authors' loader).
  Per letter, the *last* trials (the last recording blocks) are the test set and the ones
  before them the validation set, so neither is interleaved with training in time.
* Letters: EMNIST-letters images, Bernoulli rate-coded over ``n_steps`` steps: a pixel
  spikes at a step with probability ``gain * x``. With ``paper_normalize`` (default, as the
  authors' ``Normalize((0.5,), (0.5,))``) x = 2 I - 1, so only pixels brighter than mid-grey
  ever spike; otherwise x = I. The authors re-seeded the random generator for every image,
  so all images shared one noise pattern; ``shared_noise`` reproduces that (off by default).
  Simulated letters come in two sets (``lsm.datasets.simulators.bmi_dataset``:
  font-disjoint from the neural writer, the default, and the mixed-font ablation); both
  are rate-coded with the same seeds, so an image the two sets share gets the same spikes in both.

Labels are 0..25 (a..z) on both sides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lsm.datasets.readers import emnist, willett
from lsm.datasets.splits import SEED_MAX, check_bool, check_int, check_real, stratified_val_split
from lsm.errors import DataFormatError


@dataclass(frozen=True)
class LetterPrep:
    n_steps: int = 49
    gain: float = 0.4  # max_is_present_for / N_ts = 20 / 50 in the authors' transformRate
    paper_normalize: bool = True
    shared_noise: bool = False

    def __post_init__(self) -> None:
        check_int("LetterPrep", "n_steps", self.n_steps, 1, 100_000)
        check_real("LetterPrep", "gain", self.gain, 0.0, 1.0, lo_open=True)
        check_bool("LetterPrep", "paper_normalize", self.paper_normalize)
        check_bool("LetterPrep", "shared_noise", self.shared_noise)

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, images: np.ndarray, seed: int, chunk: int = 512) -> np.ndarray:
        """uint8 images [N, 28, 28] -> uint8 spikes [N, n_steps, 784] (chunked: the
        uniform draws of a large split would not fit in memory at once)."""
        x = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
        if self.paper_normalize:
            x = 2.0 * x - 1.0
        p = self.gain * np.clip(x, 0.0, 1.0)
        out = np.empty((x.shape[0], self.n_steps, x.shape[1]), dtype=np.uint8)
        rng = np.random.default_rng(seed)
        shared = rng.random((self.n_steps, x.shape[1]), dtype=np.float32)
        for i in range(0, x.shape[0], chunk):
            pc = p[i : i + chunk, None, :]
            u = shared if self.shared_noise else rng.random(
                (pc.shape[0], self.n_steps, x.shape[1]), dtype=np.float32)
            out[i : i + chunk] = u < pc
        return out


@dataclass(frozen=True)
class BMISplit:
    """How trials and images are split and how many images per letter are kept."""

    n_test_trials: int = 3
    n_val_trials: int = 3
    max_train_images: int = 300
    max_test_images: int = 100
    val_fraction: float = 0.1
    split_seed: int = 0

    def __post_init__(self) -> None:
        """The config schema's ranges: a value outside them fails deep in numpy or gives
        an empty split (no test trials, one train image to split)."""
        check_int("BMISplit", "n_test_trials", self.n_test_trials, 1, 25)
        check_int("BMISplit", "n_val_trials", self.n_val_trials, 1, 25)
        check_int("BMISplit", "max_train_images", self.max_train_images, 2, 1_000_000)
        check_int("BMISplit", "max_test_images", self.max_test_images, 1, 1_000_000)
        check_real("BMISplit", "val_fraction", self.val_fraction, 0.0, 1.0, lo_open=True,
                   hi_open=True)
        check_int("BMISplit", "split_seed", self.split_seed, 0, SEED_MAX)

    def to_dict(self) -> dict:
        return asdict(self)


def neural_frames(mat_path: str | Path, split: BMISplit) -> dict[str, np.ndarray]:
    """Binary neural frames per split: ``x_{split}`` uint8 [N, 201, 192], ``y_{split}``,
    and ``trial_{split}`` (the trial index within its letter's cube)."""
    cubes = willett.read_single_letters(mat_path)
    parts: dict[str, list] = {s: [] for s in ("train", "val", "test")}
    for li, c in enumerate(willett.LETTERS):
        cube = cubes[c]
        n = cube.shape[0]
        n_train = n - split.n_test_trials - split.n_val_trials
        if n_train < 1:
            raise DataFormatError(mat_path, f"letter '{c}' has {n} trials, too few for "
                                  f"{split.n_val_trials} validation + {split.n_test_trials} "
                                  "test trials.", "lower n_val_trials / n_test_trials.")
        bounds = {"train": (0, n_train), "val": (n_train, n_train + split.n_val_trials),
                  "test": (n_train + split.n_val_trials, n)}
        for s, (a, b) in bounds.items():
            parts[s].append((np.minimum(cube[a:b], 1).astype(np.uint8),
                             np.full(b - a, li, dtype=np.int64), np.arange(a, b)))
    out = {}
    for s, items in parts.items():
        out[f"x_{s}"] = np.concatenate([x for x, _, _ in items])
        out[f"y_{s}"] = np.concatenate([y for _, y, _ in items])
        out[f"trial_{s}"] = np.concatenate([t for _, _, t in items])
    return out


def _first_per_letter(labels: np.ndarray, n: int) -> np.ndarray:
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(26)]))


def letter_frames(emnist_dir: str | Path, prep: LetterPrep, split: BMISplit
                  ) -> dict[str, np.ndarray]:
    """Rate-coded letter frames per split (validation: a stratified part of the kept
    EMNIST-train images). Keys ``x_{split}`` uint8 [N, n_steps, 784] and ``y_{split}``.

    Both splits are read and checked before any frame is made: every letter needs at
    least 2 kept train images (the validation split takes one) and 1 test image."""
    kept = {}
    for s, cap, need, why in (
            ("train", split.max_train_images, 2, "the validation split needs at least 2 "
             "of every letter."),
            ("test", split.max_test_images, 1, "every letter needs at least 1 test image.")):
        images, labels = emnist.read_letters(emnist_dir, s)
        keep = _first_per_letter(labels - 1, cap)
        images, labels = images[keep], labels[keep] - 1
        counts = np.bincount(labels, minlength=26)
        if counts.min() < need:
            c = int(counts.argmin())
            raise DataFormatError(emnist.letters_paths(emnist_dir, s)[1],
                                  f"letter '{willett.LETTERS[c]}' has {counts[c]} {s} "
                                  f"image(s); {why}", "use the full EMNIST letters files.")
        kept[s] = images, labels
    images, labels = kept["train"]
    tr, va = stratified_val_split(labels, split.val_fraction, split.split_seed)
    out = {"x_train": prep(images[tr], seed=split.split_seed * 3 + 1), "y_train": labels[tr],
           "x_val": prep(images[va], seed=split.split_seed * 3 + 2), "y_val": labels[va]}
    images, labels = kept["test"]
    out["x_test"] = prep(images, seed=split.split_seed * 3 + 3)
    out["y_test"] = labels
    return out
