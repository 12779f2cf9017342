"""Config parsing, overrides, presets and one-line validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlvr.config import dump_config, load_config, validate_config
from rlvr.configs.run import RunConfig
from rlvr.configs.base import ConfigError


def test_defaults_validate():
    cfg = load_config()
    assert cfg.rollout.group_size == 8
    assert cfg.algorithm.advantage.name == "grpo"


def test_yaml_and_dotted_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 5\noptim: {lr: 2.0e-5}\n")
    cfg = load_config(path, ["optim.lr=3e-5", "rollout.temperature=0.7", "task.params={min_terms: 2}"])
    assert cfg.steps == 5
    assert cfg.optim.lr == pytest.approx(3e-5)
    assert cfg.rollout.temperature == 0.7
    assert cfg.task.params == {"min_terms": 2}


def test_yaml_11_words_stay_strings_in_overrides():
    cfg = load_config(None, ["model.autocast=off", "log.progress=false"])
    assert cfg.model.autocast == "off" and cfg.log.progress is False


def test_partial_variant_override_keeps_defaults():
    cfg = load_config(None, ["algorithm.objective.eps_high=0.28"])
    assert cfg.algorithm.objective.name == "ppo_clip"
    assert cfg.algorithm.objective.eps_low == 0.2
    assert cfg.algorithm.objective.eps_high == 0.28


def test_task_by_name_then_params():
    cfg = load_config(None, ["task=basic_arithmetic", "task.params.min_terms=2"])
    assert cfg.task.kind == "reasoning_gym" and cfg.task.name == "basic_arithmetic"
    assert cfg.task.params == {"min_terms": 2}


def test_preset_expands_visibly():
    cfg = load_config(None, ["algorithm=grpo"])
    assert cfg.algorithm.preset == "grpo"
    assert cfg.algorithm.objective.name == "ppo_clip"


def test_round_trip_of_saved_config(tmp_path):
    cfg = load_config(None, ["steps=7", "optim.lr=4e-6"])
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


@pytest.mark.parametrize("overrides, expected", [
    (["optim.lrr=1"], "unknown config key 'optim.lrr' (did you mean 'lr'?)"),
    (["algorithm.objective.eps_hgh=0.3"], "unknown config key 'algorithm.objective.eps_hgh' "
                                          "(did you mean 'eps_high'?)"),
    (["optim.lr=abc"], "bad value for 'optim.lr': 'abc'"),
    (["model.dtype=fp16"], "bad value for 'model.dtype': 'fp16'; allowed values: float32, bfloat16"),
    (["rollout.group_size=1"], "group_size=1 but the advantage 'grpo' is group-relative"),
    (["task=chian_sum"], "unknown reasoning-gym task 'chian_sum' (did you mean 'chain_sum'?)"),
    (["task=missing.jsonl"], "file not found: missing.jsonl"),
    (["algorithm=grpoo"], "unknown preset 'grpoo' (did you mean 'grpo'?)"),
    (["steps"], "bad override 'steps': expected dotted.key=value"),
])
def test_bad_config_is_one_clear_line(overrides, expected):
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_seed_overlap_between_splits_is_refused():
    with pytest.raises(ConfigError, match="reuses generator seeds"):
        load_config(None, ["task.train_seed=999990"])


def test_config_is_frozen():
    cfg = validate_config({})
    with pytest.raises(Exception):
        cfg.steps = 3  # type: ignore[misc]
    assert isinstance(cfg, RunConfig)


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[2].glob("configs/*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    assert load_config(path).steps >= 1


@pytest.mark.parametrize("name", sorted(p.name for p in (
    Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")))
def test_every_shipped_config_loads(name):
    load_config(Path(__file__).resolve().parents[2] / "configs" / name)


def test_the_tool_warm_start_fills_its_call_from_a_products_row():
    from rlvr.data.tasks import build_task
    from rlvr.trainer.demos import fill_turn

    root = Path(__file__).resolve().parents[2] / "configs"
    cfg = load_config(root / "tool_calculator_sft.yaml", ["task.train_size=2", "task.eval_size=1"])
    row = build_task(cfg.task).train_rows()[0]
    fields = {**row.metadata, "reference": row.reference}
    call, answer = (fill_turn(t, fields, row.row_id) for t in cfg.sft.turns)
    expression = call.split('"expression": "')[1].split('"')[0]
    a, b = (int(x) for x in expression.split(" * "))
    assert f"{a} * {b}" in row.prompt and answer == row.reference == str(a * b)
