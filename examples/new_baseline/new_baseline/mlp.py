"""A two-layer perceptron readout on the frozen LSM's spike counts: does a non-linear head
add anything over the paper's linear readout? Defined outside `lsm/`; a config names it as
``kind: "new_baseline.mlp:MLPReadout"`` and the workflow treats it like a built-in.

What a plug-in provides (lsm.models.base.SupervisedModel):

* ``input``: ``"features"`` (the run names an ``encoder``; the stage passes the one-time
  encoding cost as ``encode_macs_dense`` / ``encode_macs_events``) or ``"frames"`` (the
  run names a ``dataset``);
* ``fit(x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted``: train on train,
  select on validation (never see test), and report the training cost.

Training through :func:`lsm.models.training.train_classifier` gives it the suite's protocol for
free: the same optimiser, early stopping, lr decay and successive-halving tuning as every
built-in model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lsm.models.base import Fitted, SupervisedModel, fitted_from_training
from lsm.models.cost import linear_macs
from lsm.models.training import TrainConfig, train_classifier


class _Standardised(nn.Module):
    """z-scores the spike counts with the training split's statistics, then the MLP."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, net: nn.Module) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


class MLPReadout(SupervisedModel):
    """Linear(F -> n_hidden) + ReLU + Linear(n_hidden -> K) on the encoder's features.

    params: ``n_hidden`` (default 64)."""

    kind = "new_baseline.mlp:MLPReadout"
    input = "features"

    @staticmethod
    def head_macs(n_features: int, n_classes: int, params: dict) -> int:
        """Inference MACs on one sample's features, for the energy table (optional: a
        features model without it is left out of that table)."""
        hidden = int(params.get("n_hidden", 64))
        return linear_macs(n_features, hidden) + linear_macs(hidden, n_classes)

    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
            y_val: np.ndarray, n_classes: int, seed: int) -> Fitted:
        p = self.params
        hidden = int(p.get("n_hidden", 64))
        n_in = x_train.shape[1]
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
        # statistics of the training split only: validation and test never shape the model
        model = _Standardised(x_train.mean(0), x_train.std(0) + 1e-6, net)
        cfg = TrainConfig(**p["train"])
        res = train_classifier(model, x_train, y_train, x_val, y_val, cfg, seed)
        forward = linear_macs(n_in, hidden) + linear_macs(hidden, n_classes)
        fitted = fitted_from_training(model, res, cfg, forward, x_train.shape[0])
        # the frozen encoder's one-time cost, billed like the LSM readout's
        fitted.cost.encode_macs_dense = float(p.get("encode_macs_dense", 0.0))
        fitted.cost.encode_macs_events = float(p.get("encode_macs_events", 0.0))
        return fitted
