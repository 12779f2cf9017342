"""Evaluation and analysis: unbiased pass@k, maj@k, bootstrap intervals, resumable results files,
model comparison (the reasoning-boundary analysis), training diagnostics and HTML run reports.

    passk.py, majk.py, bootstrap.py   the estimators
    results.py, summary.py            the results file and its summary
    evaluate.py                       evaluate(), the one evaluator (settings: rlvr.configs.eval)
    periodic.py                       evaluation during training: periodic, before / after
    compare.py, plots.py              `rlvr compare`: curves, tables, solved-set overlap
    diagnostics.py                    the checklist of per-step training diagnostics
    rundir.py, report.py              `rlvr report RUN_DIR`
"""
