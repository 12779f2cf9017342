"""The run's config classes: model, rollout, optimizer, evaluation, logging and the root
``RunConfig`` that holds every section."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.base import Node
from rlvr.configs.engine import EngineConfig, HFEngineConfig, WeightSyncConfig
from rlvr.configs.checkpoint import CheckpointConfig, ReliabilityConfig
from rlvr.configs.code_task import CodeFileTaskConfig, HumanEvalTaskConfig
from rlvr.configs.env import EnvConfig, check_env_fits
from rlvr.configs.eval import PeriodicEvalConfig
from rlvr.configs.hints import check_help_fits
from rlvr.configs.mixture import MixtureTaskConfig
from rlvr.configs.parallel import LauncherConfig, TrainerConfig
from rlvr.configs.task import (FileTaskConfig, MathFileTaskConfig, ReasoningGymMathTaskConfig,
                               ReasoningGymTaskConfig, SqlTaskConfig)
from rlvr.configs.reward import RewardConfig
from rlvr.configs.sampling import OversampleConfig, TemperatureScheduleConfig
from rlvr.configs.curriculum import CURRICULUM_KINDS
from rlvr.configs.selection import DataConfig
from rlvr.configs.sft import SftConfig
from rlvr.configs.tracker import TRACKER_NAMES, TensorBoardTrackerConfig, TrackerConfig

LEGACY_ENGINE_KEYS = ("decoder", "batch_size")
"""Keys of the hf engines that older configs wrote directly under ``rollout``."""
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraConfig(Node):
    """Train low-rank adapters (LoRA, Hu et al. 2021, via peft) instead of every weight:
    W x + (alpha / r) B A x with A [r, in] and B [out, r] trained, W frozen (``model.lora``;
    null means full fine-tuning). Needs ``pip install 'rlvr[lora]'``."""

    r: int = Field(16, ge=1)
    """Rank of the adapters."""
    alpha: float = Field(32, gt=0)
    """Scale numerator: the adapter's output is multiplied by alpha / r."""
    dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout on the adapter's input during training."""
    target_modules: list[str] = Field(default_factory=lambda: list(LORA_TARGETS), min_length=1)
    """Names of the linear layers that get adapters (default: every projection of a
    Llama/Gemma-style decoder); the final model merges them into the weights."""

    @field_validator("target_modules")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        if any(not n.strip() for n in names) or len(set(names)) != len(names):
            raise ValueError("module names must be non-empty and distinct")
        return names


