"""A deliberately weak harness, kept in the tests only, to prove the suite has teeth.

It is the pattern of the in-process graders surveyed in reliability.md §1.1: the candidate is
``exec``'d in the same process as the checks, dangerous functions are nulled out, SIGALRM is the
timeout, ``unittest``/``math.isclose`` compare, and a run passes when the process exits 0 after
printing a banner. For the host's safety the whole weak harness itself runs inside the real jail;
only its *verdict logic* is under test, so the failures counted are verdict failures.
"""

from __future__ import annotations

from sandbox_rows import Row

from rlvr.sandbox import Sandbox, Verdict

TEMPLATE = '''
import builtins, math, os, shutil, signal, subprocess, sys, unittest
class TimeoutException(Exception):
    pass
def _alarm(*args):
    raise TimeoutException()
signal.signal(signal.SIGALRM, _alarm)
signal.setitimer(signal.ITIMER_REAL, 1.0)
os.fork = os.kill = os.system = os.putenv = shutil.rmtree = subprocess.Popen = None
builtins.exit = builtins.quit = None
sys.modules["resource"] = None
namespace = {{}}
exec(compile({source!r}, "solution.py", "exec"), namespace)
cases = {cases!r}
check = namespace.get("check")
if check is None:
    tc = unittest.TestCase()
    def check(candidate):
        for args, expected in cases:
            got = candidate(*args)
            if isinstance(got, float) or isinstance(expected, float):
                assert math.isclose(got, expected)
            else:
                tc.assertEqual(got, expected)
check(namespace[{entry_point!r}])
print("ALL TESTS PASSED")
'''

STDIO_TEMPLATE = '''
import io, sys
expected = {expected!r}
sys.stdin = io.StringIO({stdin!r})
buffer, real_stdout = io.StringIO(), sys.stdout
sys.stdout = buffer
try:
    exec(compile({source!r}, "solution.py", "exec"), {{"__name__": "__main__"}})
except SystemExit:
    pass
sys.stdout = real_stdout
got = buffer.getvalue().splitlines()
if all(a.strip() == b.strip() for a, b in zip(got, expected.splitlines())):
    print("ALL TESTS PASSED")
'''


def weak_program(row: Row, port: int) -> str:
    source = row.source.replace("{port}", str(port))
    if row.mode == "stdio":
        return STDIO_TEMPLATE.format(source=source, stdin=row.stdio[0].decode(),
                                     expected=row.stdio[1].decode())
    return TEMPLATE.format(source=source, cases=row.cases, entry_point=row.entry_point)


def weak_verdict(sandbox: Sandbox, row: Row, port: int = 9) -> str:
    """The weak harness's own verdict; 'HUNG' when it never concluded (our jail had to kill it)."""
    raw = sandbox.supervisor.run({"mode": "stdio", "source": weak_program(row, port)}, {})
    record = raw.records[0] if raw.records else {}
    if raw.timed_out or not record:
        return "HUNG"
    if raw.output_limit:
        return Verdict.OUTPUT_LIMIT.value
    if record.get("status") == "signal":
        return Verdict.CRASH_SIGNAL.value
    if record.get("code") == 0 and b"ALL TESTS PASSED" in raw.stdout:
        return Verdict.PASS.value
    tail = raw.stderr[-2000:]
    for marker, verdict in ((b"TimeoutException", Verdict.TIMEOUT), (b"MemoryError", Verdict.MEMORY),
                            (b"AssertionError", Verdict.FAIL_WRONG)):
        if marker in tail:
            return verdict.value
    return Verdict.FAIL_WRONG.value if record.get("code") == 0 else Verdict.FAIL_RUNTIME.value
