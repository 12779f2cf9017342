"""The trusted driver: the first program started inside every jail (standard library only).

It is mounted read-only into the jail and started as ``python -I -S driver.py JOB SECRET RESULT``
with three inherited pipe fds:

* JOB    (read):  ``{"mode", "source", "entry_point", "args"}`` - what the candidate may see;
* SECRET (read):  ``{"nonce", "prelude", "tests"}`` - read only *after* the candidate child has been
  forked, so the nonce and any test program never exist in the candidate's memory;
* RESULT (write): newline-delimited JSON records, each carrying the nonce, ending with ``done``.

The driver makes itself non-dumpable (no ptrace, no ``/proc/<pid>/fd`` or ``mem`` for the candidate,
which runs under the same uid), forks one child that holds the candidate, and closes SECRET and
RESULT in that child. Modes:

* ``call``:    the child imports the candidate as module ``solution`` and answers one request per case;
  values are encoded type-strictly (exact builtin types only, so ``int`` subclasses with a forged
  ``__eq__`` are rejected); the driver forwards them unparsed; the supervisor compares outside the jail.
* ``program``: a trusted test program (e.g. a HumanEval ``check``) runs in the driver against a proxy
  that calls the child; candidate values reach the test code only as decoded plain data.
* ``stdio``:   the child execs the candidate as a fresh interpreter on the jail's stdin/stdout; the
  driver reports its wait status. Output is compared by the supervisor.

The encode/decode functions here are also imported by the supervisor (one definition of the format).
"""

from __future__ import annotations

import json
import os
import struct
import sys

MAX_DEPTH = 64
MAX_MESSAGE = 1 << 20
_HEADER = struct.Struct("<Q")
_SCALARS = {bool: "b", int: "i", float: "f", str: "s", bytes: "y", type(None): "n"}
_SEQUENCES = {list: "l", tuple: "t", set: "set", frozenset: "fset"}


class Unencodable(Exception):
    """A value that is not built from exact builtin types, or nested too deeply."""


def encode(value: object, depth: int = 0) -> list:
    """Tagged, type-strict form of ``value``: only exact builtin types (subclasses are refused)."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested too deeply")
    kind = type(value)
    if kind in _SCALARS:
        tag = _SCALARS[kind]
        if kind is int:
            return [tag, format(value, "x")]  # base 16 is not subject to the int->str digit limit
        if kind is float:
            return [tag, float.hex(value)]
        if kind is bytes:
            return [tag, value.hex()]
        return [tag] if value is None else [tag, value]
    if kind in _SEQUENCES:
        return [_SEQUENCES[kind], [encode(item, depth + 1) for item in value]]
    if kind is dict:
        return ["d", [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]]
    raise Unencodable(f"type {kind.__name__} is not a plain builtin type")


def decode(tree: object, depth: int = 0) -> object:
    """Inverse of ``encode`` on untrusted input: plain values only, bounded depth, else ValueError."""
    if depth > MAX_DEPTH or not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
        raise ValueError("malformed value")
    tag, body = tree[0], tree[1:]
    if tag == "n" and not body:
        return None
    if len(body) != 1:
        raise ValueError("malformed value")
    item = body[0]
    scalar = {"b": (bool, lambda x: x), "s": (str, lambda x: x), "i": (str, lambda x: int(x, 16)),
              "f": (str, float.fromhex), "y": (str, bytes.fromhex)}
    if tag in scalar:
        expected, convert = scalar[tag]
        if type(item) is not expected:
            raise ValueError("malformed value")
        return convert(item)
    if type(item) is not list:
        raise ValueError("malformed value")
    if tag == "d":
        pairs = [(decode(p[0], depth + 1), decode(p[1], depth + 1)) for p in item
                 if type(p) is list and len(p) == 2]
        if len(pairs) != len(item):
            raise ValueError("malformed value")
        return dict(pairs)
    items = [decode(x, depth + 1) for x in item]
    makers = {"l": list, "t": tuple, "set": set, "fset": frozenset}
    if tag not in makers:
        raise ValueError("malformed value")
    return makers[tag](items)


def send(fd: int, payload: bytes) -> None:
    """Write one length-prefixed message."""
    data = _HEADER.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


def recv(fd: int, limit: int = MAX_MESSAGE) -> bytes | None:
    """Read one length-prefixed message; None on EOF; raises OverflowError above ``limit``."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise OverflowError(size)
    return _read_exact(fd, size)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _error_message(err: BaseException) -> dict:
    errno = getattr(err, "errno", None)
    return {"status": "error", "type": type(err).__name__, "errno": errno if type(errno) is int else None}


def _serve_calls(job: dict, req_fd: int, resp_fd: int) -> None:
    """Child side of call/program mode: import the candidate, then answer requests until EOF."""
    try:
        namespace = {"__name__": "solution", "__builtins__": __builtins__}
        exec(compile(job["source"], "solution.py", "exec"), namespace)
        func = namespace[job["entry_point"]]
        ready = {"status": "ready"}
    except BaseException as err:  # the candidate's import failed: report, do not crash silently
        func, ready = None, _error_message(err)
    send(resp_fd, json.dumps(ready).encode())
    while func is not None:
        request = recv(req_fd)
        if request is None:
            return
        args = decode(json.loads(request))
        try:
            reply = {"status": "ok", "value": encode(func(*args))}
        except Unencodable as err:
            reply = {"status": "bad_type", "type": str(err)}
        except BaseException as err:  # a candidate failure of any kind is reported, not raised
            reply = _error_message(err)
        send(resp_fd, json.dumps(reply).encode())


