"""pass@k against brute-force enumeration of all k-subsets and against its closed forms."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.configs.eval import default_ks
from rlvr.eval.passk import parse_ks, pass_at_k, pass_at_k_matrix


def brute_force(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (the first c correct) holding a correct sample."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_enumeration_on_all_small_cases(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


@given(n=st.integers(1, 2000), data=st.data())
@settings(max_examples=200, deadline=None)
def test_closed_forms(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k(n, 0, k) == 0.0
    assert pass_at_k(n, n, k) == 1.0
    assert pass_at_k(n, c, n) == float(c > 0)
    assert pass_at_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)
    value = pass_at_k(n, c, k)
    assert 0.0 <= value <= 1.0
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)  # big-integer reference
    assert value == pytest.approx(exact, abs=1e-9)


def test_hand_computed():
    # n=4, c=1, k=2: C(3,2)/C(4,2) = 3/6 fail, so pass@2 = 1/2.
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10.
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)


def test_large_n_is_stable():
    value = pass_at_k(100_000, 3, 50_000)  # binomials here have ~30,000 digits
    assert value == pytest.approx(1 - 0.5 ** 3, abs=1e-4)
    assert np.isfinite(value)


def test_monotone_in_k():
    values = [pass_at_k(64, 5, k) for k in range(1, 65)]
    assert all(b >= a for a, b in zip(values, values[1:]))


def test_unbiased_for_one_minus_q_to_the_k():
    # E over c ~ Binomial(n, p) of pass@k(n, c, k) equals 1 - (1 - p)^k exactly.
    n, p, k = 10, 0.23, 4
    expected = sum(math.comb(n, c) * p**c * (1 - p) ** (n - c) * pass_at_k(n, c, k)
                   for c in range(n + 1))
    assert expected == pytest.approx(1 - (1 - p) ** k, abs=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_matrix_marks_k_above_n_as_nan():
    out = pass_at_k_matrix([4, 2], [1, 2], [1, 4])
    assert out[0, 0] == pytest.approx(0.25) and out[0, 1] == 1.0
    assert out[1, 0] == 1.0 and np.isnan(out[1, 1])


def test_ks():
    assert default_ks(16) == [1, 2, 4, 8, 16]
    assert default_ks(12) == [1, 2, 4, 8, 12]
    assert parse_ks("4,1,2,2", 8) == [1, 2, 4]
    with pytest.raises(ValueError, match="1..n=8"):
        parse_ks("1,16", 8)
    with pytest.raises(ValueError, match="comma-separated"):
        parse_ks("1;2", 8)
