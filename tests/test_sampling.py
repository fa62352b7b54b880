"""The study's pruner judges as Optuna's percentile pruner from one read of the study per
trial; the sampler lies about running trials only where other processes may run them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import optuna
import pytest
import sqlalchemy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from automl_fin import ModelSpec, Task, hookimpl
from automl_fin.engine._recipes import load_recipe
from automl_fin.engine._sampling import CompletedOnce, lost_race, make_pruner, make_sampler
from automl_fin.plugin._registry import Registry


def test_the_pruner_judges_as_optunas_from_one_read_of_the_study_per_trial(
    tmp_path: Path,
) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, direction="maximize")
    study_id = storage.get_study_id_from_name(study.study_name)
    for i in range(8):  # eight completed trials with curves 0.i, 1.i, 2.i
        trial = study.ask()
        for step in range(3):
            trial.report(step + i / 10, step)
        study.tell(trial, 2 + i / 10)
    reads = {"ours": 0, "optunas": 0, "": 0}
    who = [""]

    def counting(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        text = " ".join(statement.lower().split())
        if text.startswith("select") and "from trials" in text and "trials.study_id" in text:
            reads[who[0]] += 1  # a read of the study's trials (not of one trial)

    sqlalchemy.event.listen(storage.engine, "before_cursor_execute", counting)
    ours = CompletedOnce(75.0, n_startup_trials=5, n_min_trials=3)
    optunas = optuna.pruners.PercentilePruner(75.0, n_startup_trials=5, n_min_trials=3)
    # TPE reads the study at a trial's first suggestion (its snapshot); random sampling not
    for sampler, value in [(optuna.samplers.TPESampler(seed=0, n_startup_trials=1), 0.05),
                           (optuna.samplers.RandomSampler(seed=0), 0.75)]:  # fmt: skip
        study.sampler = sampler  # the low curve, then one above the 25th percentile
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        verdicts = []
        for step in range(3):
            trial.report(step + value, step)
            frozen = storage.get_trial(
                storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            )
            who[0] = "ours"
            mine = ours.prune(study, frozen)
            who[0] = "optunas"
            verdicts.append((mine, optunas.prune(study, frozen)))
            who[0] = ""
        assert all(a == b for a, b in verdicts), verdicts
        assert bool(verdicts[0][0]) == (value < 0.2)  # the low curve is pruned at once
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    # Optuna's pruner read the study at each of its 6 questions; ours once per trial
    assert (reads["ours"], reads["optunas"]) == (2, 6), reads


def test_the_pruner_judges_a_trial_against_its_own_models_trials(tmp_path: Path) -> None:
    """Six completed LightGBM trials with high curves do not prune a CatBoost trial's low
    one; it is pruned once five CatBoost trials completed above it (four: not yet). A
    NaN score is pruned at once. Baselines are no one's peers, and trials that name no
    model (a one-model search) are one model's."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    models = ["lightgbm", "catboost", "xgboost"]

    def run(study: optuna.Study, model: str | None, curve: list[float], *,
            finish: bool = False, baseline: bool = False) -> bool:  # fmt: skip
        """A trial of ``model`` reporting ``curve``; whether the pruner stops it."""
        if model is not None:
            study.enqueue_trial({"model": model})
        trial = study.ask()
        if model is not None:
            trial.suggest_categorical("model", models)
        if baseline:
            trial.set_user_attr("baseline", "prior")
        verdict = False
        study_id = storage.get_study_id_from_name(study.study_name)
        for step, value in enumerate(curve):
            trial.report(value, step)
            frozen = storage.get_trial(
                storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            )
            verdict = verdict or study.pruner.prune(study, frozen)
        if finish:
            study.tell(trial, curve[-1])
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return verdict

    def new_study() -> optuna.Study:
        pruner = CompletedOnce(75.0, n_startup_trials=5, n_min_trials=3)
        return optuna.create_study(storage=storage, direction="maximize", pruner=pruner)

    low = [0.60, 0.61, 0.62]
    study = new_study()
    for i in range(6):
        run(study, "lightgbm", [0.80 + i / 100] * 3, finish=True)
    assert not run(study, "catboost", low)  # no peer of its model: not judged
    assert run(study, "lightgbm", low)  # its own model's bottom quarter
    for i in range(4):
        run(study, "catboost", [0.70 + i / 100] * 3, finish=True)
    assert not run(study, "catboost", low)  # four of its model completed: not yet
    run(study, "catboost", [0.74] * 3, finish=True)
    assert run(study, "catboost", low)  # five
    assert not run(study, "catboost", [0.76] * 3)  # above its quarter
    assert run(study, "xgboost", [float("nan")])  # no peer, but a NaN score
    one = new_study()  # a one-model search: no model named; two strong baselines
    for _ in range(2):
        run(one, None, [0.90] * 3, finish=True, baseline=True)
    for i in range(4):
        run(one, None, [0.80 + i / 100] * 3, finish=True)
    assert not run(one, None, low)  # four peers: the baselines do not count
    run(one, None, [0.84] * 3, finish=True)
    assert run(one, None, low)


