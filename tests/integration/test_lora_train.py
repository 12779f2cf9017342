"""`rlvr train` with LoRA (``model.lora``) on a tiny random model: only the adapters move, a resume
is bit-identical, and ``final/`` is a plain Hugging Face model with the adapters merged in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from faults_support import assert_identical, metrics, tensors, train_args, write_task

pytest.importorskip("peft")

# A KL term makes the loop use the adapter-off reference (the base model) every step.
LORA = ["model.lora={r: 4, alpha: 8}", "algorithm.kl.coef=0.05"]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("lora-data") / "sums.jsonl")


def _train(args: list[str], resume: bool = False) -> dict:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    return train(load_config(None, args), resume=resume)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model_dir, task_file) -> Path:
    run_dir = tmp_path_factory.mktemp("lora-ref") / "run"
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=4, every=2) + LORA)
    return run_dir


def _restored(tiny_model_dir, checkpoint: Path):
    """The LoRA policy of the run with the checkpoint's weights, and a plain copy of the base."""
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy, with_lora
    from rlvr.models.saved import load_weights

    cfg = ModelConfig(name=str(tiny_model_dir), device="cpu", autocast="off",
                      lora={"r": 4, "alpha": 8})
    policy = with_lora(load_policy(cfg), cfg.lora)
    load_weights(policy.model, checkpoint)
    return policy.model, load_policy(cfg).model


def _plain_name(peft_name: str) -> str:
    return peft_name.removeprefix("base_model.model.").replace(".base_layer", "")


def test_three_lora_steps_move_only_the_adapters_and_final_is_merged(tiny_model_dir, task_file,
                                                                     tmp_path):
    from rlvr import cli
    from rlvr.models.lora import merged_copy

    run_dir = tmp_path / "run"
    args = train_args(tiny_model_dir, task_file, run_dir, steps=3, every=0)
    assert cli.main(["train", *args, *LORA]) == 0
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1, 2]
    assert lines[0]["update/kl"] == pytest.approx(0, abs=1e-6)  # adapters start as the identity
    assert lines[-1]["update/kl"] > 0  # ... and the adapted policy moved away from the base

    model, base = _restored(tiny_model_dir, run_dir / "ckpt" / "step_00000003")
    plain = dict(base.named_parameters())
    adapters = 0
    for name, param in model.named_parameters():
        if "lora_" in name:
            adapters += 1
            assert param.requires_grad
            if "lora_B" in name:  # B starts at zero
                assert param.abs().max() > 0, name
        else:
            assert torch.equal(param, plain[_plain_name(name)]), f"base weight {name} changed"
    assert adapters == 2 * 7 * 2

    from transformers import AutoModelForCausalLM

    final = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    assert type(final).__name__ == "LlamaForCausalLM"
    expected = merged_copy(model).state_dict()
    for name, value in final.state_dict().items():
        assert torch.allclose(value, expected[name], atol=1e-6), name
    assert torch.equal(final.model.embed_tokens.weight, base.model.embed_tokens.weight)
    assert not torch.equal(final.model.layers[0].self_attn.q_proj.weight,
                           base.model.layers[0].self_attn.q_proj.weight)
    assert not (run_dir / "final" / "adapter_config.json").exists()
    # `rlvr eval` with the run's own config (model.lora set) loads final/ as the plain model it is.
    out = tmp_path / "eval.json"
    assert cli.main(["eval", "--config", str(run_dir / "config.yaml"), "--model",
                     str(run_dir / "final"), "--n", "2", "--quiet", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["model"] == str(run_dir / "final")


def test_lora_resume_is_bit_identical(tiny_model_dir, task_file, uninterrupted, tmp_path):
    run_dir = tmp_path / "run"
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=2, every=2) + LORA)
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=4, every=2) + LORA, resume=True)
    for name in ("adapter", "optimizer", "trainer"):
        assert_identical(tensors(run_dir, 4, name), tensors(uninterrupted, 4, name))
    assert not (run_dir / "ckpt" / "step_00000004" / "model.safetensors").exists()
    assert metrics(run_dir) == metrics(uninterrupted)
    optimizer = tensors(run_dir, 4, "optimizer")
    assert len([k for k in optimizer if k.endswith(".exp_avg")]) == 2 * 7 * 2  # adapters only


def test_lora_with_a_prorl_reset_resumes_bit_identical_with_adapter_only_state(
        tiny_model_dir, task_file, tmp_path):
    """A ProRL reset keeps a copy of the adapted policy as the KL reference; the checkpoint
    holds only that copy's adapters (its base is the policy's frozen base)."""
    reset = LORA + ["algorithm.kl.reset_every=2"]  # a reset at step index 2
    reference, run_dir = tmp_path / "ref", tmp_path / "run"
    _train(train_args(tiny_model_dir, task_file, reference, steps=4, every=0) + reset)
    # the checkpoint after 3 steps holds the reset reference; step 3 uses it after the resume
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=3, every=3) + reset)
    state = tensors(run_dir, 3, "trainer")
    assert len([k for k in state if "lora_" in k]) == 2 * 7 * 2  # the reference's adapters ...
    assert not any("embed_tokens" in k for k in state)  # ... alone
    _train(train_args(tiny_model_dir, task_file, run_dir, steps=4, every=3) + reset, resume=True)
    for name in ("adapter", "optimizer", "trainer"):
        assert_identical(tensors(run_dir, 4, name), tensors(reference, 4, name))
    assert metrics(run_dir) == metrics(reference)
