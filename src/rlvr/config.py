"""The typed config tree: YAML file + dotted ``key=value`` overrides, presets, validation.

``load_config(path, overrides)`` returns a frozen, validated ``RunConfig`` or raises ``ConfigError``
with one line naming the key, the bad value and the allowed values. Nothing heavy (models, data)
is touched here. The resolved config is written to the run directory and is the only source of
hyperparameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rlvr.config_tree import apply_override, deep_merge, expand_presets
from rlvr.configs.base import ConfigError, format_validation_error
from rlvr.configs.run import RunConfig


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> RunConfig:
    """Read a YAML file (optional), apply dotted overrides, expand presets and validate."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys")
    for item in overrides:
        apply_override(raw, item)
    return validate_config(deep_merge(RunConfig().model_dump(mode="json"), expand_presets(raw)))


def validate_config(raw: dict[str, Any]) -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, RunConfig)) from None


def dump_config(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
