"""Bootstrap intervals: hand cases and coverage of the true pass@k on synthetic data."""

import math

import numpy as np
import pytest

from rlvr.eval.bootstrap import bootstrap_ci
from rlvr.eval.passk import pass_at_k_matrix


def test_constant_values_give_a_point_interval():
    low, high = bootstrap_ci(np.full((10, 2), 0.3))
    assert low == pytest.approx([0.3, 0.3]) and high == pytest.approx([0.3, 0.3])


def test_interval_brackets_the_mean_and_is_seeded():
    values = np.random.default_rng(0).random((50, 1))
    low, high = bootstrap_ci(values, seed=1)
    assert low[0] < values.mean() < high[0]
    again_low, again_high = bootstrap_ci(values, seed=1)
    assert np.array_equal(low, again_low) and np.array_equal(high, again_high)


def test_nan_entries_are_left_out():
    values = np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]])
    low, high = bootstrap_ci(values)
    assert high[1] == 1.0 and low[1] == 1.0
    assert 0.0 <= low[0] <= high[0] <= 1.0


def test_bad_level():
    with pytest.raises(ValueError):
        bootstrap_ci(np.zeros((3, 1)), level=1.0)


def test_coverage_of_true_pass_at_k():
    """Prompts with success rates p ~ Beta(a, b); n samples each. The population pass@k is
    1 - E[(1 - p)^k] = 1 - B(a, b + k) / B(a, b). The 95 % interval should cover it in about 95 %
    of repeated experiments."""
    a, b, n, num_prompts, reps = 0.5, 1.5, 16, 80, 200
    ks = [1, 4, 16]
    log_beta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
    truth = np.array([1 - math.exp(log_beta(a, b + k) - log_beta(a, b)) for k in ks])
    rng = np.random.default_rng(123)
    covered = np.zeros(len(ks))
    for rep in range(reps):
        p_P = rng.beta(a, b, size=num_prompts)
        c_P = rng.binomial(n, p_P)
        values = pass_at_k_matrix([n] * num_prompts, c_P, ks)
        low, high = bootstrap_ci(values, level=0.95, num_resamples=1000, seed=rep)
        covered += (low <= truth) & (truth <= high)
    coverage = covered / reps
    assert np.all(coverage >= 0.88) and np.all(coverage <= 0.99), coverage
