"""All 164 HumanEval canonical solutions PASS in the real sandbox (slow: ~20 s on 2 cores)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr.configs.code_task import CodeRewardConfig
from rlvr.data.code_tasks import humaneval_problems, humaneval_row
from rlvr.rewards.code import CodeVerifier
from rlvr.sandbox import SandboxConfig, SandboxUnavailable


@pytest.mark.slow
def test_every_canonical_solution_passes() -> None:
    try:
        verifier = CodeVerifier(CodeRewardConfig(sandbox=SandboxConfig(level="full")))
    except SandboxUnavailable as err:
        pytest.skip(f"full sandbox unavailable: {err}")
    rows = [humaneval_row(p) for p in humaneval_problems()]
    assert len(rows) == 164
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda r: verifier(f"```python\n{r.reference}\n```", r), rows))
    failing = [(r.row_id, res.verdict) for r, res in zip(rows, results) if res.verdict != "PASS"]
    assert failing == []


def test_a_few_canonical_solutions_pass_and_a_wrong_one_fails() -> None:
    try:
        verifier = CodeVerifier(CodeRewardConfig(sandbox=SandboxConfig(level="full")))
    except SandboxUnavailable as err:
        pytest.skip(f"full sandbox unavailable: {err}")
    problems = humaneval_problems()
    for index in (0, 32, 38):  # 32 and 38 use helper functions defined in the prompt
        row = humaneval_row(problems[index])
        assert verifier(f"```python\n{row.reference}\n```", row).verdict == "PASS", row.row_id
    row = humaneval_row(problems[0])
    wrong = f"```python\ndef {problems[0]['entry_point']}(*args):\n    return True\n```"
    assert verifier(wrong, row).verdict == "FAIL_WRONG"
