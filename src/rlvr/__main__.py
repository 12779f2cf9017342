"""``python -m rlvr`` (what ``torchrun --nproc-per-node N -m rlvr train CONFIG`` starts)."""

import sys

from rlvr.cli import main

sys.exit(main())
