"""Real on-disk formats: fixtures written by the tests in the real layout, read back,
and every kind of bad input rejected with a message naming the file and the problem."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import h5py
import numpy as np
import pytest
import scipy.io
from conftest import REAL_NMNIST

from lsm.datasets.calibration import real_nmnist_sample
from lsm.datasets.events import make_events
from lsm.datasets.preprocess import AudioPrep
from lsm.datasets.readers import emnist, ntidigits, willett
from lsm.errors import DataFormatError

# --- N-TIDIGITS -------------------------------------------------------------------------

def _ntidigits_fixture(path):
    items = {"train": [("man-aa-a-7", np.array([0.001, 0.002, 0.5]), np.array([3, 60, 63])),
                       ("woman-ab-b-z", np.array([0.01]), np.array([0])),
                       ("man-aa-a-6z7", np.array([0.1]), np.array([1]))],
             "test": [("woman-zz-a-o", np.array([0.2, 0.3]), np.array([5, 6]))]}
    ntidigits.write_file(path, items)
    return items


def test_ntidigits_roundtrip_labels_and_units(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    _ntidigits_fixture(p)
    train = ntidigits.read_split(p, "train")
    assert [u.key for u, _ in train] == ["man-aa-a-7", "woman-ab-b-z"]  # 6z7 is not single
    assert [u.label for u, _ in train] == [7, 0]  # paper mapping: z -> 0
    ev = train[0][1]
    assert ev["t"].tolist() == [1000, 2000, 500000] and ev["x"].tolist() == [3, 60, 63]
    test = ntidigits.read_split(p, "test")
    assert test[0][0].label == 10 and test[0][0].gender == "woman"  # o -> 10
    assert len(ntidigits.read_split(p, "train", single_digits=False)) == 3


def test_tonic_reads_our_ntidigits_file(tmp_path):
    from unittest import mock

    import tonic

    (tmp_path / "NTIDIGITS18").mkdir()
    _ntidigits_fixture(tmp_path / "NTIDIGITS18" / "n-tidigits.hdf5")
    with mock.patch.object(tonic.datasets.NTIDIGITS18, "_check_exists", return_value=True):
        ds = tonic.datasets.NTIDIGITS18(str(tmp_path), train=True, single_digits=True)
    assert len(ds) == 2
    events, _ = ds[0]
    assert events["t"].tolist() == [1000, 2000, 500000]


def test_ntidigits_missing_group(tmp_path):
    p = tmp_path / "bad.hdf5"
    with h5py.File(p, "w") as f:
        f.create_dataset("train_labels", data=np.array([b"man-aa-a-1"]))
    with pytest.raises(DataFormatError, match=r"bad\.hdf5.*train_addresses"):
        ntidigits.read_split(p, "train")


def test_ntidigits_length_mismatch_and_bad_channel(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {"train": [("man-aa-a-1", np.array([0.1, 0.2]), np.array([1]))]})
    with pytest.raises(DataFormatError, match="1 addresses but 2 timestamps"):
        ntidigits.read_split(p, "train")
    ntidigits.write_file(p, {"train": [("man-aa-a-1", np.array([0.1]), np.array([64]))]})
    with pytest.raises(DataFormatError, match=r"x=64, outside 0\.\.63"):
        ntidigits.read_split(p, "train")


def test_audio_per_sample_chunks_follow_the_paper():
    # t_max = 257.5 ms -> 258 one-ms bins -> chunks of ceil(258/129) = 2 ms
    ev = make_events([0, 1, 2], [0, 0, 0], [0, 1999, 257_500], [0, 0, 0])
    f = AudioPrep("per_sample_chunks", n_bins=129)(ev)
    assert f.shape == (129, 64)
    assert f[0, 0] == 1 and f[0, 1] == 1 and f[128, 2] == 1 and f.sum() == 3
    fixed = AudioPrep("fixed", n_bins=10, bin_ms=10.0)(ev)
    assert fixed[0, 0] == 1 and fixed.sum() == 2  # 257.5 ms is past 10 bins of 10 ms


# --- Willett ----------------------------------------------------------------------------

def test_willett_roundtrip_small_cube(tmp_path):
    rng = np.random.default_rng(0)
    cubes = {c: rng.integers(0, 4, (3, 201, 192), dtype=np.uint8) for c in "abc"}
    willett.write_single_letters(tmp_path / "singleLetters.mat", cubes,
                                 {"blockList": np.arange(1, 10)[:, None]})
    back = willett.read_single_letters(tmp_path / "singleLetters.mat", ["a", "b", "c"])
    for c in "abc":
        np.testing.assert_array_equal(back[c], cubes[c])


def test_willett_missing_cube_and_bad_shape(tmp_path):
    p = tmp_path / "singleLetters.mat"
    scipy.io.savemat(p, {"neuralActivityCube_a": np.zeros((2, 201, 192), np.uint8)})
    with pytest.raises(DataFormatError, match=r"singleLetters\.mat.*neuralActivityCube_b"):
        willett.read_single_letters(p, ["a", "b"])
    scipy.io.savemat(p, {"neuralActivityCube_a": np.zeros((2, 200, 192), np.uint8)})
    with pytest.raises(DataFormatError, match=r"shape \(2, 200, 192\)"):
        willett.read_single_letters(p, ["a"])


# --- EMNIST -----------------------------------------------------------------------------

def test_emnist_roundtrip_is_transposed_on_disk(tmp_path):
    img = np.zeros((2, 28, 28), np.uint8)
    img[0, 0, 5] = 255  # row 0, column 5
    emnist.write_letters(tmp_path, "train", img, np.array([1, 26]))
    raw = emnist.read_idx(tmp_path / "emnist-letters-train-images-idx3-ubyte")
    assert raw[0, 5, 0] == 255  # stored transposed, as EMNIST does
    header = (tmp_path / "emnist-letters-train-images-idx3-ubyte").read_bytes()[:16]
    assert header.hex() == "00000803000000020000001c0000001c"
    back, labels = emnist.read_letters(tmp_path, "train")
    assert back[0, 0, 5] == 255 and labels.tolist() == [1, 26]


def test_emnist_bad_magic_and_truncation(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(bytes.fromhex("1f8b0801") + bytes(8))
    with pytest.raises(DataFormatError, match="bad IDX magic number 0x1f8b0801"):
        emnist.read_idx(p)
    p.write_bytes(bytes.fromhex("00000801") + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(DataFormatError, match="holds 3 data bytes, the header announces 5"):
        emnist.read_idx(p)


@pytest.mark.parametrize("kind", ["hdf5", "mat", "idx"])
def test_cli_exits_nonzero_on_bad_files(tmp_path, kind):
    if kind == "hdf5":
        p = tmp_path / "n-tidigits.hdf5"
        with h5py.File(p, "w") as f:
            f.create_dataset("test_labels", data=np.array([b"man-aa-a-1"]))
        want = "train_labels"
    elif kind == "mat":
        p = tmp_path / "singleLetters.mat"
        scipy.io.savemat(p, {"foo": np.zeros(3)})
        want = "neuralActivityCube_a"
    else:
        p = tmp_path / "emnist-letters-train-labels-idx1-ubyte"
        p.write_bytes(bytes(12))
        want = "bad IDX magic"
    r = subprocess.run([sys.executable, "-m", "lsm", "data", "info", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and want in r.stderr and p.name in r.stderr


# --- the genuine sample -----------------------------------------------------------------

def test_packaged_real_sample_is_the_shared_one():
    data = real_nmnist_sample().read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "3c9159329633efbb6879bba1b430598b78cc06a779a55d1259ec13e203ad00ee")
    if REAL_NMNIST.is_file():
        assert REAL_NMNIST.read_bytes() == data
