"""Why a code attempt failed, in words, for a feedback turn (``env.name=code_feedback``).

The score never comes from here: the task's verifier scores the attempt. This re-runs the
attempt to find the first failing test and describe it. Per-case verdicts come from the
verifier's own run (call and program tests stay outside the candidate's process); the failing
call or test program is then re-run once as a plain script, whose traceback gives the exception
type and message and the failing ``assert`` line. That script runs the test program in the
candidate's process, so only the failing line and the exception line are shown, truncated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlvr.rewards.code import CodeVerifier, extract_code, with_prompt_imports
from rlvr.sandbox import RunOutcome, StdioCase, Verdict
from rlvr.types import TaskRow

_FRAME = re.compile(r'File "(?:[^"]*/)?solution\.py", line (\d+)')
WORDS = {
    Verdict.TIMEOUT: "timed out (TIMEOUT: it ran past the time limit; look for an endless loop "
                     "or a too slow algorithm)",
    Verdict.MEMORY: "ran out of memory (MEMORY)",
    Verdict.OUTPUT_LIMIT: "printed or returned too much (OUTPUT_LIMIT)",
    Verdict.CRASH_SIGNAL: "crashed (CRASH_SIGNAL)",
}
"""Verdicts whose words are the whole description (there is no traceback to show)."""


@dataclass(frozen=True)
class Failure:
    """The description of a failed attempt, or ``infra_error`` when the sandbox failed."""

    text: str
    infra_error: str | None = None


_INFRA = Failure("", "sandbox infrastructure error in a code_feedback run")


def explain(verifier: CodeVerifier, completion: str, row: TaskRow, verdict: str = "") -> Failure:
    """The first failing test of ``completion`` on the code row ``row``, described. ``verdict``
    is the scoring run's verdict: a test program has one for all its tests, so it is not
    re-run to learn it again (a TIMEOUT would cost a second time limit)."""
    spec = row.metadata["code"]
    code = extract_code(completion, spec.get("entry_point"))
    if code is None:
        return Failure("No code found: reply with the complete function in a ```python block.")
    if spec["kind"] == "stdio":
        return _explain_stdio(verifier, code, spec)
    code = with_prompt_imports(code, row.prompt)
    known = next((v for v in Verdict if v.value == verdict), None)
    if spec["kind"] == "program" and known is not None:
        return _explain_program(verifier, code, spec, known)
    outcome = verifier.run(code, spec)
    if outcome.verdict is Verdict.INFRA_ERROR:
        return _INFRA
    if spec["kind"] == "call":
        return _explain_calls(verifier, code, spec, outcome)
    return _explain_program(verifier, code, spec, outcome.verdict)


def _explain_calls(verifier: CodeVerifier, code: str, spec: dict, outcome: RunOutcome
                   ) -> Failure:
    failing = [i for i, v in enumerate(outcome.cases) if v is not Verdict.PASS]
    if not failing:
        return Failure(f"The tests did not all pass ({outcome.verdict.value}).")
    index, entry = failing[0], spec["entry_point"]
    case, verdict = spec["cases"][index], outcome.cases[index]
    head = (f"Test {index + 1} of {len(spec['cases'])} failed: "
            f"{entry}({', '.join(repr(a) for a in case['args'])})")
    if verdict in WORDS:
        return Failure(f"{head} {WORDS[verdict]}.")
    script = f"{code}\n\nprint(repr({entry}(*{list(case['args'])!r})))\n"
    run = _plain_run(verifier, script)
    if run.verdict is Verdict.INFRA_ERROR:
        return _INFRA
    if run.verdict is Verdict.FAIL_RUNTIME:
        return Failure(f"{head} raised {last_exception(run.stderr)}.")
    if run.verdict in WORDS:
        return Failure(f"{head} {WORDS[run.verdict]}.")
    got = run.stdout.decode("utf-8", "replace").strip().splitlines()
    return Failure(f"{head} should return {case['expected']!r} but returned "
                   f"{got[-1] if got else 'nothing'}.")


def _explain_program(verifier: CodeVerifier, code: str, spec: dict, verdict: Verdict
                     ) -> Failure:
    if verdict in WORDS:
        return Failure(f"The tests {WORDS[verdict]}.")
    head = f"{spec.get('prelude', '')}\n{code}\n\n"
    first = head.count("\n") + 1  # the script line where the test program starts
    script = f"{head}{spec['tests']}\n\ncheck({spec['entry_point']})\n"
    run = _plain_run(verifier, script)
    if run.verdict is Verdict.INFRA_ERROR:
        return _INFRA
    if run.verdict is not Verdict.FAIL_RUNTIME:
        return Failure(f"The tests failed ({verdict.value}).")
    lines = script.splitlines()
    last = first + spec["tests"].count("\n")
    in_tests = [int(n) for n in _FRAME.findall(run.stderr.decode("utf-8", "replace"))
                if first <= int(n) <= last and int(n) <= len(lines)]
    where = f"Failing test: {lines[in_tests[-1] - 1].strip()}\n" if in_tests else ""
    return Failure(f"{where}Error: {last_exception(run.stderr)}")


def _explain_stdio(verifier: CodeVerifier, code: str, spec: dict) -> Failure:
    cases = spec["cases"]
    for index, case in enumerate(cases):
        run = verifier.sandbox.run_stdio(
            code, [StdioCase(case["stdin"].encode(), case["stdout"].encode())],
            verifier.cfg.stdio_compare)
        if run.verdict is Verdict.PASS:
            continue
        if run.verdict is Verdict.INFRA_ERROR:
            return _INFRA
        head = f"Test {index + 1} of {len(cases)} failed: input {case['stdin']!r}"
        if run.verdict is Verdict.FAIL_RUNTIME:
            return Failure(f"{head}: the program raised {last_exception(run.stderr)}.")
        if run.verdict in WORDS:
            return Failure(f"{head}: the program {WORDS[run.verdict]}.")
        got = run.stdout.decode("utf-8", "replace")
        return Failure(f"{head}: expected output {case['stdout']!r}, got {got!r}.")
    return Failure("The tests did not all pass on a re-run (a flaky verdict).")


def _plain_run(verifier: CodeVerifier, script: str) -> RunOutcome:
    """``script`` as a program with empty stdin; FAIL_RUNTIME means it raised (see stderr)."""
    return verifier.sandbox.run_stdio(script, [StdioCase(b"", b"")], "exact")


def last_exception(stderr: bytes) -> str:
    """The final line of a traceback (``ValueError: bad``), else the last stderr line."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "an error (no message)"
