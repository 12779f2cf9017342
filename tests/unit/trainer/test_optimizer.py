"""build_optimizer: AdamW (fused where available) with linear warmup."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from rlvr.trainer.update import build_optimizer

CFG = SimpleNamespace(lr=1e-2, betas=(0.9, 0.99), weight_decay=0.01, warmup_steps=2)


def _three_steps(optimizer_factory):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    optimizer, scheduler = optimizer_factory(model)
    for step in range(3):
        model.zero_grad()
        model(torch.randn(5, 4, generator=torch.Generator().manual_seed(step))).pow(2).sum().backward()
        optimizer.step()
        scheduler.step()
    return [p.detach().clone() for p in model.parameters()]


def test_fused_adamw_takes_the_same_steps_as_the_reference_loop():
    def reference(model):
        opt = torch.optim.AdamW(model.parameters(), lr=CFG.lr, betas=CFG.betas,
                                weight_decay=CFG.weight_decay, foreach=False)
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 2))

    def built(model):
        opt, sched = build_optimizer(model, CFG)
        assert opt.defaults["fused"]
        return opt, sched

    for got, ref in zip(_three_steps(built), _three_steps(reference)):
        torch.testing.assert_close(got, ref, atol=1e-6, rtol=1e-5)


def test_warmup_is_linear_then_constant():
    model = torch.nn.Linear(2, 2)
    optimizer, scheduler = build_optimizer(model, CFG)
    lrs = []
    for _ in range(4):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs == [CFG.lr / 2, CFG.lr, CFG.lr, CFG.lr]
