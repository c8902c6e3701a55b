"""Trainable readouts on frozen reservoir features, with validation-only selection.

The supervised readout (`docs/paper-notes.md` §1.6) is one linear layer, features -> classes,
trained with cross-entropy (:mod:`lsm.models.training`). The epoch is chosen by validation
accuracy (ties: the earliest epoch); the test split is evaluated once, on that epoch's
weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lsm.models.training import TrainConfig, TrainResult, predict_logits, train_classifier

__all__ = ["TrainResult", "predict", "train_linear_readout"]


def train_linear_readout(
    f_train: np.ndarray, y_train: np.ndarray, f_val: np.ndarray, y_val: np.ndarray,
    n_classes: int, cfg: TrainConfig, seed: int,
) -> TrainResult:
    """Train Linear(F -> n_classes) with mini-batch Adam; keep the best-validation epoch."""
    torch.manual_seed(seed)
    model = nn.Linear(np.shape(f_train)[1], n_classes)
    return train_classifier(model, f_train, y_train, f_val, y_val, cfg, seed)


def predict(model: nn.Module, features: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.asarray(features, dtype=np.float32))
    return predict_logits(model, x).argmax(1).numpy()
