"""Bootstrap confidence intervals over prompts (rliable-style interval estimates).

The evaluation metric is a mean over prompts of a per-prompt estimate (pass@k, maj@k, accuracy).
Prompts are the unit of sampling: resample P prompts with replacement ``num_resamples`` times,
recompute the mean each time, and report the (alpha/2, 1 - alpha/2) percentiles of those means
(the percentile bootstrap). It captures prompt-to-prompt variation and the per-prompt sampling
noise together, because every resampled prompt carries its own n-sample estimate.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 2000


def bootstrap_ci(values_PK: np.ndarray, level: float = 0.95, num_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap interval of the column means of ``values_PK`` (prompts x metrics).

    NaN entries (a k larger than that prompt's n) are left out of the means. Returns
    ``(low_K, high_K)``; with a single prompt the interval collapses to its value.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap level must lie in (0, 1), got {level}")
    values_PK = np.asarray(values_PK, dtype=np.float64)
    if values_PK.ndim == 1:
        values_PK = values_PK[:, None]
    num_prompts = values_PK.shape[0]
    if num_prompts == 0:
        nan_K = np.full(values_PK.shape[1], np.nan)
        return nan_K, nan_K.copy()
    rng = np.random.default_rng(seed)
    means_RK = np.empty((num_resamples, values_PK.shape[1]))
    chunk = max(1, 4_000_000 // max(1, values_PK.size))  # keep each draw under ~32 MB
    for start in range(0, num_resamples, chunk):
        stop = min(num_resamples, start + chunk)
        idx_RP = rng.integers(0, num_prompts, size=(stop - start, num_prompts))
        means_RK[start:stop] = _nanmean_rows(values_PK[idx_RP])
    alpha = 1.0 - level
    low_K = np.nanquantile(means_RK, alpha / 2, axis=0)
    high_K = np.nanquantile(means_RK, 1 - alpha / 2, axis=0)
    return low_K, high_K


def _nanmean_rows(values_RPK: np.ndarray) -> np.ndarray:
    """Mean over the prompt axis ignoring NaN, without warnings for all-NaN columns."""
    valid_RPK = ~np.isnan(values_RPK)
    counts_RK = valid_RPK.sum(axis=1)
    sums_RK = np.where(valid_RPK, values_RPK, 0.0).sum(axis=1)
    return np.where(counts_RK > 0, sums_RK / np.maximum(counts_RK, 1), np.nan)
