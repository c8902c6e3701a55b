"""N-TIDIGITS18 (Anumula et al. 2018): one HDF5 file, ``n-tidigits.hdf5``.

Layout, per split ``s`` in {train, test}::

    /{s}_labels          1-D byte strings: the utterance keys, in file order
    /{s}_addresses/<key> 1-D channel address of each event (0..63)
    /{s}_timestamps/<key> 1-D event time in SECONDS (float), same length

Keys read ``{gender}-{speaker}-{take}-{digits}`` (e.g. ``woman-ab-b-7``); the digit string
uses 1..9, ``z`` = "zero" and ``o`` = "oh". Isolated digits have one character.

Label mapping: we keep **the paper's**, ``z -> 0``, ``1..9 -> 1..9``, ``o -> 10``
(the authors' ``replace("z","0").replace("o","10")``). tonic's NTIDIGITS18 uses a different
class map (``o -> 0``, ``z -> 10``); do not mix the two.

Events come back in the package's one dtype: x = channel, y = 0, p = 0 (a 64x1x1
sensor with one polarity), t in us.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

from lsm.datasets.events import make_events, validate_events
from lsm.errors import DataFormatError

N_CHANNELS = 64
SENSOR_SIZE = (N_CHANNELS, 1, 1)
FILENAME = "n-tidigits.hdf5"
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine", "oh"]
# Sanity bounds, checked on the declared HDF5 shapes before anything is read: a real
# utterance holds ~10^3-10^4 events over ~1 s and a split ~10^4 utterances, so a file
# declaring more is corrupt or not N-TIDIGITS (and would otherwise be allocated whole).
MAX_EVENTS = 10**8
MAX_UTTERANCES = 10**6
# ... and over all utterances read from one split (~10^4 utterances of ~10^3-10^4 events).
MAX_SPLIT_EVENTS = 5 * 10**8
# A chunked, compressed dataset can declare far more than it stores (unwritten chunks read
# as the fill value, and a chunk of one repeated value compresses ~1000x): its declared
# size is refused beyond MAX_EXPANSION x its stored bytes, and a split's declared bytes
# beyond MAX_EXPANSION x the file size. Real event times and addresses compress only a
# few times (the simulator writes them uncompressed, 1x). Datasets below
# EXPANSION_FLOOR bytes are not held to the ratio: there fixed overheads dominate.
MAX_EXPANSION = 50
EXPANSION_FLOOR = 1 << 20
# Timestamps beyond this (s) are not an utterance; the bound also keeps t * 1e6 in int64.
T_MAX_S = 1e6
DIGIT_CHARS = frozenset("123456789zo")
# what h5py raises for a damaged file or object (it maps HDF5 errors onto these)
_H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError,
              OverflowError)
_FIX_CORRUPT = "re-download or re-generate the file."
_T = TypeVar("_T")


def label_of(digits: str) -> int:
    """Paper mapping of a single-digit string: z->0, 1..9, o->10."""
    if digits == "z":
        return 0
    if digits == "o":
        return 10
    if len(digits) == 1 and digits in "123456789":
        return int(digits)
    raise ValueError(f"not a single digit: {digits!r}")


@dataclass(frozen=True)
class Utterance:
    key: str
    gender: str
    speaker: str
    take: str
    digits: str

    @classmethod
    def parse(cls, key: str, path: Path | str = "<hdf5>") -> Utterance:
        """Split a key into its four parts; the digit part must be 1-9, z or o only."""
        parts = key.split("-")
        if len(parts) != 4 or not all(parts):
            raise DataFormatError(path, f"utterance key {key!r} is not "
                                  "'gender-speaker-take-digits'.",
                                  "the file is not an N-TIDIGITS file or is corrupted.")
        bad = sorted(set(parts[3]) - DIGIT_CHARS)
        if bad:
            raise DataFormatError(path, f"utterance key {key!r}: its digit part "
                                  f"{parts[3]!r} may hold only 1-9, 'z' (zero) and 'o' "
                                  f"(oh), not {''.join(bad)!r}.",
                                  "the file is not an N-TIDIGITS file or is corrupted.")
        return cls(key, *parts)

    @property
    def single(self) -> bool:
        return len(self.digits) == 1

    @property
    def label(self) -> int:
        return label_of(self.digits)


def _h5(path: Path, what: str, fn: Callable[[], _T]) -> _T:
    """Run one h5py call; a damaged file's error becomes a DataFormatError naming `what`."""
    try:
        return fn()
    except _H5_ERRORS as exc:
        raise DataFormatError(path, f"cannot read {what} ({type(exc).__name__}: {exc}).",
                              _FIX_CORRUPT) from exc


