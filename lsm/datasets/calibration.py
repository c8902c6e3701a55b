"""Simulated-versus-real checks of the offline datasets.

N-MNIST: the simulator is calibrated against the genuine recording shipped in
``lsm/data/nmnist_real_sample.bin``: events per sample (target: within ±30 %), the share
of events in each of the three saccades, and the bell-shaped event rate within a saccade.
BMI: held-out 26-way decodability of the simulated neural trials (real T5 single letters
are decodable at ~94 % with Willett's kNN; a simulator far below or at 100 % is off).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import numpy as np

from lsm.datasets.readers import nmnist

SACCADE_US = 105_000


def real_nmnist_sample() -> Path:
    return Path(str(importlib.resources.files("lsm") / "data" / "nmnist_real_sample.bin"))


def rate_profile(events: np.ndarray, n_bins: int = 42, window_us: int = 3 * SACCADE_US
                 ) -> np.ndarray:
    """Share of the sample's events in each of `n_bins` equal time bins."""
    h, _ = np.histogram(events["t"], bins=n_bins, range=(0, window_us))
    return h / max(h.sum(), 1)


def saccade_fractions(events: np.ndarray) -> np.ndarray:
    h, _ = np.histogram(events["t"], bins=[0, SACCADE_US, 2 * SACCADE_US, 3 * SACCADE_US + 10_000])
    return h / max(h.sum(), 1)


def bell_ratio(events: np.ndarray) -> float:
    """Mean over saccades of (event rate in the middle third) / (rate in the outer thirds):
    > 1 means the rate peaks mid-saccade, as in the real recording."""
    ratios = []
    for k in range(3):
        t = events["t"] - k * SACCADE_US
        t = t[(t >= 0) & (t < SACCADE_US)]
        mid = np.sum((t >= SACCADE_US / 3) & (t < 2 * SACCADE_US / 3))
        outer = (t.size - mid) / 2
        ratios.append(mid / max(outer, 1))
    return float(np.mean(ratios))


def nmnist_calibration(real: np.ndarray, sims: list[np.ndarray]) -> dict[str, Any]:
    counts = np.array([s.size for s in sims])
    sim_frac = np.mean([saccade_fractions(s) for s in sims], axis=0)
    sim_prof = np.mean([rate_profile(s) for s in sims], axis=0)
    real_prof = rate_profile(real)
    ratio = float(counts.mean() / real.size)
    return {
        "real_events": int(real.size),
        "sim_events_mean": float(counts.mean()), "sim_events_std": float(counts.std()),
        "sim_over_real_events": ratio, "events_within_30pct": bool(0.7 <= ratio <= 1.3),
        "real_saccade_fractions": saccade_fractions(real).round(3).tolist(),
        "sim_saccade_fractions": sim_frac.round(3).tolist(),
        "real_bell_ratio": bell_ratio(real),
        "sim_bell_ratio": float(np.mean([bell_ratio(s) for s in sims])),
        "rate_profile_correlation": float(np.corrcoef(real_prof, sim_prof)[0, 1]),
        "n_sim_samples": len(sims),
    }


def sample_simulated_nmnist(root: str | Path, n: int = 100, seed: int = 0) -> list[np.ndarray]:
    items = nmnist.list_split(root, "Train")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(items), size=min(n, len(items)), replace=False)
    return [nmnist.read_bin(items[i][0]) for i in sorted(pick)]


def bmi_decodability(cubes: dict[str, np.ndarray], n_train_trials: int = 18, seed: int = 0
                     ) -> float:
    """Held-out 26-way accuracy (%) of PCA-50 + logistic regression on binned counts
    after the go cue (trials ``n_train_trials..`` of every letter are the test set)."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    letters = sorted(cubes)
    x, y, is_train = [], [], []
    for k, c in enumerate(letters):
        cube = cubes[c].astype(np.float64)[:, 50:200]  # after the go cue
        feats = cube.reshape(cube.shape[0], 15, 10, -1).sum(2).reshape(cube.shape[0], -1)
        x.append(feats)
        y += [k] * cube.shape[0]
        is_train += [i < n_train_trials for i in range(cube.shape[0])]
    x = np.concatenate(x)
    y, is_train = np.array(y), np.array(is_train)
    clf = make_pipeline(StandardScaler(), PCA(50, random_state=seed),
                        LogisticRegression(max_iter=2000))
    clf.fit(x[is_train], y[is_train])
    return float((clf.predict(x[~is_train]) == y[~is_train]).mean() * 100)
