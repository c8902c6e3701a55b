"""Every malformed input is refused with a DataFormatError naming the file, the field and
the fix (issue 13): never a traceback, never a silent wrong result. Each bad file is
written here in the real on-disk format, then broken in one way."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from unittest import mock

import h5py
import numpy as np
import pytest
import scipy.io

from lsm.datasets import info as datainfo
from lsm.datasets.bmi import BMISplit, LetterPrep, letter_frames
from lsm.datasets.events import make_events, validate_events
from lsm.datasets.preprocess import AudioPrep, VisualPrep, nmnist_frames, ntidigits_frames
from lsm.datasets.readers import emnist, nmnist, ntidigits, willett
from lsm.errors import DataFormatError
from lsm.pipeline.stages import load_npz


def _raises(fn, name: str | Path, *words: str) -> str:
    """Call fn; it must raise a DataFormatError whose message names `name` and holds
    every one of `words`. Returns the message."""
    with pytest.raises(DataFormatError) as err:
        fn()
    msg = str(err.value)
    assert Path(name).name in msg, msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return msg


def _h5(path: Path, items: list[tuple[object, object, object]], split: str = "train",
        labels: object = None) -> Path:
    """An N-TIDIGITS file whose arrays keep the dtypes given (unlike write_file)."""
    with h5py.File(path, "w") as f:
        ga, gt = f.create_group(f"{split}_addresses"), f.create_group(f"{split}_timestamps")
        for key, ts, addr in items:
            ga.create_dataset(key, data=np.asarray(addr))
            gt.create_dataset(key, data=np.asarray(ts))
        f.create_dataset(f"{split}_labels", data=np.array(
            [k.encode() for k, _, _ in items], dtype="S") if labels is None else labels)
    return path


def _mat(path: Path, cube: object, name: str = "neuralActivityCube_a") -> Path:
    scipy.io.savemat(path, {name: cube})
    return path


def _cube(dtype: str = "uint8") -> np.ndarray:
    return np.zeros((2, willett.N_BINS, willett.N_CHANNELS), dtype=dtype)


# --- 1. timestamps ------------------------------------------------------------------------

@pytest.mark.parametrize(("t", "words"), [
    (-0.02, ("negative time", "-0.02")),
    (np.nan, ("not a finite time", "nan")),
    (np.inf, ("not a finite time", "inf")),
    (1e300, ("beyond 1e+06 s",)),  # t * 1e6 would overflow int64
])
def test_ntidigits_bad_timestamp(tmp_path, t, words):
    p = _h5(tmp_path / "n-tidigits.hdf5",
            [("man-aa-a-7", np.array([0.001, t], np.float64), np.array([1, 2], np.uint8))])
    _raises(lambda: ntidigits.read_split(p, "train"), p, "man-aa-a-7", "event 1", *words)


def test_ntidigits_decreasing_timestamps(tmp_path):
    p = _h5(tmp_path / "n-tidigits.hdf5",
            [("man-aa-a-7", np.array([0.5, 0.1]), np.array([1, 2], np.uint8))])
    _raises(lambda: ntidigits.read_split(p, "train"), p, "timestamps decrease at event 1")


def test_validate_events_refuses_negative_time():
    ev = make_events([1, 1], [0, 0], [10, -20_000], [0, 0])
    _raises(lambda: validate_events(ev, (64, 1, 1), "x.hdf5"), "x.hdf5", "event 1",
            "t=-20000", "negative timestamp")


def test_validate_events_decrease_not_hidden_by_int64_overflow():
    # np.diff(t) would overflow to a positive number here and hide the decrease
    ev = make_events([1, 1, 1], [0, 0, 0], [0, 2**62, -(2**63)], [0, 0, 0])
    _raises(lambda: validate_events(ev, (64, 1, 1), "y.bin"), "y.bin", "event 2")
    ev = make_events([1, 1], [0, 0], [2**62, 0], [0, 0])
    _raises(lambda: validate_events(ev, (64, 1, 1), "y.bin"), "y.bin",
            "timestamps decrease at event 1")


# --- 2. N-TIDIGITS addresses --------------------------------------------------------------

@pytest.mark.parametrize(("addr", "words"), [
    (np.array([1.0, 3.5]), ("event 1", "3.5", "not an integer")),
    (np.array([np.nan, 1.0]), ("event 0", "nan", "not an integer")),
    (np.array([1, 65539], np.uint32), ("x=65539", "outside 0..63")),  # int16 would wrap to 3
])
def test_ntidigits_bad_addresses(tmp_path, addr, words):
    p = _h5(tmp_path / "n-tidigits.hdf5", [("man-aa-a-7", np.array([0.1, 0.2]), addr)])
    _raises(lambda: ntidigits.read_split(p, "train"), p, "man-aa-a-7", *words)


def test_ntidigits_whole_float_addresses_are_read(tmp_path):
    p = _h5(tmp_path / "n-tidigits.hdf5",
            [("man-aa-a-7", np.array([0.1, 0.2]), np.array([3.0, 63.0]))])
    (_, ev), = ntidigits.read_split(p, "train")
    assert ev["x"].tolist() == [3, 63]


@pytest.mark.parametrize("what", ["addresses", "timestamps"])
def test_ntidigits_non_numeric_or_2d_arrays(tmp_path, what):
    good = {"addresses": np.array([1, 2], np.uint8), "timestamps": np.array([0.1, 0.2])}
    bad = dict(good)
    bad[what] = np.array([b"a", b"b"])
    p = _h5(tmp_path / "n-tidigits.hdf5",
            [("man-aa-a-7", bad["timestamps"], bad["addresses"])])
    _raises(lambda: ntidigits.read_split(p, "train"), p, f"train_{what}/man-aa-a-7",
            "expected a 1-D array of numbers")
    bad[what] = good[what][:, None]
    p = _h5(tmp_path / "n-tidigits.hdf5",
            [("man-aa-a-7", bad["timestamps"], bad["addresses"])])
    _raises(lambda: ntidigits.read_split(p, "train"), p, "shape (2, 1)")


# --- 3. Willett counts --------------------------------------------------------------------

def _with(dtype: str, value: object) -> np.ndarray:
    c = _cube(dtype)
    c[1, 7, 9] = value
    return c


@pytest.mark.parametrize(("cube", "words"), [
    (_with("int16", -5), ("[1, 7, 9] = -5", "is negative")),  # was 251 in a uint8 frame
    (_with("float64", np.nan), ("[1, 7, 9] = nan", "not finite")),
    (_with("float64", 0.5), ("[1, 7, 9] = 0.5", "not an integer")),
    (_with("float64", 5000.0), ("more than 1000 crossings",)),
    (_cube("complex128"), ("is complex",)),
    (_cube("bool"), ("MATLAB logical array",)),
    (np.array(["abc", "def"]), ("MATLAB char array",)),
    (np.zeros((201, 192)), ("shape (201, 192)", "expected (trials, 201, 192)")),
])
def test_willett_bad_counts(tmp_path, cube, words):
    p = _mat(tmp_path / "singleLetters.mat", cube)
    _raises(lambda: willett.read_single_letters(p, ["a"]), p, "'neuralActivityCube_a'",
            *words)


def test_willett_empty_mat(tmp_path):
    p = tmp_path / "singleLetters.mat"
    p.write_bytes(b"")
    _raises(lambda: willett.read_single_letters(p, ["a"]), p,
            "not a readable MATLAB v5 file", "truncated")


def test_willett_declared_shape_checked_before_reading(tmp_path):
    """A header claiming 100,000 trials is refused from the header (whosmat), without
    loadmat allocating 3.9 GB."""
    p = tmp_path / "singleLetters.mat"
    scipy.io.savemat(p, {"neuralActivityCube_a": _cube()}, do_compression=False)
    raw = p.read_bytes()
    dims = struct.pack("<iii", 2, willett.N_BINS, willett.N_CHANNELS)
    assert raw.count(dims) == 1
    p.write_bytes(raw.replace(dims, struct.pack("<iii", 100_000, willett.N_BINS,
                                                willett.N_CHANNELS)))
    with mock.patch("scipy.io.loadmat", side_effect=AssertionError("must not be read")):
        _raises(lambda: willett.read_single_letters(p, ["a"]), p,
                "declares 100000 trials", "more than the 1000 allowed")


def test_willett_corrupt_data_type_is_refused_not_a_crash(tmp_path):
    """scipy's C reader indexes a table with a cube's stored data type unchecked: one
    flipped byte there raised ZeroDivisionError or crashed the interpreter (SIGSEGV). Run
    in a subprocess, so that a regression fails this test instead of killing the run."""
    p = tmp_path / "singleLetters.mat"
    scipy.io.savemat(p, {f"neuralActivityCube_{c}": np.zeros((1, 201, 192), np.uint8)
                         for c in willett.LETTERS}, do_compression=False)
    raw = bytearray(p.read_bytes())
    i = raw.index(struct.pack("<II", 2, 201 * 192))  # cube a's data tag: miUINT8, 38592 B
    raw[i + 1] = 0x9B  # data type 0x9b02
    p.write_bytes(raw)
    r = subprocess.run([sys.executable, "-m", "lsm", "data", "info", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("lsm: error:") and "Traceback" not in r.stderr, r.stderr
    assert ("singleLetters.mat: 'neuralActivityCube_a' stores its values as MATLAB data "
            "type 39682, not a number type") in r.stderr


def test_willett_hdf5_mat_says_how_to_resave(tmp_path):
    p = tmp_path / "singleLetters.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f["neuralActivityCube_a"] = _cube()
    with p.open("r+b") as fh:  # a MATLAB v7.3 header in the user block
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM")
    _raises(lambda: willett.read_single_letters(p, ["a"]), p, "-v7")


# --- 4. N-MNIST class folders --------------------------------------------------------------

@pytest.mark.parametrize("name", ["99", "\u0663", "x"])  # U+0663: Arabic-Indic three
def test_nmnist_class_folder_must_be_one_ascii_digit(tmp_path, name):
    ev = make_events([1], [1], [5], [0])
    nmnist.write_bin(tmp_path / "Train" / "3" / "00001.bin", ev)
    nmnist.write_bin(tmp_path / "Train" / name / "00001.bin", ev)
    _raises(lambda: nmnist.list_split(tmp_path, "Train"), name,
            f"class folder name {name!r} is not one of the digits 0..9")


def test_single_bin_in_a_non_digit_folder_has_no_label(tmp_path):
    nmnist.write_bin(tmp_path / "\u0663" / "a.bin", make_events([1], [1], [5], [0]))
    assert datainfo.info(tmp_path / "\u0663" / "a.bin")["labels"] == {}


# --- 5. tracebacks -------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "words"), [
    (b"\xff\xfe", ("[0] = b'\\xff\\xfe'", "is not UTF-8 text")),
    (b"man-aa-a-x", ("digit part 'x' may hold only 1-9, 'z' (zero) and 'o' (oh), not 'x'",)),
    (b"man-aa-7", ("is not 'gender-speaker-take-digits'",)),
])
def test_ntidigits_malformed_keys(tmp_path, key, words):
    p = tmp_path / "n-tidigits.hdf5"
    with h5py.File(p, "w") as f:
        f.create_group("train_addresses")
        f.create_group("train_timestamps")
        f.create_dataset("train_labels", data=np.array([key], dtype="S"))
    _raises(lambda: ntidigits.read_split(p, "train"), p, *words)


def test_ntidigits_only_multi_digit_utterances(tmp_path):
    items = [("man-aa-a-12", np.array([0.1]), np.array([1])),
             ("man-aa-b-6z7", np.array([0.1]), np.array([2]))]
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {"train": items, "test": items})
    assert len(ntidigits.read_split(p, "train", single_digits=False)) == 2
    _raises(lambda: ntidigits.read_split(p, "train"), p, "split 'train' holds 2 utterance(s) "
            "but none of a single digit")
    # the frames stage fails the same way, not in np.stack of an empty list
    _raises(lambda: ntidigits_frames(p, AudioPrep(), 0.5, 0, progress=False), p,
            "none of a single digit")


@pytest.mark.parametrize("labels", [
    np.array([[b"man-aa-a-1"]]),  # 2-D: each row used to become the key "[b'man-aa-a-1']"
    np.array([1.0, 2.0]),
])
def test_ntidigits_labels_must_be_1d_strings(tmp_path, labels):
    p = _h5(tmp_path / "n-tidigits.hdf5", [("man-aa-a-1", [0.1], [1])], labels=labels)
    _raises(lambda: ntidigits.read_split(p, "train"), p, "'/train_labels' is a dataset of "
            f"dtype {labels.dtype} and shape {labels.shape}", "1-D dataset of utterance keys")


def test_ntidigits_addresses_not_a_group(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    with h5py.File(p, "w") as f:
        f.create_dataset("train_addresses", data=np.zeros(3))
        f.create_group("train_timestamps")
        f.create_dataset("train_labels", data=np.array([b"man-aa-a-1"]))
    _raises(lambda: ntidigits.read_split(p, "train"), p, "'/train_addresses' is a dataset",
            "expected a group")


def test_empty_npz(tmp_path):
    p = tmp_path / "frames.npz"
    p.write_bytes(b"")
    _raises(lambda: load_npz(p), p, "not a readable .npz", "EOFError", "delete it and rerun")


def test_npy_renamed_npz(tmp_path):
    p = tmp_path / "frames.npz"
    with p.open("wb") as fh:
        np.save(fh, np.arange(6).reshape(2, 3))
    _raises(lambda: load_npz(p), p, "holds a single .npy array (shape (2, 3))",
            "not an .npz archive")


def test_npz_with_object_array(tmp_path):
    p = tmp_path / "frames.npz"
    np.savez(p, x=np.array([{"a": 1}], dtype=object))
    _raises(lambda: load_npz(p), p, "not a readable .npz", "allow_pickle")


def _denied(*_a: object, **_k: object) -> None:
    raise PermissionError(13, "Permission denied")


def test_unreadable_files(tmp_path):
    """chmod 000 does not stop root (the tests' user), so the OS refusal is mocked at the
    call each reader makes."""
    b = tmp_path / "a.bin"
    nmnist.write_bin(b, make_events([1], [1], [5], [0]))
    with mock.patch("numpy.fromfile", _denied):
        _raises(lambda: nmnist.read_bin(b), b, "cannot be read (Permission denied)")
    h = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(h, {"train": [("man-aa-a-1", [0.1], [1])]})
    with mock.patch("h5py.File", _denied):
        _raises(lambda: ntidigits.read_split(h, "train"), h, "cannot be read (Permission "
                "denied)", "permissions")
    m = _mat(tmp_path / "singleLetters.mat", _cube())
    with mock.patch("builtins.open", _denied):
        _raises(lambda: willett.read_single_letters(m, ["a"]), m, "cannot be read "
                "(Permission denied)", "permissions")
    i = tmp_path / "emnist-letters-train-labels-idx1-ubyte"
    emnist.write_idx(i, np.array([1, 2]))
    with mock.patch.object(Path, "open", _denied):
        _raises(lambda: emnist.read_idx(i), i, "cannot be read (Permission denied)")
    z = tmp_path / "frames.npz"
    np.savez(z, x=np.arange(3))
    with mock.patch("builtins.open", _denied):
        _raises(lambda: load_npz(z), z, "cannot be read (Permission denied)", "permissions")


def test_idx_dimension_product_overflow(tmp_path):
    # 2^31 * 2^31 * 4 = 2^64: np.prod in int64 wraps to 0, matching an empty data part
    p = tmp_path / "emnist-letters-train-images-idx3-ubyte"
    p.write_bytes(bytes.fromhex("00000803") + b"".join(
        d.to_bytes(4, "big") for d in (2**31, 2**31, 4)))
    _raises(lambda: emnist.read_idx(p), p, "holds 0 data bytes, the header announces "
            f"{2**64}")


def test_emnist_letter_with_one_image(tmp_path):
    labels = np.concatenate([np.repeat(np.arange(2, 27), 3), [1]])  # 'a' has one image
    images = np.zeros((labels.size, 28, 28), np.uint8)
    emnist.write_letters(tmp_path, "train", images, labels)
    emnist.write_letters(tmp_path, "test", images, labels)
    _raises(lambda: letter_frames(tmp_path, LetterPrep(), BMISplit()),
            "emnist-letters-train-labels-idx1-ubyte", "letter 'a' has 1 train image(s)",
            "at least 2 of every letter")


@pytest.mark.parametrize(("labels", "words"), [
    (np.array([1, 27]), ("label 1 is 27", "1..26")),
    (np.array([], np.uint8), ("holds no images",)),
])
def test_emnist_bad_labels(tmp_path, labels, words):
    emnist.write_letters(tmp_path, "train", np.zeros((labels.size, 28, 28), np.uint8), labels)
    _raises(lambda: emnist.read_letters(tmp_path, "train"),
            "emnist-letters-train-labels-idx1-ubyte", *words)


def test_emnist_images_not_28x28(tmp_path):
    ip, _ = emnist.letters_paths(tmp_path, "train")
    emnist.write_idx(ip, np.zeros((2, 28, 27), np.uint8))
    emnist.write_idx(emnist.letters_paths(tmp_path, "train")[1], np.array([1, 2]))
    _raises(lambda: emnist.read_letters(tmp_path, "train"), ip, "shape (2, 28, 27)",
            "expected (N, 28, 28)")


def test_show_index_out_of_range(tmp_path):
    b = tmp_path / "a.bin"
    nmnist.write_bin(b, make_events([1], [1], [5], [0]))
    _raises(lambda: datainfo.show(b, tmp_path / "o.png", index=3), b,
            "sample index 3 is out of range: the file holds 1 samples", "--index between 0 "
            "and 0")
    _raises(lambda: datainfo.show(b, tmp_path / "o.png", index=-1), b, "sample index -1")
    h = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(h, {"train": [("man-aa-a-1", [0.1], [1])]})
    _raises(lambda: datainfo.show(h, tmp_path / "o.png", index=1), h,
            "holds 1 single-digit train utterances")
    m = _mat(tmp_path / "singleLetters.mat", _cube())
    with mock.patch.object(willett, "LETTERS", ["a"]):
        _raises(lambda: datainfo.show(m, tmp_path / "o.png", index=2), m,
                "holds 2 trials of letter 'a'")
    assert not (tmp_path / "o.png").exists()


# --- 6. size guards ------------------------------------------------------------------------

def test_hdf5_huge_declared_dataset_refused_before_reading(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    with h5py.File(p, "w") as f:
        f.create_dataset("train_labels", data=np.array([b"man-aa-a-1"]))
        f.create_group("train_addresses").create_dataset(
            "man-aa-a-1", shape=(4_000_000_000,), dtype="u1", chunks=(1 << 20,))
        f.create_group("train_timestamps").create_dataset(
            "man-aa-a-1", shape=(4_000_000_000,), dtype="f4", chunks=(1 << 20,))
    assert p.stat().st_size < 1 << 20
    _raises(lambda: ntidigits.read_split(p, "train"), p, "train_addresses/man-aa-a-1",
            "declares 4000000000 events, more than the 100000000 allowed")


def test_hdf5_dataset_without_data(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    with h5py.File(p, "w") as f:
        f.create_dataset("train_labels", data=np.array([b"man-aa-a-1"]))
        f.create_group("train_addresses").create_dataset("man-aa-a-1", shape=(1000,),
                                                         dtype="u1")
        f.create_group("train_timestamps").create_dataset("man-aa-a-1", data=np.zeros(1000))
    _raises(lambda: ntidigits.read_split(p, "train"), p, "declares 1000 events but stores "
            "no data")


def test_huge_bin_refused_before_reading(tmp_path):
    p = tmp_path / "big.bin"
    with p.open("wb") as fh:
        fh.truncate(3 * 2**30)  # sparse: no disk used
    with mock.patch("numpy.fromfile", side_effect=AssertionError("must not be read")):
        _raises(lambda: nmnist.read_bin(p), p, f"is {3 * 2**30} bytes", "more than the "
                f"{64 << 20} allowed")


def test_bin_reader_makes_no_wide_copies(tmp_path):
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 200_000
    ev = make_events(rng.integers(0, 34, n), rng.integers(0, 34, n),
                     np.sort(rng.integers(0, 1 << 23, n)), rng.integers(0, 2, n))
    p = tmp_path / "a.bin"
    nmnist.write_bin(p, ev)
    tracemalloc.start()
    back = nmnist.read_bin(p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(back, ev)
    assert peak < 5 * p.stat().st_size  # was ~12x with uint32 copies of the whole file


def test_huge_idx_refused_before_reading(tmp_path):
    p = tmp_path / "emnist-letters-train-labels-idx1-ubyte"
    with p.open("wb") as fh:
        fh.write(bytes.fromhex("00000801") + (5).to_bytes(4, "big"))
        fh.truncate(3 * 2**30)
    _raises(lambda: emnist.read_idx(p), p, f"holds {3 * 2**30 - 8} data bytes, the header "
            "announces 5")


# --- 7. info on N-TIDIGITS -----------------------------------------------------------------

def test_ntidigits_info_reports_all_and_single_digit(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {
        "train": [("man-aa-a-7", [0.001, 0.5], [3, 60]), ("woman-ab-b-z", [0.01], [0]),
                  ("man-aa-a-6z7", [0.1, 0.9, 1.5], [1, 2, 3])],
        "test": [("woman-zz-a-o", [0.2], [5])]})
    out = datainfo.info(p)
    assert out["n_samples"] == out["n_samples_all"] == 4
    assert out["n_samples_single_digit"] == 3
    assert out["n_events"] == 7 and out["t_max_us"] == 1_500_000
    assert out["labels"] == {"multi-digit": 1, "oh": 1, "seven": 1, "zero": 1}
    assert out["speakers"] == 3
    single = out["single_digit"]
    assert single["n_samples"] == 3 and single["n_events"] == 4
    assert single["t_max_us"] == 500_000
    assert single["labels"] == {"oh": 1, "seven": 1, "zero": 1}
    assert out["per_split"] == {"train": {"n_samples_all": 3, "n_samples_single_digit": 2},
                                "test": {"n_samples_all": 1, "n_samples_single_digit": 1}}


# --- the command line -------------------------------------------------------------------

def _bad_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "mat":
        p = tmp_path / "singleLetters.mat"
        p.write_bytes(b"")
        return p, "not a readable MATLAB v5 file"
    if kind == "key":
        p = tmp_path / "n-tidigits.hdf5"
        with h5py.File(p, "w") as f:
            for g in ("train_addresses", "train_timestamps"):
                f.create_group(g)
            f.create_dataset("train_labels", data=np.array([b"\xff\xfe"]))
        return p, "is not UTF-8 text"
    if kind == "bin":
        p = tmp_path / "big.bin"
        with p.open("wb") as fh:
            fh.truncate(3 * 2**30)
        return p, "more than the 67108864 allowed"
    if kind == "folder":
        nmnist.write_bin(tmp_path / "d" / "Train" / "99" / "1.bin", make_events([1], [1], [5],
                                                                                [0]))
        return tmp_path / "d", "class folder name '99'"
    p = tmp_path / "emnist-letters-train-images-idx3-ubyte"
    p.write_bytes(bytes.fromhex("00000803") + b"".join(
        d.to_bytes(4, "big") for d in (2**31, 2**31, 4)))
    return p, "the header announces"


@pytest.mark.parametrize("kind", ["mat", "key", "bin", "folder", "idx"])
def test_cli_info_on_bad_files(tmp_path, kind):
    p, want = _bad_file(tmp_path, kind)
    r = subprocess.run([sys.executable, "-m", "lsm", "data", "info", str(p)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert r.stderr.startswith("lsm: error:") and "Traceback" not in r.stderr, r.stderr
    assert want in r.stderr and p.name in r.stderr


def test_cli_show_index_out_of_range(tmp_path):
    b = tmp_path / "a.bin"
    nmnist.write_bin(b, make_events([1], [1], [5], [0]))
    r = subprocess.run([sys.executable, "-m", "lsm", "data", "show", str(b), "--out",
                        str(tmp_path / "o.png"), "--index", "7"], capture_output=True, text=True)
    assert r.returncode != 0
    assert r.stderr.startswith("lsm: error:") and "Traceback" not in r.stderr, r.stderr
    assert "sample index 7 is out of range" in r.stderr and "a.bin" in r.stderr


# --- workload metrics read by a training stage ------------------------------------------

def test_a_missing_or_malformed_workload_json_names_the_file(tmp_path):
    from lsm.reservoir.workload import encode_cost

    missing = tmp_path / "workload" / "lsm_nmnist.json"
    with pytest.raises(DataFormatError, match=r"lsm_nmnist\.json"):
        encode_cost(missing, seed=0, n_samples=10)
    bad = tmp_path / "w.json"
    bad.write_text('{"experiment": "workload"')  # truncated
    with pytest.raises(DataFormatError, match=r"w\.json.*workload metrics"):
        encode_cost(bad, seed=0, n_samples=10)
    doc = {"experiment": "workload", "dataset": "nmnist", "model": "LSM", "variant": "s",
           "data_source": "simulated", "selection": "none",
           "records": [{"seed": 0, "metric": "dense_synops", "value": 5.0}]}
    bad.write_text(json.dumps(doc))
    with pytest.raises(DataFormatError, match="effective_synops"):
        encode_cost(bad, seed=0, n_samples=10)
    with pytest.raises(DataFormatError, match="seed 3"):
        encode_cost(bad, seed=3, n_samples=10)


# --- 8. HDF5 declared sizes against stored bytes --------------------------------------------

def _sparse_h5(path: Path, n_events: dict[str, int], split: str = "train") -> Path:
    """Utterances declaring `n` events each in gzip chunks of 1000, only the first chunk
    written: the rest reads as the fill value, so a tiny file inflates on reading."""
    with h5py.File(path, "w") as f:
        ga, gt = f.create_group(f"{split}_addresses"), f.create_group(f"{split}_timestamps")
        for key, n in n_events.items():
            for g, dtype, fill in ((ga, "u1", 5), (gt, "f8", 0.5)):
                ds = g.create_dataset(key, shape=(n,), dtype=dtype, chunks=(1000,),
                                      compression="gzip", fillvalue=fill)
                ds[:1000] = fill
        f.create_dataset(f"{split}_labels", data=np.array([k.encode() for k in n_events]))
    return path


def test_hdf5_declared_size_far_beyond_stored_bytes_is_refused(tmp_path):
    """Under the per-utterance cap, yet 16 MB from a file of a few KB (the reviewer's
    two utterances of 4e7 events took 3 GB): refused from the storage size, unread."""
    p = _sparse_h5(tmp_path / "n-tidigits.hdf5", {"man-aa-a-1": 2_000_000})
    assert p.stat().st_size < 100_000
    _raises(lambda: ntidigits.read_split(p, "train"), p, "'/train_addresses/man-aa-a-1' "
            "declares 2000000 events (2000000 bytes) but stores only", "limit 50x",
            "unwritten fill")


def test_hdf5_many_small_inflated_utterances_hit_the_split_bound(tmp_path):
    """Each utterance stays under the 1 MiB below which the ratio is not checked, but
    together they declare far more than 50x the file: the split's bound refuses them."""
    p = _sparse_h5(tmp_path / "n-tidigits.hdf5",
                   {f"man-s{i}-a-{i % 9 + 1}": 120_000 for i in range(30)})
    _raises(lambda: ntidigits.read_split(p, "train"), p, "split 'train' declares",
            "more than 50x the file's", "bytes")


def test_hdf5_total_events_of_a_split_are_bounded(tmp_path, monkeypatch):
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {"train": [(f"man-a{i}-a-1", [0.1, 0.2, 0.3], [1, 2, 3])
                                       for i in range(3)]})
    monkeypatch.setattr(ntidigits, "MAX_SPLIT_EVENTS", 8)
    _raises(lambda: ntidigits.read_split(p, "train"), p, "split 'train' declares more "
            "than 8 events in all (by utterance 'man-a2-a-1')")


