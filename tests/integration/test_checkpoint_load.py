"""Checkpoints as models: `rlvr eval --model RUN_DIR/ckpt/step_N` (and RUN_DIR for the newest)
loads the trained weights; a LoRA checkpoint holds only the adapters and its base's fingerprint,
and refuses another base with BaseModelMismatch (exit status 5), in eval and on resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from faults_support import tensors, train_args, write_task
from tiny import make_tiny_model_dir

LORA = ["model.lora={r: 4, alpha: 8}"]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("ckpt-data") / "sums.jsonl")


def _train(args: list[str]) -> None:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    train(load_config(None, args))


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_model_dir, task_file) -> Path:
    run_dir = tmp_path_factory.mktemp("ckpt-full") / "run"
    # seed 4: both steps have reward signal under per-prompt sampling seeds (with seed 3 the
    # first step's 4 samples all score 0, so step 1 leaves the weights as they were)
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=2, every=1) + ["seed=4"])
    return run_dir


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_model_dir, task_file) -> Path:
    base = tmp_path_factory.mktemp("ckpt-base") / "base"
    shutil.copytree(tiny_model_dir, base)  # the mismatch test replaces it
    run_dir = tmp_path_factory.mktemp("ckpt-lora") / "run"
    _train(train_args(base, task_file, run_dir, steps=2, every=0) + LORA)
    return run_dir


def _policy_weights(source: Path, base: str | None = None) -> dict[str, torch.Tensor]:
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy

    cfg = ModelConfig(name=str(source), device="cpu", autocast="off")
    return load_policy(cfg, base=base).model.state_dict()


def _final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(run_dir / "final").state_dict()


def _size(directory: Path, stems: tuple[str, ...] | None = None) -> int:
    """Bytes of the checkpoint's files (only the ``<stem>.safetensors`` ones if ``stems``)."""
    paths = [directory / f"{s}.safetensors" for s in stems] if stems else directory.iterdir()
    return sum(p.stat().st_size for p in paths)


def test_a_full_checkpoint_loads_with_the_trained_weights(full_run, tiny_model_dir):
    step1 = _policy_weights(full_run / "ckpt" / "step_00000001")
    saved = tensors(full_run, 1, "model")
    assert all(torch.equal(step1[k], saved[k]) for k in saved)
    newest = _policy_weights(full_run)  # RUN_DIR: its newest checkpoint, step 2
    final = _final_weights(full_run)  # written from the trainer's memory after the last step
    assert newest.keys() == final.keys()
    assert all(torch.equal(newest[k], final[k]) for k in final)
    base = _policy_weights(tiny_model_dir)
    key = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(newest[key], step1[key]) and not torch.equal(step1[key], base[key])
    assert _policy_weights(full_run / "ckpt").keys() == final.keys()


def test_rlvr_eval_runs_on_a_checkpoint(full_run, tmp_path):
    from rlvr import cli

    out = tmp_path / "eval.json"
    model = full_run / "ckpt" / "step_00000002"
    assert cli.main(["eval", "--config", str(full_run / "config.yaml"), "--model", str(model),
                     "--n", "2", "--quiet", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["model"] == str(model) and result["status"] == "complete"


def test_an_incomplete_checkpoint_is_refused(full_run, tmp_path):
    from rlvr.models.from_checkpoint import find_checkpoint

    broken = tmp_path / "step_00000001"
    shutil.copytree(full_run / "ckpt" / "step_00000001", broken)
    (broken / "MANIFEST.json").unlink()
    with pytest.raises(ValueError, match="not a complete checkpoint: no MANIFEST.json"):
        find_checkpoint(str(broken))
    assert find_checkpoint(str(full_run / "final")) is None  # a plain model directory


def test_a_lora_checkpoint_holds_the_adapters_and_the_base_fingerprint(lora_run, full_run):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.models.saved import base_fingerprint

    checkpoint = lora_run / "ckpt" / "step_00000002"
    assert not (checkpoint / "model.safetensors").exists()
    adapter = tensors(lora_run, 2, "adapter")
    assert len(adapter) == 2 * 7 * 2 and all("lora_" in k for k in adapter)
    meta = json.loads((checkpoint / "weights.json").read_text())
    base_dir = meta["base"]["name"]
    assert meta["kind"] == "lora" and meta["lora"]["r"] == 4 and meta["dtype"] == "float32"
    plain = load_policy(ModelConfig(name=base_dir, device="cpu", autocast="off")).model
    assert meta["base"]["sha256"] == base_fingerprint(plain)
    # adapters and their optimizer state only: far smaller than a full-model checkpoint (the
    # tiny model's r=4 adapters on hidden size 32 are a quarter of its projections; a real model
    # with r=16 on hidden 4096 has ~1/128)
    full = full_run / "ckpt" / "step_00000002"
    lora_bytes = _size(checkpoint, ("adapter", "optimizer"))
    assert lora_bytes * 4 < _size(full, ("model", "optimizer"))
    assert _size(checkpoint) < _size(full) / 3

    merged = _policy_weights(lora_run)  # the newest checkpoint, adapters merged in
    final = _final_weights(lora_run)
    assert merged.keys() == final.keys()
    for name, value in final.items():
        assert torch.allclose(merged[name], value, atol=1e-6), name


def test_a_lora_checkpoint_refuses_another_base(lora_run, tmp_path, capsys):
    from rlvr import cli
    from rlvr.models.errors import EXIT_BASE_MISMATCH, BaseModelMismatch

    other = make_tiny_model_dir(tmp_path / "other", seed=1)
    checkpoint = lora_run / "ckpt" / "step_00000002"
    with pytest.raises(BaseModelMismatch, match="trained on base model"):
        _policy_weights(checkpoint, base=str(other))
    code = cli.main(["eval", "--model", str(checkpoint), "--base", str(other), "--task",
                     "chain_sum", "--n", "1", "--prompts", "1", "--quiet", "--out",
                     str(tmp_path / "e.json")])
    assert code == EXIT_BASE_MISMATCH == 5
    assert "load it onto the base it was trained on" in capsys.readouterr().err

    # the base directory the run was trained on now holds other weights: the resume refuses
    base_dir = Path(json.loads((checkpoint / "weights.json").read_text())["base"]["name"])
    shutil.rmtree(base_dir)
    shutil.copytree(other, base_dir)
    assert cli.main(["train", "--resume", str(lora_run), "steps=3"]) == EXIT_BASE_MISMATCH
    assert "trained on base model" in capsys.readouterr().err
