"""`rlvr eval --suite` on the shipped samples with the tiny random model (n=2, few tokens)."""

from __future__ import annotations

import json

import pytest

from rlvr.cli_eval import main

COMMON = ["--n", "2", "--k", "1,2", "--max-new-tokens", "4", "--quiet", "--suite-sample",
          "model.autocast='off'", "reward.pool.deadline_s=120"]


def test_suites_on_the_shipped_samples(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "suites"
    code = main(["eval", "--model", str(tiny_model_dir), "--suite", "math500,aime,amc,gsm8k,gpqa",
                 "--out", str(out), *COMMON])
    assert code == 0
    text = capsys.readouterr().out
    for title in ("## MATH-500 (math500)", "## AIME (aime)", "## GPQA-style multiple choice",
                  "## Overall"):
        assert title in text
    counts = {"math500": 6, "aime": 5, "amc": 5, "gsm8k": 5, "gpqa": 5}
    for name, rows in counts.items():
        result = json.loads((out / f"{name}__n2.json").read_text())
        assert result["status"] == "complete" and len(result["prompts"]) == rows
        assert result["summary"]["infra_errors"] == 0
        assert all(len(p["scores"]) == 2 for p in result["prompts"])
    assert "| all | 26 |" in (out / "suites.md").read_text()


def test_humaneval_suite_runs_in_the_sandbox(tiny_model_dir, tmp_path, capsys):
    from rlvr.sandbox import SandboxUnavailable

    try:
        from rlvr.rewards.code import CodeVerifier

        CodeVerifier()
    except SandboxUnavailable as err:
        pytest.skip(f"sandbox unavailable: {err}")
    out = tmp_path / "he"
    assert main(["eval", "--model", str(tiny_model_dir), "--suite", "humaneval", "--out",
                 str(out), "--prompts", "2", *COMMON]) == 0
    result = json.loads((out / "humaneval__n2.json").read_text())
    assert len(result["prompts"]) == 2 and result["summary"]["infra_errors"] == 0


def test_a_missing_suite_says_where_to_put_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RLVR_SUITES", raising=False)
    assert main(["eval", "--suite", "aime", "--suite-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "aime.jsonl does not exist" in err and "JSONL: problem, answer" in err
