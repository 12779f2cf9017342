"""Promises of the sandbox API outside the adversarial suite: probe, level choice, protocol."""

from __future__ import annotations

import pytest

from rlvr.sandbox import CallCase, SandboxConfig, SandboxUnavailable, Verdict
from rlvr.sandbox.compare import stdio_equal, strict_equal
from rlvr.sandbox.driver import decode, encode
from rlvr.sandbox.probe import Capabilities
from rlvr.sandbox.runner import select_level
from rlvr.sandbox.verdicts import worst

NO_BWRAP = Capabilities(level="degraded", bwrap=None, bwrap_version=None, userns=False, root=True,
                        setpriv=True, prlimit=True, seccomp=True, python="/usr/bin/python3",
                        reason="bubblewrap (bwrap) not found")


def test_degraded_level_only_when_allowed() -> None:
    with pytest.raises(SandboxUnavailable, match="allow_degraded"):
        select_level(SandboxConfig(), NO_BWRAP)
    with pytest.raises(SandboxUnavailable, match="level=full"):
        select_level(SandboxConfig(level="full"), NO_BWRAP)
    assert select_level(SandboxConfig(allow_degraded=True), NO_BWRAP) == "degraded"


@pytest.mark.parametrize("value", [0, -7, 2**200, 1.5, float("inf"), "s", b"\x00", None, True,
                                   [1, (2, "x")], {"a": [1.0]}, {1: 2}, {3, 4}, frozenset({5})])
def test_codec_round_trips_plain_values(value: object) -> None:
    assert strict_equal(decode(encode(value)), value)


def test_type_strict_comparison() -> None:
    assert not strict_equal(2, 2.0) and not strict_equal(True, 1) and not strict_equal([1], (1,))
    assert not strict_equal(float("nan"), float("nan"))
    assert strict_equal(0.1 + 0.2, 0.3) and not strict_equal({1: 0}, {True: 0})
    assert not stdio_equal(b"5\n", b"5\n6\n", "lines") and stdio_equal(b"5  \n\n", b"5\n", "lines")


def test_worst_verdict() -> None:
    assert worst([Verdict.PASS, Verdict.FAIL_WRONG, Verdict.TIMEOUT]) is Verdict.TIMEOUT
    assert worst([Verdict.PASS]) is Verdict.PASS


def test_degraded_mode_runs_and_kills(tmp_path) -> None:
    """What remains without namespaces: verdicts, deadline, rlimits (forced degraded level)."""
    from rlvr.sandbox import Sandbox

    box = Sandbox(SandboxConfig(level="degraded", timeout_s=2, memory_mb=256))
    cases = [CallCase((1, 2), 3)]
    assert box.run_calls("def add(a, b):\n    return a + b\n", "add", cases).verdict is Verdict.PASS
    assert box.run_calls("import sys\nsys.exit(0)\n", "add", cases).verdict is Verdict.FAIL_RUNTIME
    assert box.run_calls("while True:\n    pass\n", "add", cases).verdict is Verdict.TIMEOUT
    assert box.run_calls("x = bytearray(2**30)\n", "add", cases).verdict is Verdict.MEMORY


def test_fingerprint_names_the_level(sandbox) -> None:
    fp = sandbox.fingerprint()
    assert fp["level_in_use"] == "full" and fp["bwrap_version"]


def test_empty_case_list_is_dataset_error(sandbox) -> None:
    assert sandbox.run_calls("def add(a, b): return 0", "add", []).verdict is Verdict.DATASET_ERROR
    assert sandbox.run_stdio("print(1)", []).verdict is Verdict.DATASET_ERROR
