"""EMNIST letters (Cohen et al. 2017) in MNIST's IDX format.

Files: ``emnist-letters-{train,test}-images-idx3-ubyte`` and ``...-labels-idx1-ubyte``.
IDX is big-endian: magic ``00 00 08 03`` (uint8, 3 dims) then N, 28, 28 as uint32 and
the pixels; labels: magic ``00 00 08 01``, N, then N bytes. Labels are **1..26** (a = 1).
EMNIST stores images **transposed**; :func:`read_letters` returns them upright.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lsm.errors import DataFormatError

_MAGIC = {1: 0x00000801, 3: 0x00000803}


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.")
    raw = path.read_bytes()
    if len(raw) < 8:
        raise DataFormatError(path, "too short for an IDX header.")
    magic = int.from_bytes(raw[:4], "big")
    ndim = raw[3]
    if magic != _MAGIC.get(ndim):
        raise DataFormatError(path, f"bad IDX magic number 0x{magic:08x} (expected "
                              "0x00000801 for labels or 0x00000803 for images).",
                              "is the file gzip-compressed? gunzip it first.")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    start = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(raw) - start != n:
        raise DataFormatError(path, f"holds {len(raw) - start} data bytes, the header "
                              f"announces {n} ({dims}).", "re-download the file.")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def write_idx(path: str | Path, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.ndim not in _MAGIC:
        raise ValueError("IDX writer supports 1-D labels and 3-D images")
    header = _MAGIC[arr.ndim].to_bytes(4, "big") + b"".join(
        int(d).to_bytes(4, "big") for d in arr.shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(header + arr.tobytes())
    tmp.replace(path)


def letters_paths(folder: str | Path, split: str) -> tuple[Path, Path]:
    folder = Path(folder)
    return (folder / f"emnist-letters-{split}-images-idx3-ubyte",
            folder / f"emnist-letters-{split}-labels-idx1-ubyte")


def read_letters(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Upright images uint8 [N, 28, 28] and labels 1..26 of one split."""
    ip, lp = letters_paths(folder, split)
    images, labels = read_idx(ip), read_idx(lp)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataFormatError(ip, f"images {images.shape} and labels {labels.shape} "
                              "do not match.")
    if labels.size and (labels.min() < 1 or labels.max() > 26):
        raise DataFormatError(lp, "letter labels must lie in 1..26.")
    return images.transpose(0, 2, 1).copy(), labels.astype(np.int64)


def write_letters(folder: str | Path, split: str, images: np.ndarray, labels: np.ndarray
                  ) -> None:
    """Write upright images (stored transposed, as EMNIST does) and labels 1..26."""
    ip, lp = letters_paths(folder, split)
    write_idx(ip, np.asarray(images).transpose(0, 2, 1))
    write_idx(lp, np.asarray(labels))