def test_hdf5_compressed_real_looking_events_and_the_writer_pass(tmp_path):
    """The guards leave real data alone: events gzip-compressed with shuffle (a few x)
    are read unchanged, and the simulator's writer stores them uncompressed (1x)."""
    rng = np.random.default_rng(0)
    n = 300_000  # above the 1 MiB floor, so the ratio is checked
    ts = np.sort(rng.uniform(0, 1.2, n)).astype(np.float32)
    addr = rng.integers(0, 64, n).astype(np.uint8)
    p = tmp_path / "n-tidigits.hdf5"
    with h5py.File(p, "w") as f:
        for g, data in (("train_addresses", addr), ("train_timestamps", ts)):
            f.create_group(g).create_dataset("man-aa-a-7", data=data, compression="gzip",
                                             compression_opts=9, shuffle=True)
            assert f[g]["man-aa-a-7"].id.get_storage_size() < data.nbytes
        f.create_dataset("train_labels", data=np.array([b"man-aa-a-7"]))
    (_, ev), = ntidigits.read_split(p, "train")
    assert ev["x"].tolist() == addr.tolist()
    ntidigits.write_file(p, {"train": [("man-aa-a-7", ts, addr)]})
    with h5py.File(p, "r") as f:
        ds = f["train_timestamps"]["man-aa-a-7"]
        assert ds.compression is None and ds.id.get_storage_size() == ds.nbytes
    assert ntidigits.read_split(p, "train")[0][1].size == n


