"""Fault injection on a tiny model (research/reliability.md §4.5; docs/reliability.md).

Real subprocesses killed for real (``kill -9`` via RLVR_FAULT, see runs/faultpoints.py)
for F01-F03/F07/F08; in-process runs with injected faults for the others. The uninterrupted
reference run is shared by the module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rlvr.runs.checkpoint import list_steps

from faults_support import (assert_identical, metrics, rlvr_train, samples, tensors, train_args,
                            write_task)


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("faults-data") / "sums.jsonl")


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, tiny_model_dir, task_file) -> Path:
    """The uninterrupted run, in this process (deterministic mode is undone when it ends)."""
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    run_dir = tmp_path_factory.mktemp("faults-ref") / "run"
    train(load_config(None, train_args(tiny_model_dir, task_file, run_dir)))
    return run_dir


def _steps(run_dir: Path) -> list[int]:
    return sorted(step for step, _ in list_steps(run_dir / "ckpt"))


CHAIN = [  # (fault, signal, expected return code, complete checkpoints afterwards)
    ("stage:reward:4", None, -9, [2]),          # F01: in step 3's reward stage
    ("backward:1", None, -9, [2]),              # F01 + F08: right after the first resume
    ("optimizer_step:2", None, -9, [2]),        # F01: after optimizer.step, before the save
    ("stage:update:1", "TERM", 0, [2, 3]),      # F03: SIGTERM -> finish step, checkpoint, exit 0
    ("ckpt:before_rename:1", None, -9, [2, 3]),  # F01 / F02: during the checkpoint write
    (None, None, 0, [4, 6]),                    # the final resume; rotation keeps two
]


def test_f01_kill_chain_resumes_bit_identical(tmp_path, tiny_model_dir, task_file, reference_run):
    run_dir = tmp_path / "run"
    args = train_args(tiny_model_dir, task_file, run_dir)
    for index, (fault, signal, code, kept) in enumerate(CHAIN):
        resume = ["--resume", str(run_dir)] if index else []
        done = rlvr_train(args + resume, fault, signal)
        assert done.returncode == code, (fault, done.stderr[-3000:])
        assert _steps(run_dir) == kept, (fault, done.stderr[-2000:])
        if signal == "TERM":
            assert "preempted: checkpoint of step 3 saved" in done.stderr
    assert not list((run_dir / "ckpt").glob("*.tmp-*"))
    for step in (4, 6):
        for name in ("model", "optimizer", "trainer"):
            assert_identical(tensors(run_dir, step, name), tensors(reference_run, step, name))
        trainer = run_dir / "ckpt" / f"step_{step:08d}" / "trainer.json"
        state, reference = (_state_without_wall_time(path / "ckpt" / f"step_{step:08d}" /
                                                     "trainer.json")
                            for path in (run_dir, reference_run))
        assert state == reference, trainer
    assert metrics(run_dir) == metrics(reference_run)  # each step logged once, same values
    assert [m["step"] for m in metrics(run_dir)] == list(range(6))
    assert samples(run_dir) == samples(reference_run)  # same prompts, completions, rewards
    # F07: checkpoints at 2 and 4 are epoch boundaries (4 train rows, 2 per step); every epoch
    # after a resume still sees each row once.
    for epoch in range(3):
        rows = {r for s, r, _, _ in samples(run_dir) if s // 2 == epoch}
        assert len(rows) == 4, (epoch, rows)


def _resume_in_process(run_dir: Path, *overrides: str) -> dict:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    cfg = load_config(run_dir / "config.yaml", [*overrides, f"log.run_dir={run_dir}"])
    return train(cfg, resume=True)


def test_f09_resume_refuses_changes(tmp_path, tiny_model_dir, task_file, reference_run):
    from rlvr.runs.session import ResumeRefused

    run_dir = tmp_path / "run"
    shutil.copytree(reference_run, run_dir)
    changed_lr = rlvr_train(["--resume", str(run_dir), "steps=7", "optim.lr=0.02"])
    assert changed_lr.returncode == 2
    assert "rlvr: error: cannot resume from" in changed_lr.stderr
    assert "config changed: optim.lr: 0.01 -> 0.02" in changed_lr.stderr
    assert "pass --allow-resume-mismatch config" in changed_lr.stderr
    other_data = write_task(tmp_path / "other.jsonl", train_rows=5)
    with pytest.raises(ResumeRefused, match=r"train dataset changed: 4 rows .* -> 5 rows"):
        _resume_in_process(run_dir, f"task.path={other_data}", "checkpoint.allow_mismatch=[config]")
    other_tok = shutil.copytree(tiny_model_dir, tmp_path / "model-b")
    tok_cfg = json.loads((other_tok / "tokenizer_config.json").read_text())
    (other_tok / "chat_template.jinja").write_text("{{ messages[0]['content'] }}")
    tok_cfg["chat_template"] = "{{ messages[0]['content'] }}"
    (other_tok / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    with pytest.raises(ResumeRefused, match=r"tokenizer changed: sha256"):
        _resume_in_process(run_dir, f"model.name={other_tok}", "checkpoint.allow_mismatch=[config]")
    assert metrics(run_dir) == metrics(reference_run)  # refusals touched nothing
    _resume_in_process(run_dir, "steps=7", "optim.lr=0.02", "checkpoint.allow_mismatch=[config]")
    assert [m["step"] for m in metrics(run_dir)] == list(range(7))
    assert metrics(run_dir)[:6] == metrics(reference_run)


def _state_without_wall_time(path):
    """trainer.json without ``counters.train_wall_s`` (the step loop's wall time, for
    ``max_wall_minutes``: a clock reading, the one field a resumed run may not share)."""
    state = json.loads(path.read_text())
    assert state["counters"].pop("train_wall_s") > 0
    return state
