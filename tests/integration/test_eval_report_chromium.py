"""Open the HTML report in headless Chromium and check that every plot decodes.

Needs the Debian package `chromium` (apt-get install -y chromium); skipped without it.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.eval.report import write_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "eval"))
from eval_fixtures import write_synthetic_run  # noqa: E402

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                    "(Debian: apt-get install -y chromium)")
def test_report_plots_load_in_headless_chromium(tmp_path):
    run_dir = write_synthetic_run(tmp_path / "run")
    report = write_report(run_dir)
    num_plots = len(list((report.parent / "plots").glob("*.png")))
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
               "--dump-dom", report.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<body[^>]*data-plots-loaded="(\d+)/(\d+)"', done.stdout)
    assert match, f"the report's load script did not run; DOM starts: {done.stdout[:500]}"
    loaded, total = int(match.group(1)), int(match.group(2))
    assert total == num_plots >= 4
    assert loaded == total


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                    "(Debian: apt-get install -y chromium)")
def test_the_overview_panels_come_first_in_the_browser(tmp_path):
    """The rendered DOM (after the browser parsed and laid it out) starts with the "did it
    learn?" section, whose panels are all present and decoded."""
    run_dir = write_synthetic_run(tmp_path / "run")
    report = write_report(run_dir)
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
               "--dump-dom", report.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    assert re.findall(r"<h2>([^<]+)</h2>", dom)[:2] == ["Did it learn?", "Diagnostics"]
    overview = dom[dom.index('<section id="overview">'):dom.index("</section>")]
    assert re.findall(r'data-panel="([a-z_]+)"', overview) == [
        "learning", "heldout", "pass_at_k", "stages", "samples"]
    assert len(re.findall(r"<img data-plot=", overview)) == 4
