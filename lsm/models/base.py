"""The model interface of the supervised benchmark."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lsm.models.cost import TrainingCost

if TYPE_CHECKING:  # annotations only: importing this module stays torch-free
    from torch import nn

    from lsm.models.training import TrainConfig, TrainResult


@dataclass
class Fitted:
    """A trained model: its predictor, selection record and training cost."""

    predict: Callable[[np.ndarray], np.ndarray]
    best_val_acc: float
    best_epoch: int
    val_curve: list[float]
    train_loss: list[float]
    cost: TrainingCost
    # model-specific facts worth a record (e.g. the SRNN's measured initial firing rate)
    extra: dict[str, Any] = field(default_factory=dict)


class SupervisedModel(ABC):
    """``kind`` names the model in configs; ``input`` says what it is fed: ``"frames"``
    (binary event frames [N, T, C]) or ``"features"`` (frozen reservoir spike counts)."""

    kind: ClassVar[str]
    input: ClassVar[str] = "frames"
    # the workflow runs higher priorities first: give a model that trains for minutes > 1
    priority: ClassVar[int] = 1

    def __init__(self, **params: Any) -> None:
        self.params = params

    @abstractmethod
    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
            y_val: np.ndarray, n_classes: int, seed: int) -> Fitted:
        """Train on train, select the epoch on val; never see test."""


def fitted_from_training(model: nn.Module, res: TrainResult, cfg: TrainConfig,
                         forward_macs: float, n_train: int) -> Fitted:
    """A :class:`Fitted` for a torch model trained by :func:`lsm.models.training.train_classifier`:
    `forward_macs` is one training sample's forward pass (trainable part), `n_train` the
    training samples per epoch; the cost bills the epochs actually trained."""
    from lsm.models.readout import predict

    # the epochs actually trained (early stopping may end before the cap)
    cost = TrainingCost(res.n_params, forward_macs, res.epochs_run or cfg.epochs, n_train,
                        res.optimizer_steps, res.train_seconds)
    return Fitted(lambda x: predict(model, x), res.best_val_acc, res.best_epoch,
                  res.val_curve, res.train_loss, cost)
