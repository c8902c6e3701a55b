"""N-MNIST `.bin` files (Orchard et al. 2015), read and written byte-exactly.

Format: a flat list of 40-bit big-endian events, 5 bytes each, no header::

    byte 0          x address (0..33)
    byte 1          y address (0..33)
    byte 2, bit 7   polarity (1 = ON, 0 = OFF as documented)
    byte 2 low 7 bits, bytes 3, 4   timestamp in microseconds (23 bits)

An event with ``y == 240`` is a legacy timestamp-overflow marker: it adds 2**13 us to all
later events and is dropped (as tonic and ebdataset do).

Folder layout: ``<root>/{Train,Test}/<digit>/<NNNNN>.bin``; the folder name is the label.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lsm.datasets.events import EVENT_DTYPE, validate_events
from lsm.errors import DataFormatError

SENSOR_SIZE = (34, 34, 2)
_OVERFLOW_Y = 240
_OVERFLOW_US = 1 << 13
_T_MAX = (1 << 23) - 1
# one sample is ~30 KB; anything this large is not an N-MNIST sample (and would
# be read whole into memory)
MAX_BIN_BYTES = 64 << 20
_DIGITS = tuple(str(d) for d in range(10))
SPLITS = ("Train", "Test")


def read_bin(path: str | Path) -> np.ndarray:
    """Read one N-MNIST `.bin` file into an EVENT_DTYPE array (t in microseconds).

    Peak memory is about 4x the file size (the raw bytes, the 13-byte events and uint8
    temporaries): no wider copies of the whole file are made.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "check the dataset path in the config.")
    size = path.stat().st_size
    if size > MAX_BIN_BYTES:
        raise DataFormatError(
            path, f"is {size} bytes, more than the {MAX_BIN_BYTES} allowed for one N-MNIST "
            "sample (real ones are about 30 KB).",
            "this is not an N-MNIST .bin sample; check the dataset path.")
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise DataFormatError(path, f"cannot be read ({exc.strerror or exc}).",
                              "check that the file exists and is readable.") from exc
    if raw.size == 0:
        raise DataFormatError(path, "holds no events (0 bytes): a truncated download or an "
                              "interrupted write.", "re-download or re-generate the dataset.")
    if raw.size % 5:
        raise DataFormatError(
            path,
            f"truncated: {raw.size} bytes is not a multiple of 5 (the N-MNIST event size).",
            "re-download or re-generate the dataset.",
        )
    raw = raw.reshape(-1, 5)
    ev = np.empty(raw.shape[0], dtype=EVENT_DTYPE)
    ev["x"] = raw[:, 0]
    ev["y"] = raw[:, 1]
    ev["p"] = raw[:, 2] >> 7
    t = ev["t"]  # a view: the timestamp is assembled in place
    t[:] = raw[:, 2] & 0x7F
    t <<= 8
    t |= raw[:, 3]
    t <<= 8
    t |= raw[:, 4]
    overflow = raw[:, 1] == _OVERFLOW_Y
    if overflow.any():
        t += np.cumsum(overflow, dtype=np.int64) * _OVERFLOW_US
        ev = ev[~overflow]
        if not ev.size:
            raise DataFormatError(path, f"holds no events, only {overflow.size} timestamp-"
                                  "overflow marker(s).", "re-download or re-generate the "
                                  "dataset.")
    return validate_events(ev, SENSOR_SIZE, source=path)


def write_bin(path: str | Path, events: np.ndarray) -> None:
    """Write events in the N-MNIST `.bin` format (the inverse of read_bin).

    Raises ValueError for addresses or timestamps the format cannot hold, rather than
    silently wrapping them.
    """
    validate_events(events, SENSOR_SIZE, source=path)
    t = events["t"].astype(np.int64)
    if t.size and (t.min() < 0 or t.max() > _T_MAX):
        raise ValueError(f"{path}: timestamps must lie in 0..{_T_MAX} us for N-MNIST .bin")
    t = t.astype(np.uint32)
    out = np.empty((events.size, 5), dtype=np.uint8)
    out[:, 0] = events["x"]
    out[:, 1] = events["y"]
    out[:, 2] = (events["p"].astype(np.uint32) << 7) | ((t >> 16) & 0x7F)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.tofile(tmp)
    tmp.replace(path)


