"""The tool-call format, its strict parser, and the built-in tools (docs/environments.md).

A model turn calls a tool with exactly one block, as the end of its turn::

    <tool>{"name": "calculator", "args": {"expression": "123 * 456"}}</tool>

Text before the block is allowed (reasoning); only whitespace may follow it. The body is a
JSON object with exactly the keys ``name`` (a tool offered by the environment) and ``args``
(an object with exactly that tool's argument names, all strings). A turn without ``<tool>``
is an answer. Anything else is a malformed call: the model gets an error observation and the
episode goes on; the parser never raises on model text.
"""

from __future__ import annotations

import ast
import json
import operator
from dataclasses import dataclass

OPEN, CLOSE = "<tool>", "</tool>"
TOOL_ARGS = {"calculator": ("expression",), "python": ("code",)}
"""Each built-in tool's argument names."""


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, str]


@dataclass(frozen=True)
class ToolCallError:
    """A malformed call; ``message`` is shown to the model."""

    message: str


@dataclass(frozen=True)
class ToolResult:
    """A tool's output for the model; ``error`` marks a failed call (a tool error, counted);
    ``infra_error`` is set when the tool's infrastructure failed (never the model's fault)."""

    output: str
    error: bool = False
    infra_error: str | None = None


def parse_tool_call(text: str, offered: tuple[str, ...]) -> ToolCall | ToolCallError | None:
    """The turn's tool call, a ToolCallError naming what is wrong, or None (no call: an answer)."""
    opens, closes = text.count(OPEN), text.count(CLOSE)
    if opens == 0 and closes == 0:
        return None
    if opens != 1 or closes != 1:
        return ToolCallError(f"exactly one {OPEN}...{CLOSE} block per turn "
                             f"(found {opens} {OPEN} and {closes} {CLOSE})")
    start, end = text.index(OPEN) + len(OPEN), text.index(CLOSE)
    if end < start:
        return ToolCallError(f"{CLOSE} comes before {OPEN}")
    if text[end + len(CLOSE):].strip():
        return ToolCallError(f"nothing but whitespace may follow {CLOSE}")
    try:
        body = json.loads(text[start:end])
    except json.JSONDecodeError as err:
        return ToolCallError(f"the tool call is not valid JSON: {err.msg}")
    return _check_body(body, offered)


def _check_body(body: object, offered: tuple[str, ...]) -> ToolCall | ToolCallError:
    if not isinstance(body, dict):
        return ToolCallError('the tool call must be a JSON object {"name": ..., "args": {...}}')
    if set(body) != {"name", "args"}:
        return ToolCallError(f"the tool call needs exactly the keys name and args "
                             f"(got: {', '.join(sorted(map(str, body))) or 'none'})")
    name, args = body["name"], body["args"]
    if not isinstance(name, str) or name not in offered:
        return ToolCallError(f"unknown tool {name!r}; available: {', '.join(offered)}")
    if not isinstance(args, dict):
        return ToolCallError("args must be a JSON object")
    wanted = TOOL_ARGS[name]
    if set(args) != set(wanted) or not all(isinstance(v, str) for v in args.values()):
        return ToolCallError(f"{name} takes exactly the string argument(s): {', '.join(wanted)}")
    return ToolCall(name, dict(args))


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
MAX_EXPRESSION_CHARS = 200
MAX_MAGNITUDE = 10 ** 100
"""Larger intermediate results are refused (no memory blow-up from 9**9**9)."""


class CalculatorError(ValueError):
    """An expression the calculator refuses, with the reason for the model."""


def calculate(expression: str) -> int | float:
    """Arithmetic on numbers with + - * / // % ** and parentheses, by walking the syntax tree
    (no eval): names, calls, attributes and every other construct are refused."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise CalculatorError(f"not an arithmetic expression ({err.msg})") from None
    return _evaluate(tree.body)


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 10 ** 6):
            raise CalculatorError("exponent above 64 or base above 10**6")
        try:
            value = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
        if isinstance(value, complex) or abs(value) > MAX_MAGNITUDE:
            raise CalculatorError("result out of range")
        return value
    raise CalculatorError(f"{type(node).__name__} is not allowed (numbers and + - * / // % ** only)")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def run_calculator(args: dict[str, str]) -> ToolResult:
    try:
        return ToolResult(str(calculate(args["expression"])))
    except CalculatorError as err:
        return ToolResult(f"calculator error: {err}", error=True)
