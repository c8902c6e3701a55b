r"""A cosine-tuned population of 192 motor-cortex channels driven by pen velocity.

Per channel i (Georgopoulos-style tuning, counts per 10 ms bin)::

    rate_i(t) = g_{b,i} * max(0, base_i + depth_i * <u_i, v(t + lead_i)> / v_ref
                                + onset_i * m(t + lead_i))
    count_i(t) ~ Poisson(rate_i(t) * 10 ms)

with preferred direction u_i, log-normal baseline (median `base_hz`), a
condition-independent movement component m(t) (Kaufman et al. 2016), a neural lead of
5-15 bins, ~10 % near-silent electrodes, and a multiplicative gain g per block (drift
across the 9 blocks). Left out: rotational dynamics, within-block non-stationarity,
unit dropout across days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lsm.datasets.readers.willett import BIN_MS, N_BINS, N_CHANNELS


@dataclass(frozen=True)
class PopulationParams:
    n_channels: int = N_CHANNELS
    base_hz: float = 8.0
    base_sigma: float = 0.6
    depth_hz: float = 25.0
    onset_hz: float = 10.0
    lead_min: int = 5
    lead_max: int = 15
    silent_fraction: float = 0.1
    block_gain_sigma: float = 0.1
    # the participant's handwriting style (a Hershey font); the letter images of the
    # dataset avoid its glyphs (lsm.datasets.simulators.bmi_dataset: image sets disjoint / mixed)
    writer_font: str = "futural"
    writer_jitter: float = 0.15  # trial-to-trial affine variability of the writing

    def to_dict(self) -> dict:
        return asdict(self)


class Population:
    """The fixed tuning of one implanted array pair (drawn once per dataset seed)."""

    def __init__(self, p: PopulationParams, seed: int) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB41]))
        n = p.n_channels
        self.p = p
        ang = rng.uniform(0, 2 * np.pi, n)
        self.u = np.stack([np.cos(ang), np.sin(ang)], 1)
        self.base = p.base_hz * rng.lognormal(0, p.base_sigma, n)
        self.depth = p.depth_hz * rng.lognormal(0, 0.4, n)
        self.onset = p.onset_hz * rng.uniform(0, 1, n)
        self.lead = rng.integers(p.lead_min, p.lead_max + 1, n)
        silent = rng.random(n) < p.silent_fraction
        self.base[silent] *= 0.05
        self.depth[silent] *= 0.05
        self.onset[silent] *= 0.05

    def rates(self, vel: np.ndarray, moving: np.ndarray, gain: np.ndarray) -> np.ndarray:
        """Rates in Hz [bins, channels] from velocity [bins, 2] and a movement mask."""
        n_bins = vel.shape[0]
        v_ref = max(np.linalg.norm(vel, axis=1).max(), 1e-9)
        idx = np.clip(np.arange(n_bins)[:, None] + self.lead[None, :], 0, n_bins - 1)
        proj = np.einsum("tcd,cd->tc", vel[idx], self.u) / v_ref
        r = self.base + self.depth * proj + self.onset * moving[idx]
        return np.maximum(r, 0.0) * gain

    def counts(self, rates_hz: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        lam = rates_hz * BIN_MS / 1000.0
        return np.minimum(rng.poisson(lam), 255).astype(np.uint8)


def trial_kinematics(positions: np.ndarray, start_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Velocity [N_BINS, 2] and movement mask [N_BINS] of a trajectory placed at
    `start_bin` of the 201-bin trial window (positions sampled per bin)."""
    vel = np.zeros((N_BINS, 2))
    moving = np.zeros(N_BINS)
    v = np.diff(positions, axis=0, prepend=positions[:1])
    end = min(N_BINS, start_bin + v.shape[0])
    vel[start_bin:end] = v[: end - start_bin]
    moving[start_bin:end] = 1.0
    return vel, moving
