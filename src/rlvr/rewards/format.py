"""Format reward: the completion is ``<think>…</think>`` then ``<answer>…</answer>`` and nothing else
(the R1-Zero template; seed catalogue 2C-C1, [184][189]). Linear string scanning, no regex
backtracking, so a long degenerate completion costs one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlvr.types import RewardResult, TaskRow

_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def well_formed(completion: str, think: bool = True) -> bool:
    """Each tag exactly once, in order, with only whitespace outside and a non-empty answer."""
    tags = _TAGS if think else _TAGS[2:]
    if any(completion.count(tag) != 1 for tag in tags):
        return False
    positions = [completion.index(tag) for tag in tags]
    if positions != sorted(positions):
        return False
    if completion[:positions[0]].strip() or completion[positions[-1] + len(tags[-1]):].strip():
        return False
    if think and completion[positions[1] + len(tags[1]):positions[2]].strip():
        return False
    answer = completion[positions[-2] + len(tags[-2]):positions[-1]]
    return bool(answer.strip())


@dataclass(frozen=True)
class FormatVerifier:
    think: bool = True

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        ok = well_formed(completion, self.think)
        return RewardResult.scored(float(ok), "formatted" if ok else "unformatted")
