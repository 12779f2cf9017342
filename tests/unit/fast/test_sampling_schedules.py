"""Temperature schedules (constant, several per group, EAD along the sequence): the sampler's
logprobs are exactly those of the distribution it drew from, and the trainer scores every token
at the same temperature (docs/data.md "Sampling schedules")."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.configs.sampling import EADScheduleConfig
from rlvr.models.fastpath import Decoder
from rlvr.models.logprobs import completion_logprobs, padded_logprobs
from rlvr.rollout.decode import Sampler, static_decode, top_p_filter
from rlvr.rollout.temperatures import ead_temperatures, rollout_params
from rlvr.trainer.batch import pad_groups
from rlvr.types import Group, Sample, TaskRow

from fast_models import tiny

A, B = [1, 40, 41, 42, 43, 44, 2], [1, 50, 51]
G, MAX_NEW, STOP = 3, 8, 3
EAD = EADScheduleConfig(start=1.6, end=0.6, decay=3.0)


def test_ead_temperatures_by_hand():
    temps = ead_temperatures(EADScheduleConfig(start=1.2, end=0.8, decay=2.0), 5)
    # 0.8 + 0.4 * exp(-t / 2): t=0 1.2, t=1 0.8+0.4*0.606531 = 1.042612, t=2 0.8+0.4*0.367879
    # = 0.947152, t=3 0.8+0.4*0.223130 = 0.889252, t=4 0.8+0.4*0.135335 = 0.854134
    expected = [1.2, 1.042612, 0.947152, 0.889252, 0.854134]
    assert temps == pytest.approx(expected, abs=1e-6)
    params = rollout_params(5, 1.0, 1.0, None, 4, EADScheduleConfig(start=1.2, end=0.8, decay=2.0))
    assert params.position_temperatures == temps and params.temperatures is None


def test_oversampled_temperatures_repeat_the_groups_split():
    params = rollout_params(4, 1.0, 1.0, [0.6, 1.2], 3, copies=2)
    assert params.temperatures == (0.6, 0.6, 1.2, 0.6, 0.6, 1.2)


def _temps_NT(schedule: str) -> torch.Tensor:
    """The temperature of each output row and completion position [2*G, MAX_NEW]."""
    if schedule == "constant":
        return torch.full((2 * G, MAX_NEW), 0.7)
    if schedule == "multi":
        return torch.tensor([0.5, 1.0, 1.7]).repeat(2)[:, None].expand(2 * G, MAX_NEW)
    return torch.tensor(ead_temperatures(EAD, MAX_NEW))[None].expand(2 * G, MAX_NEW)


def _decode(model, schedule: str, top_p: float):
    rows = torch.tensor([0.5, 1.0, 1.7]).repeat(2) if schedule == "multi" else None
    positions = torch.tensor(ead_temperatures(EAD, MAX_NEW)) if schedule == "ead" else None
    sampler = Sampler(temperature=0.7, top_p=top_p, greedy=False, stop_ids=[STOP],
                      seeds=[11, 22], group_size=G, row_temperatures=rows,
                      position_temperatures=positions)
    return static_decode(Decoder(model), [A, B], G, MAX_NEW, sampler, 0, torch.device("cpu"))


def _length(ids: list[int]) -> int:
    return next((i + 1 for i, t in enumerate(ids) if t == STOP), len(ids))


@pytest.mark.parametrize("schedule", ["constant", "multi", "ead"])
@pytest.mark.parametrize("top_p", [1.0, 0.9])
def test_sampler_logprobs_are_those_of_the_sampled_distribution(schedule, top_p):
    model = tiny()
    out, temps_NT = _decode(model, schedule, top_p), _temps_NT(schedule)
    for n, prompt in enumerate([A] * G + [B] * G):
        length = _length(out.tokens_NT[n].tolist())
        seq = torch.tensor([prompt + out.tokens_NT[n, :length].tolist()])
        with torch.no_grad():
            logits_TV = model(seq).logits[0, len(prompt) - 1:-1].float()
        logp_TV = torch.log_softmax(top_p_filter(logits_TV / temps_NT[n, :length, None], top_p), -1)
        expected_T = logp_TV.gather(1, seq[0, len(prompt):, None]).squeeze(1)
        torch.testing.assert_close(out.logprobs_NT[n, :length], expected_T, atol=1e-5, rtol=0)


def _groups(out, schedule: str) -> list[Group]:
    groups = []
    for b, (prompt, name) in enumerate([(A, "a"), (B, "b")]):
        samples = []
        for j in range(G):
            n = b * G + j
            length = _length(out.tokens_NT[n].tolist())
            samples.append(Sample(
                row=TaskRow(name, "", ""), prompt_ids=prompt,
                completion_ids=out.tokens_NT[n, :length].tolist(),
                sampler_logprobs=out.logprobs_NT[n, :length].tolist(), finish_reason="stop",
                text="", temperature=[0.5, 1.0, 1.7][j] if schedule == "multi" else None,
                token_temperatures=ead_temperatures(EAD, length) if schedule == "ead" else None))
        groups.append(Group(row=samples[0].row, samples=samples))
    return groups


@pytest.mark.parametrize("schedule", ["constant", "multi", "ead"])
def test_trainer_logprobs_equal_the_samplers(schedule):
    model = tiny()
    out = _decode(model, schedule, 1.0)
    batch = pad_groups(_groups(out, schedule), 0)
    if schedule == "ead":  # one per token, the schedule's: start at t=0
        assert batch.temperature_N.shape == batch.completion_mask_NT.shape
        assert math.isclose(float(batch.temperature_N[0, 0]), EAD.start, abs_tol=1e-6)
    mask_NT = batch.completion_mask_NT.bool()
    with torch.no_grad():
        packed_NT, _ = completion_logprobs(model, batch, 0.7)  # the tiny Llama runs packed
        temp = 0.7 if batch.temperature_N is None else batch.temperature_N
        padded_NT, _ = padded_logprobs(model, batch, temp)
    for got_NT in (packed_NT, padded_NT):
        torch.testing.assert_close(got_NT[mask_NT], batch.sampler_logprobs_NT[mask_NT],
                                   atol=1e-5, rtol=0)


def test_schedule_and_temperatures_are_not_combined():
    from rlvr.configs.run import RolloutConfig

    with pytest.raises(ValueError, match="rollout.temperatures and rollout.temperature_schedule"):
        RolloutConfig(group_size=4, temperatures=[0.6, 1.2], temperature_schedule={"name": "ead"})
    with pytest.raises(ValueError, match="decay"):
        RolloutConfig(temperature_schedule={"name": "ead", "decay": 0})


@pytest.mark.parametrize("overrides, needle", [
    (["env.name=try_again"], "env.name=try_again"),
    (["rollout.engine.name=hf_process", "rollout.sync.name=filesystem"], r"\(got hf_process\)")])
def test_schedule_refused_where_not_recorded(overrides, needle):
    from rlvr.config import load_config

    with pytest.raises(ValueError, match=f"rollout.temperature_schedule .*{needle}"):
        load_config("configs/quickstart.yaml", ["rollout.temperature_schedule={name: ead}",
                                                *overrides])


def test_generate_decoder_refuses_a_schedule(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.hf import HFEngine

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))
    engine = HFEngine(policy, None, "Answer.", batch_size=4, decoder="generate")
    params = rollout_params(4, 1.0, 1.0, None, 2, EAD)
    with pytest.raises(ValueError, match="decoder=static"):
        engine.generate([TaskRow("a", "1 + 1?", "2")], 2, params)
