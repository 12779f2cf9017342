"""A pool of verifier worker processes with a per-sample deadline and a memory cap.

Why processes (research/reliability.md §0 finding 4): sympy can hold the GIL for minutes on
``10^{10^{10}}`` and grow by hundreds of MB per second on ``2^{2^{35}}``; signal timeouts work only
in a main thread. Only a process that can be SIGKILLed, with an address-space cap, bounds both.

* Workers are forked from a forkserver that preloads the verifier modules, so replacing a killed
  worker costs milliseconds, not an interpreter start.
* Each worker caps its address space at its start size + ``memory_mb`` (RLIMIT_AS); a verifier that
  hits the cap gets MemoryError, the sample scores 0 ("memory_limit") and the worker is recycled.
* A dispatcher thread gives jobs to idle workers and watches the deadline of each running job. A
  job past its deadline: the worker is killed and replaced, the sample scores 0 ("timeout"); the
  other workers keep going, so one pathological sample adds at most its deadline to a batch.
* A verifier that raises, or a worker that dies, gives an infrastructure error (never a silent 0).
* ``submit`` is thread-safe and returns a ``concurrent.futures.Future``, so scoring can overlap
  with generation: submit each group as soon as it is sampled.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import pickle
import resource
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

from rlvr.types import RewardResult, TaskRow

Verifier = Callable[[str, TaskRow], RewardResult]
PRELOAD = ["rlvr.rewards.preload", "rlvr.data.tasks"]  # tasks pull in torch via rlvr.types
_STARTUP_FAILURES_MAX = 5
_INSTALL_TIMEOUT_S = 120.0  # loading a verifier (imports) is not part of any sample's deadline


def _vm_size_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_resources(memory_mb: int) -> None:
    cap = _vm_size_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_verifier(fn: Verifier, completion: str, row: TaskRow) -> tuple[RewardResult, bool]:
    """Run one verifier call; returns (result, recycle_worker). Exceptions are sorted into the
    three outcomes: resource exhaustion caused by the answer scores 0, anything else the
    verifier raises is an infrastructure error."""
    try:
        result = fn(completion, row)
    except MemoryError:
        return RewardResult.scored(0.0, "memory_limit"), True
    except RecursionError:
        return RewardResult.scored(0.0, "recursion_limit"), False
    except Exception as err:  # a broken verifier: counted, never scored as 0
        return RewardResult.infra_error(f"verifier raised {type(err).__name__}: {err}"[:500]), False
    if not isinstance(result, RewardResult):
        return RewardResult.infra_error(f"verifier returned {type(result).__name__}, "
                                        "not RewardResult"), False
    return result, False


def _worker_main(conn: Connection, memory_mb: int) -> None:
    """Worker loop: ('install', key, pickled verifier) | ('run', job_id, key, completion, row)."""
    _limit_resources(memory_mb)
    logging.disable(logging.CRITICAL)  # math-verify logs every timeout; results carry verdicts
    verifiers: dict[str, Verifier] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "install":  # unpickling imports the verifier's modules: acknowledged,
            verifiers[message[1]] = pickle.loads(message[2])  # so it never eats a deadline
            conn.send(("installed", message[1]))
            continue
        _, job_id, key, completion, row = message
        result, recycle = run_verifier(verifiers[key], completion, row)
        conn.send((job_id, result, recycle))
        if recycle:
            return


@dataclass
class _Job:
    key: str
    completion: str
    row: TaskRow
    future: Future
    started: bool = False


@dataclass
class _Worker:
    process: Any
    conn: Connection
    installed: set[str] = field(default_factory=set)
    job: _Job | None = None
    deadline: float = 0.0
    jobs_done: int = 0


class WorkerPool:
    """``submit(verifier, completion, row) -> Future[RewardResult]``; see the module docstring."""

    def __init__(self, workers: int = 2, deadline_s: float = 5.0, memory_mb: int = 1024) -> None:
        self.deadline_s = deadline_s
        self.memory_mb = memory_mb
        self.counts: Counter[str] = Counter()
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._lock = threading.Lock()
        self._pending: deque[_Job] = deque()
        self._pickles: dict[str, bytes] = {}
        self._keys: dict[int, tuple[Verifier, str]] = {}
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._closed = False
        self._broken: str | None = None
        self._startup_failures = 0
        self._workers = [self._start_worker() for _ in range(workers)]
        self._thread = threading.Thread(target=self._loop, name="verifier-pool", daemon=True)
        self._thread.start()

    # ---- public API -------------------------------------------------------------------------
    def submit(self, fn: Verifier, completion: str, row: TaskRow) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the verifier pool is closed")
            if self._broken is not None:
                future.set_result(RewardResult.infra_error(self._broken))
                return future
            self._pending.append(_Job(self._key(fn), completion, row, future))
        self._wake_w.send_bytes(b"j")
        return future

    def map(self, fn: Verifier, items: list[tuple[str, TaskRow]]) -> list[RewardResult]:
        futures = [self.submit(fn, completion, row) for completion, row in items]
        return [f.result() for f in futures]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake_w.send_bytes(b"x")
        self._thread.join(timeout=10)
        for worker in self._workers:
            self._kill(worker)
        self._fail_all("the verifier pool was closed before this sample was scored")

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- workers ----------------------------------------------------------------------------
    def _key(self, fn: Verifier) -> str:
        """A stable key per verifier object; it is pickled once and installed once per worker."""
        known = self._keys.get(id(fn))
        if known is not None and known[0] is fn:
            return known[1]
        data = pickle.dumps(fn)
        key = hashlib.sha1(data).hexdigest()
        self._pickles[key] = data
        self._keys[id(fn)] = (fn, key)
        return key

    def _start_worker(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.memory_mb),
                                    name="rlvr-verifier", daemon=True)
        process.start()
        child.close()
        self.counts["workers_started"] += 1
        return _Worker(process, parent)

    def _kill(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> _Worker:
        self._kill(worker)
        self._startup_failures = self._startup_failures + 1 if worker.jobs_done == 0 else 0
        if self._startup_failures > _STARTUP_FAILURES_MAX:
            raise RuntimeError("verifier workers die before finishing any job; "
                               "check that the verifier can be imported and unpickled")
        return self._start_worker()

    def _dispatch(self, worker: _Worker, job: _Job) -> None:
        if job.key not in worker.installed:
            worker.conn.send(("install", job.key, self._pickles[job.key]))
            # The per-sample deadline starts only once the verifier is loaded in the worker.
            if not worker.conn.poll(_INSTALL_TIMEOUT_S):
                raise OSError(f"verifier worker did not load the verifier in {_INSTALL_TIMEOUT_S} s")
            worker.conn.recv()  # ("installed", key); EOFError if the worker died loading it
            worker.installed.add(job.key)
        worker.conn.send(("run", 0, job.key, job.completion, job.row))
        worker.job, worker.deadline = job, time.monotonic() + self.deadline_s

    # ---- the dispatcher thread --------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._closed:
                self._assign()
                self._wait_and_collect()
        except Exception as err:  # noqa: BLE001 - the dispatcher must never die silently:
            # every waiting job gets an infrastructure error naming the cause, and later
            # submissions get it too.
            self._fail_all(f"verifier pool stopped: {type(err).__name__}: {err}")

    def _assign(self) -> None:
        with self._lock:
            for index, worker in enumerate(self._workers):
                while worker.job is None and self._pending:
                    job = self._pending.popleft()
                    if not job.started and not job.future.set_running_or_notify_cancel():
                        continue  # cancelled by the caller
                    job.started = True
                    try:
                        self._dispatch(worker, job)
                    except (pickle.PicklingError, TypeError, AttributeError) as err:
                        worker.job = None  # nothing was written: the sample cannot be sent
                        job.future.set_result(RewardResult.infra_error(
                            f"cannot send the sample to a verifier worker: {err}"[:300]))
                    except (OSError, EOFError):
                        self._pending.appendleft(job)
                        worker = self._workers[index] = self._replace(worker)

    def _wait_and_collect(self) -> None:
        busy = [w for w in self._workers if w.job is not None]
        timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else None
        ready = wait([w.conn for w in busy] + [self._wake_r], timeout)
        if self._wake_r in ready:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
        for index, worker in enumerate(self._workers):
            if worker.job is None:
                continue
            if worker.conn in ready:
                self._workers[index] = self._collect(worker)
            elif time.monotonic() >= worker.deadline:
                self.counts["timeouts"] += 1
                self._finish(worker, RewardResult.scored(0.0, "timeout"))
                self._workers[index] = self._replace(worker)

    def _collect(self, worker: _Worker) -> _Worker:
        try:
            _, result, recycle = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            self.counts["crashes"] += 1
            self._finish(worker, RewardResult.infra_error(f"verifier worker died (exit code {code})"))
            return self._replace(worker)
        worker.jobs_done += 1
        self._startup_failures = 0
        if recycle:
            self.counts["memory_limits"] += 1
        self._finish(worker, result)
        return self._replace(worker) if recycle else worker

    def _finish(self, worker: _Worker, result: RewardResult) -> None:
        job, worker.job = worker.job, None
        if job is not None:
            job.future.set_result(result)

    def _fail_all(self, message: str) -> None:
        with self._lock:
            self._broken = message
            jobs = [w.job for w in self._workers if w.job] + list(self._pending)
            self._pending.clear()
        for job in jobs:
            if not job.future.done():
                job.future.set_result(RewardResult.infra_error(message))
