"""Model-loading errors (a light module: the CLI imports it without loading torch)."""

EXIT_BASE_MISMATCH = 5
"""``rlvr`` exit status when a LoRA checkpoint does not fit its base model (0-4 are taken: see
trainer/outcomes.py and cli.py)."""


class BaseModelMismatch(RuntimeError):
    """A LoRA checkpoint was put on a base model whose weights differ from the ones it was
    trained on (its adapters are meaningless there)."""
