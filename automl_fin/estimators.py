"""scikit-learn estimators that run a whole automl_fin search inside ``fit``.

``AutoFinClassifier`` and ``AutoFinRegressor`` follow scikit-learn's contract
(``__init__`` only stores its arguments, fitted attributes end in ``_``, ``clone``
works), so a search can sit inside ``cross_val_score``, ``Pipeline`` or
``GridSearchCV``. Each ``fit`` runs the recipe on ``X`` and ``y`` with an in-memory
Optuna study and keeps the refitted best row (single model or ensemble) as
``predictor_``; its leaderboard is ``leaderboard_``.
"""

from __future__ import annotations

import contextlib
import numbers
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from automl_fin.data._shape import as_data
from automl_fin.data._tidy import plain
from automl_fin.errors import DataError, RecipeError

__all__ = ["AutoFinClassifier", "AutoFinRegressor"]

TARGET = "__target__"
DEFAULT_FOLDS = 5
DEFAULT_TRIALS = 20  # the budget when neither trials nor seconds is given
# recipe fields the estimator's own parameters set, named as the parameters in errors
_OWN_NAMES = {"budget.trials": "trials", "budget.seconds": "seconds",
              "validation.n_splits": "n_splits"}  # fmt: skip


_FIT_STATE = ("_columns", "_order", "_labels")  # a fit's own state besides the name_ ones


