"""The public API: run a candidate against tests in fresh jails and get a verdict per case.

``Sandbox(cfg)`` probes the machine once, picks the level (refusing a degraded level unless the
config allows it) and then offers three kinds of run:

* ``run_calls``   - call cases ``(args, expected)``: values come back through the driver and are
  compared here with ``strict_equal``; expected values never enter the jail;
* ``run_program`` - a trusted test program (a HumanEval ``check(candidate)``) runs in the driver
  against the candidate in another process;
* ``run_stdio``   - one jail per (stdin, expected stdout) pair, compared here as bytes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from rlvr.sandbox.compare import StdioCompare, stdio_equal, strict_equal
from rlvr.configs.sandbox import SandboxConfig
from rlvr.sandbox.driver import decode, encode
from rlvr.sandbox.probe import Capabilities, probe
from rlvr.sandbox.supervisor import RawRun, Supervisor
from rlvr.sandbox.verdicts import Verdict, worst

log = logging.getLogger(__name__)
_SIGXCPU = 24


class SandboxUnavailable(RuntimeError):
    """The configured sandbox level cannot be provided on this machine."""


@dataclass(frozen=True)
class CallCase:
    args: tuple | list
    expected: object


@dataclass(frozen=True)
class StdioCase:
    stdin: bytes
    expected: bytes


@dataclass(frozen=True)
class RunOutcome:
    """The verdict of a candidate on a test set, with one verdict per case."""

    verdict: Verdict
    cases: list[Verdict] = field(default_factory=list)
    elapsed_s: float = 0.0
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def passed(self) -> int:
        return sum(v is Verdict.PASS for v in self.cases)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.cases) if self.cases else 0.0


def select_level(cfg: SandboxConfig, caps: Capabilities) -> str:
    """The level to run at, or SandboxUnavailable naming what is missing and the config key."""
    if cfg.level in ("auto", "full") and caps.level == "full":
        return "full"
    if cfg.level == "full":
        raise SandboxUnavailable(f"sandbox.level=full but {caps.reason}")
    if caps.level == "none":
        raise SandboxUnavailable("no sandbox possible: prlimit (util-linux) is missing")
    if cfg.level == "degraded" or cfg.allow_degraded:
        log.warning("sandbox level DEGRADED (%s): no namespaces; see docs/sandbox.md", caps.reason)
        return "degraded"
    raise SandboxUnavailable(
        f"{caps.reason}; refusing to run untrusted code without namespaces "
        "(set sandbox.allow_degraded=true to accept the degraded level)")


def _failure_of(record: dict) -> Verdict:
    """Verdict of a case record that is not a returned value."""
    status = record.get("status")
    if status == "too_large":
        return Verdict.OUTPUT_LIMIT
    if status == "dataset_error":
        return Verdict.DATASET_ERROR
    if status in ("bad_type", "wrong"):
        return Verdict.FAIL_WRONG
    if status == "signal":
        return Verdict.TIMEOUT if record.get("signal") == _SIGXCPU else Verdict.CRASH_SIGNAL
    if status == "error" and (record.get("type") == "MemoryError" or record.get("errno") == 12):
        return Verdict.MEMORY
    return Verdict.FAIL_RUNTIME


def _run_failure(raw: RawRun) -> Verdict:
    """Verdict for cases that produced no record."""
    if not raw.started:
        return Verdict.INFRA_ERROR
    if raw.output_limit or raw.result_overflow:
        return Verdict.OUTPUT_LIMIT
    if raw.timed_out:
        return Verdict.TIMEOUT
    if b"MemoryError" in raw.stderr[-4096:]:
        return Verdict.MEMORY
    return Verdict.FAIL_RUNTIME


def _value_verdict(record: dict, want: object, rel_tol: float) -> Verdict:
    if record.get("status") != "ok":
        return _failure_of(record)
    try:
        got = decode(record.get("value"))
    except (ValueError, RecursionError, OverflowError):
        return Verdict.FAIL_WRONG
    return Verdict.PASS if strict_equal(got, want, rel_tol) else Verdict.FAIL_WRONG


def _combine(raw: RawRun, per_case: list[Verdict], n_cases: int) -> RunOutcome:
    """Pad missing cases with the run's failure; PASS overall needs every case and ``done``."""
    complete = raw.done and len(per_case) == n_cases and not raw.output_limit
    cases = per_case + [_run_failure(raw)] * (n_cases - len(per_case))
    overall = worst(cases) if complete else worst(cases + [_run_failure(raw)])
    return RunOutcome(overall, cases, raw.elapsed_s, raw.stdout, raw.stderr)


