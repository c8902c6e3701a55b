"""A non-spiking recurrent baseline (paper §1.10 "RNN"): one tanh RNN layer of H units
(``torch.nn.RNN``), h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), trained by BPTT.

Readout ``mean`` (default): Linear(H -> K) on the mean of h_t over the steps, so every
step's state gets a gradient directly; ``last``: on h_T only, whose gradient to early
steps must pass through T tanh Jacobians (on 129 steps it vanished: the training loss sat
at ln K for every epoch). Gradients are clipped to a global norm of ``clip_grad_norm``
(default 1.0), the standard guard against exploding tanh-RNN gradients. ``n_bins``
coarsens the frames first and ``time_window`` keeps only the first steps (the paper's
N-TIDIGITS RNN: 50 bins, 30 steps; §2.2, §3.1). ``loss``: ``ce`` (default) or ``mse`` to
one-hot targets (the paper's N-MNIST RNN, §3.1)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lsm.datasets.preprocess import coarsen_bins
from lsm.models.base import Fitted, SupervisedModel, fitted_from_training
from lsm.models.cost import linear_macs, recurrent_macs
from lsm.models.training import TrainConfig, train_classifier


class TanhRNN(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_classes: int, readout: str = "mean") -> None:
        super().__init__()
        if readout not in ("mean", "last"):
            raise ValueError(f"readout must be 'mean' or 'last', got {readout!r}")
        self.rnn = nn.RNN(n_in, n_hidden, nonlinearity="tanh", batch_first=True)
        self.fc = nn.Linear(n_hidden, n_classes)
        self.readout = readout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = self.rnn(x)
        return self.fc(out.mean(1) if self.readout == "mean" else h[-1])


def rnn_inputs(x: np.ndarray, n_bins: int | None, time_window: int | None) -> np.ndarray:
    """The frames the RNN reads: coarsened to `n_bins`, then the first `time_window`."""
    if n_bins:
        x = coarsen_bins(x, n_bins)
    if time_window:
        if time_window > x.shape[1]:
            raise ValueError(f"time_window {time_window} exceeds the {x.shape[1]} bins")
        x = x[:, :time_window]
    return x


class RNNClassifier(SupervisedModel):
    kind = "rnn"
    priority = 3  # minutes of BPTT: scheduled first

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        p = self.params
        nb, tw = p.get("n_bins"), p.get("time_window")
        x_train, x_val = rnn_inputs(x_train, nb, tw), rnn_inputs(x_val, nb, tw)
        torch.manual_seed(seed)
        n_t, n_in = x_train.shape[1], x_train.shape[2]
        model = TanhRNN(n_in, p["n_hidden"], n_classes, p.get("readout", "mean"))
        cfg = TrainConfig(**{"clip_grad_norm": p.get("clip_grad_norm", 1.0), **p["train"],
                             "loss": p.get("loss", "ce")})
        res = train_classifier(model, x_train, y_train, x_val, y_val, cfg, seed)
        fwd = recurrent_macs(n_in, p["n_hidden"], n_t) + linear_macs(p["n_hidden"], n_classes)
        fitted = fitted_from_training(model, res, cfg, fwd, x_train.shape[0])
        inner = fitted.predict
        fitted.predict = lambda x: inner(rnn_inputs(x, nb, tw))
        return fitted
