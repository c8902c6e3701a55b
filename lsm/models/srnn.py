r"""Trainable spiking recurrent networks: SRNN-ANN and SRNN-SNN (paper §1.10).

The same recurrent LIF layer as the LSM (:mod:`lsm.reservoir`), with *trainable* W_in and
W_rec (initialised as the reservoir, ``const * N(0, 6.6^2)``) learned by backpropagation
through time with a rectangular surrogate gradient::

    V_t = decay * V_{t-1} * (1 - s_{t-1}) + W_in x_t + W_rec s_{t-1}
    s_t = H(V_t - V_th),   ds/dV := 1 / (2 lens) if |V - V_th| < lens else 0   (lens = 0.25)

Readout: ``ann``: Linear(R -> K) on the spike rate ``sum_t s_t / T`` (SRNN-ANN);
``snn``: a LIF layer (decay ``readout_decay``, same threshold) driven by Linear(R -> K)
of the hidden spikes, whose output spike rate is the logit (SRNN-SNN). Loss: cross-entropy
(the paper used MSE on one-hot targets for N-MNIST; one loss for all keeps rows
comparable).

Training runs on the hand-written BPTT engine (:mod:`lsm.models.lif_bptt`): the hidden
layer and the SNN readout (a second LIF layer without recurrence) are each one call,
with gradients equal to those of the step-by-step autograd loop, which is kept as
``reference_forward`` (the specification the engine is tested against). The forward
pass computes the same function: with exactly summable currents (weights on a dyadic
grid, as the reservoir's) the spikes are bit-identical to the loop's; otherwise the
currents are summed in another order, so they agree to rounding.
"""

from __future__ import annotations

import torch
from torch import nn

from lsm.cost import linear_macs, recurrent_macs
from lsm.models.base import Fitted, SupervisedModel, fitted_from_training
from lsm.models.lif_bptt import Backend, lif_layer, srnn_snn
from lsm.training import TrainConfig, train_classifier


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


class SRNNClassifier(SupervisedModel):
    kind = "srnn"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        p = self.params
        torch.manual_seed(seed)
        n_t, n_in = x_train.shape[1], x_train.shape[2]
        model = SRNN(n_in, p["n_res"], n_classes, p["decay"], p["v_th"], p["const"],
                     p.get("readout", "ann"), p.get("readout_decay", 0.9), p.get("lens", 0.25))
        cfg = TrainConfig(**p["train"])
        res = train_classifier(model, x_train, y_train, x_val, y_val, cfg, seed)
        fwd = recurrent_macs(n_in, p["n_res"], n_t)
        fwd += (n_t * linear_macs(p["n_res"], n_classes) if p.get("readout") == "snn"
                else linear_macs(p["n_res"], n_classes))
        return fitted_from_training(model, res, cfg, fwd, x_train.shape[0])
