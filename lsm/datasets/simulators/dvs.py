"""A DVS saccade simulator that turns a static digit into an N-MNIST-like recording.

N-MNIST was recorded by an ATIS camera on a pan-tilt unit that made three saccades in
front of a monitor showing each MNIST digit (Orchard et al. 2015). We mirror that:

1. The 28x28 digit is blurred (optics, sigma ~0.5 px) and seen as log intensity
   ``L = log(eps + I)``. With ``ink_dark`` the digit is dark on a bright background, which
   reproduces the polarity found in the genuine recording (ON events trail the strokes).
2. The image moves along N-MNIST's triangle (0,0) -> (3.5,7) -> (7,0) -> (0,0) px, one
   leg per ~105 ms saccade, with a raised-cosine speed profile, so the event rate is
   bell-shaped within each saccade as in the real file.
3. Each of the 34x34 pixels is a DVS pixel: it emits ON (OFF) events whenever L rises
   (falls) by its own contrast threshold C since its last event. Thresholds differ per
   pixel (fixed-pattern mismatch, C ~ N(c_mean, c_std)); a refractory period limits the
   rate; background activity adds Poisson noise events.

The result is written with :func:`lsm.datasets.readers.nmnist.write_bin`, so it is read by the same
reader as real N-MNIST. What it leaves out: ATIS pixel dynamics, monitor refresh, the
pan-tilt unit's mechanical jerk.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from lsm.datasets.events import make_events

GENERATOR_VERSION = "dvs-saccade-1"


@dataclass(frozen=True)
class DVSParams:
    """Sensor and motion parameters (units in the names)."""

    sensor: int = 34  # pixels per side
    saccade_ms: float = 105.0  # duration of one saccade leg
    dt_ms: float = 1.0  # simulation step
    blur_px: float = 0.5  # optical blur (Gaussian sigma)
    log_eps: float = 0.1  # offset of the log-intensity transform
    ink_dark: bool = True  # dark digit on bright background (matches the real polarity)
    c_mean: float = 0.40  # mean contrast threshold (log units); calibrated on the real sample
    c_std: float = 0.05  # pixel-to-pixel threshold mismatch
    refractory_ms: float = 2.0
    noise_hz: float = 0.3  # background events per pixel per second
    max_events_per_step: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


# N-MNIST's saccade path in pixels (tonic's `stabilize` uses the same corners).
_PATH = np.array([[0.0, 0.0], [3.5, 7.0], [7.0, 0.0], [0.0, 0.0]])


def saccade_offsets(params: DVSParams) -> tuple[np.ndarray, np.ndarray]:
    """Return step times (us) and the (dx, dy) offset of the image at each step."""
    n_leg = round(params.saccade_ms / params.dt_ms)
    tau = (np.arange(n_leg) + 0.5) / n_leg
    ease = 10 * tau**3 - 15 * tau**4 + 6 * tau**5  # minimum jerk: slow-fast-slow
    legs = [a + ease[:, None] * (b - a) for a, b in itertools.pairwise(_PATH)]
    offsets = np.concatenate(legs)
    times_us = (np.arange(offsets.shape[0]) + 1) * params.dt_ms * 1000.0
    return times_us, offsets


def simulate_digit(image: np.ndarray, params: DVSParams, rng: np.random.Generator) -> np.ndarray:
    """Simulate one recording of a 28x28 uint8 digit; return EVENT_DTYPE events."""
    s = params.sensor
    img = image.astype(np.float64) / 255.0
    if params.ink_dark:
        img = 1.0 - img
    img = ndimage.gaussian_filter(img, params.blur_px)
    background = 1.0 if params.ink_dark else 0.0
    canvas = np.full((s + 8, s + 8), background)
    canvas[4 : 4 + 28, 4 : 4 + 28] = img  # digit sits at sensor pixel (0..27) + offset
    times_us, offsets = saccade_offsets(params)
    n_t = times_us.size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float64)
    # Sensor pixel (x, y) sees canvas point (x - dx + 4, y - dy + 4): the image moves by +d.
    cy = yy[None] - offsets[:, 1, None, None] + 4
    cx = xx[None] - offsets[:, 0, None, None] + 4
    frames = ndimage.map_coordinates(canvas, [cy.ravel(), cx.ravel()], order=1, mode="nearest")
    log_i = np.log(params.log_eps + frames.reshape(n_t, s * s))

    c_on = np.clip(rng.normal(params.c_mean, params.c_std, s * s), 0.05, None)
    c_off = np.clip(rng.normal(params.c_mean, params.c_std, s * s), 0.05, None)
    ref = log_i[0].copy()  # pixels adapted to the static image shown before the saccades
    last_us = np.full(s * s, -1e12)
    dt_us = params.dt_ms * 1000.0
    xs, ys, ts, ps = [], [], [], []
    for k in range(n_t):
        diff = log_i[k] - ref
        n_on = np.floor(np.maximum(diff, 0) / c_on)
        n_off = np.floor(np.maximum(-diff, 0) / c_off)
        ready = (times_us[k] - last_us) >= params.refractory_ms * 1000.0
        n_on = np.where(ready, np.minimum(n_on, params.max_events_per_step), 0).astype(np.int64)
        n_off = np.where(ready, np.minimum(n_off, params.max_events_per_step), 0).astype(np.int64)
        ref = ref + n_on * c_on - n_off * c_off
        for counts, pol in ((n_on, 1), (n_off, 0)):
            pix = np.repeat(np.arange(s * s), counts)
            if pix.size:
                xs.append(pix % s)
                ys.append(pix // s)
                ts.append(times_us[k] - rng.uniform(0, dt_us, pix.size))
                ps.append(np.full(pix.size, pol))
                last_us[pix] = times_us[k]
    duration_us = n_t * dt_us
    n_noise = rng.poisson(params.noise_hz * s * s * duration_us * 1e-6)
    pix = rng.integers(0, s * s, n_noise)
    xs.append(pix % s)
    ys.append(pix // s)
    ts.append(rng.uniform(0, duration_us, n_noise))
    ps.append(rng.integers(0, 2, n_noise))
    t = np.concatenate(ts).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return make_events(
        np.concatenate(xs)[order], np.concatenate(ys)[order], t[order], np.concatenate(ps)[order]
    )