def _lookup(path: Path, parent: h5py.Group, key: str, name: str
            ) -> tuple[Any, tuple[int, ...] | None, np.dtype | None]:
    """The object at `key` with its shape and dtype when it is a dataset (None otherwise),
    read here so that a damaged object header fails as a DataFormatError."""
    obj = _h5(path, f"'{name}'", lambda: parent.get(key))
    if not isinstance(obj, h5py.Dataset):
        return obj, None, None
    shape, dtype = _h5(path, f"'{name}'", lambda: (obj.shape, obj.dtype))
    return obj, shape, dtype


def _describe(obj: Any, shape: tuple[int, ...] | None, dtype: np.dtype | None) -> str:
    if isinstance(obj, h5py.Dataset):
        return f"a dataset of dtype {dtype} and shape {shape}"
    return "a group" if isinstance(obj, h5py.Group) else f"a {type(obj).__name__}"


def _keys(path: Path, f: h5py.File, split: str) -> list[str]:
    """The utterance keys of ``/{split}_labels``: a 1-D dataset of UTF-8 byte strings."""
    name = f"/{split}_labels"
    ds, shape, dtype = _lookup(path, f, name, name)
    if (shape is None or dtype is None or len(shape) != 1
            or (dtype.kind != "S" and h5py.check_string_dtype(dtype) is None)):
        raise DataFormatError(path, f"'{name}' is {_describe(ds, shape, dtype)}; expected a "
                              "1-D dataset of utterance keys (byte strings).", _FIX_CORRUPT)
    if shape[0] > MAX_UTTERANCES:
        raise DataFormatError(path, f"'{name}' declares {shape[0]} utterances, more than the "
                              f"{MAX_UTTERANCES} allowed.", _FIX_CORRUPT)
    raw = _h5(path, f"'{name}'", lambda: ds[()])
    keys = []
    first: dict[str, int] = {}
    for i, k in enumerate(raw):
        if isinstance(k, bytes):
            try:
                k = k.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataFormatError(path, f"'{name}'[{i}] = {bytes(k)!r} is not UTF-8 text.",
                                      _FIX_CORRUPT) from exc
        k = str(k)
        if k in first:  # it would be read twice: a doubled sample, not a new one
            raise DataFormatError(path, f"'{name}' lists the utterance key {k!r} twice (entries "
                                  f"{first[k]} and {i}).", _FIX_CORRUPT)
        first[k] = i
        keys.append(k)
    return keys


def _group(path: Path, f: h5py.File, name: str) -> h5py.Group:
    obj, shape, dtype = _lookup(path, f, name, f"/{name}")
    if obj is None:
        raise DataFormatError(path, f"missing HDF5 group or dataset '/{name}'.",
                              "the file is not an N-TIDIGITS file or is incomplete.")
    if not isinstance(obj, h5py.Group):
        raise DataFormatError(path, f"'/{name}' is {_describe(obj, shape, dtype)}; expected a "
                              "group of one dataset per utterance.", _FIX_CORRUPT)
    return obj


