"""Property-based fuzzing of every reader (issue 13).

Each test starts from a valid file written by the package's own writer (or builds one
field by field) and breaks it at random: truncations, byte flips, byte sets biased
towards the headers, and random field values. Every outcome must be either a read that
satisfies the format's invariants or a DataFormatError naming the file; any other
exception, or a read breaking an invariant, fails the test. Seeds are fixed
(``derandomize``) and nothing is stored between runs (``database=None``).
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lsm.datasets.events import EVENT_DTYPE, make_events
from lsm.datasets.readers import emnist, nmnist, ntidigits, willett
from lsm.errors import DataFormatError
from lsm.pipeline.stages import load_npz

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- mutations ---------------------------------------------------------------------------

_EDIT = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),  # keep this fraction of the file
    st.tuples(st.just("xor"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("set"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("head"), st.integers(0, 511), st.integers(1, 255)),  # headers
)
EDITS = st.lists(_EDIT, min_size=1, max_size=4)


def mutate(data: bytes, edits: list[tuple]) -> bytes:
    b = bytearray(data)
    for kind, where, *value in edits:
        if not b:
            break
        if kind == "cut":
            del b[int(where * len(b)):]
            continue
        i = where % len(b) if kind == "head" else min(int(where * len(b)), len(b) - 1)
        b[i] = value[0] if kind == "set" else b[i] ^ value[0]
    return bytes(b)


def outcome(path: Path, read: Callable[[Path], Any], check: Callable[[Any], None]) -> None:
    """Read `path`: a DataFormatError must name the file; a result must pass `check`."""
    try:
        out = read(path)
    except DataFormatError as exc:
        assert path.name in str(exc), str(exc)
        return
    check(out)


def events_ok(ev: np.ndarray, sensor: tuple[int, int, int]) -> None:
    assert ev.dtype == EVENT_DTYPE and ev.ndim == 1
    for field, hi in zip("xyp", sensor, strict=True):
        assert ((ev[field] >= 0) & (ev[field] < hi)).all(), field
    assert (ev["t"] >= 0).all() and (ev["t"][1:] >= ev["t"][:-1]).all()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """One folder per module: hypothesis runs many examples per test, and a
    function-scoped tmp_path would be shared by all of them anyway."""
    return tmp_path_factory.mktemp("fuzz")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- N-MNIST .bin ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nmnist_base(work) -> bytes:
    rng = np.random.default_rng(0)
    n = 40
    ev = make_events(rng.integers(0, 34, n), rng.integers(0, 34, n),
                     np.sort(rng.integers(0, 300_000, n)), rng.integers(0, 2, n))
    nmnist.write_bin(work / "base.bin", ev)
    return (work / "base.bin").read_bytes()


def _bin_ok(ev: np.ndarray) -> None:
    events_ok(ev, nmnist.SENSOR_SIZE)


@FUZZ
@given(edits=EDITS)
def test_fuzz_nmnist_bytes(work, nmnist_base, edits):
    outcome(_write(work / "m.bin", mutate(nmnist_base, edits)), nmnist.read_bin, _bin_ok)


_ADDR = st.integers(0, 35) | st.sampled_from([240, 255])  # 240: the overflow marker


@FUZZ
@given(events=st.lists(st.tuples(_ADDR, _ADDR, st.integers(0, 1), st.integers(0, 2**23 - 1)),
                       max_size=12),
       ordered=st.booleans(), tail=st.binary(max_size=4))
def test_fuzz_nmnist_fields(work, events, ordered, tail):
    """Events field by field (addresses in and out of range, overflow markers, times in
    or out of order), packed as the format packs them, plus stray trailing bytes."""
    if ordered:
        events = sorted(events, key=lambda e: e[3])
    raw = b"".join(bytes([x, y, p << 7 | t >> 16, t >> 8 & 0xFF, t & 0xFF])
                   for x, y, p, t in events)
    outcome(_write(work / "f.bin", raw + tail), nmnist.read_bin, _bin_ok)


# --- N-TIDIGITS HDF5 ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def ntidigits_base(work) -> bytes:
    ntidigits.write_file(work / "base.hdf5", {
        "train": [("man-aa-a-7", [0.001, 0.002, 0.5], [3, 60, 63]),
                  ("woman-ab-b-z", [0.01], [0]), ("man-aa-a-6z7", [0.1], [1])],
        "test": [("woman-zz-a-o", [0.2, 0.3], [5, 6])]})
    return (work / "base.hdf5").read_bytes()


def _split_ok(utts: list, single: bool) -> None:
    assert utts or not single  # the benchmark's reads never come back empty
    for utt, ev in utts:
        assert isinstance(utt, ntidigits.Utterance)
        assert utt.digits and set(utt.digits) <= ntidigits.DIGIT_CHARS
        assert utt.single or not single
        if utt.single:
            assert 0 <= utt.label <= 10
        events_ok(ev, ntidigits.SENSOR_SIZE)


def _fuzz_splits(path: Path) -> None:
    for single in (True, False):
        outcome(path, lambda p, s=single: ntidigits.read_split(p, "train", s),
                lambda utts, s=single: _split_ok(utts, s))


@FUZZ
@given(edits=EDITS)
def test_fuzz_ntidigits_bytes(work, ntidigits_base, edits):
    _fuzz_splits(_write(work / "m.hdf5", mutate(ntidigits_base, edits)))


_KEYS = st.one_of(
    st.sampled_from(["man-aa-a-7", "woman-ab-b-z", "man-ac-a-o", "man-aa-b-6z7"]),
    st.text(alphabet="-zo0123456789xab", min_size=1, max_size=12),
).map(str.encode) | st.binary(min_size=1, max_size=6)
_NUM = st.sampled_from([np.uint8, np.int16, np.uint32, np.int64, np.float32, np.float64])


@st.composite
def _utterance(draw) -> tuple[bytes, np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 6))
    ts = draw(st.one_of(
        hnp.arrays(np.float64, n, elements=st.floats(0, 5)).map(np.sort),
        hnp.arrays(draw(_NUM), st.integers(0, 6))))
    addr = draw(st.one_of(hnp.arrays(np.uint8, n, elements=st.integers(0, 63)),
                          hnp.arrays(draw(_NUM), st.integers(0, 6))))
    return draw(_KEYS), ts, addr


@FUZZ
@given(items=st.lists(_utterance(), min_size=0, max_size=4),
       drop=st.sampled_from([None, "addresses", "timestamps"]))
def test_fuzz_ntidigits_fields(work, items, drop):
    path = work / "f.hdf5"
    try:
        with h5py.File(path, "w") as f:
            ga, gt = f.create_group("train_addresses"), f.create_group("train_timestamps")
            for i, (key, ts, addr) in enumerate(items):
                name = key.decode("utf-8", "replace")
                if name in ga or name in gt:
                    continue
                if not (drop == "addresses" and i == 0):
                    ga.create_dataset(name, data=addr)
                if not (drop == "timestamps" and i == 0):
                    gt.create_dataset(name, data=ts)
            f.create_dataset("train_labels", data=np.array([k for k, _, _ in items],
                                                           dtype="S"))
    except (ValueError, KeyError, TypeError, RuntimeError):  # a key h5py cannot hold
        reject()
    _fuzz_splits(path)


# --- Willett .mat ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def willett_bases(work) -> dict[bool, bytes]:
    rng = np.random.default_rng(0)
    cube = rng.integers(0, 4, (2, willett.N_BINS, willett.N_CHANNELS), dtype=np.uint8)
    willett.write_single_letters(work / "base.mat", {"a": cube},
                                 {"blockList": np.arange(1, 10)[:, None]})
    scipy.io.savemat(work / "plain.mat", {"blockList": np.arange(1, 10)[:, None],
                                          "neuralActivityCube_a": cube})
    return {True: (work / "base.mat").read_bytes(), False: (work / "plain.mat").read_bytes()}


def _cubes_ok(cubes: dict[str, np.ndarray]) -> None:
    assert list(cubes) == ["a"]
    c = cubes["a"]
    assert c.ndim == 3 and c.shape[1:] == (willett.N_BINS, willett.N_CHANNELS)
    assert c.dtype.kind in "iuf" and c.shape[0] <= willett.MAX_TRIALS
    if c.size:
        assert np.isfinite(c).all() and (c >= 0).all() and (c == np.round(c)).all()
        assert c.max() <= willett.MAX_COUNT


def _read_a(path: Path) -> dict[str, np.ndarray]:
    return willett.read_single_letters(path, ["a"])


@FUZZ
@given(compressed=st.booleans(), edits=EDITS)
def test_fuzz_willett_bytes(work, willett_bases, compressed, edits):
    path = _write(work / "m.mat", mutate(willett_bases[compressed], edits))
    outcome(path, _read_a, _cubes_ok)


@FUZZ
@given(dtype=st.sampled_from(["uint8", "int16", "int32", "float32", "float64", "bool",
                              "complex128"]),
       shape=st.sampled_from([(2, 201, 192), (1, 201, 192), (0, 201, 192), (2, 200, 192),
                              (201, 192), (1, 1, 201, 192)]),
       overrides=st.lists(st.tuples(st.integers(0, 10**6), st.one_of(
           st.integers(-10, 2000), st.floats(allow_nan=True, allow_infinity=True))),
           max_size=3),
       compressed=st.booleans())
def test_fuzz_willett_fields(work, dtype, shape, overrides, compressed):
    cube = np.ones(shape, dtype=dtype)
    flat = cube.reshape(-1)
    for i, v in overrides:
        if flat.size:
            with np.errstate(invalid="ignore", over="ignore"):
                try:
                    flat[i % flat.size] = v
                except (OverflowError, ValueError):  # numpy refuses to store it
                    pass
    path = work / "f.mat"
    scipy.io.savemat(path, {"neuralActivityCube_a": cube}, do_compression=compressed)
    outcome(path, _read_a, _cubes_ok)


# --- EMNIST IDX --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def emnist_base(work) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    emnist.write_letters(work / "base", "train",
                         rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
                         np.array([1, 2, 26, 5]))
    ip, lp = emnist.letters_paths(work / "base", "train")
    return {"images": ip.read_bytes(), "labels": lp.read_bytes()}


def _idx_ok(path: Path) -> Callable[[np.ndarray], None]:
    def check(arr: np.ndarray) -> None:
        assert arr.dtype == np.uint8 and arr.ndim in (1, 3)
        assert arr.size == path.stat().st_size - 4 - 4 * arr.ndim
    return check


def _letters_ok(out: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = out
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert labels.dtype == np.int64 and labels.shape == (images.shape[0],) and labels.size
    assert ((labels >= 1) & (labels <= 26)).all()


@FUZZ
@given(which=st.sampled_from(["images", "labels"]), edits=EDITS)
def test_fuzz_emnist_bytes(work, emnist_base, which, edits):
    folder = work / "m"
    ip, lp = emnist.letters_paths(folder, "train")
    folder.mkdir(exist_ok=True)
    for p, key in ((ip, "images"), (lp, "labels")):
        p.write_bytes(mutate(emnist_base[key], edits) if key == which else emnist_base[key])
    bad = ip if which == "images" else lp
    outcome(bad, emnist.read_idx, _idx_ok(bad))
    try:
        _letters_ok(emnist.read_letters(folder, "train"))
    except DataFormatError as exc:
        assert ip.name in str(exc) or lp.name in str(exc), str(exc)


@FUZZ
@given(magic=st.sampled_from([0x801, 0x803, 0x802, 0x1F8B0801]) | st.integers(0, 2**32 - 1),
       dims=st.lists(st.integers(0, 40) | st.integers(0, 2**32 - 1), min_size=0,
                     max_size=3),
       n_data=st.none() | st.integers(0, 3000))
def test_fuzz_idx_fields(work, magic, dims, n_data):
    """Random magic numbers, dimensions (small or up to 2**32 - 1) and data lengths;
    n_data None: exactly what the dimensions announce, where that is small."""
    if n_data is None:
        n_data = math.prod(dims)
        if n_data > 3000:
            reject()
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    path = _write(work / "f-idx-ubyte", raw + bytes(range(256)) * (n_data // 256)
                  + bytes(n_data % 256))
    outcome(path, emnist.read_idx, _idx_ok(path))


# --- .npz caches -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def npz_bases(work) -> dict[bool, bytes]:
    arrays = {"x": np.arange(40, dtype=np.uint8).reshape(4, 10), "y_train": np.arange(4.0),
              "data_source": np.array("simulated")}
    np.savez(work / "plain.npz", **arrays)
    np.savez_compressed(work / "packed.npz", **arrays)
    return {False: (work / "plain.npz").read_bytes(), True: (work / "packed.npz").read_bytes()}


def _npz_ok(data: dict[str, np.ndarray]) -> None:
    assert "x" in data
    for v in data.values():
        assert isinstance(v, np.ndarray) and v.dtype.kind != "O"


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    return load_npz(path, ("x",))


@FUZZ
@given(compressed=st.booleans(), edits=EDITS)
def test_fuzz_npz_bytes(work, npz_bases, compressed, edits):
    path = _write(work / "m.npz", mutate(npz_bases[compressed], edits))
    outcome(path, _read_npz, _npz_ok)


@FUZZ
@given(descr=st.sampled_from(["<f8", "|u1", "<i8", "|O", "<U3", "|V4", "zz", "<f8 ", ""]),
       shape=st.lists(st.integers(-2, 5) | st.integers(0, 2**62), max_size=3),
       fortran=st.booleans(), n_data=st.integers(0, 200),
       header=st.none() | st.text(max_size=40))
def test_fuzz_npz_fields(work, descr, shape, fortran, n_data, header):
    """An .npz whose .npy member has a random header (dtype, shape, order) and data."""
    text = header if header is not None else (
        f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {tuple(shape)}, }}")
    body = text.encode("latin1", "replace")
    body += b" " * (-(10 + len(body) + 1) % 64) + b"\n"
    member = b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + bytes(n_data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", member)
    outcome(_write(work / "f.npz", buf.getvalue()), _read_npz, _npz_ok)
