"""The report's sections for three or more classes (risk tiers, sentiment).

From the best row's out-of-fold probabilities: precision, recall and F1 of each class
with its support; for ordered classes the quadratic weighted kappa in words; for a
table with a text column the sentences the predictor was most confident about and got
wrong (what a reviewer reads first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from automl_fin.plugin._specs import ColumnKind
from automl_fin.results._report_html import note, table

if TYPE_CHECKING:
    from automl_fin.engine._problem import Problem

__all__ = ["class_parts", "confidently_wrong"]

WRONG_ROWS = 10
TEXT_CHARS = 240
TEXT_COLUMNS = 3  # the text columns the confidently-wrong rows show, in table order


def class_parts(
    problem: Problem, y: np.ndarray, proba: np.ndarray, predicted: np.ndarray, rows: np.ndarray
) -> str:
    """Per-class scores (and QWK for ordered classes) and, for text, the most confidently
    wrong rows; ``predicted``: the class of each row (the arg-max of ``proba``, or what
    the row's decision rule picks, fitted on other rows); ``rows`` are the dataset rows
    of ``y``."""
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    classes = [str(c) for c in problem.dataset.classes]
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    view = pd.DataFrame(
        {"class": classes, "rows": support, "precision": precision, "recall": recall, "F1": f1}
    )
    worst = view.loc[view["F1"].idxmin()]
    words = (
        f"Out-of-fold scores of each class. Recall: the share of the class's rows predicted "
        f"as it; precision: the share of the rows predicted as the class that are it. The "
        f"weakest class is '{worst['class']}' (F1 {worst['F1']:.3f}, {int(worst['rows'])} "
        f"rows); macro-F1 is their mean, {float(np.mean(f1)):.3f}."
    )
    parts = [table(view, "per-class", words)]
    if problem.recipe.data.ordered:
        kappa = float(cohen_kappa_score(y, predicted, weights="quadratic"))
        parts.append(note(_kappa_words(kappa, classes)))
    text = [c for c, kind in problem.dataset.kinds.items() if kind == ColumnKind.TEXT]
    if text:
        parts.append(confidently_wrong(problem, y, proba, predicted, rows, text[:TEXT_COLUMNS]))
    return "".join(parts)


def _kappa_words(kappa: float, classes: list[str]) -> str:
    strength = (
        "almost perfect"
        if kappa > 0.8
        else "substantial"
        if kappa > 0.6
        else "moderate"
        if kappa > 0.4
        else "fair"
        if kappa > 0.2
        else "slight"
    )
    return (
        f"Quadratic weighted kappa {kappa:.3f} ({strength} agreement, Landis and Koch): the "
        f"classes are ordered ({' < '.join(classes)}), so predicting a neighbouring class "
        "costs less than one two steps away; 0 is chance, 1 perfect."
    )


def confidently_wrong(
    problem: Problem,
    y: np.ndarray,
    proba: np.ndarray,
    predicted: np.ndarray,
    rows: np.ndarray,
    columns: list[str],
) -> str:
    """The :data:`WRONG_ROWS` rows whose predicted class was wrong with the highest
    probability: their texts (each text column: a headline's body was left out),
    actual and predicted class and that probability."""
    classes = np.asarray([str(c) for c in problem.dataset.classes], dtype=object)
    wrong = np.flatnonzero(predicted != y)
    if not len(wrong):
        return note("No out-of-fold row was predicted wrongly.")
    confidence = proba[wrong, predicted[wrong]]
    picked = wrong[np.argsort(-confidence, kind="stable")[:WRONG_ROWS]]
    texts = {
        column: [_cut(t) for t in problem.dataset.X[column].to_numpy(dtype=object)[rows[picked]]]
        for column in columns
    }
    view = pd.DataFrame(
        {
            **texts,
            "actual": classes[y[picked]],
            "predicted": classes[predicted[picked]],
            "probability": proba[picked, predicted[picked]],
        }
    )
    return table(
        view,
        "confidently-wrong",
        f"The {len(picked)} validation rows the predictor got wrong with the most confidence "
        f"(of {len(wrong)} wrong). Labels are worth checking here first: a sure model that "
        "disagrees is often looking at a mislabelled row, or at a wording it has never seen.",
    )


def _cut(text: object) -> str:
    if pd.isna(text):  # type: ignore[arg-type]
        return ""
    value = " ".join(str(text).split())
    return value if len(value) <= TEXT_CHARS else value[: TEXT_CHARS - 1] + "…"
