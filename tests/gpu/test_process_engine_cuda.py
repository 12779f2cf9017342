"""On CUDA: the hf engine in a separate process, fed by the filesystem sync and by a gloo
broadcast staged through CPU memory, samples exactly what the in-process engine samples (the
CUDA generator's state travels with each request). NCCL between the trainer and the engine
needs two GPUs (NCCL refuses two ranks on one device)."""

from __future__ import annotations

import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("sync", ["filesystem", "broadcast"])
def test_separate_process_samples_like_inprocess_on_cuda(tiny_model_dir, tmp_path, sync):
    from rlvr.config import load_config
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams, build_engine
    from rlvr.types import TaskRow

    base = [f"model.name={tiny_model_dir}", "model.device=cuda", "model.autocast=off"]
    cfg = load_config(None, base)
    policy = load_policy(cfg.model)
    rows = [TaskRow(f"r{i}", f"{i} + {i} = ?", str(2 * i)) for i in range(3)]
    params = SamplingParams(max_new_tokens=6, temperature=1.3)
    runs = []
    for extra in ([], ["rollout.engine=hf_process", f"rollout.sync.name={sync}",
                       "rollout.sync.backend=gloo"]):
        engine = build_engine(load_config(None, base + extra), policy, tmp_path)
        try:
            torch.manual_seed(7)
            runs.append([s.completion_ids for g in engine.generate(rows, 2, params)
                         for s in g.samples])
        finally:
            engine.close()
    assert runs[0] == runs[1]