def test_constant_liar_only_for_shared_searches_and_pruner_none() -> None:
    recipe = load_recipe("default")
    assert make_sampler(recipe, shared=True).constant_liar  # type: ignore[attr-defined]
    assert not make_sampler(recipe, shared=False).constant_liar  # type: ignore[attr-defined]
    assert isinstance(make_pruner(recipe), CompletedOnce)
    off = load_recipe("default", {"pruner": "none"})
    assert isinstance(make_pruner(off), optuna.pruners.NopPruner)


def _finished(model: str, seconds: float, state: str = "COMPLETE", *, baseline: str = "",
              stopped: str = "", error: str = ""):  # type: ignore[no-untyped-def]  # fmt: skip
    import datetime as dt

    start = dt.datetime(2026, 1, 1)
    attrs: dict[str, object] = {
        "automl_fin": {"model": model, "stopped": stopped or None, "error": error or None}
    }
    if baseline:
        attrs["baseline"] = baseline
    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState[state],
        value=0.7 if state == "COMPLETE" else None,
        params={"model": model},
        distributions={"model": optuna.distributions.CategoricalDistribution(MODELS)},
        user_attrs=attrs,
    )
    trial.datetime_start, trial.datetime_complete = start, start + dt.timedelta(seconds=seconds)
    return trial


MODELS = ["hgb", "logreg", "mlp", "rf"]


def test_families_below_half_their_share_of_trials_and_seconds_are_tried_next() -> None:
    from automl_fin.engine._sampling import least_tried

    hgb = [_finished("hgb", 1.0) for _ in range(20)]
    # 20 hgb trials (20 s): logreg (1 trial) and rf (none) are below half of both shares
    trials = [*hgb, _finished("logreg", 0.1), _finished("mlp", 30.0)]
    assert least_tried(trials, MODELS) == "rf"  # the fewest trials first
    trials += [_finished("rf", 1.0) for _ in range(4)]
    assert least_tried(trials, MODELS) == "logreg"
    # a cheap model is not pushed once it had half its share of trials, although far
    # below its share of seconds; an expensive one once it had half its share of seconds
    trials += [_finished("logreg", 0.1) for _ in range(3)]
    assert least_tried(trials, MODELS) is None  # mlp: 1 trial but 30 of 54 s
    # failed, or stopped by the budget before any fold: not pushed again
    stuck = [*hgb, _finished("logreg", 0.1), _finished("mlp", 1, "FAIL")]
    stuck += [_finished("rf", 0.1, "PRUNED", stopped="budget: a rf fold takes ~9 s")]
    assert least_tried(stuck, MODELS) == "logreg"
    # baselines take no part
    assert least_tried([_finished("hgb", 1.0, baseline="prior")] * 8, MODELS) is None


def test_a_trial_budget_is_shared_by_trials_alone_so_a_seed_repeats_the_choice() -> None:
    from automl_fin.engine._sampling import least_tried

    def trials(mlp_s: float) -> list[optuna.trial.FrozenTrial]:
        logreg = [_finished("logreg", 0.1) for _ in range(4)]
        rf = [_finished("rf", 1.0) for _ in range(4)]
        return [*[_finished("hgb", 1.0) for _ in range(20)], *logreg, *rf, _finished("mlp", mlp_s)]

    # mlp: 1 trial of 29 (half its share: 3.6); its seconds decide with a time budget only
    assert least_tried(trials(30.0), MODELS) is None
    assert least_tried(trials(3.0), MODELS) == "mlp"
    assert least_tried(trials(30.0), MODELS, seconds=False) == "mlp"
    assert least_tried(trials(3.0), MODELS, seconds=False) == "mlp"
    # the recipe's budget decides: trials (with seconds as a ceiling), or time alone
    assert not make_sampler(load_recipe("default"), shared=False).timed  # type: ignore[attr-defined]
    timed = load_recipe("default", {"budget.trials": None, "budget.seconds": 60})
    assert make_sampler(timed, shared=False).timed  # type: ignore[attr-defined]


