"""A pool of verifier worker processes with a per-sample deadline and a memory cap.

Why processes (research/reliability.md §0 finding 4): sympy can hold the GIL for minutes on
``10^{10^{10}}`` and grow by hundreds of MB per second on ``2^{2^{35}}``; signal timeouts work only
in a main thread. Only a process that can be SIGKILLed, with an address-space cap, bounds both.

* Workers are forked from a forkserver that preloads the verifier modules, so replacing a killed
  worker costs milliseconds, not an interpreter start.
* Each worker caps its address space at its start size + ``memory_mb`` (RLIMIT_AS); a verifier that
  hits the cap gets MemoryError, the sample scores 0 ("memory_limit") and the worker is recycled.
* A dispatcher thread gives jobs to idle workers and watches the deadline of each running job. A
  job past its deadline: the worker is killed and replaced and the job is retried once on the fresh
  worker (``timeout_retries``); a second timeout scores 0 ("timeout", ``timeouts``). The other
  workers keep going, so one pathological sample adds at most two deadlines to a batch.
* Timeouts the pool causes are never the answer's: a worker that does not load the verifier within
  ``startup_timeout_s`` (or dies loading it) is replaced and the job retried; a second start-up
  failure of the same job is an infrastructure error (``startup_failures``). So is a job that
  waited longer than ``queue_timeout_s`` for a worker (``queue_timeouts``), and a job whose
  deadline passed while the dispatcher itself was not running (a GIL hog or a paused process:
  ``stalls``), since nobody watched it.
* A verifier that raises, or a worker that dies, gives an infrastructure error (never a silent 0).
* ``submit`` is thread-safe and returns a ``concurrent.futures.Future``, so scoring can overlap
  with generation: submit each group as soon as it is sampled.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import pickle
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from rlvr.rewards.pool_worker import Verifier, worker_main
from rlvr.types import RewardResult, TaskRow

PRELOAD = ["rlvr.rewards.preload", "rlvr.data.tasks"]  # tasks pull in torch via rlvr.types
POOL_COUNTERS = ("timeouts", "timeout_retries", "startup_failures", "queue_timeouts", "stalls",
                 "crashes", "memory_limits")
"""The pool's counters the reward stage logs as ``reward_pool/<name>_total``."""
_STARTUP_FAILURES_MAX = 5  # consecutive failed worker starts before the pool gives up
_STARTUP_TRIES = 2  # worker starts one job may use up before it is an infrastructure error
_ANSWER_TRIES = 2  # deadlines one job may run past before it scores 0 ("timeout")
_STALL_GRACE_S = 1.0  # the dispatcher woke this much later than asked: it was stalled


@dataclass
class _Job:
    key: str
    completion: str
    row: TaskRow
    future: Future
    started: bool = False
    queued_at: float = field(default_factory=time.monotonic)
    timeouts: int = 0  # deadlines this answer ran past (each on its own worker)
    startup_failures: int = 0  # workers that failed to start for this job (the pool's fault)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    installed: set[str] = field(default_factory=set)
    job: _Job | None = None
    deadline: float = 0.0
    jobs_done: int = 0
    loading: bool = False  # the job waits for the worker to load its verifier (start-up)


