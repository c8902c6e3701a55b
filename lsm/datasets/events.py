"""The one event representation of the package: tonic's structured array.

Every reader returns, and every simulator produces, a 1-D numpy structured array with
fields ``x, y, t, p`` (tonic's ordering): ``x``/``y`` pixel or channel address, ``t`` time in
**microseconds** (int64), ``p`` polarity (1 = ON, 0 = OFF). Audio streams use ``x`` for
the cochlea channel, ``y = 0`` and ``p = 0`` (a 64x1x1 sensor, one polarity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lsm.errors import DataFormatError

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])

_CORRUPT_FIX = "check that the file belongs to this dataset and is not corrupted."


def make_events(x, y, t, p) -> np.ndarray:
    """Pack four equal-length sequences into an EVENT_DTYPE array."""
    n = len(t)
    ev = np.empty(n, dtype=EVENT_DTYPE)
    ev["x"], ev["y"], ev["t"], ev["p"] = x, y, t, p
    return ev


def validate_events(
    events: np.ndarray,
    sensor_size: tuple[int, int, int],
    source: str | Path = "<events>",
) -> np.ndarray:
    """Check field names, address ranges, t >= 0 and time order; return the events unchanged.

    Raises DataFormatError naming `source` and the first offending event. A negative or
    unordered timestamp would otherwise land silently in a wrong time bin.
    """
    if events.ndim != 1:
        raise DataFormatError(source, f"events must be a 1-D array, not shape {events.shape}.")
    missing = [f for f in ("x", "y", "t", "p") if f not in (events.dtype.names or ())]
    if missing:
        raise DataFormatError(source, f"events lack the field(s) {missing}.")
    w, h, n_p = sensor_size
    for field, hi in (("x", w), ("y", h), ("p", n_p), ("t", None)):
        vals = events[field]
        if vals.dtype.kind not in "iuf":
            raise DataFormatError(source, f"event field '{field}' has dtype {vals.dtype}, "
                                  "not a number.", _CORRUPT_FIX)
        if vals.dtype.kind == "f":
            nonfinite = np.flatnonzero(~np.isfinite(vals))
            if nonfinite.size:
                i = int(nonfinite[0])
                raise DataFormatError(source, f"event {i} has {field}={vals[i]}, not a finite "
                                      f"number ({nonfinite.size} such events).", _CORRUPT_FIX)
        bad = np.flatnonzero(vals < 0) if hi is None else np.flatnonzero((vals < 0) | (vals >= hi))
        if bad.size:
            i = int(bad[0])
            where = ("a negative timestamp (us)" if hi is None else
                     f"outside 0..{hi - 1} of a {w}x{h}x{n_p} sensor")
            raise DataFormatError(
                source, f"event {i} has {field}={vals[i]}, {where} ({bad.size} such events).",
                _CORRUPT_FIX)
    if events.size > 1:
        t = events["t"]
        # neighbour comparison, not np.diff: a difference of int64 values can overflow and
        # hide a decrease
        dec = np.flatnonzero(t[1:] < t[:-1])
        if dec.size:
            i = int(dec[0]) + 1
            raise DataFormatError(
                source,
                f"timestamps decrease at event {i} ({t[i - 1]} -> {t[i]} us; "
                f"{dec.size} decreases).",
                "event streams must be time-ordered; re-export or re-download the file.",
            )
    return events
