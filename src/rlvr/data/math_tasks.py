"""Math tasks scored by the bounded math verifier (rewards/math.py): GSM8K-style files and
reasoning-gym generators. Config classes: rlvr.configs.task."""

from __future__ import annotations


from rlvr.configs.task import MathFileTaskConfig, ReasoningGymMathTaskConfig
from rlvr.data.files import read_numbered
from rlvr.data.quarantine import drop
from rlvr.data.reasoning_gym import ReasoningGymTask
from rlvr.data.split import RowListTask, hold_out_tail
from rlvr.rewards.math import MathVerifier
from rlvr.rewards.unsupervised import answer_key
from rlvr.types import RewardResult, TaskRow


def gold_answer(answer: str, answer_format: str) -> str:
    """The final answer of a gold solution: after the last '####' for GSM8K-style text ('' when
    missing, which the verifier reports as unscorable), else the stripped text."""
    if answer_format == "gsm8k":
        head, sep, tail = answer.rpartition("####")
        return tail.strip().replace(",", "") if sep else ""
    return answer.strip()


class MathFileTask(RowListTask):
    """Rows from the file; the last ``eval_size`` rows are held out."""

    def __init__(self, cfg: MathFileTaskConfig) -> None:
        self.name = cfg.path.stem
        self.verifier = MathVerifier(cfg.math)
        rows = []
        fields = (cfg.question_field, cfg.answer_field)
        for line, record in read_numbered(cfg.path, fields):
            for key in fields:
                if key not in record:
                    raise ValueError(f"{cfg.path}: row {line} has no field {key!r}")
            gold = gold_answer(str(record[cfg.answer_field]), cfg.answer_format)
            if not gold and drop(cfg.path, line, "gold answer unparseable (no final answer)"):
                continue
            rows.append(TaskRow(row_id=f"{self.name}/{len(rows)}",
                                prompt=str(record[cfg.question_field]), reference=gold,
                                metadata={"solution": str(record[cfg.answer_field])}))
        self._train, self._eval = hold_out_tail(rows, cfg.eval_size, cfg.path)


    def extract_answer(self, completion: str) -> str | None:
        """The canonical final answer maj@k votes on ('0.5' and '\\frac12' agree)."""
        return answer_key(completion)


class ReasoningGymMathTask(ReasoningGymTask):
    """reasoning-gym rows, checked by the math verifier against the generator's answer."""

    def __init__(self, cfg: ReasoningGymMathTaskConfig) -> None:  # type: ignore[override]
        super().__init__(cfg)
        self.verifier = MathVerifier(cfg.math)

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return self.verifier(completion, row)

    def extract_answer(self, completion: str) -> str | None:
        return answer_key(completion)
