"""What both adapters share: importing the user's ``env.load`` target, the one-line error for
a missing extra, and turning a foreign reward into a ``RewardResult``."""

from __future__ import annotations

import importlib
import math
from typing import Any

from rlvr.types import RewardResult


def require(module: str, extra: str) -> Any:
    """``module`` imported, or one line naming the rlvr extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"env.name={extra} needs the {module!r} package ({e}); install the "
                          f"extra: pip install 'rlvr[{extra}]'") from None


def load_target(spec: str) -> Any:
    """The object ``env.load`` names ('module:attr'), with the module or attribute that is
    missing named in the error."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"env.load={spec!r}: cannot import module {module_name!r} ({e})") \
            from None
    if not hasattr(module, attr):
        raise ValueError(f"env.load={spec!r}: module {module_name!r} has no attribute {attr!r}")
    return getattr(module, attr)


def reward_result(total: float | None, components: dict[str, float], source: str) -> RewardResult:
    """The foreign episode's reward: a finite total is scored; a NaN/inf or missing component
    makes the episode unscorable (masked), never a silent 0."""
    missing = [k for k, v in components.items() if v is None]
    if missing:
        return RewardResult.unscorable(f"{source}: reward(s) {missing} were not scored")
    if total is None or not math.isfinite(float(total)):
        return RewardResult.unscorable(f"{source}: reward {total!r} is not a finite number")
    return RewardResult.scored(float(total), source, **components)
