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

from lsm import datainfo
from lsm.bmi import BMISplit, LetterPrep, letter_frames
from lsm.errors import DataFormatError
from lsm.events import make_events, validate_events
from lsm.io import emnist, nmnist, ntidigits, willett
from lsm.preprocess import AudioPrep, ntidigits_frames
from lsm.stages import load_npz


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
    from lsm.stages import _encode_cost

    missing = tmp_path / "workload" / "lsm_nmnist.json"
    with pytest.raises(DataFormatError, match="lsm_nmnist.json"):
        _encode_cost(missing, seed=0, n_samples=10)
    bad = tmp_path / "w.json"
    bad.write_text('{"experiment": "workload"')  # truncated
    with pytest.raises(DataFormatError, match="w.json.*metrics JSON"):
        _encode_cost(bad, seed=0, n_samples=10)
    doc = {"experiment": "workload", "dataset": "nmnist", "model": "LSM", "variant": "s",
           "data_source": "simulated", "selection": "none",
           "records": [{"seed": 0, "metric": "dense_synops", "value": 5.0}]}
    bad.write_text(json.dumps(doc))
    with pytest.raises(DataFormatError, match="effective_synops"):
        _encode_cost(bad, seed=0, n_samples=10)
    with pytest.raises(DataFormatError, match="seed 3"):
        _encode_cost(bad, seed=3, n_samples=10)
