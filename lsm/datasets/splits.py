"""Deterministic, stratified train/validation splits.

Validation is always carved out of the training data, so that model selection never
sees the test split (the original code selected epochs on test accuracy; we do not).

Also the range checks the frozen preprocessing and split dataclasses run in
``__post_init__`` (:func:`check_int`, :func:`check_real`, :func:`check_bool`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

SEED_MAX = 2**32 - 1  # numpy seeds are non-negative; the config schema's bound


def check_int(owner: str, name: str, value: object, lo: int, hi: int) -> int:
    """`value` as an int in ``lo..hi``; else a ValueError naming ``owner.name``. A bool
    (JSON true) or a float (50.0) is refused, not cast: it would reach range() or a shape."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{owner}.{name} must be an integer in {lo}..{hi}, not "
                         f"{value!r} ({type(value).__name__}).")
    if not lo <= value <= hi:
        raise ValueError(f"{owner}.{name} must be an integer in {lo}..{hi}, not {value}.")
    return int(value)


def check_real(owner: str, name: str, value: object, lo: float, hi: float,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """`value` as a finite float in the interval ``[lo, hi]`` (``(`` / ``)`` where open);
    else a ValueError naming ``owner.name``."""
    span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{owner}.{name} must be a number in {span}, not {value!r} "
                         f"({type(value).__name__}).")
    v = float(value)
    if not (math.isfinite(v) and (lo < v if lo_open else lo <= v)
            and (v < hi if hi_open else v <= hi)):
        raise ValueError(f"{owner}.{name} must be a number in {span}, not {value}.")
    return v


def check_bool(owner: str, name: str, value: object) -> bool:
    """`value` as a bool (true/false), not 0/1 or a string; else a ValueError."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{owner}.{name} must be true or false, not {value!r} "
                         f"({type(value).__name__}).")
    return bool(value)


def _check_seed(seed: object) -> None:
    """numpy seeds are non-negative integers (its own error names no argument)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"the split seed must be a non-negative integer, not {seed!r}.")


def stratified_val_split(
    labels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of `labels` into (train, val), keeping class proportions.

    Every class with at least two samples contributes ``max(1, round(n * val_fraction))``
    samples to validation. The result depends only on (labels, val_fraction, seed).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    _check_seed(seed)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_val = max(1, round(idx.size * val_fraction)) if idx.size > 1 else 0
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def group_val_split(
    groups: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, val) by whole groups (e.g. speakers): no group is in
    both. ``max(1, round(n_groups * val_fraction))`` groups go to validation."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    _check_seed(seed)
    uniq = np.unique(groups)
    if uniq.size < 2:
        raise ValueError("a group split needs at least two groups")
    rng = np.random.default_rng(seed)
    n_val = min(uniq.size - 1, max(1, round(uniq.size * val_fraction)))
    val_groups = rng.permutation(uniq)[:n_val]
    is_val = np.isin(groups, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
