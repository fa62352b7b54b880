"""The report's model card: what a validator needs on one screen before reading further.

Data (source, fingerprint, rows, columns, period, outcome), validation, the search
(budget, trials, models, time), the chosen predictor (members, score, final test),
limitations stated from the run's own numbers, and the versions the predictor was
fitted with.
"""

from __future__ import annotations

import datetime as dt
import html
import platform
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.engine._problem import _day
from automl_fin.engine._run_state import runs_of
from automl_fin.engine._trial_record import TrialRecord, is_baseline
from automl_fin.results._final_test import final_scores
from automl_fin.results._reality_check import counted, left_out, verdict_on
from automl_fin.results._stability import SHIFT

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem
    from automl_fin.results._predictor import Predictor

__all__ = ["model_card", "random_walk_words", "reality_words"]

SMALL = 2_000  # rows below which the card says the score is noisy
RARE = 0.05  # a class share below which the card says it is rare
SIGNIFICANT = 0.05  # the Diebold-Mariano level


def model_card(
    study: Any, problem: Problem, board: pd.DataFrame, best: Any, predictor: Predictor | None
) -> str:
    """The model card as HTML (definition lists side by side)."""
    blocks = {
        "Data": _data(problem),
        "Validation and search": _search(study, problem, board),
        "Chosen predictor": _chosen(study, problem, best, predictor),
        "Limitations": _limitations(study, problem, board, best),
        "Versions": _versions(predictor),
    }
    cards = []
    for title, items in blocks.items():
        rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
        cards.append(f"<div><h3>{html.escape(title)}</h3><dl>{rows}</dl></div>")
    return f"<div class='cards' id='model-card'>{''.join(cards)}</div>"


def _data(problem: Problem) -> list[tuple[str, str]]:
    ds = problem.dataset
    items = [
        ("source", ds.source),
        ("fingerprint", str(ds.fingerprint)),
        ("rows", f"{len(ds.y):,}"),
        ("columns", problem.kind_words() or "none"),
    ]
    if ds.times is not None and len(ds.times):
        items.append(("period", f"{_day(ds.times.min())} to {_day(ds.times.max())}"))
    if problem.task.is_classification:
        shares = np.bincount(ds.y, minlength=len(ds.classes)) / len(ds.y)
        pairs = zip(ds.classes, shares, strict=True)
        outcome = ", ".join(f"{c} {s:.1%}" for c, s in pairs)
    else:
        outcome = f"mean {np.mean(ds.y):.4g}, standard deviation {np.std(ds.y):.4g}"
    items.append((f"outcome '{ds.target}'", outcome))
    return items


def _recipe_words(problem: Problem) -> str:
    """The recipe's name, and its description where the run is on the recipe's own data
    (it describes that data: "on the German credit data" is not the user's table)."""
    recipe = problem.recipe
    if problem.on_own_data and recipe.description:
        return f"{recipe.name}: {recipe.description}"
    return f"{recipe.name}, on {problem.dataset.source}"


def _search(study: Any, problem: Problem, board: pd.DataFrame) -> list[tuple[str, str]]:
    budget = problem.recipe.budget
    every = board[board["trial"] >= 0]  # as the run's summary counts: baselines too
    trials = every[~every["baseline"]]
    states = every["state"].value_counts()
    counted = ", ".join(f"{n} {s.lower()}" for s, n in states.items())
    if every["baseline"].any():
        counted += f"; {int(every['baseline'].sum())} of them baselines"
    starts = [t.datetime_start for t in study.trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in study.trials if t.datetime_complete is not None]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    took = f", {span:.0f} s from the first trial's start to the last one's end" if span else ""
    limit = " and ".join(
        part
        for part in (
            f"{budget.trials} trials" if budget.trials else "",
            f"{budget.seconds:g} s" if budget.seconds else "",
        )
        if part
    )
    runs = runs_of(study.user_attrs)
    if len(runs) > 1:  # searched again: each run's budget, and the time they searched
        searched = sum(
            (dt.datetime.fromisoformat(r["ended"]) - dt.datetime.fromisoformat(r["since"]))
            .total_seconds()
            for r in runs
            if r.get("ended") and r.get("since")
        )  # fmt: skip
        limit = (
            f"{len(runs)} runs: "
            + ", then ".join(
                " and ".join(p for p in (
                    f"{r['trials']} trials" if r.get("trials") else "",
                    f"{r['seconds']:g} s" if r.get("seconds") else "",
                ) if p) or "none"
                for r in runs
            )
        )  # fmt: skip
        took = f", searched {searched:.0f} s in all" if searched >= 10 else (
            f", searched {searched:.2g} s in all"
        )  # fmt: skip
    return [
        ("recipe", _recipe_words(problem)),
        ("metric", f"{problem.metric.name} ({problem.metric.direction})"),
        *_costs_item(problem),
        ("validation", problem.validation_words()),
        ("budget", limit or "none"),
        ("trials", f"{len(every)} ({counted or 'none'}){took}"),
        ("models tried", ", ".join(sorted(map(str, trials["model"].unique()))) or "none"),
        ("seed", str(problem.recipe.seed)),
    ]


