"""Real-data acquisition (needs internet; never used by the offline default).

N-MNIST comes through tonic's dataset class, which downloads the official archives and
checks their md5 sums before extracting them.
"""

from __future__ import annotations

from pathlib import Path

from lsm import atomic
from lsm.errors import DataFormatError


def fetch_nmnist(out_dir: str | Path) -> Path:
    """Download and extract N-MNIST into ``<out_dir>/NMNIST/{Train,Test}``; write a manifest.

    Returns the dataset root (the folder holding Train/ and Test/).
    """
    import tonic

    out_dir = Path(out_dir)
    try:
        for train in (True, False):
            tonic.datasets.NMNIST(save_to=str(out_dir), train=train)
    except Exception as exc:  # tonic raises plain exceptions for network and md5 failures
        raise DataFormatError(
            out_dir, f"N-MNIST download failed ({exc}).",
            "check the internet connection, or download Train.zip and Test.zip from "
            "https://www.garrickorchard.com/datasets/n-mnist, extract them and set "
            "datasets.nmnist.data_dir to the folder holding Train/ and Test/.") from exc
    root = out_dir / "NMNIST"
    atomic.write_json(out_dir / "MANIFEST.json", {
        "format": "nmnist-bin", "data_source": "real", "root": str(root),
        "generator_version": "none (real data)", "via": "tonic.datasets.NMNIST (md5-checked)"})
    return root
