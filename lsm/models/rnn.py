"""A non-spiking recurrent baseline (paper §1.10 "RNN"): one tanh RNN layer of H units
(``torch.nn.RNN``), h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), and Linear(H -> K)
on the last hidden state, trained by BPTT over all T steps."""

from __future__ import annotations

import torch
from torch import nn

from lsm.cost import linear_macs, recurrent_macs
from lsm.models.base import Fitted, SupervisedModel, fitted_from_training
from lsm.training import TrainConfig, train_classifier


class TanhRNN(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_classes: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(n_in, n_hidden, nonlinearity="tanh", batch_first=True)
        self.fc = nn.Linear(n_hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.rnn(x)
        return self.fc(h[-1])


class RNNClassifier(SupervisedModel):
    kind = "rnn"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        p = self.params
        torch.manual_seed(seed)
        n_t, n_in = x_train.shape[1], x_train.shape[2]
        model = TanhRNN(n_in, p["n_hidden"], n_classes)
        cfg = TrainConfig(**p["train"])
        res = train_classifier(model, x_train, y_train, x_val, y_val, cfg, seed)
        fwd = recurrent_macs(n_in, p["n_hidden"], n_t) + linear_macs(p["n_hidden"], n_classes)
        return fitted_from_training(model, res, cfg, fwd, x_train.shape[0])
