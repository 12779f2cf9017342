"""Reward config: the reward spec (weighted terms), the worker pool, the abort threshold, and the
answer policies of the built-in verifiers.

```yaml
reward:
  terms:
    - {name: task}                                  # the task's own verifier, weight 1
    - {name: format, weight: 0.1}                   # <think>…</think><answer>…</answer>
    - {name: overlong, max_tokens: 512, buffer_tokens: 128}
    - {name: python, path: my_pkg.rewards:politeness, weight: 0.2}
  pool: {workers: 2, deadline_s: 5, memory_mb: 1024}
  max_infra_error_share: 0.25
```

Each term's score is logged as its own component (``reward/<label>``); the reward is the weighted
sum. Every term kind has its own config class; the knobs of one kind live there and nowhere else.
Its ``name`` picks its builder in one of the stage registries of rlvr/rewards/terms.py (text,
sample or group terms); ``build_reward`` refuses a term no registry places.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, field_validator

from rlvr.configs.base import Node


class MathPolicyConfig(Node):
    """How math answers are compared (research/reliability.md §2.3)."""

    units: Literal["strip", "keep"] = "strip"
    """'strip': '864 inches^2' equals 864. 'keep': units must match as text."""
    percent: Literal["strip", "ratio", "keep"] = "strip"
    """'strip': 5% equals 5. 'ratio': 5% equals 0.05. 'keep': the sign must match."""
    rel_tol: float = Field(0.0, ge=0)
    """Relative tolerance for numeric answers; 0 compares exact rationals (0.5000001 != 1/2)."""
    abs_tol: float = Field(0.0, ge=0)
    """Absolute tolerance for numeric answers; 0 = exact."""
    last_number: bool = True
    """Use the last number of the completion when there is no explicit final answer."""
    symbolic: bool = True
    """Try math-verify (latex2sympy) when the exact paths cannot decide."""
    symbolic_timeout_s: int = Field(2, ge=1)
    """math-verify's own per-call timeout inside the worker (the pool deadline is the hard bound)."""


class SqlPolicyConfig(Node):
    """How SQL answers run and compare (research/reliability.md §5)."""

    order: Literal["auto", "ordered", "multiset", "set"] = "auto"
    """'auto': ordered when the gold query has ORDER BY, else multiset (duplicates count)."""
    float_digits: int = Field(6, ge=0)
    """Floats are rounded to this many decimals before comparison."""
    timeout_s: float = Field(2.0, gt=0)
    """Progress-handler deadline of one query."""
    max_rows: int = Field(10_000, ge=1)
    """A query returning more rows than this fails (too_many_rows) and scores 0."""
    max_sql_chars: int = Field(20_000, ge=1)
    """A longer query is not run (sql_too_long) and scores 0."""
    require_table_read: bool = True
    """A query that reads no table (``SELECT 42``) scores 0: it can only be a guessed literal."""
    allow_recursive: bool = False
    """Allow WITH RECURSIVE (still bounded by the deadline)."""


class PoolConfig(Node):
    """The verifier worker processes (rewards/pool.py)."""

    workers: int = Field(2, ge=1)
    """Verifier worker processes; samples are scored in parallel across them."""
    deadline_s: float = Field(5.0, gt=0)
    """Wall-clock limit per sample; a worker that runs past it is killed and replaced, and the
    sample scores 0 with verdict 'timeout'."""
    memory_mb: int = Field(1024, ge=64)
    """Address-space cap of each worker above its size at start (RLIMIT_AS)."""


class _Term(Node):
    name: str
    """The term kind: the key of its builder in the stage registries of rlvr/rewards/terms.py."""
    weight: float = 1.0
    """Multiplies the term's score in the weighted sum."""
    label: str | None = None
    """The component name in logs; defaults to the term name (or the function name)."""
    needs_self_certainty: ClassVar[bool] = False
    """Whether the rollout engine must record ``Sample.self_certainty`` for this term."""

    def default_label(self) -> str:
        """The component name when ``label`` is not set."""
        return self.name


class TaskTerm(_Term):
    """The task's own verifier (math, SQL, multiple choice, …)."""

    name: Literal["task"] = "task"


class FormatTerm(_Term):
    """1 when the completion is ``<think>…</think>`` followed by ``<answer>…</answer>``."""

    name: Literal["format"] = "format"
    think: bool = True
    """Require the think block; False checks only the answer tags."""


