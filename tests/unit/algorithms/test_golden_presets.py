"""Each algorithm preset, fully expanded and validated, equals its stored golden config, so a
preset cannot silently lose (or gain) a setting. After an intended change, regenerate with
``RLVR_REGEN_GOLDEN=1 pytest tests/unit/algorithms/test_golden_presets.py`` and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlvr.config import load_config
from rlvr.config_tree import preset_names

GOLDEN = Path(__file__).parent / "golden_presets"
REGEN = os.environ.get("RLVR_REGEN_GOLDEN") == "1"


def resolved(preset: str) -> dict:
    return load_config(None, [f"algorithm={preset}"]).algorithm.model_dump(mode="json")


def flat(tree: dict, prefix: str = "") -> dict:
    """{'kl.coef': 1e-4, ...}: dotted keys, so a mismatch names the setting."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.fixture(scope="module", autouse=True)
def regenerate():
    """With RLVR_REGEN_GOLDEN=1: rewrite every golden and drop those of deleted presets."""
    if not REGEN:
        return
    for stale in set(p.stem for p in GOLDEN.glob("*.json")) - set(preset_names()):
        (GOLDEN / f"{stale}.json").unlink()
    for preset in preset_names():
        text = json.dumps(resolved(preset), indent=2, sort_keys=True) + "\n"
        (GOLDEN / f"{preset}.json").write_text(text)


def test_every_preset_has_a_golden_and_no_golden_is_orphaned():
    assert len(preset_names()) == 12
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == preset_names()


@pytest.mark.parametrize("preset", preset_names())
def test_preset_matches_its_golden(preset):
    got = resolved(preset)
    want = json.loads((GOLDEN / f"{preset}.json").read_text())
    got_flat, want_flat = flat(got), flat(want)
    diff = {k: (want_flat.get(k, "<missing>"), got_flat.get(k, "<missing>"))
            for k in sorted(set(got_flat) | set(want_flat)) if got_flat.get(k, "<missing>")
            != want_flat.get(k, "<missing>")}
    assert not diff, f"{preset}: setting -> (golden, now) {diff}; regenerate with RLVR_REGEN_GOLDEN=1"
