"""rlvr's static-cache decode loop against transformers ``generate`` on tiny fp32 models."""

from __future__ import annotations

import pytest
import torch

from rlvr.models.fastpath import Decoder, fast_path_blocker
from rlvr.rollout.decode import Sampler, draw, left_pad, static_decode, top_p_filter
from rlvr.rollout.hf import pick_decoder, sampled_logprobs

from fast_models import tiny

PROMPTS = [[1, 40, 41, 42, 43, 44, 2], [1, 50, 51], [1, 60, 61, 62, 63]]


def hf_greedy(model, prompts, group_size, max_new, stop_ids):
    rows = [p for p in prompts for _ in range(group_size)]  # greedy generate has no groups
    ids_BP, mask_BP = left_pad(rows, 0)
    out = model.generate(input_ids=ids_BP, attention_mask=mask_BP.long(), max_new_tokens=max_new,
                         do_sample=False, eos_token_id=stop_ids,
                         pad_token_id=0, output_scores=True, return_dict_in_generate=True)
    new_NT = out.sequences[:, ids_BP.shape[1]:]
    return new_NT, sampled_logprobs(out.scores, new_NT)


def fast_greedy(model, prompts, group_size, max_new, stop_ids):
    sampler = Sampler(temperature=1.0, top_p=1.0, greedy=True, stop_ids=stop_ids)
    return static_decode(Decoder(model), prompts, group_size, max_new, sampler, 0,
                         torch.device("cpu"))


def until_stop(tokens, stop_ids):
    out = []
    for t in tokens:
        out.append(t)
        if t in stop_ids:
            break
    return out


@pytest.mark.parametrize("model_type", ["llama", "qwen2", "qwen3"])
def test_greedy_tokens_and_logprobs_equal_generate(model_type):
    model = tiny(model_type)
    hf_NT, hf_logp_NT = hf_greedy(model, PROMPTS, 2, 12, [3])
    fast = fast_greedy(model, PROMPTS, 2, 12, [3])
    for n in range(hf_NT.shape[0]):
        ref = until_stop(hf_NT[n].tolist(), [3])
        assert until_stop(fast.tokens_NT[n].tolist(), [3]) == ref
        torch.testing.assert_close(fast.logprobs_NT[n, :len(ref)], hf_logp_NT[n, :len(ref)],
                                   atol=1e-5, rtol=1e-5)


def test_rows_that_stop_early_are_dropped_without_changing_the_others():
    model = tiny(sharpen=3.0)
    free_NT, _ = hf_greedy(model, PROMPTS, 1, 10, [3])
    row = free_NT[0].tolist()
    t = next(t for t in range(1, len(row)) if row[t] not in row[:t])
    stop = row[t]  # the first row stops after t+1 tokens; the others go on or stop elsewhere
    hf_NT, hf_logp_NT = hf_greedy(model, PROMPTS, 1, 10, [stop])
    fast = fast_greedy(model, PROMPTS, 1, 10, [stop])
    assert until_stop(fast.tokens_NT[0].tolist(), [stop]) == row[:t + 1]
    assert any(stop not in hf_NT[n].tolist() for n in range(1, len(PROMPTS)))  # one row goes on
    for n in range(len(PROMPTS)):
        ref = until_stop(hf_NT[n].tolist(), [stop])
        assert until_stop(fast.tokens_NT[n].tolist(), [stop]) == ref
        assert (fast.tokens_NT[n, len(ref):] == 0).all()  # pad after the stop token
        torch.testing.assert_close(fast.logprobs_NT[n, :len(ref)], hf_logp_NT[n, :len(ref)],
                                   atol=1e-5, rtol=1e-5)


def test_top_p_filter_matches_transformers_warper():
    from transformers.generation.logits_process import TopPLogitsWarper

    torch.manual_seed(1)
    logits_BV = torch.randn(6, 50) * 3
    for top_p in (0.3, 0.9, 0.999):
        expected = TopPLogitsWarper(top_p)(None, logits_BV.clone())
        assert torch.equal(top_p_filter(logits_BV, top_p), expected)


