"""Optuna's SQLite storage against its JournalStorage (file backend), as automl-fin uses one.

    python -m benchmarks.storages [--trials 200] [--repeats 3]
    python -m benchmarks.storages --failures

Each storage gets the same trials, written as an automl-fin trial writes them through
Optuna's public API: ``ask``, 11 parameters sampled by TPE, 10 reported fold values,
the trial record written twice (one JSON user attribute), ``tell``. Printed per storage:
creating the storage, milliseconds a trial (sampling included: TPE reads the study),
and reading every trial back once from a fresh process's view (what the leaderboard
does), at the end of the search. Heartbeats (what lets a search fail the trial of a
process that died) exist only for the RDB storage; they are off here for both.

``--failures``: what the journal does after the two accidents a file storage must
survive: an append cut short (a full disk, a power cut) and a writer killed while it
holds the journal's lock file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import optuna

RECORD = {"model": "hgb", "preprocessors": "numeric:median_impute", "process": "host:1"}


def _objective(trial: optuna.Trial) -> float:
    trial.set_user_attr("automl_fin", RECORD)
    model = trial.suggest_categorical("model", ["logreg", "rf", "hgb"])
    x = sum(trial.suggest_float(f"{model}:p{i}", 1e-3, 1.0, log=True) for i in range(10))
    for step in range(10):
        trial.report(x / (step + 1), step)
    trial.set_user_attr("automl_fin", {**RECORD, "fold_scores": [x] * 10, "fit_s": 0.5})
    return x


def _open(kind: str, folder: Path) -> optuna.storages.BaseStorage:
    if kind == "sqlite":
        return optuna.storages.RDBStorage(f"sqlite:///{folder / 'runs.db'}")
    backend = optuna.storages.journal.JournalFileBackend(str(folder / "runs.log"))
    return optuna.storages.JournalStorage(backend)


def measure(kind: str, trials: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        storage = _open(kind, folder)
        study = optuna.create_study(
            study_name="s", storage=storage, sampler=optuna.samplers.TPESampler(seed=0)
        )
        t1 = time.perf_counter()
        for _ in range(trials):
            trial = study.ask()
            study.tell(trial, _objective(trial))
        t2 = time.perf_counter()
        reader = _open(kind, folder)  # another process's view: nothing cached
        study_id = reader.get_study_id_from_name("s")
        read = reader.get_all_trials(study_id, deepcopy=False)
        t3 = time.perf_counter()
        assert len(read) == trials
        return {
            "create_ms": 1000 * (t1 - t0),
            "trial_ms": 1000 * (t2 - t1) / trials,
            "read_ms": 1000 * (t3 - t2),
        }


def _journal(folder: Path) -> optuna.Study:
    storage = _open("journal", folder)
    return optuna.create_study(study_name="s", storage=storage, load_if_exists=True)


def failures() -> None:
    """Print what a journal study does after a torn line and after a stale lock file."""
    objective = lambda trial: trial.suggest_float("x", 0, 1)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _journal(folder).optimize(objective, n_trials=5)
        with open(folder / "runs.log", "ab") as fh:  # an append cut short
            fh.write(b'{"op_code":4,"worker_id":"w","tri')
        study = _journal(folder)
        print(f"torn line: {len(study.trials)} trials read back")
        try:
            study.optimize(objective, n_trials=1)
            print("torn line: the next trial was written")
        except Exception as exc:  # what it raises is the finding
            print(f"torn line: the next trial fails: {type(exc).__name__}: {exc}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = _journal(folder)
        # a writer killed between taking the lock and releasing it leaves this behind
        (folder / "runs.log.lock").symlink_to(folder / "runs.log")
        t0 = time.perf_counter()
        study.optimize(objective, n_trials=1)
        print(f"stale lock: the next write took {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--failures", action="store_true", help="the journal's two accidents")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.failures:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        failures()
        return
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "journal": []}
    for _ in range(args.repeats):
        for kind in results:  # alternated: drift hits both alike
            results[kind].append(measure(kind, args.trials))
    print(f"{args.trials} trials, median of {args.repeats}:")
    for kind, runs in results.items():
        cells = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"  {kind:<8} create {cells['create_ms']:7.1f} ms  per trial {cells['trial_ms']:6.1f} "
            f"ms  read {args.trials} trials back {cells['read_ms']:7.1f} ms"
        )


if __name__ == "__main__":
    main()
