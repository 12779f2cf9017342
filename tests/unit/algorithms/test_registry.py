"""Registries, presets and config validation; no variant name leaks into the trainer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rlvr
from rlvr.algorithms.advantages import ADVANTAGES
from rlvr.algorithms.aggregation import AGGREGATIONS
from rlvr.algorithms.kl import ESTIMATORS
from rlvr.algorithms.objectives import OBJECTIVES
from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.config_tree import preset_names

SRC = Path(rlvr.__file__).parent
DOCS = SRC.parents[1] / "docs" / "algorithms.md"
PRESETS = ["grpo", "dr_grpo", "dapo", "gspo", "cispo", "rloo", "reinforce_pp", "prorl", "nsr",
           "w_reinforce", "forking_tokens"]


def test_every_issue_preset_exists():
    assert set(PRESETS) <= set(preset_names())


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_resolves_on_the_quickstart(preset):
    cfg = load_config(SRC.parents[1] / "configs" / "quickstart.yaml", [f"algorithm={preset}"])
    assert cfg.algorithm.preset == preset


def test_no_variant_name_in_the_trainer():
    names = (set(ADVANTAGES) | set(OBJECTIVES) | set(AGGREGATIONS) | set(ESTIMATORS)
             | set(preset_names())) - {"raw"}
    pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
    for path in sorted((SRC / "trainer").glob("*.py")):
        hits = pattern.findall(path.read_text())
        assert not hits, f"{path.name} names variants {sorted(set(hits))}"


def test_docs_have_a_section_per_entry():
    text = DOCS.read_text()
    for name in (set(ADVANTAGES) | set(OBJECTIVES) | set(AGGREGATIONS) | set(preset_names())):
        assert f"`{name}`" in text, name


@pytest.mark.parametrize("overrides, message", [
    (["algorithm.objective.delta=1.1"], "delta=1.1 must exceed 1 + eps_high"),
    (["algorithm.advantage.name=grpoo"], "bad value for 'algorithm.advantage.name'"),
    (["algorithm.aggregation=mean"], "allowed values: token_mean, seq_mean_token_sum"),
    (["algorithm=dapo", "algorithm.advantage.name=reinforce_pp", "rollout.group_size=1"],
     "group_size >= 2"),
    (["algorithm.kl.estimator=k4"], "allowed values: k1, k2, k3"),
    (["algorithm.token_select.top=0"], "algorithm.token_select.top"),
])
def test_config_errors_are_one_line(overrides, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_non_group_advantage_allows_group_of_one():
    cfg = load_config(None, ["algorithm=reinforce_pp", "rollout.group_size=1"])
    assert not cfg.algorithm.group_relative