# --- 9. incomplete or duplicated data -------------------------------------------------------

def test_ntidigits_duplicate_key_is_refused(tmp_path):
    """A key listed twice read the same utterance twice: a doubled train sample."""
    p = _h5(tmp_path / "n-tidigits.hdf5", [("man-aa-a-7", [0.1], [1])],
            labels=np.array([b"man-aa-a-7", b"woman-bb-a-z", b"man-aa-a-7"]))
    _raises(lambda: ntidigits.read_split(p, "train"), p, "'/train_labels' lists the "
            "utterance key 'man-aa-a-7' twice (entries 0 and 2)")


def _utts(*keys: str) -> list:
    return [(k, [0.1, 0.2], [1, 2]) for k in keys]


@pytest.mark.parametrize(("train", "test", "words"), [
    (("man-aa-a-1", "man-bb-a-1", "man-aa-a-2", "man-bb-a-2"), ("woman-cc-a-1",),
     "split 'test' holds no single-digit utterance of 'two', which split 'train' holds"),
    (("man-aa-a-1", "man-bb-a-1"), ("woman-cc-a-1", "woman-cc-a-o", "woman-cc-a-z"),
     "split 'train' holds no single-digit utterance of 'zero', 'oh', which split 'test'"),
])
def test_ntidigits_train_and_test_must_hold_the_same_classes(tmp_path, train, test, words):
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {"train": _utts(*train), "test": _utts(*test)})
    _raises(lambda: ntidigits_frames(p, AudioPrep(n_bins=4), 0.5, 0, progress=False), p,
            words, "both splits must hold the same classes")


