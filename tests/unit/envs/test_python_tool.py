"""The python tool through the real sandbox: output, truncation, errors, no escape; a
sandbox that cannot start is an infra error."""

from __future__ import annotations

import shutil

import pytest

from rlvr.configs.sandbox import SandboxConfig
from rlvr.envs.python_tool import PythonTool

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@needs_bwrap
def test_output_truncation_errors_and_isolation():
    tool = PythonTool(SandboxConfig(timeout_s=2.0), output_chars=20)
    assert tool({"code": "print(6*7)"}).output == "42\n"
    long = tool({"code": "print('x' * 100)"})
    assert long.output == "x" * 20 + "\n[truncated]" and not long.error
    bad = tool({"code": "1/0"})
    assert bad.error and bad.output.startswith("python error: ZeroDi")
    hang = tool({"code": "while True: pass"})
    assert hang.error and hang.output == "python error: the program timed out"
    escape = tool({"code": "print(open('/etc/passwd').read())"})
    assert escape.error and "root:" not in escape.output


def test_unavailable_sandbox_is_an_infra_error():
    tool = PythonTool(SandboxConfig(python="/nonexistent/python3"), output_chars=20)
    out = tool({"code": "print(1)"})
    assert out.infra_error is not None and out.output == ""
