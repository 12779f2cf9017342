"""Suites from the hub: hand-written hub records mapped into each suite's rows, and the errors
when ``datasets`` is missing or its loader fails (a fake ``datasets`` module; no network)."""

from __future__ import annotations

import sys
import types

import pytest

from rlvr.data.suite_hub import HUB, SuiteFetchError, fetch_suite_rows, gpqa_record, hub_rows
from rlvr.data.suites import SUITES, load_suite

GPQA = {"Record ID": "rec1", "Question": "Which is a noble gas?", "Correct Answer": " Neon ",
        "Incorrect Answer 1": "Iron", "Incorrect Answer 2": "Carbon",
        "Incorrect Answer 3": "Sodium"}


def test_math500_record_keeps_its_id_and_answer():
    rows = hub_rows(SUITES["math500"], [{"problem": "What is 1+1?", "solution": "\\boxed{2}",
                                         "answer": "2", "subject": "Algebra", "level": 1,
                                         "unique_id": "test/algebra/1.json"}])
    assert rows[0].row_id == "test/algebra/1.json" and rows[0].reference == "2"
    assert rows[0].prompt.startswith("What is 1+1?\n\n")


def test_amc_float_answers_become_integers_and_aime_ids_are_kept():
    amc = hub_rows(SUITES["amc"], [{"id": 7, "problem": "p", "answer": 142.0, "url": "u"},
                                   {"id": 8, "problem": "q", "answer": 2.5, "url": "u"}])
    assert [r.reference for r in amc] == ["142", "2.5"]
    aime = hub_rows(SUITES["aime"], [{"id": 60, "problem": "p", "solution": "s",
                                      "answer": "033", "url": "u"}])
    assert aime[0].row_id == "60" and aime[0].reference == "033"


def test_gsm8k_answer_after_the_hashes():
    rows = hub_rows(SUITES["gsm8k"], [{"question": "How many?", "answer": "3 + 4 = 7\n#### 7"}])
    assert rows[0].reference == "7" and rows[0].row_id == "0"


def test_gpqa_places_the_correct_answer_by_the_question_hash():
    import zlib

    place = zlib.crc32(GPQA["Question"].encode()) % 4
    record = gpqa_record(GPQA)
    assert record["choices"][place] == "Neon" and record["answer"] == place
    assert sorted(record["choices"]) == ["Carbon", "Iron", "Neon", "Sodium"]
    row = hub_rows(SUITES["gpqa"], [GPQA])[0]
    assert row.reference == "ABCD"[place] and row.metadata["options"] == record["choices"]


def test_every_suite_has_a_hub_source():
    assert set(HUB) == set(SUITES)
    assert (HUB["gsm8k"].config, HUB["gsm8k"].split) == ("main", "test")


def test_missing_datasets_says_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(SuiteFetchError, match="pip install datasets"):
        fetch_suite_rows(SUITES["math500"])


def fake_datasets(monkeypatch, load):
    module = types.ModuleType("datasets")
    module.load_dataset = load
    monkeypatch.setitem(sys.modules, "datasets", module)


def test_a_failed_fetch_names_the_suite_hub_id_error_and_local_alternative(monkeypatch):
    def offline(path, name=None, split=None):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)"
                              "\nsecond line")

    fake_datasets(monkeypatch, offline)
    with pytest.raises(SuiteFetchError) as caught:
        load_suite("gsm8k", fetch=True)
    text = str(caught.value)
    assert text.startswith("suite gsm8k (GSM8K): could not load openai/gsm8k/main split test")
    assert "ConnectionError: Couldn't reach 'openai/gsm8k' on the Hub" in text
    assert "second line" not in text and "\n" not in text
    assert "--suite-dir DIR" in text and "gsm8k.jsonl" in text and "--suite-sample" in text


def test_gpqa_error_says_it_is_gated(monkeypatch):
    def refused(path, name=None, split=None):
        raise PermissionError("Dataset 'Idavidrein/gpqa' is a gated dataset on the Hub.")

    fake_datasets(monkeypatch, refused)
    with pytest.raises(SuiteFetchError, match="Idavidrein/gpqa/gpqa_diamond.*gated: accept"):
        load_suite("gpqa", fetch=True)


def test_a_fetch_that_works_gives_the_suite_task(monkeypatch):
    calls = []

    def load(path, name=None, split=None):
        calls.append((path, name, split))
        return [{"problem": f"p{i}", "answer": str(i), "unique_id": f"u{i}"} for i in range(3)]

    fake_datasets(monkeypatch, load)
    task = load_suite("math500", fetch=True, limit=2)
    assert calls == [("HuggingFaceH4/MATH-500", None, "test")]
    assert [r.row_id for r in task.eval_rows()] == ["u0", "u1"] and task.train_rows() == []