class WorkerPool:
    """``submit(verifier, completion, row) -> Future[RewardResult]``; see the module docstring."""

    def __init__(self, workers: int = 2, deadline_s: float = 5.0, memory_mb: int = 1024,
                 startup_timeout_s: float = 120.0, queue_timeout_s: float | None = None) -> None:
        self.deadline_s = deadline_s
        self.memory_mb = memory_mb
        self.startup_timeout_s = startup_timeout_s  # loading a verifier is no sample's deadline
        self.queue_timeout_s = queue_timeout_s
        self.counts: Counter[str] = Counter()
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._lock = threading.RLock()  # _requeue runs inside _assign too
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
        process = self._ctx.Process(target=worker_main, args=(child, self.memory_mb),
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

    def _replace(self, worker: _Worker, failed_start: bool = False) -> _Worker:
        self._kill(worker)
        self._startup_failures = self._startup_failures + 1 if failed_start else 0
        if self._startup_failures > _STARTUP_FAILURES_MAX:
            raise RuntimeError(f"{self._startup_failures} verifier workers in a row failed to "
                               "start; check that the verifier can be imported and unpickled")
        return self._start_worker()

    def _dispatch(self, worker: _Worker, job: _Job) -> None:
        """Send ``job`` to ``worker``: the verifier first if the worker lacks it. Loading runs
        under the start-up timeout; the answer's deadline starts when the verifier is loaded."""
        worker.job = job
        if job.key not in worker.installed:
            worker.conn.send(("install", job.key, self._pickles[job.key]))
            worker.loading, worker.deadline = True, time.monotonic() + self.startup_timeout_s
            return
        worker.conn.send(("run", 0, job.key, job.completion, job.row))
        worker.loading, worker.deadline = False, time.monotonic() + self.deadline_s

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
            self._expire_queue()
            for index, worker in enumerate(self._workers):
                while worker.job is None and self._pending:
                    job = self._pending.popleft()
                    if not job.started and not job.future.set_running_or_notify_cancel():
                        continue  # cancelled by the caller
                    job.started = True
                    worker = self._workers[index] = self._send(worker, job)

    def _send(self, worker: _Worker, job: _Job) -> _Worker:
        """``_dispatch`` with its failures sorted: an unpicklable sample is an infrastructure
        error; a worker that closed its pipe failed to start."""
        try:
            self._dispatch(worker, job)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            worker.job = None  # nothing was written: the sample cannot be sent
            job.future.set_result(RewardResult.infra_error(
                f"cannot send the sample to a verifier worker: {err}"[:300]))
        except OSError as err:  # the worker died before it could take the job
            return self._failed_start(worker, f"closed its pipe ({err})")
        return worker

    def _expire_queue(self) -> None:
        """Jobs that waited longer than ``queue_timeout_s`` for a worker: the pool's fault."""
        if self.queue_timeout_s is None:
            return
        now, kept = time.monotonic(), deque()
        for job in self._pending:
            if now - job.queued_at <= self.queue_timeout_s:
                kept.append(job)
                continue
            self.counts["queue_timeouts"] += 1
            if job.started or job.future.set_running_or_notify_cancel():
                job.future.set_result(RewardResult.infra_error(
                    f"verifier pool: the sample waited {now - job.queued_at:.1f} s for a worker "
                    f"(queue_timeout_s={self.queue_timeout_s}); the pool is overloaded or stalled "
                    "- an infrastructure error, not the answer's"))
        self._pending = kept

    def _next_wake(self) -> float | None:
        """Seconds until the earliest deadline (running jobs, queue timeouts), None if none."""
        times = [w.deadline for w in self._workers if w.job is not None]
        if self.queue_timeout_s is not None and self._pending:
            times.append(min(j.queued_at for j in self._pending) + self.queue_timeout_s)
        return max(0.0, min(times) - time.monotonic()) if times else None

    def _wait_and_collect(self) -> None:
        timeout = self._next_wake()
        asked = time.monotonic() + (timeout if timeout is not None else 0.0)
        busy = [w.conn for w in self._workers if w.job is not None]
        ready = wait(busy + [self._wake_r], timeout)
        late = time.monotonic() - asked
        stalled = timeout is not None and late > _STALL_GRACE_S
        if stalled:
            self.counts["stalls"] += 1
        if self._wake_r in ready:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
        for index, worker in enumerate(self._workers):
            if worker.job is None:
                continue
            if worker.conn in ready:
                self._workers[index] = self._collect(worker)
            elif time.monotonic() >= worker.deadline:
                self._workers[index] = self._expired(worker, late if stalled else 0.0)

    def _expired(self, worker: _Worker, stalled_s: float) -> _Worker:
        """A job past its deadline: start-up, a stall of the pool, or the answer itself."""
        job = worker.job
        assert job is not None
        if worker.loading:
            return self._failed_start(worker, f"did not load the verifier within "
                                              f"{self.startup_timeout_s} s")
        if stalled_s:
            self._finish(worker, RewardResult.infra_error(
                f"verifier pool stalled: the dispatcher ran {stalled_s:.1f} s late (the trainer "
                "process was not scheduled or held the GIL), so this sample's deadline was not "
                "watched - an infrastructure error, not the answer's timeout"))
            return self._replace(worker)
        job.timeouts += 1
        if job.timeouts < _ANSWER_TRIES:
            self.counts["timeout_retries"] += 1
            self._requeue(worker)
        else:
            self.counts["timeouts"] += 1
            self._finish(worker, RewardResult.scored(0.0, "timeout"))
        return self._replace(worker)

    def _failed_start(self, worker: _Worker, reason: str) -> _Worker:
        """A worker that died or hung before running its job: retry the job on a fresh worker;
        its second such failure is an infrastructure error."""
        self.counts["startup_failures"] += 1
        job = worker.job
        if job is not None:
            job.startup_failures += 1
            if job.startup_failures < _STARTUP_TRIES:
                self._requeue(worker)
            else:
                self._finish(worker, RewardResult.infra_error(
                    f"verifier worker start-up failed {job.startup_failures} times (last: "
                    f"{reason}) - an infrastructure error of the pool, not the answer's"))
        return self._replace(worker, failed_start=True)

    def _requeue(self, worker: _Worker) -> None:
        """Put the worker's job back at the front of the queue (it keeps its attempt counts)."""
        job, worker.job = worker.job, None
        if job is not None:
            job.queued_at = time.monotonic()
            with self._lock:
                self._pending.appendleft(job)

    def _collect(self, worker: _Worker) -> _Worker:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            if worker.loading:
                return self._failed_start(worker, f"died loading the verifier (exit code {code})")
            self.counts["crashes"] += 1
            self._finish(worker, RewardResult.infra_error(f"verifier worker died (exit code {code})"))
            return self._replace(worker)
        self._startup_failures = 0
        if worker.loading:  # ("installed", key): now the answer's own deadline starts
            assert worker.job is not None
            worker.installed.add(message[1])
            return self._send(worker, worker.job)
        _, result, recycle = message
        worker.jobs_done += 1
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
