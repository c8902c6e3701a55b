r"""The liquid state machine: a fixed, random, recurrent layer of LIF neurons.

Dynamics (`docs/paper-notes.md` §1.3; STBP-style discrete LIF, dimensionless units, one step per
input frame)::

    I_t = W_in^T x_t + W_rec^T s_{t-1}                 input current
    V_t = decay * V_{t-1} * (1 - s_{t-1}) + I_t        leak, hard reset to 0 after a spike
    s_t = H(V_t - V_th)                                Heaviside, strict: spike iff V_t > V_th

with ``V_0 = s_0 = 0``. Shapes: x_t in {0,1}^C (or counts), W_in [C, R], W_rec [R, R]
(dense, all-to-all including self-connections, no bias). The encoder returns per-neuron
spike counts ``sum_t s_t`` (or rates, counts / T).

Exactness. Weights are stored as `weight_bits`-bit signed integers times a power of two
(a dyadic grid, ``w = k * 2**-grid_bits`` with the finest grid on which the largest |w|
still fits; 16 bits: a relative resolution of 2**-15 of the largest weight, far below any
device resolution) and the dynamics run in float64. Every input current is then a sum of
grid multiples far below 2**53, so it is computed *exactly*, whatever the summation
order, thread count or implementation (dense matmul, integer event-driven kernel, GPU):
different implementations give bit-identical spike counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class LIFParams:
    """LIF constants: `decay` (per step, dimensionless) and threshold `v_th`."""

    decay: float = 0.9
    v_th: float = 5.0


@dataclass(frozen=True)
class ReservoirWeights:
    """Fixed reservoir weights: ``w_in`` [C, R] and ``w_rec`` [R, R], float64, on the
    grid of multiples of ``2**-grid_bits``."""

    w_in: torch.Tensor
    w_rec: torch.Tensor
    grid_bits: int = 16

    @property
    def n_in(self) -> int:
        return int(self.w_in.shape[0])

    @property
    def n_res(self) -> int:
        return int(self.w_rec.shape[0])

    def to(self, device: str | torch.device) -> ReservoirWeights:
        return ReservoirWeights(self.w_in.to(device), self.w_rec.to(device), self.grid_bits)


def quantize_to_grid(w: np.ndarray, grid_bits: int) -> np.ndarray:
    """Round to multiples of 2**-grid_bits (see the module docstring on exactness)."""
    scale = float(2**grid_bits)
    return np.round(w * scale) / scale


def fit_grid(w: np.ndarray, weight_bits: int = 16) -> tuple[np.ndarray, int]:
    """Round `w` to the finest dyadic grid on which max |w| fits a signed `weight_bits`
    integer; returns the rounded weights and grid_bits."""
    top = float(np.abs(w).max()) if w.size else 0.0
    limit = 2 ** (weight_bits - 1) - 1
    grid_bits = 40 if top == 0 else min(40, int(np.floor(np.log2(limit / top))))
    while grid_bits > -30 and np.abs(np.round(w * 2.0**grid_bits)).max(initial=0) > limit:
        grid_bits -= 1  # rounding up at the top can overflow by one step
    return quantize_to_grid(w, grid_bits), grid_bits


@dataclass(frozen=True)
class GaussianWeightSource:
    """Software model of the RRAM reservoir (`docs/paper-notes.md` §1.4).

    Each weight is ``const * dG`` with the differential conductance
    ``dG ~ N(mean_g, sigma_g^2)`` in microsiemens (sigma_g ~ 6.6 uS, the sister code's
    measured statistics); `const` (1/uS) converts conductance to synaptic weight.
    """

    const: float = 0.07
    sigma_g: float = 6.6
    mean_g: float = 0.0
    weight_bits: int = 16

    def to_dict(self) -> dict:
        return asdict(self)

    def sample(self, n_in: int, n_res: int, seed: int) -> ReservoirWeights:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x15A]))
        w = self.const * rng.normal(self.mean_g, self.sigma_g, size=(n_in + n_res, n_res))
        w, grid_bits = fit_grid(w, self.weight_bits)
        t = torch.from_numpy(w)
        return ReservoirWeights(t[:n_in].contiguous(), t[n_in:].contiguous(), grid_bits)


def lif_step(
    v: torch.Tensor, s: torch.Tensor, current: torch.Tensor, p: LIFParams
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LIF step: returns the new ``(V_t, s_t)`` from ``(V_{t-1}, s_{t-1})`` and ``I_t``.

    The expression order ``(decay * V) * (1 - s) + I`` is part of the contract: every
    implementation of the reservoir must use it to stay bit-identical.
    """
    v = p.decay * v * (1.0 - s) + current
    s = (v > p.v_th).to(v.dtype)
    return v, s


