"""Does shrinking a return forecast toward the random walk beat the random walk?

    python -m benchmarks.toward_walk RESULTS_DIR [RESULTS_DIR ...]

For the stored runs of a return-forecasting recipe (``price``, ``target: return``) that
``benchmarks.compare`` left, takes each study's ensemble (Caruana selection over its
stored pool, as the search does) and scores ``(1 - s) * ensemble`` (a share ``s`` of the
zero-return forecast, the random walk) on the folds and on the held-out rows, for a few
``s``, beside the random walk itself and Caruana selection with the random walk in the pool.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

from benchmarks.rows import runs_of
from benchmarks.selection import held_out, pool_of

SHARES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)


def main(argv: list[str]) -> None:
    from automl_fin.results._ensemble import cv_score, select

    found: dict[str, list[tuple[float, float]]] = {}
    for results in argv:
        for _, db in runs_of(Path(results)):
            p, models, oof, held = pool_of(db)
            sign = p.metric.sign

            def score(pred: np.ndarray, p=p) -> float:  # type: ignore[no-untyped-def]
                return cv_score(p, pred)

            w = select(oof, models, score, "caruana")
            ens_cv = sum(wi * o for wi, o in zip(w, oof, strict=True))
            ens_ht = sum(wi * h for wi, h in zip(w, held, strict=True))
            for s in SHARES:
                got = (sign * score((1 - s) * ens_cv), held_out(p, (1 - s) * ens_ht))
                found.setdefault(f"{s:.2f} random walk", []).append(got)
            zero_cv, zero_ht = np.zeros_like(oof[0]), np.zeros_like(held[0])
            w2 = select([*oof, zero_cv], [*models, "random_walk"], score, "caruana")
            cv = sum(wi * o for wi, o in zip(w2, [*oof, zero_cv], strict=True))
            ht = sum(wi * h for wi, h in zip(w2, [*held, zero_ht], strict=True))
            found.setdefault("caruana with the random walk in the pool", []).append(
                (sign * score(cv), held_out(p, ht))
            )
            print(f"{db.parent.parent.parent.name}: random walk's weight {w2[-1]:.2f}", flush=True)
    print("| forecast | cross-validated | held out | per run (held out) |")
    print("|---|---|---|---|")
    for rule, runs in found.items():
        each = ", ".join(f"{h:.7f}" for _, h in runs)
        cv = statistics.fmean(c for c, _ in runs)
        ht = statistics.fmean(h for _, h in runs)
        print(f"| {rule} | {cv:.7f} | {ht:.7f} | {each} |")


if __name__ == "__main__":
    main(sys.argv[1:])