def _dataset(path: Path, grp: h5py.Group, key: str, what: str
             ) -> tuple[h5py.Dataset, int, str]:
    """One utterance's addresses or timestamps dataset and its declared length, checked
    (shape, dtype, declared against stored size) before anything is read."""
    name = f"{grp.name}/{key}"
    ds, shape, dtype = _lookup(path, grp, key, name)
    if not isinstance(ds, h5py.Dataset):
        raise DataFormatError(path, f"utterance '{key}' has no {what} dataset '{name}'"
                              + ("." if ds is None else
                                 f" (it is {_describe(ds, shape, dtype)})."), _FIX_CORRUPT)
    if shape is None or dtype is None or len(shape) != 1 or dtype.kind not in "iuf":
        raise DataFormatError(path, f"'{name}' is {_describe(ds, shape, dtype)}; expected a "
                              "1-D array of numbers.", _FIX_CORRUPT)
    n = shape[0]
    if n > MAX_EVENTS:
        raise DataFormatError(path, f"'{name}' declares {n} events, more than the "
                              f"{MAX_EVENTS} allowed for one utterance.", _FIX_CORRUPT)
    if not n:
        return ds, n, name
    stored = _h5(path, f"'{name}'", ds.id.get_storage_size)
    if stored == 0:
        raise DataFormatError(path, f"'{name}' declares {n} events but stores no "
                              "data.", _FIX_CORRUPT)
    declared = n * dtype.itemsize
    if declared > EXPANSION_FLOOR and declared > MAX_EXPANSION * stored:
        raise DataFormatError(path, f"'{name}' declares {n} events ({declared} bytes) but "
                              f"stores only {stored} bytes, {declared // stored}x less; real "
                              f"event data compress at most a few times (limit "
                              f"{MAX_EXPANSION}x), so most of it is unwritten fill or "
                              "padding.", _FIX_CORRUPT)
    return ds, n, name


def _read(path: Path, ds: h5py.Dataset, name: str) -> np.ndarray:
    return np.asarray(_h5(path, f"'{name}'", lambda: ds[()]))


def _channels(path: Path, key: str, addr: np.ndarray) -> np.ndarray:
    """Addresses as int64, refused (not cast) when fractional, NaN or out of 0..63."""
    if addr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(addr) | (addr != np.round(addr)))
        if bad.size:
            i = int(bad[0])
            raise DataFormatError(path, f"utterance '{key}': event {i} has channel address "
                                  f"{addr[i]}, not an integer ({bad.size} such events).",
                                  _FIX_CORRUPT)
    bad = np.flatnonzero((addr < 0) | (addr >= N_CHANNELS))
    if bad.size:
        i = int(bad[0])
        raise DataFormatError(path, f"utterance '{key}': event {i} has x={addr[i]}, outside "
                              f"0..{N_CHANNELS - 1} of a {N_CHANNELS}x1x1 sensor "
                              f"({bad.size} such events).", _FIX_CORRUPT)
    return addr.astype(np.int64)


def _times_us(path: Path, key: str, ts: np.ndarray) -> np.ndarray:
    """Seconds to int microseconds, refusing non-finite, negative or huge times first."""
    ts = ts.astype(np.float64)
    for bad, why in ((~np.isfinite(ts), "not a finite time"), (ts < 0, "a negative time"),
                     (ts > T_MAX_S, f"beyond {T_MAX_S:g} s")):
        idx = np.flatnonzero(bad)
        if idx.size:
            i = int(idx[0])
            raise DataFormatError(path, f"utterance '{key}': event {i} has timestamp "
                                  f"{ts[i]} s, {why} ({idx.size} such events).",
                                  _FIX_CORRUPT)
    return np.round(ts * 1e6).astype(np.int64)


