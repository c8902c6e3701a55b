"""`lsm data info` and `lsm data show`: summaries and pictures of any supported file.

Supported: an N-MNIST ``.bin`` file or a folder with ``Train/`` and ``Test/``; an
N-TIDIGITS ``.hdf5``; a Willett ``singleLetters.mat``; an EMNIST IDX file or a folder
holding the letters IDX files.

Every summary has ``format``, ``n_samples``, ``n_events``, ``t_min_us``, ``t_max_us``,
``sensor_size`` and ``labels`` (sample counts per label), all over the whole file. For
N-TIDIGITS, whose benchmark reads only the single-digit utterances, these cover *all*
utterances (``labels`` counts multi-digit ones under ``"multi-digit"``), and
``single_digit`` holds the same summary for the single-digit subset; ``n_samples_all``,
``n_samples_single_digit`` and ``per_split`` give the counts of both.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from lsm.datasets.readers import emnist, nmnist, ntidigits, willett
from lsm.errors import DataFormatError


def detect(path: Path) -> str:
    if not path.exists():
        raise DataFormatError(path, "no such file or folder.")
    if path.is_file():
        if path.suffix == ".bin":
            return "nmnist-bin"
        if path.suffix in (".hdf5", ".h5"):
            return "ntidigits-hdf5"
        if path.suffix == ".mat":
            return "willett-mat"
        if "idx" in path.name:
            return "emnist-idx"
    elif (path / "Train").is_dir() or (path / "Test").is_dir():
        return "nmnist-folder"
    elif emnist.letters_paths(path, "train")[0].is_file():
        return "emnist-folder"
    raise DataFormatError(path, "unsupported file or folder.",
                          "give an N-MNIST .bin file or folder, an n-tidigits.hdf5, a "
                          "singleLetters.mat, or an EMNIST letters IDX file or folder.")


def _events_summary(fmt: str, evs: list[np.ndarray], labels: list, sensor: list) -> dict:
    tmins = [int(e["t"].min()) for e in evs if e.size]
    tmaxs = [int(e["t"].max()) for e in evs if e.size]
    return {"format": fmt, "n_samples": len(evs), "n_events": int(sum(e.size for e in evs)),
            "t_min_us": min(tmins) if tmins else None,
            "t_max_us": max(tmaxs) if tmaxs else None, "sensor_size": sensor,
            "labels": dict(sorted(Counter(str(x) for x in labels).items()))}


def _nmnist_items(path: Path) -> list[tuple[Path, int | None]]:
    if path.is_file():
        return [(path, nmnist.label_of_folder(path.parent.name))]
    return [it for s in ("Train", "Test") if (path / s).is_dir()
            for it in nmnist.list_split(path, s)]


def _ntidigits_info(path: Path) -> dict[str, Any]:
    """Summaries of all utterances and of the single-digit subset the benchmark reads."""
    per_split = {s: ntidigits.read_split(path, s, single_digits=False) for s in ("train", "test")}
    utts = [u for items in per_split.values() for u in items]
    single = [(u, e) for u, e in utts if u.single]

    def summary(items: list[tuple[ntidigits.Utterance, np.ndarray]]) -> dict[str, Any]:
        out = _events_summary("ntidigits-hdf5", [e for _, e in items],
                              [ntidigits.CLASS_NAMES[u.label] if u.single else "multi-digit"
                               for u, _ in items], list(ntidigits.SENSOR_SIZE))
        out["speakers"] = len({u.speaker for u, _ in items})
        return out

    out = summary(utts)
    sub = summary(single)
    del sub["format"], sub["sensor_size"]
    out.update(channels=ntidigits.N_CHANNELS, n_samples_all=len(utts),
               n_samples_single_digit=len(single), single_digit=sub,
               per_split={s: {"n_samples_all": len(items),
                              "n_samples_single_digit": sum(u.single for u, _ in items)}
                          for s, items in per_split.items()})
    return out


def info(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    fmt = detect(path)
    if fmt in ("nmnist-bin", "nmnist-folder"):
        items = _nmnist_items(path)
        return _events_summary("nmnist-bin", [nmnist.read_bin(f) for f, _ in items],
                               [lab for _, lab in items if lab is not None],
                               list(nmnist.SENSOR_SIZE))
    if fmt == "ntidigits-hdf5":
        return _ntidigits_info(path)
    if fmt == "willett-mat":
        cubes = willett.read_single_letters(path)
        n_events = int(sum(int(c.astype(np.int64).sum()) for c in cubes.values()))
        return {"format": fmt, "n_samples": int(sum(c.shape[0] for c in cubes.values())),
                "n_events": n_events, "t_min_us": 0,
                "t_max_us": willett.N_BINS * willett.BIN_MS * 1000,
                "channels": willett.N_CHANNELS, "sensor_size": [willett.N_CHANNELS, 1, 1],
                "labels": {c: int(v.shape[0]) for c, v in cubes.items()}}
    if fmt == "emnist-idx":
        arr = emnist.read_idx(path)
        out = {"format": fmt, "n_samples": int(arr.shape[0]), "n_events": None,
               "t_min_us": None, "t_max_us": None,
               "sensor_size": list(arr.shape[1:]) if arr.ndim == 3 else None}
        out["labels"] = (dict(sorted(Counter(str(x) for x in arr.tolist()).items()))
                         if arr.ndim == 1 else {})
        return out
    imgs, labs = [], []
    for split in ("train", "test"):
        if emnist.letters_paths(path, split)[0].is_file():
            i, lab = emnist.read_letters(path, split)
            imgs.append(i)
            labs.append(lab)
    lab = np.concatenate(labs)
    return {"format": "emnist-letters", "n_samples": int(lab.size), "n_events": None,
            "t_min_us": None, "t_max_us": None, "sensor_size": [28, 28],
            "labels": {willett.LETTERS[k - 1]: int(v) for k, v in
                       sorted(Counter(lab.tolist()).items())}}


def _pick(path: Path, items: Any, index: int, what: str) -> Any:
    """Item `index` of `items`, or a DataFormatError naming the index and the count."""
    n = len(items)
    if not 0 <= index < n:
        raise DataFormatError(path, f"sample index {index} is out of range: the file holds "
                              f"{n} {what} (indices 0..{n - 1}).",
                              f"pass --index between 0 and {n - 1}.")
    return items[index]


def show(path: str | Path, out: str | Path, index: int = 0) -> None:
    """Draw event frames (N-MNIST), a cochleagram (N-TIDIGITS), a neural raster
    (Willett) or a montage (EMNIST) of sample `index`."""
    from lsm.results import plots

    path = Path(path)
    fmt = detect(path)
    if fmt in ("nmnist-bin", "nmnist-folder"):
        f, lab = _pick(path, _nmnist_items(path), index, "samples")
        plots.event_frames(nmnist.read_bin(f), f"{f.name} (label {lab})", out)
    elif fmt == "ntidigits-hdf5":
        utt, ev = _pick(path, ntidigits.read_split(path, "train"), index,
                        "single-digit train utterances")
        plots.cochleagram(ev, utt.key, out)
    elif fmt == "willett-mat":
        cubes = willett.read_single_letters(path)
        trial = _pick(path, cubes["a"], index, "trials of letter 'a'")
        plots.neural_raster(trial, f"letter 'a', trial {index}", out)
    else:
        folder = path if path.is_dir() else path.parent
        imgs, labels = emnist.read_letters(folder, "train")
        _pick(emnist.letters_paths(folder, "train")[0], imgs, index, "train images")
        plots.montage(imgs, labels, out)
