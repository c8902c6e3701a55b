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

from pathlib import Path

import numpy as np

from lsm.errors import DataFormatError
from lsm.events import EVENT_DTYPE, make_events, validate_events

SENSOR_SIZE = (34, 34, 2)
_OVERFLOW_Y = 240
_OVERFLOW_US = 1 << 13
_T_MAX = (1 << 23) - 1


def read_bin(path: str | Path) -> np.ndarray:
    """Read one N-MNIST `.bin` file into an EVENT_DTYPE array (t in microseconds)."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "check the dataset path in the config.")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise DataFormatError(
            path,
            f"truncated: {raw.size} bytes is not a multiple of 5 (the N-MNIST event size).",
            "re-download or re-generate the dataset.",
        )
    raw = raw.astype(np.uint32).reshape(-1, 5)
    x, y = raw[:, 0], raw[:, 1]
    p = raw[:, 2] >> 7
    t = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    t = t.astype(np.int64)
    overflow = y == _OVERFLOW_Y
    if overflow.any():
        t = t + np.cumsum(overflow) * _OVERFLOW_US
        keep = ~overflow
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
    ev = make_events(x, y, t, p)
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


def list_split(root: str | Path, split: str) -> list[tuple[Path, int]]:
    """List ``(file, label)`` of one split ('Train' or 'Test'), sorted by label then name."""
    root = Path(root)
    folder = root / split
    if not folder.is_dir():
        raise DataFormatError(
            folder,
            "N-MNIST split folder not found.",
            f"expected {root}/{{Train,Test}}/<digit>/*.bin; run the workflow's data rule or "
            "point `data_dir` at an extracted copy of N-MNIST.",
        )
    items: list[tuple[Path, int]] = []
    for digit_dir in sorted(folder.iterdir()):
        if not digit_dir.is_dir():
            continue
        if not digit_dir.name.isdigit():
            raise DataFormatError(digit_dir, "class folder name is not a digit.")
        label = int(digit_dir.name)
        items.extend((f, label) for f in sorted(digit_dir.glob("*.bin")))
    if not items:
        raise DataFormatError(folder, "no .bin files found.", "the dataset folder is empty.")
    return items


__all__ = ["EVENT_DTYPE", "SENSOR_SIZE", "list_split", "read_bin", "write_bin"]