def test_a_model_is_broken_after_three_failures_of_its_own_and_no_success() -> None:
    from automl_fin.engine._sampling import BROKEN_AFTER, broken_models

    boom = [_finished("mlp", 0.1, "FAIL", error=f"mlp raised in fit: {i}") for i in range(3)]
    assert BROKEN_AFTER == 3
    assert broken_models(boom, MODELS) == {"mlp": "mlp raised in fit: 2"}  # the last error
    assert broken_models(boom[:2], MODELS) == {}  # two failures may be bad luck
    assert broken_models([*boom, _finished("mlp", 1.0)], MODELS) == {}  # it worked once
    pruned = _finished("mlp", 1.0, "PRUNED", stopped="pruned after 2 of 5 folds")
    assert broken_models([pruned, *boom], MODELS) == {}
    # failed because their process died (no error of their own), or baselines: not counted
    assert broken_models([_finished("mlp", 0.1, "FAIL")] * 3 + boom[:2], MODELS) == {}
    prior = [_finished("rf", 0.1, "FAIL", baseline="prior", error="x")] * 3
    assert broken_models(prior, MODELS) == {}
    assert broken_models(boom, ["hgb", "rf"]) == {}  # not one of this search's models


@pytest.mark.parametrize("spread", [True, False])
def test_a_model_that_fails_every_trial_is_left_out_after_three(
    tmp_path: Path, spread: bool
) -> None:
    """A real plugin whose model raises in every fit, tried first three times: the rest
    of the budget goes to the models that work (TPE alone gave such a model 26 of 40
    trials), with one warning naming it and its error."""
    from test_search import _Exploding

    from automl_fin.engine._search import search
    from automl_fin.plugin._registry import Registry

    over = {"validation.n_splits": 2, "validation.repeats": 1, "calibration": ["none"],
            "models": ["explode", "logreg", "sgd"], "report": False, "predictor": False,
            "pruner": "none", "portfolio": False, "ensemble": False, "baselines": [],
            "enqueue": [{"model": "explode"}] * 3, "spread": spread}  # fmt: skip
    with pytest.warns(UserWarning, match=r"^explode: left out of the rest of this search") as got:
        result = search("default", trials=20, seed=1, runs_dir=tmp_path, overrides=over,
                        registry=Registry(plugins={"exploding": _Exploding()}))  # fmt: skip
    board = result.leaderboard().sort_values("trial")
    assert board["model"].tolist()[:3] == ["explode"] * 3
    assert (board["model"].iloc[3:] != "explode").all() and len(board) == 20
    assert (board["state"].iloc[3:] == "COMPLETE").all()
    left_out = [w for w in got if "left out" in str(w.message)]
    assert len(left_out) == 1 and "covariance matrix is singular" in str(left_out[0].message)


def test_a_search_tries_the_families_left_behind_next(tmp_path: Path) -> None:
    """Ten histogram-boosting trials first (``enqueue``): the next trials go to the two
    families below half their share, fewest first, before TPE chooses again."""
    from automl_fin.engine._search import search

    over = {"validation.n_splits": 2, "validation.repeats": 1, "calibration": ["none"],
            "models": ["logreg", "hgb", "sgd"], "report": False, "predictor": False,
            "pruner": "none", "portfolio": False, "ensemble": False, "baselines": [],
            "enqueue": [{"model": "hgb"}] * 10}  # fmt: skip
    result = search("default", trials=13, seed=0, runs_dir=tmp_path, storage=":memory:",
                    overrides=over)  # fmt: skip
    board = result.leaderboard().sort_values("trial")
    assert board["model"].tolist()[10:] == ["logreg", "sgd", "logreg"]
    off = search("default", trials=13, seed=0, runs_dir=tmp_path, storage=":memory:",
                 overrides={**over, "spread": False})  # fmt: skip
    assert off.leaderboard().sort_values("trial")["model"].tolist()[10:] != [
        "logreg", "sgd", "logreg"]  # fmt: skip


