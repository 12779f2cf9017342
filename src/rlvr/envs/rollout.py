"""The multi-turn driver: episodes for a group of rows, on the engine's token-level entry.

Each round samples one model turn for every running episode (one ``generate_tokens`` call,
the full running sequence as ``prompt_ids``), hands each turn's text to its environment and
appends the observation turn's ids. An episode ends when the environment says done or at a
limit (turns, total tokens). The loop names no environment: ``EnvEngine`` wraps any engine,
so the trainer, the evaluations and pass@k see one ``Sample`` per episode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rlvr.envs.base import Env, Limits, StepResult
from rlvr.envs.transcript import Episode, Segment, observation_ids
from rlvr.rollout.engine import SamplingParams, TokenCompletion, TokenRequest
from rlvr.types import Group, RewardResult, Sample, TaskRow


@dataclass
class _Run:
    """One episode in flight."""

    row: TaskRow
    env: Env
    prompt_ids: list[int]
    seed: int | None
    episode: Episode = field(default_factory=Episode)
    last: TokenCompletion | None = None
    last_text: str = ""
    reward: RewardResult | None = None
    done: bool = False


class EpisodeDriver:
    def __init__(self, engine: Any, tokenizer: Any, make_env: Callable[[], Env], limits: Limits,
                 observation_role: str = "user") -> None:
        self.engine, self.tokenizer, self.make_env = engine, tokenizer, make_env
        self.limits, self.role = limits, observation_role

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return tok(text, add_special_tokens=False)["input_ids"]
        text = "\n\n".join(m["content"] for m in messages) + "\n"
        return tok(text, add_special_tokens=True)["input_ids"]

    def run(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
            seeds: Sequence[int] | None = None) -> list[Group]:
        runs: list[list[_Run]] = []
        for i, row in enumerate(rows):
            group = []
            for g in range(group_size):
                env = self.make_env()
                seed = None if seeds is None else int(seeds[i]) * 1_000_003 + g
                group.append(_Run(row, env, self.prompt_ids(env.reset(row)), seed))
            runs.append(group)
        flat = [r for group in runs for r in group]
        while active := [r for r in flat if not r.done]:
            self._round(active, params)
        return [Group(row=row, samples=[self._sample(r) for r in group])
                for row, group in zip(rows, runs)]

    def replay(self, row: TaskRow, turns_ids: list[list[int]]) -> Sample:
        """The episode in which the model's turns are ``turns_ids`` (each ending with its stop
        token): a demonstration, built by the transcript code the rollout uses. Raises
        ValueError when the environment ends the episode early or not after the last turn."""
        r = _Run(row, self.make_env(), [], None)
        r.prompt_ids = self.prompt_ids(r.env.reset(row))
        for k, ids in enumerate(turns_ids, 1):
            if r.done:
                raise ValueError(f"the episode ended ({r.episode.ended_by}) after turn {k - 1} "
                                 f"of the demonstration's {len(turns_ids)}")
            self._take_turn(r, TokenCompletion(list(ids), [0.0] * len(ids), "stop", 0))
        if not r.done:
            raise ValueError(f"the episode goes on after the demonstration's last turn "
                             f"(turn {len(turns_ids)}): it must end the episode")
        return self._sample(r)

    def _round(self, active: list[_Run], params: SamplingParams) -> None:
        """One model turn for every active episode, then the environments' answers."""
        room = {id(r): self.limits.max_total_tokens - r.episode.num_tokens for r in active}
        turn_params = replace(params, max_new_tokens=min(params.max_new_tokens, max(room.values())))
        requests = [TokenRequest(r.prompt_ids + r.episode.ids, 1, turn_params,
                                 None if r.seed is None else r.seed * 101 + r.episode.turns)
                    for r in active]
        for r, (completion,) in zip(active, self.engine.generate_tokens(requests)):
            self._take_turn(r, _cropped(completion, room[id(r)]))

    def _take_turn(self, r: _Run, c: TokenCompletion) -> None:
        text = self.tokenizer.decode(c.completion_ids, skip_special_tokens=True)
        r.episode.add(Segment("model", list(c.completion_ids), list(c.logprobs), text))
        r.episode.turns += 1
        r.last, r.last_text = c, text
        result: StepResult = r.env.step(text)
        r.episode.tool_calls += result.tool_calls
        r.episode.tool_errors += result.tool_errors
        if result.done:
            return self._end(r, "done", result.reward)
        if r.episode.turns >= self.limits.max_turns:
            return self._end(r, "max_turns")
        stop_text = None if c.finish_reason == "length" else self.tokenizer.decode(
            c.completion_ids[-1:])
        ids, obs = observation_ids(self.tokenizer, {"role": self.role,
                                                    "content": result.observation}, stop_text)
        if r.episode.num_tokens + len(ids) >= self.limits.max_total_tokens:
            return self._end(r, "max_total_tokens")  # no room left for another model turn
        r.episode.add(Segment("env", ids, [0.0] * len(ids), obs))

    @staticmethod
    def _end(r: _Run, why: str, reward: RewardResult | None = None) -> None:
        r.done, r.reward, r.episode.ended_by = True, reward, why

    @staticmethod
    def _sample(r: _Run) -> Sample:
        assert r.last is not None
        truncated = r.episode.ended_by == "max_total_tokens" or r.last.finish_reason == "length"
        return Sample(row=r.row, prompt_ids=r.prompt_ids, completion_ids=r.episode.ids,
                      sampler_logprobs=r.episode.logprobs,
                      finish_reason="length" if truncated else "stop", text=r.last_text,
                      reward=r.reward, policy_version=r.last.policy_version,
                      loss_mask=r.episode.loss_mask, episode=r.episode)


def _cropped(c: TokenCompletion, room: int) -> TokenCompletion:
    """The completion cut to the episode's remaining token budget (a prefix of what was
    sampled, so still exact); cut means truncated."""
    if len(c.completion_ids) <= room:
        return c
    return replace(c, completion_ids=c.completion_ids[:room], logprobs=c.logprobs[:room],
                   finish_reason="length")
