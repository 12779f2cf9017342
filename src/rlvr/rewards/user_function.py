"""User reward functions named in config: ``package.module:function`` (importable) or
``path/to/file.py:function`` (a file, relative to the working directory like every config path).

A file function is a small picklable object that loads the file in whichever process calls it:
verifiers are pickled to the worker pool's processes, where a module loaded from a file path is
not importable by name."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from rlvr.types import RewardResult, TaskRow

Verifier = Callable[[str, TaskRow], RewardResult]


def _load_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"rlvr_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"reward term python: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FileFunction:
    """``function`` of the Python file ``path``, loaded once per process on first call."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path.resolve(), name
        self._fn: Verifier | None = None

    def resolve(self) -> Verifier:
        if self._fn is None:
            fn = getattr(_load_file(self.path), self.name, None)
            if not callable(fn):
                raise ValueError(f"reward term python: {self.path} has no function {self.name!r}")
            self._fn = fn
        return self._fn

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        return self.resolve()(completion, row)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "name": self.name, "_fn": None}  # reloaded in the worker

    def __repr__(self) -> str:
        return f"FileFunction({str(self.path)!r}, {self.name!r})"


def load_function(path: str) -> Verifier:
    """The function ``path`` names; a clear error says what is missing."""
    module_name, _, attr = path.rpartition(":")
    if module_name.endswith(".py"):
        file = Path(module_name)
        if not file.is_file():
            raise ValueError(f"reward term python: file not found: {file}")
        function = FileFunction(file, attr)
        function.resolve()  # fail at setup, not in a worker
        return function
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"reward term python: cannot import {module_name!r} ({err})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"reward term python: {module_name!r} has no function {attr!r}")
    return fn