def test_ntidigits_a_consistent_subset_of_classes_is_allowed(tmp_path):
    p = tmp_path / "n-tidigits.hdf5"
    ntidigits.write_file(p, {"train": _utts("man-aa-a-1", "man-bb-a-1", "man-aa-a-o",
                                            "man-bb-a-o", "man-aa-a-12"),
                             "test": _utts("woman-cc-a-o", "woman-cc-a-1")})
    out = ntidigits_frames(p, AudioPrep(n_bins=4), 0.5, 0, progress=False)
    assert set(out["y_test"].tolist()) == {1, 10} and out["x_train"].shape[1:] == (4, 64)


def _nmnist_tree(root: Path, classes: dict[str, tuple[int, ...]], n: int = 2) -> Path:
    ev = make_events([1, 2], [1, 2], [5, 9], [0, 1])
    for split, digits in classes.items():
        for d in digits:
            for i in range(n):
                nmnist.write_bin(root / split / str(d) / f"{i:05d}.bin", ev)
    return root


def test_nmnist_unlistable_class_folder_is_refused(tmp_path):
    """Path.glob swallowed EACCES and listed the folder as empty: its class vanished.
    Root ignores chmod, so the refusal is mocked at os.scandir."""
    import os

    root = _nmnist_tree(tmp_path, {"Train": (0, 1, 2), "Test": (0, 1, 2)})
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(path) == root / "Train" / "2":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    with mock.patch("os.scandir", scandir):
        _raises(lambda: nmnist.list_split(root, "Train"), "2",
                "cannot be listed (Permission denied)", "readable")
        _raises(lambda: nmnist.list_splits(root), "2", "cannot be listed")


