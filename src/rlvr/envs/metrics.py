"""Per-episode metrics (never per turn): turns, tool calls, tool errors, how episodes ended,
and the share solved (by the correctness component, so a discounted right answer counts)."""

from __future__ import annotations

from statistics import mean

from rlvr.types import Group, is_correct


def episode_metrics(groups: list[Group]) -> dict[str, float]:
    """``episode/*`` metrics over the batch's episodes; empty for single-turn samples."""
    episodes = [s for g in groups for s in g.samples if s.episode is not None]
    if not episodes:
        return {}
    out = {
        "episode/turns_mean": mean(s.episode.turns for s in episodes),
        "episode/tool_calls_mean": mean(s.episode.tool_calls for s in episodes),
        "episode/tool_errors_mean": mean(s.episode.tool_errors for s in episodes),
        "episode/tool_use_share": mean(float(s.episode.tool_calls > 0) for s in episodes),
        "episode/solved_share": mean(float(is_correct(s.reward)) for s in episodes),
        "episode/model_token_share": sum(sum(s.loss_mask) for s in episodes)
        / max(1, sum(len(s.loss_mask) for s in episodes)),
    }
    for why in ("done", "max_turns", "max_total_tokens"):
        out[f"episode/ended_{why}_share"] = mean(float(s.episode.ended_by == why)
                                                 for s in episodes)
    return out