def run_reservoir(
    x: torch.Tensor, weights: ReservoirWeights, p: LIFParams, record: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run the reservoir on a batch ``x`` [N, T, C]; return counts [N, R] (and spikes).

    Memory stays O(N R): the input projection is done step by step. With ``record`` the
    full spike train [N, T, R] is returned as the second element.
    """
    n, n_t, _ = x.shape
    dtype = weights.w_in.dtype
    v = torch.zeros(n, weights.n_res, dtype=dtype, device=x.device)
    s = torch.zeros_like(v)
    counts = torch.zeros_like(v)
    spikes = (torch.empty(n, n_t, weights.n_res, dtype=torch.uint8, device=x.device)
              if record else None)
    for t in range(n_t):
        current = x[:, t].to(dtype) @ weights.w_in + s @ weights.w_rec  # exact on the grid
        v, s = lif_step(v, s, current, p)
        counts += s
        if spikes is not None:
            spikes[:, t] = s.to(torch.uint8)
    return counts, spikes


def encode(
    x: np.ndarray,
    weights: ReservoirWeights,
    p: LIFParams,
    batch_size: int = 512,
    device: str = "cpu",
    output: str = "counts",
    backend: str = "auto",
) -> np.ndarray:
    """Encode ``x`` [N, T, C] (binary or small counts) into features [N, R] float32.

    `backend`: ``"events"`` (the event-driven numba kernel, CPU), ``"dense"`` (torch
    matmuls, any device), or ``"auto"`` (events on CPU, dense elsewhere). Both give
    identical spike counts (the events backend sums integers on the weights' grid and
    checks that the weights lie on it). Streams `batch_size` samples at a time, so memory stays
    bounded for any N. `output` is ``"counts"`` or ``"rates"`` (counts / T).
    """
    if output not in ("counts", "rates"):
        raise ValueError(f"output must be 'counts' or 'rates', got {output!r}")
    if x.ndim != 3 or x.shape[2] != weights.n_in:
        raise ValueError(f"x must be [N, T, {weights.n_in}], got {list(x.shape)}")
    if backend == "auto":
        backend = "events" if device == "cpu" else "dense"
    out = np.empty((x.shape[0], weights.n_res), dtype=np.float32)
    if backend == "events":
        from lsm.reservoir.kernels import encode_events, integer_weights

        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError("the event backend takes inputs in 0..255 (binary or counts)")
        w_in, w_rec = integer_weights(weights.w_in.numpy()[None], weights.w_rec.numpy()[None],
                                      weights.grid_bits, int(x.max()) if x.size else 1)
        scale = 2.0**-weights.grid_bits
        for i in range(0, x.shape[0], batch_size):
            xb = np.ascontiguousarray(x[i : i + batch_size], dtype=np.uint8)
            counts = np.zeros((xb.shape[0], weights.n_res), dtype=np.int32)
            acc = np.empty_like(counts, dtype=np.int64 if w_in.dtype == np.int64 else np.int32)
            encode_events(xb, w_in, w_rec, scale, p.decay, p.v_th, acc, counts)
            out[i : i + batch_size] = counts
    elif backend == "dense":
        w = weights.to(device)
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
                counts, _ = run_reservoir(xb, w, p)
                out[i : i + batch_size] = counts.cpu().numpy()
    else:
        raise ValueError(f"backend must be 'auto', 'events' or 'dense', got {backend!r}")
    if output == "rates":
        out /= x.shape[1]
    return out