class _AutoFin(BaseEstimator):
    """The shared part of :class:`AutoFinClassifier` and :class:`AutoFinRegressor`."""

    def __init__(
        self,
        recipe: str = "auto",
        *,
        trials: int | None = None,
        seconds: float | None = None,
        models: Sequence[str] | None = None,
        metric: str | None = None,
        n_splits: int | None = None,
        ensemble: bool = True,
        random_state: int | np.random.RandomState | np.random.Generator | None = 0,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.recipe = recipe
        self.trials = trials
        self.seconds = seconds
        self.models = models
        self.metric = metric
        self.n_splits = n_splits
        self.ensemble = ensemble
        self.random_state = random_state
        self.overrides = overrides

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # imputed inside the searched pipelines
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    @contextlib.contextmanager
    def _fitting(self) -> Iterator[None]:
        """A fit that raises leaves nothing fitted: a refit refused midway had kept the
        old predictor beside the new class order, and swapped its probability columns
        without a word (a prober's find); it is unfitted instead (NotFittedError)."""
        try:
            yield
        except BaseException:
            for name in [n for n in vars(self) if n.endswith("_") or n in _FIT_STATE]:
                delattr(self, name)
            raise

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` as a DataFrame: a DataFrame keeps its columns and dtypes (mixed kinds
        are fine), as does a Polars or Arrow table (read as pandas reads it); an array is
        checked and its columns named ``x0, x1, ...``."""
        if not isinstance(X, (pd.DataFrame, pd.Series)) and hasattr(X, "__arrow_c_stream__"):
            X = as_data(X)  # a Polars or Arrow table; a column of one is refused
        if isinstance(X, pd.DataFrame):
            twice = list(dict.fromkeys(X.columns[X.columns.duplicated()]))
            if twice:  # scikit-learn's check failed in narwhals ("DuplicateError")
                raise DataError(
                    f"X has duplicate column names ({', '.join(map(repr, twice))}); give "
                    "every column a unique name"
                )
            if TARGET in map(str, X.columns):  # it was overwritten by y, unsaid
                raise DataError(
                    f"X has a column named {TARGET!r}, the name the estimator gives y beside "
                    "it; rename that column"
                )
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0:
                raise ValueError("0 sample(s) (shape=(0, ...)) while a minimum of 1 is required.")
            frame = X.reset_index(drop=True).set_axis([str(c) for c in X.columns], axis=1)
        else:
            X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        if reset:
            self._columns = list(frame.columns)
            return frame
        # fitted on a frame and given an array, or the other way round: the columns by
        # position, as scikit-learn reads them (it warns); (one pickled before the names
        # were kept: its frame's names, or x0, x1, ...)
        fitted = getattr(self, "_columns", None)
        if fitted is None:
            named = getattr(self, "feature_names_in_", None)
            fitted = [f"x{i}" for i in range(frame.shape[1])] if named is None else list(named)
        return frame.set_axis(fitted, axis=1) if len(fitted) == frame.shape[1] else frame

    def _search(self, frame: pd.DataFrame, y: np.ndarray, extra: dict[str, Any]) -> Any:
        """Run the recipe on ``frame`` with target ``y``; ``extra`` recipe overrides."""
        from automl_fin.engine._search import search

        if len(frame) < 2:
            raise ValueError(f"n_samples = {len(frame)}: a search needs at least 2 rows")
        self._check_task(str(extra["task"]))
        overrides: dict[str, Any] = {"ensemble": self.ensemble, "report": False, **extra}
        if self._named_recipe():  # X's columns are the features: the rules a built-in
            # recipe states for its own table (risk_tier's tier from grade, its dropped
            # columns) are not applied to them; a recipe file of the user's keeps its own
            overrides |= {"data.derive": {}, "data.drop": []}
        if self.recipe == "auto":  # its reference row would take one of the estimator's
            overrides["baselines"] = []  # trials (trials=1: none left for a model)
        for key, value in (
            ("models", _names(self.models)),
            ("metric", self.metric),
            ("validation.n_splits", self.n_splits),
        ):
            if value is not None:
                overrides[key] = value
        owned = sorted(set(self.overrides or {}) & {"task", "data.target", "data.classes",
                                                      "data.positive_class"})  # fmt: skip
        if owned:
            raise ValueError(
                f"overrides: {owned[0]!r} is set from y by the estimator; give y as it should "
                "be read (an ordered pandas Categorical for an order of classes)"
            )
        overrides |= dict(self.overrides or {})
        labels = getattr(self, "_labels", None)  # a classifier's y: the search sees codes
        if labels is not None and isinstance(overrides.get("costs"), Mapping):
            overrides["costs"] = _costs_as_codes(overrides["costs"], labels)
        overrides["predictor"] = True  # the fitted estimator is the saved predictor
        with (
            tempfile.TemporaryDirectory(prefix="automl_fin-") as runs,
            self._said_in_own_words(),
            self._named(),
        ):
            result = search(
                self.recipe,
                data=frame.assign(**{TARGET: y}),
                target=TARGET,
                trials=DEFAULT_TRIALS
                if self.trials is None and self.seconds is None
                else self.trials,
                seconds=self.seconds,
                # random_state=None beside an overrides seed: that seed (set twice else)
                seed=None
                if self.random_state is None and "seed" in (self.overrides or {})
                else _seed(self.random_state),
                overrides=overrides,
                storage=":memory:",
                runs_dir=runs,
                progress=False,  # an estimator is quiet (cross-validation fits it many times)
            )
        if result.predictor is None:
            board = result.leaderboard()
            errors = board["error"].dropna().astype(str).unique()[:3]
            baselines = ", ".join(board.loc[board["baseline"], "model"].astype(str))
            raise ValueError(
                "no trial of the search completed; errors: " + "; ".join(errors)
                if len(errors)
                else f"only the recipe's baselines ({baselines}) completed: the budget went "
                "to them; give more trials (or seconds)"
                if baselines
                else "no trial of the search completed in its budget; give more trials (or seconds)"
            )
        self.predictor_ = result.predictor
        self.predictor_.path = None  # its folder was temporary; save with the estimator
        self.leaderboard_ = result.leaderboard().drop(columns=["study", "dataset"])
        self.best_score_ = float(result.predictor.manifest["metric"]["score"])
        return result

    @contextlib.contextmanager
    def _said_in_own_words(self) -> Iterator[None]:
        """The search's warnings, said again as the fit's in the words of ``X``, ``y``
        and this estimator's parameters (every UserWarning was silenced: infinite values
        read as missing were said at predict only); its recipe's models that are not
        installed are no news in every fit."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message="left out of this search")
            try:
                yield
            finally:
                said = [(str(w.message), w.category) for w in caught]
        labels = getattr(self, "_labels", None)
        for text, category in dict.fromkeys(said):
            try:
                warnings.warn(category(_in_own_words(text, labels)), stacklevel=4)
            except Exception:  # a warning class of other arguments
                warnings.warn(text, category, stacklevel=4)

    @contextlib.contextmanager
    def _named(self) -> Iterator[None]:
        """A recipe error named as this estimator's: its parameters, not the overrides
        it passes to the recipe on the user's behalf (``task``, ``data.classes`` ...);
        a data error in the words of ``X``, ``y`` and its parameters, not of the table
        it hands the search (``<DataFrame>: target '__target__'``, ``--set``)."""
        try:
            yield
        except RecipeError as exc:
            where = f"{type(self).__name__}(recipe={self.recipe!r})"
            field = _OWN_NAMES.get(exc.field, exc.field)
            # overrides={'seed': 5} beside random_state (0 unless given): "by --seed 0"
            detail = re.sub(r"by --seed (\S+); give one", r"by random_state=\1; give one (or "
                            "random_state=None)", exc.detail)  # fmt: skip
            from automl_fin._words import in_python_words

            raise RecipeError(where, field, in_python_words(detail)) from None
        except DataError as exc:
            raise DataError(_in_own_words(str(exc), getattr(self, "_labels", None))) from None

    def _named_recipe(self) -> bool:
        """Whether ``recipe`` names a registered recipe (built in, or a plugin's), not
        a YAML file of the user's."""
        from automl_fin.plugin._registry import get_registry

        return isinstance(self.recipe, str) and self.recipe in get_registry().recipes

    def _recipe(self) -> Any:
        """The recipe with the user's overrides (errors named as this estimator's)."""
        from automl_fin.engine._recipes import load_recipe

        with self._named():
            return load_recipe(self.recipe, dict(self.overrides or {}))

    def _check_task(self, task: str) -> None:
        """Refuse a recipe of the other kind of task (a regressor's ``recipe='default'``
        was refused for a metric never set: "metric 'gini' does not apply to task
        'regression'")."""
        stated = str(self._recipe().task)
        if stated == "auto" or (stated == "regression") == (task == "regression"):
            return
        other = "AutoFinRegressor" if stated == "regression" else "AutoFinClassifier"
        raise ValueError(
            f"recipe {self.recipe!r} is a {stated} recipe and {type(self).__name__} "
            f"fits {'a regression' if task == 'regression' else 'classes'}; use {other} "
            "for it, or recipe='auto'"
        )

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "predictor_")
        features, _ = self.predictor_._features(self._frame(X, reset=False))
        return self.predictor_._blend(features)


def _folds(estimator: _AutoFin, most: int, rows: str) -> dict[str, Any]:
    """Fewer folds on small data (each fold needs a row of every class) unless the
    folds were set explicitly, said (``rows``: which rows are few)."""
    given = (estimator.overrides or {}).get("validation.n_splits")
    if estimator.n_splits is not None or given is not None or most >= DEFAULT_FOLDS:
        return {}
    warnings.warn(  # (a class of two rows in 3,000 scored ROC AUC 0.87 without a word)
        f"{rows}: {max(2, most)} folds instead of {DEFAULT_FOLDS}, and the search's scores "
        "rest on those few rows",
        stacklevel=3,
    )
    return {"validation.n_splits": max(2, most)}


class AutoFinClassifier(ClassifierMixin, _AutoFin):
    """An automl_fin search as a scikit-learn classifier.

    Args:
        recipe: the recipe to run (``auto`` routes by the data; ``default`` for credit
            default, ``risk_tier`` for ordered grades, or a YAML path).
        trials, seconds: the search budget (neither: 20 trials; ``seconds`` alone:
            as many trials as fit in that time).
        models: restrict the search to these model specs.
        metric: the search metric (default: the recipe's).
        n_splits: cross-validation folds (default: the recipe's).
        ensemble: select an ensemble of the top trials after the search.
        random_state: the search's seed: an int repeats the search; a numpy
            ``RandomState`` or ``Generator`` draws one from its stream (as scikit-learn
            estimators do: each fit another search); ``None`` draws one from numpy's
            global ``RandomState`` (``np.random.seed`` repeats it), as scikit-learn does.
        overrides: further dotted recipe fields, e.g. ``{"calibration": ["sigmoid"]}``.
            Every column of ``X`` is a feature: the columns a built-in recipe derives or
            drops on its own table are not (``{"data.drop": [...]}`` drops some; a
            recipe file of your own keeps its rules).

    Attributes:
        classes_, n_features_in_, feature_names_in_: as for any classifier (``classes_``
            sorted; ``predict_proba`` columns in that order).
        predictor_: the refitted best row (:class:`automl_fin.Predictor`), in the labels
            of ``y`` (lowest first under an order; the recipe's positive class last where
            it is one of them: ``default``'s ``bad``; else the one the command infers: a
            conventional positive label such as yes, bad or default, or the minority
            class) and its name (``y`` when it has
            none): its ``evaluate``, ``explain`` and ``feature_importance`` read them.
        leaderboard_: the search's leaderboard.
        best_score_: the chosen row's cross-validated score in the search metric, as
            the leaderboard shows it (the regressor's RMSE: lower is better; ``score``
            is accuracy or R², as for any scikit-learn estimator).
    """

    def fit(self, X: Any, y: Any) -> AutoFinClassifier:
        """Run the search on ``X``, ``y`` and keep the refitted best row. Under a recipe
        of ordered classes (``risk_tier``) the order is that of an ordered pandas
        Categorical ``y``, or of numeric labels; labels of no stated order leave the
        ordinal models and ``qwk`` out, with a warning, as the command does."""
        with self._fitting():
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> AutoFinClassifier:
        frame = self._frame(X, reset=True)
        stated = _stated_order(y)
        named = getattr(y, "name", None)
        y = column_or_1d(y, warn=True)
        missing = pd.isna(pd.Series(y)).to_numpy()
        if missing.any():
            raise ValueError(
                f"y has {int(missing.sum())} missing label(s) (the first: row "
                f"{int(np.argmax(missing))}); drop those rows or give them a class"
            )
        _refuse_mixed_labels(y)
        check_classification_targets(y)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        if len(classes) < 2:
            raise ValueError(f"only one class ({classes[0]!r}) in y; a classifier needs two")
        # the search sees class indices 0..k-1 (labels of any type; the recipe's class
        # list does not reorder them), lowest first under an order; a recipe's positive
        # class that is one of y's labels stays its positive class (``default``'s 'bad':
        # reason codes explained 'good', approvals, by default)
        order = np.arange(len(classes))  # the search's classes: indices of classes_
        recipe = self._recipe()
        positive = np.flatnonzero(classes == recipe.data.positive_class)
        if len(classes) == 2 and not recipe.data.ordered and not len(positive):
            # as the command infers it (a conventional positive label: yes, bad, default,
            # ...; else the minority class): the one false_negative costs name, which
            # was the label sorting last ('good' of bad/good, where the command took 'bad')
            from automl_fin.data._table_facts import infer_positive

            positive = np.flatnonzero(classes == infer_positive(pd.Series(y))[0])
        if len(classes) == 2 and not recipe.data.ordered and len(positive):
            order = np.array([1 - positive[0], positive[0]])
        extra: dict[str, Any] = {
            "task": "binary" if len(classes) == 2 else "multiclass",
            "data.positive_class": None,
            **_folds(self, int(counts.min()), f"y has a class of {int(counts.min())} rows"),
        }
        if stated is not None and len(classes) > 2 and not recipe.data.ordered:
            extra["data.ordered"] = True  # an ordered Categorical under any recipe (auto's)
        if stated is not None and (recipe.data.ordered or len(classes) > 2):  # as it says
            order = _positions(classes, [c for c in stated if c in classes])
        elif recipe.data.ordered and (known := _scale(classes)) is not None:
            order = known  # letter grades, ratings, low/medium/high
        elif recipe.data.ordered and not np.issubdtype(classes.dtype, np.number):
            warnings.warn(
                f"the order of the classes {classes.tolist()} is unknown: ordinal models and "
                "qwk are left out; to offer them, give y as an ordered pandas Categorical "
                "(lowest first) or as numbers",
                UserWarning,
                stacklevel=2,
            )
            extra |= {"data.ordered": False, "metrics": [m for m in recipe.metrics if m != "qwk"]}
        extra["data.classes"] = order.tolist()
        self._order = order
        self._labels = classes  # to name a class in an error
        self._search(frame, codes, extra)
        self.classes_ = classes
        # the predictor in y's words: its labels (not the search's codes), y's name
        schema = self.predictor_.schema
        schema.classes = [plain(classes[i]) for i in order]
        given = (self.overrides or {}).get("costs")
        if given is not None:  # in y's labels, as the classes now are (evaluate reads them)
            self.predictor_.manifest.setdefault("recipe", {})["costs"] = given
        _score_labels(self.predictor_.reference, classes)
        _own_target(schema, named, frame)
        self.leaderboard_ = self.leaderboard_.rename(
            columns=_labelled(self.leaderboard_.columns, classes)
        )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        raw = self._raw(X)
        return raw[:, np.argsort(self._class_order())]

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row: the most probable one, or under a label metric the one
        the predictor's decision rule picks (:attr:`Predictor.rule`)."""
        from automl_fin.results._decision import decide

        raw = self._raw(X)  # checks that it is fitted first
        return self.classes_[self._class_order()[decide(raw, self.predictor_.rule)]]

    def _class_order(self) -> np.ndarray:
        """The search's classes as indices of ``classes_`` (one pickled by a version
        before ordered recipes read the order: ``classes_``'s own)."""
        order = getattr(self, "_order", None)
        return np.arange(len(self.classes_)) if order is None else order


def _own_target(schema: Any, named: Any, frame: pd.DataFrame) -> None:
    """The predictor's target in y's words: its name (``y`` when it has none; the
    search's own where X has a column of that name), for ``evaluate`` and
    ``feature_importance`` to read."""
    target = "y" if named is None else str(named)
    schema.target = target if target not in frame.columns else TARGET


def _seed(random_state: Any) -> int:
    """The search's seed of ``random_state`` (an int, a numpy ``RandomState`` or
    ``Generator``, or ``None``: numpy's global ``RandomState``, as scikit-learn reads it;
    it was the recipe's seed, the same search every fit); a ``RandomState`` failed at
    fit ("should be a valid integer")."""
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


def _refuse_mixed_labels(y: np.ndarray) -> None:
    """Labels of text and numbers together (``'?'`` among 0 and 1) in one line, not
    scikit-learn's "'<' not supported between instances of 'int' and 'str'"."""
    if y.dtype.kind != "O":
        return
    kinds = {"text" if isinstance(v, str) else "numbers" for v in y}
    if len(kinds) > 1:
        text = sorted({v for v in y if isinstance(v, str)})[:3]
        numbers = sorted({v for v in y if not isinstance(v, str)}, key=repr)[:3]
        raise ValueError(
            f"y mixes text labels ({', '.join(map(repr, text))}) with numbers "
            f"({', '.join(map(repr, numbers))}); give every label as text or every one as a "
            "number (drop the rows of a stray label such as '?')"
        )


def _stated_order(y: Any) -> list[Any] | None:
    """The categories of an ordered pandas Categorical ``y``, lowest first."""
    dtype = getattr(y, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return list(dtype.categories)
    return None


def _labelled(columns: Any, classes: np.ndarray) -> dict[str, str]:
    """Per-class metric columns named by the search's class index (``metric:recall:0``)
    renamed by label (``metric:recall:Too Much``)."""
    names = {}
    for column in map(str, columns):
        head, _, code = column.rpartition(":")
        per_class = head.startswith(("metric:", "test:")) and head.endswith(
            (":recall", ":precision", ":f1")
        )
        if per_class and code.isdigit() and int(code) < len(classes):
            names[column] = f"{head}:{classes[int(code)]}"
    return names


class AutoFinRegressor(RegressorMixin, _AutoFin):
    """An automl_fin search as a scikit-learn regressor (same arguments and attributes
    as :class:`AutoFinClassifier`, without ``classes_``)."""

    def fit(self, X: Any, y: Any) -> AutoFinRegressor:
        """Run the search on ``X``, ``y`` and keep the refitted best row."""
        with self._fitting():
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> AutoFinRegressor:
        frame = self._frame(X, reset=True)
        named = getattr(y, "name", None)
        y = column_or_1d(y, warn=True)
        try:
            y = y.astype(float)
        except (TypeError, ValueError):
            y = _numbers_written(y)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        self._search(
            frame, y, {"task": "regression", **_folds(self, len(y) // 2, f"y has {len(y)} rows")}
        )
        _own_target(self.predictor_.schema, named, frame)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted values."""
        return self._raw(X)


def _costs_as_codes(costs: Mapping[Any, Any], labels: np.ndarray) -> dict[Any, Any]:
    """A classifier's ``costs`` keyed by y's labels, keyed by the codes the search sees
    (the index of each label in ``labels``); ``false_negative``/``false_positive`` as
    given. Checked against y's labels first: an error names ``costs.<label>`` and y's
    labels (a key that was none of them passed through and could name a code: with y
    in 1, 2, 3, ``{0: 7}`` costed class 1)."""
    from automl_fin.data._metrics import class_index, cost_matrix, label_text

    texts = [label_text(plain(c)) for c in labels]
    cost_matrix(costs, texts, "AutoFinClassifier(overrides=...)")

    def code(key: Any) -> Any:
        found = class_index(key, texts)
        return key if found is None else found  # (false_negative, false_positive)

    return {
        code(k): {code(j): w for j, w in v.items()} if isinstance(v, Mapping) else v
        for k, v in costs.items()
    }


def _numbers_written(y: np.ndarray) -> np.ndarray:
    """``y`` read as the command line reads a regression target (``$2,490``, ``12.5%``:
    numbers, said in a warning), or a ``ValueError`` where it holds labels."""
    from automl_fin.data._tidy import numbers_in_text

    column = pd.Series(y)
    values, strays = numbers_in_text(column)
    if strays or values.isna().any():
        shown = ", ".join(map(repr, pd.unique(column.astype(str))[:3]))
        raise ValueError(
            f"y holds labels ({shown}), not numbers: use AutoFinClassifier for classes"
        ) from None
    percent = column.astype("str").str.strip().str.endswith("%").any()
    how = "percent signs: read as fractions" if percent else "a currency sign or separators"
    warnings.warn(f"y holds numbers written with {how} (e.g. {column.iloc[0]!r})", stacklevel=3)
    return values.to_numpy(dtype=float)


def _scale(classes: np.ndarray) -> np.ndarray | None:
    """The positions in ``classes`` of labels that write a known scale, lowest first
    (``automl_fin.data._class_order``), or numbers written as text by their value, or
    ``None``."""
    from automl_fin.data._class_order import scale_order

    if np.issubdtype(classes.dtype, np.number):
        return None
    texts = [str(c).strip() for c in classes]
    if all(re.fullmatch(r"[-+]?\d+(\.\d+)?", t) for t in texts):  # "1", "2", "10": numbers
        values = [float(t) for t in texts]  # (their text's order put "10" before "2")
        return np.argsort(values, kind="stable") if len(set(values)) == len(values) else None
    known = scale_order(classes.tolist())
    return None if known is None else _positions(classes, known[0])


def _positions(classes: np.ndarray, labels: Sequence[Any]) -> np.ndarray:
    """Where each of ``labels`` stands in ``classes``."""
    return np.array([int(np.flatnonzero(classes == c)[0]) for c in labels])


def _names(models: str | Sequence[str] | None) -> list[str] | None:
    """``models`` as a list: one name given alone is that model (``"logreg"`` was read
    letter by letter: "unknown model 'l'")."""
    if not models:
        return None
    return [models] if isinstance(models, str) else list(models)


def _in_own_words(text: str, labels: np.ndarray | None) -> str:
    """A search's data error about the table an estimator hands it, in the estimator's
    words: ``y`` for the target ``'__target__'``, ``X`` for the frame, its parameters
    for recipe fields, ``overrides={...}`` for ``--set`` and ``data.drop: [...]``, and
    ``labels`` (``classes_``, whose codes the search saw) for the classes it names."""
    from automl_fin._words import in_python_words

    text = text.replace(f"<DataFrame>: target '{TARGET}'", "y").replace(f"'{TARGET}'", "y")
    text = re.sub(r"check the column \((--target|target=)\)", "check y", text)  # (no column)
    text = re.sub(r"^<DataFrame>: ", "X: ", text)
    for field, own in _OWN_NAMES.items():
        text = text.replace(field, own)
    text = in_python_words(text)
    if labels is not None:  # the validation's rare-class lines: "class 2 has", "classes 1, 2 have"

        def named(codes: str) -> str:
            found = [int(c) for c in codes.split(", ")]
            if any(c >= len(labels) for c in found):
                return codes
            return ", ".join(repr(plain(labels[c])) for c in found)

        text = re.sub(r"\bclass (\d+) has\b", lambda m: f"class {named(m[1])} has", text)
        text = re.sub(
            r"\bclasses ((?:\d+, )*\d+)( \.\.\.)? have\b",
            lambda m: f"classes {named(m[1])}{m[2] or ''} have",
            text,
        )
    return text


def _score_labels(reference: dict[str, Any] | None, classes: np.ndarray) -> None:
    """The training bins of a multiclass predictor's score (its predicted class, as text)
    in the labels of ``classes`` instead of the search's codes: the predictor's own rows,
    scored in labels, read as a significant shift (PSI 17) against bins of codes."""
    bins = (reference or {}).get("score")
    if not isinstance(bins, dict) or bins.get("kind") != "categorical":
        return
    named = {str(i): str(plain(c)) for i, c in enumerate(classes)}
    for key in ("values", "known"):
        if isinstance(bins.get(key), list):
            bins[key] = [named.get(str(v), v) for v in bins[key]]