def label_of_folder(name: str) -> int | None:
    """The label a class folder name stands for: exactly one ASCII digit, else None."""
    return int(name) if name in _DIGITS else None


def _scan(folder: Path) -> list[os.DirEntry]:
    """The entries of `folder`, sorted by name. os.scandir raises where Path.glob would
    silently list nothing (a folder that cannot be read: permission denied)."""
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise DataFormatError(folder, f"cannot be listed ({exc.strerror or exc}).",
                              "check that the folder exists and is readable.") from exc


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError as exc:
        raise DataFormatError(entry.path, f"cannot be read ({exc.strerror or exc}).",
                              "check the file's permissions.") from exc


def list_split(root: str | Path, split: str) -> list[tuple[Path, int]]:
    """List ``(file, label)`` of one split ('Train' or 'Test'), sorted by label then name.

    Every class folder must hold at least one ``.bin`` file; a split may hold a subset
    of the ten digits (:func:`list_splits` checks that Train and Test hold the same)."""
    root = dataset_folder(root)
    folder = root / split
    if not folder.is_dir():
        raise DataFormatError(
            folder,
            "N-MNIST split folder not found.",
            f"expected {root}/{{Train,Test}}/<digit>/*.bin; run the workflow's data rule or "
            "point `data_dir` at an extracted copy of N-MNIST.",
        )
    items: list[tuple[Path, int]] = []
    for entry in _scan(folder):
        if not _is_dir(entry):
            continue
        digit_dir = folder / entry.name
        # exact ASCII names: str.isdigit() also accepts '99' and the Arabic-Indic '٣'
        label = label_of_folder(entry.name)
        if label is None:
            raise DataFormatError(
                digit_dir, f"class folder name {entry.name!r} is not one of the digits "
                "0..9.", f"N-MNIST class folders are named 0 to 9; move or remove "
                f"'{entry.name}' from {folder}.")
        bins = [e for e in _scan(digit_dir) if e.name.endswith(".bin")]
        for e in bins:
            if _is_dir(e):
                raise DataFormatError(digit_dir / e.name, "is a folder, not an N-MNIST "
                                      ".bin sample.", f"move or remove it from {digit_dir}.")
        if not bins:
            raise DataFormatError(digit_dir, f"class folder '{split}/{entry.name}' holds no "
                                  ".bin files.", "re-download or re-extract N-MNIST (a "
                                  "class folder is empty).")
        items.extend((digit_dir / e.name, label) for e in bins)
    if not items:
        raise DataFormatError(folder, "no .bin files found.", "the dataset folder is empty.")
    return items


def dataset_folder(root: str | Path) -> Path:
    """The folder holding Train/ and Test/: `root` itself, or a tonic cache's ``NMNIST/``
    inside it (tonic's ``NMNIST(save_to=root)`` writes ``root/NMNIST/{Train,Test}``)."""
    root = Path(root)
    tonic = root / "NMNIST"
    if not (root / "Train").is_dir() and (tonic / "Train").is_dir():
        return tonic
    return root


def list_splits(root: str | Path) -> dict[str, list[tuple[Path, int]]]:
    """:func:`list_split` of Train and Test, which must hold the same digit classes (a
    subset of 0..9 is allowed; a digit folder missing from one split is not)."""
    root = dataset_folder(root)
    out = {s: list_split(root, s) for s in SPLITS}
    classes = {s: {lab for _, lab in items} for s, items in out.items()}
    for s, other in (SPLITS, SPLITS[::-1]):
        missing = sorted(classes[other] - classes[s])
        if missing:
            names = ", ".join(f"'{other}/{d}'" for d in missing)
            raise DataFormatError(
                root / s, f"has no folder for digit(s) {', '.join(map(str, missing))}, which "
                f"{other} holds ({names}): Train and Test must hold the same classes.",
                f"re-download or re-extract N-MNIST, or remove {names} to use the same "
                "subset of digits in both splits.")
    return out


__all__ = ["EVENT_DTYPE", "MAX_BIN_BYTES", "SENSOR_SIZE", "SPLITS", "dataset_folder",
           "label_of_folder",
           "list_split", "list_splits", "read_bin", "write_bin"]
