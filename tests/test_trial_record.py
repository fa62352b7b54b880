"""A trial's record is one user attribute, written twice a trial, read by every consumer
through one class; studies written one attribute a field still read; and no private
Optuna name is used anywhere in the package or its built-in plugins."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import ClassVar

import optuna
import pytest
import sqlalchemy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from automl_fin import ModelSpec, Task, hookimpl, search
from automl_fin.engine._trial_record import RECORD, TrialRecord, counts_toward_budget, is_candidate
from automl_fin.plugin._registry import Registry
from automl_fin.results._leaderboard import Leaderboard
from automl_fin.storage._storage import default_url, open_storage

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"baselines": [], "calibration": ["none"], "validation.n_splits": 2,
         "validation.repeats": 1, "pruner": "none", "predictor": False, "report": False,
         "ensemble": False}  # fmt: skip


class _Watching(ClassifierMixin, BaseEstimator):
    """A logistic regression that, while it fits, reads its own trial from another
    connection to the storage: what a leaderboard shows of a running trial."""

    url: ClassVar[str] = ""
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def fit(self, X, y):
        board = Leaderboard(self.url).query(state=["RUNNING"])
        self.seen.extend(zip(board["state"], board["model"], strict=True))
        self.model_ = LogisticRegression(max_iter=200).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _WatchingPlugin:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="watching", tasks={Task.BINARY}, build=lambda p, c: _Watching(),
                           requires={"scale"}))  # fmt: skip


def test_a_trial_writes_one_record_twice_and_shows_its_model_while_it_runs(
    tmp_path: Path,
) -> None:
    _Watching.url = default_url(tmp_path)
    _Watching.seen = []
    writes: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        text = statement.lower()
        if "trial_user_attributes" in text and text.lstrip().startswith(("insert", "update")):
            writes.append(text)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    try:
        result = search("default", trials=4, seed=0, runs_dir=tmp_path,
                        registry=Registry(plugins={"watching": _WatchingPlugin()}),
                        overrides={**SMALL, "models": ["watching"]})  # fmt: skip
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    tags = sum(len(set(t.user_attrs) - {RECORD}) for t in trials)  # set when queued
    assert len(writes) == 2 * len(trials) + tags  # was ~13 a trial, one per field
    for t in trials:
        stored = t.user_attrs[RECORD]
        assert stored["model"] == "watching" and len(stored["fold_scores"]) == 2
        assert Path(stored["oof"]).is_file() and stored["fit_s"] > 0
    # every fold of every trial saw its own trial running, its model already named
    assert len(_Watching.seen) == 8 and set(_Watching.seen) == {("RUNNING", "watching")}


def test_a_study_stored_one_attribute_a_field_reads_the_same(tmp_path: Path) -> None:
    """Trials written by earlier versions (flat user attributes) keep their leaderboard
    rows, and the predicates treat them as before."""
    url = default_url(tmp_path)
    study = optuna.create_study(study_name="old", storage=open_storage(url), direction="maximize")
    flat = {"model": "hgb", "fold_scores": [0.7, 0.8], "score_std": 0.05, "fit_s": 1.5,
            "predict_s": 0.1, "plugin": "automl-fin 0.1.0", "metrics": {"ks": 0.4},
            "preprocessors": "numeric:median_impute"}  # fmt: skip
    dist = {"model": optuna.distributions.CategoricalDistribution(["hgb"])}
    study.add_trial(optuna.trial.create_trial(params={"model": "hgb"}, distributions=dist,
                                              value=0.75, user_attrs=flat))  # fmt: skip
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL, user_attrs={"model": "xgboost", "error": "boom"}
        )
    )
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"baseline": "prior"}))
    old = study.get_trials()
    assert TrialRecord.of(old[0]).fold_scores == [0.7, 0.8]
    assert [is_candidate(t) for t in old] == [True, False, False]
    assert [counts_toward_budget(t) for t in old] == [True, True, True]
    board = Leaderboard(url).query().set_index("trial")
    assert board.loc[0, "model"] == "hgb" and board.loc[0, "folds"] == 2
    assert board.loc[0, "metric:ks"] == 0.4 and board.loc[0, "fit_s"] == 1.5
    assert board.loc[1, "error"] == "boom" and bool(board.loc[2, "baseline"])


def _private_optuna_names() -> set[str]:
    """Every ``_name`` (not dunder) defined on Optuna's public classes and modules."""
    names: set[str] = set()
    seen: set[int] = set()

    def visit(obj: object, depth: int) -> None:
        if id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        for name in dir(obj):
            if name.startswith("_") and not name.startswith("__"):
                names.add(name)
            elif not name.startswith("_"):
                value = getattr(obj, name, None)
                module = getattr(value, "__module__", "") or ""
                if (inspect.isclass(value) or inspect.ismodule(value)) and (
                    module.startswith("optuna")
                    or getattr(value, "__name__", "").startswith("optuna")
                ):
                    visit(value, depth + 1)

    visit(optuna, 0)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # names set on instances only (``self._trial_id = ...`` in ``__init__``)
    storage = optuna.storages.RDBStorage("sqlite:///:memory:")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    study.tell(trial, 1.0)
    for obj in (storage, study, trial, study.trials[0], *storage.get_all_studies()):
        names.update(n for n in vars(obj) if n.startswith("_") and not n.startswith("__"))
    return names


