"""maj@k on hand-built examples, exact enumeration vs the sampled estimate."""

import math

import pytest

from rlvr.eval.majk import maj_at_k


def test_two_of_three_agree():
    answers, correct = ["4", "4", "5"], [1, 1, 0]
    assert maj_at_k(answers, correct, 1) == pytest.approx(2 / 3)
    # k=2: {4,4} -> 1; {4,5} and {4,5} are ties split evenly -> 1/2 each: (1 + .5 + .5) / 3.
    assert maj_at_k(answers, correct, 2) == pytest.approx(2 / 3)
    assert maj_at_k(answers, correct, 3) == 1.0


def test_samples_without_answer_do_not_vote():
    answers, correct = ["7", None, None], [1, 0, 0]
    assert maj_at_k(answers, correct, 1) == pytest.approx(1 / 3)
    # k=2: {7,-} -> 1 twice, {-,-} -> no vote -> 0.
    assert maj_at_k(answers, correct, 2) == pytest.approx(2 / 3)
    assert maj_at_k(answers, correct, 3) == 1.0


def test_wrong_majority_beats_a_correct_minority():
    answers, correct = ["3", "3", "3", "9"], [0, 0, 0, 1]
    assert maj_at_k(answers, correct, 4) == 0.0
    assert maj_at_k(answers, correct, 1) == pytest.approx(0.25)
    # k=2: pairs with 9 are ties (3 of 6 pairs) -> 3 * 0.5 / 6.
    assert maj_at_k(answers, correct, 2) == pytest.approx(0.25)
    # k=3: subsets with 9 have two 3s -> wrong; all 3s -> wrong.
    assert maj_at_k(answers, correct, 3) == 0.0


def test_two_correct_spellings_share_the_win():
    # "0.5" and "1/2" both verified correct: a tie between them still scores 1.
    answers, correct = ["0.5", "1/2", "2"], [1, 1, 0]
    # k=2: {0.5, 1/2} tie of two correct -> 1; {0.5, 2} and {1/2, 2} -> 1/2 each: 2/3.
    assert maj_at_k(answers, correct, 2) == pytest.approx(2 / 3)
    # k=3: a three-way tie with two correct keys -> 2/3.
    assert maj_at_k(answers, correct, 3) == pytest.approx(2 / 3)


def test_no_answers_at_all_scores_zero():
    assert maj_at_k([None, None], [0, 0], 2) == 0.0


def test_sampled_estimate_is_close_to_exact():
    answers = ["a"] * 6 + ["b"] * 5 + ["c"] * 3 + [None] * 2
    correct = [1] * 6 + [0] * 10
    assert math.comb(16, 8) == 12870
    exact = maj_at_k(answers, correct, 8, max_subsets=20_000)
    sampled = maj_at_k(answers, correct, 8, max_subsets=4000, seed=3)
    assert 0.0 < exact < 1.0
    assert sampled == pytest.approx(exact, abs=0.03)
    assert sampled == maj_at_k(answers, correct, 8, max_subsets=4000, seed=3)  # seeded


def test_validation():
    with pytest.raises(ValueError):
        maj_at_k(["a"], [1, 0], 1)
    with pytest.raises(ValueError):
        maj_at_k(["a"], [1], 2)
