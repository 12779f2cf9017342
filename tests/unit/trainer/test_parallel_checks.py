"""Bad multi-process input fails in one line before any model loads; seeds and the
single-process ``Dist`` (tests/integration/test_parallel.py runs real ranks)."""

from __future__ import annotations

import pytest
import torch

from rlvr.cli import main
from rlvr.config import load_config
from rlvr.launch.checks import available_cpus, check_world
from rlvr.trainer.loop import prompt_seeds
from rlvr.trainer.parallel import Dist, resolve_backend
from rlvr.trainer.update import StatSums, global_norm

NO_MODEL = "model.name=/nonexistent/model"  # a check that passed would fail on loading it


def _error(capsys, *overrides: str) -> str:
    assert main(["train", NO_MODEL, "log.progress=false", *overrides]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nonexistent" not in err
    return err


def test_nproc_above_the_cpus_is_refused(capsys, tmp_path):
    too_many = available_cpus() + 1
    err = _error(capsys, f"launcher.nproc={too_many}", f"log.run_dir={tmp_path}")
    assert f"launcher.nproc={too_many}" in err and f"<= {available_cpus()}" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
def test_nccl_without_cuda_is_refused(capsys, tmp_path):
    err = _error(capsys, "trainer.backend=nccl", f"log.run_dir={tmp_path}")
    assert "trainer.backend=nccl needs CUDA" in err


def test_world_size_must_divide_the_prompts(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")  # as torchrun --nproc-per-node 3 sets it
    err = _error(capsys, "rollout.prompts_per_step=8", f"log.run_dir={tmp_path}")
    assert "rollout.prompts_per_step=8 does not split over 3 ranks" in err


def test_unsupported_combinations_are_named():
    with pytest.raises(ValueError, match="group_filter"):
        check_world(load_config(None, ["algorithm=dapo", "rollout.prompts_per_step=4"]), 2)
    with pytest.raises(ValueError, match="rollout.engine=hf_process does not run on several"):
        check_world(load_config(None, ["rollout.engine=hf_process",
                                       "rollout.sync.name=filesystem"]), 2)
    with pytest.raises(ValueError, match="micro_batch_size x rollout.max_new_tokens <= 2048"):
        check_world(load_config(None, ["trainer.parallel=fsdp2", "rollout.max_new_tokens=256"]),
                    2)
    check_world(load_config(None, ["rollout.prompts_per_step=3"]), 1)  # one process: anything


def test_prompt_seeds_come_from_the_step_and_the_position_only():
    # (seed * 1_000_003 + step) * 2**20 + position, by hand: seed 2, step 5 -> 2_000_011 * 2**20
    assert prompt_seeds(2, 5, 0, 2) == [2_000_011 * 1_048_576, 2_000_011 * 1_048_576 + 1]
    assert prompt_seeds(2, 5, 1, 1) == prompt_seeds(2, 5, 0, 2)[1:]  # a later draw continues
    assert prompt_seeds(2, 6, 0, 1) != prompt_seeds(2, 5, 0, 1)


def test_single_process_dist_is_the_identity():
    d = Dist()
    assert d.main and not d.active and not d.sharded and d.loss_scale == 1.0
    assert d.shard([1, 2, 3]) == [1, 2, 3] and d.sum_floats([1.5]) == [1.5]
    x = torch.arange(4.0)
    assert torch.equal(d.cat(x), x) and d.gather_objects("a") == ["a"] and d.any(True)
    assert resolve_backend("gloo", "cuda") == "gloo"


def test_shard_gives_each_rank_its_contiguous_block():
    assert Dist(rank=1, world=2).shard(list("abcd")) == ["c", "d"]
    with pytest.raises(ValueError, match="3 prompts do not split over 2 ranks"):
        Dist(rank=0, world=2).shard(list("abc"))


class _TwoRanks(Dist):
    """What an all-reduce over two ranks returns when the other rank holds the same values."""

    def __init__(self) -> None:
        super().__init__(rank=0, world=2)

    def sum_floats(self, values):
        return [2 * v for v in values]


def test_normalisers_and_statistics_are_summed_over_ranks():
    mask_NT = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    norm = global_norm(mask_NT, 3, _TwoRanks())
    assert (norm.num_tokens, norm.num_sequences, norm.max_completion_len) == (6, 4, 3)
    stats = StatSums()
    stats.add({"x": torch.tensor([[2.0, 4.0, 9.0], [0.0, 0.0, 0.0], [6.0, 0.0, 0.0]])}, mask_NT)
    total = stats.reduced(_TwoRanks())
    assert total.tokens == 6.0 and total.sums["x"] == 24.0 and total.means() == {"x": 4.0}
