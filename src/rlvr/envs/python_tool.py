"""The ``python`` tool: the model's code runs in a fresh bubblewrap jail (rlvr/sandbox) with
the configured limits; its stdout (or the error) comes back, truncated. Sandbox
infrastructure failures are infra errors (the episode is masked and counted), never output."""

from __future__ import annotations

import threading

from rlvr.configs.sandbox import SandboxConfig
from rlvr.envs.tools import ToolResult, truncate
from rlvr.sandbox import Sandbox, SandboxUnavailable, StdioCase, Verdict

_FAILURES = {Verdict.TIMEOUT: "timed out", Verdict.MEMORY: "ran out of memory",
             Verdict.OUTPUT_LIMIT: "printed too much", Verdict.CRASH_SIGNAL: "crashed"}


class PythonTool:
    """One sandbox (probed once, on first use) shared by every episode; thread-safe."""

    def __init__(self, cfg: SandboxConfig, output_chars: int) -> None:
        self.cfg, self.output_chars = cfg, output_chars
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = Sandbox(self.cfg)
            return self._sandbox

    def __call__(self, args: dict[str, str]) -> ToolResult:
        try:
            run = self.sandbox().run_stdio(args["code"], [StdioCase(b"", b"")], compare="exact")
        except SandboxUnavailable as err:
            return ToolResult("", infra_error=f"python tool: sandbox unavailable: {err}")
        if run.verdict in (Verdict.INFRA_ERROR, Verdict.DATASET_ERROR):
            return ToolResult("", infra_error=f"python tool: sandbox verdict {run.verdict}")
        stdout = run.stdout.decode("utf-8", "replace")
        if run.verdict in (Verdict.PASS, Verdict.FAIL_WRONG):  # exited 0; output is the result
            return ToolResult(truncate(stdout, self.output_chars))
        if run.verdict in _FAILURES:
            return ToolResult(f"python error: the program {_FAILURES[run.verdict]}", error=True)
        stderr = run.stderr.decode("utf-8", "replace").strip().splitlines()
        last = stderr[-1] if stderr else "the program failed"
        return ToolResult(truncate(f"{stdout}python error: {last}", self.output_chars), error=True)
