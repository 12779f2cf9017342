"""``code_feedback``: a wrong code attempt gets the failing test back, and the model retries.

The task's verifier scores every attempt. A wrong one (with turns left) is re-run by
``rlvr.rewards.code_explain`` under ``env.sandbox`` limits to describe its first failing test:
which call or ``assert`` failed, the exception type and message, or the TIMEOUT / MEMORY
verdict, cut to ``env.tool_output_chars``. A correct attempt at turn k earns
score * discount^(k-1) with ``task`` kept at the raw correctness (as ``try_again``).
Unscorable and infra-error verdicts, and a feedback run the sandbox could not do, end the
episode with that outcome (never a silent 0).
"""

from __future__ import annotations

import threading

from rlvr.configs.code_task import CodeRewardConfig
from rlvr.configs.env import CODE_TASK_KINDS
from rlvr.envs.base import StepResult
from rlvr.envs.feedback import TryAgainEnv
from rlvr.envs.tools import truncate
from rlvr.sandbox import SandboxUnavailable
from rlvr.types import RewardResult, TaskRow

_VERIFIERS: dict[str, object] = {}
_LOCK = threading.Lock()


class CodeFeedbackEnv(TryAgainEnv):
    """``try_again`` whose feedback is the first failing test of the attempt."""

    name = "code_feedback"

    def reset(self, row: TaskRow) -> list[dict]:
        if not isinstance(row.metadata.get("code"), dict):
            raise ValueError(f"env.name=code_feedback needs a code task (task.kind in "
                             f"{', '.join(CODE_TASK_KINDS)}); row {row.row_id!r} has no code tests")
        return super().reset(row)

    def feedback(self, text: str, result: RewardResult) -> StepResult:
        from rlvr.rewards.code_explain import explain  # the sandbox only once feedback is due

        try:
            failure = explain(self.verifier, text, self.row, result.verdict)
        except SandboxUnavailable as err:  # env.sandbox asks for what this machine lacks
            return StepResult(done=True, reward=RewardResult.infra_error(str(err)))
        if failure.infra_error is not None:
            return StepResult(done=True, reward=RewardResult.infra_error(failure.infra_error))
        detail = truncate(failure.text, self.ctx.cfg.tool_output_chars)
        return StepResult(f"Your code failed the tests.\n{detail}\nFix the code and reply with "
                          "the complete corrected function.")

    @property
    def verifier(self):
        """The feedback runs' verifier, one per ``env.sandbox`` in this process, so every
        episode's runs share its ``slots`` bound (built on first use: it probes the sandbox)."""
        key = self.ctx.cfg.sandbox.model_dump_json()
        with _LOCK:
            if key not in _VERIFIERS:
                from rlvr.rewards.code import CodeVerifier

                _VERIFIERS[key] = CodeVerifier(CodeRewardConfig(sandbox=self.ctx.cfg.sandbox))
            return _VERIFIERS[key]