def _costs_item(problem: Problem) -> list[tuple[str, str]]:
    """The recipe's costs in words, a row's class then its label (none without costs):
    ``bad labelled good 5, good labelled bad 1``."""
    from automl_fin.data._metrics import cost_matrix

    costs = problem.recipe.costs
    if costs is None or not problem.task.is_classification:
        return []
    classes = problem.dataset.classes
    matrix = cost_matrix(costs, classes, problem.recipe.name)
    words = [
        f"{classes[i]} labelled {classes[j]} {matrix[i, j]:g}"
        for i in range(len(classes))
        for j in range(len(classes))
        if matrix[i, j] != 0
    ]
    return [("costs", ", ".join(words) + " (a right label costs 0 where not named)")]


def _chosen(
    study: Any, problem: Problem, best: Any, predictor: Predictor | None
) -> list[tuple[str, str]]:
    if best is None:
        return [("row", "none: no model completed")]
    record = TrialRecord.of(best)
    items = [
        ("row", f"{record.model} (trial {best.number})" if best.number >= 0 else str(record.model)),
        (
            f"{problem.metric.name}",
            f"{best.value:.4f} ± {record.score_std or 0:.4f} across validation folds"
            if len(record.fold_scores) != 1
            else f"{best.value:.4f} on one validation split",
        ),
    ]
    if predictor is not None:
        stacker = predictor.manifest.get("stacker")
        if stacker:  # a stack's members are weighed by its layer 2 (they hold 1 / n each)
            from automl_fin.results._stacking import Stacker

            layer2 = Stacker.from_json(stacker)
            weight = dict(zip(layer2.trials, layer2.member_weights(), strict=True))
            members = ", ".join(
                f"{m.model} #{m.trial} (layer-2 weight {weight.get(m.trial, 0.0):.2f})"
                for m in predictor.members
            )
        else:
            members = ", ".join(
                f"{m.model} #{m.trial} (weight {m.weight:.2f})" for m in predictor.members
            )
        items.append(("members", members))
        rule = predictor.rule
        chooser = problem.decision_metric
        if rule is not None and chooser is not None:
            classes = problem.dataset.classes
            weights = ", ".join(f"{c} {f:.2f}" for c, f in zip(classes, rule.factors, strict=True))
            start = "the costs' weights" if chooser.factors is not None else "arg-max"
            if rule.costs is not None:  # no weights give the labels of least expected cost
                start = "the costs' own labels"
            if rule.rows == 0:  # (not fitted: a cost's own decision only)
                said = f"{start} (the out-of-fold rows are not readable here)"
            elif not rule.fitted:
                said = (f"{start}: {chooser.name} {rule.plain:.4f} on {rule.rows:,} "
                        "out-of-fold rows (a rule fitted on them did not beat it on rows it "
                        "was not fitted on)")  # fmt: skip
            else:
                said = (f"{chooser.name} {rule.crossfit:.4f} ({start} {rule.plain:.4f}) on "
                        f"{rule.rows:,} out-of-fold rows, each labelled by a rule fitted "
                        "without it")  # fmt: skip
            how = "of least expected cost, from" if rule.costs is not None else "from"
            items.append(
                ("decision rule", f"labels {how} the probabilities weighted {weights}: {said}")
            )
    test = _final_test(study, best)
    if test and predictor is not None:
        from automl_fin.engine._bag import Bag

        # (as _artifacts._fitted_rows tells them: a member that is no bag was refitted)
        refitted = [
            f"{m.model} #{m.trial}" for m in predictor.members if not isinstance(m.pipeline, Bag)
        ]
        if refitted:  # the saved predictor learnt the final test's rows afterwards
            test += (
                f"; the saved predictor's {', '.join(refitted)} "
                f"{'were' if len(refitted) > 1 else 'was'} refitted afterwards on all rows, "
                "these included, so it is not the predictor scored here"
            )
    if test:
        items.append(("final test", test))
    return items


def _final_test(study: Any, best: Any) -> str:
    scores, rows = final_scores(study, best)
    shown = [f"{k} {v:.4f}" for k, v in scores.items() if isinstance(v, float)][:4]
    return f"{', '.join(shown)} on {rows} held-out rows" if shown else ""


