"""Plain-dict operations on a raw config before validation: dotted overrides and preset expansion."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from rlvr.config_base import ConfigError

PRESET_DIR = Path(__file__).parent / "algorithms" / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply ``a.b.c=value`` to ``raw`` in place; the value is parsed as YAML (``1e-5``, ``[1,2]``)."""
    key, sep, text = item.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"bad override {item!r}: expected dotted.key=value")
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        value = text
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if isinstance(child, str) and part == "algorithm":
            child = {"preset": child}  # `algorithm=dapo algorithm.epochs=2`
        if not isinstance(child, dict):
            child = {}
        node[part] = child
        node = child
    node[parts[-1]] = value


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``; a mapping under a new variant ``name`` replaces the whole node."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        old = out.get(key)
        same_variant = not (isinstance(value, dict) and isinstance(old, dict)
                            and "name" in value and value.get("name") != old.get("name"))
        if isinstance(value, dict) and isinstance(old, dict) and same_variant:
            out[key] = deep_merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_preset(name: str) -> dict[str, Any]:
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        import difflib

        names = preset_names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"bad value for 'algorithm': unknown preset {name!r}{hint}; "
                          f"allowed presets: {', '.join(names)}")
    return yaml.safe_load(path.read_text()) or {}


def expand_presets(raw: dict[str, Any]) -> dict[str, Any]:
    """``algorithm: dapo`` or ``algorithm: {preset: dapo, ...}`` becomes the preset's axis choices
    with the user's own keys on top, so the resolved config shows every value in use."""
    algo = raw.get("algorithm")
    if isinstance(algo, str):
        algo = {"preset": algo}
    if not isinstance(algo, dict) or algo.get("preset") is None:
        return raw
    merged = deep_merge(load_preset(str(algo["preset"])), algo)
    return {**raw, "algorithm": merged}