def test_draw_follows_the_probabilities_and_never_picks_zero_mass():
    torch.manual_seed(2)
    probs_BV = torch.tensor([[0.1, 0.2, 0.0, 0.7]]).expand(40_000, 4)
    counts = torch.bincount(draw(probs_BV), minlength=4).float() / 40_000
    assert counts[2] == 0
    torch.testing.assert_close(counts, torch.tensor([0.1, 0.2, 0.0, 0.7]), atol=0.01, rtol=0)


def test_sampled_logprob_is_that_of_the_tempered_distribution():
    torch.manual_seed(3)
    logits_BV = torch.randn(5, 30)
    sampler = Sampler(temperature=0.7, top_p=1.0, greedy=False, stop_ids=[3])
    token_B, logp_B = sampler(logits_BV)
    expected = torch.log_softmax(logits_BV / 0.7, -1).gather(1, token_B[:, None]).squeeze(1)
    torch.testing.assert_close(logp_B, expected)


def test_sampling_is_reproducible_on_a_fixed_seed():
    model = tiny()
    sampler = Sampler(temperature=1.0, top_p=0.95, greedy=False, stop_ids=[3])
    runs = []
    for _ in range(2):
        torch.manual_seed(7)
        runs.append(static_decode(Decoder(model), PROMPTS, 4, 8, sampler, 0, torch.device("cpu")))
    assert torch.equal(runs[0].tokens_NT, runs[1].tokens_NT)
    assert torch.equal(runs[0].logprobs_NT, runs[1].logprobs_NT)


def test_unsupported_models_fall_back_to_generate():
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model("gpt2", vocab_size=50, n_embd=16, n_layer=1, n_head=2)
    model = AutoModelForCausalLM.from_config(config)
    assert "gpt2" in fast_path_blocker(model)
    assert pick_decoder("auto", model) == "generate"
    with pytest.raises(ValueError, match="rollout.decoder=static"):
        pick_decoder("static", model)
    assert pick_decoder("auto", tiny()) == "static"


def test_lora_model_decodes_like_generate():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny(sharpen=1.0), LoraConfig(r=4, lora_alpha=8,
                                                         target_modules=["q_proj", "down_proj"]))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    hf_NT, hf_logp_NT = hf_greedy(model, PROMPTS, 1, 8, [3])
    fast = fast_greedy(model, PROMPTS, 1, 8, [3])
    for n in range(len(PROMPTS)):
        ref = until_stop(hf_NT[n].tolist(), [3])
        assert until_stop(fast.tokens_NT[n].tolist(), [3]) == ref
        torch.testing.assert_close(fast.logprobs_NT[n, :len(ref)], hf_logp_NT[n, :len(ref)],
                                   atol=1e-5, rtol=1e-5)


def test_engine_gives_the_same_greedy_samples_with_either_decoder(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams
    from rlvr.rollout.hf import HFEngine
    from rlvr.types import TaskRow

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))
    rows = [TaskRow("a", "12 + 30 = ?", "42"), TaskRow("b", "7 + 5?", "12")]
    samples = {}
    for decoder in ("generate", "static"):
        engine = HFEngine(policy, None, "Answer.", batch_size=4, decoder=decoder)
        engine.record_self_certainty = True
        groups = engine.generate(rows, 1, SamplingParams(max_new_tokens=6, greedy=True))
        samples[decoder] = [(s.completion_ids, s.finish_reason, s.text)
                            for g in groups for s in g.samples]
        samples[decoder + "/certainty"] = torch.tensor([s.self_certainty
                                                         for g in groups for s in g.samples])
        logprobs = [s.sampler_logprobs for g in groups for s in g.samples]
        samples[decoder + "/logp"] = torch.tensor([x for lp in logprobs for x in lp])
    assert samples["generate"] == samples["static"]
    for key in ("logp", "certainty"):
        torch.testing.assert_close(samples[f"static/{key}"], samples[f"generate/{key}"],
                                   atol=1e-5, rtol=1e-5)
