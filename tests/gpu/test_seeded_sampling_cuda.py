"""Per-prompt seeds on CUDA: a prompt's samples do not depend on its batch (the CPU test is
tests/unit/fast/test_seeded_sampling.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "fast"))  # fast_models

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_static_decoder_seeds_on_cuda_make_a_prompt_independent_of_its_batch():
    from rlvr.models.fastpath import Decoder
    from rlvr.rollout.decode import Sampler, static_decode
    from fast_models import tiny

    model = tiny().to("cuda")
    a, b = [1, 40, 41, 42, 43, 44, 2], [1, 50, 51]

    def decode(prompts, seeds):
        sampler = Sampler(1.0, 0.95, False, [3], seeds=seeds, group_size=4)
        return static_decode(Decoder(model), prompts, 4, 10, sampler, 0, torch.device("cuda"))

    both, alone = decode([a, b], [11, 22]), decode([b], [22])
    assert torch.equal(both.tokens_NT[4:], alone.tokens_NT)
