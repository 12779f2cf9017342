"""Token-exact transcripts: the ids trained on are exactly the ids sampled, for three chat
template families, through the real driver, tool environment and batch builder."""

from __future__ import annotations

import pytest
from chat_families import FAMILIES, family_tokenizer

from rlvr.configs.env import EnvConfig
from rlvr.envs.base import Limits
from rlvr.envs.builtin import EnvContext, ToolEnv
from rlvr.envs.rollout import EpisodeDriver
from rlvr.envs.transcript import observation_text
from rlvr.rollout.engine import SamplingParams, TokenCompletion
from rlvr.trainer.batch import pad_groups
from rlvr.types import TaskRow

CALL = '<tool>{"name": "calculator", "args": {"expression": "6*7"}}</tool>'
ROW = TaskRow("r0", "What is 6*7?", "42")


class ScriptedEngine:
    """Replays fixed model turns (text + end-of-turn token) and records every request."""

    def __init__(self, tokenizer, turns: list[str], end_of_turn: str | None) -> None:
        self.tok, self.turns, self.end = tokenizer, turns, end_of_turn
        self.requests, self.sampled = [], []

    def generate_tokens(self, requests):
        self.requests.extend(requests)
        out = []
        for req in requests:
            text = self.turns[len(self.sampled) % len(self.turns)]
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
            ids = ids + ([self.tok.convert_tokens_to_ids(self.end)] if self.end else [])
            ids = ids[:req.params.max_new_tokens]
            self.sampled.append(ids)
            reason = "stop" if self.end and len(ids) and ids[-1] == self.tok.convert_tokens_to_ids(
                self.end) else "length"
            out.append([TokenCompletion(ids, [-0.25] * len(ids), reason, 3)])
        return out


def run_episode(family: str, turns: list[str], limits=Limits(2, 4, 400), stop=True):
    tok = family_tokenizer(family)
    engine = ScriptedEngine(tok, turns, FAMILIES[family][2] if stop else None)
    ctx = EnvContext(EnvConfig(name="tools", max_turns=limits.max_turns))
    driver = EpisodeDriver(engine, tok, lambda: ToolEnv(ctx), limits)
    groups = driver.run([ROW], 1, SamplingParams(100))
    return tok, engine, groups


@pytest.mark.parametrize("family", list(FAMILIES))
def test_trained_ids_are_exactly_the_sampled_ids(family):
    answer = "<think>6 times 7</think>42" if family == "think_dropping" else "It is 42."
    tok, engine, groups = run_episode(family, [CALL, answer])
    sample = groups[0].samples[0]
    assert sample.episode.turns == 2 and sample.episode.tool_calls == 1
    model_ids = [t for t, m in zip(sample.completion_ids, sample.loss_mask) if m]
    assert model_ids == engine.sampled[0] + engine.sampled[1]
    # Each continuation request is the previous running sequence plus only appended tokens.
    second = engine.requests[1].prompt_ids
    assert second[:len(sample.prompt_ids) + len(engine.sampled[0])] == (
        sample.prompt_ids + engine.sampled[0])
    assert sample.prompt_ids + sample.completion_ids == second + engine.sampled[1]
    batch = pad_groups(groups, tok.pad_token_id)
    P = batch.input_ids_NL.shape[1] - batch.completion_len
    mask_T = batch.completion_mask_NT[0].bool()
    assert batch.input_ids_NL[0, P:][mask_T].tolist() == model_ids
    assert batch.completion_mask_NT[0, :len(sample.loss_mask)].tolist() == sample.loss_mask
    env_T = ~mask_T[:len(sample.loss_mask)]
    assert env_T.any() and (batch.sampler_logprobs_NT[0, :len(sample.loss_mask)][env_T] == 0).all()
    assert sample.text == tok.decode(engine.sampled[1], skip_special_tokens=True)


@pytest.mark.parametrize("family", ["chatml", "gemma_style"])
def test_the_sequence_reads_as_the_template_renders_the_conversation(family):
    tok, engine, groups = run_episode(family, [CALL, "It is 42."])
    sample = groups[0].samples[0]
    messages = ToolEnv(EnvContext(EnvConfig(name="tools"))).reset(ROW) + [
        {"role": "assistant", "content": CALL}, {"role": "user", "content": "tool result:\n42"},
        {"role": "assistant", "content": "It is 42."}]
    rendered = tok.apply_chat_template(messages, tokenize=False)
    assert tok.decode(sample.prompt_ids + sample.completion_ids) == rendered.rstrip("\n")


def test_a_template_that_drops_earlier_thinking_cannot_change_the_trained_tokens():
    first = "<think>use the tool</think>" + CALL
    tok, engine, groups = run_episode("think_dropping", [first, "42"])
    sample = groups[0].samples[0]
    text = tok.decode(sample.completion_ids)
    assert text.startswith(first)  # the sampled thinking stays in the running sequence
    re_rendered = tok.apply_chat_template(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": first},
         {"role": "user", "content": "o"}], tokenize=False)
    assert "use the tool" not in re_rendered  # what re-rendering the history would have trained