def test_nmnist_empty_class_folder_is_refused(tmp_path):
    root = _nmnist_tree(tmp_path, {"Train": (0, 1), "Test": (0, 1)})
    (root / "Train" / "3").mkdir()
    (root / "Train" / "3" / "notes.txt").write_text("x")
    _raises(lambda: nmnist.list_split(root, "Train"), "3",
            "class folder 'Train/3' holds no .bin files")


@pytest.mark.parametrize(("classes", "where", "words"), [
    ({"Train": (0, 1, 2), "Test": (0, 1)}, "Test",
     "has no folder for digit(s) 2, which Train holds ('Train/2')"),
    ({"Train": (0, 1), "Test": (0, 1, 5, 7)}, "Train",
     "has no folder for digit(s) 5, 7, which Test holds ('Test/5', 'Test/7')"),
])
def test_nmnist_train_and_test_must_hold_the_same_classes(tmp_path, classes, where, words):
    root = _nmnist_tree(tmp_path / "d", classes)
    _raises(lambda: nmnist.list_splits(root), where, words, "the same classes")
    _raises(lambda: nmnist_frames(root, VisualPrep(n_bins=2), 0.5, 0, progress=False),
            where, words)


def test_nmnist_a_consistent_subset_of_digits_is_allowed(tmp_path):
    root = _nmnist_tree(tmp_path, {"Train": (0, 1), "Test": (0, 1)})
    out = nmnist_frames(root, VisualPrep(n_bins=2), 0.5, 0, progress=False)
    assert set(out["y_test"].tolist()) == {0, 1} and out["x_test"].shape == (4, 2, 256)


