"""Evaluation and analysis: unbiased pass@k, maj@k, bootstrap intervals, resumable results files,
model comparison (the reasoning-boundary analysis), training diagnostics and HTML run reports.

    passk.py, majk.py, bootstrap.py   the estimators
    results.py, summary.py            the results file and its summary
    evaluate.py                       evaluate() (its settings: rlvr.configs.eval)
    periodic.py                       evaluation during training
    compare.py, plots.py              `rlvr compare`: curves, tables, solved-set overlap
    diagnostics.py                    per-step training diagnostics and their checklist
    rundir.py, report.py              `rlvr report RUN_DIR`
"""
