"""Willett et al. (2021) handwriting BCI: ``singleLetters.mat`` (MATLAB v5, scipy.io).

``neuralActivityCube_<c>``: [27 trials, 201 bins of 10 ms, 192 electrodes] integer
threshold-crossing counts, one cube per character (a..z plus punctuation and
``doNothing``); 27 trials = 9 blocks x 3 repetitions. The go cue is near bin 50.
Session used by the paper: ``Datasets/t5.2019.05.08/singleLetters.mat``.
"""

from __future__ import annotations

import math
import string
import struct
import zlib
from pathlib import Path

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

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
# Sanity bounds, checked on the declared shapes before a cube is read: the real file has
# 27 trials per letter, and one 10 ms bin of one electrode cannot hold more threshold
# crossings than this (30 kHz sampling gives 300 samples per bin).
MAX_TRIALS = 1000
MAX_COUNT = 1000
_NUMERIC = frozenset({"double", "single", "int8", "uint8", "int16", "uint16", "int32",
                      "uint32", "int64", "uint64"})
# what scipy.io raises for a damaged or foreign file
_MAT_ERRORS = (MatReadError, ValueError, OSError, NotImplementedError, TypeError, KeyError,
               IndexError, EOFError, struct.error, zlib.error, OverflowError,
               ZeroDivisionError)
# MATLAB v5 data types that hold numbers (miINT8..miUINT64) and their item sizes
_MI_ITEMSIZE = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_NUMERIC = frozenset(range(6, 16))  # mxDOUBLE_CLASS..mxUINT64_CLASS
_HEAD_BYTES = 4096  # holds a matrix header: flags, dims, name (<= 63 chars), data tag
_FIX_SESSION = "use the singleLetters.mat of session t5.2019.05.08."


def _mat_error(path: Path, exc: BaseException) -> DataFormatError:
    denied = next((e for e in (exc, exc.__cause__) if isinstance(e, PermissionError)), None)
    if denied is not None:
        return DataFormatError(path, f"cannot be read ({denied.strerror or denied}).",
                               "check the file's permissions.")
    if isinstance(exc, NotImplementedError):  # scipy's answer to a v7.3 (HDF5) file
        return DataFormatError(path, f"not a readable MATLAB v5 file ({exc}).",
                               "re-save it in MATLAB with save(..., '-v7').")
    return DataFormatError(path, f"not a readable MATLAB v5 file ({type(exc).__name__}: "
                           f"{exc}).", "re-download it (Dryad doi:10.5061/dryad.wh70rxwmv).")


def _v5_heads(path: Path) -> tuple[str, list[bytes]]:
    """The byte order and the first bytes (decompressed) of every top-level variable of a
    MATLAB v5 file, as scipy's reader sees them; no heads for other versions (v4 is read
    in pure Python, v7.3 is refused by scipy)."""
    heads = []
    with path.open("rb") as fh:
        head = fh.read(128)
        if len(head) < 128 or 0 in head[:4] or head[124 + (head[126] == ord("I"))] != 1:
            return "<", heads
        endian = "<" if head[126:128] == b"IM" else ">"
        pos = 128
        while len(tag := fh.read(8)) == 8:
            mdtype, nbytes = struct.unpack(endian + "II", tag)
            if mdtype == _MI_COMPRESSED:  # scipy reads at most nbytes of compressed data
                inflate, out, left = zlib.decompressobj(), b"", nbytes
                while len(out) < _HEAD_BYTES and not inflate.eof:
                    chunk = inflate.unconsumed_tail
                    if not chunk:
                        chunk = fh.read(min(left, 1 << 16))
                        left -= len(chunk)
                    if not chunk:
                        break
                    out += inflate.decompress(chunk, _HEAD_BYTES - len(out))
                heads.append(out)
            else:  # scipy reads on through the file, whatever nbytes says
                heads.append(tag + fh.read(_HEAD_BYTES))
            pos += 8 + nbytes
            fh.seek(pos)
    return endian, heads


