"""How ``algorithm.sft_mix`` splits the step's demonstrations over the RL minibatches (the
SFT backward itself is tested in tests/unit/fast/test_sft_packed.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rlvr.config import load_config
from rlvr.models.loader import Policy
from rlvr.trainer import sft_mix
from rlvr.types import Group, TaskRow

from tiny import tiny_tokenizer


def trainer(mix: str | None, minibatches: int):
    overrides = [f"algorithm.minibatches={minibatches}", "optim.micro_batch_size=3"]
    cfg = load_config(None, overrides + ([f"algorithm.sft_mix={mix}"] if mix else []))
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=None))
    return SimpleNamespace(cfg=cfg, policy=Policy(model, tiny_tokenizer(), None, None), dist=None)


def groups(references: list[str]) -> list[Group]:
    return [Group(TaskRow(f"r{i}", f"q{i}", ref), []) for i, ref in enumerate(references)]


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def backward(policy, demo, coef, micro_batch_size, dist):
        rows = None if demo is None else demo.num_sequences
        seen.append((rows, coef, micro_batch_size))
        return 0.25 * len(seen), 7

    monkeypatch.setattr(sft_mix, "sft_backward", backward)
    return seen


def test_off_is_none(calls):
    assert sft_mix.sft_mix_term(trainer(None, 2), groups(["1", "2"])) is None


def test_demonstrations_are_split_like_the_minibatches(calls):
    term = sft_mix.sft_mix_term(trainer("{coef: 0.3}", 2), groups(["1", "", "3", "4", "5"]))
    # 4 prompts with a reference (the blank one has none): parts of 2 and 2
    # ... and the blank one is counted, every minibatch reports the step's count
    assert [term(i) for i in range(2)] == [{"update/sft_loss": 0.25, "sft_mix/no_reference": 1.0},
                                           {"update/sft_loss": 0.5, "sft_mix/no_reference": 1.0}]
    assert calls == [(2, 0.3, 3), (2, 0.3, 3)]


def test_fewer_demonstrations_than_minibatches_leave_the_last_ones_empty(calls):
    term = sft_mix.sft_mix_term(trainer("{coef: 1.0}", 3), groups(["1", "2"]))
    for i in range(3):
        term(i)
    assert calls == [(1, 1.0, 3), (1, 1.0, 3), (None, 1.0, 3)]  # still called: a collective
