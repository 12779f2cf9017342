"""Multiple-choice verifier: the answer may be the option letter or the option text.

``row.metadata["options"]`` lists the option texts in letter order (A, B, …); ``row.reference`` is
the correct letter or the correct option text. The final answer is the last ``\\boxed{}``,
``Answer:`` line or ``<answer>`` tag, else the last "answer is (X)". Naming two options
("A or C", "A, C") is a hedge and scores 0 (Nemotron-CrossThink-style MCQ verification).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlvr.rewards.extract import answer_region, extract_final_answer
from rlvr.rewards.normalise import latex_clean, unicode_clean
from rlvr.types import RewardResult, TaskRow

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTER = re.compile(r"^\(?([A-Z])\)?(?:[.):]\s*(.*))?$", re.DOTALL)
_ANSWER_IS = re.compile(r"(?i)answer\s+is\s*:?\s*\(?([A-Z])\)?(?![A-Za-z])")
_TWO_LETTERS = re.compile(r"^\(?[A-Z]\)?\s*(?:,|/|&|\bor\b|\band\b)\s*\(?[A-Z]\)?\b")


def _clean(text: str) -> str:
    return " ".join(latex_clean(unicode_clean(text)).casefold().strip(" .$").split())


def option_index(text: str, options: list[str]) -> int | None:
    """The option a final answer names: a letter (optionally followed by its text) or the text."""
    text = latex_clean(unicode_clean(text)).strip(" .$*")
    if _TWO_LETTERS.match(text):
        return None
    match = _LETTER.match(text)
    if match and LETTERS.index(match.group(1)) < len(options):
        index = LETTERS.index(match.group(1))
        rest = match.group(2)
        if rest and _clean(rest) != _clean(options[index]):
            return None  # "B. <text of option C>" names two options
        return index
    texts = [_clean(o) for o in options]
    return texts.index(_clean(text)) if _clean(text) in texts else None


@dataclass(frozen=True)
class ChoiceVerifier:
    """1 when the final answer names the correct option, else 0."""

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        options = [str(o) for o in row.metadata.get("options", [])]
        if not options:
            return RewardResult.unscorable("row has no options")
        gold = option_index(row.reference, options)
        if gold is None:
            return RewardResult.unscorable(f"reference names no option: {row.reference[:40]!r}")
        extracted = extract_final_answer(completion, allow_last_number=False)
        text = extracted.text
        if text is None:
            found = _ANSWER_IS.findall(answer_region(completion))
            text = found[-1] if found else None
        if text is None:
            return RewardResult.scored(0.0, extracted.source)
        pred = option_index(text, options)
        if pred is None:
            return RewardResult.scored(0.0, "no_option")
        return RewardResult.scored(float(pred == gold), "correct" if pred == gold else "wrong")
