"""``try_again``: the verifier's verdict goes back to the model, which retries.

A correct answer at model turn k (1-based) earns score * discount^(k-1); the ``task``
component keeps the undiscounted correctness, so accuracy and pass@k still count it as right.
The last allowed turn is final either way. Unscorable or infra-error verdicts end the episode
with that outcome (never a silent 0)."""

from __future__ import annotations

from dataclasses import replace

from rlvr.data.templates import build_messages
from rlvr.envs.base import StepResult
from rlvr.envs.builtin import EnvContext
from rlvr.types import RewardResult, TaskRow, is_correct


class TryAgainEnv:
    name = "try_again"

    def __init__(self, ctx: EnvContext) -> None:
        if ctx.verify is None:
            raise ValueError(f"env.name={self.name} needs the task's verifier, but the reward "
                             "has none (reward.terms without a verifier term)")
        self.ctx, self.turn, self.row = ctx, 0, None

    def reset(self, row: TaskRow) -> list[dict]:
        self.row, self.turn = row, 0
        return build_messages(row, self.ctx.system_prompt, self.ctx.instruction)

    def step(self, text: str) -> StepResult:
        self.turn += 1
        result = self.ctx.verify(text, self.row)
        if result.outcome != "scored":
            return StepResult(done=True, reward=result)
        if is_correct(result) or self.turn >= self.ctx.cfg.max_turns:
            return StepResult(done=True, reward=discounted(result, self.ctx.cfg.discount,
                                                           self.turn))
        return self.feedback(text, result)

    def feedback(self, text: str, result: RewardResult) -> StepResult:
        """The environment turn after a wrong, scored attempt with turns left."""
        hint = f" (verdict: {result.verdict})" if self.ctx.cfg.hint and result.verdict else ""
        return StepResult(f"That answer is not correct{hint}. Try again.")


def discounted(result: RewardResult, discount: float, turn: int) -> RewardResult:
    """``result`` with its score times discount^(turn-1); ``task`` stays the raw correctness."""
    factor = discount ** (turn - 1)
    components = {"task": float(result.score), **result.components, "turn_discount": factor}
    return replace(result, score=float(result.score) * factor, components=components)
