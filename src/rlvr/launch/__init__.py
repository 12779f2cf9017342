"""Starting the ranks of a multi-process run: checks before anything loads, and ``launcher.nproc``."""
