"""Supervised models compared in the first table, behind one small interface.

A model is a class with a ``kind`` name, constructed from its config parameters, whose
:meth:`~lsm.models.base.SupervisedModel.fit` trains on the train split, selects on the
validation split and returns a :class:`~lsm.models.base.Fitted` (a predictor and its
training cost). Adding a model = one class registered here + one config entry.
"""

from __future__ import annotations

from lsm.models.base import Fitted, SupervisedModel
from lsm.models.linear import (
    LSMReadout,
    RandomProjectionReadout,
    RawReadout,
    TimeSumReadout,
)
from lsm.models.rnn import RNNClassifier
from lsm.models.srnn import SRNNClassifier

MODELS: dict[str, type[SupervisedModel]] = {
    cls.kind: cls for cls in (LSMReadout, RawReadout, TimeSumReadout,
                              RandomProjectionReadout, SRNNClassifier, RNNClassifier)
}

__all__ = ["MODELS", "Fitted", "SupervisedModel"]
