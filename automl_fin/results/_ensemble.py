"""Ensemble selection over the stored out-of-fold predictions (Caruana et al., 2004).

After a search, the out-of-fold predictions of a pool of candidates are combined by
greedy forward selection with replacement: start from the best single trial, then
repeatedly add (again, if it helps) the trial whose inclusion most improves the
recipe's metric of the averaged predictions; the weights are how often each was picked,
at the best round. Under a label metric (macro-F1, QWK, ...) the weights optimise the
blend's log loss instead, and its decision rule chooses the labels
(:func:`selection_criterion`).

The pool (:func:`candidates`) is the best trial of each model, then of each family, then
the best others, :data:`TOP_K` in all — not simply the ``TOP_K`` best: a long search
re-tunes its best family into near-copies that fill a top-``K`` pool, and selection on
the folds that scored those copies then picks the luckiest of them. A family
(:func:`family_of`) is a model *and* its preprocessing steps (not their parameters):
logistic regression on sentence embeddings and on TF-IDF columns err on different rows,
ten re-tunings of its ``C`` on embeddings are near-copies. Measured on stored searches,
held-out rows (docs/benchmarks.md): the best of each model first scored +0.0009 ROC AUC
over the top 10 (2 to 4 credit tables, 60 s and 300 s, 18 runs); each family's best
next, 0.7833 macro-F1 against 0.7690 on PhraseBank at 300 s where 14 of 17 trials were
logistic regressions on embeddings, and within ±0.0033 on the tabular sets' 21 runs.

Everything is scored the way trials are: each validation split scored on its own rows,
then averaged. With repeated k-fold the out-of-fold file of a trial holds the mean over
repeats, so the ensemble and its members are compared on that same basis
(``metric:best_member`` on the ensemble's row). A selection that keeps one trial as it
is makes no row (that trial is the row; scored on its repeats' mean it had outranked
itself); one put back on scale (a two-class blend's probabilities, see
:mod:`automl_fin.results._recalibration`, which moves log loss and Brier score) is a
row of its own.

The ensemble is not an Optuna trial: it is stored on the study (user attribute
``ensemble``), so that plain Optuna (``study.best_trial``, ``best_params``,
optuna-dashboard) keeps seeing the best real, re-runnable trial. automl-fin shows it as
a row of trial number -1 (Optuna's number for a trial outside a study) wherever rows
are listed: :func:`rows_of` adds it to a study's trials.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_fin.engine._trial_record import TrialRecord, is_candidate
from automl_fin.plugin._specs import Task
from automl_fin.results._decision import rule_row
from automl_fin.results._recalibration import fit_platt

if TYPE_CHECKING:
    from pathlib import Path

    import optuna

    from automl_fin.engine._problem import Problem

__all__ = [
    "ALONE",
    "ATTR",
    "build_ensemble",
    "candidates",
    "cross_fitted",
    "cv_score",
    "ensemble_of",
    "family_heads",
    "family_of",
    "fitting_rows",
    "greedy_selection",
    "log_loss_criterion",
    "row_of",
    "rows_of",
    "select",
    "selection_criterion",
    "selection_splits",
    "stored_row",
    "with_ensemble",
    "with_oof",
]

ATTR = "ensemble"  # the study user attribute that holds it
# the selection that kept one trial as it is (no row): {"trial", "model", "last_trial"}
ALONE = "ensemble:alone"
# rows stored on the study after the search: (user attribute, row number)
STORED_ROWS = ((ATTR, -1), ("stack", -2))

TOP_K = 10
ROUNDS = 25
SELECTIONS = ("caruana", "shrunk", "bagged")  # the rules of :func:`select`
BAGS = 20  # random halves of the pool that ``bagged`` selects on
PATIENCE = 5  # rounds without improvement before the selection stops
# ensemble selection scores blends, and a stack fits its layer 2, on at most this many
# rows: a seeded sample on larger data (:func:`fitting_rows`)
FITTING_ROWS = 100_000

Splits = Sequence[tuple[np.ndarray, np.ndarray]]


def greedy_selection(
    preds: list[np.ndarray], score: Callable[[np.ndarray], float], *, rounds: int = ROUNDS
) -> tuple[np.ndarray, float]:
    """Member counts and the best score of forward selection with replacement.

    ``score`` maps averaged predictions to a number where larger is better; the first
    member picked is the best single one; it stops after ``rounds`` additions or
    ``PATIENCE`` additions without improvement.
    """
    counts = np.zeros(len(preds), dtype=np.int64)
    total = np.zeros_like(preds[0], dtype=np.float64)
    best_counts, best, since = counts.copy(), -np.inf, 0
    for step in range(1, rounds + 1):
        gains = [score((total + p) / step) for p in preds]
        pick = int(np.argmax(gains))
        counts[pick] += 1
        total += preds[pick]
        if gains[pick] > best + 1e-12:
            best, best_counts, since = gains[pick], counts.copy(), 0
        else:
            since += 1
            if since >= PATIENCE:  # the blend stopped improving
                break
    return best_counts, float(best)


def select(
    preds: list[np.ndarray],
    families: list[str],
    score: Callable[[np.ndarray], float],
    rule: str = "caruana",
    *,
    seed: int = 0,
    rounds: int = ROUNDS,
) -> np.ndarray:
    """Member weights (summing to 1) over the pool ``preds`` (best first; ``families``
    their families, see :func:`family_of`) by ``rule`` (:data:`SELECTIONS`):

    * ``caruana``: :func:`greedy_selection`'s counts;
    * ``shrunk``: half ``caruana``, half the plain mean of each family's best member —
      forward selection on the folds that scored the pool picks its luckiest members,
      the family mean picks nothing, and the half of it pulls the weights back;
    * ``bagged``: Caruana et al. (2006)'s bagged selection: forward selection on
      :data:`BAGS` random halves of the pool (``seed``), the weights averaged.
    """
    if rule not in SELECTIONS:
        raise ValueError(f"ensemble_selection: {rule!r} is not one of {', '.join(SELECTIONS)}")
    n = len(preds)
    if rule == "bagged":
        rng = np.random.default_rng(seed)
        total = np.zeros(n)
        for _ in range(BAGS):
            half = np.sort(rng.choice(n, size=max(2, n // 2), replace=False))
            counts, _ = greedy_selection([preds[i] for i in half], score, rounds=rounds)
            total[half] += counts / counts.sum()
        return total / total.sum()
    counts, _ = greedy_selection(preds, score, rounds=rounds)
    weights = counts / counts.sum()
    if rule == "caruana":
        return weights
    heads = family_heads(families)
    family_mean = np.zeros(n)
    family_mean[heads] = 1.0 / len(heads)
    return (weights + family_mean) / 2


def family_heads(families: list[str]) -> list[int]:
    """Where each family first appears in ``families`` (a pool's, best first): the
    index of each family's best member, in pool order."""
    firsts: dict[str, int] = {}
    for i, family in enumerate(families):
        firsts.setdefault(family, i)
    return list(firsts.values())


def family_of(trial: optuna.trial.FrozenTrial) -> str:
    """A trial's family (:attr:`TrialRecord.family`): its model and the names of its
    preprocessing steps, e.g. ``logreg (text:minilm_embed)``."""
    return TrialRecord.of(trial).family


def fitting_rows(rows: np.ndarray, seed: int = 0, limit: int | None = None) -> np.ndarray:
    """``rows``, or, past ``limit`` (default :data:`FITTING_ROWS`), a seeded sample of
    ``limit`` of them, in order: the rows that choose an ensemble's weights or fit a
    stack's layer 2. A few weights are as well determined by 100,000 rows as by a
    million (measured in docs/benchmarks.md), while the time grows with the rows: a
    1M-row run spent 5.2 s selecting and 8.5 s stacking after a 60 s search. Scores
    are then computed on every row."""
    limit = FITTING_ROWS if limit is None else limit
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))


