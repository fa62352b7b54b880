"""Trials per minute of one search with 1 and with 2 processes on one PostgreSQL study.

    python -m benchmarks.workers [--trials 24] [--repeats 2] [--together]

Starts a throwaway PostgreSQL server (Debian's package, as the tests do), then for each
repeat runs the `default` recipe with a fixed trial budget once by `automl-fin run`
alone and once by `automl-fin run` plus one `automl-fin worker`, and prints the
throughput of each and their ratio. By default the worker starts once the run has
created the study; ``--together`` starts it at the same moment (``worker --wait 60``),
as a job script or cluster would. Single-threaded models (n_jobs 1), no ensemble,
predictor or report, so that the figure is the search's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import postgres_server as pg  # noqa: E402

SETTINGS = [
    "--set", "models=[logreg, rf, hgb]", "--set", "validation.repeats=1",
    "--set", "calibration=[none]", "--set", "baselines=[]", "--set", "pruner=none",
    "--no-ensemble", "--no-predictor", "--no-report", "--no-progress",
]  # fmt: skip


def _cli(*args: str, runs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "automl_fin.cli", *args, "--runs-dir", str(runs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_study(url: str, name: str) -> None:
    import optuna

    from automl_fin.storage._storage import open_storage

    while True:
        try:
            optuna.load_study(study_name=name, storage=open_storage(url, create=False))
            return
        except KeyError:
            time.sleep(0.1)


def measure(
    url: str, workers: int, trials: int, tag: str, tmp: Path, together: bool = False
) -> float:
    """Trials per minute of a ``trials``-trial search by 1 + ``workers - 1`` processes."""
    study = f"bench-{tag}-{workers}"
    started = time.monotonic()
    run = _cli("run", "default", "--storage", url, "--study", study, "--trials", str(trials),
               "--seed", "0", *SETTINGS, runs=tmp / f"{study}-run")  # fmt: skip
    helpers = []
    if workers > 1:
        if not together:
            _wait_for_study(url, study)
        helpers = [
            _cli(
                "worker",
                "--storage",
                url,
                "--study",
                study,
                "--no-progress",
                "--wait",
                "60",
                runs=tmp / f"w{i}",
            )
            for i in range(workers - 1)
        ]
    for proc in [run, *helpers]:
        if proc.wait() != 0:
            raise RuntimeError(f"a process of {study} failed")
    return trials / ((time.monotonic() - started) / 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--together", action="store_true", help="start worker and run at once")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="automl_fin_bench_pg_"))
    url = pg.start(tmp)
    try:
        rates: dict[int, list[float]] = {1: [], 2: []}
        for r in range(args.repeats):
            order = (1, 2) if r % 2 == 0 else (2, 1)  # alternate: drift hits both alike
            for n in order:
                rates[n].append(measure(url, n, args.trials, str(r), tmp, args.together))
                print(f"repeat {r}: {n} process(es): {rates[n][-1]:.1f} trials/min", flush=True)
        one, two = (sum(v) / len(v) for v in (rates[1], rates[2]))
        print(
            f"\n{args.trials} trials, {os.cpu_count()} cores: 1 process {one:.1f} trials/min, "
            f"2 processes {two:.1f} trials/min, ratio {two / one:.2f}"
        )
    finally:
        pg.stop(tmp)


if __name__ == "__main__":
    main()