def test_no_private_optuna_name_is_used() -> None:
    """An attribute starting with ``_`` that Optuna defines, read on anything but our
    own ``self``/``cls``, or an import from a private Optuna module, fails this test:
    an Optuna upgrade that renames it would otherwise break nothing loudly."""
    private = _private_optuna_names()
    assert {"_trial_id", "_study_id", "_get_trials", "_storage"} <= private  # the net holds
    found = []
    files = [*ROOT.joinpath("automl_fin").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]
    for file in files:
        tree = ast.parse(file.read_text(), filename=str(file))
        for node in ast.walk(tree):
            where = f"{file.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr in private:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    found.append(f"{where} .{node.attr}")
            elif (  # getattr(x, "_name") / hasattr(x, "_name")
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in private
            ):
                found.append(f"{where} {node.func.id}(..., {node.args[1].value!r})")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("optuna"):
                parts = (node.module or "").split(".")
                bad = [p for p in parts if p.startswith("_")]
                bad += [a.name for a in node.names if a.name.startswith("_")]
                if bad:
                    found.append(f"{where} from {node.module} import {bad}")
    assert not found, found


@pytest.mark.parametrize("field", ["model", "error", "oof"])
def test_the_record_keeps_queue_tags_out(field: str) -> None:
    """A record never writes the tags set when a trial is queued: ``baseline`` stays
    whatever ``enqueue_trial`` gave it."""
    rec = TrialRecord(**{field: "x"}, baseline="prior", surplus=True, members={"1": 1.0})
    assert rec.stored() == {field: "x"}


def test_rows_of_one_score_go_to_the_better_probabilities_then_the_simplest() -> None:
    """A stack, an ensemble and one logistic regression that all scored 0.988776 on
    AER CreditCard saved the stack, without a look at their probabilities; where the log
    loss does not tell them apart, the regression alone does as well."""
    import datetime as dt

    from optuna.trial import FrozenTrial, TrialState

    from automl_fin.engine._trial_record import best_of
    from automl_fin.results._leaderboard import _ranked

    def row(number: int, value: float, log_loss: float | None = None) -> FrozenTrial:
        now = dt.datetime.now()
        attrs = {"metrics": {"log_loss": log_loss}} if log_loss is not None else {}
        return FrozenTrial(number, TrialState.COMPLETE, value, now, now, {}, {}, attrs, {}, {},
                           number)  # fmt: skip

    rows = [row(-2, 0.988776), row(-1, 0.988776), row(5, 0.988776), row(2, 0.988776)]
    assert best_of(rows, +1).number == 2
    assert best_of(rows[:2], +1).number == -2  # the stack, scored out of sample, first
    assert best_of([*rows, row(7, 0.99)], +1).number == 7  # a better score still wins
    # a recalibrated ensemble of one trial: ranks alike, better probabilities
    calibrated = [row(-1, 0.80, 0.45), row(3, 0.80, 0.52)]
    assert best_of(calibrated, +1).number == -1

    def board(trials: list[FrozenTrial]) -> list[dict]:
        return [
            {"trial": t.number, "score": t.value, "state": "COMPLETE", "_sign": 1,
             "_surplus": False, "baseline": False,
             "metric:log_loss": TrialRecord.of(t).metrics.get("log_loss")} for t in trials
        ]  # fmt: skip

    ranked = _ranked(board(rows), {}, wanted=None)
    assert [r["trial"] for r in ranked] == [2, 5, -2, -1]
    assert [r["trial"] for r in ranked if r["chosen"]] == [2]
    assert [r["trial"] for r in _ranked(board(calibrated), {}, wanted=None)] == [-1, 3]
