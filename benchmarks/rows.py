"""Which leaderboard row to trust: every row kind of the same searches, on held-out rows.

    python -m benchmarks.rows RESULTS_DIR [RESULTS_DIR ...]

Reads the automl_fin runs a ``benchmarks.compare`` left (``<dataset>-r<k>/automl_fin/runs``)
and prints, per data set, the mean final-test score (rows no search step saw) of: the
best single trial, the ensemble (Caruana selection), the stack (layer 2), the row the
search chose (the best cross-validated score, or the baseline a reality check kept), and
each row's cross-validated score beside it. The rows come from the same trials, so the
differences are paired: one post-search change measured on the same searches, without
the noise of searching again.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any


def runs_of(results: Path) -> list[tuple[str, Path]]:
    """(data set, storage file) of every automl_fin run under a compare output."""
    return [
        (folder.name.rsplit("-r", 1)[0], db)
        for folder in sorted(results.iterdir())
        if (db := folder / "automl_fin" / "runs" / "automl_fin.db").is_file()
    ]


def kinds(db: Path) -> dict[str, tuple[float, float]]:
    """Row kind -> (cross-validated score, held-out score) for one run's study."""
    import optuna

    from automl_fin.data._metrics import get_metric
    from automl_fin.engine._trial_record import TrialRecord, best_of, is_candidate
    from automl_fin.results._ensemble import rows_of
    from automl_fin.results._reality_check import chosen_number

    url = f"sqlite:///{db}"
    (summary,) = optuna.get_all_study_summaries(url)
    study = optuna.load_study(study_name=summary.study_name, storage=url)
    metric = get_metric(study.user_attrs["metric"])
    tested = study.user_attrs.get("final_test", {}).get("trials", {})
    out: dict[str, tuple[float, float]] = {}
    rows = [t for t in rows_of(study) if is_candidate(t) and str(t.number) in tested]
    by_kind: dict[str, list[Any]] = {"trial": [t for t in rows if t.number >= 0]}
    by_kind |= {k: [t for t in rows if t.number == n] for k, n in (("ensemble", -1), ("stack", -2))}
    by_kind["chosen"] = rows
    for kind, candidates in by_kind.items():
        if not candidates:
            continue
        best = best_of(candidates, metric.sign)
        if kind == "chosen":  # the baseline a reality check kept, where it did
            number = chosen_number(study.user_attrs, best.number, float(best.value))
            best = next(t for t in rows_of(study) if t.number == number)
        held = tested[str(best.number)].get(metric.name)
        if held is not None:
            out[kind] = (float(best.value), float(held))
            if kind == "chosen":
                out["chosen_model"] = (best.number, TrialRecord.of(best).model)  # type: ignore[assignment]
    return out


def main(argv: list[str]) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for results in argv:
        for name, db in runs_of(Path(results)):
            found.setdefault(name, []).append(kinds(db))
    print("| data | runs | row | cross-validated | held out |")
    print("|---|---|---|---|---|")
    for name, runs in found.items():
        for kind in ("trial", "ensemble", "stack", "chosen"):
            got = [r[kind] for r in runs if kind in r]
            if not got:
                continue
            cv = statistics.fmean(g[0] for g in got)
            held = statistics.fmean(g[1] for g in got)
            print(f"| {name} | {len(got)} | {kind} | {cv:.4f} | {held:.4f} |")
        chosen = [str(r["chosen_model"][1]) for r in runs if "chosen_model" in r]
        print(f"| {name} | | chosen rows | {', '.join(chosen)} | |")


if __name__ == "__main__":
    main(sys.argv[1:])
