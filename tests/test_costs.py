"""Costs of wrong labels: a recipe's ``costs`` make ``cost`` a metric (mean cost per
row) and the labels ``predict`` writes are chosen for it: from the costs' weights on
the probabilities (the labels of least expected cost for two classes, or where a wrong
label's cost depends on the true class alone), tuned by a decision rule fitted on the
out-of-fold rows. Real tables: the bundled German credit with its documented 5:1 costs,
and ISLR's credit card Default (10,000 card holders, 3.3 % default; not bundled)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from automl_fin import datasets, load
from automl_fin.data._metrics import METRICS, cost_matrix, get_metric, least_cost
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import ArtifactError, RecipeError
from automl_fin.plugin._specs import Task
from automl_fin.results._decision import Rule, crossfit_decide, decide, fit_rule, ruled
from automl_fin.results._ensemble import rows_of

TWO = ["good", "bad"]
FAST = {"models": ["logreg"], "portfolio": False, "report": False, "calibration": ["none"],
        "stacking": False}  # fmt: skip


@pytest.mark.parametrize(
    "costs",
    [
        {"false_negative": 5, "false_positive": 1},
        {"bad": 5, "good": 1},
        {"bad": {"good": 5}, "good": {"bad": 1}},
    ],
)
def test_three_ways_of_writing_the_german_credit_costs_are_one_matrix(costs) -> None:
    """A bad loan approved costs 5, a good one refused 1 (the data's own documentation)."""
    assert cost_matrix(costs, TWO, "r").tolist() == [[0.0, 1.0], [5.0, 0.0]]
    metric = get_metric("cost", Task.BINARY, classes=TWO, costs=costs)
    assert metric.direction == "minimize" and metric.labels and metric.factors == (1.0, 5.0)


@pytest.mark.parametrize(
    ("costs", "classes", "field", "words"),
    [
        ({"bad": 5, "god": 1}, TWO, "costs.god", "'god' is not a class of the target"),
        ({"bad": 5}, TWO, "costs", "class 'good' has no cost"),
        ({"false_negative": 5}, TWO, "costs", "give false_positive too"),
        ({"false_negative": 5, "false_positive": 1}, ["a", "b", "c"], "costs",
         "name the errors of two classes"),
        ({"bad": "high", "good": 1}, TWO, "costs.bad", "a cost is a finite number"),
        ({"bad": float("inf"), "good": 1}, TWO, "costs.bad", "finite number"),
        ({"bad": True, "good": 1}, TWO, "costs.bad", "finite number"),
        ({"bad": -1, "good": 1}, TWO, "costs", "class 'bad' wrongly must cost more"),
        ({"bad": {"good": 5}, "good": 1}, TWO, "costs", "not both"),
        ({"bad": {"fine": 5}, "good": {"bad": 1}}, TWO, "costs.bad.fine", "not a class"),
        ({"a": {"b": 1}, "b": {"a": 1}}, ["a", "b", "c"], "costs",
         "class 'c' has no cost; give every class of ['a', 'b', 'c'] a mapping"),
        ({"false_negative": 5, "false_positive": 1, "bad": 2}, TWO, "costs", "not both"),
        ({}, TWO, "costs", "costs map classes to costs"),
        # --set 'costs={bad:5,good:1}': YAML reads 'bad:5' as one key
        ({"bad:5": None, "good:1": None}, TWO, "costs.bad:5",
         "(write a space after each colon: {bad: 5, ...})"),
    ],
)  # fmt: skip
def test_costs_that_cannot_be_meant_are_refused_naming_the_field(costs, classes, field, words):
    with pytest.raises(RecipeError) as err:
        cost_matrix(costs, classes, "recipe.yaml")
    assert f"field '{field}'" in str(err.value) and words in str(err.value)


def test_yaml_booleans_name_classes_written_yes_and_no() -> None:
    """A batch file's or recipe's ``{Yes: 10, No: 1}`` is read by YAML as booleans: it
    names ISLR Default's classes ``Yes`` and ``No`` (it was refused: 'true' is not a
    class), as ``--set`` (which reads them as text) did."""
    assert cost_matrix({True: 10, False: 1}, ["No", "Yes"], "r").tolist() == [[0, 1], [10, 0]]
    assert cost_matrix({True: 10, False: 1}, [False, True], "r").tolist() == [[0, 1], [10, 0]]
    # as a stored recipe's JSON writes the keys back
    assert cost_matrix({"true": 10, "false": 1}, ["No", "Yes"], "r").tolist() == [[0, 1], [10, 0]]
    assert cost_matrix({"1.0": 10, "0.0": 1}, ["0", "1"], "r").tolist() == [[0, 1], [10, 0]]
    # YAML 1.1 reads 1e3 as text: a number all the same (was "not a finite number")
    assert cost_matrix({"Yes": "1e3", "No": 1}, ["No", "Yes"], "r").tolist() == [[0, 1], [1e3, 0]]


def test_cost_without_costs_or_on_a_number_is_refused_with_what_to_write() -> None:
    with pytest.raises(RecipeError, match=r"give them, e.g. --set 'costs=\{false_negative"):
        get_metric("cost", Task.BINARY, classes=TWO)
    with pytest.raises(RecipeError, match="scores class labels; task 'regression'"):
        get_metric("cost", Task.REGRESSION, costs={"a": 1})


def test_class_costs_give_the_labels_of_least_expected_cost() -> None:
    """Where a wrong label's cost depends on the true class alone, the costs' weights on
    the probabilities pick the label of least expected cost on every row (three tiers,
    100,000 random rows)."""
    classes = ["low", "medium", "high"]
    costs = {"low": 1, "medium": 3, "high": 12}
    matrix = cost_matrix(costs, classes, "r")
    metric = get_metric("cost", Task.MULTICLASS, classes=classes, costs=costs)
    proba = np.random.default_rng(0).dirichlet([1, 1, 1], size=100_000)
    expected_cost = proba @ matrix  # per row and label
    assert (np.argmax(proba * np.asarray(metric.factors), axis=1) == expected_cost.argmin(1)).all()


# carData's WVS: naming the middle answer wrongly is cheap, a far one dear
WVS_CLASSES = ["Too Little", "About Right", "Too Much"]
WVS_COSTS = {"Too Little": {"Too Much": 5, "About Right": 1},
             "About Right": {"Too Little": 1, "Too Much": 1},
             "Too Much": {"Too Little": 5, "About Right": 1}}  # fmt: skip


def test_costs_unlike_among_a_class_s_wrong_labels_label_by_least_expected_cost() -> None:
    """A class's wrong labels costing unlike (an answer two steps off dearer than one)
    were refused: one weight a class cannot give the labels of least expected cost.
    Now each row is labelled by its least expected cost, by the metric, by a rule and
    by ``decide`` alike (100,000 random rows), and a rule's JSON keeps the costs."""
    metric = get_metric("cost", Task.MULTICLASS, classes=WVS_CLASSES, costs=WVS_COSTS)
    matrix = cost_matrix(WVS_COSTS, WVS_CLASSES, "r")
    assert metric.factors == (1.0, 1.0, 1.0) and np.array_equal(metric.matrix, matrix)
    proba = np.random.default_rng(0).dirichlet([1, 1, 1], size=100_000)
    best = (proba @ matrix).argmin(axis=1)
    assert 0.2 < (best == 1).mean() < 0.9 and (best != proba.argmax(axis=1)).mean() > 0.1
    assert metric(np.zeros(len(best), int), proba) == pytest.approx(matrix[0, best].mean())
    rule = Rule(metric.factors, 0.0, 0.0, 1, metric.matrix)
    assert (decide(proba, rule) == best).all()
    assert (least_cost(proba, metric.matrix).argmax(axis=1) == best).all()
    assert (ruled(proba, rule).argmax(axis=1) == best).all()  # what label metrics see
    assert Rule.from_json(rule.to_json()) == rule
    assert "costs" not in Rule((1.0, 5.0), 0.0, 0.0, 1).to_json()  # a manifest as before


def test_on_survey_rows_it_never_saw_the_least_expected_cost_beats_every_weighting(wvs):
    """A logistic regression on half of the survey, its rule fitted on that half's
    out-of-fold probabilities, scored on the other half under costs unlike in a class:
    the arg-max costs 1.02 a row, always naming the middle answer 0.66 (the best one
    label can do), the labels of least expected cost 0.63."""
    oof, y, held, y_held = wvs
    metric = get_metric("cost", Task.MULTICLASS, classes=WVS_CLASSES, costs=WVS_COSTS)
    matrix = np.asarray(metric.matrix)
    rule = fit_rule(metric, y, oof)
    assert rule is not None and rule.costs == metric.matrix
    decided = matrix[y_held, decide(held, rule)].mean()
    assert decided == pytest.approx(metric(y_held, held * np.asarray(rule.factors)))
    middle, argmax = matrix[y_held, 1].mean(), matrix[y_held, held.argmax(axis=1)].mean()
    assert decided < middle < argmax  # measured: 0.631, 0.657, 1.019


def test_a_search_under_costs_unlike_in_a_class_labels_by_least_expected_cost(wvs_file, tmp_path):
    """The survey through ``risk_tier`` with the costs on the command line: the trials
    are scored on the labels of least expected cost, the predictor labels new rows so
    after a save and load, and its manifest keeps the costs."""
    import pandas as pd

    over = {**FAST, "costs": WVS_COSTS, "ensemble": False, "validation.final_test": 0.2}
    result = search("risk_tier", data=str(wvs_file), target="poverty", trials=2, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    problem = result.problem
    metric = problem.decision_metric
    assert metric.name == "cost" and metric.matrix is not None
    assert "metric cost (minimize), labels chosen for their least expected cost," in (
        problem.summary()
    )  # the recipe's metric is auto: cost under costs, its macro_f1 reported beside it
    assert problem.metric is metric and "macro_f1" in {m.name for m in problem.extra_metrics}
    matrix = np.asarray(metric.matrix)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    y = problem.dataset.y
    trial = next(t for t in study.trials if TrialRecord.of(t).model == "logreg")
    oof = np.load(TrialRecord.of(trial).oof)
    folds = [matrix[y[v], (oof[v] @ matrix).argmin(axis=1)].mean() for _, v in problem.splits]
    assert trial.value == pytest.approx(np.mean(folds))  # cost: the search metric
    predictor = load(Path(result.run_dir) / "predictor")
    assert predictor.rule.costs == metric.matrix
    table = pd.read_csv(wvs_file)
    proba = predictor.predict_proba(table).to_numpy() * np.asarray(predictor.rule.factors)
    order = list(predictor.schema.classes)
    expected = np.asarray(order, dtype=object)[(proba @ matrix).argmin(axis=1)]
    labels = predictor.predict(table).to_numpy()
    assert (labels == expected).all() and (labels == "About Right").mean() > 0.5
    # the stability of the labels predict writes is watched, not of the arg-max's
    ref = predictor.reference["score"]
    chosen = next(t for t in study.trials if t.number == predictor.manifest["best"]["trial"])
    weighted = np.load(TrialRecord.of(chosen).oof) * np.asarray(predictor.rule.factors)
    written = np.asarray(order)[(weighted @ matrix).argmin(axis=1)]
    shares = dict(zip(ref["values"], ref["shares"], strict=False))
    assert shares["About Right"] == pytest.approx((written == "About Right").mean(), abs=1e-3)
    assert predictor.stability(table).set_index("column").loc["(score)", "psi"] < 0.1
    # bins saved before were of the arg-max's labels: new rows' are labelled so for them
    from automl_fin.results._stability import score_rule

    assert score_rule(predictor.reference, predictor.rule) == predictor.rule
    before = {**predictor.reference, "score": {k: v for k, v in ref.items() if k != "decided"}}
    assert score_rule(before, predictor.rule) is None
    # a manifest whose costs are not one row a class is refused in one line
    manifest = Path(result.run_dir) / "predictor" / "manifest.json"
    data = json.loads(manifest.read_text())
    assert data["format"] == 3  # an older automl-fin refuses it as newer, not as damaged
    data["decision"]["costs"] = [[0.0, 1.0], [1.0, 0.0]]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=r"decision.*costs must be 3x3 finite numbers"):
        load(Path(result.run_dir) / "predictor")


def test_on_rows_it_never_saw_the_costs_decision_costs_less_than_the_arg_max(islr) -> None:
    """A logistic regression on half of ISLR Default, its decision fitted on that half's
    out-of-fold probabilities for a missed default costing 10 times a refused good
    payer, scored on the other half: the arg-max names almost no default and costs far
    more; the rule starts from the costs' weights and stays near them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    _, table = islr
    X = np.column_stack([table["balance"], table["income"] / 1000, table["student"] == "Yes"])
    y = (table["default"] == "Yes").to_numpy().astype(int)
    half = np.arange(len(y)) % 2 == 0
    model = LogisticRegression(max_iter=1000)
    oof = cross_val_predict(model, X[half], y[half], cv=5, method="predict_proba")
    held = model.fit(X[half], y[half]).predict_proba(X[~half])
    costs = {"false_negative": 10, "false_positive": 1}
    metric = get_metric("cost", Task.BINARY, classes=["No", "Yes"], costs=costs)
    rule = fit_rule(metric, y[half], oof)
    assert rule is not None and 10 / np.e < rule.factors[1] < 10 * np.e
    argmax, decided = metric(y[~half], held), metric(y[~half], held * np.asarray(rule.factors))
    assert decided < 0.75 * argmax  # measured: 0.1664 against 0.2960 (costs' weights 0.1651)
    # too few rows for a rule of its own: the costs' weights, never the arg-max
    few = fit_rule(metric, y[half][:50], oof[:50])
    assert few is not None and few.factors == metric.factors
    assert fit_rule(METRICS["accuracy"], y[half][:50], oof[:50]) is None


def test_a_search_with_costs_labels_for_them_and_says_their_cost(islr, tmp_path) -> None:
    """Through the engine with the flags a user types (``--set costs=...`` on the
    default recipe, ``--set metric=roc_auc`` to search on ROC AUC): every row is scored
    for ``cost`` with the costs' weights; the predictor's labels are its rule's,
    ``evaluate`` gives the cost beside the prior labelled the same way, and the search
    metric is the one named."""
    file, table = islr
    costs = {"false_negative": 10, "false_positive": 1}
    over = {**FAST, "costs": costs, "metric": "roc_auc"}
    result = search("default", data=str(file), target="default", trials=3, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    problem = result.problem
    assert problem.metric.name == "roc_auc" and problem.decision_metric.name == "cost"
    metric = problem.decision_metric
    weights = np.asarray(metric.factors)
    y = problem.dataset.y
    for trial in study.trials:
        if trial.number < 0 or trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        oof = np.load(TrialRecord.of(trial).oof)
        folds = [metric(y[v], oof[v] * weights) for _, v in problem.splits]
        assert TrialRecord.of(trial).metrics["cost"] == pytest.approx(np.mean(folds))
    predictor = load(Path(result.run_dir) / "predictor")
    rule = predictor.rule
    assert rule is not None and rule.factors[1] > 3  # a default named far more readily
    proba = predictor.predict_proba(table)
    labels = predictor.predict(table)
    expected = np.asarray(predictor.schema.classes, dtype=object)[decide(proba.to_numpy(), rule)]
    assert (labels.to_numpy() == expected).all()
    assert (labels == "Yes").mean() > 3 * (proba.idxmax(axis=1) == "Yes").mean()
    with pytest.warns(UserWarning, match="rows the predictor was trained on"):
        scores = predictor.evaluate(table)
    truth = (table["default"] == "Yes").to_numpy().astype(int)
    assert scores.loc["cost", "predictor"] == pytest.approx(
        metric(truth, proba.to_numpy() * np.asarray(rule.factors))
    )
    # the prior labelled by the costs: 0.033 x 10 < 0.967 x 1, so no row a default
    assert scores.loc["cost", "prior"] == pytest.approx(10 * truth.mean())
    assert scores.loc["cost", "predictor"] < scores.loc["cost", "prior"]
    assert scores.loc["roc_auc", "predictor"] > 0.9


def test_cost_as_the_search_metric_ranks_rows_by_their_decided_cost(tmp_path) -> None:
    """``metric: cost`` on German credit: trials minimise the cost of their labels under
    the costs' weights (an unweighted model is not penalised for its arg-max), the
    ensemble is scored with its rule's cross-fitted gain, the report shows the counts at
    the predictor's cutoff, and a wrong cost of the data's labels is refused before any
    trial runs."""
    costs = {"bad": 5, "good": 1}
    over = {**FAST, "models": ["logreg", "hgb"], "metric": "cost", "costs": costs, "report": True}
    result = search("default", trials=4, seed=0, runs_dir=tmp_path, overrides=over)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    models = {t.number: TrialRecord.of(t).model for t in done}
    assert all(t.value < 0.75 for t in done if models[t.number] != "prior")
    prior = [t for t in done if models[t.number] == "prior"]
    assert prior and prior[0].value == pytest.approx(0.7)  # every loan refused: 700 x 1
    ensemble = {t.number: t for t in rows_of(study)}[-1]
    stored = ensemble.user_attrs["decision"]
    gain = stored["crossfit"] - stored["plain"]
    assert ensemble.value == pytest.approx(ensemble.user_attrs["metrics"]["argmax"] + gain)
    # the report shows the counts at the cutoff predict labels by, and the rule on its card
    rule = load(Path(result.run_dir) / "predictor").rule
    page = html.unescape((Path(result.run_dir) / "report.html").read_text())
    cutoff = rule.factors[0] / (rule.factors[0] + rule.factors[1])
    assert (
        f"the predictor's cutoff, the one predict labels by (decline at score {cutoff:.4f}" in page
    )
    assert "good labelled bad 1, bad labelled good 5 (a right label costs 0" in page  # given
    if rule.crossfit == rule.plain:  # the costs' weights kept: nothing fitted on the card
        assert (
            "labels from the probabilities weighted good 1.00, bad 5.00: the costs' weights: "
            f"cost {rule.plain:.4f} on 1,000 out-of-fold rows (a rule fitted on them"
        ) in page
    else:
        assert f"cost {rule.crossfit:.4f} (the costs' weights {rule.plain:.4f})" in page
    with pytest.raises(RecipeError, match="'bda' is not a class of the target"):
        search("default", trials=1, runs_dir=tmp_path / "typo",
               overrides={**over, "costs": {"bda": 5, "good": 1}})  # fmt: skip


def test_a_study_resumed_with_other_costs_is_refused_naming_them(tmp_path) -> None:
    """Its rows' ``cost`` was scored by the first costs: a run with others is refused in
    one line (a study made before costs existed counts as having none)."""
    from automl_fin.errors import StorageError

    over = {**FAST, "ensemble": False, "predictor": False, "costs": {"bad": 5, "good": 1}}
    first = search("default", trials=2, seed=0, runs_dir=tmp_path, overrides=over)
    again = {"study": first.study_name, "runs_dir": tmp_path, "seed": 0}
    with pytest.raises(StorageError, match=r"costs were \{'bad': 5, 'good': 1\}, are \{'bad': 3"):
        search("default", trials=3, overrides={**over, "costs": {"bad": 3, "good": 1}}, **again)
    said = (r"costs were \{'bad': 5, 'good': 1\}, none are given now "
            r"\(overrides=\{'costs': \{'bad': 5, 'good': 1\}\} resumes it\)")  # fmt: skip
    with pytest.raises(StorageError, match=said):
        search("default", trials=3, overrides={**over, "costs": None}, **again)
    assert search("default", trials=3, overrides=over, **again).study_name == first.study_name
    # the same costs written another way: the same study (it was refused as other costs)
    errors = {**over, "costs": {"false_negative": 5, "false_positive": 1}}
    assert search("default", trials=4, overrides=errors, **again).study_name == first.study_name


def test_costs_keyed_as_yaml_and_json_write_labels_fit_their_classes(tmp_path) -> None:
    """German credit's outcome as 0/1 (costs keyed by the integers YAML reads), as
    floats (a column with a gap) and as booleans: each search runs (a new study refused
    its own int keys as changed costs), and the saved predictor, whose manifest keeps the
    keys as JSON text ('1', 'true'), evaluates ``cost``."""
    credit = datasets.load("german_credit")
    bad = (credit["creditability"] == "bad").to_numpy()
    over = {**FAST, "ensemble": False}
    for y, costs in (
        (bad.astype(int), {1: 5, 0: 1}),
        (bad.astype(float), {1: 5, 0: 1}),
        (bad, {True: 5, False: 1}),
        # keys as floats, and YAML's booleans for Yes/No: stored as '1.0' and 'true', they
        # were refused by every later reader (evaluate, report, worker, a resume)
        (bad.astype(int), {1.0: 5, 0.0: 1}),
        (np.where(bad, "Yes", "No"), {True: 5, False: 1}),
    ):
        table = credit.assign(creditability=y)
        result = search("default", data=table, target="creditability", trials=2, seed=0,
                        runs_dir=tmp_path, storage=":memory:",
                        overrides={**over, "costs": costs})  # fmt: skip
        assert result.problem.decision_metric.factors == (1.0, 5.0)
        again = load(result.predictor.path)
        with pytest.warns(UserWarning, match="rows the predictor was trained on"):
            scores = again.evaluate(table.head(300))
        assert 0 < scores.loc["cost", "predictor"] < scores.loc["cost", "prior"]


def test_class_weighted_probabilities_are_mapped_back_for_costs_under_a_label_metric():
    """Under macro-F1 a class-weighted model's probabilities are left weighted (its
    arg-max is what the metric wants); with costs the labels come from the costs'
    weights on the probabilities, which would weigh the rare class twice: mapped back."""
    from automl_fin.engine._pipeline import Plan
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    plan = Plan("logreg", {"logreg.class_weight": "balanced", "class_weight": "balanced"})
    rows = np.arange(1000)
    for costs, mapped in ((None, False), ({"bad": 5, "good": 1}, True)):
        recipe = load_recipe("default", {"metric": "macro_f1", "costs": costs})
        problem = resolve(recipe, None, get_registry())
        assert (problem.prior_shift(plan, rows) is not None) == mapped


def test_an_unreadable_out_of_fold_file_keeps_the_costs_decision(tmp_path) -> None:
    """A row whose out-of-fold predictions are not readable here (a worker's, a moved
    folder) has no fitted rule; under costs it keeps the costs' weights, not the arg-max
    (the final test scored the costs' labels, the predictor wrote the arg-max's)."""
    from automl_fin.results._decision import rule_of

    over = {**FAST, "ensemble": False, "predictor": False, "costs": {"bad": 5, "good": 1}}
    result = search("default", trials=2, seed=0, runs_dir=tmp_path, overrides=over)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    trial = next(t for t in study.trials if TrialRecord.of(t).model == "logreg")
    Path(TrialRecord.of(trial).oof).unlink()
    rule = rule_of(study, result.problem, trial, Path(result.run_dir))
    assert rule is not None and rule.factors == (1.0, 5.0) and rule.rows == 0
    proba = np.array([[0.8, 0.2], [0.9, 0.1]])
    assert crossfit_decide(result.problem.decision_metric, np.array([0, 1]), proba, rule,
                           0).tolist() == [1, 0]  # fmt: skip
    # the predictor refitted then keeps that decision and is read back (its rows, 0, were
    # refused as a damaged manifest: a predictor saved, never loadable)
    from automl_fin.results._artifacts import fit_predictor, save_predictor

    for t in study.trials:  # every row's out-of-fold file gone: the chosen one's too
        if t.number >= 0 and TrialRecord.of(t).oof and Path(TrialRecord.of(t).oof).exists():
            Path(TrialRecord.of(t).oof).unlink()
    save_predictor(fit_predictor(study, result.problem, result.run_dir), tmp_path / "saved")
    saved = load(tmp_path / "saved")
    assert saved.rule == rule and saved.predict(datasets.load("german_credit")).notna().all()


def test_the_classifier_takes_costs_keyed_by_its_labels() -> None:
    """``AutoFinClassifier`` searches on codes of y's labels: costs keyed by the labels
    were refused ('bad' is not a class of ['1', '0']); they are read by label, and the
    fitted predictor evaluates ``cost`` in y's labels."""
    from automl_fin.estimators import AutoFinClassifier

    credit = datasets.load("german_credit").head(600)
    X, y = credit.drop(columns="creditability"), credit["creditability"]
    est = AutoFinClassifier(recipe="default", trials=2, models=["logreg"], ensemble=False,
                            overrides={"costs": {"bad": 5, "good": 1}})  # fmt: skip
    est.fit(X, y)
    labels = est.predict(X)
    assert (labels == "bad").mean() > 2 * (est.predict_proba(X).argmax(axis=1) ==
                                           list(est.classes_).index("bad")).mean()  # fmt: skip
    with pytest.warns(UserWarning, match="rows the predictor was trained on"):
        scores = est.predictor_.evaluate(credit)
    # the prior labelled by the costs: every loan refused, each good one costing 1
    assert scores.loc["cost", "prior"] == pytest.approx((y == "good").mean())
    assert scores.loc["cost", "predictor"] < scores.loc["cost", "prior"]
    # a missed 'bad' is the false negative, as the command infers it ('good', the label
    # sorting last, was the estimator's positive class: the costs named the other error)
    est = AutoFinClassifier(
        recipe="auto",
        trials=2,
        models=["logreg"],
        ensemble=False,
        overrides={"costs": {"false_negative": 5, "false_positive": 1}},
    )
    assert list(est.fit(X, y).predictor_.schema.classes) == ["good", "bad"]  # fmt: skip
    # costs that are not y's labels are refused naming y's labels, not the search's codes
    for costs, words in (
        ({"bad": 5, 0: 1}, "field 'costs.0': '0' is not a class of the target; costs are "
         "keyed by false_negative/false_positive or the classes ['bad', 'good']"),
        ({"bad": 5}, "class 'good' has no cost; give every class of ['bad', 'good']"),
        ({"bad": 5, "good": "x"}, "field 'costs.good': a cost is a finite number, not 'x'"),
    ):  # fmt: skip
        with pytest.raises(RecipeError) as err:
            AutoFinClassifier(trials=1, models=["logreg"], overrides={"costs": costs}).fit(X, y)
        assert words in str(err.value), str(err.value)


