"""Offline simulators: deterministic, in range, and independent of the worker count."""

from __future__ import annotations

import time

import numpy as np

from lsm.datasets.readers import emnist, nmnist, ntidigits, willett
from lsm.datasets.simulators.bmi_dataset import simulate_bmi
from lsm.datasets.simulators.nmnist_dataset import simulate_nmnist
from lsm.datasets.simulators.ntidigits_dataset import make_speakers, simulate_ntidigits
from lsm.datasets.splits import group_val_split


def _tree_bytes(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.bin"))}


def test_nmnist_simulation_is_deterministic_across_worker_counts(tmp_path):
    a = simulate_nmnist(tmp_path / "a", 2, 1, seed=3, workers=1, progress=False)
    simulate_nmnist(tmp_path / "b", 2, 1, seed=3, workers=2, progress=False)
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")
    assert a["n_train"] == 20 and a["n_test"] == 10
    ev = nmnist.read_bin(next((tmp_path / "a" / "Train" / "3").glob("*.bin")))
    assert 1000 < ev.size < 9000 and ev["t"].max() < 330_000
    simulate_nmnist(tmp_path / "c", 2, 1, seed=4, workers=1, progress=False)
    assert _tree_bytes(tmp_path / "a") != _tree_bytes(tmp_path / "c")


def test_ntidigits_speakers_disjoint_and_deterministic(tmp_path):
    m = simulate_ntidigits(tmp_path / "a", 2, 1, seed=0, workers=2, progress=False)
    time.sleep(1.5)  # eSpeak seeds its generator from the clock (seconds) unless reseeded
    simulate_ntidigits(tmp_path / "b", 2, 1, seed=0, workers=1, progress=False)
    assert set(m["train_speakers"]).isdisjoint(m["test_speakers"])
    ta = ntidigits.read_split(tmp_path / "a" / "n-tidigits.hdf5", "train")
    tb = ntidigits.read_split(tmp_path / "b" / "n-tidigits.hdf5", "train")
    assert len(ta) == 2 * 11 * 2
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(ta, tb, strict=True))
    assert sorted({u.label for u, _ in ta}) == list(range(11))
    voices = [s.voice for s in make_speakers(50, 0)]
    assert len(set(voices)) == 50


def test_bmi_simulation_formats_and_rates(tmp_path):
    m = simulate_bmi(tmp_path, 3, 2, seed=0, workers=2, progress=False)
    cubes = willett.read_single_letters(tmp_path / "singleLetters.mat")
    assert cubes["q"].shape == (27, 201, 192)
    assert 3.0 < m["mean_rate_hz"] < 40.0
    # movement after the go cue raises the firing above the delay period
    a = cubes["a"].astype(float)
    assert a[:, 70:150].mean() > a[:, :45].mean()
    imgs, labels = emnist.read_letters(tmp_path / "emnist", "train")
    assert imgs.shape == (26 * 3, 28, 28) and sorted(set(labels.tolist())) == list(range(1, 27))
    assert imgs.max() == 255


def test_group_split_never_shares_a_speaker():
    spk = np.repeat(np.array(list("abcdefgh")), 5)
    tr, va = group_val_split(spk, 0.25, seed=1)
    assert set(spk[tr]).isdisjoint(spk[va]) and len(set(spk[va])) == 2
    assert len(tr) + len(va) == spk.size


def test_espeak_audio_does_not_depend_on_the_clock():
    """Some voice variants draw random numbers that eSpeak seeds from the clock; the
    reseeding makes two runs, seconds apart in fresh processes, give the same audio."""
    import subprocess
    import sys

    code = ("import hashlib; from lsm.datasets.simulators import speech; "
            "x = speech.synthesize('zero', 'en-029+f3', 184, 26, 72, rand_seed=7); "
            "print(hashlib.md5(x.tobytes()).hexdigest())")
    a = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=True).stdout
    time.sleep(1.5)
    b = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=True).stdout
    assert a == b and len(a.strip()) == 32


def test_parallel_map_moves_the_bar_per_item_and_keeps_the_order():
    """The bar advances as items finish, in any order (here the first item is the slowest,
    so an in-order map would hold the bar at 0 until it ends), and the results come back
    in input order."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from lsm.datasets.simulators.parallel import parallel_map

    release = threading.Event()
    seen = []

    class Bar:
        n = 0

        def update(self, k):
            self.n += k
            seen.append(self.n)
            if self.n == 3:
                release.set()  # three quick items done while the first one still waits

    def work(x):
        if x == 0:
            assert release.wait(10), "the bar did not move before the slow item ended"
        return x * x

    t0 = time.perf_counter()
    out = parallel_map(work, range(4), 2, "test", executor=ThreadPoolExecutor, bar=Bar())
    assert out == [0, 1, 4, 9] and seen == [1, 2, 3, 4]
    assert time.perf_counter() - t0 < 10
