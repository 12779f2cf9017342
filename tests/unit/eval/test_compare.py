"""Solved-set overlap, tables and the pass@k plot on synthetic results."""

import pytest

from rlvr.eval.compare import common_rows, curve_table, overlap, overlap_table
from rlvr.eval.plots import plot_pass_at_k


def test_overlap_counts_by_hand(make_result):
    # n=8. Prompt c values: A = [0, 1, 8, 0, 5], B = [0, 0, 8, 3, 1].
    a = make_result("A", [0, 1, 8, 0, 5])
    b = make_result("B", [0, 0, 8, 3, 1])
    at_n = overlap(a, b, 8, "A", "B")  # solved at k=n <=> c > 0
    assert (at_n.only_a, at_n.only_b, at_n.both, at_n.neither) == (1, 1, 2, 1)
    at_1 = overlap(a, b, 1, "A", "B")  # solved at k=1 <=> c/n >= 1/2
    assert (at_1.only_a, at_1.only_b, at_1.both, at_1.neither) == (1, 0, 1, 3)
    # k=2, c=1: 1 - C(7,2)/C(8,2) = 1/4 < 1/2 (unsolved); c=3: 1 - C(5,2)/C(8,2) = 18/28 (solved).
    at_2 = overlap(a, b, 2, "A", "B")
    assert (at_2.only_a, at_2.only_b, at_2.both, at_2.neither) == (1, 1, 1, 2)
    assert at_2.total == 5


def test_overlap_rejects_k_above_n(make_result):
    a, b = make_result("A", [1, 2]), make_result("B", [1, 2])
    with pytest.raises(ValueError, match="1..8"):
        overlap(a, b, 16, "A", "B")


def test_different_tasks_are_refused(make_result):
    with pytest.raises(ValueError, match="different tasks"):
        common_rows([make_result("A", [1], task="x"), make_result("B", [1], task="y")])


def test_tables(make_result):
    a, b = make_result("A", [0, 8]), make_result("B", [4, 4])
    table = curve_table([a, b], ["A", "B"])
    assert table.splitlines()[0].startswith("| model | prompts | greedy | pass@1 | pass@2")
    assert "| A | 2 |" in table and "50.0" in table
    text = overlap_table([overlap(a, b, 8, "A", "B")])
    assert "| A | B | 8 | 0 | 1 | 1 | 0 | 2 |" in text


def test_plot_is_a_png(make_result, tmp_path):
    path = plot_pass_at_k([make_result("A", [0, 3, 8]), make_result("B", [1, 1, 1])], ["A", "B"],
                          tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paired_difference_by_hand(make_result):
    from rlvr.eval.compare import difference_table, paired_difference

    a, b = make_result("A", [0, 8, 2]), make_result("B", [4, 8, 2])
    diff = paired_difference(a, b, [1, 8])
    # pass@1: (4/8 - 0) / 3 prompts; pass@8: (1 - 0) / 3.
    assert diff[1]["value"] == pytest.approx(0.5 / 3)
    assert diff[8]["value"] == pytest.approx(1 / 3)
    assert 0.0 <= diff[1]["low"] <= diff[1]["value"] <= diff[1]["high"] <= 0.5
    same = paired_difference(a, a, [1, 8])
    assert all(v == {"value": 0.0, "low": 0.0, "high": 0.0} for v in same.values())
    assert "| B - A | +16.7 [" in difference_table([("A", "B", diff)])


def test_tables_use_the_common_prompts_only(make_result):
    from rlvr.eval.compare import compare_text

    a = make_result("A", [8, 0, 8])  # its third prompt is missing from B
    b = make_result("B", [8, 0])
    text = compare_text([a, b], ["A", "B"], None)
    assert "(2 common prompts" in text
    assert "| A | 2 | 50.0 [" in text  # greedy on the two shared prompts, not 2/3
    assert "| A | B | 8 | 0 | 0 | 1 | 1 | 2 |" in text
    assert "Paired difference" in text and "+0.0 [+0.0, +0.0]" in text
    assert "overlap" not in compare_text([a], ["A"], None)