class CandidateError(Exception):
    """Raised by the proxy in program mode when the candidate failed instead of returning."""

    def __init__(self, reply: dict) -> None:
        super().__init__(reply.get("type"))
        self.reply = reply


class Child:
    """The driver's handle on the forked candidate child (call and program modes)."""

    def __init__(self, job: dict, close_in_child: tuple[int, ...]) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        self.end: dict | None = None
        self.pid = os.fork()
        if self.pid == 0:
            for fd in (*close_in_child, req_w, resp_r):
                os.close(fd)
            status = 0
            try:
                _serve_calls(job, req_r, resp_w)
            except BaseException:  # broken pipe or a hostile object: the driver sees EOF
                status = 1
            os._exit(status)
        os.close(req_r)
        os.close(resp_w)
        self.req_fd, self.resp_fd = req_w, resp_r
        self.ready = self._receive()

    def _receive(self) -> dict:
        try:
            payload = recv(self.resp_fd)
        except OverflowError:
            return {"status": "too_large"}
        if payload is None:
            return self.died()
        try:
            reply = json.loads(payload)
        except ValueError:  # not JSON at all
            return {"status": "bad_type", "type": "malformed reply"}
        except RecursionError:
            return {"status": "bad_type", "type": "nested too deeply"}
        return reply if type(reply) is dict else {"status": "bad_type", "type": "malformed reply"}

    def call(self, args_tree: list) -> dict:
        """One request: the reply dict (status ok with an encoded value, or a failure)."""
        if self.ready.get("status") != "ready":
            return self.ready
        if self.end is not None:
            return self.end
        try:
            send(self.req_fd, json.dumps(args_tree).encode())
        except OSError:
            return self.died()
        return self._receive()

    def died(self) -> dict:
        """The child closed its pipe: report how it ended (kill it first if it lingers)."""
        if self.end is not None:
            return self.end
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass
        _, status = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(status):
            self.end = {"status": "signal", "signal": os.WTERMSIG(status)}
        else:
            self.end = {"status": "exited", "code": os.WEXITSTATUS(status)}
        return self.end


def _run_program(child: Child, secret: dict, entry_point: str) -> dict:
    """Program mode: trusted test code calls ``candidate`` (a proxy); one verdict record."""

    def candidate(*args: object) -> object:
        reply = child.call(encode(list(args)))
        if reply.get("status") != "ok":
            raise CandidateError(reply)
        return decode(reply["value"])

    namespace: dict = {"__name__": "tests"}
    try:
        exec(compile(secret.get("prelude", ""), "prelude.py", "exec"), namespace)
        namespace[entry_point] = candidate  # tests may call the function by its own name
        exec(compile(secret["tests"], "tests.py", "exec"), namespace)
    except Exception as err:  # the dataset's own code is broken: not the candidate's fault
        return {"id": 0, "status": "dataset_error", "type": type(err).__name__}
    try:
        namespace["check"](candidate)
    except CandidateError as err:
        return {"id": 0, **err.reply}
    except AssertionError:
        return {"id": 0, "status": "wrong"}
    except Exception as err:  # test code failing on a wrong-typed answer is a wrong answer
        return {"id": 0, "status": "wrong", "type": type(err).__name__}
    return {"id": 0, "status": "pass"}


def _run_stdio(job: dict, close_in_child: tuple[int, ...]) -> dict:
    """Stdio mode: exec a fresh interpreter on the candidate file; report its wait status."""
    with open("solution.py", "w", encoding="utf-8") as handle:
        handle.write(job["source"])
    pid = os.fork()
    if pid == 0:
        for fd in close_in_child:
            os.close(fd)
        os.execv(sys.executable, [sys.executable, "-I", "-S", "solution.py"])
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"id": 0, "status": "signal", "signal": os.WTERMSIG(status)}
    return {"id": 0, "status": "exited", "code": os.WEXITSTATUS(status)}


def _make_non_dumpable() -> None:
    import ctypes  # bound before any candidate code exists

    pr_set_dumpable = 4
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def main(job_fd: int, secret_fd: int, result_fd: int) -> None:
    _make_non_dumpable()
    os.write(result_fd, b'{"kind": "start"}\n')  # before any candidate code: proves the jail ran
    with os.fdopen(job_fd, "rb") as handle:
        job = json.loads(handle.read())
    private = (secret_fd, result_fd)
    mode = job["mode"]
    stdio_record = _run_stdio(job, private) if mode == "stdio" else None
    child = Child(job, private) if mode != "stdio" else None
    with os.fdopen(secret_fd, "rb") as handle:  # only now: the child is already forked
        secret = json.loads(handle.read())
    with os.fdopen(result_fd, "w", encoding="utf-8") as out:

        def emit(record: dict) -> None:
            out.write(json.dumps({"nonce": secret["nonce"], **record}) + "\n")
            out.flush()

        if child is None:
            emit({"kind": "case", **stdio_record})
            count = 1
        elif mode == "call":
            for i, args in enumerate(job["args"]):
                emit({"kind": "case", "id": i, **child.call(args)})
            count = len(job["args"])
        else:
            emit({"kind": "case", **_run_program(child, secret, job["entry_point"])})
            count = 1
        if child is not None:
            child.died()
        emit({"kind": "done", "n": count})


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