class ModelConfig(Node):
    name: str = "smollm2-135m-instruct"
    """An embedded model name (see `rlvr models list`), a local HF directory or a hub id."""
    dtype: Literal["float32", "bfloat16"] = "float32"
    """Dtype of the trained weights (fp32 master weights are the safe default)."""
    autocast: Literal["auto", "bf16", "off"] = "auto"
    """bf16 autocast for forward passes: 'auto' uses it where the CPU/GPU supports bf16 well."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """'auto' = CUDA when available, else CPU; 'cuda' fails when there is no GPU."""
    lora: LoraConfig | None = None
    """LoRA adapters for training (null: full fine-tuning); enable with e.g. ``model.lora.r=16``
    or ``model.lora={}``."""


TaskConfig = Annotated[Union[ReasoningGymTaskConfig, FileTaskConfig, HumanEvalTaskConfig, CodeFileTaskConfig,
                             MathFileTaskConfig, ReasoningGymMathTaskConfig, SqlTaskConfig,
                             MixtureTaskConfig],
                      Field(discriminator="kind")]


class RolloutConfig(Node):
    engine: EngineConfig = HFEngineConfig()
    """The rollout engine, chosen by ``name`` with its own knobs: 'hf' decodes with the trained
    model in this process; 'hf_process' runs the hf engine in a child process fed by
    ``rollout.sync`` (e.g. ``rollout.engine=hf_process rollout.sync.name=filesystem``)."""
    sync: WeightSyncConfig = WeightSyncConfig()
    """How the weights reach the engine after each optimizer step (inprocess, filesystem,
    broadcast); the engine says which it works with."""
    prompts_per_step: int = Field(8, ge=1)
    """B: prompts sampled per RL step."""
    group_size: int = Field(8, ge=1)
    """G: completions sampled per prompt."""
    max_new_tokens: int = Field(32, ge=1)
    """Completion length cap; a completion that reaches it is 'truncated'."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature of the rollouts."""
    temperatures: list[float] | None = None
    """Several temperatures within each group, e.g. [0.6, 1.0, 1.2] (null: every sample at
    ``temperature``); sample j of G gets temperatures[j*K//G] (contiguous blocks, docs/data.md
    "Sampling schedules"); each sample is trained at its own temperature."""
    temperature_schedule: TemperatureScheduleConfig | None = None
    """A temperature annealed along the completion, replacing ``temperature`` (null: none),
    e.g. ``{name: ead, start: 1.2, end: 0.8, decay: 32}``; each token is trained at its own."""
    oversample: OversampleConfig | None = None
    """Sample factor * G completions per prompt and keep G of them after scoring (null: G),
    e.g. ``{factor: 2, keep: balanced}``."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling threshold of the rollouts (1 = off)."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_engine_knobs(cls, data: Any) -> Any:
        """``rollout.engine: hf`` (a bare name) and the old ``rollout.decoder`` /
        ``rollout.batch_size`` keys, which now live under ``rollout.engine``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        engine = data.get("engine", {"name": "hf"})
        engine = {"name": engine} if isinstance(engine, str) else dict(engine)
        for key in LEGACY_ENGINE_KEYS:
            if key in data:
                engine[key] = data.pop(key)
        data["engine"] = engine
        return data

    @model_validator(mode="after")
    def _temperatures_fit(self) -> RolloutConfig:
        temps = self.temperatures
        if temps is not None and (not temps or len(temps) > self.group_size
                                  or any(not t > 0 for t in temps)):
            raise ValueError(
                f"rollout.temperatures={temps}: give 1..rollout.group_size={self.group_size} "
                "temperatures, each > 0 (or null for rollout.temperature)")
        if temps is not None and self.temperature_schedule is not None:
            raise ValueError("rollout.temperatures and rollout.temperature_schedule cannot be "
                             "combined: set one of them to null")
        return self

    @model_validator(mode="after")
    def _engine_takes_sync(self) -> RolloutConfig:
        if self.sync.name not in self.engine.syncs:
            raise ValueError(
                f"rollout.engine.name={self.engine.name} cannot work with rollout.sync.name="
                f"{self.sync.name}; it works with: {', '.join(self.engine.syncs)}")
        return self


class OptimConfig(Node):
    lr: float = Field(1e-5, gt=0)
    """AdamW learning rate (after warmup)."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW decoupled weight decay."""
    betas: tuple[float, float] = (0.9, 0.99)
    """AdamW (beta1, beta2)."""
    warmup_steps: int = Field(0, ge=0)
    """Linear warmup from 0 to lr over this many optimizer steps, then constant."""
    max_grad_norm: float = Field(1.0, gt=0)
    """Gradients are clipped to this global L2 norm before each optimizer step."""
    micro_batch_size: int = Field(16, ge=1)
    """Sequences per forward/backward; gradients accumulate up to the optimizer batch."""


class EvalConfig(Node):
    before: bool = True
    """Evaluate the held-out split before training (greedy)."""
    after: bool = True
    """Evaluate the held-out split after training (greedy)."""
    max_new_tokens: int | None = None
    """Defaults to rollout.max_new_tokens."""
    prompts_per_batch: int = Field(64, ge=1)
    """Held-out prompts decoded together before / after training (a greedy and a sampled
    completion each). Larger batches share each weight read among more rows, so they decode
    faster (64 vs 8: about 3x on a 2-core CPU); each batch seeds its own sampled completions,
    so this also picks the sampled pass@1's random draws (not the greedy accuracy)."""
    periodic: PeriodicEvalConfig | None = None
    """pass@k / maj@k / greedy accuracy on the held-out split every N steps (off when null),
    written to RUN_DIR/evals/ and logged as eval/* metrics."""


