"""Every task rlvr ships is listed by `rlvr tasks list`, shown by `rlvr tasks show`, and its
example config loads; showing a task runs its real verifier on the reference (HumanEval runs in
the sandbox, so that case needs bubblewrap)."""

from pathlib import Path

import pytest

from rlvr import cli
from rlvr.config import load_config
from rlvr.data.catalogue import FILE_KINDS, SHIPPED_TASKS
from rlvr.sandbox.probe import probe

REPO = Path(__file__).resolve().parents[2]


def test_tasks_list_names_every_shipped_task_and_file_kind(capsys):
    assert cli.main(["tasks", "list"]) == 0
    out = capsys.readouterr().out
    for name, task in SHIPPED_TASKS.items():
        line = next(line for line in out.splitlines() if line.split()[:1] == [name])
        assert task.description in line
        if task.example_config:
            assert f"[{task.example_config}]" in line
    for kind in FILE_KINDS:
        assert f"  {kind} " in out
    assert "chain_sum" in out  # the reasoning-gym generators follow


@pytest.mark.parametrize("name", list(SHIPPED_TASKS))
def test_tasks_show_runs_the_verifier_on_the_reference(name, capsys):
    if SHIPPED_TASKS[name].config["kind"] == "humaneval" and probe().level != "full":
        pytest.skip(f"the code sandbox is not available here: {probe().reason}")
    assert cli.main(["tasks", "show", name]) == 0
    out = capsys.readouterr().out
    assert "[user]" in out and "[reference]" in out
    assert "[verifier on the reference] score=1.0" in out


@pytest.mark.parametrize("name", [n for n, t in SHIPPED_TASKS.items() if t.example_config])
def test_example_configs_use_their_task(name):
    task = SHIPPED_TASKS[name]
    cfg = load_config(str(REPO / task.example_config), [])
    assert cfg.task.kind == task.config["kind"]
