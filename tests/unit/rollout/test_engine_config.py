"""``rollout.engine`` is a union chosen by ``name`` whose members hold their knobs; the old
``rollout.decoder`` / ``rollout.batch_size`` keys (overrides and YAML) still work; an engine and
a weight sync that cannot work together, or a capability the engine lacks, fail in one line."""

from __future__ import annotations

import pytest

from rlvr.config import dump_config, load_config
from rlvr.configs.base import ConfigError
from rlvr.configs.engine import HFEngineConfig, HFProcessEngineConfig


def test_default_is_hf_inprocess_with_its_knobs():
    rollout = load_config(None, []).rollout
    assert rollout.engine == HFEngineConfig(name="hf", decoder="auto", batch_size=64)
    assert rollout.sync.name == "inprocess"


def test_legacy_overrides_map_under_the_engine():
    rollout = load_config(None, ["rollout.decoder=static", "rollout.batch_size=8"]).rollout
    assert (rollout.engine.name, rollout.engine.decoder, rollout.engine.batch_size) == (
        "hf", "static", 8)
    assert "decoder" not in rollout.model_dump() and "batch_size" not in rollout.model_dump()


def test_legacy_yaml_keys_map_under_the_engine(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("rollout:\n  engine: hf\n  decoder: generate\n  batch_size: 16\n")
    engine = load_config(path).rollout.engine
    assert (engine.name, engine.decoder, engine.batch_size) == ("hf", "generate", 16)


def test_new_spelling_and_a_bare_name_then_its_knobs():
    cfg = load_config(None, ["rollout.engine=hf_process", "rollout.engine.batch_size=4",
                             "rollout.sync.name=broadcast", "rollout.sync.bucket_mb=1"])
    assert isinstance(cfg.rollout.engine, HFProcessEngineConfig)
    assert cfg.rollout.engine.batch_size == 4 and cfg.rollout.sync.bucket_mb == 1
    # the written config.yaml of a run loads back to the same config
    import yaml
    assert load_config(None, []).model_validate(yaml.safe_load(dump_config(cfg))) == cfg


def test_engine_and_sync_that_cannot_work_fail_in_one_line():
    with pytest.raises(ConfigError) as err:
        load_config(None, ["rollout.engine=hf_process"])  # the default sync is inprocess
    message = str(err.value)
    assert "\n" not in message
    assert "rollout.engine.name=hf_process" in message and "rollout.sync.name=inprocess" in message
    with pytest.raises(ConfigError, match="rollout.engine.name=hf cannot work with "
                                          "rollout.sync.name=filesystem"):
        load_config(None, ["rollout.sync.name=filesystem"])


def test_unknown_engine_lists_the_registered_ones():
    with pytest.raises(ConfigError, match="'rollout.engine.name': 'vllm'.*hf, hf_process"):
        load_config(None, ["rollout.engine=vllm"])


def test_unknown_knob_names_the_engine_section():
    with pytest.raises(ConfigError, match="unknown config key 'rollout.engine.decodr'"):
        load_config(None, ["rollout.engine.decodr=static"])


def test_self_certainty_with_an_engine_without_logits_fails_naming_both(monkeypatch):
    """The check runs before any model loads (trainer setup and `rlvr eval` call it first)."""
    from rlvr.rollout import engine as engines
    from rlvr.rollout.process import ProcessEngine

    class NoLogits(ProcessEngine):
        capabilities = frozenset()

    monkeypatch.setitem(engines.ENGINES, "hf_process", NoLogits)
    cfg = load_config(None, ["rollout.engine=hf_process", "rollout.sync.name=filesystem",
                             "reward.terms=[{name: self_certainty}]"])
    with pytest.raises(ValueError) as err:
        engines.build_engine(cfg, policy=None)
    message = str(err.value)
    assert "\n" not in message
    assert "reward term 'self_certainty'" in message and "rollout.engine.name=hf_process" in message
    assert "'logits'" in message
    engines.check_engine(load_config(None, ["reward.terms=[{name: self_certainty}]"]))  # hf: ok


def test_setup_refuses_the_engine_before_any_model_loads(monkeypatch, tmp_path):
    from rlvr.rollout import engine as engines
    from rlvr.rollout.process import ProcessEngine
    from rlvr.trainer.trainer import setup

    class NoLogits(ProcessEngine):
        capabilities = frozenset()

    monkeypatch.setitem(engines.ENGINES, "hf_process", NoLogits)
    cfg = load_config(None, [f"model.name={tmp_path / 'no-such-model'}", "rollout.engine=hf_process",
                             "rollout.sync.name=filesystem", "reward.terms=[{name: self_certainty}]",
                             f"log.run_dir={tmp_path / 'run'}", "log.tensorboard=false"])
    with pytest.raises(ValueError, match="needs an engine with capability 'logits'"):
        setup(cfg)  # not a missing-model error: the model was never looked for
