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
    """Check field names, address ranges and time order; return the events unchanged.

    Raises DataFormatError naming `source` and the first offending event.
    """
    missing = [f for f in ("x", "y", "t", "p") if f not in (events.dtype.names or ())]
    if missing:
        raise DataFormatError(source, f"events lack the field(s) {missing}.")
    w, h, n_p = sensor_size
    for field, hi in (("x", w), ("y", h), ("p", n_p)):
        vals = events[field]
        bad = np.flatnonzero((vals < 0) | (vals >= hi))
        if bad.size:
            i = int(bad[0])
            raise DataFormatError(
                source,
                f"event {i} has {field}={int(vals[i])}, outside 0..{hi - 1} of a "
                f"{w}x{h}x{n_p} sensor ({bad.size} such events).",
                "check that the file belongs to this dataset and is not corrupted.",
            )
    if events.size > 1:
        dec = np.flatnonzero(np.diff(events["t"]) < 0)
        if dec.size:
            i = int(dec[0]) + 1
            raise DataFormatError(
                source,
                f"timestamps decrease at event {i} ({int(events['t'][i - 1])} -> "
                f"{int(events['t'][i])} us; {dec.size} decreases).",
                "event streams must be time-ordered; re-export or re-download the file.",
            )
    return events
