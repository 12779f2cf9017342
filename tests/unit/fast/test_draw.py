"""rollout/draw.py: the two-level CDF draw picks the token whose CDF interval holds the uniform
(as a float64 full scan does), follows the probabilities, and never picks a zero-mass token."""

from __future__ import annotations

import torch

from rlvr.rollout.draw import BLOCK, draw


def _reference(probs_BV: torch.Tensor, u_B1: torch.Tensor) -> torch.Tensor:
    cdf_BV = probs_BV.double().cumsum(-1)
    return torch.searchsorted(cdf_BV, u_B1.double() * cdf_BV[:, -1:], right=True).squeeze(1)


def test_blocked_draw_equals_a_float64_full_scan():
    torch.manual_seed(0)
    V = 5 * BLOCK + 123  # several blocks, the last one padded
    probs_BV = torch.softmax(torch.randn(64, V) * 3, -1)
    probs_BV[:, 1000:3000] = 0.0  # whole blocks and block edges without mass
    for _ in range(20):
        u_B1 = torch.rand(64, 1)
        assert torch.equal(draw(probs_BV, u_B1), _reference(probs_BV, u_B1))


def test_blocked_draw_follows_the_probabilities_and_never_picks_zero_mass():
    torch.manual_seed(1)
    V = 6 * BLOCK
    probs_V = torch.zeros(V)
    probs_V[[3, BLOCK + 5, 4 * BLOCK - 1, V - 1]] = torch.tensor([0.1, 0.2, 0.3, 0.4])
    probs_BV = (probs_V * 7.0).expand(20_000, V)  # unnormalised: the draw scales by the total
    token_B = draw(probs_BV)
    counts = {int(t): int(n) for t, n in zip(*torch.unique(token_B, return_counts=True))}
    assert set(counts) <= {3, BLOCK + 5, 4 * BLOCK - 1, V - 1}
    share = torch.tensor([counts.get(t, 0) for t in (3, BLOCK + 5, 4 * BLOCK - 1, V - 1)]) / 20_000
    torch.testing.assert_close(share, torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=0.015, rtol=0)


def test_a_target_that_rounding_puts_past_the_total_picks_the_last_token_with_mass():
    from rlvr.rollout.draw import _draw_in

    p_BV = torch.tensor([[0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.75, 0.0]])
    # at the total itself searchsorted(right=True) answers 4, past the last entry
    assert _draw_in(p_BV, torch.tensor([[1.0], [1.0 + 1e-6]])).tolist() == [1, 2]
    assert _draw_in(p_BV, torch.tensor([[0.0], [0.0]])).tolist() == [0, 1]
