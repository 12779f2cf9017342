"""Task mixtures: the weighted draw (hand-checked for a fixed seed, shares over many draws),
verifier routing per row, the mixture sampler's per-task metrics, weight schedule and state
round trip, the per-task evaluation summary, and the config's errors."""

from __future__ import annotations

import json
import pickle
import random

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.configs.eval import EvalSettings
from rlvr.configs.mixture import MixtureTaskConfig
from rlvr.data.mixture import MixtureTask
from rlvr.data.tasks import build_task
from rlvr.eval.evaluate import evaluate, score_inline
from rlvr.rollout.engine import SamplingParams
from rlvr.runs.state_codec import decode, encode
from rlvr.trainer.mixture import MixtureSampler, draw_tasks
from rlvr.types import Group, RewardResult, Sample, TaskRow, is_correct


def write_rows(path, count: int):
    path.write_text("".join(json.dumps({"prompt": f"{i} + {i} = ?", "reference": str(2 * i)})
                            + "\n" for i in range(count)))
    return path


@pytest.fixture
def mixture_cfg(tmp_path) -> MixtureTaskConfig:
    """Two file tasks over the same rows, one compared as numbers, one as exact strings."""
    path = write_rows(tmp_path / "sums.jsonl", 6)
    return MixtureTaskConfig(tasks=[
        {"task": {"kind": "file", "path": str(path), "eval_size": 2, "verifier": "numeric"},
         "weight": 3, "label": "num"},
        {"task": {"kind": "file", "path": str(path), "eval_size": 2, "verifier": "exact"},
         "weight": 1, "label": "exact"}])


def test_draw_by_hand_for_a_fixed_seed():
    # choices() maps each random() u to the first task whose cumulative weight exceeds u * 1.0
    expected = [0 if u < 0.7 else 1 for u in (lambda r: [r.random() for _ in range(10)])(
        random.Random("seed-7"))]
    assert draw_tasks([0.7, 0.3], 10, random.Random("seed-7")) == expected
    assert draw_tasks([0.7, 0.3], 10, random.Random("seed-7")).count(1) == expected.count(1)


def test_draw_shares_follow_the_weights():
    picks = [i for d in range(2000) for i in draw_tasks([5, 3, 2], 8, random.Random(f"0:{d}"))]
    shares = [picks.count(i) / len(picks) for i in range(3)]
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.015)  # 16000 draws: sd <= 0.004


def test_rows_are_tagged_and_routed_to_their_own_verifier(mixture_cfg):
    task = build_task(mixture_cfg)
    rows = task.train_rows_by_task()
    num, exact = rows["num"][1], rows["exact"][1]
    assert (num.row_id, exact.row_id) == ("num:sums/train/1", "exact:sums/train/1")
    assert num.metadata["mixture_task"] == "num" and num.reference == "2"
    assert is_correct(task.verify("2.0", num)) and not is_correct(task.verify("2.0", exact))
    assert is_correct(task.verify("2", exact))
    routed = pickle.loads(pickle.dumps(task.verifier))  # the worker pool ships it
    assert is_correct(routed("2.0", num)) and not is_correct(routed("2.0", exact))
    stray = TaskRow("x", "q", "2", {"mixture_task": "other"})
    assert task.verify("2", stray).outcome == "unscorable"
    assert [r.row_id for r in task.eval_rows()] == [
        "num:sums/train/4", "num:sums/train/5", "exact:sums/train/4", "exact:sums/train/5"]
    assert len(task.train_rows()) == 8 and task.task_of("exact:sums/train/4") == "exact"


def test_each_task_keeps_its_own_instruction(tmp_path):
    path = write_rows(tmp_path / "sums.jsonl", 4)
    cfg = MixtureTaskConfig(instruction="Be brief.", tasks=[
        {"task": {"kind": "file", "path": str(path), "eval_size": 1,
                  "instruction": "Reply with the number."}, "label": "a"},
        {"task": {"kind": "file", "path": str(path), "eval_size": 1}, "label": "b"}])
    rows = build_task(cfg).train_rows_by_task()
    assert rows["a"][0].prompt == "0 + 0 = ?\nReply with the number."
    assert rows["b"][0].prompt == "0 + 0 = ?"
    from rlvr.data.templates import build_messages

    assert build_messages(rows["a"][0], cfg.system_prompt, cfg.instruction)[-1]["content"] == \
        "0 + 0 = ?\nReply with the number.\nBe brief."


def scored_group(row: TaskRow, *scores: float) -> Group:
    return Group(row, [Sample(row, [], [], [], "stop", "", reward=RewardResult.scored(s))
                       for s in scores])


