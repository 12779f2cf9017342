"""Hand-checked values for the small verifiers: extraction, exact values, match, choice, format,
length, majority vote and self-certainty."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from rlvr.rewards.choice import ChoiceVerifier
from rlvr.rewards.exact import NotExact, TooLarge, exact_value
from rlvr.rewards.extract import extract_final_answer
from rlvr.rewards.format import FormatVerifier
from rlvr.rewards.length import overlong_penalty, target_length_penalty
from rlvr.rewards.match import MatchVerifier
from rlvr.rewards.unsupervised import answer_key, majority_vote_rewards, self_certainty
from rlvr.types import TaskRow


@pytest.mark.parametrize("text, answer, source", [
    ("so \\boxed{12}", "12", "boxed"),
    ("Answer: 7\nmore text", "7", "answer_line"),
    ("<answer> 9 </answer>", "9", "answer_tag"),
    ("we get 3 then 4", "4", "last_number"),
    ("\\boxed{1} ... later \\boxed{2}", "2", "boxed"),
    ("<think>\\boxed{1}</think> Answer: 5", "5", "answer_line"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}", "boxed"),
])
def test_extraction(text, answer, source):
    extracted = extract_final_answer(text)
    assert (extracted.text, extracted.source) == (answer, source)


@pytest.mark.parametrize("text, reason", [
    ("\\boxed{1}, \\boxed{2}", "hedged"), ("\\boxed{1} then \\boxed{2", "unterminated"),
    ("no digits", "no_answer"), ("\\boxed{ }", "empty"),
])
def test_no_answer_reasons(text, reason):
    assert extract_final_answer(text) == extract_final_answer(text)  # deterministic
    assert extract_final_answer(text).text is None and extract_final_answer(text).source == reason


def test_extraction_cost_is_bounded_by_truncation():
    huge = "\\boxed{" * 200_000
    assert extract_final_answer(huge).text is None


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("-2.5", Fraction(-5, 2)), ("\\frac{3}{4}", Fraction(3, 4)), ("\\frac34", Fraction(3, 4)),
    ("2^{-2}", Fraction(1, 4)), ("(1+2)\\cdot 3", 9), ("0.\\overline{6}", Fraction(2, 3)), ("-2^2", -4),
])
def test_exact_values(text, value):
    assert exact_value(text) == value


def test_exact_refusals():
    with pytest.raises(TooLarge):
        exact_value("7^{7^{7}}")
    for text in ("x", "2^{0.5}", "1/0", "(" * 100 + "1" + ")" * 100, "1,2"):
        with pytest.raises(NotExact):
            exact_value(text)


ROW = TaskRow("r", "q", "42")


def test_match_modes():
    assert MatchVerifier("numeric")("it is 42.0", ROW).score == 1.0
    assert MatchVerifier("numeric")("it is 41", ROW).score == 0.0
    assert MatchVerifier("numeric", abs_tol=1)("it is 41", ROW).score == 1.0
    assert MatchVerifier("numeric", rel_tol=0.01)("it is 41.6", ROW).score == 1.0
    assert MatchVerifier("numeric")("x", TaskRow("r", "q", "forty")).outcome == "unscorable"
    row = TaskRow("r", "q", "Paris")
    assert MatchVerifier("exact")("Answer: Paris", row).score == 1.0
    assert MatchVerifier("exact")("Answer: paris", row).score == 0.0
    assert MatchVerifier("nocase")("Answer: PARIS", row).score == 1.0


CHOICES = TaskRow("mc", "q", "B", {"options": ["red", "green", "blue"]})


@pytest.mark.parametrize("text, score", [
    ("Answer: B", 1.0), ("\\boxed{(B)}", 1.0), ("Answer: green", 1.0), ("Answer: B. green", 1.0),
    ("the answer is (B)", 1.0), ("Answer: A", 0.0), ("Answer: A or B", 0.0), ("Answer: B, C", 0.0),
    ("Answer: B. blue", 0.0), ("Answer: D", 0.0), ("no idea", 0.0),
])
def test_choice(text, score):
    assert ChoiceVerifier()(text, CHOICES).score == score


def test_choice_reference_may_be_option_text():
    row = TaskRow("mc", "q", "blue", {"options": ["red", "green", "blue"]})
    assert ChoiceVerifier()("Answer: C", row).score == 1.0
    assert ChoiceVerifier()("Answer: C", TaskRow("mc", "q", "Z", {"options": ["a"]})).outcome == "unscorable"


@pytest.mark.parametrize("text, think, ok", [
    ("<think>a</think><answer>b</answer>", True, True),
    ("  <think>a</think>\n<answer>b</answer>\n", True, True),
    ("<think>a</think>x<answer>b</answer>", True, False),
    ("<think>a</think><answer></answer>", True, False),
    ("<answer>b</answer><think>a</think>", True, False),
    ("<think>a</think><answer>b</answer><answer>c</answer>", True, False),
    ("<answer>b</answer>", False, True),
    ("prefix <answer>b</answer>", False, False),
])
def test_format(text, think, ok):
    assert FormatVerifier(think)(text, ROW).score == float(ok)


def test_overlong_penalty_hand_values():
    # L_max = 100, L_cache = 20: flat to 80, linear to -1 at 100, then -1.
    assert [overlong_penalty(n, 100, 20) for n in (50, 80, 90, 100, 101)] == [0.0, 0.0, -0.5, -1.0, -1.0]


def test_target_length_penalty_hand_values():
    assert target_length_penalty(150, 100, correct=True) == -0.5
    assert target_length_penalty(50, 100, correct=True) == 0.0
    assert target_length_penalty(50, 100, correct=True, one_sided=False) == -0.5
    assert target_length_penalty(400, 100, correct=True) == -1.0
    assert target_length_penalty(400, 100, correct=False) == 0.0


def test_majority_vote_ttrl():
    texts = ["\\boxed{0.5}", "\\boxed{\\frac12}", "\\boxed{3}", "nothing"]
    assert majority_vote_rewards(texts) == [1.0, 1.0, 0.0, 0.0]
    assert majority_vote_rewards(["no", "answers"]) is None
    # ties break on the smallest key, independent of order
    assert majority_vote_rewards(["\\boxed{2}", "\\boxed{1}"]) == [0.0, 1.0]
    assert majority_vote_rewards(["\\boxed{1}", "\\boxed{2}"]) == [1.0, 0.0]
    assert majority_vote_rewards(["\\boxed{1}", "\\boxed{2}", "\\boxed{3}"], min_share=0.5) is None
    assert answer_key("\\boxed{Paris}") == answer_key("Answer: paris")


def test_self_certainty_hand_values():
    uniform = torch.zeros(3, 4)
    assert self_certainty(uniform) == pytest.approx(0.0, abs=1e-6)
    peaked = torch.tensor([[0.0, -1e9, -1e9, -1e9]])  # all mass on one token: KL(U||p) large
    assert self_certainty(peaked) > 1e6
    logits = torch.tensor([[math.log(0.5), math.log(0.25), math.log(0.25)]])
    expected = -math.log(3) - (math.log(0.5) + 2 * math.log(0.25)) / 3
    assert self_certainty(logits) == pytest.approx(expected, rel=1e-6)


def test_engine_records_self_certainty(tiny_model_dir):
    """The HF engine fills Sample.self_certainty from raw logits when asked to."""
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams
    from rlvr.rollout.hf import HFEngine
    from rlvr.types import TaskRow as Row

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    engine = HFEngine(policy, None, None, batch_size=8)
    row = Row("r", "What is 2 + 2?", "4")
    params = SamplingParams(4, top_p=0.5)
    assert engine.generate([row], 2, params)[0].samples[0].self_certainty is None
    engine.record_self_certainty = True
    samples = engine.generate([row], 2, params)[0].samples
    assert all(s.self_certainty is not None and 0.0 <= s.self_certainty < 50 for s in samples)
