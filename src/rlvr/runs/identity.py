"""What a checkpoint was trained on: config hash, dataset fingerprint, tokenizer hash, versions.

A resume compares these with the current run and refuses a difference with a message that names
it, unless ``checkpoint.allow_mismatch`` lists it (docs/reliability.md "Resume rules").
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any

# Keys that may change between a run and its resume without changing what is trained:
# the step and wall-time budgets, logging, checkpoint cadence and evaluation.
HASH_EXCLUDED = ("steps", "max_wall_minutes", "log", "checkpoint", "eval", "trainer", "launcher")
LIBRARIES = ("rlvr", "torch", "transformers", "safetensors", "numpy", "tokenizers")


def _sha(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def hashed_config(cfg_json: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cfg_json.items() if k not in HASH_EXCLUDED}


def dataset_fingerprint(rows: list) -> dict[str, Any]:
    """Row count and a content hash of the train rows (ids, prompts, references, metadata)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row.row_id, row.prompt, row.reference, row.metadata],
                                 sort_keys=True, default=str).encode())
        digest.update(b"\n")
    return {"rows": len(rows), "sha256": digest.hexdigest()}


def tokenizer_hash(tokenizer: Any) -> str:
    """Vocabulary, special tokens and chat template of a Hugging Face tokenizer."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    core = backend.to_str() if backend is not None else json.dumps(tokenizer.get_vocab(),
                                                                    sort_keys=True)
    return _sha([core, getattr(tokenizer, "chat_template", None),
                 str(getattr(tokenizer, "special_tokens_map", {}))])


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def build_identity(cfg_json: dict[str, Any], train_rows: list, tokenizer: Any) -> dict[str, Any]:
    return {"config": cfg_json, "config_sha256": _sha(hashed_config(cfg_json)),
            "dataset": dataset_fingerprint(train_rows), "tokenizer_sha256": tokenizer_hash(tokenizer),
            "versions": library_versions(), "world_size": 1}


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def config_changes(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every hashed key that differs."""
    old, new = _flatten(hashed_config(saved)), _flatten(hashed_config(current))
    return [f"{k}: {old.get(k, '<absent>')!r} -> {new.get(k, '<absent>')!r}"
            for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def normalized_config(saved_cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The saved config as this version of rlvr reads it (renamed keys mapped, new keys at their
    defaults), or None when this version no longer accepts it."""
    from rlvr.config import validate_config
    from rlvr.configs.base import ConfigError

    try:
        return validate_config(saved_cfg).model_dump(mode="json")
    except ConfigError:
        return None


def respelled_keys(saved_cfg: dict[str, Any], current_cfg: dict[str, Any]) -> list[str]:
    """Hashed keys an older rlvr wrote differently (or not at all) although this version reads
    the saved config as the current one: renamed keys and new keys at their defaults."""
    normalized = normalized_config(saved_cfg)
    if normalized is None or _sha(hashed_config(normalized)) != _sha(hashed_config(current_cfg)):
        return []
    old, new = _flatten(hashed_config(saved_cfg)), _flatten(hashed_config(current_cfg))
    return sorted(k for k in new if old.get(k, "<absent>") != new[k])


def mismatches(saved: dict[str, Any], current: dict[str, Any]) -> dict[str, str]:
    """``{'config' | 'dataset' | 'tokenizer' | 'world_size': description}`` of every difference.
    A config that differs only in spelling (see ``respelled_keys``) is not a difference."""
    found: dict[str, str] = {}
    if saved["config_sha256"] != current["config_sha256"] and not respelled_keys(
            saved["config"], current["config"]):
        compared = normalized_config(saved["config"]) or saved["config"]  # real changes only
        changes = config_changes(compared, current["config"])
        found["config"] = "config changed: " + ("; ".join(changes[:6]) or "hash differs")
    if saved["dataset"] != current["dataset"]:
        s, c = saved["dataset"], current["dataset"]
        found["dataset"] = (f"train dataset changed: {s['rows']} rows sha256 {s['sha256'][:12]} -> "
                            f"{c['rows']} rows sha256 {c['sha256'][:12]}")
    if saved["tokenizer_sha256"] != current["tokenizer_sha256"]:
        found["tokenizer"] = (f"tokenizer changed: sha256 {saved['tokenizer_sha256'][:12]} -> "
                              f"{current['tokenizer_sha256'][:12]}")
    if saved.get("world_size", 1) != current["world_size"]:
        found["world_size"] = f"world size changed: {saved.get('world_size')} -> {current['world_size']}"
    return found


def version_changes(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    old, new = saved.get("versions", {}), current["versions"]
    return [f"{k} {old.get(k)} -> {new[k]}" for k in new if old.get(k) != new[k]]
