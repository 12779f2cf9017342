"""The code verifier: extraction, the three outcomes, reward modes, and JSONL row validation."""

from __future__ import annotations

import pytest

from rlvr.configs.code_task import CodeRewardConfig
from rlvr.data.code_tasks import code_spec
from rlvr.rewards.code import CodeVerifier, extract_code, with_prompt_imports
from rlvr.sandbox import SandboxConfig, SandboxUnavailable
from rlvr.types import TaskRow

CASES = [{"args": [1, 2], "expected": 3}, {"args": [2, 2], "expected": 4}]
CALL_ROW = TaskRow("r0", "from typing import List\nWrite add.", "",
                   {"code": {"kind": "call", "entry_point": "add", "cases": CASES}})


def verifier(reward: str = "all_or_nothing") -> CodeVerifier:
    try:
        return CodeVerifier(CodeRewardConfig(reward=reward, sandbox=SandboxConfig(timeout_s=3)))
    except SandboxUnavailable as err:
        pytest.skip(f"sandbox unavailable: {err}")


def test_extract_last_block_defining_the_entry_point() -> None:
    text = "```python\ndef helper(): pass\n```\nthen\n```python\ndef add(a, b):\n    return a + b\n```"
    assert extract_code(text, "add") == "def add(a, b):\n    return a + b\n"
    assert extract_code("def add(a, b): return 1", "add") == "def add(a, b): return 1"
    assert extract_code("no code here", "add") is None
    assert extract_code("```\nprint(1)\n```") == "print(1)\n"


def test_prompt_imports_are_prefixed() -> None:
    assert with_prompt_imports("x = 1", "from typing import List\n  import os\n") == \
        "from typing import List\nx = 1"


def test_scores_and_verdicts() -> None:
    v = verifier()
    good = v("```python\ndef add(a: List[int], b):\n    return a + b\n```", CALL_ROW)
    assert (good.score, good.verdict, good.outcome) == (1.0, "PASS", "scored")
    half = verifier("pass_rate")("```python\ndef add(a, b):\n    return 3\n```", CALL_ROW)
    assert (half.score, half.verdict) == (0.5, "FAIL_WRONG")
    none = v("I don't know", CALL_ROW)
    assert (none.score, none.components["no_code"]) == (0.0, 1.0)


@pytest.mark.parametrize("record", [
    {"cases": []},
    {"inputs": ["1"], "outputs": []},
    {"entry_point": "f", "cases": [{"args": 1, "expected": 2}]},
    {"stdio": "nope"},
])
def test_broken_rows_are_dataset_errors(record: dict) -> None:
    """S65: an empty test list or inputs/outputs mismatch is masked, never a pass."""
    row = TaskRow("bad", "p", "", {"code": code_spec(record)})
    result = verifier()("```python\ndef f(x):\n    return x\n```", row)
    assert result.verdict == "DATASET_ERROR" and result.outcome == "unscorable"


def test_stdio_row_from_inputs_outputs() -> None:
    row = TaskRow("s", "sum", "", {"code": code_spec({"inputs": ["2 3\n"], "outputs": ["5\n"]})})
    assert verifier()("```python\nprint(sum(map(int, input().split())))\n```", row).verdict == "PASS"
