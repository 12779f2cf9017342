"""Strict tool-call parsing (golden table) and the calculator."""

from __future__ import annotations

import pytest

from rlvr.envs.tools import (
    CalculatorError,
    ToolCall,
    ToolCallError,
    calculate,
    parse_tool_call,
    run_calculator,
    truncate,
)

OFFERED = ("calculator", "python")
CALC = '{"name": "calculator", "args": {"expression": "2*3"}}'


def test_well_formed_call_and_plain_answer():
    assert parse_tool_call(f"I will compute. <tool>{CALC}</tool>\n", OFFERED) == ToolCall(
        "calculator", {"expression": "2*3"})
    assert parse_tool_call("The answer is 6.", OFFERED) is None


@pytest.mark.parametrize("text, message", [
    ("<tool>" + CALC, "exactly one <tool>...</tool> block per turn (found 1 <tool> and 0"),
    (CALC + "</tool>", "found 0 <tool> and 1 </tool>"),
    (f"<tool>{CALC}</tool><tool>{CALC}</tool>", "found 2 <tool> and 2 </tool>"),
    (f"</tool>{CALC}<tool>", "</tool> comes before <tool>"),
    (f"<tool>{CALC}</tool> so 6", "nothing but whitespace may follow </tool>"),
    ("<tool>{name: calculator}</tool>", "not valid JSON"),
    ("<tool></tool>", "not valid JSON"),
    ('<tool>["calculator", "2*3"]</tool>', "must be a JSON object"),
    ('<tool>{"name": "calculator"}</tool>', "exactly the keys name and args (got: name)"),
    ('<tool>{"name": "calculator", "args": {}, "x": 1}</tool>', "(got: args, name, x)"),
    ('<tool>{"name": "shell", "args": {}}</tool>', "unknown tool 'shell'; available: calculator"),
    ('<tool>{"name": 3, "args": {}}</tool>', "unknown tool 3"),
    ('<tool>{"name": "calculator", "args": "2*3"}</tool>', "args must be a JSON object"),
    ('<tool>{"name": "calculator", "args": {"expr": "2"}}</tool>',
     "calculator takes exactly the string argument(s): expression"),
    ('<tool>{"name": "calculator", "args": {"expression": 6}}</tool>', "string argument"),
    ('<tool>{"name": "python", "args": {"code": "1", "x": "2"}}</tool>', "python takes exactly"),
])
def test_malformed_calls_get_an_error_message(text, message):
    out = parse_tool_call(text, OFFERED)
    assert isinstance(out, ToolCallError)
    assert message in out.message


def test_a_tool_not_offered_is_unknown():
    out = parse_tool_call('<tool>{"name": "python", "args": {"code": "1"}}</tool>', ("calculator",))
    assert isinstance(out, ToolCallError) and "unknown tool 'python'" in out.message


@pytest.mark.parametrize("expression, value", [
    ("123 * 456", 56088), ("-(2 + 3) * 4", -20), ("7 // 2", 3), ("7 % 4", 3), ("2 ** 10", 1024),
    ("1 / 4", 0.25), ("+5", 5)])
def test_calculator_values(expression, value):
    assert calculate(expression) == value


@pytest.mark.parametrize("expression, reason", [
    ("__import__('os')", "Call is not allowed"), ("x + 1", "Name is not allowed"),
    ("1 / 0", "division by zero"), ("9 ** 9 ** 9", "exponent above 64"),
    ("(10 ** 60) * (10 ** 60)", "out of range"), ("True + 1", "Constant is not allowed"),
    ("'a' * 3", "Constant is not allowed"), ("1 +", "not an arithmetic expression"),
    ("1" * 201, "longer than 200"), ("(1).real", "Attribute is not allowed")])
def test_calculator_refuses(expression, reason):
    with pytest.raises(CalculatorError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        calculate(expression)


def test_calculator_tool_result_marks_errors_and_truncate_marks_cuts():
    assert run_calculator({"expression": "6*7"}).output == "42"
    bad = run_calculator({"expression": "1/0"})
    assert bad.error and bad.output == "calculator error: division by zero"
    assert truncate("abcdef", 3) == "abc\n[truncated]" and truncate("abc", 3) == "abc"
