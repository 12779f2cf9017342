"""`rlvr eval`, `compare` and `report` end to end with a tiny random model built in code, the
real HF engine and a real reasoning-gym task (no network, no cached weights)."""

import json

from rlvr.cli_eval import main


def run_eval(model_dir, out, seed=0):
    return main(["eval", "--model", str(model_dir), "--task", "chain_sum", "--n", "4",
                 "--k", "1,2,4", "--prompts", "6", "--max-new-tokens", "6", "--seed", str(seed),
                 "--prompts-per-batch", "4", "--quiet", "--out", str(out),
                 "task.train_size=20", "model.autocast='off'",
                 "reward.pool.deadline_s=120"])  # a loaded 2-core CI box starts workers slowly


def test_eval_is_reproducible_and_compare_and_report_work(tiny_model_dir, tmp_path, capsys):
    assert run_eval(tiny_model_dir, tmp_path / "a.json") == 0
    assert run_eval(tiny_model_dir, tmp_path / "b.json") == 0
    a, b = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert a["status"] == "complete" and len(a["prompts"]) == 6
    assert a["summary"] == b["summary"]
    assert [p["answers"] for p in a["prompts"]] == [p["answers"] for p in b["prompts"]]
    assert set(a["summary"]["pass@k"]) == {"1", "2", "4"}
    assert all(len(p["scores"]) == 4 and 0 <= p["c"] <= p["n"] for p in a["prompts"])

    partial = dict(a, status="partial", prompts=a["prompts"][:4], summary={})  # 1st batch only
    (tmp_path / "resumed.json").write_text(json.dumps(partial))
    assert run_eval(tiny_model_dir, tmp_path / "resumed.json") == 0
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["prompts"] == a["prompts"] and resumed["summary"] == a["summary"]

    run_eval(tiny_model_dir, tmp_path / "c.json", seed=1)
    c = json.loads((tmp_path / "c.json").read_text())
    assert [p["lengths"] for p in c["prompts"]] != [p["lengths"] for p in a["prompts"]]

    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "c.json"),
                 "--out", str(out)]) == 0
    assert (out / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
    table = (out / "compare.md").read_text()
    assert "Solved-set overlap at k=4" in table and "| a | c | 4 |" in table

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "eval_after.json").write_text((tmp_path / "a.json").read_text())
    (run_dir / "metrics.jsonl").write_text('{"step": 0, "reward/mean": 0.1}\n')
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report" / "report.html").is_file()
    assert "report:" in capsys.readouterr().out
