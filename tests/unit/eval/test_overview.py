"""The report's first screen: smoothing, the health line, grouping by meaning, best / worst
samples, and the overview's panels coming first in the page."""

import re

from rlvr.eval.overview import best_and_worst, group_by_meaning, smooth, split_health
from rlvr.eval.report import write_report


def test_smooth_is_a_trailing_mean():
    # window 2: [1, (1+3)/2, (3+5)/2, (5+7)/2]
    assert smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert smooth([2.0, 4.0], 1) == [2.0, 4.0]


def test_metrics_that_stayed_zero_go_to_the_health_line():
    series = {"reward/mean": ([0, 1], [0.0, 0.5]), "nonfinite/skipped_total": ([0, 1], [0.0, 0.0]),
              "reward_pool/stalls_total": ([0, 1], [0, 0])}
    moved, zero = split_health(series)
    assert list(moved) == ["reward/mean"]
    assert zero == ["nonfinite/skipped_total", "reward_pool/stalls_total"]


def test_groups_by_meaning_in_order_with_other_last():
    series = {k: ([0], [1.0]) for k in ("time/update", "accuracy", "update/entropy", "kl/ref_reset",
                                         "mystery", "reward/mean")}
    titles = [(title, sorted(s)) for title, _, s in group_by_meaning(series)]
    assert titles == [("Reward and accuracy", ["accuracy", "reward/mean"]),
                      ("Policy update", ["update/entropy"]), ("KL and entropy", ["kl/ref_reset"]),
                      ("Time per stage", ["time/update"]), ("Other", ["mystery"])]


def test_best_and_worst_of_the_last_step():
    samples = [{"step": 0, "reward": 1.0, "completion": "old"}] + [
        {"step": 2, "reward": r, "completion": str(r)} for r in (0.2, 0.9, 0.0, 0.5, 0.7, 0.1, 1.0)]
    step, best, worst = best_and_worst(samples, n=2)
    assert step == 2
    assert [s["reward"] for s in best] == [1.0, 0.9]
    assert [s["reward"] for s in worst] == [0.0, 0.1]
    assert best_and_worst([{"step": 0, "reward": None}]) == (None, [], [])


def test_overview_comes_first(synthetic_run):
    page = write_report(synthetic_run).read_text()
    headings = re.findall(r"<h2>([^<]+)</h2>", page)
    assert headings[0] == "Did it learn?" and headings[1] == "Diagnostics"
    overview = page[page.index("<section id=overview>"):page.index("</section>")]
    panels = re.findall(r"data-panel='([a-z_]+)'", overview)
    assert panels == ["learning", "heldout", "pass_at_k", "stages", "samples"]
