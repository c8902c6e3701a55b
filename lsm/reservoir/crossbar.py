r"""RRAM crossbar model of the reservoir weights.

Each weight is a differential pair of cells (paper §1.4; the group's ΔG statistics):

    w_ij = g_scale * (G+_ij - G-_ij)                         [g_scale in 1/uS]

Programming (stochastic SET). Every cell receives the same SET pulse; the conductance it
lands on is random (cycle-to-cycle and device-to-device variability, the paper's source
of randomness): ``G ~ N(set_mean_us, set_std_us^2)`` clipped to the window
``[g_min_us, g_max_us]``. With both cells of a pair programmed alike, ``G+ - G-`` has
zero mean and std ``sqrt(2) * set_std_us`` (6.6 uS for the default 4.67 uS).

These draws give the *nominal* chip, the one whose features a readout is trained on.
The *deployed* chip adds non-idealities, each optional (drawn from a separate stream, so
every setting perturbs the same nominal chip):

* programming error: ``G += N(0, prog_sigma_us^2)`` (re-programming or write-verify
  tolerance), clipped to the window;

* quantisation of the programmed conductance to `levels` equally spaced levels of the
  window (multi-level programming with write-verify);
* stuck-at faults: a cell is stuck at ``g_max`` (stuck-ON) or ``g_min`` (stuck-OFF)
  with probabilities `p_stuck_on`, `p_stuck_off`;
* conductance drift (power law): ``G(t) = G * (t / t0)^(-nu)``, ``nu ~ N(nu_mean,
  nu_std^2)`` per cell, for ``t > t0`` seconds after programming;
* read noise, drawn afresh on every read (every time step of every inference):
  ``G_read = G * (1 + read_sigma * xi)``, ``xi ~ N(0, 1)`` per cell and read
  (see :func:`lsm.reservoir.kernels.encode_events_read_noise` for how it is computed).

Tiling: the (C + R) x R weight matrix needs (C + R) rows and 2R columns of cells; it is
tiled onto arrays of ``array_rows x array_cols`` (default 512 x 512, a 256 Kb macro).

All weights are finally rounded to the reservoir's dyadic grid (`weight_bits`-bit
integers), so that the exactness of :mod:`lsm.reservoir.network` holds for the device model too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from lsm.config import check_rram
from lsm.reservoir.network import ReservoirWeights, fit_grid


@dataclass(frozen=True)
class RRAMParams:
    g_scale: float = 0.07  # conductance-to-weight gain (1/uS), the software `const`
    g_min_us: float = 20.0  # conductance window (the group's chips: 20-80 uS)
    g_max_us: float = 80.0
    set_mean_us: float = 50.0  # mean conductance after the SET pulse
    set_std_us: float = 4.67  # programming spread: sqrt(2) * 4.67 = 6.6 uS for a pair
    prog_sigma_us: float = 0.0  # deployed chip's deviation from the nominal conductances
    levels: int = 0  # 0: analogue; n >= 2: quantise to n levels of the window
    p_stuck_on: float = 0.0
    p_stuck_off: float = 0.0
    drift_t_s: float = 0.0  # seconds since programming; 0 or <= t0: no drift
    drift_t0_s: float = 1.0
    drift_nu_mean: float = 0.01
    drift_nu_std: float = 0.005
    read_sigma: float = 0.0  # relative read noise per inference
    array_rows: int = 512
    array_cols: int = 512
    weight_bits: int = 16

    def __post_init__(self) -> None:
        # behind the config check: an empty window, one level or stuck-at rates above 1
        # would give silently wrong conductances rather than an error
        check_rram(asdict(self))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Footprint:
    weights: int
    cells: int
    arrays: int
    array_rows: int
    array_cols: int


def footprint(n_in: int, n_res: int, p: RRAMParams) -> Footprint:
    rows, cols = n_in + n_res, 2 * n_res
    arrays = math.ceil(rows / p.array_rows) * math.ceil(cols / p.array_cols)
    return Footprint(rows * n_res, rows * cols, arrays, p.array_rows, p.array_cols)


def program_nominal(shape: tuple[int, ...], p: RRAMParams, rng: np.random.Generator
                    ) -> np.ndarray:
    """Conductances (uS) after the stochastic SET: the nominal chip."""
    return np.clip(rng.normal(p.set_mean_us, p.set_std_us, shape), p.g_min_us, p.g_max_us)


def deploy(g: np.ndarray, p: RRAMParams, rng: np.random.Generator) -> np.ndarray:
    """Programming error, quantisation, stuck-at faults and drift applied to `g` (uS)."""
    shape = g.shape
    if p.prog_sigma_us > 0:
        g = np.clip(g + rng.normal(0.0, p.prog_sigma_us, shape), p.g_min_us, p.g_max_us)
    if p.levels >= 2:
        step = (p.g_max_us - p.g_min_us) / (p.levels - 1)
        g = p.g_min_us + np.round((g - p.g_min_us) / step) * step
    if p.p_stuck_on or p.p_stuck_off:
        u = rng.random(shape)
        g = np.where(u < p.p_stuck_on, p.g_max_us, g)
        g = np.where((u >= p.p_stuck_on) & (u < p.p_stuck_on + p.p_stuck_off), p.g_min_us, g)
    if p.drift_t_s > p.drift_t0_s:
        nu = rng.normal(p.drift_nu_mean, p.drift_nu_std, shape)
        g = g * (p.drift_t_s / p.drift_t0_s) ** (-nu)
    return g


@dataclass(frozen=True)
class Crossbar:
    """A programmed crossbar: the conductance pairs of W_in (rows 0..C-1) and W_rec."""

    g_pos: np.ndarray  # [C + R, R] uS
    g_neg: np.ndarray
    n_in: int
    params: RRAMParams

    def weights(self, g_pos: np.ndarray | None = None, g_neg: np.ndarray | None = None
                ) -> ReservoirWeights:
        gp = self.g_pos if g_pos is None else g_pos
        gn = self.g_neg if g_neg is None else g_neg
        w, grid_bits = fit_grid(self.params.g_scale * (gp - gn), self.params.weight_bits)
        t = torch.from_numpy(w)
        return ReservoirWeights(t[: self.n_in].contiguous(), t[self.n_in :].contiguous(),
                                grid_bits)

    def encode(self, x: np.ndarray, lif, seed: int, batch_size: int = 512) -> np.ndarray:
        """Spike counts [N, R] of inputs ``x`` [N, T, C] on this crossbar, with read noise
        (``params.read_sigma``) on every read; ideal reads when it is 0."""
        from lsm.reservoir.network import encode

        w = self.weights()
        if self.params.read_sigma <= 0:
            return encode(x, w, lif, batch_size=batch_size, backend="events")
        from lsm.reservoir.kernels import encode_events_read_noise

        q = self.params.g_scale**2 * (self.g_pos**2 + self.g_neg**2)
        q_in, q_rec = np.ascontiguousarray(q[: self.n_in]), np.ascontiguousarray(q[self.n_in :])
        w_in, w_rec = w.w_in.numpy(), w.w_rec.numpy()
        out = np.empty((x.shape[0], w.n_res), dtype=np.float32)
        for i in range(0, x.shape[0], batch_size):
            xb = np.ascontiguousarray(x[i : i + batch_size], dtype=np.uint8)
            counts = np.zeros((xb.shape[0], w.n_res), dtype=np.int32)
            encode_events_read_noise(xb, w_in, w_rec, q_in, q_rec, lif.decay, lif.v_th,
                                     self.params.read_sigma, float(2**w.grid_bits),
                                     seed, i, counts)
            out[i : i + batch_size] = counts
        return out


@dataclass(frozen=True)
class RRAMWeightSource:
    """Weight source that programs a simulated crossbar (seeded per reservoir seed)."""

    params: RRAMParams = RRAMParams()

    def program(self, n_in: int, n_res: int, seed: int, ideal: bool = False) -> Crossbar:
        """The deployed chip of reservoir `seed` (the nominal one with ``ideal``, which
        also reads without noise)."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4A4]))
        shape = (n_in + n_res, n_res)
        gp = program_nominal(shape, self.params, rng)
        gn = program_nominal(shape, self.params, rng)
        if ideal:
            return Crossbar(gp, gn, n_in, replace(self.params, read_sigma=0.0))
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDE9]))
        return Crossbar(deploy(gp, self.params, rng), deploy(gn, self.params, rng), n_in,
                        self.params)

    def sample(self, n_in: int, n_res: int, seed: int) -> ReservoirWeights:
        return self.program(n_in, n_res, seed).weights()
