"""Reward-stage errors (a light module: the CLI imports it without loading torch)."""


class RewardInfraError(RuntimeError):
    """Too many infrastructure errors in one scoring call: the run must stop."""
