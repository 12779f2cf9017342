"""code_feedback through the real sandbox on hand-written code rows: the failing assertion,
call or stdio case and the exception come back as the next turn; a timeout says so; a
correct second attempt is discounted; infra errors and non-code tasks end or are refused."""

from __future__ import annotations

import shutil

import pytest

from rlvr.config import ConfigError, load_config
from rlvr.configs.code_task import CodeRewardConfig
from rlvr.configs.env import EnvConfig
from rlvr.configs.sandbox import SandboxConfig
from rlvr.envs.builtin import EnvContext
from rlvr.envs.code_feedback import CodeFeedbackEnv
from rlvr.envs.registry import env_class
from rlvr.rewards.code import CodeVerifier
from rlvr.types import RewardResult, TaskRow, is_correct

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

TESTS = "def check(candidate):\n    assert candidate(1, 1) == 2\n    assert candidate(2, 3) == 5\n"
PROGRAM = TaskRow("add", "def add(a, b):\n", "", {"code": {
    "kind": "program", "entry_point": "add", "tests": TESTS, "prelude": "def add(a, b):\n"
                                                                        "    pass\n"}})
CALLS = TaskRow("mul", "Write mul(a, b).", "", {"code": {
    "kind": "call", "entry_point": "mul",
    "cases": [{"args": [1, 2], "expected": 2}, {"args": [3, 4], "expected": 12}]}})
STDIO = TaskRow("sum", "Print the sum of two integers.", "", {"code": {
    "kind": "stdio", "cases": [{"stdin": "1 2\n", "stdout": "3\n"},
                               {"stdin": "2 2\n", "stdout": "4\n"}]}})
JAIL = SandboxConfig(timeout_s=1.0)


def fenced(body: str) -> str:
    return f"```python\n{body}\n```"


@pytest.fixture(scope="module")
def verify():
    return CodeVerifier(CodeRewardConfig(sandbox=JAIL))


def make_env(verify, **cfg) -> CodeFeedbackEnv:
    env_cfg = EnvConfig(name="code_feedback", sandbox=JAIL, **{"max_turns": 2, **cfg})
    return CodeFeedbackEnv(EnvContext(env_cfg, verify=verify))


@needs_bwrap
def test_wrong_program_names_the_failing_assertion_and_the_error(verify):
    env = make_env(verify, max_turns=3)
    env.reset(PROGRAM)
    wrong = env.step(fenced("def add(a, b):\n    return a * b + 1"))  # add(1, 1) == 2: passes
    assert not wrong.done and wrong.observation == (
        "Your code failed the tests.\nFailing test: assert candidate(2, 3) == 5\n"
        "Error: AssertionError\nFix the code and reply with the complete corrected function.")
    raised = env.step(fenced("def add(a, b):\n    return a / 0"))
    assert "Failing test: assert candidate(1, 1) == 2\n" in raised.observation
    assert "Error: ZeroDivisionError: division by zero\n" in raised.observation


@needs_bwrap
def test_timeout_feedback_then_correct_turn_two_is_discounted(verify):
    env = make_env(verify, discount=0.5)
    env.reset(PROGRAM)
    hang = env.step(fenced("def add(a, b):\n    while True:\n        pass"))
    assert not hang.done and "timed out (TIMEOUT" in hang.observation
    right = env.step(fenced("def add(a, b):\n    return a + b"))
    assert right.done and right.reward.score == 0.5  # 1.0 * 0.5 ** (2 - 1)
    assert right.reward.components["task"] == 1.0 and is_correct(right.reward)
    assert right.reward.components["turn_discount"] == 0.5


@needs_bwrap
def test_call_and_stdio_cases_show_input_expected_and_got(verify):
    env = make_env(verify, max_turns=3)
    env.reset(CALLS)
    assert "Test 2 of 2 failed: mul(3, 4) should return 12 but returned 7." in env.step(
        fenced("def mul(a, b):\n    return a + b if a > 1 else a * b")).observation
    assert "Test 1 of 2 failed: mul(1, 2) raised ValueError: invalid literal" in env.step(
        fenced("def mul(a, b):\n    return int('x')")).observation
    env.reset(STDIO)
    out = env.step(fenced("a, b = map(int, input().split())\nprint(3)"))
    assert "Test 2 of 2 failed: input '2 2\\n': expected output '4\\n', got '3\\n'." in \
        out.observation


@needs_bwrap
def test_feedback_is_cut_to_tool_output_chars(verify):
    env = make_env(verify, tool_output_chars=16)
    env.reset(PROGRAM)
    out = env.step(fenced("def add(a, b):\n    raise ValueError('x' * 500)"))
    assert out.observation == ("Your code failed the tests.\nFailing test: as\n[truncated]\n"
                               "Fix the code and reply with the complete corrected function.")


@needs_bwrap
def test_last_turn_is_final_without_a_feedback_run(verify):
    env = make_env(verify, max_turns=1)
    env.reset(PROGRAM)
    out = env.step(fenced("def add(a, b):\n    return 0"))
    assert out.done and out.reward.score == 0.0 and out.reward.verdict == "FAIL_WRONG"


def test_infra_errors_end_the_episode():
    broken = make_env(lambda text, row: RewardResult.infra_error("pool died"))
    broken.reset(PROGRAM)
    out = broken.step("anything")
    assert out.done and out.reward.outcome == "infra_error" and out.reward.error == "pool died"
    wrong = RewardResult.scored(0.0, "FAIL_WRONG", task=0.0)
    no_jail = CodeFeedbackEnv(EnvContext(EnvConfig(  # the feedback run's sandbox cannot start
        name="code_feedback", sandbox=SandboxConfig(python="/nonexistent/python3")),
        verify=lambda text, row: wrong))
    no_jail.reset(PROGRAM)
    out = no_jail.step(fenced("def add(a, b):\n    return 0"))
    assert out.done and out.reward.outcome == "infra_error"


def test_unscorable_verdict_ends_the_episode():
    env = make_env(lambda text, row: RewardResult.unscorable("DATASET_ERROR"))
    env.reset(PROGRAM)
    out = env.step("x")
    assert out.done and out.reward.outcome == "unscorable"


def test_non_code_tasks_are_refused():
    with pytest.raises(ConfigError, match="env.name=code_feedback needs a code task"):
        load_config(None, ["env.name=code_feedback"])
    env = env_class("code_feedback")(EnvContext(EnvConfig(name="code_feedback"),
                                                verify=lambda t, r: None))
    with pytest.raises(ValueError, match="row 'q' has no code tests"):
        env.reset(TaskRow("q", "2+2?", "4"))
    with pytest.raises(ValueError, match="needs the task's verifier"):
        CodeFeedbackEnv(EnvContext(EnvConfig(name="code_feedback")))
