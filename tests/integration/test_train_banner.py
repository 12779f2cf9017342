"""`rlvr train` says what it will do (banner), what it will cost (ETA after the first step) and,
at the end, the before/after table read from the run directory: after a SIGTERM and a resume the
*before* column still comes from eval_before.json, written by the first process."""

import re

from faults_support import rlvr_train, train_args, write_task


def _args(tiny_model_dir, tmp_path):
    args = [a for a in train_args(tiny_model_dir, write_task(tmp_path / "sums.jsonl"),
                                  tmp_path / "run", steps=3, every=1) if a != "eval=null"]
    return args + ["eval.max_new_tokens=4"]


def test_banner_eta_and_summary_survive_a_resume(tiny_model_dir, tmp_path):
    args = _args(tiny_model_dir, tmp_path)
    first = rlvr_train(args, fault="stage:update:2", signal="TERM")  # preempted in step 1
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    assert re.search(r"rlvr train: .+ \([\d.]+[kMB]? parameters\)", out), out
    assert re.search(r"\n  cpu: .+, \d+ threads of \d+ cores, flags .+, bf16 (fast|slow: fp32)\n",
                     out), out
    for label in ("device     cpu\n", "precision  weights float32", "per step   2 prompts x 2 "
                  "samples x <= 4 new tokens", "run        3 steps"):
        assert label in out, (label, out)
    assert re.search(r"first step took \d+\.\d s; about \d+ s left \(\d+ s training \+ \d+ s "
                     r"final evaluation\)", out), out
    assert (tmp_path / "run" / "eval_before.json").is_file()
    import json
    settings = json.loads((tmp_path / "run" / "eval_before.json").read_text())["settings"]
    assert settings["prompts_per_batch"] == 64  # eval.prompts_per_batch: all held-out rows at once

    resumed = rlvr_train(args + ["--resume", str(tmp_path / "run")])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "(resuming at step 2)" in resumed.stdout
    table = next(line for line in resumed.stdout.splitlines() if line.startswith("greedy accuracy"))
    before, after = table.split()[2:4]
    assert before != "-" and after != "-", table  # before: from the first process's file
    assert f"report: rlvr report {tmp_path / 'run'}" in resumed.stdout
    assert "wall time" in (tmp_path / "run" / "eval_summary.txt").read_text()