def test_sampler_draws_by_weight_and_logs_per_task(mixture_cfg):
    task = build_task(mixture_cfg)
    sampler = MixtureSampler(mixture_cfg, task.train_rows_by_task(), seed=0, selection=None)
    rows = sampler.next(4)
    picks = draw_tasks([3, 1], 4, random.Random("0:mixture:0"))
    assert [r.metadata["mixture_task"] for r in rows] == [["num", "exact"][i] for i in picks]
    by_task = task.train_rows_by_task()
    groups = [scored_group(by_task["num"][0], 1.0, 0.5),
              scored_group(by_task["exact"][0], 0.0, 1.0),
              scored_group(by_task["num"][1], 1.0, 1.0)]
    metrics = sampler.observe(groups, step=0)
    assert metrics["task/num/accuracy"] == pytest.approx(3 / 4)  # 1, 0.5 (wrong), 1, 1
    assert metrics["task/num/reward_mean"] == pytest.approx(3.5 / 4)
    assert metrics["task/exact/accuracy"] == 0.5 and metrics["task/exact/reward_mean"] == 0.5
    assert metrics["task/num/prompts"] == 2 and metrics["task/exact/prompts"] == 1
    assert metrics["select/unseen_share"] == pytest.approx(1 - 3 / 8)  # 3 of 8 rows scored
    assert "task/num/select/mean_pass_ema" in metrics and sampler.step == 1


def test_weight_schedule_by_step(mixture_cfg):
    cfg = MixtureTaskConfig.model_validate({**mixture_cfg.model_dump(), "weight_schedule": [
        {"until_step": 2, "weights": [0, 1]}]})
    assert cfg.weights_at(0) == [0, 1] and cfg.weights_at(1) == [0, 1]
    assert cfg.weights_at(2) == [3, 1]
    sampler = MixtureSampler(cfg, build_task(cfg).train_rows_by_task(), 0, None)
    for step in range(2):
        assert {r.metadata["mixture_task"] for r in sampler.next(5)} == {"exact"}
        sampler.observe([], step)
    assert {r.metadata["mixture_task"] for r in sampler.next(40)} == {"num", "exact"}


def test_state_round_trip_continues_the_same_draws(mixture_cfg):
    rows = build_task(mixture_cfg).train_rows_by_task()

    def run(resume_after: int | None) -> list[str]:
        sampler = MixtureSampler(mixture_cfg, rows, 1, None)
        drawn = []
        for step in range(6):
            if step == resume_after:
                tensors: dict = {}
                saved = decode(json.loads(json.dumps(encode(sampler.state(), tensors))), tensors)
                sampler = MixtureSampler(mixture_cfg, rows, 1, None)
                sampler.load_state(saved)
            batch = sampler.next(3)
            drawn += [r.row_id for r in batch]
            sampler.observe([scored_group(r, float(step % 2)) for r in batch], step)
        return drawn

    assert run(3) == run(None)


def test_load_state_refuses_another_mixture(mixture_cfg):
    rows = build_task(mixture_cfg).train_rows_by_task()
    state = MixtureSampler(mixture_cfg, rows, 0, None).state()
    state["mixture"]["labels"] = ["num", "other"]
    with pytest.raises(ValueError, match="mixture \\['num', 'other'\\]"):
        MixtureSampler(mixture_cfg, rows, 0, None).load_state(state)


class AnswersTaskNum:
    """Greedy engine: answers every row of task 'num' right, every other row wrong."""

    def generate(self, rows, group_size, params, progress=None):
        return [Group(row, [Sample(row, [1], [2], [-0.1], "stop",
                                   row.reference if row.row_id.startswith("num:") else "nope")
                            for _ in range(group_size)]) for row in rows]


def test_evaluation_summary_holds_one_entry_per_task(mixture_cfg):
    task = build_task(mixture_cfg)
    result = evaluate(AnswersTaskNum(), task, task.eval_rows(), EvalSettings(n=2, ks=[1]),
                      "scripted", progress=False, scorer=score_inline(task),
                      sampling_params=SamplingParams)
    tasks = result.summary["tasks"]
    assert sorted(tasks) == ["exact", "num"]
    assert tasks["num"]["greedy_accuracy"]["value"] == 1.0 and tasks["num"]["num_prompts"] == 2
    assert tasks["exact"]["greedy_accuracy"]["value"] == 0.0
    assert result.summary["greedy_accuracy"]["value"] == 0.5


@pytest.mark.parametrize("value, message", [
    ("{kind: mixture, tasks: [{task: quickstart}]}", "at least 2"),
    ("{kind: mixture, tasks: [{task: quickstart}, {task: quickstart}]}",
     "label 'chain_sum' is used twice"),
    ("{kind: mixture, tasks: [{task: quickstart, weight: 0}, {task: arithmetic}]}",
     "greater than 0"),
    ("{kind: mixture, tasks: [{task: quickstart, label: 'a:b'}, {task: arithmetic}]}",
     "use letters"),
    ("{kind: mixture, tasks: [{task: quickstart}, {task: arithmetic}], "
     "weight_schedule: [{until_step: 3, weights: [1]}]}", "need 2 weights"),
    ("{kind: mixture, tasks: [{task: {kind: reasoning_gym, system_prompt: hi}}, "
     "{task: arithmetic}]}", "one system prompt for all its tasks"),
])
def test_config_errors_name_the_problem(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [f"task={value}"])


def test_existing_single_task_configs_are_unchanged():
    cfg = load_config(None, ["task=quickstart"])
    assert cfg.task.kind == "reasoning_gym" and not isinstance(build_task(cfg.task), MixtureTask)