def test_observation_text_after_a_stop_and_after_a_truncated_turn():
    tok = family_tokenizer("chatml")
    msg = {"role": "user", "content": "ok"}
    assert observation_text(tok, msg, "<|im_end|>") == "\n<|im_start|>user\nok<|im_end|>\n" \
        "<|im_start|>assistant\n"
    # truncated: the env closes the model's turn (as context, not trained)
    assert observation_text(tok, msg, None).startswith("<|im_end|>\n<|im_start|>user")
    gemma = family_tokenizer("gemma_style")
    assert observation_text(gemma, msg, "<end_of_turn>") == (
        "\n<start_of_turn>user\nok<end_of_turn>\n<start_of_turn>model\n")


def test_turn_limit_ends_the_episode_and_the_pipeline_scores_the_last_turn():
    tok, engine, groups = run_episode("chatml", [CALL], limits=Limits(3, 9, 400))
    sample = groups[0].samples[0]
    assert sample.episode.turns == 3 and sample.episode.ended_by == "max_turns"
    assert sample.reward is None and sample.episode.tool_calls == 3
    assert sample.loss_mask.count(0) > 0 and sample.finish_reason == "stop"


def test_token_limit_truncates_the_episode():
    # 400-token budget would allow turn 2; 80 leaves no room after the first observation
    tok, engine, groups = run_episode("chatml", [CALL, "42"], limits=Limits(4, 4, 80))
    sample = groups[0].samples[0]
    assert len(sample.completion_ids) <= 80
    assert sample.episode.ended_by == "max_total_tokens" and sample.finish_reason == "length"
    assert engine.requests[0].params.max_new_tokens == 80


def test_a_turn_is_cropped_to_the_remaining_budget():
    tok, engine, groups = run_episode("chatml", ["x" * 60], limits=Limits(4, 4, 30), stop=False)
    sample = groups[0].samples[0]
    assert len(sample.completion_ids) == 30 and sample.finish_reason == "length"
    assert sample.loss_mask == [1] * 30


def test_loss_mask_length_is_checked():
    from rlvr.types import Sample

    with pytest.raises(ValueError, match="loss_mask has 1 entries for 2 completion tokens"):
        Sample(ROW, [1], [2, 3], [0.0, 0.0], "stop", "", loss_mask=[1])


def _turn_ids(tok, family: str, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"] + [
        tok.convert_tokens_to_ids(FAMILIES[family][2])]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_replayed_demonstration_is_the_episode_the_rollout_builds(family):
    answer = "<think>6 times 7</think>42" if family == "think_dropping" else "It is 42."
    tok, engine, groups = run_episode(family, [CALL, answer])
    sampled = groups[0].samples[0]
    ctx = EnvContext(EnvConfig(name="tools", max_turns=2))
    driver = EpisodeDriver(None, tok, lambda: ToolEnv(ctx), Limits(2, 4, 400))
    demo = driver.replay(ROW, [_turn_ids(tok, family, CALL), _turn_ids(tok, family, answer)])
    assert demo.prompt_ids == sampled.prompt_ids
    assert demo.completion_ids == sampled.completion_ids and demo.loss_mask == sampled.loss_mask
    assert demo.episode.tool_calls == 1 and demo.finish_reason == "stop"
    assert demo.sampler_logprobs == [0.0] * len(demo.completion_ids)


def test_a_replay_that_the_environment_ends_early_or_not_at_all_is_refused():
    tok = family_tokenizer("chatml")
    ctx = EnvContext(EnvConfig(name="tools", max_turns=3))
    driver = EpisodeDriver(None, tok, lambda: ToolEnv(ctx), Limits(3, 4, 400))
    with pytest.raises(ValueError, match="ended \\(done\\) after turn 1 of the demonstration's 2"):
        driver.replay(ROW, [_turn_ids(tok, "chatml", "42"), _turn_ids(tok, "chatml", "42")])
    with pytest.raises(ValueError, match="goes on after the demonstration's last turn"):
        driver.replay(ROW, [_turn_ids(tok, "chatml", CALL)])


def test_tool_demonstrations_hold_the_real_tool_result_as_context():
    from rlvr.trainer.demos import Demonstrations

    tok = family_tokenizer("chatml")
    ctx = EnvContext(EnvConfig(name="tools", max_turns=2))
    driver = EpisodeDriver(None, tok, lambda: ToolEnv(ctx), Limits(2, 4, 400))
    call = '<tool>{"name": "calculator", "args": {"expression": "{expr}"}}</tool>'
    demos = Demonstrations(tok, None, None, tok.convert_tokens_to_ids("<|im_end|>"), 400,
                           (call, "{reference}"), driver)
    sample = demos.sample(TaskRow("r", "what is 6 * 7", "42", {"expr": "6 * 7"}))
    sources = [(s.source, s.text) for s in sample.episode.segments]
    assert [src for src, _ in sources] == ["model", "env", "model"]
    assert "tool result:\n42" in sources[1][1] and sources[2][1].startswith("42")
    batch = demos.batch([sample.row])
    mask_T = batch.completion_mask_NT[0, :len(sample.loss_mask)]
    assert mask_T.tolist() == sample.loss_mask and 0 < sum(sample.loss_mask) < len(mask_T)
    small = Demonstrations(tok, None, None, demos.stop_id, 10, (call, "{reference}"), driver)
    assert "over sft.max_target_tokens=10" in small.problem(sample.row)
