"""The one dispatch for supervised model kinds: a config's ``kind`` names a built-in model
(:data:`BUILTIN`) or a plug-in class ``"package.module:Class"`` importable from the working
directory or ``PYTHONPATH`` (examples/new_baseline). The workflow, the config checks and
the notebooks ask :func:`model_input` what a run reads (and :func:`model_head_macs` what
the energy model prices), instead of comparing kind names.

This module imports no torch: the workflow calls it at start-up. A built-in's entry
repeats its class's ``input`` and ``priority`` so that start-up need not import the model
code;
tests/test_models.py asserts that the two agree. A plug-in's class is imported (and its
``input`` read) when first asked.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from lsm.models.base import SupervisedModel

class Entry(NamedTuple):
    path: str  # "module:Class"
    input: str  # what it reads: "frames" or "features" (the class's `input`)
    priority: int = 1  # the class's `priority`: longer jobs first on few cores
    # the inference head the energy model prices on a frozen encoder (its `head_macs`):
    # "linear" = F x K MACs; None: not in the energy table
    head: str | None = None


BUILTIN: dict[str, Entry] = {
    "lsm_readout": Entry("lsm.models.linear:LSMReadout", "features", head="linear"),
    "raw_readout": Entry("lsm.models.linear:RawReadout", "frames"),
    "time_sum_readout": Entry("lsm.models.linear:TimeSumReadout", "frames"),
    "random_projection_readout": Entry("lsm.models.linear:RandomProjectionReadout", "frames"),
    "srnn": Entry("lsm.models.srnn:SRNNClassifier", "frames", 2),
    "rnn": Entry("lsm.models.rnn:RNNClassifier", "frames", 3),
}
INPUTS = ("frames", "features")
PLUGIN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"


class PluginError(ValueError):
    """A plug-in kind that cannot be imported or is not a model; the message says why."""


def is_plugin(kind: str) -> bool:
    return bool(re.fullmatch(PLUGIN_PATTERN, kind)) and kind not in BUILTIN


def _import(path: str, plugin: bool = False) -> type:
    module, _, name = path.partition(":")
    if plugin and os.getcwd() not in sys.path:
        # console scripts do not put the working directory on the path; appended, so that
        # a file there cannot shadow an installed module
        sys.path.append(os.getcwd())
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        parts = module.split(".")
        if e.name in {".".join(parts[:i]) for i in range(1, len(parts) + 1)}:
            raise PluginError(f"cannot import module '{module}' ({e}); put it in the "
                              "working directory or on PYTHONPATH") from None
        raise PluginError(f"module '{module}' imports '{e.name}', which is not installed: "
                          f"install it in this environment") from None
    except Exception as e:  # a SyntaxError or any error raised while importing it
        raise PluginError(f"importing module '{module}' failed: {type(e).__name__}: "
                          f"{e}") from None
    try:
        return getattr(mod, name)
    except AttributeError:
        raise PluginError(f"module '{module}' ({mod.__file__}) has no '{name}'") from None


@cache
def resolve_model(kind: str) -> type[SupervisedModel]:
    """The model class `kind` names; raises PluginError (unknown, unimportable or not a
    :class:`~lsm.models.base.SupervisedModel` with a valid ``input``)."""
    from lsm.models.base import SupervisedModel

    if kind in BUILTIN:
        return _import(BUILTIN[kind].path)
    if not is_plugin(kind):
        raise PluginError(f"unknown model kind '{kind}'; use one of {sorted(BUILTIN)} or a "
                          "plug-in class as 'package.module:Class'")
    cls = _import(kind, plugin=True)
    if not (isinstance(cls, type) and issubclass(cls, SupervisedModel)):
        raise PluginError(f"'{kind}' is not a subclass of lsm.models.base.SupervisedModel")
    if getattr(cls, "input", None) not in INPUTS:
        raise PluginError(f"'{kind}'.input is {getattr(cls, 'input', None)!r}; declare "
                          f"input = 'frames' or 'features'")
    return cls


def model_input(kind: str) -> str:
    """What a run of `kind` reads: ``"features"`` (an encoder's spike counts: the run
    names an ``encoder``) or ``"frames"`` (a dataset's binned events: a ``dataset``)."""
    if kind in BUILTIN:
        return BUILTIN[kind].input
    return resolve_model(kind).input


def model_head_macs(kind: str, n_features: int, n_classes: int, params: dict) -> int | None:
    """MACs of the inference head a run of `kind` puts on a frozen encoder's features, for
    the energy table (None: the kind is not priced there): a built-in's ``head`` entry, or
    a plug-in's ``head_macs(n_features, n_classes, params)``."""
    if kind in BUILTIN:
        return n_features * n_classes if BUILTIN[kind].head == "linear" else None
    fn = getattr(resolve_model(kind), "head_macs", None)
    return None if fn is None else int(fn(n_features, n_classes, params))


def model_priority(kind: str) -> int:
    """The job priority a run of `kind` asks for (the BPTT baselines take minutes, the
    readouts seconds: longest first packs two cores best)."""
    if kind in BUILTIN:
        return BUILTIN[kind].priority
    return int(getattr(resolve_model(kind), "priority", 1))


# ------------------------------------------------------------------ zero-shot encoders


class ZSEntry(NamedTuple):
    """A zero-shot model kind: what feeds the heads."""

    # "features": frozen encoders' spike counts, encoded once (the run names `encoders`);
    # "frames": trainable encoders built from each side's `params_key` entry
    input: str
    encoder: str | None = None  # "module:Class" of the trainable encoder
    params_key: str = "encoder_params"  # the run key with {query: {...}, gallery: {...}}


ZS_BUILTIN: dict[str, ZSEntry] = {
    "lsm": ZSEntry("features"),
    "srnn": ZSEntry("frames", "lsm.models.srnn:SRNNEncoder", "srnn"),
}


@cache
def zs_entry(kind: str) -> ZSEntry:
    """The zero-shot kind `kind`: a built-in (:data:`ZS_BUILTIN`) or a plug-in trainable
    encoder ``"package.module:Class"``: a ``torch.nn.Module`` with ``input = "frames"``,
    built as ``Class.from_config(n_in, **side_params)`` (or ``Class(n_in, **side_params)``)
    from the run's ``encoder_params``, whose ``forward`` maps frames [N, T, C] to features
    [N, n_out] and which has ``n_out`` and ``forward_macs(T)``; optional:
    ``event_ops(x)`` (event-driven operations per sample; default: the dense MACs) and
    ``output_is_rate = True`` (features are rates: multiplied by T for spike counts)."""
    if kind in ZS_BUILTIN:
        return ZS_BUILTIN[kind]
    if not is_plugin(kind):
        raise PluginError(f"unknown zero-shot kind '{kind}'; use one of {sorted(ZS_BUILTIN)} "
                          "or a plug-in encoder class as 'package.module:Class'")
    cls = _import(kind, plugin=True)
    from torch import nn

    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise PluginError(f"'{kind}' is not a torch.nn.Module subclass")
    if getattr(cls, "input", None) != "frames":
        raise PluginError(f"'{kind}'.input is {getattr(cls, 'input', None)!r}; a trainable "
                          "zero-shot encoder declares input = 'frames'")
    if not callable(getattr(cls, "forward_macs", None)):
        raise PluginError(f"'{kind}' has no forward_macs(time_steps) method: its training "
                          "cost could not be counted")
    return ZSEntry("frames", kind)


def zs_input(kind: str) -> str:
    """What feeds a zero-shot run of `kind`: ``"features"`` or ``"frames"``."""
    return zs_entry(kind).input


def build_zs_encoder(kind: str, n_in: int, params: dict):
    """One side's trainable encoder of a frames kind (the global torch RNG draws its
    initial weights: the caller seeds it)."""
    entry = zs_entry(kind)
    if entry.encoder is None:
        raise ValueError(f"zero-shot kind '{kind}' has frozen encoders: nothing to build")
    cls = _import(entry.encoder, plugin=entry.encoder not in
                  {e.encoder for e in ZS_BUILTIN.values()})
    return getattr(cls, "from_config", cls)(n_in, **params)