class Sandbox:
    """Runs candidates in fresh jails. Thread-safe; up to ``cfg.slots`` jails at once."""

    def __init__(self, cfg: SandboxConfig | None = None) -> None:
        self.cfg = cfg or SandboxConfig()
        self.caps = probe(self.cfg.python)
        self.level = select_level(self.cfg, self.caps)
        self.supervisor = Supervisor(self.cfg, self.caps, self.level)

    def fingerprint(self) -> dict[str, object]:
        """Capabilities and the level in use, for run metadata."""
        return {**self.caps.fingerprint(), "level_in_use": self.level}

    def _run(self, job: dict, secret: dict, stdin: bytes = b"") -> RawRun | RunOutcome:
        try:
            return self.supervisor.run(job, secret, stdin)
        except OSError as err:  # could not launch (fds, fork): masked and counted, never a 0
            log.error("sandbox launch failed: %s", err)
            return RunOutcome(Verdict.INFRA_ERROR)

    def run_calls(self, source: str, entry_point: str, cases: list[CallCase],
                  rel_tol: float = 1e-9) -> RunOutcome:
        """Call ``entry_point(*args)`` for every case in one jail; compare values here."""
        if not cases:
            return RunOutcome(Verdict.DATASET_ERROR)
        try:
            args = [encode(list(case.args)) for case in cases]
        except Exception as err:  # the dataset's inputs are not plain data
            log.warning("call case inputs not encodable: %s", err)
            return RunOutcome(Verdict.DATASET_ERROR)
        job = {"mode": "call", "source": source, "entry_point": entry_point, "args": args}
        raw = self._run(job, {})
        if isinstance(raw, RunOutcome):
            return raw
        by_id = {r.get("id"): r for r in raw.records}
        per_case = []
        for i, case in enumerate(cases):
            if i not in by_id:
                break
            per_case.append(_value_verdict(by_id[i], case.expected, rel_tol))
        return _combine(raw, per_case, len(cases))

    def run_program(self, source: str, entry_point: str, tests: str, prelude: str = ""
                    ) -> RunOutcome:
        """Run a trusted test program defining ``check(candidate)`` against the candidate."""
        if "def check" not in tests:
            return RunOutcome(Verdict.DATASET_ERROR)
        job = {"mode": "program", "source": source, "entry_point": entry_point, "args": []}
        raw = self._run(job, {"tests": tests, "prelude": prelude})
        if isinstance(raw, RunOutcome):
            return raw
        per_case = []
        if raw.records:
            status = raw.records[0].get("status")
            per_case = [Verdict.PASS if status == "pass" else _failure_of(raw.records[0])]
        return _combine(raw, per_case, 1)

    def run_stdio(self, source: str, cases: list[StdioCase], compare: StdioCompare = "lines"
                  ) -> RunOutcome:
        """One jail per case: feed stdin, compare stdout here under the declared normalisation."""
        if not cases:
            return RunOutcome(Verdict.DATASET_ERROR)
        verdicts, elapsed, last = [], 0.0, RunOutcome(Verdict.DATASET_ERROR)
        for case in cases:
            last = self._stdio_case(source, case, compare)
            verdicts.append(last.verdict)
            elapsed += last.elapsed_s
        return RunOutcome(worst(verdicts), verdicts, elapsed, last.stdout, last.stderr)

    def _stdio_case(self, source: str, case: StdioCase, compare: StdioCompare) -> RunOutcome:
        raw = self._run({"mode": "stdio", "source": source}, {}, case.stdin)
        if isinstance(raw, RunOutcome):
            return raw
        per_case = []
        if raw.records:
            record = raw.records[0]
            if record.get("status") == "exited" and record.get("code") == 0:
                same = stdio_equal(raw.stdout, case.expected, compare)
                per_case = [Verdict.PASS if same else Verdict.FAIL_WRONG]
            elif record.get("status") == "exited" and b"MemoryError" in raw.stderr[-4096:]:
                per_case = [Verdict.MEMORY]
            else:
                per_case = [_failure_of(record)]
        return _combine(raw, per_case, 1)


def timeout_share(outcomes: list[RunOutcome]) -> float:
    """Share of runs that timed out (a health metric for reference solutions)."""
    return sum(o.verdict is Verdict.TIMEOUT for o in outcomes) / max(len(outcomes), 1) if outcomes \
        else math.nan
