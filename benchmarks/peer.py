"""Fit one peer system on a training table and predict a test table (a standalone script).

    python benchmarks/peer.py SYSTEM WORKDIR

Runs inside the peer's own virtual environment (made by ``benchmarks.compare``), so it
imports nothing of automl_fin: only pandas, NumPy, scikit-learn and the peer. ``WORKDIR``
holds ``train.csv`` (features + ``__target__``), ``test.csv``, and ``task.json``
(``task``: binary / multiclass / regression, ``metric``, ``budget`` seconds, ``seed``,
``kinds``: column -> numeric / categorical / text, ``time_ordered``). Writes
``pred.npy`` (class probabilities ``(n, k)`` in class-index order, or values ``(n,)``)
and ``info.json`` (models tried, versions).

Systems: ``flaml`` (``AutoML.fit(time_budget=...)``; text as TF-IDF features),
``autogluon`` / ``autogluon_medium`` (``TabularPredictor.fit(time_limit=...)``, presets
best_quality / medium_quality; text as a raw column, which AutoGluon turns into its own
n-gram features), ``linear`` (logistic regression / ridge on one-hot + standardised
columns, TF-IDF for text), ``zero`` (a zero forecast: the random walk for returns) and
``always_up`` (the training mean return, positive on stock indices).
"""

from __future__ import annotations

import contextlib
import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TARGET = "__target__"
FLAML_METRIC = {"roc_auc": "roc_auc", "macro_f1": "macro_f1", "rmse": "rmse"}
AUTOGLUON_METRIC = {"roc_auc": "roc_auc", "macro_f1": "f1_macro", "rmse": "root_mean_squared_error"}


def _read(work: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.Series, pd.DataFrame]:
    task = json.loads((work / "task.json").read_text())
    kinds = task["kinds"]
    dtypes = {c: "string" for c, k in kinds.items() if k != "numeric"}
    train = pd.read_csv(work / "train.csv", dtype=dtypes, keep_default_na=True)
    test = pd.read_csv(work / "test.csv", dtype=dtypes, keep_default_na=True)
    y = train.pop(TARGET)
    for frame in (train, test):
        for c, k in kinds.items():
            if k == "categorical":
                frame[c] = frame[c].astype("category")
            elif k == "text":
                frame[c] = frame[c].fillna("").astype(object)
    if task["task"] != "regression":
        y = y.astype(int)
    return task, train, y, test


def _text_features(train: pd.DataFrame, test: pd.DataFrame, kinds: dict[str, str]) -> tuple:
    """Text columns as TF-IDF word 1-2 grams (fitted on the training rows), the other
    columns one-hot / numeric: sparse matrices for learners without text handling."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    for c, k in kinds.items():
        if k == "text":
            vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
            parts.append((f"tfidf_{c}", vec, c))
    cats = [c for c, k in kinds.items() if k == "categorical"]
    nums = [c for c, k in kinds.items() if k == "numeric"]
    if cats:
        one_hot = OneHotEncoder(handle_unknown="ignore", min_frequency=5)
        imputer = SimpleImputer(strategy="constant", fill_value="missing")
        parts.append(("cat", make_pipeline(imputer, one_hot), cats))
    if nums:
        parts.append(("num", make_pipeline(SimpleImputer(), StandardScaler()), nums))
    columns = ColumnTransformer(parts, sparse_threshold=1.0)
    for frame in (train, test):
        for c in cats:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), "missing")
    return columns.fit_transform(train), columns.transform(test)


def _flaml(task: dict[str, Any], X: pd.DataFrame, y: pd.Series, test: pd.DataFrame) -> tuple:
    from flaml import AutoML

    kinds = task["kinds"]
    if "text" in kinds.values():
        X, test = _text_features(X, test, kinds)
    automl = AutoML()
    settings: dict[str, Any] = {
        "task": "regression" if task["task"] == "regression" else "classification",
        "metric": FLAML_METRIC[task["metric"]],
        "time_budget": task["budget"],
        "seed": task["seed"],
        "verbose": 0,
    }
    if task["time_ordered"]:
        settings["split_type"] = "time"
    automl.fit(X, y, **settings)
    pred = automl.predict(test) if task["task"] == "regression" else automl.predict_proba(test)
    tried = len(getattr(automl, "config_history", {}) or {})
    info = {"models": tried, "best": automl.best_estimator, "versions": _versions("flaml")}
    return pred, info


def _autogluon(task: dict[str, Any], X: pd.DataFrame, y: pd.Series, test: pd.DataFrame,
               presets: str) -> tuple:  # fmt: skip
    import tempfile

    from autogluon.tabular import TabularPredictor

    problem = {"binary": "binary", "multiclass": "multiclass"}.get(task["task"], "regression")
    folder = tempfile.mkdtemp(prefix="ag-")
    predictor = TabularPredictor(
        label=TARGET,
        problem_type=problem,
        eval_metric=AUTOGLUON_METRIC[task["metric"]],
        path=folder,
        verbosity=0,
    )
    train = X.assign(**{TARGET: y.to_numpy()})
    for c, k in task["kinds"].items():  # AutoGluon finds its text columns in object dtype
        if k == "text":
            train[c] = train[c].astype(object)
    predictor.fit(train, time_limit=task["budget"], presets=presets)
    if problem == "regression":
        pred = predictor.predict(test).to_numpy()
    else:
        proba = predictor.predict_proba(test)
        pred = proba[sorted(proba.columns)].to_numpy()
    info = {
        "models": len(predictor.model_names()),
        "best": predictor.model_best,
        "presets": presets,
        "versions": _versions("autogluon.tabular", "torch"),
    }
    return pred, info


def _linear(task: dict[str, Any], X: pd.DataFrame, y: pd.Series, test: pd.DataFrame) -> tuple:
    from sklearn.linear_model import LogisticRegression, Ridge

    Xt, Xs = _text_features(X, test, task["kinds"])
    if task["task"] == "regression":
        model: Any = Ridge(alpha=1.0)
        pred = model.fit(Xt, y).predict(Xs)
    else:
        model = LogisticRegression(max_iter=5000)
        pred = model.fit(Xt, y).predict_proba(Xs)
    return pred, {"models": 1, "best": type(model).__name__, "versions": _versions()}


def _constant(y: pd.Series, test: pd.DataFrame, value: float) -> tuple:
    return np.full(len(test), value), {"models": 1, "best": "constant", "versions": {}}


def _versions(*names: str) -> dict[str, str]:
    out = {}
    for name in ("pandas", "numpy", "scikit-learn", *names):
        with contextlib.suppress(Exception):  # a package without metadata: left out
            out[name] = version(name)
    return out


def main(system: str, work: Path) -> None:
    task, X, y, test = _read(work)
    if system == "flaml":
        pred, info = _flaml(task, X, y, test)
    elif system == "autogluon":
        pred, info = _autogluon(task, X, y, test, "best_quality")
    elif system == "autogluon_medium":
        pred, info = _autogluon(task, X, y, test, "medium_quality")
    elif system == "linear":
        pred, info = _linear(task, X, y, test)
    elif system == "zero":
        pred, info = _constant(y, test, 0.0)
    elif system == "always_up":  # a positive drift (the training mean's size)
        pred, info = _constant(y, test, abs(float(y.mean())) or 1e-9)
    else:
        raise SystemExit(f"peer.py: unknown system '{system}'")
    np.save(work / "pred.npy", np.asarray(pred, dtype=float))
    (work / "info.json").write_text(json.dumps(info, default=str))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
