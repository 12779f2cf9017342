"""`rlvr init DIR` writes a project that `rlvr train DIR/config.yaml` trains at once (on the tiny
model here), with the project's own reward function scored in the verifier pool."""

import json

from rlvr import cli
from rlvr.config import load_config


def test_init_then_train_two_steps(tiny_model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "proj"]) == 0
    assert "train it:  rlvr train proj/config.yaml" in capsys.readouterr().out
    cfg = load_config("proj/config.yaml", [])
    assert cfg.task.kind == "file" and cfg.reward.terms[0].path == "proj/reward.py:score"
    rows = [json.loads(line) for line in (tmp_path / "proj/data.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and all(int(r["reference"]) > 0 for r in rows)

    code = cli.main(["train", "proj/config.yaml", f"model.name={tiny_model_dir}", "steps=2",
                     "rollout.max_new_tokens=6", "log.progress=false"])
    assert code == 0
    metrics = [json.loads(line) for line in
               (tmp_path / "proj/runs/first/metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [0, 1]
    assert all("reward/my_reward" in m for m in metrics)


def test_init_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "proj"]) == 0
    (tmp_path / "proj/reward.py").write_text("# my edits\n")
    assert cli.main(["init", "proj"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / "proj/reward.py").read_text() == "# my edits\n"
    assert cli.main(["init", "proj", "--force"]) == 0
    assert "def score" in (tmp_path / "proj/reward.py").read_text()
