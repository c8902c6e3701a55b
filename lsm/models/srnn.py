r"""Trainable spiking recurrent networks: SRNN-ANN and SRNN-SNN (paper §1.10).

The same recurrent LIF layer as the LSM (:mod:`lsm.reservoir.network`), with *trainable* W_in and
W_rec (initialised as the reservoir, ``const * N(0, 6.6^2)``) learned by backpropagation
through time with a rectangular surrogate gradient::

    V_t = decay * V_{t-1} * (1 - s_{t-1}) + W_in x_t + W_rec s_{t-1}
    s_t = H(V_t - V_th),   ds/dV := 1 / (2 lens) if |V - V_th| < lens else 0   (lens = 0.25)

Readout: ``ann``: Linear(R -> K) on the spike rate ``sum_t s_t / T`` (SRNN-ANN);
``snn``: a LIF layer (decay ``readout_decay``, same threshold) driven by Linear(R -> K)
of the hidden spikes, whose output spike rate is the output (SRNN-SNN). Loss: cross-entropy
for SRNN-ANN; MSE against one-hot targets for SRNN-SNN (the paper's, for N-MNIST), since
its outputs are rates in [0, 1] and cross-entropy on them cannot fall below ~1.46.
The surrogate's half-width scales with V_th (``LENS_PER_VTH``) and the initial weight
scale is calibrated to a 10 % initial firing rate unless given (:class:`SRNNClassifier`).

Training runs on the hand-written BPTT engine (:mod:`lsm.models.lif_bptt`): the hidden
layer and the SNN readout (a second LIF layer without recurrence) are each one call,
with gradients equal to those of the step-by-step autograd loop, which is kept as
``reference_forward`` (the specification the engine is tested against). The forward
pass computes the same function: with exactly summable currents (weights on a dyadic
grid, as the reservoir's) the spikes are bit-identical to the loop's; otherwise the
currents are summed in another order, so they agree to rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from lsm.datasets.preprocess import coarsen_bins
from lsm.models.base import Fitted, SupervisedModel, fitted_from_training
from lsm.models.cost import linear_macs, recurrent_macs
from lsm.models.lif_bptt import Backend, lif_layer, srnn_snn
from lsm.models.training import TrainConfig, train_classifier


class RectSpike(torch.autograd.Function):
    """Heaviside forward; rectangular surrogate of width 2 lens backward."""

    @staticmethod
    def forward(ctx, v_shift: torch.Tensor, lens: float) -> torch.Tensor:
        ctx.save_for_backward(v_shift)
        ctx.lens = lens
        return (v_shift > 0).to(v_shift.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v_shift,) = ctx.saved_tensors
        surrogate = (v_shift.abs() < ctx.lens).to(grad.dtype) / (2 * ctx.lens)
        return grad * surrogate, None


class SRNNEncoder(nn.Module):
    """The trainable recurrent LIF layer: frames [N, T, C] -> spike rate [N, R].

    `backend` picks the engine's implementation (``"auto"``: compiled CPU kernel on the
    CPU, torch ops elsewhere; see :func:`lsm.models.lif_bptt.lif_layer`)."""

    # as a zero-shot encoder (lsm.models.registry.ZS_BUILTIN "srnn"): reads frames and
    # returns spike rates (the zero-shot stage multiplies by T for counts)
    input = "frames"
    output_is_rate = True

    def __init__(self, n_in: int, n_res: int, decay: float, v_th: float, const: float,
                 lens: float = 0.25, sigma_g: float = 6.6, backend: Backend = "auto") -> None:
        super().__init__()
        self.w_in = nn.Parameter(const * sigma_g * torch.randn(n_in, n_res))
        self.w_rec = nn.Parameter(const * sigma_g * torch.randn(n_res, n_res))
        self.decay, self.v_th, self.lens = decay, v_th, lens
        self.backend = backend

    def step(self, v: torch.Tensor, s: torch.Tensor, x_t: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step of the reference loop: (V_{t-1}, s_{t-1}, x_t) -> (V_t, s_t)."""
        v = self.decay * v * (1 - s) + x_t @ self.w_in + s @ self.w_rec
        return v, RectSpike.apply(v - self.v_th, self.lens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spike rate ``sum_t s_t / T`` [N, R] of frames x [N, T, C] (the engine)."""
        return lif_layer(x, self.w_in, self.w_rec, decay=self.decay, v_th=self.v_th,
                         lens=self.lens, output="rate", backend=self.backend)

    def spike_train(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden spikes s [N, T, R] (0/1 in x's dtype; differentiable)."""
        return lif_layer(x, self.w_in, self.w_rec, decay=self.decay, v_th=self.v_th,
                         lens=self.lens, output="spikes", backend=self.backend)

    def reference_spike_train(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden spikes s [N, T, R] of the reference loop, step by step."""
        v = x.new_zeros(x.shape[0], self.w_rec.shape[0])
        s = torch.zeros_like(v)
        out = []
        for t in range(x.shape[1]):
            v, s = self.step(v, s, x[:, t])
            out.append(s)
        return torch.stack(out, 1)

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The plain autograd loop, step by step: the engine's specification."""
        v = x.new_zeros(x.shape[0], self.w_rec.shape[0])
        s = torch.zeros_like(v)
        rate = torch.zeros_like(v)
        for t in range(x.shape[1]):
            v, s = self.step(v, s, x[:, t])
            rate = rate + s
        return rate / x.shape[1]

    def forward_macs(self, time_steps: int) -> int:
        return recurrent_macs(self.w_in.shape[0], self.w_in.shape[1], time_steps)

    @classmethod
    def from_config(cls, n_in: int, *, n_res: int, decay: float, v_th: float, const: float,
                    lens: float | None = None) -> SRNNEncoder:
        """A zero-shot run's side (config ``srnn: {query|gallery: ...}``): the surrogate
        half-width scales with V_th unless `lens` is given, as for the supervised SRNNs."""
        return cls(n_in, n_res, decay, v_th, const, lens=lens or LENS_PER_VTH * v_th)

    @property
    def n_out(self) -> int:
        return int(self.w_rec.shape[0])

    def event_ops(self, x: np.ndarray | torch.Tensor) -> float:
        """Event-driven accumulates of one sample's forward pass (:func:`encoder_events`)."""
        return encoder_events(self, x)[0]


class SRNN(nn.Module):
    def __init__(self, n_in: int, n_res: int, n_classes: int, decay: float, v_th: float,
                 const: float, readout: str = "ann", readout_decay: float = 0.9,
                 lens: float = 0.25, sigma_g: float = 6.6, backend: Backend = "auto") -> None:
        super().__init__()
        if readout not in ("ann", "snn"):
            raise ValueError(f"readout must be 'ann' or 'snn', got {readout!r}")
        self.encoder = SRNNEncoder(n_in, n_res, decay, v_th, const, lens, sigma_g, backend)
        self.fc = nn.Linear(n_res, n_classes)
        self.v_th, self.lens = v_th, lens
        self.readout, self.readout_decay = readout, readout_decay

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x [N, T, C] -> logits [N, K]
        if self.readout == "ann":
            return self.fc(self.encoder(x))
        enc = self.encoder
        return srnn_snn(x, enc.w_in, enc.w_rec, self.fc.weight.T, self.fc.bias,
                        decay=enc.decay, v_th=self.v_th, lens=self.lens,
                        decay_out=self.readout_decay, backend=enc.backend)

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The plain autograd loop (both readouts): the engine's specification."""
        if self.readout == "ann":
            return self.fc(self.encoder.reference_forward(x))
        n_t = x.shape[1]
        v = x.new_zeros(x.shape[0], self.encoder.w_rec.shape[0])
        s = torch.zeros_like(v)
        vo = x.new_zeros(x.shape[0], self.fc.out_features)
        so = torch.zeros_like(vo)
        out = torch.zeros_like(vo)
        for t in range(n_t):
            v, s = self.encoder.step(v, s, x[:, t])
            vo = self.readout_decay * vo * (1 - so) + self.fc(s)
            so = RectSpike.apply(vo - self.v_th, self.lens)
            out = out + so
        return out / n_t


# The paper's surrogate is 0.25 wide at its SRNN threshold 0.3 (§1.10): the window, as a
# fraction of V_th, is what carries over to other thresholds (a fixed 0.25 at V_th 0.6
# leaves ~0.3 % of neuron-steps with any gradient).
LENS_PER_VTH = 0.25 / 0.3
# The default initial scale puts this fraction of hidden neuron-steps above threshold
# (the paper's consts give 40 % on N-TIDIGITS and starve the surrogate).
TARGET_INIT_RATE = 0.10
INIT_RATE_RANGE = (0.05, 0.20)


def firing_rate(encoder: SRNNEncoder, x: np.ndarray, batch: int = 256) -> float:
    """Mean hidden spikes per neuron and step of `encoder` on frames x [N, T, C], over
    `batch` samples strided through x (splits are sorted by class: the first samples
    would all be one class)."""
    sub = x[:: max(1, len(x) // batch)][:batch]
    with torch.no_grad():
        xt = torch.from_numpy(np.asarray(sub, dtype=np.float32))
        return float(encoder(xt).mean())


def encoder_events(enc: SRNNEncoder, x: np.ndarray | torch.Tensor, batch: int = 512
                   ) -> tuple[float, float]:
    """(accumulates, hidden spikes) of the encoder's forward pass per sample, mean over x
    [N, T, C]: each input event and each hidden spike fans out to the R recurrent neurons
    (the event-driven count of :mod:`lsm.models.cost`)."""
    n_res = enc.w_rec.shape[0]
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    n = max(1, x.shape[0])
    with torch.no_grad():
        spikes = 0.0
        for i in range(0, x.shape[0], batch):
            xb = torch.from_numpy(np.asarray(x[i:i + batch], dtype=np.float32))
            spikes += float(enc(xb).sum()) * x.shape[1]  # rate x T = spikes per neuron
    spikes /= n
    return (float(np.count_nonzero(x)) / n + spikes) * n_res, spikes


def forward_events(model: SRNN, x: np.ndarray, batch: int = 512) -> float:
    """Event-driven accumulates of one SRNN forward pass per sample: the encoder's
    (:func:`encoder_events`), plus K per hidden spike for the SNN readout or the dense
    R x K of the ANN readout (:mod:`lsm.models.cost`)."""
    acs, spikes = encoder_events(model.encoder, x, batch)
    n_res, k = model.encoder.w_rec.shape[0], model.fc.out_features
    return acs + (spikes * k if model.readout == "snn" else n_res * k)


def calibrate_const(n_in: int, n_res: int, decay: float, v_th: float, x: np.ndarray,
                    seed: int, target: float = TARGET_INIT_RATE, sigma_g: float = 6.6,
                    iters: int = 30) -> tuple[float, float]:
    """(const, firing rate): the initial weight scale whose hidden firing rate on the
    training frames `x` is closest to `target`, by bisection on log(const).

    The weights are drawn once under `seed` and only scaled, so the rate is a monotone
    function of const up to the discreteness of spikes. Reads training frames only."""
    torch.manual_seed(seed)
    enc = SRNNEncoder(n_in, n_res, decay, v_th, 1.0, sigma_g=sigma_g)
    w_in0, w_rec0 = enc.w_in.detach().clone(), enc.w_rec.detach().clone()

    def rate(c: float) -> float:
        with torch.no_grad():
            enc.w_in.copy_(w_in0 * c)
            enc.w_rec.copy_(w_rec0 * c)
        return firing_rate(enc, x)

    lo, hi = -12.0, 6.0  # log(const): from silent to saturated for any sane input
    best = (float("inf"), 1.0, 0.0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        r = rate(float(np.exp(mid)))
        best = min(best, (abs(r - target), float(np.exp(mid)), r))
        if r < target:
            lo = mid
        else:
            hi = mid
    return best[1], best[2]


class SRNNClassifier(SupervisedModel):
    """SRNN-ANN / SRNN-SNN on frames [N, T, C].

    params: n_res, decay, v_th, readout (ann|snn), readout_decay; ``const`` (the initial
    weight scale) or ``const: auto`` (default): calibrated on the training frames to a
    10 % initial firing rate (:func:`calibrate_const`); ``lens`` (surrogate half-width;
    default ``LENS_PER_VTH * v_th``); ``loss`` (default ``mse`` for the snn readout, whose
    outputs are rates in [0, 1], as the paper; ``ce`` for ann); ``n_bins`` (coarsen the
    frames to this many bins first, the paper's per-model binning)."""

    kind = "srnn"
    priority = 2  # minutes of BPTT: scheduled first

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        p = self.params
        if p.get("n_bins"):
            x_train, x_val = (coarsen_bins(x, p["n_bins"]) for x in (x_train, x_val))
        n_t, n_in = x_train.shape[1], x_train.shape[2]
        readout = p.get("readout", "ann")
        const = p.get("const", "auto")
        if const == "auto":
            const, _ = calibrate_const(n_in, p["n_res"], p["decay"], p["v_th"], x_train, seed)
        lens = p.get("lens") or LENS_PER_VTH * p["v_th"]
        torch.manual_seed(seed)
        model = SRNN(n_in, p["n_res"], n_classes, p["decay"], p["v_th"], const, readout,
                     p.get("readout_decay", 0.9), lens)
        init_rate = firing_rate(model.encoder, x_train)
        if not INIT_RATE_RANGE[0] <= init_rate <= INIT_RATE_RANGE[1]:
            warnings.warn(f"SRNN initial firing rate {init_rate:.3f} is outside "
                          f"{INIT_RATE_RANGE}: with const {const} the surrogate may see "
                          "little gradient (use const: auto)", stacklevel=2)
        events_init = forward_events(model, x_train)
        loss = p.get("loss") or ("mse" if readout == "snn" else "ce")
        cfg = TrainConfig(**{**p["train"], "loss": loss})
        res = train_classifier(model, x_train, y_train, x_val, y_val, cfg, seed)
        fwd = recurrent_macs(n_in, p["n_res"], n_t)
        fwd += (n_t * linear_macs(p["n_res"], n_classes) if readout == "snn"
                else linear_macs(p["n_res"], n_classes))
        fitted = fitted_from_training(model, res, cfg, fwd, x_train.shape[0])
        # the spikes move during training: the mean of the initial and the trained model
        fitted.cost.forward_events_per_sample = 0.5 * (events_init
                                                       + forward_events(model, x_train))
        if p.get("n_bins"):
            inner = fitted.predict
            fitted.predict = lambda x: inner(coarsen_bins(x, p["n_bins"]))
        fitted.extra = {"init_firing_rate": init_rate, "const": float(const),
                        "lens": float(lens), "loss": loss}
        return fitted
