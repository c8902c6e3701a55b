"""Write a simulated handwriting-BCI session and paired EMNIST-like letter images.

Neural: per letter, 27 trials (9 blocks x 3 repetitions) of 201 bins x 192 channels,
each a pen trajectory (Hershey glyph, jittered, timed by Willett's per-letter duration)
driving :class:`lsm.sim.neural.Population`; written as ``singleLetters.mat`` with the
real variable names. Letters: independent draws of the same glyphs rendered to 28x28,
written as ``emnist-letters-{train,test}-*-ubyte`` (transposed, labels 1..26).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lsm import atomic
from lsm.io import emnist, willett
from lsm.sim import handwriting as hw
from lsm.sim.neural import Population, PopulationParams, trial_kinematics

GENERATOR_VERSION = "hershey-cosine-poisson-1"
N_BLOCKS, N_REPS = 9, 3
GO_BIN = 50
MAT_NAME = "singleLetters.mat"


def _font(rng: np.random.Generator) -> str:
    fonts = hw.PRINT_FONTS if rng.random() < 0.7 else hw.CURSIVE_FONTS
    return fonts[int(rng.integers(len(fonts)))]


def _letter_trials(args: tuple) -> tuple[str, np.ndarray]:
    letter, seed, params, block_gain = args
    pop = Population(params, seed)
    li = willett.LETTERS.index(letter) if letter in willett.LETTERS else 26
    cube = np.zeros((N_BLOCKS * N_REPS, willett.N_BINS, params.n_channels), dtype=np.uint8)
    for trial in range(cube.shape[0]):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, li, trial]))
        start = GO_BIN + int(rng.integers(8, 21))
        if letter in willett.LETTERS:
            n = int(willett.CHAR_LEN[letter] * rng.uniform(0.85, 1.15))
            # One writer (T5) writes consistently: one font for the whole session.
            path = hw.pen_path(letter, params.writer_font)
            pos = hw.resample_min_jerk(hw.jitter(path, rng, params.writer_jitter), n)
            vel, moving = trial_kinematics(pos, start)
        else:  # doNothing: the cue appears, no movement follows
            vel, moving = np.zeros((willett.N_BINS, 2)), np.zeros(willett.N_BINS)
        rates = pop.rates(vel, moving, block_gain[trial // N_REPS])
        cube[trial] = pop.counts(rates, rng)
    return letter, cube


def _letter_images(args: tuple) -> tuple[str, np.ndarray, np.ndarray]:
    letter, seed, n_train, n_test = args
    li = willett.LETTERS.index(letter)
    out = []
    for split_id, n in ((2, n_train), (3, n_test)):
        imgs = np.empty((n, 28, 28), dtype=np.uint8)
        for k in range(n):
            rng = np.random.default_rng(np.random.SeedSequence([seed, split_id, li, k]))
            a = hw.random_affine(rng, 0.15)
            imgs[k] = hw.render([s @ a.T for s in hw.strokes(letter, _font(rng))], rng)
        out.append(imgs)
    return letter, out[0], out[1]


def simulate_bmi(
    out_dir: str | Path, n_images_train_per_letter: int, n_images_test_per_letter: int,
    seed: int, params: PopulationParams | None = None, workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Write a fresh `out_dir` (replacing an older one whole) holding
    ``singleLetters.mat``, ``emnist/`` IDX files and, last, ``MANIFEST.json`` (with the
    folder's ``contents``, checked by the frames step)."""
    params = params or PopulationParams()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB10C]))
    block_gain = rng.lognormal(0, params.block_gain_sigma, (N_BLOCKS, params.n_channels))
    names = [*willett.LETTERS, "doNothing"]
    workers = workers or min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        cubes = dict(tqdm(pool.map(_letter_trials, [(c, seed, params, block_gain)
                                                    for c in names]),
                          total=len(names), desc="simulate neural trials",
                          disable=not progress, mininterval=2))
        imgs = list(tqdm(pool.map(_letter_images, [(c, seed, n_images_train_per_letter,
                                                    n_images_test_per_letter)
                                                   for c in willett.LETTERS]),
                         total=26, desc="render letters", disable=not progress,
                         mininterval=2))
    allc = np.concatenate([cubes[c] for c in names]).astype(np.float64)
    by_block = allc.reshape(len(names), N_BLOCKS, N_REPS, willett.N_BINS, -1)
    cues = np.empty((len(names) * N_BLOCKS * N_REPS, 1), dtype=object)
    cues[:, 0] = [c for c in names for _ in range(N_BLOCKS * N_REPS)]
    extra = {
        "meansPerBlock": by_block.mean(axis=(0, 2, 3)),
        "stdAcrossAllData": allc.reshape(-1, allc.shape[-1]).std(0)[None, :],
        "characterCues": cues,
        "blockList": np.arange(1, N_BLOCKS + 1)[:, None],
        "goPeriodOnsetTimeBin": np.full((cues.shape[0], 1), GO_BIN),
    }
    letters_only = np.concatenate([cubes[c] for c in willett.LETTERS])
    with atomic.atomic_dir(out_dir, allowed=(MAT_NAME, "emnist", atomic.MANIFEST)) as tmp:
        willett.write_single_letters(tmp / MAT_NAME, cubes, extra)
        for split, k in (("train", 1), ("test", 2)):
            images = np.concatenate([im[k] for im in imgs])
            labels = np.concatenate([np.full(im[k].shape[0],
                                             willett.LETTERS.index(im[0]) + 1)
                                     for im in imgs])
            emnist.write_letters(tmp / "emnist", split, images, labels)
        manifest = {
            "format": "willett-singleLetters-mat+emnist-idx",
            "generator_version": GENERATOR_VERSION,
            "data_source": "simulated", "seed": seed, "population": params.to_dict(),
            "trials_per_letter": N_BLOCKS * N_REPS,
            "images_train_per_letter": n_images_train_per_letter,
            "images_test_per_letter": n_images_test_per_letter,
            "mean_rate_hz": float(letters_only.mean() * 1000 / willett.BIN_MS),
            "strokes": "Hershey fonts (A. V. Hershey, U.S. National Bureau of Standards)",
            "contents": atomic.folder_contents(tmp),
        }
        atomic.write_json(tmp / atomic.MANIFEST, manifest)
    return manifest
