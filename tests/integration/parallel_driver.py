"""Several training runs in one launch (``torchrun ... parallel_driver.py SPEC.json`` or plain
``python``): the process group is started once and every run of the spec joins it, so the
multi-process tests pay for one start of the ranks instead of one per run."""

from __future__ import annotations

import datetime
import json
import os
import sys


def main(spec_path: str) -> None:
    import torch.distributed as dist

    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    with open(spec_path) as fh:
        spec = json.load(fh)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
    for overrides in spec["runs"]:
        train(load_config(None, overrides))
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
