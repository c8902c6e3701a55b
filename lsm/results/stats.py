"""Statistics over independent runs: confidence intervals and tests against chance.

Every row of a results table summarises n independent runs (seeds: reservoirs, head
initialisations, or both). Beside mean ± std the table carries

* a 95 % bootstrap confidence interval of the mean over runs (percentile method,
  :data:`N_BOOT` resamples, a fixed generator: the same values give the same interval);
* a one-sided t-test over runs of H0 "mean accuracy = chance" against "above chance";
* where the records say how many queries each run scored (``n_queries``), a one-sided
  exact binomial test on the pooled queries. Runs on one test set score the *same*
  queries, so pooled queries are not independent draws and the binomial p-value is
  optimistic. The t-test and the bootstrap treat runs as independent, which they are only
  in part (heads share a reservoir; every run scores the same test set, whose own
  sampling error neither method sees): read them as run-to-run spread, not as the
  uncertainty of a new test set. Rows whose epoch was chosen on the test set get none of
  these (lsm.results.contract.aggregate).
"""

from __future__ import annotations

import numpy as np

N_BOOT = 4000
CI_LEVEL = 0.95


def bootstrap_ci(values: np.ndarray, level: float = CI_LEVEL, n_boot: int = N_BOOT,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; (nan, nan) for fewer than 2 values."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def t_test_above(values: np.ndarray, chance: float) -> float:
    """One-sided p-value of a one-sample t-test, H1: mean > chance (nan if n < 2 or the
    values do not vary: the t statistic is undefined)."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2 or not np.isfinite(chance):
        return float("nan")
    if np.all(v == v[0]):  # zero variance: the t statistic is undefined
        return float("nan")
    return float(stats.ttest_1samp(v, chance, alternative="greater").pvalue)


def binom_test_above(percent: np.ndarray, n_queries: np.ndarray, chance: float) -> float:
    """One-sided exact binomial p-value of the pooled hits (sum of percent/100 x n over
    runs) out of the pooled queries, H1: hit rate > chance (percent)."""
    from scipy import stats

    n = np.asarray(n_queries, dtype=np.int64)
    if n.size == 0 or n.sum() == 0 or not np.isfinite(chance):
        return float("nan")
    hits = int(np.rint((np.asarray(percent, dtype=np.float64) / 100.0 * n).sum()))
    p = min(max(chance / 100.0, 0.0), 1.0)
    return float(stats.binomtest(hits, int(n.sum()), p, alternative="greater").pvalue)
