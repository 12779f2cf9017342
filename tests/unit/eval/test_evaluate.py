"""evaluate() with a scripted engine: scoring, greedy, unscorable rows, seeding and resume."""

import json

import pytest
import torch

from rlvr.configs.eval import EvalSettings, PeriodicEvalConfig
from rlvr.eval.evaluate import answer_key, evaluate, flat_metrics, score_inline
from rlvr.rollout.engine import SamplingParams
from rlvr.types import Group, RewardResult, Sample, TaskRow


class ScriptedEngine:
    """Answers row i correctly with probability p_i (from torch's global generator)."""

    def __init__(self, fail_on_call: int | None = None):
        self.calls = 0
        self.fail_on_call = fail_on_call

    def generate(self, rows, group_size, params, progress=None):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt("simulated interruption")
        groups = []
        for row in rows:
            p = row.metadata["p"]
            hits = [p >= 0.5] if params.greedy else (torch.rand(group_size) < p).tolist()
            samples = [Sample(row, [1], [2, 3], [-0.1, -0.2], "stop" if hit else "length",
                              f"so <answer>{row.reference if hit else 'x'}</answer>")
                       for hit in hits]
            groups.append(Group(row, samples))
        return groups


class ToyTask:
    name = "toy"

    def verify(self, completion, row):
        if row.reference == "BROKEN":
            return RewardResult.unscorable("broken row")
        return RewardResult.scored(float(f"<answer>{row.reference}</answer>" in completion))


ROWS = [TaskRow(f"toy/{i}", f"q{i}", str(i), {"p": p})
        for i, p in enumerate([0.0, 0.1, 0.5, 0.9, 1.0, 0.3, 0.7])]
ROWS.append(TaskRow("toy/broken", "q", "BROKEN", {"p": 1.0}))
SETTINGS = EvalSettings(n=8, ks=[1, 2, 8], prompts_per_batch=3, seed=5)


def run(out_path=None, engine=None):
    return evaluate(engine or ScriptedEngine(), ToyTask(), ROWS, SETTINGS, "scripted",
                    out_path=out_path, progress=False, scorer=score_inline(ToyTask()),
                    sampling_params=SamplingParams)


def test_scores_greedy_and_unscorable_rows():
    result = run()
    by_id = {p.row_id: p for p in result.prompts}
    assert by_id["toy/0"].c == 0 and by_id["toy/4"].c == 8
    assert by_id["toy/broken"].n == 0
    assert result.summary["num_prompts"] == 7 and result.summary["unscorable_prompts"] == 1
    assert result.summary["greedy_accuracy"]["value"] == pytest.approx(4 / 7)
    c = [by_id[f"toy/{i}"].c for i in range(7)]
    assert result.summary["pass@k"]["1"]["value"] == pytest.approx(sum(c) / 56)
    assert result.summary["pass@k"]["8"]["value"] == pytest.approx(sum(x > 0 for x in c) / 7)
    assert result.summary["truncated_share"] == pytest.approx(1 - (sum(c) + 8) / 64)
    assert by_id["toy/3"].answers[0] in ("3", "x")
    assert set(flat_metrics(result)) >= {"eval/pass@1", "eval/maj@8", "eval/greedy_accuracy"}


def test_same_seed_same_numbers_and_resume_matches(tmp_path):
    whole = run(tmp_path / "whole.json")
    assert run().summary == whole.summary
    path = tmp_path / "resumed.json"
    with pytest.raises(KeyboardInterrupt):  # the sampled call of the 2nd batch is call 3
        run(path, ScriptedEngine(fail_on_call=3))
    partial = json.loads(path.read_text())
    assert partial["status"] == "partial" and len(partial["prompts"]) == 3
    resumed = run(path)
    assert resumed.status == "complete"
    assert [p.scores for p in resumed.prompts] == [p.scores for p in whole.prompts]
    assert resumed.summary == whole.summary


def test_resume_refuses_other_settings(tmp_path):
    path = tmp_path / "r.json"
    run(path)
    with pytest.raises(ValueError, match="different settings.*n"):
        evaluate(ScriptedEngine(), ToyTask(), ROWS, EvalSettings(n=4, prompts_per_batch=3),
                 "scripted", out_path=path, progress=False, scorer=score_inline(ToyTask()),
                 sampling_params=SamplingParams)


def test_answer_key():
    assert answer_key(ToyTask(), "x <answer> 4 2 </answer>") == "4 2"
    assert answer_key(ToyTask(), "it is 12, or 13.5") == "13.5"
    assert answer_key(ToyTask(), "no idea") is None

    class WithExtractor(ToyTask):
        def extract_answer(self, completion):
            return completion.upper()

    assert answer_key(WithExtractor(), "Yes") == "yes"


def test_configs():
    assert EvalSettings(n=12).ks == [1, 2, 4, 8, 12]
    with pytest.raises(ValueError, match="1..n=4"):
        EvalSettings(n=4, ks=[8])
    cfg = PeriodicEvalConfig(every=5, n=4)
    assert cfg.settings(default_max_new_tokens=32).ks == [1, 2, 4]
    with pytest.raises(ValueError):
        PeriodicEvalConfig(n=4, ks=[8])


def test_periodic_eval_writes_step_files_and_keeps_the_callers_rng(tmp_path):
    from rlvr.eval.periodic import due, periodic_eval

    cfg = PeriodicEvalConfig(every=2, n=4, num_prompts=3, max_new_tokens=8)
    assert [s for s in range(5) if due(cfg, s, 5)] == [1, 3, 4]
    assert not due(None, 1, 5)

    class Task(ToyTask):
        def eval_rows(self):
            return ROWS

    torch.manual_seed(7)
    expected_next = torch.rand(1)
    torch.manual_seed(7)
    metrics = periodic_eval(ScriptedEngine(), Task(), cfg, 1, tmp_path, "m", 32,
                            scorer=score_inline(Task()))
    assert torch.rand(1) == expected_next
    saved = json.loads((tmp_path / "evals" / "step_000002.json").read_text())
    assert len(saved["prompts"]) == 3 and saved["model"] == "m@step2"
    assert set(metrics) >= {"eval/pass@1", "eval/pass@4", "eval/maj@4", "eval/greedy_accuracy"}


def test_resume_refuses_another_context(tmp_path):
    path = tmp_path / "r.json"
    evaluate(ScriptedEngine(), ToyTask(), ROWS, SETTINGS, "scripted", out_path=path,
             progress=False, scorer=score_inline(ToyTask()), context={"instruction": "a"},
             sampling_params=SamplingParams)
    assert json.loads(path.read_text())["settings"]["context"] == {"instruction": "a"}
    with pytest.raises(ValueError, match="different settings.*context"):
        evaluate(ScriptedEngine(), ToyTask(), ROWS, SETTINGS, "scripted", out_path=path,
                 progress=False, scorer=score_inline(ToyTask()), context={"instruction": "b"},
                 sampling_params=SamplingParams)