class LogConfig(Node):
    run_dir: Path = Path("runs/quickstart")
    """Where the run writes config.yaml, metrics, samples, checkpoints and the final model."""
    samples_every: int = Field(5, ge=1)
    """Write sampled completions with their rewards every N steps."""
    trackers: list[TrackerConfig] = Field(default_factory=lambda: [TensorBoardTrackerConfig()])
    """Experiment trackers that get every step's metrics besides metrics.jsonl: tensorboard,
    wandb, mlflow (a name or a mapping, e.g. ``[tensorboard, {name: wandb, project: x}]``)."""
    progress: bool = True
    """Show a progress bar with reward, accuracy and step time."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_tensorboard(cls, data: Any) -> Any:
        """``log.tensorboard`` (the old switch): true adds the TensorBoard tracker, false drops
        it."""
        if not isinstance(data, dict) or "tensorboard" not in data:
            return data
        data = dict(data)
        wanted = data.pop("tensorboard")
        if not isinstance(wanted, bool):  # a ValueError, which pydantic reports as a config error
            raise ValueError(  # noqa: TRY004
                f"log.tensorboard must be true or false, got {wanted!r}; it is the old spelling "
                "of log.trackers")
        trackers = [t for t in _tracker_entries(data.get("trackers", ["tensorboard"]))
                    if _entry_name(t) != "tensorboard"]
        data["trackers"] = [{"name": "tensorboard"}, *trackers] if wanted else trackers
        return data

    @field_validator("trackers", mode="before")
    @classmethod
    def _tracker_names(cls, entries: Any) -> Any:
        entries = _tracker_entries(entries)
        names = [_entry_name(e) for e in entries]
        twice = sorted({n for n in names if n is not None and names.count(n) > 1})
        if twice:
            raise ValueError(f"tracker {twice[0]!r} is listed twice; allowed once each: "
                             f"{', '.join(TRACKER_NAMES)}")
        return entries


def _tracker_entries(entries: Any) -> Any:
    """A bare tracker name (``wandb``) stands for its mapping with defaults (``{name: wandb}``)."""
    if isinstance(entries, (list, tuple)):
        return [{"name": e} if isinstance(e, str) else e for e in entries]
    return entries


def _entry_name(entry: Any) -> Any:
    if isinstance(entry, dict):
        return entry.get("name")
    return getattr(entry, "name", None)


class RunConfig(Node):
    seed: int = 0
    """Seeds prompt order, sampling and initialisation; the same seed and config repeat a run."""
    steps: int = Field(20, ge=1)
    """RL steps (each: sample a batch, score it, update the policy)."""
    max_wall_minutes: float | None = Field(None, gt=0)
    """Wall-clock budget of the training loop in minutes (null: none): once the elapsed training
    time (summed over resumes) reaches it, the step in flight finishes, a checkpoint is written,
    the after-training evaluation runs and the run ends early (trainer/wall_budget.py)."""
    model: ModelConfig = ModelConfig()
    """The policy model, its dtype, device and optional LoRA adapters."""
    task: TaskConfig = ReasoningGymTaskConfig()
    """The task (prompts, references and verifier); chosen by ``kind`` (``mixture``: several
    tasks drawn by weight)."""
    data: DataConfig = DataConfig()
    """How train prompts are chosen each step: the selection policy (uniform, band, variance,
    retire) over a per-prompt pass-rate history, and an optional curriculum."""
    rollout: RolloutConfig = RolloutConfig()
    """How completions are sampled: batch shape, sampling parameters, engine."""
    env: EnvConfig | None = None
    """Multi-turn environment (tool calls, feedback turns; docs/environments.md); null = the
    task's single-turn prompts, exactly as without this key."""
    algorithm: AlgorithmConfig = AlgorithmConfig()
    """The RL algorithm as axes (advantage, objective, aggregation, ...) or a preset name."""
    optim: OptimConfig = OptimConfig()
    """Optimizer, learning rate schedule, gradient clipping and micro-batching."""
    eval: EvalConfig | None = EvalConfig()
    """Greedy held-out evaluation before/after training and optional periodic pass@k; null =
    none."""
    log: LogConfig = LogConfig()
    """Run directory, sample dumps, experiment trackers and the progress bar."""
    reward: RewardConfig = RewardConfig()
    """Reward terms and weights, the verifier worker pool, the infra-error abort threshold."""
    checkpoint: CheckpointConfig = CheckpointConfig()
    """Resumable checkpoints: how often, how many kept, which changes a resume accepts."""
    reliability: ReliabilityConfig = ReliabilityConfig()
    """Non-finite step guard, deterministic mode, quarantine threshold for broken rows."""
    trainer: TrainerConfig = TrainerConfig()
    """How several ranks share the model (ddp / fsdp2), the backend and the collective timeout."""
    launcher: LauncherConfig = LauncherConfig()
    """How many processes ``rlvr train`` starts on this machine."""
    sft: SftConfig | None = None
    """Supervised fine-tuning on the references, read by ``rlvr sft`` only (null: its
    defaults there; ``rlvr train`` ignores it)."""

    @model_validator(mode="after")
    def _check(self) -> "RunConfig":
        if self.algorithm.group_relative and self.rollout.group_size < 2:
            raise ValueError(
                f"rollout.group_size={self.rollout.group_size} but the advantage "
                f"'{self.algorithm.advantage.name}' is group-relative and needs group_size >= 2")
        self._temperatures_supported()
        self._int8_corrected()
        check_help_fits(self)  # algorithm.hints / expert_traces: single-turn only
        self._curriculum_fits()
        check_env_fits(self.env, self.task.kind)  # env.name=code_feedback: code tasks only
        return self

    def _int8_corrected(self) -> None:
        """An int8 rollout samples from another distribution than the trained one: the
        off-policy weight is what keeps the gradient right."""
        if getattr(self.rollout.engine, "weights", "full") == "int8" and (
                self.algorithm.offpolicy is None):
            raise ValueError("rollout.engine.weights=int8 needs algorithm.offpolicy (the "
                             "importance weight between the int8 sampler and the trained "
                             "model); remove algorithm.offpolicy=null or use weights=full")

    def _curriculum_fits(self) -> None:
        """Stage params replace generator parameters: only generated tasks have them; a stage's
        length budget is at most rollout.max_new_tokens (engines and the Dr.GRPO normaliser are
        sized by it)."""
        stages = self.data.curriculum.stages if self.data.curriculum is not None else []
        if any(s.params for s in stages) and self.task.kind not in CURRICULUM_KINDS:
            raise ValueError(f"data.curriculum stages with params need a generated task (task.kind "
                             f"in {', '.join(CURRICULUM_KINDS)}), got task.kind={self.task.kind}; "
                             "stages that set only max_new_tokens fit any task")
        if stages and self.task.kind == "mixture":
            raise ValueError("data.curriculum does not work inside a task mixture yet")
        for index, stage in enumerate(stages):
            if stage.max_new_tokens is not None and \
                    stage.max_new_tokens > self.rollout.max_new_tokens:
                raise ValueError(f"data.curriculum.stages[{index}].max_new_tokens="
                                 f"{stage.max_new_tokens} is above rollout.max_new_tokens="
                                 f"{self.rollout.max_new_tokens} (its upper bound)")

    def _temperatures_supported(self) -> None:
        """Several temperatures per group are recorded per sample only by the in-process hf
        engine's single-turn rollout; elsewhere training would score at the wrong temperature."""
        temps = self.rollout.temperatures
        key = ("rollout.temperature_schedule" if self.rollout.temperature_schedule is not None
               else "rollout.temperatures" if temps is not None and len(set(temps)) > 1 else None)
        if key is None:
            return
        if self.env is not None and self.env.name != "single_turn":
            raise ValueError(f"{key} does not work with env.name={self.env.name} "
                             "yet (episodes record no per-sample temperature); use "
                             "rollout.temperature")
        if self.rollout.engine.name != "hf":
            raise ValueError(f"{key} needs rollout.engine.name=hf (got "
                             f"{self.rollout.engine.name})")
