"""The math verifier: final-answer extraction, normalisation, exact fast paths, and symbolic
equivalence through math-verify / latex2sympy as the last resort.

Order of checks for ``math_equal(pred, gold)`` (research/reliability.md §2.3):

1. normalised strings equal -> correct;
2. refusals that need no maths: LaTeX macro definitions or file commands (M24), Python
   syntax (M23), a relation that is not an assignment (M11; ``x = 5`` is fine, M12), ``\\pm``
   on one side only (M19), hedges with "or" (M10);
3. exact rationals (``exact.py``): both sides plain numbers -> compared exactly (M13–M15) with the
   declared tolerance; a prediction too large to compute is wrong (M01–M03);
4. word answers compare as case-folded text (M18, M21): ``ans`` is never the product a*n*s;
5. a static cost check refuses factorials / binomials / Gamma of large integers and deep nesting
   (M04, M06);
6. math-verify on the two LaTeX strings (M32). Model text reaches only the LaTeX grammar of
   latex2sympy (ANTLR), never ``sympify``, ``parse_expr`` or ``eval``.

Step 6 has no hard bound in-process: run this verifier through ``rewards.pool`` (a killable
worker with a deadline and a memory cap), which the reward pipeline always does.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from fractions import Fraction

from rlvr.configs.reward import MathPolicyConfig
from rlvr.rewards.exact import NotExact, TooLarge, exact_value
from rlvr.rewards.extract import extract_final_answer
from rlvr.rewards.normalise import normalise_answer
from rlvr.types import RewardResult, TaskRow

_FORBIDDEN = re.compile(r"\\(?:def|edef|gdef|let|newcommand|renewcommand|providecommand|input|include"
                        r"|usepackage|catcode|write|openin|openout|read|csname|expandafter|immediate)"
                        r"(?![a-zA-Z])")
_PYTHON = re.compile(r"__|\*\*|\bimport\b|\blambda\b|['\"`;]|\.\w+\(")
_RELATION = re.compile(r"\\(?:le|ge|leq|geq|ne|neq|lt|gt)(?![a-zA-Z])|[<>≤≥≠]|=")
_VARIABLE = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?$")
_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_LATEX_WORDS = re.compile(r"\\[a-zA-Z]+")
_HEDGE = re.compile(r"(?i)(?<![\\a-zA-Z])(?:or|and)(?![a-zA-Z])")
_COSTLY = re.compile(r"!|\\Gamma|\\binom|\\choose|\\dbinom|factorial")
_BIG_INT = re.compile(r"\d{4,}")
_NESTING_LIMIT = 24


def _nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")}]":
            depth -= 1
    return deepest


def _relation_side(pred: str, gold: str) -> tuple[str | None, str]:
    """Resolve relations: an assignment ``x = 5`` / ``5 = x`` becomes ``5``; any other relation
    against a gold without one is wrong (``7 = 5`` is not 5)."""
    pred_rel, gold_rel = _RELATION.search(pred), _RELATION.search(gold)
    if pred_rel and gold_rel:
        return None, "relation_text"
    if not pred_rel:
        return pred, ""
    parts = pred.split("=")
    if len(parts) == 2 and "<" not in pred and ">" not in pred and "\\" not in pred.split("=")[0]:
        left, right = parts[0].strip(), parts[1].strip()
        if _VARIABLE.match(left) and not _RELATION.search(right):
            return right, ""
        if _VARIABLE.match(right) and not _RELATION.search(left):
            return left, ""
    return None, "relation"


def _refusal(pred: str, gold: str) -> str | None:
    """A reason to call the prediction wrong without any maths, or None."""
    if _FORBIDDEN.search(pred):
        return "forbidden_command"
    if _PYTHON.search(pred):
        return "not_math"
    if ("\\pm" in pred or "\\mp" in pred) != ("\\pm" in gold or "\\mp" in gold):
        return "plus_minus"
    if _HEDGE.search(pred) and not _HEDGE.search(gold):
        return "hedged"
    return None


def _within(pred: Fraction, gold: Fraction, policy: MathPolicyConfig) -> bool:
    if policy.rel_tol == 0 and policy.abs_tol == 0:
        return pred == gold
    diff = abs(pred - gold)
    return diff <= Fraction(policy.abs_tol) or diff <= Fraction(policy.rel_tol) * abs(gold)


def _exact_verdict(pred: str, gold: str, policy: MathPolicyConfig) -> tuple[bool | None, str]:
    """(verdict, reason) from the exact path; verdict None when it cannot decide."""
    try:
        gold_value = exact_value(gold)
    except TooLarge:
        return False, "gold_too_large"  # strings already differ; never compute it
    except NotExact:
        gold_value = None
    try:
        pred_value = exact_value(pred)
    except TooLarge:
        return False, "too_large"
    except NotExact:
        return None, ""
    if gold_value is None:
        return None, ""
    return _within(pred_value, gold_value, policy), "exact"


def _words(text: str) -> bool:
    return bool(_WORD.search(_LATEX_WORDS.sub(" ", text)))


def _symbolic(pred: str, gold: str, timeout_s: int) -> tuple[bool | None, str]:
    """math-verify on the two LaTeX strings; None when the gold cannot be parsed."""
    from math_verify import LatexExtractionConfig, parse, verify
    from math_verify.parser import NormalizationConfig

    norm = NormalizationConfig(basic_latex=True, units=False, malformed_operators=False,
                               nits=True, boxed="all", equations=False)
    config = [LatexExtractionConfig(boxed_match_priority=0, normalization_config=norm)]
    # Signal-based timeouts work only in a main thread; elsewhere the pool deadline bounds us.
    in_main = threading.current_thread() is threading.main_thread()
    timeout = timeout_s if in_main else None
    try:
        gold_parsed = parse(f"${gold}$", extraction_config=config, parsing_timeout=timeout)
        if all(isinstance(item, str) for item in gold_parsed):  # only the string fallback
            return None, "gold_unparseable"
        pred_parsed = parse(f"${pred}$", extraction_config=config, parsing_timeout=timeout)
        if not pred_parsed:
            return False, "unparseable"
        return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout)), "symbolic"
    except RecursionError:
        return False, "too_deep"


def math_equal(pred: str, gold: str, policy: MathPolicyConfig = MathPolicyConfig()) -> tuple[bool | None, str]:
    """Is the extracted answer ``pred`` equal to ``gold``? Returns (verdict, reason); the
    verdict is None when the gold itself is unusable (the row is unscorable)."""
    pred = normalise_answer(pred, policy.units, policy.percent)
    gold = normalise_answer(gold, policy.units, policy.percent)
    if not gold:
        return None, "gold_empty"
    if not pred:
        return False, "empty"
    if pred == gold:
        return True, "exact_string"
    refusal = _refusal(pred, gold)
    if refusal:
        return False, refusal
    resolved, reason = _relation_side(pred, gold)
    if resolved is None:
        same = "".join(pred.split()) == "".join(gold.split())
        return same, reason
    pred = resolved
    verdict, reason = _exact_verdict(pred, gold, policy)
    if verdict is not None:
        return verdict, reason
    if _words(pred) or _words(gold):
        return " ".join(pred.casefold().split()) == " ".join(gold.casefold().split()), "text"
    if _COSTLY.search(pred) and (_BIG_INT.search(pred) or "^" in pred):
        return False, "too_expensive"
    if _nesting(pred) > _NESTING_LIMIT:
        return False, "too_deep"
    if not policy.symbolic:
        return False, "not_exact"
    return _symbolic(pred, gold, policy.symbolic_timeout_s)


@dataclass(frozen=True)
class MathVerifier:
    """``(completion, row) -> RewardResult``: 1 for a final answer equal to ``row.reference``,
    0 otherwise, unscorable when the reference cannot be used. Picklable for the worker pool."""

    policy: MathPolicyConfig = MathPolicyConfig()

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        extracted = extract_final_answer(completion, allow_last_number=self.policy.last_number)
        if extracted.text is None:
            if not normalise_answer(row.reference).strip():
                return RewardResult.unscorable("gold_empty")
            return RewardResult.scored(0.0, extracted.source)
        verdict, reason = math_equal(extracted.text, row.reference, self.policy)
        if verdict is None:
            return RewardResult.unscorable(reason)
        return RewardResult.scored(float(verdict), reason)
