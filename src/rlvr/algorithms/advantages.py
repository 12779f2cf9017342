"""Advantage estimators: ``(rewards_BG, valid_BG, tokens_BG, cfg) -> advantages_BG``.

``valid_BG`` is False for unscorable samples and infrastructure errors: they are left out of every
baseline and statistic and get zero advantage. ``tokens_BG`` counts each sample's completion
tokens that reach the loss; only the token-level batch whitening of REINFORCE++ reads it. No
estimator returns NaN: an all-equal group, a group of one and an empty group all give zero
advantage.
"""

from __future__ import annotations

from math import comb

import torch

from rlvr.configs.algorithm import (DrGrpoAdvantageConfig, GrpoAdvantageConfig, PassAtKAdvantageConfig,
                                    RawAdvantageConfig, ReinforcePPAdvantageConfig,
                                    ReinforcePPBaselineAdvantageConfig, RftAdvantageConfig,
                                    RlooAdvantageConfig)


def _centred(x_BG: torch.Tensor, valid_BG: torch.Tensor) -> torch.Tensor:
    """x - mean over the valid entries of each row, exactly 0 for a row of equal values: the row
    is first shifted by its first valid value, so float noise in the mean cannot leak in (and be
    blown up by a division by a near-zero std)."""
    first_B1 = x_BG.gather(1, valid_BG.to(torch.long).argmax(dim=1, keepdim=True))
    shifted_BG = (x_BG - first_B1) * valid_BG
    n_B1 = valid_BG.sum(dim=1, keepdim=True).clamp(min=1)
    return (shifted_BG - shifted_BG.sum(dim=1, keepdim=True) / n_B1) * valid_BG