def test_a_label_metric_beside_costs_selects_the_ensemble_on_log_loss() -> None:
    """Under macro-F1 the ensemble is selected on log loss and labelled by its rule; with
    costs the labels serve the costs and the selection was on macro-F1 itself, the
    rows-that-score-it bias the log loss avoids."""
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry
    from automl_fin.results._ensemble import selection_criterion

    for metric, costs, chosen in (("macro_f1", {"bad": 5, "good": 1}, "log_loss"),
                                  ("macro_f1", None, "log_loss"),
                                  ("roc_auc", {"bad": 5, "good": 1}, "roc_auc")):  # fmt: skip
        problem = resolve(load_recipe("default", {"metric": metric, "costs": costs}), None,
                          get_registry())  # fmt: skip
        assert selection_criterion(problem)[1] == chosen


def test_costs_rank_the_rows_by_cost_unless_the_run_names_another_metric(wvs_file, tmp_path):
    """Ranked by ``risk_tier``'s macro-F1, the survey's rows chosen under the ordered
    costs cost more on held-out rows than always the middle answer (0.744-0.800 against
    0.664 on three splits; ranked by cost 0.615-0.623): a recipe whose metric is
    ``auto`` ranks by cost where costs are given, and reports its own beside it. A
    metric the run names is kept, and the summary says how its rows are ranked. A study
    stored under costs and the recipe's macro-F1 (before ``auto`` meant cost) is found
    as another search, and the message names the ``--set`` that resumes it."""
    from automl_fin.engine._recipes import content_hash, load_recipe, stored_hash
    from automl_fin.errors import StorageError

    over = {**FAST, "costs": WVS_COSTS, "ensemble": False}
    run = {"data": str(wvs_file), "target": "poverty", "trials": 1, "seed": 0,
           "runs_dir": tmp_path, "storage": f"sqlite:///{tmp_path / 'r.db'}"}  # fmt: skip
    auto = search("risk_tier", **{**run, "trials": 2}, study="auto", overrides=over)
    ranked = auto.problem
    assert ranked.metric.name == "cost" and ranked.extra_metrics[0].name == "macro_f1"
    import pandas as pd

    scores = auto.predictor.evaluate(pd.read_csv(wvs_file).head(400))  # a saved predictor:
    assert {"cost", "macro_f1"} <= set(scores.index)  # both again (macro_f1 was not)
    named = search("risk_tier", **run, study="named",
                   overrides={**over, "metric": "macro_f1"})  # fmt: skip
    assert named.problem.metric.name == "macro_f1"
    assert "rows ranked by the macro_f1 of those labels (--set metric=cost" in (
        named.problem.summary()
    )
    resumes = r"metric was 'macro_f1', is 'cost' \(overrides=\{'metric': 'macro_f1'\} resumes it\)"
    with pytest.raises(StorageError, match=resumes):  # in Python's words (--set on the CLI)
        search("risk_tier", **run, study="named", overrides=over)
    resumed = search("risk_tier", **run, study="named", overrides={**over, "metric": "macro_f1"})
    assert resumed.study_name == "named"
    # stored by a version before auto meant cost (its recipe said auto, its rows ranked by
    # macro-F1): reopened (report, evaluate, a worker) on the metric it was searched on;
    # on cost its worst row was taken for the chosen one
    from automl_fin.engine._reopen import reopen

    study = optuna.load_study(study_name="named", storage=run["storage"])
    config = {**study.user_attrs["recipe_config"], "metric": "auto"}
    study.set_user_attr("recipe_config", config)
    again = reopen("named", storage=run["storage"], data=str(wvs_file))
    assert again.problem.metric.name == "macro_f1"
    # without costs, the recipe asks what it asked when it named macro_f1: studies stored
    # then and now are one recipe to `compare`
    recipe = load_recipe("risk_tier")
    before = {**recipe.model_dump(mode="json"), "metric": "macro_f1"}
    assert stored_hash({"recipe_config": before}) == content_hash(recipe)
    with_costs = load_recipe("risk_tier", {"costs": WVS_COSTS})
    assert stored_hash({"recipe_config": {**before, "costs": WVS_COSTS}}) != content_hash(
        with_costs
    )  # ranked by macro-F1 then, by cost now: another search
