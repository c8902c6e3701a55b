"""Supervised models compared in the first table, behind one small interface.

A model is a class with a ``kind`` name, constructed from its config parameters, whose
:meth:`~lsm.models.base.SupervisedModel.fit` trains on the train split, selects on the
validation split and returns a :class:`~lsm.models.base.Fitted` (a predictor and its
training cost). A config names it by its built-in kind (:data:`lsm.models.registry.BUILTIN`)
or as a plug-in ``"package.module:Class"`` (examples/new_baseline): no edit here.

This package imports no torch until a model class is asked for (the workflow reads the
registry at start-up).
"""

from __future__ import annotations

from typing import Any

from lsm.models.registry import BUILTIN, model_input, resolve_model


def __getattr__(name: str) -> Any:
    if name == "MODELS":  # every built-in kind -> its class (imports the model code)
        return {kind: resolve_model(kind) for kind in BUILTIN}
    if name in ("Fitted", "SupervisedModel"):
        from lsm.models import base

        return getattr(base, name)
    raise AttributeError(f"module 'lsm.models' has no attribute {name!r}")


__all__ = ["BUILTIN", "MODELS", "Fitted", "SupervisedModel", "model_input", "resolve_model"]
