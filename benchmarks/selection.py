"""Which ensemble rule generalises: rules over the same pool, on the same searches.

    python -m benchmarks.selection RESULTS_DIR [RESULTS_DIR ...]

Reads the automl_fin runs a ``benchmarks.compare`` left (as ``benchmarks.rows`` does),
takes each study's ensemble pool (``results._ensemble.candidates``: the best trial of each
model family, then the best others) with its kept fold models, and scores several ways
of weighting that pool on the held-out final test rows (rows no search step saw) beside
their cross-validated score. The pools are the same for every rule, so the differences
are paired: one post-search rule measured on the same searches.

Rules: ``best`` (the pool's best trial), ``caruana`` (greedy forward selection with
replacement on the out-of-fold predictions, on the recipe's metric), ``families`` (the plain
mean of each family's best trial), ``caruana_families`` (forward selection over each
family's best trial only), ``shrunk`` (half ``caruana``, half ``families``) and
``bagged`` (Caruana et al. 2006's bagged selection: forward selection on random halves
of the pool, weights averaged over 20 bags); for every classification run also
``caruana_log_loss`` (forward selection on the blend's log loss: what the search does
under a label metric), ``shrunk_log_loss`` and ``bagged_log_loss`` (those rules on log
loss: what ``ensemble_selection`` does there). Each rule is also paired run by run with
the one the search uses (``caruana``, or ``caruana_log_loss`` under a label metric).
Under a label metric every blend is labelled by its own decision rule.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.rows import runs_of


def rules(preds: list[np.ndarray], models: list[str], score: Any, seed: int) -> dict[str, Any]:
    """Rule name -> member weights (summing to 1) over the pool ``preds``."""
    from automl_fin.results._ensemble import family_heads, greedy_selection, select

    n = len(preds)
    out: dict[str, np.ndarray] = {}
    best = np.zeros(n)
    best[int(np.argmax([score(p) for p in preds]))] = 1.0
    out["best"] = best
    out["caruana"] = select(preds, models, score, "caruana")
    heads = family_heads(models)  # the pool is best first: each family's best
    fam = np.zeros(n)
    fam[heads] = 1.0 / len(heads)
    out["families"] = fam
    c, _ = greedy_selection([preds[i] for i in heads], score)
    out["caruana_families"] = np.zeros(n)
    out["caruana_families"][heads] = c / c.sum()
    out["shrunk"] = select(preds, models, score, "shrunk")
    out["bagged"] = select(preds, models, score, "bagged", seed=seed)
    return out


def pool_of(db: Path) -> tuple[Any, list[str], list[np.ndarray], list[np.ndarray]]:
    """One stored run's problem and ensemble pool: each member's model family, its
    out-of-fold predictions and its predictions of the held-out rows (best first)."""
    from automl_fin.engine._predictions import blend
    from automl_fin.engine._reopen import reopen
    from automl_fin.engine._trial_record import TrialRecord
    from automl_fin.results._artifacts import fitted_member
    from automl_fin.results._ensemble import candidates

    folder = next(f for f in db.parent.iterdir() if f.is_dir() and (f / "oof").is_dir())
    run = reopen(folder, storage=f"sqlite:///{db}")
    p, study = run.problem, run.study
    pool = candidates(study, p)
    models = [str(TrialRecord.of(t).model) for t in pool]
    oof = [np.load(str(TrialRecord.of(t).oof)) for t in pool]
    width = p.dataset.n_classes if p.task.is_classification else 1
    held = []
    for t in pool:
        model, pipe = fitted_member(t, p, p.search_rows, folder)
        held.append(blend([pipe], [1.0], p.dataset.X.iloc[p.test_rows], width, [model]))
    return p, models, oof, held


def evaluate(db: Path) -> tuple[dict[str, tuple[float, float]], str]:
    """Rule -> (cross-validated, held-out) score of one stored run, and the rule the
    search itself uses (``caruana``, or ``caruana_log_loss`` under a label metric). Under
    a label metric each blend is labelled by its own decision rule (cross-validated: plus
    the rule's cross-fitted gain, as the search values its ensemble); under any
    classification metric three more rules select the weights on log loss."""
    from automl_fin.results._decision import Rule, rule_row, ruled
    from automl_fin.results._ensemble import (
        cv_score,
        log_loss_criterion,
        select,
        selection_criterion,
    )

    p, models, oof, held = pool_of(db)
    sign = p.metric.sign

    def score(pred: np.ndarray) -> float:
        return cv_score(p, pred)

    weights = rules(oof, models, score, seed=p.recipe.seed or 0)
    smooth, on = selection_criterion(p)  # a label metric: log loss, the rule for labels
    searched = "caruana" if smooth is None else f"caruana_{on}"
    if p.task.is_classification:  # the rules on log loss, under any classification metric
        for rule in ("caruana", "shrunk", "bagged"):
            weights[f"{rule}_log_loss"] = select(
                oof, models, log_loss_criterion(p), rule, seed=p.recipe.seed or 0
            )
    out = {}
    for rule, w in weights.items():
        cv = sum(wi * o for wi, o in zip(w, oof, strict=True) if wi)
        ht = sum(wi * h for wi, h in zip(w, held, strict=True) if wi)
        attrs: dict[str, Any] = {}  # valued and labelled as the search would this blend
        value = rule_row(p, cv, sign * score(cv), attrs)
        out[rule] = (value, held_out(p, ruled(ht, Rule.from_json(attrs.get("decision")))))
    return out, searched


def held_out(p: Any, pred: np.ndarray) -> float:
    """The recipe's metric of predictions of the held-out rows."""
    return float(p.scores(p.search_rows, p.test_rows, pred, extras=False)[p.metric.name])


def main(argv: list[str]) -> None:
    found: dict[str, list[dict[str, tuple[float, float]]]] = {}
    searched: dict[str, str] = {}  # data set -> the rule its searches use
    for results in argv:
        for name, db in runs_of(Path(results)):
            got, searched[name] = evaluate(db)
            found.setdefault(name, []).append(got)
            line = ", ".join(f"{k} {v[1]:.4f}" for k, v in got.items())
            print(f"{name} {db.parent.parent.parent.name}: {line}", flush=True)
    print("| data | runs | rule | cross-validated | held out | against the search's rule |"
          " per run (held out) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, runs in found.items():
        for rule in runs[0]:
            cv = statistics.fmean(r[rule][0] for r in runs)
            ht = [r[rule][1] for r in runs]
            each = ", ".join(f"{h:.4f}" for h in ht)
            print(f"| {name} | {len(runs)} | {rule} | {cv:.4f} | {statistics.fmean(ht):.4f} "
                  f"| {against(runs, rule, searched[name])} | {each} |")  # fmt: skip


def against(runs: list[dict[str, tuple[float, float]]], rule: str, searched: str) -> str:
    """``rule`` minus ``searched`` (the rule the search itself uses) on the held-out
    rows, paired run by run: mean, runs higher / lower (the sign is the metric's, so
    for an error metric such as RMSE a negative mean is better)."""
    diff = [r[rule][1] - r[searched][1] for r in runs]
    up, down = sum(d > 0 for d in diff), sum(d < 0 for d in diff)
    return f"{statistics.fmean(diff):+.4f} ({up} up, {down} down)"


if __name__ == "__main__":
    main(sys.argv[1:])