def _limitations(
    study: Any, problem: Problem, board: pd.DataFrame, best: Any
) -> list[tuple[str, str]]:
    ds = problem.dataset
    found: list[tuple[str, str]] = []
    if len(ds.y) < SMALL and best is not None:
        spread = TrialRecord.of(best).score_std or 0.0
        found.append(
            (
                "small data",
                f"{len(ds.y):,} rows: the score moves by ±{spread:.3f} "
                "from fold to fold; rows closer than that on the leaderboard are a tie",
            )
        )
    if problem.task.is_classification:
        shares = np.bincount(ds.y, minlength=len(ds.classes)) / len(ds.y)
        rare = [str(c) for c, s in zip(ds.classes, shares, strict=True) if s < RARE]
        if rare:
            found.append(
                (
                    "rare classes",
                    f"{', '.join(rare)} below {RARE:.0%} of the rows: "
                    "their scores rest on few examples",
                )
            )
        if ds.rare_classes:
            found.append(
                (
                    "classes never predicted",
                    ", ".join(
                        f"{c} ({n} rows)"
                        for c, n in zip(ds.rare_classes, ds.rare_rows, strict=True)
                    )
                    + ": too few rows for the validation; left out of the search with them",
                )
            )
    baseline = board[board["baseline"] & (board["state"] == "COMPLETE")]
    top = board[(board["state"] == "COMPLETE") & ~board["baseline"]].head(1)  # ranked
    check = None  # a verdict on a row no longer the best is not this predictor's
    if len(top):
        check = verdict_on(study.user_attrs, int(top["trial"].iloc[0]), top["score"].iloc[0])
    if check is not None and "p_value" in check:
        found.append(("reality check", reality_words(check)))
    elif best is not None and len(baseline) and not is_baseline(best):
        sign = problem.metric.sign
        prior = float((baseline["score"] * sign).max() * sign)
        edge = sign * (best.value - prior)
        if edge <= 0:  # worse than the baseline, or no better: not "within a spread"
            found.append(
                (
                    "no edge",
                    f"the best row ({best.value:.4f}) scores "
                    f"{'worse than' if edge < 0 else 'the same as'} the best baseline "
                    f"({prior:.4f}) on the folds",
                )
            )
        elif edge <= (TrialRecord.of(best).score_std or 0.0):
            found.append(
                (
                    "no clear edge",
                    f"the best row ({best.value:.4f}) is within one "
                    f"fold-to-fold spread of the best baseline ({prior:.4f})",
                )
            )
    if ds.scale is not None:
        found.append(("random walk", random_walk_words(study, best)))
    found.extend(("data warning", said) for said in problem.cautions)  # (leaks, copies)
    if not len(problem.test_rows):
        found.append(
            (
                "no final test",
                "every score here comes from the folds that also "
                "chose the model: expect a little less on new rows",
            )
        )
    found.append(
        (
            "drift",
            "trained on the rows above only; predict measures each column's "
            f"shift (PSI) and warns above {SHIFT}: re-validate then",
        )
    )
    return found


def reality_words(check: dict[str, Any]) -> str:
    """The reality check's verdict (:mod:`automl_fin.results._reality_check`) in words."""
    p, level, tried = check["p_value"], check["level"], check["rows_tried"]
    against = f"the baseline {check['baseline_model']}"
    if check["chosen"] == check["baseline"]:
        return (
            f"no row beat {against} by more than the luck of {counted(tried)} tried"
            f"{left_out(check)} "
            f"(Hansen's SPA p = {p:.3f} > {level}): the predictor is {against}, not "
            f"the best row ({check['best_model']}); set reality_check: null to keep it"
        )
    return (
        f"the best row beats {against} after counting the {tried} rows tried "
        f"(Hansen's SPA p = {p:.3f} <= {level}, {check['rows']:,} out-of-fold rows)"
    )


def random_walk_words(study: Any, best: Any) -> str:
    """The Diebold-Mariano verdict of the best row against the random walk, in words."""
    if best is not None and TrialRecord.of(best).model == "random_walk":
        return "the predictor is the random walk itself: no test against it"
    p = final_scores(study, best)[0].get("p_vs_random_walk")
    if p is None:
        return "not tested against the random walk on held-out rows (no final test)"
    if p < SIGNIFICANT:
        said = f"the forecast beats the random walk on the final test (Diebold-Mariano p = {p:.3f})"
        return said + _as_does_a_baseline(study)
    return (
        f"no evidence that the forecast beats the random walk beyond noise on the final "
        f"test (Diebold-Mariano p = {p:.2f})"
    )


def _as_does_a_baseline(study: Any) -> str:
    """``; as does the baseline historical_mean (p = 0.029): ...`` where a baseline other
    than the random walk beats it on the final test too (two indices' 5-day returns in a
    bull market: the chosen ensemble's edge, p = 0.033, was the drift's, p = 0.029), or
    ``""``."""
    scored = [final_scores(study, t)[0] for t in study.get_trials(deepcopy=False) if is_baseline(t)]
    beating = sorted(
        (float(s["p_vs_random_walk"]), str(s.get("model")))
        for s in scored
        if s.get("model") != "random_walk"
        and s.get("p_vs_random_walk") is not None
        and float(s["p_vs_random_walk"]) < SIGNIFICANT
    )
    if not beating:
        return ""
    p, model = beating[0]
    return (
        f"; as does the baseline {model} (p = {p:.3f}): the edge over the random walk is "
        "one a baseline has, not the model's alone"
    )


def _versions(predictor: Predictor | None) -> list[tuple[str, str]]:
    from automl_fin import __version__

    found = dict((predictor.manifest.get("versions") or {}) if predictor is not None else {})
    found.setdefault("automl-fin", __version__)
    found.setdefault("python", platform.python_version())
    return [("fitted with", ", ".join(f"{k} {v}" for k, v in sorted(found.items())))]
