"""The base class of every config node, and the one-line error messages for bad configs."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """A config problem, reported as one line naming the key, the bad value and what is allowed."""


class Node(BaseModel):
    """A frozen config node that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _walk(root: type[BaseModel], loc: tuple) -> tuple[list[str], list[str]]:
    """Follow ``loc`` through the config classes. Returns the key as the user writes it (union
    tags such as 'grpo' dropped) and the field names allowed at the end of ``loc``, when known."""
    annotation: Any = root
    shown: list[str] = []
    for index, part in enumerate(loc):
        members = _models_in(annotation)
        if isinstance(part, int):  # a list index: stay on the element type
            shown.append(str(part))
            continue
        holder = next((m for m in members if part in m.model_fields), None)
        if holder is not None:
            annotation = holder.model_fields[part].annotation
            shown.append(part)
            continue
        # A discriminated-union tag such as "grpo": the member whose tag field has that value.
        tagged = [m for m in members if _tag_of(m) == part]
        if not tagged:
            return shown + [str(p) for p in loc[index:]], []
        annotation = tagged[0]
    members = _models_in(annotation)
    return shown, sorted(members[0].model_fields) if len(members) == 1 else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _tag_of(model: type[BaseModel]) -> Any:
    for tag_field in ("kind", "name"):
        field = model.model_fields.get(tag_field)
        if field is not None:
            return field.default
    return None


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def format_validation_error(err: ValidationError, root: type[BaseModel]) -> str:
    """Turn pydantic's multi-line report into one line for the first problem."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    shown, _ = _walk(root, loc)
    key = ".".join(shown)
    kind = first["type"]
    value = first.get("input")
    if kind == "extra_forbidden":
        _, allowed = _walk(root, loc[:-1])
        return (f"unknown config key '{key}'{_suggest(str(loc[-1]), allowed)}; "
                f"allowed keys here: {', '.join(allowed)}")
    if kind in ("literal_error", "union_tag_invalid"):
        ctx = first.get("ctx", {})
        expected = ctx.get("expected") or ctx.get("expected_tags", "")
        if kind == "union_tag_invalid":  # the key the user wrote: the union's tag field
            key = f"{key}.{str(ctx.get('discriminator', 'name')).strip(chr(39))}"
        choices = [c.strip(" '\"") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        shown = value if kind == "literal_error" else first.get("ctx", {}).get("tag")
        return (f"bad value for '{key}': {shown!r}{_suggest(str(shown), choices)}; "
                f"allowed values: {', '.join(choices)}")
    if kind == "union_tag_not_found":
        return f"missing 'name' for '{key}'; {first['msg']}"
    msg = first["msg"].removeprefix("Value error, ")
    if not key or isinstance(value, dict):  # a check across several keys: the message names them
        return f"invalid config{f' at {key!r}' if key else ''}: {msg}"
    return f"bad value for '{key}': {value!r}: {msg}"
