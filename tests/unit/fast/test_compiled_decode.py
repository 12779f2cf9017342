"""``rollout.engine.compile``: the torch.compile'd decode step against the eager one on a fixed
seed (tiny fp32 models; inductor compiles on the CPU, ~10-20 s per model)."""

from __future__ import annotations

import pytest
import torch

from rlvr.configs.base import ConfigError
from rlvr.models.fastpath import Decoder
from rlvr.rollout.decode import Sampler, compiled_decode_step, static_decode

from fast_models import tiny

PROMPTS = [[1, 40, 41, 42, 43, 44, 2], [1, 50, 51], [1, 60, 61, 62, 63]]


def decode(model, step=None, greedy=False, stop_ids=(3,)):
    sampler = Sampler(1.0, 1.0, greedy, list(stop_ids), seeds=[11, 12, 13], group_size=4)
    kwargs = {} if step is None else {"step": step}
    return static_decode(Decoder(model), PROMPTS, 4, 10, sampler, 0, torch.device("cpu"),
                         **kwargs)


@pytest.mark.parametrize("model_type", ["llama", "qwen3"])
def test_compiled_step_decodes_what_the_eager_step_decodes(model_type):
    torch.manual_seed(0)
    model = tiny(model_type)
    step = compiled_decode_step()
    for greedy in (True, False):  # rows stop at different steps: the batch shrinks (dynamic)
        eager, compiled = decode(model, greedy=greedy), decode(model, step, greedy=greedy)
        assert torch.equal(compiled.tokens_NT, eager.tokens_NT)
        torch.testing.assert_close(compiled.logprobs_NT, eager.logprobs_NT, atol=1e-4,
                                   rtol=1e-4)


def test_compile_needs_the_static_decoder():
    from rlvr.rollout.hf import HFEngine

    class Policy:  # just what the constructor reads before it refuses
        tokenizer = None
        model = tiny()

    with pytest.raises(ConfigError, match="compiles the static decoder's step"):
        HFEngine(Policy(), None, None, 8, decoder="generate", compile=True)


def test_compiled_step_over_the_onednn_copy_decodes_what_eager_does():
    """The oneDNN layers run under torch.compile as one opaque op each (rollout/onednn.py)."""
    from rlvr.rollout.onednn import OneDNNCopy, onednn_available

    if not onednn_available():
        pytest.skip("torch built without oneDNN")
    copy = OneDNNCopy(tiny("qwen2"))
    eager, compiled = decode(copy.model, greedy=False), decode(copy.model, compiled_decode_step())
    assert torch.equal(compiled.tokens_NT, eager.tokens_NT)
    torch.testing.assert_close(compiled.logprobs_NT, eager.logprobs_NT, atol=1e-4, rtol=1e-4)


def test_one_compilation_serves_every_step():
    """Every step-varying value reaches the compiled forward as a tensor: no recompilation per
    cache length (at most one more, when a size first coincides with another)."""
    import torch._dynamo

    torch._dynamo.reset()
    counts = []

    def backend(gm, example_inputs):
        counts.append(1)
        return gm.forward

    from rlvr.rollout import decode as decode_module
    import functools

    step = functools.partial(decode_module.decode_step, forward=torch.compile(
        decode_module.step_forward, dynamic=True, backend=backend))
    decode(tiny("llama"), step, greedy=True)
    assert 1 <= len(counts) <= 2, len(counts)
