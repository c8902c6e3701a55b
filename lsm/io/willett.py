"""Willett et al. (2021) handwriting BCI: ``singleLetters.mat`` (MATLAB v5, scipy.io).

``neuralActivityCube_<c>``: [27 trials, 201 bins of 10 ms, 192 electrodes] integer
threshold-crossing counts, one cube per character (a..z plus punctuation and
``doNothing``); 27 trials = 9 blocks x 3 repetitions. The go cue is near bin 50.
Session used by the paper: ``Datasets/t5.2019.05.08/singleLetters.mat``.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import scipy.io

from lsm.errors import DataFormatError

LETTERS = list(string.ascii_lowercase)
N_CHANNELS = 192
N_BINS = 201
N_TRIALS = 27
BIN_MS = 10
# Willett's characterDefinitions.py: per-letter writing durations in 10 ms bins (a..z).
CHAR_LEN = dict(zip(LETTERS, [99, 91, 70, 104, 98, 125, 110, 104, 79, 92, 127, 68, 132, 90,
                              84, 113, 104, 74, 86, 110, 86, 83, 110, 103, 115, 100],
                    strict=True))


def read_single_letters(path: str | Path, letters: list[str] | None = None
                        ) -> dict[str, np.ndarray]:
    """Return ``{letter: cube int [trials, 201, 192]}`` for the requested letters."""
    path = Path(path)
    letters = letters or LETTERS
    if not path.is_file():
        raise DataFormatError(path, "file not found.",
                              "set datasets.willett.data_dir to the folder holding "
                              "singleLetters.mat (Dryad doi:10.5061/dryad.wh70rxwmv).")
    names = [f"neuralActivityCube_{c}" for c in letters]
    try:
        mat = scipy.io.loadmat(path, variable_names=names)
    except (ValueError, OSError, NotImplementedError) as exc:
        raise DataFormatError(path, f"not a readable MATLAB v5 file ({exc}).") from exc
    out = {}
    for c, name in zip(letters, names, strict=True):
        if name not in mat:
            raise DataFormatError(path, f"missing variable '{name}'.",
                                  "use the singleLetters.mat of session t5.2019.05.08.")
        cube = np.asarray(mat[name])
        if cube.ndim != 3 or cube.shape[1:] != (N_BINS, N_CHANNELS):
            raise DataFormatError(path, f"'{name}' has shape {cube.shape}, expected "
                                  f"(trials, {N_BINS}, {N_CHANNELS}).")
        out[c] = cube
    return out


def write_single_letters(path: str | Path, cubes: dict[str, np.ndarray],
                         extra: dict[str, np.ndarray] | None = None) -> None:
    """Write cubes (and extra variables) with the real variable names (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.mat")
    data = {f"neuralActivityCube_{c}": np.asarray(v) for c, v in cubes.items()}
    data.update(extra or {})
    scipy.io.savemat(tmp, data, do_compression=True)
    tmp.replace(path)
