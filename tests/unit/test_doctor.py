"""`rlvr doctor` reports every check on this machine, and a failed check prints its fix."""

from pathlib import Path

from rlvr import doctor
from rlvr.cli import main

ALL_CHECKS = ["python", "packages", "cpu", "cuda", "sandbox", "chromium", "model cache", "disk",
              "extras"]


def test_doctor_reports_every_check(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RLVR_CACHE", str(tmp_path / "cache"))
    code = main(["doctor"])
    out = capsys.readouterr().out
    names = [line.split()[1] if line.split()[1] != "model" else "model cache"
             for line in out.splitlines()[1:] if line.startswith("  ") and line.split()[0].isupper()]
    assert names == ALL_CHECKS
    assert code == 0 and "ready:" in out


def test_an_unwritable_model_cache_fails_with_its_fix(capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RLVR_CACHE", str(blocker / "cache"))
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  model cache" in out
    assert "fix: export RLVR_CACHE=/a/writable/directory" in out
    assert "the quickstart cannot run: model cache" in out


def test_a_missing_browser_warns_but_does_not_fail(monkeypatch):
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    check = doctor.check_chromium()
    assert (check.status, check.fix) == ("warn", "apt-get install -y chromium")
    assert doctor.exit_code([check]) == 0


def test_too_little_disk_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda p: type("U", (), {"free": 10**9})())
    check = doctor.check_disk(Path(tmp_path))
    assert check.status == "fail" and "1.0 GB free" in check.detail
    assert doctor.exit_code([check]) == 1
