"""Write a simulated handwriting-BCI session and paired EMNIST-like letter images.

Neural: per letter, 27 trials (9 blocks x 3 repetitions) of 201 bins x 192 channels,
each a pen trajectory (Hershey glyph, jittered, timed by Willett's per-letter duration)
driving :class:`lsm.datasets.simulators.neural.Population`; written as
``singleLetters.mat`` with the real variable names. Letters: independent draws of the
same glyphs rendered to 28x28, written as ``emnist-letters-{train,test}-*-ubyte``
(transposed, labels 1..26), in two sets:

* ``emnist/`` (the dataset's letters): font-disjoint, no image of a letter is drawn with
  the glyph the neural trials write it with (``PopulationParams.writer_font``, or a font
  with the same glyph: futural and rowmans share all 26, as do scripts and cursive).
  Otherwise 35 % of the images (70 % print x 2 of the 4 print fonts, for the default
  writer futural) would have the trajectories' exact glyph shapes, a trajectory -> image
  link the real data barely has (T5 is not among EMNIST's writers).
* ``emnist_mixed_fonts/`` (the ablation, and the simulator before version 2): the same
  draws, with the writer's glyphs among the image fonts.

Both sets make the same random draws image by image (affine map, font class and font,
pen width); they differ only in the images whose font draws the writer's glyph, which the
disjoint set redraws in another font of the same class (print or cursive; any other class
where the class has none). Labels and order are equal, so the two sets pair identically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lsm import atomic
from lsm.datasets.readers import emnist, willett
from lsm.datasets.simulators import handwriting as hw
from lsm.datasets.simulators.neural import Population, PopulationParams, trial_kinematics
from lsm.datasets.simulators.parallel import parallel_map

# 2: the letter images are font-disjoint from the neural writer (emnist/), the old mixing
# is kept as the emnist_mixed_fonts/ ablation set
GENERATOR_VERSION = "hershey-cosine-poisson-2"
N_BLOCKS, N_REPS = 9, 3
GO_BIN = 50
MAT_NAME = "singleLetters.mat"
# the letter-image sets: folder -> its font rule (datasets.bmi.simulate.image_fonts picks
# the set the workflow's bmi_letters frames read; the ablation's frames read the other)
IMAGE_SETS = {"emnist": "disjoint", "emnist_mixed_fonts": "mixed"}
IMAGE_FONT_RULES = ("disjoint", "mixed")


def _font(rng: np.random.Generator) -> str:
    """The mixed rule's font of one image: print (70 %) or cursive, uniform within."""
    fonts = hw.PRINT_FONTS if rng.random() < 0.7 else hw.CURSIVE_FONTS
    return fonts[int(rng.integers(len(fonts)))]


def disjoint_font(letter: str, font: str, writer_font: str, alt: np.random.Generator
                  ) -> str:
    """The font-disjoint rule's font of an image of `letter`, given the mixed rule's draw
    `font`: the same font, unless it draws the letter with the neural writer's glyph;
    then another font of its class (print or cursive; where the class has none, of the
    other class) with a different glyph, uniform, drawn from `alt` (a generator of its
    own, so the image's other draws stay those of the mixed rule)."""
    if not hw.same_glyph(letter, font, writer_font):
        return font
    own = hw.PRINT_FONTS if font in hw.PRINT_FONTS else hw.CURSIVE_FONTS
    for fonts in (own, [*hw.PRINT_FONTS, *hw.CURSIVE_FONTS]):
        others = [f for f in fonts if not hw.same_glyph(letter, f, writer_font)]
        if others:
            return others[int(alt.integers(len(others)))]
    raise ValueError(f"every font draws '{letter}' as {writer_font} does")


def _alt_rng(seed: int, split_id: int, letter_index: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, split_id, letter_index, k,
                                                         0xF0A7]))


