"""A saved predictor judged on labelled rows: its metrics, and what each column is worth.

:func:`evaluate` scores the predictor on rows whose outcome is known with every metric
of its recipe (the search metric first), beside the ``prior`` baseline: the training
rows' class shares (or mean), which any model must beat. :func:`feature_importance` is
permutation importance on the rows given (held-out rows, not the training rows, which a
model has memorised): the search metric's loss when one original column's values are
shuffled across the rows, repeated with fresh shuffles for a confidence interval.
All permuted copies of a batch of columns are predicted in one call, so an ensemble of
bagged members pays its per-call cost once per batch, not once per column and repeat.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.data._dtypes import plain_dtypes
from automl_fin.data._tidy import with_column
from automl_fin.errors import ArtifactError, DataError
from automl_fin.results._decision import Rule, ruled
from automl_fin.results._seen import (
    naive_times,
    repeated_share,
    seen,
    stamp_text,
    time_bound,
    warn_seen,
)

if TYPE_CHECKING:
    from automl_fin.data._metrics import Metric
    from automl_fin.results._predictor import Predictor

__all__ = [
    "evaluate",
    "feature_importance",
    "labels_of",
    "metrics_of",
    "refuse_series",
    "shuffled_scores",
]

BATCH_CELLS = 20_000_000  # table cells of shuffled copies predicted in one call


# scored beside the search metric where the recipe lists none (auto): an evaluation
# of ROC AUC alone said nothing of the probabilities' calibration or the labels
COMPANIONS = {
    "binary": ("roc_auc", "log_loss", "brier", "accuracy"),
    "multiclass": ("macro_f1", "accuracy", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}


def metrics_of(predictor: Predictor) -> list[Metric]:
    """The recipe's metrics for this predictor (the search metric first), rebuilt from
    its manifest (where it lists none, the task's :data:`COMPANIONS`); metrics scored
    against a random walk (forecasts) are left out."""
    from automl_fin.data._metrics import extra_names, get_metric

    m = predictor.manifest
    schema = predictor.schema
    name = m["metric"]["name"]
    recipe = m.get("recipe") or {}
    costs = recipe.get("costs")
    named = extra_names(name, recipe.get("metric", "auto"), recipe.get("metrics", []),
                        schema.task, schema.classes, costs)  # fmt: skip
    names = [name, *(n for _, n in named)]
    if not recipe.get("metrics") and schema.series is None:  # (auto's: the task's own few)
        names += [n for n in COMPANIONS[str(schema.task)] if n not in names]
    counts = (m.get("training") or {}).get("class_counts")
    found = [
        get_metric(n, schema.task, classes=schema.classes, counts=counts, costs=costs)
        for n in names
    ]
    return [metric for metric in found if not metric.reference]


def labelled(predictor: Predictor, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rows of ``frame`` whose target is known: those without one are left out and
    said, as training leaves them out (evaluate refused the whole file for them)."""
    target = predictor.schema.target
    if target not in frame.columns:
        return frame  # (labels_of says what is missing)
    from automl_fin.data._dataset import has_label
    from automl_fin.data._tidy import numbers_in_text

    y = plain_dtypes(frame[[target]], source, say=False)[target]
    missing = ~has_label(y)
    if not predictor.schema.task.is_classification and not pd.api.types.is_numeric_dtype(y):
        values, strays = numbers_in_text(y)  # "-", "n/a" among amounts: no label
        missing |= values.isna().to_numpy() & (not strays)
    if missing.all():
        raise DataError(f"{source}: no row has a '{target}' (the target): evaluating needs "
                        "rows whose outcome is known")  # fmt: skip
    if missing.any():
        warnings.warn(f"{source}: {int(missing.sum())} rows with a missing '{target}' are "
                      "left out", stacklevel=4)  # fmt: skip
    rare = _of_rare_classes(predictor, y, source)
    if (missing | rare).all():
        raise DataError(
            f"{source}: every labelled row is of a class training left out as too rare "
            f"({', '.join(map(repr, predictor.schema.rare))}); the predictor never predicts "
            "them: evaluate on rows of its classes"
        )
    return frame.loc[~missing & ~rare]


def _of_rare_classes(predictor: Predictor, y: pd.Series, source: str) -> np.ndarray:
    """The rows whose class training left out as too rare (said): the predictor never
    predicts it, and no probability of it is there to score."""
    rare = predictor.schema.rare
    if not rare:
        return np.zeros(len(y), dtype=bool)
    from automl_fin.data._tidy import as_labels

    folded = set(_folded(as_labels(pd.Series(list(rare)))))
    hit = _folded(as_labels(y)).isin(folded).to_numpy()
    if hit.any():
        found = sorted({str(v) for v in y[hit]})
        warnings.warn(
            f"{source}: {int(hit.sum())} rows of class{'es' * (len(found) > 1)} "
            f"{', '.join(map(repr, found[:5]))} are left out: training left "
            f"{'them' if len(found) > 1 else 'it'} out as too rare, and the predictor never "
            f"predicts {'them' if len(found) > 1 else 'it'}",
            stacklevel=5,
        )
    return hit


def with_target(predictor: Predictor, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` with the target made as training made it, where the recipe derives it
    from another column (``risk_tier``'s ``tier`` from ``grade``) and ``frame`` has that
    column, not the target: evaluate refused the recipe's own table ("no column
    'tier'"). A value the rule does not map is refused, named."""
    target = predictor.schema.target
    recipe = predictor.manifest.get("recipe") or {}
    rule = ((recipe.get("data") or {}).get("derive") or {}).get(target)
    if target in frame.columns or not rule or rule.get("source") not in frame.columns:
        return frame
    values = frame[rule["source"]]
    text = values.astype("str").where(values.notna())
    unmapped = sorted(set(text.dropna()) - set(rule["map"]))
    if unmapped:
        raise DataError(
            f"{source}: no column '{target}' (the target), and column '{rule['source']}' it "
            f"is made from holds {', '.join(map(repr, unmapped[:5]))}, which its rule "
            f"(data.derive.{target}) does not map; give the '{target}' column"
        )
    return with_column(frame, target, text.map(rule["map"]))


def labels_of(predictor: Predictor, frame: pd.DataFrame, source: str) -> np.ndarray:
    """The target column of ``frame`` as the engine codes it (class indices in the
    predictor's class order, or floats); a missing column, a missing label or a class
    the predictor does not know is a :class:`DataError` naming it."""
    schema = predictor.schema
    target = schema.target
    if target not in frame.columns:
        raise DataError(
            f"{source}: no column '{target}' (the target): evaluating needs rows whose "
            "outcome is known"
        )
    y = plain_dtypes(frame[[target]], source, say=False)[target]  # as training read it
    if y.isna().any():
        first = frame.index[np.argmax(y.isna().to_numpy())]
        raise DataError(
            f"{source}: {int(y.isna().sum())} row(s) have no '{target}' (the first: index "
            f"{first}); drop them, or predict them instead"
        )
    if not schema.task.is_classification:
        from automl_fin.data._tidy import numbers_in_text

        # as training read it: "$42,000.00" is 42000 (it was refused as non-numeric)
        numeric = pd.api.types.is_numeric_dtype(y)
        values = pd.to_numeric(y, errors="coerce") if numeric else numbers_in_text(y)[0]
        if values.isna().any():
            odd = y[values.isna()].iloc[0]
            raise DataError(f"{source}: target '{target}' has a non-numeric value {odd!r}")
        return values.to_numpy(dtype=float)
    from automl_fin.data._tidy import as_labels

    # as training read them: 1.0 is class 1, " Bad" is "bad" (labels differing only in
    # spaces or case were one class there)
    names = as_labels(pd.Series(list(schema.classes)))  # 0.0 (a target with a gap) is "0"
    text = as_labels(y)
    exact = text.map(dict(zip(names, range(len(names)), strict=True)))
    loose = dict(zip(_folded(names), range(len(names)), strict=True))
    found = exact.fillna(_folded(text).map(loose))
    mapped = found.fillna(-1).to_numpy(dtype=np.int64)
    if (mapped < 0).any():
        odd = sorted({str(v) for v in y[mapped < 0]})[:5]
        raise DataError(
            f"{source}: target '{target}' has values {odd} that are not among the "
            f"predictor's classes {[str(c) for c in schema.classes]}; write each row's "
            "outcome as one of these labels (e.g. with pandas' Series.map), or leave out "
            "the rows of other classes"
        )
    return mapped


def _folded(labels: pd.Series) -> pd.Series:
    """Labels as training merged them: without outer spaces, any case."""
    return labels.str.strip().str.casefold()


def evaluate(predictor: Predictor, data: Any) -> pd.DataFrame:
    """Every metric of the recipe on the labelled rows ``data`` (see
    :meth:`Predictor.evaluate`)."""
    from automl_fin.results._predictor import _frame

    frame, source = _frame(data, predictor.schema)
    if predictor.schema.series is not None:
        return _evaluate_series(predictor, frame, source)
    frame = labelled(predictor, with_target(predictor, frame, source), source)
    y = labels_of(predictor, frame, source)
    X, _ = predictor._features(frame, source)
    pred = predictor._blend(X)
    predictor._watch(X, pred, source, say_seen=False)  # another period or population: said
    prior = _prior(predictor, len(y))
    learnt = 0 if predictor.trained is None else seen(predictor.trained, X)
    repeated = repeated_share(predictor.manifest)
    warn_seen(learnt, len(y), source, "are rows the predictor was trained on", repeated)
    rule = predictor.rule
    classes = [str(c) for c in predictor.schema.classes]
    absent = {c for i, c in enumerate(classes) if not (y == i).any()} if classes else set()
    rows = []
    metrics = metrics_of(predictor)
    # the prior labelled as the search labelled it: by the costs' weights where given
    costs = [m for m in metrics if m.factors is not None]
    decided = Rule(costs[0].factors, 0.0, 0.0, 0, costs[0].matrix) if costs else None
    for metric in metrics:
        row = {"metric": metric.name, "direction": metric.direction}
        row["predictor"] = _score(metric, y, pred, rule=rule)
        if prior is not None:
            row["prior"] = _score(metric, y, prior, rule=decided)
        kind, _, of = metric.name.partition(":")
        if kind == "recall" and of in absent:  # no row of that class: undefined, not 0.000
            row.update({k: float("nan") for k in ("predictor", "prior") if k in row})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("metric")
    undefined = [str(m) for m, v in table["predictor"].items() if pd.isna(v)]
    if undefined:  # shown as "-": said why
        only = [c for c in classes if c not in absent]
        why = (
            f" (every row is '{only[0]}')"
            if len(only) == 1
            else f" (no row is {', '.join(map(repr, sorted(absent)))})"
            if absent
            else ""
        )
        warnings.warn(f"{source}: {', '.join(undefined)} undefined on these rows{why}",
                      stacklevel=3)  # fmt: skip
    named = [c for c in map(str, predictor._labels(pred)) if c in absent] if absent else []
    averaged = [str(m) for m in table.index if m in ("macro_f1", "f1:each")]
    if named and averaged and len(classes) - len(absent) > 1:  # (one class left: above)
        counts = pd.Series(named).value_counts()
        said = " and ".join(f"'{c}' on {n} row{'s' * (n != 1)}" for c, n in counts.items())
        one = len(counts) == 1
        warnings.warn(
            f"{source}: the predictor names {said}, and no row is of "
            f"{'that class' if one else 'those classes'}: macro_f1 counts "
            f"{'its' if one else 'their'} F1 as 0 (each such label is wrong)",
            stacklevel=3,
        )
    table.attrs["rows"] = len(y)
    table.attrs["seen"] = learnt
    return table


def feature_importance(
    predictor: Predictor, data: Any, *, repeats: int = 5, seed: int = 0
) -> pd.DataFrame:
    """Permutation importance of each original column on the labelled rows ``data``
    (see :meth:`Predictor.feature_importance`)."""
    from scipy import stats

    from automl_fin.results._predictor import _frame

    refuse_series(predictor, "feature_importance")
    if int(repeats) < 2:
        raise ValueError(f"repeats={repeats}: need 2 or more for a confidence interval")
    frame, source = _frame(data, predictor.schema)
    frame = labelled(predictor, with_target(predictor, frame, source), source)
    y = labels_of(predictor, frame, source)
    if len(y) < 2:
        raise DataError(f"{source}: {len(y)} labelled row(s); permuting needs at least 2")
    X, _ = predictor._features(frame, source)
    X = X.reset_index(drop=True)
    metric = metrics_of(predictor)[0]
    rule = predictor.rule
    base = _score(metric, y, predictor._blend(X), rule=rule)
    columns = list(X.columns)
    shuffled = shuffled_scores(
        predictor._blend, X, columns, repeats, np.random.default_rng(seed),
        lambda pred: _score(metric, y, pred, rule=rule),
    )  # fmt: skip
    drops = metric.sign * (base - shuffled)
    mean = drops.mean(axis=1)
    std = drops.std(axis=1, ddof=1)
    half = stats.t.ppf(0.975, repeats - 1) * std / np.sqrt(repeats)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(std > 0, mean / (std / np.sqrt(repeats)), np.sign(mean) * np.inf)
    table = pd.DataFrame(
        {
            "importance": mean,
            "stddev": std,
            "ci_low": mean - half,
            "ci_high": mean + half,
            "p_value": stats.t.sf(t, repeats - 1),
            "n": repeats,
        },
        index=pd.Index(columns, name="feature"),
    ).sort_values("importance", ascending=False, kind="stable")
    table.attrs.update({"metric": metric.name, "score": base, "rows": len(X)})
    return table


def shuffled_scores(
    blend: Callable[[pd.DataFrame], np.ndarray],
    X: pd.DataFrame,
    columns: list[Any],
    repeats: int,
    rng: np.random.Generator,
    score: Callable[[np.ndarray], float],
    batch_cells: int = BATCH_CELLS,
) -> np.ndarray:
    """Scores ``(len(columns), repeats)`` of ``blend``'s predictions on copies of ``X``
    (a RangeIndex) with one column's values shuffled across the rows (dtype kept). The
    copies are predicted together, at most ``batch_cells`` table cells a call: a bag of
    fold models pays its per-call cost once a batch, and memory stays bounded on a table
    of 10,000 columns."""
    n = len(X)
    jobs = [(i, k) for i in range(len(columns)) for k in range(repeats)]
    per_batch = max(1, batch_cells // max(1, X.size))
    out = np.empty((len(columns), repeats))
    for start in range(0, len(jobs), per_batch):
        batch = jobs[start : start + per_batch]
        copies = []
        for i, _ in batch:
            c = columns[i]
            copies.append(with_column(X, c, X[c].iloc[rng.permutation(n)].set_axis(X.index)))
        pred = blend(pd.concat(copies, ignore_index=True))
        for j, (i, k) in enumerate(batch):
            out[i, k] = score(pred[j * n : (j + 1) * n])
    return out


def _score(
    metric: Metric, y: np.ndarray, pred: np.ndarray, ref: Any = None, rule: Rule | None = None
) -> float:
    """``metric`` of ``pred`` (its labels under ``rule`` for a label metric); NaN where
    it is undefined."""
    try:
        return metric(y, ruled(pred, rule) if metric.labels else pred, ref)
    except ValueError:  # e.g. ROC AUC on rows of one class
        return float("nan")


def _prior(predictor: Predictor, n: int) -> np.ndarray | None:
    """The prior baseline's predictions: training class shares, or the training mean."""
    training = predictor.manifest.get("training") or {}
    if predictor.schema.task.is_classification and training.get("class_counts"):
        counts = np.asarray(training["class_counts"], dtype=float)
        return np.tile(counts / counts.sum(), (n, 1))
    if "mean" in training:
        return np.full(n, float(training["mean"]))
    return None


def _evaluate_series(predictor: Predictor, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A price predictor on a price table: a forecast from every origin that has a full
    window and a known outcome ``horizon`` steps later, scored by every metric of the
    recipe (those against the random walk included) beside the random walk itself."""
    from automl_fin.data._metrics import Reference, expand_each, get_metric
    from automl_fin.data._timeseries import RETURN_TARGET, supervise

    schema = predictor.schema
    time, entity, cfg, whole = schema.series_parts()
    checked = schema.check(frame, source)
    schema.check_spacing(checked, source)
    rows = supervise(checked, time=time, entity=entity, cfg=cfg, source=source,
                     whole_ids=whole, fixed=True)  # fmt: skip
    y = rows.frame[RETURN_TARGET].to_numpy(dtype=float)
    if entity:
        predictor._warn_new_series(rows.frame, source)
    pred = predictor._blend(rows.frame[schema.features])
    scale = rows.scale
    mean = float((predictor.manifest.get("training") or {}).get("mean", 0.0))
    walk = scale.to_report(np.zeros(len(y)))
    ref = Reference(naive=walk, mean=scale.to_report(np.full(len(y), mean)))
    truth = scale.to_report(y)
    m = predictor.manifest
    extra = (m.get("recipe") or {}).get("metrics", [])
    names = [
        m["metric"]["name"],
        *(e for _, e in expand_each(extra, []) if e != m["metric"]["name"]),
    ]
    out = []
    for name in names:
        metric = get_metric(name, schema.task)
        out.append({
            "metric": name,
            "direction": metric.direction,
            "predictor": _score(metric, truth, scale.to_report(pred), ref),
            "random_walk": _score(metric, truth, walk, ref),
        })  # fmt: skip
    until = (m.get("training") or {}).get("until")  # the last origin it was trained on
    learnt = 0 if until is None else int((naive_times(rows.times) <= time_bound(until)).sum())
    when = f"are forecasts from origins it was trained on (up to {stamp_text(until)})"
    warn_seen(learnt, len(y), source, when)
    table = pd.DataFrame(out).set_index("metric")
    table.attrs["rows"] = len(y)
    table.attrs["seen"] = learnt
    first, last = naive_times(rows.times).min(), naive_times(rows.times).max()
    table.attrs["origins"] = (str(first), str(last))  # a date as pandas prints it, or a number
    return table


def refuse_series(predictor: Predictor, what: str) -> None:
    if predictor.schema.series is not None:
        raise ArtifactError(
            f"{what}: a price predictor's inputs are computed from each series' window, "
            "not given as columns; evaluate scores its forecasts from every origin"
        )
