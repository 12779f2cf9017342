"""Task loading: reasoning-gym splits are disjoint, file tasks map fields and name bad rows."""

from __future__ import annotations

import json

import pytest

from rlvr.config import load_config
from rlvr.data.reasoning_gym import extract_answer
from rlvr.data.tasks import build_task
from rlvr.data.templates import render_prompt_ids
from rlvr.types import TaskRow


def test_reasoning_gym_splits_are_disjoint_and_deterministic():
    cfg = load_config(None, ["task.train_size=300", "task.eval_size=40",
                             "task.params={min_terms: 2, max_terms: 2, min_digits: 1, max_digits: 1}"])
    task = build_task(cfg.task)
    train, held_out = task.train_rows(), task.eval_rows()
    assert len(held_out) == 40
    assert not {r.prompt for r in train} & {r.prompt for r in held_out}
    again = build_task(cfg.task).eval_rows()
    assert [r.prompt for r in again] == [r.prompt for r in held_out]


def test_reasoning_gym_verifier_scores_reference_as_correct():
    cfg = load_config(None, ["task.train_size=5", "task.eval_size=2"])
    task = build_task(cfg.task)
    row = task.train_rows()[0]
    assert task.verify(row.reference, row).score == 1.0
    assert task.verify("no idea", row).score < 1.0


def test_answer_extraction_policies():
    assert extract_answer("x <answer>4</answer> then <answer> 7 </answer>") == "7"
    assert extract_answer("  plain 12 ") == "plain 12"
    assert extract_answer("3 + 4 = 7.", "last_number") == "7"
    assert extract_answer("no digits", "last_number") == ""


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_file_task_field_mapping_and_holdout(tmp_path):
    path = _write(tmp_path / "t.jsonl", [{"q": f"{i}+1?", "a": str(i + 1)} for i in range(10)])
    cfg = load_config(None, ["task.kind=file", f"task.path={path}", "task.prompt_field=q",
                             "task.reference_field=a", "task.eval_size=3"])
    task = build_task(cfg.task)
    assert len(task.train_rows()) == 7 and len(task.eval_rows()) == 3
    row = task.eval_rows()[0]
    assert row.prompt == "7+1?" and row.reference == "8"
    assert task.verify("It is 8.", row).score == 1.0
    assert task.verify("It is 9.", row).score == 0.0


def test_file_task_names_the_broken_row(tmp_path):
    path = _write(tmp_path / "t.jsonl", [{"prompt": "a", "reference": "1"}, {"prompt": "b"}] * 3)
    cfg = load_config(None, ["task.kind=file", f"task.path={path}", "task.eval_size=1"])
    with pytest.raises(ValueError, match=r"t.jsonl: row 2 has no field 'reference'"):
        build_task(cfg.task)


def test_parquet_file_task(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"prompt": ["1+1", "2+2", "3+3"], "reference": ["2", "4", "6"]}), path)
    cfg = load_config(None, ["task.kind=file", f"task.path={path}", "task.eval_size=1"])
    task = build_task(cfg.task)
    assert [r.reference for r in task.train_rows()] == ["2", "4"]


def test_chat_template_and_system_prompt_are_applied():
    from tiny import tiny_tokenizer

    tok = tiny_tokenizer()
    row = TaskRow("r", "2+2?", "4")
    text = tok.decode(render_prompt_ids(tok, row, "Be brief.", "Just the number."))
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?\n"
                    "Just the number.<|im_end|>\n<|im_start|>assistant\n")
