"""Plain-dict operations on a raw config before validation: dotted overrides and preset expansion."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from rlvr.configs.base import ConfigError

_TAGS = ("kind", "name")  # discriminator fields of variant unions; a node has "kind" or else "name"
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
    if isinstance(value, bool) and text.strip().lower() not in ("true", "false"):
        value = text  # YAML 1.1 reads on/off/yes/no as booleans; `model.autocast=off` means "off"
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if isinstance(child, str) and part == "algorithm":
            child = {"preset": child}  # `algorithm=dapo algorithm.epochs=2`
        if isinstance(child, str) and part == "task":
            from rlvr.data.tasks import task_config_for

            child = task_config_for(child)  # `task=chain_sum task.params.min_terms=3`
        if isinstance(child, str) and part == "engine":
            child = {"name": child}  # `rollout.engine=hf_process rollout.engine.batch_size=8`
        if not isinstance(child, dict):
            child = {}
        node[part] = child
        node = child
    node[parts[-1]] = value


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``; a mapping that names another variant (a different ``name`` or
    ``kind`` tag) replaces the whole node instead of merging into it."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        old = out.get(key)
        both = isinstance(value, dict) and isinstance(old, dict)
        tag = next((t for t in _TAGS if both and t in old), None)
        if both and (tag is None or value.get(tag, old[tag]) == old[tag]):
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
    """A task given by name (``task: chain_sum``) becomes its task config; and
    ``algorithm: dapo`` or ``algorithm: {preset: dapo, ...}`` becomes the preset's axis choices
    with the user's own keys on top, so the resolved config shows every value in use."""
    if isinstance(raw.get("task"), str):
        from rlvr.data.tasks import task_config_for

        raw = {**raw, "task": task_config_for(raw["task"])}
    algo = raw.get("algorithm")
    if isinstance(algo, str):
        algo = {"preset": algo}
    if not isinstance(algo, dict) or algo.get("preset") is None:
        return raw
    merged = deep_merge(load_preset(str(algo["preset"])), algo)
    return {**raw, "algorithm": merged}
