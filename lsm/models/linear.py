"""Linear readouts: on frozen LSM spike counts, and the raw-input floor (no reservoir).

The floor is also the worked example of the extension point (see the README): a class
with a ``kind``, an ``input`` and a ``fit`` returning a :class:`~lsm.models.base.Fitted`.
"""

from __future__ import annotations

import numpy as np

from lsm.cost import TrainingCost, linear_macs
from lsm.models.base import Fitted, SupervisedModel
from lsm.readout import predict, train_linear_readout
from lsm.training import TrainConfig


def _fit_linear(x_train, y_train, x_val, y_val, n_classes, seed, train: dict,
                encode_dense: float = 0.0, encode_events: float = 0.0) -> Fitted:
    cfg = TrainConfig(**train)
    res = train_linear_readout(x_train, y_train, x_val, y_val, n_classes, cfg, seed)
    cost = TrainingCost(res.n_params, linear_macs(x_train.shape[1], n_classes), cfg.epochs,
                        x_train.shape[0], res.optimizer_steps, res.train_seconds,
                        encode_dense, encode_events)
    return Fitted(lambda x: predict(res.model, x), res.best_val_acc, res.best_epoch,
                  res.val_curve, res.train_loss, cost)


class LSMReadout(SupervisedModel):
    """Linear readout on frozen reservoir spike counts (paper §1.6). The encoding cost is
    passed in by the stage (it knows the encoder and the measured workload)."""

    kind = "lsm_readout"
    input = "features"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        return _fit_linear(x_train, y_train, x_val, y_val, n_classes, seed,
                           self.params["train"], self.params.get("encode_macs_dense", 0.0),
                           self.params.get("encode_macs_events", 0.0))


class RawReadout(SupervisedModel):
    """The floor: a linear readout on the raw binned input, flattened to T * C features.
    It shows what the reservoir adds."""

    kind = "raw_readout"
    input = "frames"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        def flat(x: np.ndarray) -> np.ndarray:
            return x.reshape(x.shape[0], -1).astype(np.float32)

        fitted = _fit_linear(flat(x_train), y_train, flat(x_val), y_val, n_classes, seed,
                             self.params["train"])
        inner = fitted.predict
        fitted.predict = lambda x: inner(flat(x))
        return fitted