def read_split(
    path: str | Path, split: str, single_digits: bool = True
) -> list[tuple[Utterance, np.ndarray]]:
    """All utterances of one split, in file order: ``(utterance, events)``.

    With `single_digits` (what the benchmark reads), only one-digit utterances are kept,
    and a split without any is an error rather than an empty list.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "check datasets.ntidigits in the config.")
    size = path.stat().st_size
    try:
        f = h5py.File(path, "r")
    except PermissionError as exc:
        raise DataFormatError(path, f"cannot be read ({exc.strerror or exc}).",
                              "check the file's permissions.") from exc
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, f"not a readable HDF5 file ({exc}).",
                              "re-download or re-generate it.") from exc
    with f:
        for grp in (f"{split}_labels", f"{split}_addresses", f"{split}_timestamps"):
            if not _h5(path, f"'/{grp}'", lambda g=grp: g in f):
                raise DataFormatError(path, f"missing HDF5 group or dataset '/{grp}'.",
                                      "the file is not an N-TIDIGITS file or is incomplete.")
        keys = _keys(path, f, split)
        g_addr = _group(path, f, f"{split}_addresses")
        g_ts = _group(path, f, f"{split}_timestamps")
        out = []
        n_events = n_bytes = 0
        for key in keys:
            utt = Utterance.parse(key, path)
            if single_digits and not utt.single:
                continue
            ds_addr, n_addr, name_addr = _dataset(path, g_addr, key, "addresses")
            ds_ts, n_ts, name_ts = _dataset(path, g_ts, key, "timestamps")
            if n_addr != n_ts:
                raise DataFormatError(path, f"utterance '{key}': {n_addr} addresses but "
                                      f"{n_ts} timestamps.")
            n_events += n_addr
            n_bytes += n_addr * (ds_addr.dtype.itemsize + ds_ts.dtype.itemsize)
            if n_events > MAX_SPLIT_EVENTS:
                raise DataFormatError(path, f"split '{split}' declares more than "
                                      f"{MAX_SPLIT_EVENTS} events in all (by utterance "
                                      f"'{key}'), more than any real split holds.",
                                      _FIX_CORRUPT)
            if n_bytes > MAX_EXPANSION * size + EXPANSION_FLOOR:
                raise DataFormatError(path, f"split '{split}' declares {n_bytes} bytes of "
                                      f"events by utterance '{key}', more than "
                                      f"{MAX_EXPANSION}x the file's {size} bytes: most of "
                                      "it is unwritten fill or padding.", _FIX_CORRUPT)
            addr, ts = _read(path, ds_addr, name_addr), _read(path, ds_ts, name_ts)
            t_us = _times_us(path, key, ts)
            ev = make_events(_channels(path, key, addr), np.zeros_like(t_us), t_us,
                             np.zeros_like(t_us))
            out.append((utt, validate_events(ev, SENSOR_SIZE, source=f"{path}:{key}")))
    if single_digits and not out:
        raise DataFormatError(path, f"split '{split}' holds {len(keys)} utterance(s) but "
                              "none of a single digit, the ones the benchmark reads.",
                              "use the full N-TIDIGITS file (isolated digits have one-"
                              "character digit keys such as 'man-ae-a-7').")
    return out


def check_same_classes(path: str | Path, classes: dict[str, set[int]]) -> None:
    """The splits' single-digit class sets (paper labels) must be equal: a class missing
    from one split would be trained on but never tested, or tested but never learnt."""
    (a, ca), (b, cb) = classes.items()
    for s, mine, other, theirs in ((a, ca, b, cb), (b, cb, a, ca)):
        missing = sorted(theirs - mine)
        if missing:
            names = ", ".join(f"'{CLASS_NAMES[c]}'" for c in missing)
            raise DataFormatError(path, f"split '{s}' holds no single-digit utterance of "
                                  f"{names}, which split '{other}' holds: both splits must "
                                  "hold the same classes.", "use the full N-TIDIGITS file.")


def write_file(path: str | Path, splits: dict[str, list[tuple[str, np.ndarray, np.ndarray]]]
               ) -> None:
    """Write ``{split: [(key, t_seconds, addresses), ...]}`` in the real layout (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with h5py.File(tmp, "w") as f:
        for split, items in splits.items():
            ga = f.create_group(f"{split}_addresses")
            gt = f.create_group(f"{split}_timestamps")
            for key, ts, addr in items:
                ga.create_dataset(key, data=np.asarray(addr, dtype=np.uint8))
                gt.create_dataset(key, data=np.asarray(ts, dtype=np.float32))
            f.create_dataset(f"{split}_labels",
                             data=np.array([k.encode() for k, _, _ in items], dtype="S"))
    tmp.replace(path)
