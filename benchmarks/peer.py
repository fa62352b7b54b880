"""Fit one peer system on a training table and predict a test table (a standalone script).

    python benchmarks/peer.py SYSTEM WORKDIR

Runs inside the peer's own virtual environment (made by ``benchmarks.compare``), so it
imports nothing of automl_fin: only pandas, NumPy, scikit-learn and the peer. ``WORKDIR``
holds ``train.csv`` (features + ``__target__``), ``test.csv``, and ``task.json``
(``task``: binary / multiclass / regression, ``n_classes``, ``metric``, ``budget`` s, ``seed``,
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
import shutil
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
    if task["task"] == "regression":
        pred = automl.predict(test)
    else:  # columns in the order of the classes FLAML saw
        pred = pd.DataFrame(automl.predict_proba(test), columns=automl.classes_)
    tried = len(getattr(automl, "config_history", {}) or {})
    info = {"models": tried, "best": automl.best_estimator, "versions": _versions("flaml")}
    return pred, info


def _autogluon(task: dict[str, Any], X: pd.DataFrame, y: pd.Series, test: pd.DataFrame,
               presets: str) -> tuple:  # fmt: skip
    import tempfile

    from autogluon.tabular import TabularPredictor

    problem = {"binary": "binary", "multiclass": "multiclass"}.get(task["task"], "regression")
    folder = tempfile.mkdtemp(prefix="autogluon-", dir=task["work"])  # removed by main()
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
        pred = predictor.predict_proba(test)
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
        pred = pd.DataFrame(model.fit(Xt, y).predict_proba(Xs), columns=model.classes_)
    return pred, {"models": 1, "best": type(model).__name__, "versions": _versions()}


def _constant(y: pd.Series, test: pd.DataFrame, value: float) -> tuple:
    return np.full(len(test), value), {"models": 1, "best": "constant", "versions": {}}


def _versions(*names: str) -> dict[str, str]:
    out = {}
    for name in ("pandas", "numpy", "scikit-learn", *names):
        with contextlib.suppress(Exception):  # a package without metadata: left out
            out[name] = version(name)
    return out


def _probabilities(pred: pd.DataFrame, n_classes: int) -> np.ndarray:
    """Class-index columns ``0..k-1`` (a class absent from training gets 0), each row
    summing to 1 (AutoGluon's float32 sums drift)."""
    proba = pred.reindex(columns=range(n_classes), fill_value=0.0).to_numpy(dtype=float)
    return proba / proba.sum(axis=1, keepdims=True)


def main(system: str, work: Path) -> None:
    task, X, y, test = _read(work)
    task["work"] = str(work)
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
    if isinstance(pred, pd.DataFrame):
        pred = _probabilities(pred, task["n_classes"])
    np.save(work / "pred.npy", np.asarray(pred, dtype=float))
    for folder in work.glob("autogluon-*"):  # GBs of bagged models per run
        shutil.rmtree(folder, ignore_errors=True)
    (work / "info.json").write_text(json.dumps(info, default=str))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
