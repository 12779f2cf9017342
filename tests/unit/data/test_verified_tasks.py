"""The math-file, reasoning-gym-math and SQL task kinds: config, rows, gold answers, verifier."""

from __future__ import annotations

import json

import pytest

from rlvr.config import load_config
from rlvr.data.math_tasks import gold_answer
from rlvr.data.tasks import build_task
from rlvr.rewards.math import MathVerifier


def test_shipped_gsm8k_sample_loads_and_verifies():
    task = build_task(load_config(None, ["task.kind=math_file"]).task)
    rows = task.train_rows() + task.eval_rows()
    assert len(rows) >= 50 and len(task.eval_rows()) == 16
    assert all(row.reference.lstrip("-").isdigit() for row in rows)
    row = rows[0]
    assert task.verify(f"Let me think.\nAnswer: {row.reference}", row).score == 1.0
    assert task.verify("Answer: -1", row).score == 0.0
    assert isinstance(task.verifier, MathVerifier)  # picklable for the worker pool


def test_gold_answer_formats():
    assert gold_answer("3 + 4 = 7\n#### 1,234", "gsm8k") == "1234"
    assert gold_answer("no marker", "gsm8k") == ""  # unscorable, never reward 1
    assert gold_answer(" 12 ", "plain") == "12"


def test_missing_gold_is_unscorable(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps({"question": f"q{i}", "answer": "no marker"}) + "\n"
                            for i in range(3)))
    task = build_task(load_config(None, ["task.kind=math_file", f"task.path={path}",
                                         "task.eval_size=1"]).task)
    assert task.verify("\\boxed{1}", task.train_rows()[0]).outcome == "unscorable"


def test_reasoning_gym_math_task_uses_the_math_verifier():
    cfg = load_config(None, ["task.kind=reasoning_gym_math", "task.name=basic_arithmetic",
                             "task.train_size=8", "task.eval_size=2"]).task
    task = build_task(cfg)
    row = task.train_rows()[0]
    assert task.verify(f"\\boxed{{{row.reference}}}", row).score == 1.0
    assert isinstance(task.verifier, MathVerifier)


def test_sql_task_config_and_rows():
    task = build_task(load_config(None, ["task.kind=sql"]).task)
    row = task.train_rows()[0]
    assert "CREATE TABLE customers" in row.prompt and row.metadata["gold_rows"]
    with pytest.raises(Exception, match="file not found"):
        load_config(None, ["task.kind=sql", "task.db=/nonexistent.sqlite"])
