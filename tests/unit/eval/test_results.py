"""The results file: counts, round trip, atomic rewrite, refusal of foreign files."""

import json

import pytest

from rlvr.eval.results import EvalResult, PromptRecord, load_result, resume_or_new, save_result
from rlvr.eval.summary import summarize


def record(row_id="r", scores=(1.0, 0.0, None, 0.5, 1.0)):
    return PromptRecord(row_id, list(scores), ["a", "b", None, "c", "a"], ["stop"] * 5, [3] * 5,
                        greedy_correct=True, greedy_text="a")


def test_counts_leave_out_unscorable_and_partial_credit():
    r = record()
    assert (r.n, r.c) == (4, 2)  # None is not a sample; 0.5 is not correct


def test_round_trip_and_counts_in_json(tmp_path):
    result = EvalResult("m", "t", {"n": 5, "ks": [1]}, [record()], {"x": 1}, "complete")
    save_result(result, tmp_path / "r.json")
    raw = json.loads((tmp_path / "r.json").read_text())
    assert raw["prompts"][0]["n"] == 4 and raw["prompts"][0]["c"] == 2
    again = load_result(tmp_path / "r.json")
    assert again.to_json() == result.to_json()
    assert not (tmp_path / "r.json.tmp").exists()


def test_foreign_and_mismatched_files(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not an rlvr evaluation"):
        load_result(tmp_path / "x.json")
    save_result(EvalResult("m", "t", {"n": 4, "seed": 0}), tmp_path / "p.json")
    assert resume_or_new(tmp_path / "p.json", "m", "t", {"n": 4, "seed": 0}).model == "m"
    with pytest.raises(ValueError, match=r"different settings \(seed\)"):
        resume_or_new(tmp_path / "p.json", "m", "t", {"n": 4, "seed": 1})
    with pytest.raises(ValueError, match="model/task"):
        resume_or_new(tmp_path / "p.json", "other", "t", {"n": 4, "seed": 0})
    assert resume_or_new(tmp_path / "new.json", "m", "t", {}).prompts == []


def test_summary_by_hand():
    broken = PromptRecord("b", [None, None], [None, None], ["stop"] * 2, [1, 1])
    s = summarize([record(), broken], ks=[1, 2, 4], resamples=100)
    assert s["num_prompts"] == 1 and s["unscorable_prompts"] == 1
    assert s["pass@k"]["1"]["value"] == pytest.approx(0.5)
    assert s["pass@k"]["2"]["value"] == pytest.approx(1 - 1 / 6)  # 1 - C(2,2)/C(4,2)
    assert s["pass@k"]["4"]["value"] == 1.0
    # maj@4 over answers a(1), b(0), c(0.5 -> wrong), a(1): "a" wins.
    assert s["maj@k"]["4"]["value"] == 1.0
    assert s["mean_score"]["value"] == pytest.approx(2.5 / 4)
    assert s["greedy_accuracy"]["value"] == 1.0
    assert s["length_mean"] == pytest.approx(17 / 7)  # 5 x 3 tokens + 2 x 1 token


def test_tool_use_shares_by_hand_and_absent_for_single_turn():
    multi = [PromptRecord("a", [1.0, 0.0], ["1", "2"], ["stop"] * 2, [5, 6], greedy_correct=True,
                          tool_calls=[1, 0], greedy_tool_calls=2),
             PromptRecord("b", [1.0, 1.0], ["3", "3"], ["stop"] * 2, [5, 6], greedy_correct=True,
                          tool_calls=[3, 1], greedy_tool_calls=0)]
    s = summarize(multi, [1])
    assert s["tool_use"] == {"value": 0.75, "episodes": 4}  # 3 of 4 sampled episodes call
    assert s["greedy_tool_use"] == {"value": 0.5, "episodes": 2}
    single = [PromptRecord("a", [1.0], ["1"], ["stop"], [5])]
    assert "tool_use" not in summarize(single, [1])
    assert PromptRecord.from_json(multi[0].to_json()) == multi[0]
