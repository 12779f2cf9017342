"""Answer normalisation before comparison: Unicode, LaTeX spacing, thousands separators, and the
dataset's declared unit and percent policies (research/reliability.md §2.2–§2.3, M16, M17,
M25, M26). Pure string rewriting with bounded input; nothing is evaluated.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

UnitPolicy = Literal["strip", "keep"]
PercentPolicy = Literal["strip", "ratio", "keep"]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
_SPACING = re.compile(r"\\[!,;:>]|\\quad|\\qquad|~")
_WRAPPERS = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_BARE_FRAC = re.compile(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])")
_HALF_FRAC = re.compile(r"\\frac\s*([0-9a-zA-Z])\s*\{")
_BARE_SQRT = re.compile(r"\\sqrt\s*([0-9a-zA-Z])")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°")
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$", re.ASCII)
_THOUSANDS_SPACE = re.compile(r"^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$", re.ASCII)
_NUMBER_WITH_UNIT = re.compile(
    r"^(?P<num>-?[\d.,]*\d)\s+(?P<unit>[A-Za-z][A-Za-z. ]*?)\s*(?:\^\s*\{?[23]\}?)?\s*$", re.ASCII)
# A unit needs a space after the number ('5 cm', or \text{cm} which unwraps with spaces), so a
# variable ('2x', '2xy') is never stripped as a unit.
_HEDGE_WORDS = re.compile(r"(?i)\b(?:or|and|either|maybe|possibly)\b")
_CURRENCY = re.compile(r"^(?:\\\$|\$|£|€|¥|USD|US\$)\s*")


def unicode_clean(text: str) -> str:
    """NFKC (full-width digits become ASCII), drop zero-width characters, unify minus signs.
    Homoglyph letters (Cyrillic 'х' for Latin 'x') stay different: NFKC keeps them apart."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_DASHES)


def latex_clean(text: str) -> str:
    """Remove LaTeX presentation that does not change the value."""
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\\left", "").replace("\\right", "").replace("\\displaystyle", "")
    text = text.replace("{,}", ",").replace("\\%", "%").replace("\\$", "$")
    text = _SPACING.sub("", text).replace("\\ ", " ")
    text = _BARE_FRAC.sub(r"\\frac{\1}{\2}", text)  # \frac12 -> \frac{1}{2}
    text = _HALF_FRAC.sub(r"\\frac{\1}{", text)
    text = _BARE_SQRT.sub(r"\\sqrt{\1}", text)
    for _ in range(4):  # \text{\textbf{x}} unwraps in two rounds
        text, count = _WRAPPERS.subn(r" \1 ", text)
        if not count:
            break
    return " ".join(text.split())


def apply_units(text: str, policy: UnitPolicy) -> str:
    """``strip``: '864 inches^2' -> '864', '$5' -> '5', '90°' -> '90'. ``keep``: unchanged.
    A hedge ('5 or six') is never stripped down to a number."""
    if policy == "keep":
        return text
    text = _CURRENCY.sub("", _DEGREES.sub("", text)).strip()
    match = _NUMBER_WITH_UNIT.match(text)
    if match and not _HEDGE_WORDS.search(match.group("unit")):
        return match.group("num")
    return text


def apply_percent(text: str, policy: PercentPolicy) -> str:
    """``strip``: '5%' == '5'. ``ratio``: '5%' == '0.05'. ``keep``: the sign must match."""
    if not text.endswith("%") or policy == "keep":
        return text
    number = text[:-1].strip()
    return number if policy == "strip" else f"({number})/100"


def thousands(text: str) -> str:
    """'10,080' and '10 080' -> '10080'; '1,2,3' stays a list."""
    if _THOUSANDS_COMMA.match(text):
        return text.replace(",", "")
    if _THOUSANDS_SPACE.match(text):
        return text.replace(" ", "")
    return text


def normalise_answer(text: str, units: UnitPolicy = "strip", percent: PercentPolicy = "strip") -> str:
    """The canonical string of an extracted answer under the declared policies."""
    text = latex_clean(unicode_clean(text)).strip()
    text = text.strip("$").strip().rstrip(".").strip()
    text = apply_units(text, units)
    text = thousands(text)
    return apply_percent(text, percent)