def _image_draws(seed: int, split_id: int, letter_index: int, k: int, writer_font: str
                 ) -> tuple[np.random.Generator, np.ndarray, dict[str, str]]:
    """Image `k` of a letter and split (2 train, 3 test): its generator (next draw: the
    pen width), its affine map and its font under each rule."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, split_id, letter_index, k]))
    a = hw.random_affine(rng, 0.15)
    mixed = _font(rng)
    alt = _alt_rng(seed, split_id, letter_index, k)
    letter = willett.LETTERS[letter_index]
    return rng, a, {"mixed": mixed, "disjoint": disjoint_font(letter, mixed, writer_font, alt)}


def letter_image_fonts(seed: int, split_id: int, letter_index: int, k: int,
                       writer_font: str) -> dict[str, str]:
    """The font of image `k` under each rule (``{"disjoint": ..., "mixed": ...}``), as
    the simulator renders it."""
    return _image_draws(seed, split_id, letter_index, k, writer_font)[2]


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


def _letter_images(args: tuple) -> tuple[str, dict[str, dict[str, tuple]]]:
    """Both image sets of one letter: ``{split: {rule: (images, fonts)}}``. An image whose
    font is the same under both rules is rendered once (the sets share it exactly)."""
    letter, seed, n_train, n_test, writer_font = args
    li = willett.LETTERS.index(letter)
    out: dict[str, dict[str, tuple]] = {}
    for split, split_id, n in (("train", 2, n_train), ("test", 3, n_test)):
        imgs = {r: np.empty((n, 28, 28), dtype=np.uint8) for r in IMAGE_FONT_RULES}
        fonts: dict[str, list[str]] = {r: [] for r in IMAGE_FONT_RULES}
        for k in range(n):
            rng, a, font = _image_draws(seed, split_id, li, k, writer_font)
            mixed, disjoint = font["mixed"], font["disjoint"]
            state = rng.bit_generator.state  # the pen width: the same draw in both sets
            imgs["mixed"][k] = hw.render([s @ a.T for s in hw.strokes(letter, mixed)], rng)
            if disjoint == mixed:
                imgs["disjoint"][k] = imgs["mixed"][k]
            else:
                rng.bit_generator.state = state
                imgs["disjoint"][k] = hw.render(
                    [s @ a.T for s in hw.strokes(letter, disjoint)], rng)
            fonts["mixed"].append(mixed)
            fonts["disjoint"].append(disjoint)
        out[split] = {r: (imgs[r], fonts[r]) for r in IMAGE_FONT_RULES}
    return letter, out


def simulate_bmi(
    out_dir: str | Path, n_images_train_per_letter: int, n_images_test_per_letter: int,
    seed: int, params: PopulationParams | None = None, workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Write a fresh `out_dir` (replacing an older one whole) holding
    ``singleLetters.mat``, the letter images as IDX files in ``emnist/`` (font-disjoint
    from the neural writer) and ``emnist_mixed_fonts/`` (the ablation: the writer's font
    among the image fonts) and, last, ``MANIFEST.json`` (with the folder's ``contents``,
    checked by the frames step, and each image set's font rule and font counts)."""
    params = params or PopulationParams()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB10C]))
    block_gain = rng.lognormal(0, params.block_gain_sigma, (N_BLOCKS, params.n_channels))
    names = [*willett.LETTERS, "doNothing"]
    workers = workers or min(2, os.cpu_count() or 1)
    cubes = dict(parallel_map(_letter_trials, [(c, seed, params, block_gain) for c in names],
                              workers, "simulate neural trials", progress))
    imgs = parallel_map(_letter_images, [(c, seed, n_images_train_per_letter,
                                          n_images_test_per_letter, params.writer_font)
                                         for c in willett.LETTERS],
                        workers, "render letters", progress)
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
    font_counts: dict[str, dict[str, dict[str, int]]] = {}
    with atomic.atomic_dir(out_dir, allowed=(MAT_NAME, *IMAGE_SETS, atomic.MANIFEST)) as tmp:
        willett.write_single_letters(tmp / MAT_NAME, cubes, extra)
        for folder, rule in IMAGE_SETS.items():
            font_counts[folder] = {}
            for split in ("train", "test"):
                images = np.concatenate([im[split][rule][0] for _, im in imgs])
                labels = np.concatenate([np.full(im[split][rule][0].shape[0],
                                                 willett.LETTERS.index(c) + 1)
                                         for c, im in imgs])
                emnist.write_letters(tmp / folder, split, images, labels)
                used = [f for _, im in imgs for f in im[split][rule][1]]
                font_counts[folder][split] = {f: used.count(f) for f in sorted(set(used))}
        manifest = {
            "format": "willett-singleLetters-mat+emnist-idx",
            "generator_version": GENERATOR_VERSION,
            "data_source": "simulated", "seed": seed, "population": params.to_dict(),
            "trials_per_letter": N_BLOCKS * N_REPS,
            "images_train_per_letter": n_images_train_per_letter,
            "images_test_per_letter": n_images_test_per_letter,
            "mean_rate_hz": float(letters_only.mean() * 1000 / willett.BIN_MS),
            "strokes": "Hershey fonts (A. V. Hershey, U.S. National Bureau of Standards)",
            "image_sets": {folder: {
                "image_fonts": rule,
                "fonts": ("none with the neural writer's glyphs (population.writer_font "
                          "or a font sharing its glyphs)" if rule == "disjoint" else
                          "all, the neural writer's glyphs included"),
                "font_counts": font_counts[folder]} for folder, rule in IMAGE_SETS.items()},
            "contents": atomic.folder_contents(tmp),
        }
        atomic.write_json(tmp / atomic.MANIFEST, manifest)
    return manifest
