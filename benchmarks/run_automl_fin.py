"""automl_fin's side of ``benchmarks.compare``: one recipe search with a final test.

    python -m benchmarks.run_automl_fin WORKDIR

``WORKDIR/task.json`` names the recipe, its overrides, the data (a path or null for the
recipe's own), the budget in seconds and the seed. The search runs as a user runs it
(SQLite storage in ``WORKDIR/runs``, ensemble on) with only the time budget binding, then
the final test scores the best row (bagged, or refitted on the search rows) on the held-out rows.
Writes ``WORKDIR/info.json``: those scores, a digest of the held-out row numbers (the
harness checks that the peers got the same rows), trials run and the best model.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def rows_digest(rows: np.ndarray) -> str:
    """A short digest of row numbers, to check that two processes split alike."""
    return hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()[:16]


def main(work: Path) -> None:
    from automl_fin import search

    task = json.loads((work / "task.json").read_text())
    overrides: dict[str, Any] = {
        **task["overrides"],
        "budget.trials": None,  # the time budget alone decides
        "predictor": False,
        "report": False,
    }
    result = search(
        task["recipe"],
        task["data"],
        seconds=task["budget"],
        seed=task["seed"],
        overrides=overrides,
        runs_dir=work / "runs",
    )
    best = result.best
    final = result.final_test or {}
    scored = final.get("trials", {}).get(str(int(best["trial"])), {})
    board = result.leaderboard()
    ran = board[~board["baseline"] & board["state"].isin(["COMPLETE", "PRUNED"])]
    info = {
        "scores": {k: v for k, v in scored.items() if isinstance(v, float)},
        "error": scored.get("error"),
        "test_rows": rows_digest(result.problem.test_rows),
        "models": len(ran),
        "best": str(best["model"]),
        "timings": result.timings,
        "versions": _versions(),
    }
    (work / "info.json").write_text(json.dumps(info, default=str))


def _versions() -> dict[str, str]:
    from automl_fin.results._artifacts import package_versions

    return package_versions()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
