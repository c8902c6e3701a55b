"""BMI inputs: letter rate coding, trial splits, letter splits, written in the real formats
(singleLetters.mat via scipy, EMNIST IDX) by the tests themselves."""

from __future__ import annotations

import numpy as np
import pytest

from lsm.config import class_ids
from lsm.datasets.bmi import BMISplit, LetterPrep, letter_frames, neural_frames
from lsm.datasets.readers import emnist, willett
from lsm.errors import DataFormatError
from lsm.zeroshot.pairing import PairSpec, make_pairs


def _image(value: int) -> np.ndarray:
    return np.full((1, 28, 28), value, dtype=np.uint8)


def test_letter_rate_coding_follows_the_paper_mapping():
    prep = LetterPrep(n_steps=400)
    bright = prep(_image(255), seed=0)
    assert bright.shape == (1, 400, 784) and bright.dtype == np.uint8
    assert bright.mean() == pytest.approx(0.4, abs=0.01)  # p = 0.4 at full intensity
    # paper normalisation x = 2 I - 1: a pixel darker than mid-grey never spikes
    assert prep(_image(100), seed=0).sum() == 0
    unit = LetterPrep(n_steps=400, paper_normalize=False)(_image(100), seed=0)
    assert unit.mean() == pytest.approx(0.4 * 100 / 255, abs=0.01)


def test_shared_noise_quirk_is_optional():
    imgs = np.concatenate([_image(255), _image(255)])
    indep = LetterPrep()(imgs, seed=3)
    shared = LetterPrep(shared_noise=True)(imgs, seed=3)
    assert not np.array_equal(indep[0], indep[1])  # default: independent draws per image
    assert np.array_equal(shared[0], shared[1])  # the authors' quirk: one pattern for all
    assert np.array_equal(LetterPrep()(imgs, seed=3), indep)  # deterministic per seed


def _cubes(n_trials: int = 27) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        c: rng.poisson(0.6, (n_trials, willett.N_BINS, willett.N_CHANNELS)).astype(np.int16)
        for c in willett.LETTERS
    }


def test_neural_frames_clamp_counts_and_hold_out_the_last_trials(tmp_path):
    cubes = _cubes()
    path = tmp_path / "singleLetters.mat"
    willett.write_single_letters(path, cubes)
    out = neural_frames(path, BMISplit(n_test_trials=3, n_val_trials=2))
    assert out["x_train"].shape == (26 * 22, willett.N_BINS, willett.N_CHANNELS)
    assert out["x_test"].shape[0] == 26 * 3 and out["x_val"].shape[0] == 26 * 2
    assert set(np.unique(out["x_train"])) <= {0, 1}
    assert set(out["trial_test"]) == {24, 25, 26} and set(out["trial_val"]) == {22, 23}
    b = willett.LETTERS.index("b")
    first_test_b = np.flatnonzero(out["y_test"] == b)[0]
    assert np.array_equal(out["x_test"][first_test_b], np.minimum(cubes["b"][24], 1))


def test_neural_frames_refuse_too_few_trials(tmp_path):
    path = tmp_path / "singleLetters.mat"
    willett.write_single_letters(path, _cubes(n_trials=4))
    with pytest.raises(DataFormatError, match=r"singleLetters\.mat.*too few"):
        neural_frames(path, BMISplit(n_test_trials=3, n_val_trials=3))


def test_letter_frames_cap_per_letter_and_split_validation(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("test", 5)):
        labels = np.tile(np.arange(1, 27), n)
        images = rng.integers(0, 256, (labels.size, 28, 28), dtype=np.uint8)
        emnist.write_letters(tmp_path, split, images, labels)
    out = letter_frames(
        tmp_path,
        LetterPrep(n_steps=5),
        BMISplit(max_train_images=10, max_test_images=4, val_fraction=0.2),
    )
    assert np.bincount(out["y_train"]).tolist() == [8] * 26
    assert np.bincount(out["y_val"]).tolist() == [2] * 26
    assert np.bincount(out["y_test"]).tolist() == [4] * 26
    assert out["x_test"].shape == (104, 5, 784)


def test_letters_in_config_are_class_ids():
    assert class_ids(["a", "s", "z", 3]) == [0, 18, 25, 3]


def test_enlarged_pairs_reuse_each_trial_with_different_images():
    y_trials = {
        "train": np.repeat(np.arange(26), 21),
        "val": np.repeat(np.arange(26), 3),
        "test": np.repeat(np.arange(26), 3),
    }
    y_images = {
        "train": np.repeat(np.arange(26), 210),
        "val": np.repeat(np.arange(26), 30),
        "test": np.repeat(np.arange(26), 40),
    }
    seen = tuple(class_ids(list("abcdefghijklmnopqrwxyz")))
    spec = PairSpec(seen, tuple(class_ids(list("stuv"))), 210, 30, 30, enlarge=10)
    p = make_pairs(y_trials, y_images, spec)
    assert p["test_seen"].labels.size == 660 and p["test_unseen"].labels.size == 120
    tr = p["train"]
    a_first = tr.idx_a[tr.labels == 0]
    assert (np.bincount(a_first)[a_first.min() :] == 10).all()  # each trial 10 times
    assert np.unique(tr.idx_b).size == tr.idx_b.size  # every image once
    assert not set(tr.labels) & set(spec.unseen) and not set(p["val"].labels) & set(spec.unseen)
