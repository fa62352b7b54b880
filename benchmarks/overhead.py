"""The framework's own share of a search's wall time, and its cost per trial with data size.

    python -m benchmarks.overhead [--trials 40] [--storage sqlite|memory]
    python -m benchmarks.overhead --scaling [--trials 8]

Overhead: runs the ``default`` recipe (seed 0, no report or predictor) and compares the
search's wall seconds with the seconds its trials spent inside model ``fit`` and
``predict`` (as each trial records them, less the learning-curve reports made from
inside a fit, ``curve_s``): the rest (``outside_share``) is sampling, pipeline building,
scoring, storage round trips and pruning, and the plugins' builders (``build_s``: a
deep model's first build imports torch and Lightning); ``framework_share`` leaves the
builders out. ``setup_s``: from the call to the first trial's start (reading the data,
opening the storage: in a fresh process that imports SQLAlchemy and Alembic, and a new
SQLite file creates Optuna's tables), inside the wall seconds; ``trial_framework_ms``
is the framework's time per trial after it. Scaling: seconds per trial of the same recipe on
1k, 10k and 100k rows of ``credit_data`` resampled with replacement (the larger sizes
repeat rows: a size axis only, not new information), 3-fold, no repeats.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import optuna

from automl_fin import search
from automl_fin.engine._trial_record import TrialRecord


def overhead(trials: int, storage: str) -> dict[str, float]:
    """Search wall seconds, model fit + predict seconds, and the share outside them."""
    with tempfile.TemporaryDirectory() as tmp:
        called = dt.datetime.now()
        result = search(
            "default",
            trials=trials,
            seed=0,
            runs_dir=tmp,
            storage=":memory:" if storage == "memory" else None,
            overrides={"predictor": False, "report": False, "ensemble": False},
        )
        study = optuna.load_study(study_name=result.study_name, storage=result.storage)
        trials = study.get_trials(deepcopy=False)
        attrs = [TrialRecord.of(t).stored() for t in trials]
        # inside fit_s, a monitored model's learning-curve reports are the framework's
        curve = sum(a.get("curve_s", 0.0) for a in attrs)
        inside = sum(a.get("fit_s", 0.0) + a.get("predict_s", 0.0) for a in attrs) - curve
        build = sum(a.get("build_s", 0.0) for a in attrs)  # plugins' builders, their imports
        wall = result.timings["search"]
        setup = (min(t.datetime_start for t in trials) - called).total_seconds()
        return {"trials": len(trials), "wall_s": round(wall, 2), "model_s": round(inside, 2),
                "curve_s": round(curve, 2), "build_s": round(build, 2),
                "outside_share": round(1 - inside / wall, 4),
                "framework_share": round(1 - (inside + build) / wall, 4),
                "framework_ms_per_trial": round(1000 * (wall - inside - build) / len(trials)),
                "setup_s": round(setup, 2),
                "trial_framework_ms": round(1000 * (wall - setup - inside - build) / len(trials)),
                }  # fmt: skip


SCALING = {"predictor": False, "report": False, "ensemble": False, "baselines": [],
           "validation.n_splits": 3, "validation.repeats": 1}  # fmt: skip


def scaling(trials: int) -> list[dict[str, float]]:
    """Seconds per trial of the default recipe at 1k, 10k and 100k resampled rows."""
    from automl_fin.datasets import load

    base = load("credit_data")
    rows = []
    for n in (1_000, 10_000, 100_000):
        frame = base.sample(n=n, replace=True, random_state=0).reset_index(drop=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "credit.csv"
            frame.to_csv(path, index=False)
            started = time.monotonic()
            result = search(
                "default",
                path,
                target="status",
                trials=trials,
                seed=0,
                runs_dir=tmp,
                overrides=SCALING,
            )
            board = result.leaderboard(state=None)
            wall = time.monotonic() - started
            per_model = board.groupby("model")["duration_s"].median().round(2).to_dict()
            rows.append({"rows": n, "trials": len(board), "wall_s": wall,
                         "s_per_trial": result.timings["search"] / len(board),
                         "median_s_by_model": per_model})  # fmt: skip
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--storage", choices=["sqlite", "memory"], default="sqlite")
    ap.add_argument("--scaling", action="store_true")
    args = ap.parse_args()
    if args.scaling:
        scaling(args.trials)
        return
    print(overhead(args.trials, args.storage))


if __name__ == "__main__":
    main()