def _scored(number: int, folds: list[float], *, baseline: str = "") -> optuna.trial.FrozenTrial:
    attrs: dict[str, object] = {"automl_fin": {"model": "hgb", "fold_scores": folds}}
    if baseline:
        attrs["baseline"] = baseline
    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE, value=sum(folds) / len(folds), user_attrs=attrs
    )
    trial.number = number
    return trial


def test_a_trial_loses_the_race_only_when_it_cannot_be_expected_to_win() -> None:
    """Paired split by split against the best completed trial on all the splits: clearly
    behind after a few folds -> lost to that trial; behind by less than the splits'
    noise -> goes on; never on one fold, never after the last; baselines and trials
    scored on fewer splits are no rivals; minimised metrics the other way round."""
    best = _scored(3, [0.80, 0.74, 0.78, 0.82, 0.76])
    rivals = [_scored(1, [0.70] * 5), best, _scored(4, [0.99, 0.99]),
              _scored(5, [0.95] * 5, baseline="leak")]  # fmt: skip
    behind = [0.70, 0.65, 0.69]  # 0.09 below the best on each of these splits
    assert lost_race(behind, rivals, 1.0, 5) == 3
    assert lost_race([0.79, 0.75, 0.76], rivals, 1.0, 5) is None  # noise: -0.01, +0.01, -0.02
    assert lost_race(behind[:1], rivals, 1.0, 5) is None  # one fold: no spread to judge
    assert lost_race([*behind, 0.70, 0.66], rivals, 1.0, 5) is None  # its last fold: never
    assert lost_race(behind, [rivals[2], rivals[3]], 1.0, 5) is None
    losses = [_scored(7, [0.2, 0.26, 0.22, 0.18, 0.24])]
    assert lost_race([0.30, 0.35, 0.31], losses, -1.0, 5) == 7  # log loss: lower is better
    assert lost_race([0.30, 0.35, 0.31], losses, 1.0, 5) is None


def _guessing() -> object:
    """A registry with one more model: scikit-learn's DummyClassifier guessing at random
    (class shares kept), a real estimator no better than chance."""
    from sklearn.dummy import DummyClassifier

    from automl_fin import ModelSpec, Task, hookimpl
    from automl_fin.plugin._registry import Registry

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            def build(p, c):  # type: ignore[no-untyped-def]
                return DummyClassifier(strategy="stratified", random_state=c.seed)

            register(ModelSpec(name="guess", tasks={Task.BINARY}, build=build))

    return Registry(plugins={"guess": Plugin()})


def test_a_search_races_over_folds_and_never_prunes_after_the_last(tmp_path: Path) -> None:
    """A model guessing at random, queued after five good trials, loses the race after
    two folds; no pruned trial ran all its folds; with ``racing: false`` nothing stops
    it: the percentile pruner judges it against trials of its own model, none yet."""
    from automl_fin.engine._search import search
    from automl_fin.engine._trial_record import TrialRecord

    over = {"validation.n_splits": 5, "validation.repeats": 1, "calibration": ["none"],
            "models": ["logreg", "guess"], "report": False, "predictor": False,
            "ensemble": False, "portfolio": False, "baselines": [],
            "enqueue": [{"model": "logreg"}] * 5 + [{"model": "guess"}]}  # fmt: skip
    runs = {}
    for racing in (True, False):
        result = search("default", trials=6, seed=0, runs_dir=tmp_path / str(racing),
                        registry=_guessing(), overrides={**over, "racing": racing})  # fmt: skip
        study = optuna.load_study(study_name=result.study_name, storage=result.storage)
        for t in study.trials:
            if t.state.name == "PRUNED":
                assert len(TrialRecord.of(t).fold_scores) < 5  # never after its last fold
        (guess,) = [t for t in study.trials if t.params.get("model") == "guess"]
        runs[racing] = (guess.state.name, TrialRecord.of(guess), study.trials)
    state, record, trials = runs[True]
    assert state == "PRUNED" and len(record.fold_scores) == 2
    # the note compares like with like: both means on the same two folds
    found = re.fullmatch(
        r"lost the race to trial (\d+) after 2 of 5 folds \((\S+) against its (\S+) on them\)",
        record.stopped or "",
    )
    assert found, record.stopped
    winner = TrialRecord.of(trials[int(found[1])]).fold_scores
    assert float(found[2]) == pytest.approx(np.mean(record.fold_scores), abs=1e-3)
    assert float(found[3]) == pytest.approx(np.mean(winner[:2]), abs=1e-3)
    assert float(found[3]) > float(found[2])
    state, record, _ = runs[False]
    assert state == "COMPLETE" and len(record.fold_scores) == 5


