"""EMNIST letters (Cohen et al. 2017) in MNIST's IDX format.

Files: ``emnist-letters-{train,test}-images-idx3-ubyte`` and ``...-labels-idx1-ubyte``.
IDX is big-endian: magic ``00 00 08 03`` (uint8, 3 dims) then N, 28, 28 as uint32 and
the pixels; labels: magic ``00 00 08 01``, N, then N bytes. Labels are **1..26** (a = 1).
EMNIST stores images **transposed**; :func:`read_letters` returns them upright.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lsm.errors import DataFormatError

_MAGIC = {1: 0x00000801, 3: 0x00000803}
N_LETTERS = 26
IMAGE_SHAPE = (28, 28)


def _unreadable(path: Path, exc: OSError) -> DataFormatError:
    return DataFormatError(path, f"cannot be read ({exc.strerror or exc}).",
                           "check that the file exists and is readable.")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of uint8 values (labels: 1-D, images: 3-D).

    The header's declared size is checked against the file size before the data are
    read, so a damaged header cannot make us allocate more than the file holds.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4)
            if len(head) < 4:
                raise DataFormatError(path, "too short for an IDX header.")
            magic = int.from_bytes(head, "big")
            ndim = head[3]
            if magic != _MAGIC.get(ndim):
                raise DataFormatError(path, f"bad IDX magic number 0x{magic:08x} (expected "
                                      "0x00000801 for labels or 0x00000803 for images).",
                                      "is the file gzip-compressed? gunzip it first.")
            dim_bytes = fh.read(4 * ndim)
            if len(dim_bytes) < 4 * ndim:
                raise DataFormatError(path, "too short for an IDX header.")
            dims = [int.from_bytes(dim_bytes[4 * i: 4 + 4 * i], "big") for i in range(ndim)]
            start = 4 + 4 * ndim
            n = math.prod(dims)  # Python ints: a product of uint32 dims overflows int64
            if size - start != n:
                raise DataFormatError(path, f"holds {size - start} data bytes, the header "
                                      f"announces {n} ({dims}).", "re-download the file.")
            data = fh.read()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if len(data) != n:
        raise DataFormatError(path, f"holds {len(data)} data bytes, the header announces {n} "
                              f"({dims}).", "re-download the file.")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


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


def dataset_folder(folder: str | Path) -> Path:
    """The folder holding the letters IDX files: `folder` itself, or a torchvision cache
    inside it (``EMNIST/raw/`` or ``raw/``: torchvision's ``EMNIST(root)`` extracts the
    files to ``root/EMNIST/raw``)."""
    folder = Path(folder)
    name = "emnist-letters-test-labels-idx1-ubyte"
    for cand in (folder, folder / "EMNIST" / "raw", folder / "raw"):
        if (cand / name).is_file():
            return cand
    return folder


def letters_paths(folder: str | Path, split: str) -> tuple[Path, Path]:
    folder = dataset_folder(folder)
    return (folder / f"emnist-letters-{split}-images-idx3-ubyte",
            folder / f"emnist-letters-{split}-labels-idx1-ubyte")


def read_letters(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Upright images uint8 [N, 28, 28] and labels 1..26 of one split."""
    ip, lp = letters_paths(folder, split)
    images, labels = read_idx(ip), read_idx(lp)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataFormatError(ip, f"images have shape {images.shape}, expected (N, 28, 28).",
                              "use the EMNIST letters image file (idx3).")
    if labels.ndim != 1:
        raise DataFormatError(lp, f"labels have shape {labels.shape}, expected (N,).",
                              "use the EMNIST letters label file (idx1).")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(ip, f"holds {images.shape[0]} images but {lp.name} holds "
                              f"{labels.shape[0]} labels.", "re-download both files.")
    if not labels.size:
        raise DataFormatError(lp, f"the {split} split holds no images.",
                              "re-download the EMNIST letters files.")
    bad = np.flatnonzero((labels < 1) | (labels > N_LETTERS))
    if bad.size:
        i = int(bad[0])
        raise DataFormatError(lp, f"label {i} is {labels[i]}; letter labels must lie in "
                              f"1..{N_LETTERS} ({bad.size} such labels).",
                              "use the EMNIST *letters* files (not digits, balanced or byclass).")
    return images.transpose(0, 2, 1).copy(), labels.astype(np.int64)


def write_letters(folder: str | Path, split: str, images: np.ndarray, labels: np.ndarray
                  ) -> None:
    """Write upright images (stored transposed, as EMNIST does) and labels 1..26."""
    ip, lp = letters_paths(folder, split)
    write_idx(ip, np.asarray(images).transpose(0, 2, 1))
    write_idx(lp, np.asarray(labels))