def test_nmnist_empty_or_marker_only_bin_holds_no_events(tmp_path):
    p = tmp_path / "00001.bin"
    p.write_bytes(b"")
    _raises(lambda: nmnist.read_bin(p), p, "holds no events (0 bytes)", "re-download")
    p.write_bytes(bytes([0, 240, 0, 0, 0]) * 2)  # two timestamp-overflow markers
    _raises(lambda: nmnist.read_bin(p), p, "holds no events, only 2 timestamp-overflow")


def test_nmnist_folder_named_bin_is_refused(tmp_path):
    root = _nmnist_tree(tmp_path, {"Train": (0,)})
    (root / "Train" / "0" / "00009.bin").mkdir()
    _raises(lambda: nmnist.list_split(root, "Train"), "00009.bin", "is a folder, not an "
            "N-MNIST .bin sample")


def _letters(folder: Path, split: str, missing: int | None = None, n: int = 3) -> None:
    labels = np.repeat(np.arange(1, 27), n)
    if missing is not None:
        labels = labels[labels != missing]
    emnist.write_letters(folder, split, np.zeros((labels.size, 28, 28), np.uint8), labels)


def test_emnist_letter_without_test_image(tmp_path):
    """Without this, bmi-frames exited 0 with 25 letters in test."""
    _letters(tmp_path, "train")
    _letters(tmp_path, "test", missing=19)  # 's'
    _raises(lambda: letter_frames(tmp_path, LetterPrep(n_steps=2), BMISplit()),
            "emnist-letters-test-labels-idx1-ubyte", "letter 's' has 0 test image(s)",
            "every letter needs at least 1 test image")


