"""Final-answer extraction from a completion: ``\\boxed{}``, ``Answer:`` lines, ``<answer>`` tags,
and the last number as a fallback.

Policy (research/reliability.md §2.3, M07–M10, M27–M30):

* the input is cut to the text after the last ``</think>`` and then to its last ``max_chars``
  characters *before* any regex runs, so a 1 MB degenerate completion costs the same as a short one;
* the *last* explicit final answer wins (a model that changes its mind is judged on the last one);
* two explicit answers separated only by a comma or "or" are a hedge ("list every candidate"), and
  a hedge is no answer;
* a ``\\boxed{`` left open after the last complete answer (a completion cut at max tokens) means
  the answer was never finished: no answer, never a prefix match;
* the last number is used only when no explicit answer is present.

Everything here is plain string scanning with linear cost; nothing is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 4096
"""Characters of the answer region that extraction looks at (the end of the completion)."""
MAX_ANSWER_CHARS = 512
"""Longest final answer kept; a longer one is treated as no answer."""

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_ANSWER_LINE = re.compile(r"(?im)^[ \t>*#_-]*(?:final\s+)?answer\s*\**\s*[:：]\s*\**[ \t]*([^\n]*)$")
_ANSWER_TAG = re.compile(r"(?s)<answer>(.*?)</answer>")
NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?|-?\.\d+", re.ASCII)
_HEDGE_GAP = re.compile(r"(?i)^[\s,;$.]*(?:or|and|/|\\text\{\s*or\s*\})?[\s,;$.]*$")


@dataclass(frozen=True)
class Extracted:
    """An extracted final answer, or the reason there is none (``text is None``)."""

    text: str | None
    source: str  # "boxed" | "answer_line" | "answer_tag" | "last_number" | a reason for none

    @property
    def explicit(self) -> bool:
        return self.text is not None and self.source != "last_number"


def answer_region(completion: str, max_chars: int = MAX_CHARS) -> str:
    """The text after the last ``</think>`` (if any), cut to its last ``max_chars`` characters."""
    end_think = completion.rfind("</think>")
    if end_think >= 0:
        completion = completion[end_think + len("</think>"):]
    return completion[-max_chars:]


def matching_braces(text: str) -> dict[int, int]:
    """Position of each ``{`` -> position of its matching ``}`` (one linear pass; unmatched
    braces are absent). Escaped ``\\{`` / ``\\}`` are literal set braces and are skipped."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for pos, char in enumerate(text):
        if pos > 0 and text[pos - 1] == "\\":
            continue
        if char == "{":
            stack.append(pos)
        elif char == "}" and stack:
            pairs[stack.pop()] = pos
    return pairs


def boxed_spans(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """Complete ``\\boxed{…}`` contents as (start, end, content), and the start of the last
    box left open (-1 if none)."""
    pairs = matching_braces(text)
    spans: list[tuple[int, int, str]] = []
    last_open = -1
    for command in _BOX_COMMANDS:
        start = text.find(command)
        while start >= 0:
            brace = start + len(command)
            while brace < len(text) and text[brace] == " ":
                brace += 1
            if brace < len(text) and text[brace] == "{":
                if brace in pairs:
                    spans.append((start, pairs[brace], text[brace + 1:pairs[brace]]))
                else:
                    last_open = max(last_open, start)
            start = text.find(command, start + 1)
    return sorted(spans), last_open


def _candidates(region: str) -> tuple[list[tuple[int, int, str, str]], int]:
    """Every explicit final answer as (start, end, text, source), and the last open box."""
    spans, last_open = boxed_spans(region)
    found = [(s, e, content, "boxed") for s, e, content in spans]
    for match in _ANSWER_LINE.finditer(region):
        line = match.group(1)
        if "\\boxed" not in line and "\\fbox" not in line:  # a box inside is found on its own
            found.append((match.start(1), match.end(1), line, "answer_line"))
    for match in _ANSWER_TAG.finditer(region):
        inner = match.group(1)
        if "\\boxed" not in inner and "\\fbox" not in inner:
            found.append((match.start(1), match.end(1), inner, "answer_tag"))
    return sorted(found), last_open


def _outermost(found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Drop answers nested inside another one (``\\boxed{\\boxed{5}}`` is one answer)."""
    kept: list[tuple[int, int, str, str]] = []
    for item in found:
        if kept and item[0] < kept[-1][1] and item[1] <= kept[-1][1]:
            continue
        kept.append(item)
    return kept


def unwrap_boxes(text: str) -> str:
    """``\\boxed{\\boxed{5}}`` -> ``5`` (only when the box spans the whole text)."""
    for _ in range(8):
        stripped = text.strip()
        whole = [c for s, e, c in boxed_spans(stripped)[0] if s == 0 and e == len(stripped) - 1]
        if not whole:
            break
        text = whole[0]
    return text.strip()


def extract_final_answer(completion: str, max_chars: int = MAX_CHARS,
                         allow_last_number: bool = True) -> Extracted:
    """The final answer of a completion under the policy in the module docstring."""
    region = answer_region(completion, max_chars)
    candidates, last_open = _candidates(region)
    found = _outermost(candidates)
    if found and last_open > found[-1][1]:
        return Extracted(None, "unterminated")
    if found:
        start, _, text, source = found[-1]
        if len(found) > 1 and _HEDGE_GAP.match(region[found[-2][1] + 1:start]):
            if unwrap_boxes(found[-2][2]) != unwrap_boxes(text):
                return Extracted(None, "hedged")
        text = unwrap_boxes(text)
        if not text:
            return Extracted(None, "empty")
        if len(text) > MAX_ANSWER_CHARS:
            return Extracted(None, "too_long")
        return Extracted(text, source)
    if last_open >= 0:
        return Extracted(None, "unterminated")
    if not allow_last_number:
        return Extracted(None, "no_answer")
    numbers = NUMBER.findall(region)
    return Extracted(numbers[-1], "last_number") if numbers else Extracted(None, "no_answer")
