"""Code verifier: extract the program from a completion, run the row's tests in the sandbox.

A code row carries its tests in ``row.metadata["code"]``, one of:

* ``{"kind": "program", "entry_point", "tests", "prelude"}`` - a trusted ``check(candidate)``
  program (HumanEval); ``prelude`` is the task prompt (its imports and helper functions);
* ``{"kind": "call", "entry_point", "cases": [{"args": [...], "expected": ...}, ...]}``;
* ``{"kind": "stdio", "cases": [{"stdin": "...", "stdout": "..."}, ...]}``.

Outcomes: PASS / FAIL_* / TIMEOUT / MEMORY / OUTPUT_LIMIT / CRASH_SIGNAL are scored (the score is
the share of tests passed, or 1 only when all pass); DATASET_ERROR is unscorable (masked);
INFRA_ERROR is an infrastructure error (masked and counted). A completion without code scores 0
with verdict FAIL_WRONG and ``no_code=1``.
"""

from __future__ import annotations

import re

from rlvr.configs.code_task import CodeRewardConfig
from rlvr.sandbox import CallCase, RunOutcome, Sandbox, StdioCase, Verdict
from rlvr.types import RewardResult, TaskRow

MAX_CODE_CHARS = 64_000
_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_IMPORT = re.compile(r"^(?:from\s+\S+\s+import\s+.+|import\s+.+)$", re.MULTILINE)


def extract_code(completion: str, entry_point: str | None = None) -> str | None:
    """The program in a completion: the last fenced block that defines ``entry_point`` (or the
    last fenced block), else the whole text when it defines ``entry_point``; None when no code."""
    text = completion[-MAX_CODE_CHARS:]
    blocks = [b for b in _FENCE.findall(text) if b.strip()]
    if entry_point:
        defining = [b for b in blocks if re.search(rf"\bdef\s+{re.escape(entry_point)}\s*\(", b)]
        if defining:
            return defining[-1]
        if not blocks and re.search(rf"\bdef\s+{re.escape(entry_point)}\s*\(", text):
            return text
        return None
    return blocks[-1] if blocks else None


def with_prompt_imports(code: str, prompt: str) -> str:
    """Prefix the prompt's import lines (``from typing import List`` ...) to the candidate."""
    imports = "\n".join(_IMPORT.findall(prompt))
    return f"{imports}\n{code}" if imports else code


class CodeVerifier:
    """Scores completions of code rows in the sandbox (one fresh jail per run)."""

    def __init__(self, cfg: CodeRewardConfig | None = None) -> None:
        self.cfg = cfg or CodeRewardConfig()
        self.sandbox = Sandbox(self.cfg.sandbox)  # probes now: refuses to start if unsafe

    def __reduce__(self) -> tuple:
        """Pickled as its config: a reward worker builds (and probes) its own sandbox."""
        return (CodeVerifier, (self.cfg,))

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        spec = row.metadata.get("code")
        if not isinstance(spec, dict) or spec.get("kind") not in ("program", "call", "stdio"):
            return RewardResult.unscorable(Verdict.DATASET_ERROR.value)
        code = extract_code(completion, spec.get("entry_point"))
        if code is None:
            return RewardResult.scored(0.0, Verdict.FAIL_WRONG.value, pass_rate=0.0, no_code=1.0)
        if spec["kind"] != "stdio":
            code = with_prompt_imports(code, row.prompt)
        outcome = self.run(code, spec)
        return self.to_reward(outcome)

    def run(self, source: str, spec: dict) -> RunOutcome:
        """Run ``source`` against the tests described by ``spec`` (DATASET_ERROR when malformed)."""
        try:
            if spec["kind"] == "program":
                return self.sandbox.run_program(source, spec["entry_point"], spec["tests"],
                                                spec.get("prelude", ""))
            if spec["kind"] == "call":
                cases = [CallCase(tuple(c["args"]), c["expected"]) for c in spec["cases"]]
                return self.sandbox.run_calls(source, spec["entry_point"], cases,
                                              self.cfg.float_rel_tol)
            cases = [StdioCase(c["stdin"].encode(), c["stdout"].encode()) for c in spec["cases"]]
            return self.sandbox.run_stdio(source, cases, self.cfg.stdio_compare)
        except (KeyError, TypeError, AttributeError):  # a malformed row: masked, never scored
            return RunOutcome(Verdict.DATASET_ERROR)

    def to_reward(self, outcome: RunOutcome) -> RewardResult:
        """RunOutcome -> RewardResult, keeping the three outcomes apart."""
        verdict = outcome.verdict
        if verdict is Verdict.INFRA_ERROR:
            return RewardResult(score=None, verdict=verdict.value, error="sandbox infrastructure error")
        if verdict is Verdict.DATASET_ERROR:
            return RewardResult.unscorable(verdict.value)
        passed = verdict is Verdict.PASS
        score = outcome.pass_rate if self.cfg.reward == "pass_rate" else float(passed)
        return RewardResult.scored(score, verdict.value, pass_rate=outcome.pass_rate,
                                   passed=float(passed), tests=float(len(outcome.cases)))