def _parse_head(buf: bytes, endian: str, names: list[str]
                ) -> tuple[str, int, list[int], int, int] | None:
    """(name, array flags, dims, data type, data bytes) of a miMATRIX element whose name
    is in `names`, parsed as scipy's reader parses it; None for any other variable.
    Raises struct.error where the buffer ends first (scipy then fails on its own)."""
    def tag(p: int) -> tuple[int, int, int, int]:  # type, size, data start, next tag
        u = struct.unpack_from(endian + "I", buf, p)[0]
        if u >> 16:  # small data element: 2-byte type, 2-byte size, data in 4 bytes
            return u & 0xFFFF, u >> 16, p + 4, p + 8
        n = struct.unpack_from(endian + "I", buf, p + 4)[0]
        return u, n, p + 8, p + 8 + -(-n // 8) * 8

    if struct.unpack_from(endian + "I", buf, 0)[0] != _MI_MATRIX:
        return None  # scipy refuses it
    flags = struct.unpack_from(endian + "I", buf, 16)[0]  # after the flags tag, unread
    if flags & 0xFF == 17:  # mxOPAQUE_CLASS: no dims, no name
        return None
    _, n, d, p = tag(24)
    if n > 128:
        return None  # more than 32 dims: scipy refuses it
    dims = list(struct.unpack_from(f"{endian}{n // 4}i", buf, d))
    _, n, d, p = tag(p)
    if n not in {len(x) for x in names} or buf[d:d + n].decode("latin1") not in names:
        return None
    mdtype, nbytes, _, _ = tag(p)
    return buf[d:d + n].decode("latin1"), flags, dims, mdtype, nbytes


def _check_stored(path: Path, names: list[str]) -> None:
    """Check the stored data type and size of each requested cube before scipy reads it:
    scipy's C reader indexes a table with the stored type unchecked, so a corrupted type
    byte can crash the interpreter instead of raising."""
    try:
        endian, heads = _v5_heads(path)
    except _MAT_ERRORS as exc:
        raise _mat_error(path, exc) from exc
    for buf in heads:
        try:
            parsed = _parse_head(buf, endian, names)
        except struct.error:
            continue  # cut short: scipy reaches the same end and raises
        if parsed is None:
            continue
        name, flags, dims, mdtype, nbytes = parsed
        if flags & 0xFF not in _MX_NUMERIC:
            continue  # refused by its class in _check_declared
        if flags >> 11 & 1:
            raise DataFormatError(path, f"'{name}' is complex; expected integer "
                                  "threshold-crossing counts.", _FIX_SESSION)
        if mdtype not in _MI_ITEMSIZE:
            raise DataFormatError(path, f"'{name}' stores its values as MATLAB data type "
                                  f"{mdtype}, not a number type (the file is corrupted).",
                                  _FIX_SESSION)
        want = math.prod(dims) * _MI_ITEMSIZE[mdtype]
        if nbytes != want:
            raise DataFormatError(path, f"'{name}' stores {nbytes} bytes of values; its "
                                  f"shape {tuple(dims)} needs {want}.", _FIX_SESSION)


def _check_declared(path: Path, names: list[str]) -> None:
    """Check each cube's declared shape and class (scipy's whosmat reads headers only)
    before loadmat allocates it."""
    try:
        declared = {name: (shape, cls) for name, shape, cls in scipy.io.whosmat(str(path))}
    except _MAT_ERRORS as exc:
        raise _mat_error(path, exc) from exc
    for name in names:
        if name not in declared:
            raise DataFormatError(path, f"missing variable '{name}'.", _FIX_SESSION)
        shape, cls = declared[name]
        if cls not in _NUMERIC:
            raise DataFormatError(path, f"'{name}' is a MATLAB {cls} array; expected numeric "
                                  "threshold-crossing counts.", _FIX_SESSION)
        if len(shape) != 3 or tuple(shape[1:]) != (N_BINS, N_CHANNELS):
            raise DataFormatError(path, f"'{name}' has shape {tuple(shape)}, expected "
                                  f"(trials, {N_BINS}, {N_CHANNELS}).", _FIX_SESSION)
        if shape[0] > MAX_TRIALS:
            raise DataFormatError(path, f"'{name}' declares {shape[0]} trials, more than the "
                                  f"{MAX_TRIALS} allowed.", _FIX_SESSION)


def _check_counts(path: Path, name: str, cube: np.ndarray) -> None:
    """Counts must be finite non-negative integers: a negative or fractional value would
    otherwise wrap or round silently when clamped into binary uint8 frames."""
    kind = cube.dtype.kind
    if kind not in "iuf":
        raise DataFormatError(path, f"'{name}' has dtype {cube.dtype}; expected integer "
                              "threshold-crossing counts.", _FIX_SESSION)
    if cube.ndim != 3 or cube.shape[1:] != (N_BINS, N_CHANNELS):
        raise DataFormatError(path, f"'{name}' has shape {cube.shape}, expected "
                              f"(trials, {N_BINS}, {N_CHANNELS}).", _FIX_SESSION)
    checks = [(cube < 0, "negative")]
    if kind == "f":
        checks = [(~np.isfinite(cube), "not finite"), *checks,
                  (cube != np.round(cube), "not an integer")]
    checks.append((cube > MAX_COUNT, f"more than {MAX_COUNT} crossings in one bin"))
    for bad, why in checks:
        if bad.any():
            trial, b, ch = (int(i) for i in np.argwhere(bad)[0])
            raise DataFormatError(path, f"'{name}'[{trial}, {b}, {ch}] = {cube[trial, b, ch]} "
                                  f"is {why} ({int(bad.sum())} such values); expected "
                                  "threshold-crossing counts.", _FIX_SESSION)


SESSION = "t5.2019.05.08"  # the session whose singleLetters.mat the paper uses


def dataset_folder(folder: str | Path) -> Path:
    """The folder holding singleLetters.mat: `folder` itself, or the session folder of an
    extracted Dryad archive inside it (``Datasets/t5.2019.05.08/`` under
    ``handwritingBCIData/`` or not, or ``t5.2019.05.08/``)."""
    folder = Path(folder)
    for cand in (folder, folder / "Datasets" / SESSION,
                 folder / "handwritingBCIData" / "Datasets" / SESSION, folder / SESSION):
        if (cand / "singleLetters.mat").is_file():
            return cand
    return folder


def read_single_letters(path: str | Path, letters: list[str] | None = None
                        ) -> dict[str, np.ndarray]:
    """Return ``{letter: cube int [trials, 201, 192]}`` for the requested letters."""
    path = Path(path)
    letters = letters or LETTERS
    if not path.is_file():
        raise DataFormatError(path, "file not found.",
                              "set datasets.bmi.willett_dir to the folder holding "
                              "singleLetters.mat (Datasets/t5.2019.05.08/ of Dryad "
                              "doi:10.5061/dryad.wh70rxwmv's handwritingBCIData.tar.gz), "
                              "or to the extracted archive.")
    names = [f"neuralActivityCube_{c}" for c in letters]
    _check_declared(path, names)
    _check_stored(path, names)
    try:
        mat = scipy.io.loadmat(str(path), variable_names=names)
    except _MAT_ERRORS as exc:
        raise _mat_error(path, exc) from exc
    out = {}
    for c, name in zip(letters, names, strict=True):
        if name not in mat:
            raise DataFormatError(path, f"missing variable '{name}'.", _FIX_SESSION)
        cube = np.asarray(mat[name])
        _check_counts(path, name, cube)
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