def _std(centred_BG: torch.Tensor, valid_BG: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """Std of each row from its centred valid values; rows of one value have std 0."""
    n_B1 = valid_BG.sum(dim=1, keepdim=True).clamp(min=1)
    dof_B1 = (n_B1 - 1).clamp(min=1) if unbiased else n_B1
    return ((centred_BG ** 2).sum(dim=1, keepdim=True) / dof_B1).sqrt()


def _whiten_batch(x_BG: torch.Tensor, weight_BG: torch.Tensor, eps: float) -> torch.Tensor:
    """(x - batch mean) / (batch std + eps), each entry counted ``weight`` times (a sample's token
    count, or 1 per valid sample); unbiased std over the total weight. Weight-0 entries get 0.
    With 0/1 weights this is the plain valid-sample whitening, bit for bit."""
    x_N, w_N = x_BG.reshape(-1), weight_BG.reshape(-1).to(x_BG.dtype)
    on_N = (w_N > 0).to(x_BG.dtype)
    # Shift by one counted value first, as _centred does: an all-equal batch is exactly 0.
    d_N = (x_N - x_N[on_N.argmax()]) * on_N
    total = w_N.sum()
    c_N = (d_N - (w_N * d_N).sum() / total.clamp(min=1)) * on_N
    std = ((w_N * c_N ** 2).sum() / (total - 1).clamp(min=1)).sqrt()
    return (c_N / (std + eps)).reshape(x_BG.shape)


def _whiten_weight(valid_BG: torch.Tensor, tokens_BG: torch.Tensor, whiten: str) -> torch.Tensor:
    """The count of each sample in the batch statistics: its valid tokens, or 1 if valid."""
    return tokens_BG * valid_BG if whiten == "token" else valid_BG


def grpo(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
         cfg: GrpoAdvantageConfig) -> torch.Tensor:
    """GRPO (DeepSeekMath, Shao et al. 2024): A_i = (r_i - mean(r_group)) / (std(r_group) + eps).

    The std is the unbiased (G-1) estimator by default, as torch.std and the peers compute it;
    ``std: biased`` divides by G. A group of one, or one whose rewards are all equal, gets 0.
    """
    valid_BG = valid_BG.to(rewards_BG.dtype)
    centred_BG = _centred(rewards_BG, valid_BG)
    return centred_BG / (_std(centred_BG, valid_BG, unbiased=cfg.std == "unbiased") + cfg.eps)


def dr_grpo(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
            cfg: DrGrpoAdvantageConfig) -> torch.Tensor:
    """Dr.GRPO (Liu et al. 2025, "Understanding R1-Zero-like training"): A_i = r_i - mean(r_group).

    Dividing by the group std up-weights near-uniform groups (question-difficulty bias); Dr.GRPO
    drops it. Pair with ``seq_mean_token_sum_norm`` to also remove the length bias.
    """
    return _centred(rewards_BG, valid_BG.to(rewards_BG.dtype))


def rloo(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
         cfg: RlooAdvantageConfig) -> torch.Tensor:
    """RLOO (Ahmadian et al. 2024): A_i = r_i - mean of the other valid samples of the group,
    i.e. r_i - (sum_group - r_i) / (n - 1). A group with one valid sample gets 0."""
    valid_BG = valid_BG.to(rewards_BG.dtype)
    n_B1 = valid_BG.sum(dim=1, keepdim=True)
    # Leave-one-out = n / (n - 1) times the deviation from the full mean (exactly 0 if all equal).
    return _centred(rewards_BG, valid_BG) * n_B1 / (n_B1 - 1).clamp(min=1)


def reinforce_pp(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
                 cfg: ReinforcePPAdvantageConfig) -> torch.Tensor:
    """REINFORCE++ (Hu 2025): the reward whitened over the whole rollout batch,
    (r - mean_batch) / (std_batch + eps), std unbiased. No group baseline, so G = 1 works.
    ``whiten: token`` (the default, as verl and OpenRLHF) counts each sample once per valid
    token in the batch mean and std; ``sequence`` once per valid sample."""
    weight_BG = _whiten_weight(valid_BG.to(rewards_BG.dtype), tokens_BG, cfg.whiten)
    return _whiten_batch(rewards_BG, weight_BG, cfg.eps)


def reinforce_pp_baseline(rewards_BG: torch.Tensor, valid_BG: torch.Tensor,
                          tokens_BG: torch.Tensor,
                          cfg: ReinforcePPBaselineAdvantageConfig) -> torch.Tensor:
    """REINFORCE++-baseline (Hu 2025): a_i = r_i - mean(r_group), then a whitened over the rollout
    batch, (a - mean_batch(a)) / (std_batch(a) + eps). Group-robust like GRPO, but the scale is
    the batch's, so near-uniform groups are not blown up by a tiny group std. The group mean is
    over samples; ``whiten`` picks tokens (default) or samples as the batch statistics' unit, and
    with tokens the shift by the token-weighted mean leaves groups summing to non-zero."""
    valid = valid_BG.to(rewards_BG.dtype)
    weight_BG = _whiten_weight(valid, tokens_BG, cfg.whiten)
    return _whiten_batch(_centred(rewards_BG, valid), weight_BG, cfg.eps)


def pass_at_k(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
              cfg: PassAtKAdvantageConfig) -> torch.Tensor:
    """Pass@k training (Chen et al. 2025): the analytic advantage of the reward "best of k".

    With n valid samples, c correct (r >= correct_at) and k' = min(k, n): the group's expected
    pass@k is R = 1 - C(n-c, k')/C(n, k'), its std s = sqrt(R (1 - R)); a correct sample gets
    (1 - R) / s; a wrong one (1 - R - C(n-c-1, k'-1)/C(n-1, k'-1)) / s, which is closer to zero
    than GRPO's, because a wrong sample only hurts the k-subsets with no correct member.
    k = 1 reproduces GRPO with the biased std. All-right or all-wrong groups get 0.
    """
    correct_BG = (rewards_BG >= cfg.correct_at) & valid_BG
    out_BG = torch.zeros_like(rewards_BG)
    for b in range(rewards_BG.shape[0]):
        n, c = int(valid_BG[b].sum()), int(correct_BG[b].sum())
        k = min(cfg.k, n)
        if n == 0 or c in (0, n):
            continue
        mean = 1 - comb(n - c, k) / comb(n, k)
        std = (mean * (1 - mean)) ** 0.5
        adv_pos = (1 - mean) / (std + cfg.eps)
        adv_neg = (1 - mean - comb(n - c - 1, k - 1) / comb(n - 1, k - 1)) / (std + cfg.eps)
        out_BG[b] = torch.where(correct_BG[b], adv_pos, adv_neg) * valid_BG[b]
    return out_BG


def raw(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
        cfg: RawAdvantageConfig) -> torch.Tensor:
    """No baseline: A = scale * (r - baseline). Used by PSR/NSR and W-REINFORCE (Zhu et al. 2025,
    "The surprising effectiveness of negative reinforcement"), where binary rewards map to +-1
    (baseline 0.5, scale 2). Higher variance than a learned or group baseline."""
    return cfg.scale * (rewards_BG - cfg.baseline) * valid_BG.to(rewards_BG.dtype)


def rft(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, tokens_BG: torch.Tensor,
        cfg: RftAdvantageConfig) -> torch.Tensor:
    """RFT (Yuan et al. 2023, rejection-sampling fine-tuning): keep the correct samples.
    A = 1 where r >= correct_at, else 0 (and 0 for unscored samples); no baseline, so with the
    ``reinforce`` objective the loss is the negative log-likelihood of the kept samples."""
    return ((rewards_BG >= cfg.correct_at) & valid_BG).to(rewards_BG.dtype)


ADVANTAGES = {
    "grpo": grpo,
    "dr_grpo": dr_grpo,
    "rloo": rloo,
    "reinforce_pp": reinforce_pp,
    "reinforce_pp_baseline": reinforce_pp_baseline,
    "pass_at_k": pass_at_k,
    "raw": raw,
    "rft": rft,
}
