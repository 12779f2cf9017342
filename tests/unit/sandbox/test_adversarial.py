"""The adversarial suite S01-S65 (reliability.md §1.6) against the real jail, with the host
invariants checked after every row: harness alive, no leftover slot processes, no files outside
the jail, host disk unchanged, wall time within deadline + 2 s, an honest concurrent run passes."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sandbox_rows import ROW_IDS, ROWS, Row
from sandbox_support import (HONEST_ROW, SUITE_CFG, all_or_nothing, disk_free, files_of_uids,
                             leftover_processes, run_row, slot_uids)

from rlvr.sandbox import Sandbox, Verdict

SECRETS = {"HF_TOKEN": "sekrit", "WANDB_API_KEY": "sekrit", "AWS_SECRET_ACCESS_KEY": "sekrit",
           "OPENAI_API_KEY": "sekrit", "RAY_ADDRESS": "sekrit", "RLVR_TEST_SECRET": "sekrit"}


def _planted_file_survives(sandbox: Sandbox) -> bool:
    """S28: a later job must see a fresh /tmp (the daemon of the previous job is dead)."""
    probe_src = ("import os, time\ntime.sleep(0.6)\n"
                 "def add(a, b):\n    return a + b if os.path.exists('/tmp/planted') else -1\n")
    return run_row(sandbox, HONEST_ROW.__class__("probe", probe_src, frozenset())).verdict \
        is Verdict.PASS


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_adversarial_row(row: Row, sandbox: Sandbox, listener, monkeypatch, tmp_path) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    free_before = disk_free()
    honest: dict = {}
    thread = threading.Thread(target=lambda: honest.update(outcome=run_row(sandbox, HONEST_ROW)))
    start = time.monotonic()
    thread.start()
    outcome = run_row(sandbox, row, listener.port)
    elapsed = time.monotonic() - start
    thread.join()

    detail = f"{row.id}: got {outcome.verdict} cases={outcome.cases} stderr={outcome.stderr[-300:]!r}"
    assert outcome.verdict in row.expected, detail
    if row.hack:
        assert all_or_nothing(outcome) == 0.0, detail
    assert outcome.pass_rate <= row.max_pass_rate + 1e-9, detail
    # host invariants
    assert honest["outcome"].verdict is Verdict.PASS, "honest concurrent run failed"
    assert elapsed <= SUITE_CFG.timeout_s + 2.0 + 1.0, f"took {elapsed:.1f}s"  # +1: drain margin
    assert leftover_processes(SUITE_CFG) == {}
    assert files_of_uids(slot_uids(SUITE_CFG)) == []
    assert os.listdir(tmp_path) == [], "files appeared in the harness's working directory"
    assert free_before - disk_free() < 64 << 20, "host disk shrank"
    assert listener.connections == 0, "the candidate reached a host listener"
    if row.id == "S28":
        assert not _planted_file_survives(sandbox)


def _flood(n_copies: int, n_honest: int) -> None:
    """S45: copies of S01 (fork bomb), S05 (memory) and S12 (output) with honest runs, all at once."""
    from concurrent.futures import ThreadPoolExecutor

    from sandbox_support import full_sandbox

    cfg = SUITE_CFG.model_copy(update={"slots": 3 * n_copies + n_honest, "timeout_s": 4.0})
    box = full_sandbox(cfg)
    hostile = [r for r in ROWS if r.id in ("S01", "S05", "S12")] * n_copies
    jobs = hostile + [HONEST_ROW] * n_honest
    with ThreadPoolExecutor(len(jobs)) as pool:
        outcomes = list(pool.map(lambda row: run_row(box, row), jobs))
    for row, outcome in zip(jobs, outcomes):
        assert outcome.verdict in row.expected, f"{row.id}: {outcome.verdict}"
    assert leftover_processes(cfg) == {}


def test_s45_flood_small() -> None:
    _flood(n_copies=3, n_honest=4)


@pytest.mark.slow
def test_s45_flood_full() -> None:
    _flood(n_copies=22, n_honest=8)  # 66 hostile jails + 8 honest runs on the 2-core box