class OverlongTerm(_Term):
    """DAPO soft overlong punishment (Yu et al. 2025, eq. 13): 0 up to max_tokens - buffer_tokens,
    then a linear ramp down to -1 at max_tokens, and -1 beyond."""

    name: Literal["overlong"] = "overlong"
    max_tokens: int = Field(..., ge=1)
    """Completion length (tokens) at which the penalty reaches -1."""
    buffer_tokens: int = Field(..., ge=1)
    """Length of the linear ramp that ends at max_tokens."""


class TargetLengthTerm(_Term):
    """A length penalty for correct answers only (seed catalogue 2C-C5, LASER / L1 style):
    -min(1, |n - target| / target) when the task term says correct, else 0."""

    name: Literal["target_length"] = "target_length"
    target_tokens: int = Field(..., ge=1)
    """The wanted completion length in tokens."""
    one_sided: bool = True
    """Penalise only completions longer than the target."""
    correct_at: float = 1.0
    """A task score at or above this counts as correct."""


class MajorityVoteTerm(_Term):
    """TTRL (Zuo et al. 2025): 1 when the sample's final answer equals the group's majority
    answer, else 0. Label-free: the reference is not used."""

    name: Literal["majority_vote"] = "majority_vote"
    min_share: float = Field(0.0, ge=0, le=1)
    """Mask the group (unscorable) when the majority answer has a smaller share than this."""


class SelfCertaintyTerm(_Term):
    """Self-certainty (Kang et al. 2025): the mean over tokens of KL(uniform || p_t), recorded by
    the rollout engine in ``Sample.self_certainty``. Label-free."""

    name: Literal["self_certainty"] = "self_certainty"
    needs_self_certainty: ClassVar[bool] = True


class JudgeTerm(_Term):
    """An LLM judge on an OpenAI-compatible endpoint, called only when the task's deterministic
    verifier says wrong and the extracted answer passes the master-key pre-filter."""

    name: Literal["judge"] = "judge"
    url: str
    """Base URL, e.g. http://127.0.0.1:8000/v1 (POST {url}/chat/completions)."""
    model: str = "judge"
    """Model name sent in the request."""
    timeout_s: float = Field(10.0, gt=0)
    """HTTP timeout of one judge call; a timeout is an infrastructure error."""
    max_answer_chars: int = Field(200, ge=1)
    """Longer extracted answers are not sent (prefilter: not_a_final_answer) and score 0."""
    api_key_env: str | None = None
    """Name of an environment variable that holds the bearer token, if the endpoint needs one."""


FUNCTION_PATH = re.compile(r"(?:[A-Za-z_][\w.]*|[^:]+\.py):[A-Za-z_]\w*")
"""A user function: ``package.module:function`` or ``path/to/file.py:function``."""


class PythonTerm(_Term):
    """A user function ``package.module:function`` or ``path/to/file.py:function`` (relative to
    the working directory) with the verifier signature
    ``(completion: str, row: TaskRow) -> RewardResult``."""

    name: Literal["python"] = "python"
    path: str
    """``package.module:function``, importable from the run's environment."""

    def default_label(self) -> str:
        return self.path.rsplit(":", 1)[1]

    @field_validator("path")
    @classmethod
    def _shape(cls, value: str) -> str:
        if not FUNCTION_PATH.fullmatch(value):
            raise ValueError("expected 'package.module:function' or 'path/to/file.py:function'")
        return value


RewardTerm = Annotated[Union[TaskTerm, FormatTerm, OverlongTerm, TargetLengthTerm,
                             MajorityVoteTerm, SelfCertaintyTerm, JudgeTerm, PythonTerm],
                       Field(discriminator="name")]


class RewardConfig(Node):
    terms: list[RewardTerm] = Field(default_factory=lambda: [TaskTerm()], min_length=1)
    """The weighted terms; the reward is their weighted sum (default: the task verifier alone)."""
    pool: PoolConfig = PoolConfig()
    """The worker processes that run verifiers under a deadline and a memory cap."""
    max_infra_error_share: float = Field(0.25, ge=0, le=1)
    """Abort the run when more than this share of one step's samples are infrastructure errors
    (worker crashed, verifier raised, judge unreachable)."""

    @property
    def needs_self_certainty(self) -> bool:
        """Whether the rollout engine must record ``Sample.self_certainty``."""
        return any(t.needs_self_certainty for t in self.terms)

    @field_validator("terms")
    @classmethod
    def _unique_labels(cls, terms: list) -> list:
        labels = [term_label(t) for t in terms]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"two terms share the label {dupes[0]!r}; give one a 'label'")
        return terms


def term_label(term: _Term) -> str:
    """The term's component name: its ``label``, else its default label."""
    return term.label or term.default_label()
