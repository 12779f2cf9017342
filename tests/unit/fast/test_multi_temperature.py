"""rollout.temperatures: several temperatures within a group (docs/data.md "Sampling schedules")."""

from __future__ import annotations

import pytest
import torch

from rlvr.configs.run import RolloutConfig
from rlvr.models.fastpath import Decoder
from rlvr.rollout.decode import Sampler, static_decode, top_p_filter
from rlvr.rollout.temperatures import rollout_params, row_temperatures, split

from fast_models import tiny

A, B = [1, 40, 41, 42, 43, 44, 2], [1, 50, 51]


def _decode(model, temperature, row_temps, top_p, group_size=3, max_new=8):
    sampler = Sampler(temperature=temperature, top_p=top_p, greedy=False, stop_ids=[3],
                      seeds=[11, 22], group_size=group_size, row_temperatures=row_temps)
    return static_decode(Decoder(model), [A, B], group_size, max_new, sampler, 0,
                         torch.device("cpu"))


def test_split_is_contiguous_blocks():
    assert split([0.6, 1.0, 1.2], 8) == (0.6, 0.6, 0.6, 1.0, 1.0, 1.0, 1.2, 1.2)
    assert split([0.5, 2.0], 2) == (0.5, 2.0)
    assert rollout_params(8, 0.7, 1.0, [0.9], 4).temperatures is None
    assert rollout_params(8, 0.7, 1.0, [0.9], 4).temperature == 0.9


@pytest.mark.parametrize("top_p", [1.0, 0.9])
def test_sampler_logprobs_are_those_of_each_rows_distribution(top_p):
    model = tiny()
    temps = (0.5, 1.0, 1.7)
    row_T = torch.tensor(temps).repeat(2)
    out = _decode(model, 1.0, row_T, top_p)
    for n, prompt in enumerate([A, A, A, B, B, B]):
        ids = out.tokens_NT[n].tolist()
        length = next((i + 1 for i, t in enumerate(ids) if t == 3), len(ids))
        seq = torch.tensor([prompt + ids[:length]])
        with torch.no_grad():
            logits_TV = model(seq).logits[0, len(prompt) - 1:-1].float()
        logp_TV = torch.log_softmax(top_p_filter(logits_TV / temps[n % 3], top_p), -1)
        expected = logp_TV.gather(1, seq[0, len(prompt):, None]).squeeze(1)
        torch.testing.assert_close(out.logprobs_NT[n, :length], expected, atol=1e-4, rtol=1e-4)


def test_one_temperature_list_is_bit_identical_to_the_scalar():
    model = tiny()
    scalar = _decode(model, 0.8, None, 0.95)
    as_rows = _decode(model, 1.0, torch.full((6,), 0.8), 0.95)
    assert torch.equal(scalar.tokens_NT, as_rows.tokens_NT)
    assert torch.equal(scalar.logprobs_NT, as_rows.logprobs_NT)
    params = rollout_params(8, 1.0, 0.95, [0.8], 3)  # the config path: the scalar decode
    assert params.temperature == 0.8 and row_temperatures(params, 2) is None


@pytest.mark.parametrize("temps", [[0.5, 0.0], [1.0] * 5, []])
def test_bad_temperatures_name_the_key(temps):
    with pytest.raises(ValueError, match="rollout.temperatures"):
        RolloutConfig(group_size=4, temperatures=temps)


@pytest.mark.parametrize("overrides, needle", [
    (["env.name=try_again"], "env.name=try_again"),
    # with a sync hf_process works with, so the refusal is the temperatures' own
    (["rollout.engine.name=hf_process", "rollout.sync.name=filesystem"], r"\(got hf_process\)")])
def test_temperatures_refused_where_not_recorded(overrides, needle):
    from rlvr.config import load_config

    with pytest.raises(ValueError, match=f"rollout.temperatures .*{needle}"):
        load_config("configs/quickstart.yaml", ["rollout.temperatures=[0.6,1.2]", *overrides])
