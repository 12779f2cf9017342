"""The SQL task: questions over a SQLite database, scored by running the model's query read-only
(rewards/sql.py). Gold result sets are computed once here, from the dataset's own trusted gold
queries, and travel in ``row.metadata`` so workers only run the model's query."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rlvr.configs.task import SqlTaskConfig
from rlvr.data.files import read_numbered
from rlvr.data.quarantine import drop
from rlvr.data.split import RowListTask, hold_out_tail
from rlvr.rewards.sql import QueryFailed, SqlVerifier, run_query, user_tables
from rlvr.types import TaskRow


def schema_text(db_path: Path) -> str:
    """The CREATE statements of the database, shown to the model in the prompt."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return "\n".join(str(s) + ";" for (s,) in sql)
    finally:
        conn.close()


class SqlTask(RowListTask):
    def __init__(self, cfg: SqlTaskConfig) -> None:
        self.name = cfg.db.stem
        self.verifier = SqlVerifier(cfg.sql)
        db_path = cfg.db.resolve()
        tables = sorted(user_tables(db_path))
        schema = schema_text(db_path)
        rows = []
        for line, record in read_numbered(cfg.questions, ("question", "gold_sql")):
            index = len(rows)
            try:
                gold = run_query(db_path, record["gold_sql"], cfg.sql, frozenset(tables))[0]
            except QueryFailed as err:
                if drop(cfg.questions, line, f"gold query failed: {err}"):
                    continue
                raise ValueError(f"{cfg.questions}: row {line}: gold query failed: {err}") from None
            prompt = (f"SQLite schema:\n{schema}\n\nQuestion: {record['question']}\n"
                      "Answer with one SQLite query in a ```sql code block.")
            rows.append(TaskRow(row_id=f"{self.name}/{index}", prompt=prompt,
                                reference=record["gold_sql"],
                                metadata={"db_path": str(db_path), "tables": tables,
                                          "gold_sql": record["gold_sql"],
                                          "gold_rows": [list(r) for r in gold]}))
        self._train, self._eval = hold_out_tail(rows, cfg.eval_size, cfg.questions)