def test_a_model_whose_fold_no_longer_fits_is_left_out_by_the_sampler(tmp_path: Path) -> None:
    """A model whose own fold cannot end before the deadline is marked too slow (not one
    skipped only for a preprocessing to fit first), and the sampler draws among the
    others: TPE asking three times in a row for a model that cannot fit used to end the
    search early (PhraseBank at 600 s: at 445 s, after a 367 s fine-tuning fold)."""
    import time

    from automl_fin import datasets
    from automl_fin.engine._objective import Objective
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._sampling import TrialSeededTPE
    from automl_fin.plugin._registry import get_registry

    recipe = load_recipe("default", {"models": ["logreg", "hgb"]})
    problem = resolve(recipe, datasets.load("german_credit"), get_registry())
    objective = Objective(problem, tmp_path, deadline=time.monotonic() + 30)
    objective.fold_seconds = {"logreg": [0.5], "hgb": [60.0]}
    objective._skipped("hgb")
    objective._skipped("logreg")  # skipped for its preprocessing: it fits on its own
    assert objective.too_slow == {"hgb"} and not objective.stopped

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = TrialSeededTPE(0)
    study = optuna.create_study(sampler=sampler, direction="maximize")

    def score(trial: optuna.Trial) -> float:
        return 1.0 if trial.suggest_categorical("model", ["hgb", "logreg"]) == "hgb" else 0.0

    study.optimize(score, n_trials=15)
    assert sum(t.params["model"] == "hgb" for t in study.trials) >= 8  # TPE's favourite
    sampler.too_slow = lambda: objective.too_slow
    study.optimize(score, n_trials=10)
    assert {t.params["model"] for t in study.trials[15:]} == {"logreg"}
    sampler.too_slow = lambda: {"hgb", "logreg"}  # nothing fits: TPE as before, the
    study.optimize(score, n_trials=3)  # objective stops the search
    assert {t.params["model"] for t in study.trials[25:]} == {"hgb"}
    # skips of models too slow do not count toward the three-in-a-row stop (a portfolio's
    # queued trials of them are skipped one by one); skips for a preprocessing do
    for _ in range(5):
        objective._skipped("hgb")
    assert not objective.stopped
    objective._skipped("logreg")
    objective._skipped("logreg")
    assert objective.stopped


