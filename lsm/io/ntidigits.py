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

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from lsm.errors import DataFormatError
from lsm.events import make_events, validate_events

N_CHANNELS = 64
SENSOR_SIZE = (N_CHANNELS, 1, 1)
FILENAME = "n-tidigits.hdf5"
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine", "oh"]


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
        parts = key.split("-")
        if len(parts) != 4:
            raise DataFormatError(path, f"utterance key {key!r} is not "
                                  "'gender-speaker-take-digits'.")
        return cls(key, *parts)

    @property
    def single(self) -> bool:
        return len(self.digits) == 1

    @property
    def label(self) -> int:
        return label_of(self.digits)


def read_split(
    path: str | Path, split: str, single_digits: bool = True
) -> list[tuple[Utterance, np.ndarray]]:
    """All utterances of one split, in file order: ``(utterance, events)``."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "check datasets.ntidigits in the config.")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataFormatError(path, f"not a readable HDF5 file ({exc}).",
                              "re-download or re-generate it.") from exc
    with f:
        for grp in (f"{split}_labels", f"{split}_addresses", f"{split}_timestamps"):
            if grp not in f:
                raise DataFormatError(path, f"missing HDF5 group or dataset '/{grp}'.",
                                      "the file is not an N-TIDIGITS file or is incomplete.")
        out = []
        for raw in f[f"{split}_labels"][()]:
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            utt = Utterance.parse(key, path)
            if single_digits and not utt.single:
                continue
            try:
                addr = np.asarray(f[f"{split}_addresses"][key][()])
                ts = np.asarray(f[f"{split}_timestamps"][key][()], dtype=np.float64)
            except KeyError as exc:
                raise DataFormatError(path, f"utterance '{key}' has no addresses or "
                                      "timestamps dataset.") from exc
            if addr.shape != ts.shape:
                raise DataFormatError(path, f"utterance '{key}': {addr.size} addresses but "
                                      f"{ts.size} timestamps.")
            t_us = np.round(ts * 1e6).astype(np.int64)
            ev = make_events(addr.astype(np.int64), np.zeros_like(t_us), t_us,
                             np.zeros_like(t_us))
            out.append((utt, validate_events(ev, SENSOR_SIZE, source=f"{path}:{key}")))
    return out


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
