"""Deterministic, stratified train/validation splits.

Validation is always carved out of the training data, so that model selection never
sees the test split (the original code selected epochs on test accuracy; we do not).
"""

from __future__ import annotations

import numpy as np


def stratified_val_split(
    labels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of `labels` into (train, val), keeping class proportions.

    Every class with at least two samples contributes ``max(1, round(n * val_fraction))``
    samples to validation. The result depends only on (labels, val_fraction, seed).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
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
    uniq = np.unique(groups)
    if uniq.size < 2:
        raise ValueError("a group split needs at least two groups")
    rng = np.random.default_rng(seed)
    n_val = min(uniq.size - 1, max(1, round(uniq.size * val_fraction)))
    val_groups = rng.permutation(uniq)[:n_val]
    is_val = np.isin(groups, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
