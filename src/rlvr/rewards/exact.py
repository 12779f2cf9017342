"""Exact rational evaluation of plain numeric answers, without sympy and without eval.

A small recursive-descent parser over a fixed grammar: integers, decimals (with a repeating part
``0.08\\overline{3}``), ``+ - * / ^``, ``\\cdot``, ``\\times``, ``\\div``, ``\\frac{a}{b}`` (and
``\\frac12``), parentheses and braces. It returns a ``Fraction``, so ``\\frac{1}{2^{98}}`` and
``\\frac{1}{2^{99}}`` differ (M13) where a float comparison would call them equal.

Bounds (research/reliability.md §2.3 recommendation 5): nesting depth ≤ ``MAX_DEPTH``; a power
whose result would have more than ``MAX_DIGITS`` digits raises ``TooLarge`` instead of being
computed, so ``10^{10^{10}}`` or ``2^{2^{35}}`` cost microseconds. Anything outside the grammar
raises ``NotExact`` and the caller decides what comes next.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

MAX_DEPTH = 64
MAX_DIGITS = 2000
MAX_TOKENS = 512


class NotExact(ValueError):
    """The text is not a plain numeric expression of the grammar."""


class TooLarge(ValueError):
    """The value is a plain numeric expression, but too large to compute."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:\\overline\{\d+\}|\\overline\d)?|\.\d+(?:\\overline\{\d+\})?)"
    r"|(?P<cmd>\\frac|\\cdot|\\times|\\div)|(?P<op>[-+*/^(){}÷×·]))", re.ASCII)


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise NotExact(f"unexpected text at {pos}")
        tokens.append(match.group(match.lastgroup or "op"))
        pos = match.end()
        if len(tokens) > MAX_TOKENS:
            raise NotExact("too many tokens")
    return tokens


def decimal_value(token: str) -> Fraction:
    """'12', '0.5', '.5', '0.08\\overline{3}' (= 1/12) as exact fractions."""
    repeat = ""
    if "\\overline" in token:
        token, _, repeat = token.partition("\\overline")
        repeat = repeat.strip("{}")
    whole, _, frac = token.partition(".")
    value = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    if repeat:
        value += Fraction(int(repeat), (10 ** len(repeat) - 1) * 10 ** len(frac))
    return value


def checked_power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise NotExact("non-integer exponent")
    if base == 0 and exponent < 0:
        raise NotExact("division by zero")
    size = max(abs(base.numerator), abs(base.denominator))
    if size > 1 and abs(exponent) * math.log10(size) > MAX_DIGITS:
        raise TooLarge("power too large")
    return base ** int(exponent)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise NotExact(f"expected {expected!r}")
        self.pos += 1
        return token

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/", "\\cdot", "\\times", "\\div", "÷", "×", "·"):
            op = self.take()
            right = self.unary()
            if op in ("/", "\\div", "÷"):
                if right == 0:
                    raise NotExact("division by zero")
                value = value / right
            else:
                value = value * right
        return value

    def unary(self) -> Fraction:
        # Every recursive path (parentheses, signs, exponents) passes through here.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotExact("nested too deeply")
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Fraction:
        if self.peek() in ("+", "-"):
            sign = self.take()
            return self.unary() if sign == "+" else -self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return checked_power(base, self.unary())  # right-associative: a^b^c = a^(b^c)
        return base

    def atom(self) -> Fraction:
        token = self.take()
        if token in ("(", "{"):
            value = self.expr()
            self.take(")" if token == "(" else "}")
            return value
        if token == "\\frac":
            numerator, denominator = self.frac_argument(), self.frac_argument()
            if denominator == 0:
                raise NotExact("division by zero")
            return numerator / denominator
        if token[0].isdigit() or token[0] == ".":
            return decimal_value(token)
        raise NotExact(f"unexpected {token!r}")

    def frac_argument(self) -> Fraction:
        """A braced group, or a single digit as in ``\\frac12``."""
        if self.peek() == "{":
            return self.atom()
        token = self.take()
        if token.isdigit():
            return Fraction(int(token[0])) if len(token) == 1 else self._split_digits(token)
        raise NotExact("bad \\frac argument")

    def _split_digits(self, token: str) -> Fraction:
        # \frac12 tokenizes as "12": the first digit is this argument, the rest the next one.
        self.tokens.insert(self.pos, token[1:])
        return Fraction(int(token[0]))


def exact_value(text: str) -> Fraction:
    """The exact value of a plain numeric answer; raises ``NotExact`` or ``TooLarge``."""
    parser = _Parser(tokenize(text))
    if not parser.tokens:
        raise NotExact("empty")
    value = parser.expr()
    if parser.peek() is not None:
        raise NotExact("trailing text")
    return value