def test_a_preprocessor_whose_first_use_no_longer_fits_is_left_out_by_the_sampler(
    tmp_path: Path,
) -> None:
    """A sentence encoder not run yet priced a logistic regression's first fold at ~88 s
    of the 51 left; three such trials in a row ended the search at 9 s of 60, "by the
    time budget", though TF-IDF folds took under a second. The preprocessor is left out
    of its slot's choices instead (its skip not counted), while another choice remains."""
    import time

    from automl_fin import datasets
    from automl_fin.engine._objective import Objective
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._sampling import TrialSeededTPE
    from automl_fin.plugin._registry import get_registry

    recipe = load_recipe("default", {"models": ["logreg"]})
    problem = resolve(recipe, datasets.load("german_credit"), get_registry())
    objective = Objective(problem, tmp_path, deadline=time.monotonic() + 30)
    objective.fold_seconds = {"logreg": [0.5]}
    objective._skipped("logreg", ["encoder"])
    assert objective.slow_preps == {"encoder"} and objective.skips == 0
    assert objective.too_slow == set() and not objective.stopped
    for _ in range(3):  # asked for again (a queued trial, no other choice): counted
        objective._skipped("logreg", ["encoder"])
    assert objective.stopped

    # only the preprocessor whose first use does not fit is left out, not a median
    # imputer beside it (nothing is fitted on a search's first trials)
    from automl_fin import ColumnKind
    from automl_fin.engine._pipeline import Plan, Step

    news = datasets.load("financial_phrasebank").sample(200, random_state=0)
    text = resolve(load_recipe("sentiment", {"models": ["logreg"]}),
                   news.assign(n=range(200)), get_registry())  # fmt: skip
    reader = Objective(text, tmp_path, deadline=time.monotonic() + 30)
    reader.fold_seconds = {"logreg": [0.5]}
    plan = Plan("logreg", {}, {ColumnKind.TEXT: (Step("minilm_embed", {}),),
                               ColumnKind.NUMERIC: (Step("median_impute", {}),)})  # fmt: skip
    assert set(reader._unfitted(plan)) == {"minilm_embed", "median_impute"}
    assert reader._too_slow_preps(plan, slack=20.0) == ["minilm_embed"]
    assert reader._too_slow_preps(plan, slack=1e6) == ["minilm_embed"]  # the costliest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = TrialSeededTPE(0)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    slot = "prep.text.vectorize"

    def score(trial: optuna.Trial) -> float:
        trial.suggest_categorical("model", ["logreg", "sgd"])
        pick = trial.suggest_categorical(slot, ["encoder", "tfidf", "none"])
        return {"encoder": 1.0, "tfidf": 0.6, "none": 0.0}[pick]

    study.optimize(score, n_trials=15)
    assert sum(t.params[slot] == "encoder" for t in study.trials) >= 6  # TPE's favourite
    sampler.slow_preps = lambda: objective.slow_preps
    study.optimize(score, n_trials=10)  # drawn jointly with the model, and alone
    assert {t.params[slot] for t in study.trials[15:]} <= {"tfidf", "none"}
    sampler.slow_preps = lambda: {"encoder", "tfidf", "none"}  # nothing fits: as before
    study.optimize(score, n_trials=3)
    assert {t.params[slot] for t in study.trials[25:]} == {"encoder"}


class _Curve(ClassifierMixin, BaseEstimator):
    """A logistic regression whose learning curve (100 steps) is ``0.8`` throughout, or
    ``0.5`` for its first 20 steps (``slow``: a small learning rate's start) and ``0.9``
    after; with ``plan`` it says its 100 steps up front (``Monitor.plan``)."""

    def __init__(self, slow: int = 0, plan: int = 0) -> None:
        self.slow, self.plan = slow, plan

    def fit(self, X, y, monitor=None):  # type: ignore[no-untyped-def]
        if monitor is not None and monitor.has_validation:
            if self.plan:
                monitor.plan(100)
            for step in range(100):
                slow = 0.5 if step < 20 else 0.9
                monitor.report(step, slow if self.slow else 0.8)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


def test_a_slow_start_is_judged_only_after_a_fifth_of_the_planned_steps(
    tmp_path: Path,
) -> None:
    """Five trials of a model completed on a flat curve (0.8); a sixth starts at 0.5 for
    its first 20 of 100 steps. Planned (``Monitor.plan(100)``), it is first judged at
    step 27 (0.9 by then) and completes; unplanned, it is pruned at step 5."""
    from automl_fin import Categorical
    from automl_fin.engine._search import search

    class Plugin:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(ModelSpec(name="curve", tasks={Task.BINARY}, monitored=True,
                               space={"slow": Categorical([0, 1]), "plan": Categorical([0, 1])},
                               build=lambda p, c: _Curve(**p), requires={"scale"}))  # fmt: skip

    flat = [{"curve.slow": 0, "curve.plan": 0}] * 5
    states = {}
    for plan in (1, 0):
        over = {"validation.n_splits": 3, "validation.repeats": 1, "calibration": ["none"],
                "models": ["curve"], "report": False, "predictor": False, "ensemble": False,
                "portfolio": False, "baselines": [], "racing": False,
                "enqueue": [*flat, {"curve.slow": 1, "curve.plan": plan}]}  # fmt: skip
        result = search("default", trials=6, seed=0, runs_dir=tmp_path / str(plan),
                        registry=Registry(plugins={"c": Plugin()}), overrides=over)  # fmt: skip
        board = result.leaderboard().set_index("trial")
        states[plan] = (board.loc[5, "state"], board.loc[5, "error"])
    assert states[1][0] == "COMPLETE"
    assert states[0] == ("PRUNED", "pruned at step 5 of fold 1 (roc_auc 0.5)")
