"""Imported once by the verifier forkserver (rewards/pool.py), so forked workers start warm."""

import math_verify  # noqa: F401  (pulls in sympy and latex2sympy2_extended)
import reasoning_gym  # noqa: F401  (the scorers of reasoning-gym tasks: ~1 s to import)
from math_verify import parse as _parse

import rlvr.rewards.math  # noqa: F401
import rlvr.rewards.sql  # noqa: F401

_parse("$x^2+1$")  # triggers the lazy ANTLR grammar load once, before any fork
