"""A silicon-cochlea model that turns a waveform into N-TIDIGITS-like address events.

N-TIDIGITS was recorded by playing TIDIGITS through a loudspeaker to the 64-channel
CochleaAMS1b (Anumula et al. 2018). We model:

1. 64 fourth-order gammatone filters, ERB-spaced from `f_lo` to `f_hi` (scipy), channel 0
   the lowest frequency;
2. half-wave rectification and power-law compression (``^compression``), decimated to
   a `drive_hz` drive by averaging;
3. fixed-pattern channel gain mismatch (log-normal, sigma `gain_sigma`);
4. a leaky integrate-and-fire neuron per channel (time constant `tau_ms`, refractory
   `refractory_ms`, reset to 0), whose threshold is scaled per utterance so that the
   utterance yields about `target_events` events;
5. background activity at `noise_hz` per channel.

Left out: the real chip's AGC, its two ears and four neuron types, and their mismatch
statistics; calibrate `target_events` against real data when it is at hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

FS = 16000


@dataclass(frozen=True)
class CochleaParams:
    n_channels: int = 64
    f_lo: float = 100.0
    f_hi: float = 7500.0
    compression: float = 0.6
    drive_hz: int = 4000
    gain_sigma: float = 0.25
    tau_ms: float = 10.0
    refractory_ms: float = 2.0
    noise_hz: float = 0.5
    target_events_min: int = 1500
    target_events_max: int = 4000

    def to_dict(self) -> dict:
        return asdict(self)


def erb_space(f_lo: float, f_hi: float, n: int) -> np.ndarray:
    """Centre frequencies equally spaced on the ERB-rate scale (Glasberg & Moore 1990)."""
    def erb_rate(f):
        return 21.4 * np.log10(1 + 0.00437 * f)

    e = np.linspace(erb_rate(f_lo), erb_rate(f_hi), n)
    return (10 ** (e / 21.4) - 1) / 0.00437


class Cochlea:
    """Filterbank coefficients are computed once; `gains` is the chip's fixed pattern."""

    def __init__(self, params: CochleaParams, chip_seed: int = 0) -> None:
        self.p = params
        self.fc = erb_space(params.f_lo, params.f_hi, params.n_channels)
        self.filters = [signal.gammatone(f, "iir", fs=FS) for f in self.fc]
        rng = np.random.default_rng(np.random.SeedSequence([chip_seed, 0xC0C]))
        self.gains = rng.lognormal(0.0, params.gain_sigma, params.n_channels)

    def drive(self, x16k: np.ndarray) -> np.ndarray:
        """Compressed, rectified filterbank output [channels, steps] at `drive_hz`."""
        step = FS // self.p.drive_hz
        n = (x16k.size // step) * step
        out = np.empty((self.p.n_channels, n // step))
        for c, (b, a) in enumerate(self.filters):
            y = signal.lfilter(b, a, x16k)[:n]
            y = np.maximum(y, 0.0) ** self.p.compression
            out[c] = y.reshape(-1, step).mean(1)
        return out * self.gains[:, None]

    def _lif(self, d: np.ndarray, theta: float, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
        dt = 1.0 / self.p.drive_hz
        leak = np.exp(-dt * 1000.0 / self.p.tau_ms)
        ref_steps = round(self.p.refractory_ms * 1e-3 * self.p.drive_hz)
        v = np.zeros(d.shape[0])
        hold = np.zeros(d.shape[0], dtype=np.int64)
        ts, chans = [], []
        for k in range(d.shape[1]):
            v = np.where(hold == 0, v * leak + d[:, k], 0.0)
            hold = np.maximum(hold - 1, 0)
            fired = np.flatnonzero(v > theta)
            if fired.size:
                ts.append(np.full(fired.size, (k + rng.random()) * dt))
                chans.append(fired)
                v[fired] = 0.0
                hold[fired] = ref_steps
        if not ts:
            return np.empty(0), np.empty(0, dtype=np.int64)
        return np.concatenate(ts), np.concatenate(chans)

    def events(self, x16k: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return (times in seconds, channel addresses), time-sorted."""
        d = self.drive(x16k)
        target = rng.uniform(self.p.target_events_min, self.p.target_events_max)
        # A perfect integrator would give `target` events at theta = charge / target; the
        # leak loses some, so one pass measures the loss and a second corrects for it.
        theta = d.sum() / target
        t, c = self._lif(d, theta, rng)
        if t.size:
            theta *= t.size / target
            t, c = self._lif(d, theta, rng)
        dur = d.shape[1] / self.p.drive_hz
        n_noise = rng.poisson(self.p.noise_hz * self.p.n_channels * dur)
        t = np.concatenate([t, rng.uniform(0, dur, n_noise)])
        c = np.concatenate([c, rng.integers(0, self.p.n_channels, n_noise)])
        order = np.argsort(t, kind="stable")
        return t[order], c[order]
