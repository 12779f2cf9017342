"""LoRA on the policy: the config node, wrapping, causal_lm, the adapter-off reference, merging."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
import torch

from rlvr.config import dump_config, load_config
from rlvr.configs.run import LORA_TARGETS, ModelConfig
from rlvr.configs.base import ConfigError

pytest.importorskip("peft")


def test_lora_is_off_by_default_and_dotted_keys_enable_it():
    assert load_config().model.lora is None
    lora = load_config(None, ["model.lora.r=8"]).model.lora
    assert (lora.r, lora.alpha, lora.dropout) == (8, 32, 0.0)
    assert lora.target_modules == list(LORA_TARGETS)
    assert load_config(None, ["model.lora={}"]).model.lora.r == 16
    assert load_config(None, ["model.lora.r=8", "model.lora=null"]).model.lora is None


def test_lora_config_round_trips(tmp_path):
    cfg = load_config(None, ["model.lora={r: 4, alpha: 8, dropout: 0.1}",
                             "model.lora.target_modules=[q_proj, v_proj]"])
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


@pytest.mark.parametrize("overrides, expected", [
    (["model.lora.r=0"], "bad value for 'model.lora.r': 0"),
    (["model.lora.rank=4"], "unknown config key 'model.lora.rank'"),
    (["model.lora.alpha=0"], "bad value for 'model.lora.alpha': 0"),
    (["model.lora.dropout=1"], "bad value for 'model.lora.dropout': 1"),
    (["model.lora.target_modules=[]"], "bad value for 'model.lora.target_modules': []"),
    (["model.lora.target_modules=[q_proj, q_proj]"], "must be non-empty and distinct"),
])
def test_bad_lora_config_is_one_line(overrides, expected):
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert expected in str(info.value) and "\n" not in str(info.value)


def _model_cfg(tiny_model_dir) -> ModelConfig:
    return ModelConfig(name=str(tiny_model_dir), device="cpu", autocast="off",
                       lora={"r": 4, "alpha": 8})


def _load(tiny_model_dir, lora: bool = True):
    """The training policy (LoRA) or the plain model, as ``trainer.loop.setup`` loads them."""
    from rlvr.models.loader import load_policy, with_lora

    cfg = _model_cfg(tiny_model_dir)
    return with_lora(load_policy(cfg), cfg.lora if lora else None)


@pytest.fixture
def lora_policy(tiny_model_dir):
    policy = _load(tiny_model_dir)
    with torch.no_grad():  # make the adapters do something (B starts at zero)
        for name, param in policy.model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5, generator=torch.Generator().manual_seed(len(name)))
    return policy


def _ids():
    return torch.tensor([[5, 17, 30, 42, 8, 9], [7, 7, 21, 60, 3, 11]])


def test_only_adapters_train_and_the_optimizer_holds_only_them(tiny_model_dir):
    from rlvr.trainer.update import build_optimizer

    plain, policy = _load(tiny_model_dir, lora=False), _load(tiny_model_dir)
    trainable = {n for n, p in policy.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_A" in n or "lora_B" in n for n in trainable)
    assert len(trainable) == 2 * 7 * 2  # A and B x 7 projections x 2 layers
    optimizer, _ = build_optimizer(policy.model, SimpleNamespace(
        lr=1e-3, betas=(0.9, 0.99), weight_decay=0.0, warmup_steps=0))
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in policy.model.parameters() if p.requires_grad}
    with torch.no_grad():  # fresh adapters (B = 0) leave the function unchanged
        assert torch.equal(policy.model(input_ids=_ids()).logits,
                           plain.model(input_ids=_ids()).logits)


def test_causal_lm_unwraps_peft_and_its_submodules_apply_lora(tiny_model_dir, lora_policy):
    from transformers import LlamaForCausalLM

    from rlvr.models.loader import causal_lm

    plain = _load(tiny_model_dir, lora=False).model
    assert causal_lm(plain) is plain
    inner = causal_lm(lora_policy.model)
    assert type(inner) is LlamaForCausalLM and inner is lora_policy.model.get_base_model()
    with torch.no_grad():
        wrapped = lora_policy.model(input_ids=_ids()).logits
        assert torch.equal(inner(input_ids=_ids()).logits, wrapped)
        assert not torch.allclose(wrapped, plain(input_ids=_ids()).logits)
        x = torch.randn(3, inner.config.hidden_size)
        q_proj = inner.model.layers[0].self_attn.q_proj  # what a fast path calls
        base_q = plain.model.layers[0].self_attn.q_proj
        assert not torch.allclose(q_proj(x), base_q(x))
        with lora_policy.model.disable_adapter():
            assert torch.equal(q_proj(x), base_q(x))


def test_missing_peft_is_a_one_line_install_hint(tiny_model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` raises ImportError
    with pytest.raises(ConfigError, match=r"^model.lora needs peft.*pip install 'rlvr\[lora\]'$"):
        _load(tiny_model_dir)


def _kl_algo(reset_every=None):
    return SimpleNamespace(needs_reference=True,
                           kl=SimpleNamespace(reset_every=reset_every, reset_optimizer=False))


def test_reference_is_the_base_model_with_adapters_off(tiny_model_dir, lora_policy):
    from rlvr.trainer.reference import AdapterOffReference, ReferencePolicy, build_reference
    from rlvr.types import TrainBatch

    ref = build_reference(lora_policy, _kl_algo())
    assert isinstance(ref, AdapterOffReference) and not hasattr(ref, "model")  # no weight copy
    ids_NL, T = _ids(), 3
    mask_NL = torch.ones_like(ids_NL)
    batch = TrainBatch(ids_NL, mask_NL, mask_NL[:, -T:].float(), torch.zeros(2),
                       torch.zeros(2, T), torch.zeros(2, dtype=torch.bool))
    lora_policy.model.train()
    ref_NT = ref.logprobs(batch, micro_batch_size=1, temperature=1.0)
    assert lora_policy.model.training  # the mode is put back
    base = _load(tiny_model_dir, lora=False)
    expected_NT = ReferencePolicy(base, None, False).logprobs(batch, 2, 1.0)
    assert torch.allclose(ref_NT, expected_NT, atol=1e-6)
    adapted_NT = ReferencePolicy(lora_policy, None, False).logprobs(batch, 2, 1.0)
    assert not torch.allclose(ref_NT, adapted_NT, atol=1e-3)
    assert not ref.maybe_reset(5, None)
    # A ProRL reset needs a snapshot of the adapted policy: a copy, as without LoRA.
    assert isinstance(build_reference(lora_policy, _kl_algo(reset_every=2)), ReferencePolicy)


def test_merged_copy_is_plain_and_leaves_the_adapters_in_place(lora_policy):
    from peft.tuners.lora import LoraLayer
    from transformers import LlamaForCausalLM

    from rlvr.models.lora import merged_copy

    before = {k: v.clone() for k, v in lora_policy.model.state_dict().items()}
    merged = merged_copy(lora_policy.model)
    assert type(merged) is LlamaForCausalLM
    assert not any(isinstance(m, LoraLayer) for m in merged.modules())
    assert not any("lora" in k or "base_layer" in k for k in merged.state_dict())
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=_ids()).logits,
                              lora_policy.model(input_ids=_ids()).logits, atol=1e-5)
    after = lora_policy.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(getattr(m, "merged", False) for m in lora_policy.model.modules())
