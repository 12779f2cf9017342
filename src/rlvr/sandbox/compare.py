"""Comparisons done by the supervisor, outside the jail, on plain decoded data or raw bytes."""

from __future__ import annotations

import math
from rlvr.configs.sandbox import StdioCompare

_WHITESPACE = b" \t\r\x0b\x0c"


def strict_equal(got: object, want: object, rel_tol: float = 1e-9, depth: int = 0) -> bool:
    """Type-strict equality: the same exact builtin types all the way down (2 != 2.0, True != 1).

    Floats are equal within ``rel_tol`` (relative, with an absolute floor of ``rel_tol``); NaN is
    never equal to anything. Both sides are plain data: no candidate ``__eq__`` is ever called.
    """
    if type(got) is not type(want) or depth > 200:
        return False
    if type(want) is float:
        if math.isnan(got) or math.isnan(want):
            return False
        if math.isinf(got) or math.isinf(want):
            return got == want
        return abs(got - want) <= rel_tol * max(1.0, abs(want))
    if type(want) in (list, tuple):
        return len(got) == len(want) and all(
            strict_equal(g, w, rel_tol, depth + 1) for g, w in zip(got, want))
    if type(want) is dict:
        if len(got) != len(want) or set(map(_key, got)) != set(map(_key, want)):
            return False
        got_by_key = {_key(k): v for k, v in got.items()}
        return all(strict_equal(got_by_key[_key(k)], v, rel_tol, depth + 1) for k, v in want.items())
    return got == want  # int, str, bytes, bool, None, set, frozenset of plain hashables


def _key(key: object) -> tuple[str, object]:
    """Dict keys tagged with their type, so {1: x} and {True: x} differ."""
    return type(key).__name__, key


def normalise_output(data: bytes, mode: StdioCompare) -> object:
    """Canonical form of program output under the dataset's declared comparison."""
    if mode == "exact":
        return data
    if mode == "tokens":
        return data.split()
    lines = [line.rstrip(_WHITESPACE) for line in data.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def stdio_equal(got: bytes, want: bytes, mode: StdioCompare) -> bool:
    """Bytes compared after the same normalisation on both sides (no prefix or zip matching)."""
    return normalise_output(got, mode) == normalise_output(want, mode)