# --- 10. the command line: both outputs or neither, arguments checked ----------------------

def _bmi_inputs(tmp_path: Path) -> tuple[Path, Path]:
    mat = tmp_path / "w" / "singleLetters.mat"
    mat.parent.mkdir()
    scipy.io.savemat(mat, {f"neuralActivityCube_{c}": np.zeros((7, willett.N_BINS,
                                                                 willett.N_CHANNELS), np.uint8)
                           for c in willett.LETTERS})
    _letters(tmp_path / "e", "train")
    _letters(tmp_path / "e", "test", missing=19)
    return mat, tmp_path / "e"


def test_cli_bmi_frames_writes_nothing_when_emnist_is_bad(tmp_path, capsys):
    from lsm.cli import main

    mat, em = _bmi_inputs(tmp_path)
    argv = ["data", "bmi-frames", "--mat", str(mat), "--emnist", str(em), "--prep",
            '{"n_steps": 2}', "--split", "{}", "--out-neural", str(tmp_path / "n.npz"),
            "--out-letters", str(tmp_path / "l.npz")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsm: error:") and "letter 's' has 0 test image(s)" in err, err
    assert not (tmp_path / "n.npz").exists() and not (tmp_path / "l.npz").exists()
    _letters(em, "test")
    assert main(argv) == 0
    assert (tmp_path / "n.npz").is_file() and (tmp_path / "l.npz").is_file()


@pytest.mark.parametrize(("kind", "prep", "words"), [
    ("nmnist", {"bogus": 1}, "--prep: unknown field(s) 'bogus'; VisualPrep takes crop, "
     "polarity, n_bins, window_us."),
    ("nmnist", {"n_bins": 0}, "--prep: VisualPrep.n_bins must be an integer in 1..100000, "
     "not 0."),
    ("nmnist", {"crop": 99}, "VisualPrep.crop must be an integer in 1..34, not 99."),
    ("nmnist", {"polarity": 5}, "VisualPrep.polarity must be an integer in 0..1, not 5."),
    ("nmnist", {"window_us": 0}, "VisualPrep.window_us must be an integer in 1..1000000000"),
    ("nmnist", {"n_bins": "5"}, "VisualPrep.n_bins must be an integer in 1..100000, not '5' "
     "(str)."),
    ("nmnist", {"n_bins": 5.0}, "not 5.0 (float)."),
    ("ntidigits", {"binning": "linear"}, "--prep: AudioPrep.binning must be one of "
     "per_sample_chunks, fixed, not 'linear'."),
    ("ntidigits", {"bin_ms": 0}, "AudioPrep.bin_ms must be a number in (0, inf), not 0."),
])
def test_cli_frames_bad_prep_is_one_line_error(tmp_path, capsys, kind, prep, words):
    from lsm.cli import main

    root = _nmnist_tree(tmp_path / "d", {"Train": (0, 1), "Test": (0, 1)})
    if kind == "ntidigits":
        root = tmp_path / "n-tidigits.hdf5"
        ntidigits.write_file(root, {"train": _utts("man-aa-a-1", "man-bb-a-1"),
                                    "test": _utts("woman-cc-a-1")})
    out = tmp_path / "f.npz"
    assert main(["data", "frames", kind, "--root", str(root), "--prep", json.dumps(prep),
                 "--val-fraction", "0.5", "--split-seed", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsm: error: --prep:") and words in err, err
    assert not out.exists()


@pytest.mark.parametrize(("arg", "value", "words"), [
    ("--val-fraction", "1.5", "must lie strictly between 0 and 1, not 1.5"),
    ("--val-fraction", "0", "must lie strictly between 0 and 1, not 0"),
    ("--val-fraction", "nan", "must lie strictly between 0 and 1, not nan"),
    ("--val-fraction", "half", "not a number: 'half'"),
    ("--split-seed", "-1", "a seed must be in 0..4294967295, not -1"),
    ("--split-seed", "1.5", "not an integer: '1.5'"),
])
def test_cli_frames_bad_split_arguments_are_usage_errors(tmp_path, capsys, arg, value, words):
    from lsm.cli import main

    argv = {"--root": str(tmp_path), "--prep": "{}", "--val-fraction": "0.5",
            "--split-seed": "0", "--out": str(tmp_path / "f.npz"), arg: value}
    with pytest.raises(SystemExit) as exc:
        main(["data", "frames", "nmnist", *[x for kv in argv.items() for x in kv]])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {arg}: {words}" in err and "Traceback" not in err, err


@pytest.mark.parametrize(("split", "prep", "words"), [
    ({"val_fraction": 1.5}, {}, "--split: BMISplit.val_fraction must be a number in (0, 1), "
     "not 1.5."),
    ({"split_seed": -1}, {}, "--split: BMISplit.split_seed must be an integer in "
     "0..4294967295, not -1."),
    ({"n_test_trials": 0}, {}, "BMISplit.n_test_trials must be an integer in 1..25, not 0."),
    ({"max_train_images": 1}, {}, "BMISplit.max_train_images must be an integer in "
     "2..1000000"),
    ({"bogus": 1}, {}, "--split: unknown field(s) 'bogus'; BMISplit takes n_test_trials"),
    ({}, {"gain": 2.0}, "--prep: LetterPrep.gain must be a number in (0, 1], not 2.0."),
    ({}, {"n_steps": 0}, "--prep: LetterPrep.n_steps must be an integer in 1..100000"),
    ({}, {"shared_noise": 1}, "--prep: LetterPrep.shared_noise must be true or false, not 1"),
])
def test_cli_bmi_frames_bad_split_or_prep(tmp_path, capsys, split, prep, words):
    from lsm.cli import main

    rc = main(["data", "bmi-frames", "--mat", str(tmp_path / "singleLetters.mat"),
               "--emnist", str(tmp_path), "--prep", json.dumps(prep), "--split",
               json.dumps(split), "--out-neural", str(tmp_path / "n.npz"), "--out-letters",
               str(tmp_path / "l.npz")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("lsm: error: --") and words in err, err


@pytest.mark.parametrize(("kind", "params", "words"), [
    ("nmnist", {}, "--params: missing key(s) 'n_train_per_class', 'n_test_per_class', "
     "'seed'; `lsm data simulate nmnist` needs n_train_per_class, n_test_per_class, seed "
     "(and optionally dvs)."),
    ("ntidigits", {"n_train_speakers": 2, "n_test_speakers": 1},
     "missing key(s) 'seed'; `lsm data simulate ntidigits` needs n_train_speakers"),
    ("bmi", {"n_images_train_per_letter": 2, "n_images_test_per_letter": 1, "seed": 0,
             "n_letters": 3}, "--params: unknown key(s) 'n_letters'"),
    ("nmnist", {"n_train_per_class": 1, "n_test_per_class": 1, "seed": 0},
     "--params: n_train_per_class must be an integer in 2..500, not 1."),
    ("nmnist", {"n_train_per_class": 2, "n_test_per_class": 1, "seed": -3},
     "--params: seed must be an integer in 0..4294967295, not -3."),
    ("nmnist", {"n_train_per_class": 2, "n_test_per_class": 1, "seed": 0, "dvs": {"x": 1}},
     "--params: dvs: unknown field(s) 'x'; DVSParams takes"),
])
def test_cli_simulate_bad_params(tmp_path, capsys, kind, params, words):
    from lsm.cli import main

    out = tmp_path / "sim"
    assert main(["data", "simulate", kind, "--out", str(out), "--params",
                 json.dumps(params)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsm: error:") and words in err, err
    assert not out.exists()


def test_prep_and_split_dataclasses_refuse_bad_values():
    """Library callers get the same refusal (a ValueError naming the field)."""
    for make, words in ((lambda: VisualPrep(crop=0), "VisualPrep.crop"),
                        (lambda: AudioPrep(n_bins=-1), "AudioPrep.n_bins"),
                        (lambda: LetterPrep(gain=float("nan")), "LetterPrep.gain"),
                        (lambda: BMISplit(val_fraction=0.0), "BMISplit.val_fraction")):
        with pytest.raises(ValueError, match=words):
            make()
    assert VisualPrep(n_bins=5, window_us=50) == VisualPrep(16, 0, 5, 50)
    assert AudioPrep(bin_ms=10) == AudioPrep(bin_ms=10.0)
