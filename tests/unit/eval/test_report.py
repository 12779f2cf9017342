"""The HTML report of a synthetic run directory (the Chromium check is an integration test)."""

import base64
import re

from rlvr.eval.report import write_report
from rlvr.eval.rundir import metric_groups, read_run


def test_read_run_skips_a_torn_line(synthetic_run):
    data = read_run(synthetic_run)
    assert len(data.metrics) == 6 and data.skipped_lines == 1
    assert set(data.evals) == {"eval_before", "eval_after"}


def test_metric_groups():
    groups = metric_groups([{"step": 1, "reward/mean": 0.5, "accuracy": 1, "note": "x"},
                            {"step": 2, "reward/mean": 0.7, "accuracy": 0, "flag": True}])
    assert groups["reward"]["reward/mean"] == ([1, 2], [0.5, 0.7])
    assert groups["train"]["accuracy"] == ([1, 2], [1.0, 0.0])
    assert "flag" not in groups["train"] and "note" not in groups["train"]


def test_report_embeds_every_plot_and_escapes_text(synthetic_run):
    path = write_report(synthetic_run)
    page = path.read_text()
    pngs = sorted(p.stem for p in (path.parent / "plots").glob("*.png"))
    assert pngs == ["diag_00_reward_and_accuracy", "diag_01_policy_update",
                    "diag_02_kl_and_entropy", "diag_03_time_per_stage", "overview_heldout",
                    "overview_learning", "overview_pass_at_k", "overview_stages"]
    embedded = re.findall(r"data-plot='([^']+)'[^>]*src='data:image/png;base64,([^']+)'", page)
    assert sorted(name for name, _ in embedded) == pngs
    for _, data in embedded:
        assert base64.b64decode(data)[:4] == b"\x89PNG"
    assert "&lt;script&gt;" in page and "<script>2" not in page
    assert "pass@8" in page and "group_size: 8" in page


def test_periodic_and_foreign_evaluations(synthetic_run):
    from eval_fixtures import synthetic_result

    from rlvr.eval.results import save_result

    for step, counts in ((2, [0, 1, 2, 8]), (4, [1, 2, 4, 8])):
        save_result(synthetic_result("m", counts), synthetic_run / "evals" / f"step_{step:06d}.json")
    (synthetic_run / "eval_greedy.json").write_text('{"label": "after", "greedy_accuracy": 0.25}')
    page = write_report(synthetic_run).read_text()
    assert "data-plot='eval_during_training'" in page
    assert "eval_greedy" not in page  # a file in another format is not an evaluation
    data = read_run(synthetic_run)
    assert set(data.evals) == {"eval_before", "eval_after", "evals/step_000002",
                               "evals/step_000004"}


def test_samples_show_whole_transcripts_with_tool_turns_marked():
    from rlvr.eval.report import _samples_html

    long_answer = "The answer is " + "9" * 3000
    transcript = [{"source": "model", "text": '<tool>{"name": "python"}</tool>'},
                  {"source": "env", "text": "tool result:\n<b>42</b>"},
                  {"source": "model", "text": long_answer}]
    page = _samples_html([{"step": 1, "reward": 1.0, "prompt": "q", "completion": long_answer,
                           "transcript": transcript},
                          {"step": 1, "reward": 0.0, "prompt": "q", "completion": "plain"}])
    env_turns = re.findall(r"<pre class='turn turn-env'>(.*?)</pre>", page, re.S)
    model_turns = re.findall(r"<pre class='turn turn-model'>(.*?)</pre>", page, re.S)
    assert env_turns == ["<b>environment / tool</b>\ntool result:\n&lt;b&gt;42&lt;/b&gt;"]
    assert len(model_turns) == 2 and long_answer in model_turns[1]  # whole, not cut at 2000
    assert "&lt;tool&gt;" in model_turns[0] and "transcript" not in page
    assert "<pre>plain</pre>" in page  # a single-turn sample as before