def selection_splits(
    problem: Problem, limit: int | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The search's splits, each validation set cut to the rows of :func:`fitting_rows`
    among the validated rows (all of them on up to ``limit``, default
    :data:`FITTING_ROWS`)."""
    limit = FITTING_ROWS if limit is None else limit
    kept = np.zeros(len(problem.dataset.y), dtype=bool)
    for _, valid in problem.splits:
        kept[valid] = True
    validated = np.flatnonzero(kept)  # in order: np.unique takes 0.8 s on a million
    if len(validated) <= limit:
        return list(problem.splits)
    kept[:] = False
    kept[fitting_rows(validated, problem.recipe.seed, limit)] = True
    return [(train, valid[kept[valid]]) for train, valid in problem.splits]


def cross_fitted(
    problem: Problem,
    preds: list[np.ndarray],
    pick: Callable[[Splits], np.ndarray],
    splits: Splits,
) -> np.ndarray | None:
    """An ensemble's out-of-fold blend: each split's rows blended by the weights that
    ``pick`` selects on the other splits' validation rows, this split's rows left out
    of them (repeated k-fold validates a row once a repeat); NaN where no split
    validates. ``None`` with one split (a holdout): no rows are left to select on."""
    if len(splits) < 2:
        return None
    out = np.full_like(preds[0], np.nan, dtype=np.float64)
    n = len(problem.dataset.y)
    for i, (_, valid) in enumerate(splits):
        mine = np.zeros(n, dtype=bool)
        mine[valid] = True
        others = [(tr, va[~mine[va]]) for j, (tr, va) in enumerate(splits) if j != i]
        weights = pick([(tr, va) for tr, va in others if len(va)])
        out[valid] = sum(w * pr[valid] for w, pr in zip(weights, preds, strict=True) if w)
    return out


def _fold_scores(
    p: Problem, pred: np.ndarray, *, extras: bool = True, splits: Splits | None = None
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for train, valid in p.splits if splits is None else splits:
        for name, value in p.scores(train, valid, pred[valid], extras=extras).items():
            out.setdefault(name, []).append(value)
    return out


def cv_score(problem: Problem, pred: np.ndarray, splits: Splits | None = None) -> float:
    """The recipe's metric of out-of-fold predictions ``pred``, each validation split
    (of ``splits``, default the search's) scored on its own rows and averaged, signed so
    that larger is better."""
    metric = problem.metric
    folds = _fold_scores(problem, pred, extras=False, splits=splits)
    return metric.sign * float(np.mean(folds[metric.name]))


def selection_criterion(
    problem: Problem, splits: Splits | None = None
) -> tuple[Callable[[np.ndarray], float] | None, str]:
    """What forward selection maximises, and its name: ``None`` for the recipe's metric
    (:func:`cv_score`), or, under a label metric a decision rule labels for (accuracy,
    balanced accuracy, macro-F1, QWK, ...), the log loss of the blended probabilities
    (negated; each split on its own rows, then averaged). A label metric moves in steps
    as members are added, so selection on it picks members for the rows that then
    score it; the ensemble's rule chooses its labels afterwards
    (:mod:`automl_fin.results._decision`)."""
    m = problem.metric  # (a label metric beside costs too: its labels serve the costs)
    if not (problem.task.is_classification and m.labels and m.decidable):
        return None, problem.metric.name
    return log_loss_criterion(problem, splits), "log_loss"


def log_loss_criterion(
    problem: Problem, splits: Splits | None = None
) -> Callable[[np.ndarray], float]:
    """The negated log loss of out-of-fold probabilities, each validation split (of
    ``splits``, default the search's) scored on its own rows, then averaged (larger is
    better)."""
    from automl_fin.data._metrics import METRICS

    loss, y = METRICS["log_loss"], problem.dataset.y
    valid = [va for _, va in (problem.splits if splits is None else splits)]

    def negated_log_loss(pred: np.ndarray) -> float:
        return -float(np.mean([loss(y[va], pred[va]) for va in valid]))

    return negated_log_loss


def with_oof(
    study: optuna.Study, problem: Problem, run_dir: Path | None = None
) -> list[optuna.trial.FrozenTrial]:
    """The completed trials (no baseline, no ensemble) whose out-of-fold predictions of
    every split are readable here (``run_dir``: the run's folder, where it was moved
    since, :meth:`TrialRecord.oof_file`), best first: the candidates of an ensemble or
    stack."""
    p = problem
    done = [
        t
        for t in study.get_trials(deepcopy=False)
        if is_candidate(t, ensemble=False)
        and TrialRecord.of(t).poolable(len(p.splits), run_dir, t.datetime_start)
    ]
    return sorted(done, key=lambda t: -p.metric.sign * float(t.value))  # type: ignore[arg-type]


def _say_unreadable(study: optuna.Study, problem: Problem, run_dir: Path | None) -> None:
    """Warn, in one line, of the completed trials whose out-of-fold files are not
    readable here: the ensemble and the stack leave them out (another machine's trials
    without a shared runs folder, or an ``oof`` folder deleted)."""
    n = len(problem.splits)
    unread = [
        t.number
        for t in study.get_trials(deepcopy=False)
        if is_candidate(t, ensemble=False)
        and (r := TrialRecord.of(t)).covers(n)
        and r.oof_file(run_dir, t.datetime_start) is None
    ]
    if unread:
        shown = ", ".join(map(str, unread[:5])) + (", ..." if len(unread) > 5 else "")
        warnings.warn(
            f"ensemble: the out-of-fold predictions of {len(unread)} trials (#{shown}) are "
            f"not readable here{f' (nor under {run_dir}/oof)' if run_dir else ''}; the "
            "ensemble and the stack leave them out (trials of other machines: give every "
            "machine one shared --runs-dir)",
            UserWarning,
            stacklevel=3,
        )


def oof_arrays(trials: list[optuna.trial.FrozenTrial], run_dir: Path | None) -> list[np.ndarray]:
    """The out-of-fold predictions of ``trials`` (:func:`with_oof`'s: each readable)."""
    return [np.load(TrialRecord.of(t).oof_file(run_dir, t.datetime_start)) for t in trials]  # type: ignore[arg-type]


def candidates(
    study: optuna.Study, problem: Problem, top_k: int = TOP_K, run_dir: Path | None = None
) -> list[optuna.trial.FrozenTrial]:
    """The pool of an ensemble or a stack, among the completed trials with out-of-fold
    predictions on every split: the best trial of each model, then of each family
    (:func:`family_of`: a model with other preprocessing), then the best others,
    ``top_k`` in all, best first."""
    done = with_oof(study, problem, run_dir)
    picked: list[optuna.trial.FrozenTrial] = []
    for key in (lambda t: str(TrialRecord.of(t).model), family_of):
        heads = [done[i] for i in family_heads([key(t) for t in done])]
        picked += [t for t in heads if t not in picked]
    picked = picked[:top_k]
    picked += [t for t in done if t not in picked][: top_k - len(picked)]
    picked.sort(key=lambda t: -problem.metric.sign * float(t.value))  # type: ignore[arg-type]
    return picked


def build_ensemble(
    study: optuna.Study,
    problem: Problem,
    run_dir: Path | None = None,
    *,
    top_k: int = TOP_K,
    rounds: int = ROUNDS,
) -> optuna.trial.FrozenTrial | None:
    """Select an ensemble from the study's :func:`candidates`, store it on the study
    (user attribute ``ensemble``, replacing an earlier one) and return it as a row (see
    :func:`ensemble_of`); ``None`` when fewer than two trials can take part, or the
    selection keeps one trial as it is (no recalibration): that trial is the row."""

    started = dt.datetime.now().astimezone()
    p = problem
    metric = p.metric
    if study.user_attrs.get(ALONE) is not None:  # an earlier selection's
        study.set_user_attr(ALONE, None)
    _say_unreadable(study, p, run_dir)
    members = candidates(study, p, top_k, run_dir)
    if len(members) < 2:
        return None
    preds = oof_arrays(members, run_dir)
    splits = selection_splits(p)

    def score(pred: np.ndarray) -> float:
        return cv_score(p, pred, splits)

    models = [str(TrialRecord.of(t).model) for t in members]
    rule = p.recipe.ensemble_selection
    families = [family_of(t) for t in members]

    def pick(on_splits: Splits) -> np.ndarray:  # the weights selected on these rows
        criterion, _ = selection_criterion(p, on_splits)
        if criterion is None:

            def criterion(pred: np.ndarray) -> float:
                return cv_score(p, pred, on_splits)

        return select(preds, families, criterion, rule, seed=p.recipe.seed, rounds=rounds)

    weights = pick(splits)
    _, on = selection_criterion(p, splits)
    blend = sum(w * pr for w, pr in zip(weights, preds, strict=True))
    platt = None
    if p.task == Task.BINARY:  # probabilities back on scale, the rows' order kept
        plain = metric.sign * score(blend)  # type: ignore[arg-type]

        def keep(fixed: np.ndarray) -> bool:  # the recipe's metric no lower
            return metric.sign * score(fixed) >= plain - 1e-12

        platt = fit_platt(blend, p.dataset.y, seed=p.recipe.seed, keep=keep)  # type: ignore[arg-type]
    if platt is not None:
        blend = platt.apply(blend)  # type: ignore[arg-type]
    elif np.count_nonzero(weights) == 1:  # one trial, as it is: that trial's row, no other
        # (scored on its repeats' mean, it outranked the very trial it is: logreg#2 alone
        # as "the ensemble", 0.8117 ROC AUC for the trial's 0.8105, a prober's find)
        study.set_user_attr(ATTR, None)
        kept = int(np.flatnonzero(weights)[0])
        alone = {"trial": members[kept].number, "model": models[kept]}
        study.set_user_attr(ALONE, {**alone, "last_trial": last_finished(study)})
        return None
    folds = _fold_scores(p, blend)  # type: ignore[arg-type]
    main = folds.pop(metric.name)
    member_best = metric.sign * max(cv_score(p, pr) for pr in preds)
    honest = _honest(p, preds, pick, platt, float(np.mean(main)), member_best)
    if honest is not None:  # its selection's gain did not hold on rows it did not see
        folds, blend = honest
        main = folds.pop(metric.name)
    chosen = {str(t.number): float(w) for t, w in zip(members, weights, strict=True) if w > 0}
    attrs: dict[str, Any] = {
        "model": "ensemble",
        "members": chosen,
        "preprocessors": " + ".join(
            f"{models[i]}#{members[i].number}x{w:.2f}" for i, w in enumerate(weights) if w > 0
        ),
        "plugin": f"automl-fin (ensemble selection: {rule} on {on}"
        + (", recalibrated" if platt is not None else "")
        + (", scored cross-fitted)" if honest is not None else ")"),
        "fold_scores": main,
        "score_std": float(np.std(main)),
        "folds": len(main),
        "metrics": {**{k: float(np.mean(v)) for k, v in folds.items()}, "best_member": member_best},
        "last_trial": last_finished(study),  # a study run again selects again after it
    }
    if platt is not None:
        attrs["recalibration"] = platt.to_json()
    value = rule_row(p, blend, float(np.mean(main)), attrs)  # type: ignore[arg-type]
    study.set_user_attr(ATTR, stored_row(value, attrs, started))
    return ensemble_of(study.user_attrs)


CROSS_FIT_ROWS = 20_000  # validated rows the check of :func:`_honest` selects on


def _honest(
    p: Problem,
    preds: list[np.ndarray],
    pick: Callable[[Splits], np.ndarray],
    platt: Any,
    value: float,
    member_best: float,
) -> tuple[dict[str, list[float]], np.ndarray] | None:
    """The fold scores and blend to value an ensemble by where the weights selected on
    other rows (:func:`cross_fitted`, on up to :data:`CROSS_FIT_ROWS` rows) score below
    its best member, with a warning; ``None`` where they do not (or with one split). An
    ensemble's own value is in-sample: its weights are selected on the rows that score
    it. That optimism is 0.0001 to 0.0094 ROC AUC on the credit tables (docs/
    benchmarks.md), where choosing rows by the cross-fitted value moved held-out scores
    within noise; but a row unlike the others (a totals row kept as data) let a blend of
    two linear models whose errors on it cancel score RMSE 355 against its best member's
    870, and 5,000 cross-fitted. Below its best member, the honest value is the one to
    rank by: the best member is then chosen."""
    sign, name = p.metric.sign, p.metric.name
    splits = selection_splits(p, CROSS_FIT_ROWS)
    crossed = cross_fitted(p, preds, pick, splits)
    if crossed is None or sign * value <= sign * member_best:
        return None
    members = [cv_score(p, pr, splits) for pr in preds]
    best_here = max(members)
    if platt is not None:
        crossed = platt.apply(crossed)
    if cv_score(p, crossed, splits) >= best_here:
        return None
    folds = _fold_scores(p, crossed, splits=splits)
    # said where its gain on its own rows was far (10 % or more: rows unlike the others
    # let it fit them), or where it falls short of its best member by more than that
    # member's fold noise (a standard error); within it the choice is a coin's (ISLR
    # Carseats: RMSE 1.0152 against 1.0134, the folds' spread 0.028): made quietly,
    # said in the row's plugin column
    best = preds[int(np.argmax(members))]
    spread = np.std(_fold_scores(p, best, extras=False, splits=splits)[name], ddof=1)
    short = sign * (sign * best_here - float(np.mean(folds[name])))
    far = abs(value - sign * best_here) > 0.1 * abs(sign * best_here)
    if far or short > spread / np.sqrt(len(splits)):
        warnings.warn(
            f"ensemble: {name} {value:.4f} on the rows that selected its weights, "
            f"{np.mean(folds[name]):.4f} where they were selected on other rows, against "
            f"{sign * best_here:.4f} for its best member: its gain does not hold, so it is "
            "scored by the latter"
            + (" (look for rows unlike the others, such as a totals row)" if far else ""),
            UserWarning,
            stacklevel=3,
        )
    return folds, crossed


def last_finished(study: optuna.Study) -> int:
    """The number of the study's last finished trial, surplus ones aside (-1: none)."""
    trials = study.get_trials(deepcopy=False)
    finished = (
        t.number for t in trials if t.state.is_finished() and not t.user_attrs.get("surplus")
    )
    return max(finished, default=-1)


def stored_row(value: float, attrs: dict[str, Any], started: dt.datetime) -> dict[str, Any]:
    """A row computed after the search (ensemble, stack) as a study stores it."""
    return {
        "value": value,
        "user_attrs": attrs,
        "started": started.isoformat(),  # with its offset: read in the reader's zone
        "finished": dt.datetime.now().astimezone().isoformat(),
    }


def _local(stamp: str) -> dt.datetime:
    """A stored time as the reader's naive local time, as Optuna gives its trials' (it
    stores them in UTC): a row written in New York and read in UTC sorted five hours
    before the trials it was built from. One stored without an offset is taken as is."""
    when = dt.datetime.fromisoformat(stamp)
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def row_of(
    study_attrs: Mapping[str, Any], key: str, number: int
) -> optuna.trial.FrozenTrial | None:
    """The row stored on the study under ``key`` as a completed trial numbered
    ``number`` (its attributes in ``user_attrs``), or ``None``."""
    import optuna

    stored = study_attrs.get(key)
    if not isinstance(stored, dict) or "value" not in stored:
        return None
    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE,
        value=float(stored["value"]),
        user_attrs=dict(stored.get("user_attrs") or {}),
    )
    trial.number = number
    trial.datetime_start = _local(stored["started"])
    trial.datetime_complete = _local(stored["finished"])
    return trial


def ensemble_of(study_attrs: Mapping[str, Any]) -> optuna.trial.FrozenTrial | None:
    """The study's ensemble (from its user attributes) as a completed row of number -1
    (model ``ensemble``, members and weights in its ``user_attrs``), or ``None``."""
    return row_of(study_attrs, ATTR, -1)


def rows_of(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's trials followed by its ensemble and its stack, if it has them:
    every row the leaderboard lists."""
    return with_ensemble(study.get_trials(deepcopy=False), study.user_attrs)


def with_ensemble(
    trials: list[optuna.trial.FrozenTrial], study_attrs: Mapping[str, Any]
) -> list[optuna.trial.FrozenTrial]:
    """``trials`` followed by the rows stored in ``study_attrs`` after the search: the
    ensemble (number -1) and the stack (-2, :mod:`automl_fin.results._stacking`)."""
    extra = [row_of(study_attrs, key, number) for key, number in STORED_ROWS]
    return [*trials, *(row for row in extra if row is not None)]
