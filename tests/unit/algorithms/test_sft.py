"""The SFT term: hand-computed NLL values, demonstration token ids and the batch layout."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms.aggregation import BatchNorm
from rlvr.algorithms.sft import demonstration_ids, has_reference, sft_loss
from rlvr.data.templates import render_prompt_ids
from rlvr.types import TaskRow

from tiny import tiny_tokenizer

LOGP_NT = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -4.0, 0.0]])
MASK_NT = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_sft_loss_is_the_token_mean_nll_of_the_masked_tokens():
    norm = BatchNorm.of(MASK_NT, 3)
    # (1 + 2 + 0.5) / 3 tokens; the masked -3 and -4 do not count
    assert float(sft_loss(LOGP_NT, MASK_NT, norm)) == pytest.approx(3.5 / 3)


def test_micro_batch_shares_sum_to_the_optimizer_batch_loss():
    norm = BatchNorm.of(MASK_NT, 3)  # counted over the whole batch
    first = sft_loss(LOGP_NT[:1], MASK_NT[:1], norm)  # (1 + 2) / 3
    second = sft_loss(LOGP_NT[1:], MASK_NT[1:], norm)  # 0.5 / 3
    assert float(first) == pytest.approx(1.0) and float(second) == pytest.approx(0.5 / 3)
    assert float(first + second) == pytest.approx(3.5 / 3)


def test_gradient_is_minus_one_over_tokens_on_each_kept_token():
    logp_NT = LOGP_NT.clone().requires_grad_(True)
    sft_loss(logp_NT, MASK_NT, BatchNorm.of(MASK_NT, 3)).backward()
    torch.testing.assert_close(logp_NT.grad, -MASK_NT / 3)


def test_an_empty_mask_gives_zero_not_nan():
    empty = torch.zeros(2, 3)
    assert float(sft_loss(LOGP_NT, empty, BatchNorm.of(empty, 3))) == 0.0


def test_demonstration_ids_are_the_reference_tokens_then_the_stop_token():
    tok = tiny_tokenizer()
    ids = demonstration_ids(tok, "ok", tok.eos_token_id, 10)
    assert tok.convert_ids_to_tokens(ids) == ["o", "k", "<|im_end|>"]
    assert demonstration_ids(tok, "okay", tok.eos_token_id, 2) == ids[:2]  # cut: no stop
    assert demonstration_ids(tok, "ok", None, 10) == ids[:2]


def test_blank_references_are_not_demonstrations():
    assert has_reference(TaskRow("a", "p", "42"))
    assert not has_reference(TaskRow("b", "p", ""))
    assert not has_reference(TaskRow("c", "p", " \n"))


def test_demonstration_batch_puts_the_reference_after_the_rollout_prompt():
    from rlvr.trainer.demos import Demonstrations

    tok = tiny_tokenizer()
    demos = Demonstrations(tok, "be brief", "Answer:", tok.eos_token_id, 8)
    rows = [TaskRow("a", "1+1", "2"), TaskRow("b", "10+10", "20")]
    batch = demos.batch(rows, weight=0.5)
    prompts = [render_prompt_ids(tok, r, "be brief", "Answer:") for r in rows]
    P = max(map(len, prompts))
    assert batch.input_ids_NL.shape == (2, P + 3)  # "20" + stop is the longest target
    for n, (row, prompt) in enumerate(zip(rows, prompts)):
        target = tok(row.reference, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        assert batch.input_ids_NL[n, P - len(prompt):P].tolist() == prompt
        assert batch.input_ids_NL[n, P:P + len(target)].tolist() == target
        assert batch.completion_mask_NT[n].tolist() == [1.0] * len(target) + [0.0] * (
            3 - len(target))
    assert batch.advantages_N.tolist() == [0.5, 0.5]


def test_turn_templates_fill_row_fields_and_leave_other_braces_alone():
    from rlvr.trainer.demos import fill_turn

    fields = {"entry": {"metadata": {"expression": "6 * 7"}}, "reference": "42"}
    call = '<tool>{"name": "calculator", "args": {"expression": "{entry.metadata.expression}"}}'
    assert fill_turn(call, fields, "r") == (
        '<tool>{"name": "calculator", "args": {"expression": "6 * 7"}}')
    assert fill_turn("so {reference}.", fields, "r") == "so 42."
    with pytest.raises(ValueError, match="row 'r' has no field 'entry.metadata.terms'"):
        fill_turn("{entry.metadata.terms}", fields, "r")


def test_demonstrations_with_turns_and_their_problems():
    from rlvr.trainer.demos import NO_REFERENCE, Demonstrations

    tok = tiny_tokenizer()
    row = TaskRow("a", "1+1", "2", {"why": "one and one"})
    demos = Demonstrations(tok, None, None, tok.eos_token_id, 16, ("{why} make {reference}",))
    assert demos.sample(row).text == "one and one make 2"
    assert demos.problem(row) is None
    assert "has no field 'why'" in demos.problem(TaskRow("b", "x", "3"))
    two = Demonstrations(tok, None, None, tok.eos_token_id, 16, ("a", "b"))
    assert "2 turns need a multi-turn env" in two.problem(row)
    plain = Demonstrations(tok, None, None, tok.eos_token_id, 16)
    assert plain.problem(TaskRow("c", "x", " ")) == NO_REFERENCE
