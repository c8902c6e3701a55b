"""`lsm data info`: a one-object JSON summary of any supported data file or folder."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from lsm.errors import DataFormatError
from lsm.io import nmnist


def _nmnist_events_summary(events_list: list, labels: list[int | None]) -> dict[str, Any]:
    n_events = sum(e.size for e in events_list)
    tmins = [int(e["t"].min()) for e in events_list if e.size]
    tmaxs = [int(e["t"].max()) for e in events_list if e.size]
    hist = Counter(str(lab) for lab in labels if lab is not None)
    return {
        "format": "nmnist-bin",
        "n_samples": len(events_list),
        "n_events": int(n_events),
        "t_min_us": min(tmins) if tmins else None,
        "t_max_us": max(tmaxs) if tmaxs else None,
        "sensor_size": list(nmnist.SENSOR_SIZE),
        "labels": dict(sorted(hist.items())),
    }


def info(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise DataFormatError(path, "no such file or folder.")
    if path.is_file() and path.suffix == ".bin":
        label = int(path.parent.name) if path.parent.name.isdigit() else None
        return _nmnist_events_summary([nmnist.read_bin(path)], [label])
    if path.is_dir() and ((path / "Train").is_dir() or (path / "Test").is_dir()):
        evs, labs = [], []
        for split in ("Train", "Test"):
            if (path / split).is_dir():
                for f, lab in nmnist.list_split(path, split):
                    evs.append(nmnist.read_bin(f))
                    labs.append(lab)
        return _nmnist_events_summary(evs, labs)
    raise DataFormatError(path, "unsupported file or folder.",
                          "give an N-MNIST .bin file or a folder holding Train/ and Test/.")
