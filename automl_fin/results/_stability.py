"""Population stability: how far new rows have drifted from the rows a predictor learnt.

When a predictor is saved, each feature column and the predictor's score are summarised
on the training rows as shares of bins (``stability.json`` in the predictor folder):

- numeric: ten bins cut at the training deciles (fewer when values repeat), plus one
  bin for missing values;
- categorical: the 20 most frequent training values, one bin for every other value
  (including values training never saw) and one for missing values;
- the score: the positive class's probability (binary), the predicted class
  (multiclass) or the predicted value (regression), on the training rows (out of
  fold); its decile bins no narrower than a hundredth of the range of its middle 98 %
  (a probability of a rare event keeps bins finer than 0.01).

Text and datetime columns are not measured (a date drifts forward by design; text
drift needs a model of its own); price forecasts have no check (prices drift by design).
A text column keeps its training words instead (the :data:`WORDS` most frequent, in
``words``): :func:`unseen_words` counts new texts none of whose words a training text
held, which a word-count model (TF-IDF) reads as an empty text.

The population stability index of a column, over the bins ``i``, is
``PSI = sum((new_i - ref_i) * ln(new_i / ref_i))`` with every share floored at
``1e-4`` (an empty bin would make it infinite). The industry reads it as: below 0.1
stable, 0.1 to 0.25 a moderate shift, above 0.25 a significant shift (the model's
inputs no longer look like its training data: re-validate before trusting it).
With fewer than ``MIN_ROWS`` new rows, sampling noise alone exceeds these lines, so
the check is not made.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl_fin.data._tidy import as_labels
from automl_fin.plugin._specs import ColumnKind, Task
from automl_fin.results._decision import decide
from automl_fin.results._seen import written_as

if TYPE_CHECKING:
    from automl_fin.results._decision import Rule

__all__ = [
    "FILE",
    "MIN_ROWS",
    "SHIFT",
    "ShiftWarning",
    "malformed",
    "psi",
    "reference",
    "score_of",
    "stability_table",
    "unseen",
    "unseen_words",
    "warn_shift",
]

FILE = "stability.json"
SHIFT = 0.25  # "significant shift"
MODERATE = 0.1
MIN_ROWS = 100
TOP = 20  # categorical values kept by name
KNOWN = 1000  # a categorical column with at most this many values keeps them all
FLOOR = 1e-4
SCORE = "(score)"  # the score's row in a stability table
WORDS = 20_000  # a text column's most frequent training words kept (about 200 kB of JSON)
HEAD = 64  # characters of a new text read first for a known word


class ShiftWarning(UserWarning):
    """New rows differ from the training rows beyond the significant-shift line (PSI)."""


# a categorical score's reference key: its labels are those predict writes (the predictor's
# decision rule); without it, the arg-max's (a reference saved before session 47)
DECIDED = "decided"


def reference(
    X: pd.DataFrame,
    kinds: Mapping[str, ColumnKind],
    score: np.ndarray | None,
) -> dict[str, Any]:
    """The training rows' bins and shares of each measured column and of the score
    (JSON-ready). The score's bins are no narrower than a hundredth of the range of its
    middle 98 %: its deciles are of out-of-fold scores,
    and a bag's average is steadier than one fold model, so deciles 0.0003 apart (a
    boosted model's probabilities near 1 on AER CreditCard) put every new row in one
    bin, a PSI of 3.6 on rows drawn like the training rows, on a difference of scores
    that no decision sees."""
    columns: dict[str, Any] = {}
    for name in X.columns:
        kind = ColumnKind(kinds[str(name)])
        if kind == ColumnKind.NUMERIC:
            columns[str(name)] = _numeric_reference(X[name])
        elif kind == ColumnKind.CATEGORICAL:
            columns[str(name)] = _categorical_reference(X[name])
    out: dict[str, Any] = {"rows": len(X), "columns": columns}
    texts = [str(n) for n in X.columns if ColumnKind(kinds[str(n)]) == ColumnKind.TEXT]
    if texts:
        out["words"] = {name: _common_words(X[name]) for name in texts}
    if score is not None:
        out["score"] = (
            _categorical_reference(pd.Series(score))
            if score.dtype.kind in "OUSb" or pd.api.types.is_string_dtype(score)
            else _numeric_reference(pd.Series(score), resolution=None)
        )
        if out["score"]["kind"] == "categorical":  # labels as predict writes them
            out["score"][DECIDED] = True
    return out


def score_rule(ref: Mapping[str, Any], rule: Rule | None) -> Rule | None:
    """The decision rule new rows' labels are scored by, as ``ref``'s were: the
    predictor's ``rule``, or ``None`` (the arg-max) for a reference saved before
    session 47, whose labels were the arg-max's."""
    return rule if (ref.get("score") or {}).get(DECIDED) else None


def malformed(ref: Any) -> str | None:
    """Why ``ref`` is not what :func:`reference` writes (``None``: it is)."""
    if not isinstance(ref, dict) or not isinstance(ref.get("columns"), dict):
        return "no 'columns' mapping"
    named = {**ref["columns"], **({SCORE: ref["score"]} if "score" in ref else {})}
    for name, bins in named.items():
        kind = bins.get("kind") if isinstance(bins, dict) else None
        named_by = (
            {"numeric": "edges", "categorical": "values"}.get(kind)
            if isinstance(kind, str)
            else None
        )
        shares, cuts = (bins.get("shares"), bins.get(named_by)) if named_by else (None, None)
        if not (isinstance(shares, list) and isinstance(cuts, list)):
            return f"column '{name}': not numeric or categorical bins"
        if len(shares) != len(cuts) + 2 or (
            kind == "categorical" and len(set(map(str, cuts))) != len(cuts)
        ):
            return f"column '{name}': its bins and shares do not match"
    words = ref.get("words", {})
    if not isinstance(words, dict) or not all(isinstance(w, list) for w in words.values()):
        return "'words' is not a list of words for each text column"
    return None


def score_of(raw: np.ndarray, task: Task, classes: list[Any], rule: Rule | None) -> np.ndarray:
    """The score whose stability is tracked: P(positive) for a binary task, the predicted
    class for a multiclass one (as text; the class ``predict`` writes, by the predictor's
    decision ``rule``), the value for regression."""
    if task == Task.BINARY:
        return np.asarray(raw[:, 1], dtype=float)
    if task.is_classification:
        return np.asarray([str(c) for c in classes], dtype=object)[decide(raw, rule)]
    return np.asarray(raw, dtype=float)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """The population stability index of two vectors of bin shares."""
    e = np.maximum(np.asarray(expected, dtype=float), FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def stability_table(
    ref: Mapping[str, Any], X: pd.DataFrame, score: np.ndarray | None
) -> pd.DataFrame:
    """PSI of the score and of each measured column of ``X`` against ``ref``: columns
    ``column`` (``(score)`` for the score), ``kind``, ``psi``, ``shift`` (stable /
    moderate / significant), the score first, then the columns from the most shifted."""
    rows = []
    if score is not None and "score" in ref:
        rows.append((SCORE, "score", _psi_of(ref["score"], pd.Series(score))))
    for name, bins in ref.get("columns", {}).items():
        if name in X.columns:
            rows.append((name, bins["kind"], _psi_of(bins, X[name])))
    table = pd.DataFrame(rows, columns=["column", "kind", "psi"])
    table["shift"] = np.select(
        [table["psi"] > SHIFT, table["psi"] > MODERATE], ["significant", "moderate"], "stable"
    )
    first = table["column"] == SCORE
    rest = table[~first].sort_values("psi", ascending=False, kind="stable")
    return pd.concat([table[first], rest], ignore_index=True)


def warn_shift(table: pd.DataFrame, source: str, rows: int) -> None:
    """One :class:`ShiftWarning` naming the columns (and the score) beyond ``SHIFT``."""
    shifted = table[table["psi"] > SHIFT]
    if shifted.empty:
        return
    pairs = zip(shifted["column"], shifted["psi"], strict=True)
    worst = ", ".join(f"{c} {v:.2f}" for c, v in pairs)
    warnings.warn(
        f"{source}: the {rows} rows differ from the training rows beyond PSI {SHIFT} (a "
        f"significant shift) in {len(shifted)} of {len(table)} measured: {worst[:300]}; "
        "re-validate the predictor on labelled recent rows before relying on it",
        ShiftWarning,
        stacklevel=4,
    )


def _numeric_reference(col: pd.Series, resolution: float | None = 0.0) -> dict[str, Any]:
    """Bins at the deciles; with a ``resolution`` (``None``: a hundredth of the middle
    98 %'s range), an edge closer than it to the one before is left out."""
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    seen = values[np.isfinite(values)]
    edges = np.unique(np.quantile(seen, np.linspace(0.1, 0.9, 9))) if len(seen) else np.array([])
    if resolution is None and len(seen):
        low, high = np.quantile(seen, [0.01, 0.99])
        resolution = (high - low) / 100
    if resolution and len(edges):
        kept = [edges[0]]
        for edge in edges[1:]:
            if edge - kept[-1] >= resolution:
                kept.append(edge)
        edges = np.asarray(kept)
    out = {"kind": "numeric", "edges": edges.tolist(), "shares": _numeric_shares(values, edges)}
    if len(seen):  # least and greatest (deciles of 0 and 1 hid a count's 14: True read as 1)
        out["range"] = [float(seen.min()), float(seen.max())]
    return out


def _numeric_shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    """Shares of the bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)`` and missing."""
    missing = ~np.isfinite(values)
    bins = np.searchsorted(edges, values[~missing], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return (counts / max(len(values), 1)).tolist()


def _categorical_reference(col: pd.Series) -> dict[str, Any]:
    text = as_labels(col)
    counts = text.value_counts(dropna=True)
    values = [str(v) for v in counts.index[:TOP]]
    out = {"kind": "categorical", "values": values, "shares": _categorical_shares(text, values)}
    if len(counts) <= KNOWN:  # every value, for the unseen ones of new rows (unseen())
        out["known"] = sorted(map(str, counts.index))
    return out


def unseen(ref: Mapping[str, Any], X: pd.DataFrame) -> str:
    """The values of new rows ``X`` that no training row of their categorical column
    held (where the reference lists them all), in words: ``'owner': 'maybe' (3 rows)``,
    with the training spelling of a value that differs only in case or outer spaces;
    ``""`` for none."""
    said = []
    for name, bins in ref.get("columns", {}).items():
        known = bins.get("known") if isinstance(bins, dict) else None
        if not isinstance(known, list) or name not in X:
            continue
        text = as_labels(X[name]).dropna()
        new = text[~text.isin(known)].value_counts()
        if new.empty:
            continue
        written = written_as(known)
        shown = []
        for value, n in list(new.items())[:3]:
            like = written(value)
            rows = f"{n} row{'s' if n != 1 else ''}"
            shown.append(f"{value!r} ({rows}{f', training wrote {like!r}' if like else ''})")
        more = f" and {len(new) - 3} more" if len(new) > 3 else ""
        said.append(f"'{name}': {', '.join(shown)}{more}")
    return "; ".join(said)


def unseen_words(ref: Mapping[str, Any], X: pd.DataFrame) -> str:
    """The new texts of ``X`` that hold words, none of them a training text's (of the
    :data:`WORDS` most frequent the reference keeps), in words: ``'headline': 3 rows
    (the first: index 7)``; ``""`` for none. A word-count model (TF-IDF) reads such a
    text as an empty one: every one of them gets the empty text's prediction. A text's
    first :data:`HEAD` characters are read first, and the whole text only where they
    hold no known word (100,000 reviews of 73 words: 1.3 to 2 s; read whole, 8 to
    12 s, as long as the predictions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    said = []
    for name, known in ref.get("words", {}).items():
        if name not in X or not known:
            continue
        text = _texts(X[name])
        value_set = pa.array(known, type=pa.large_string())
        cut = pc.greater(pc.utf8_length(text), HEAD)
        head = pc.utf8_slice_codeunits(text, 0, HEAD)  # (less a word the cut split)
        head = pc.if_else(cut, pc.replace_substring_regex(head, r"\S+$", ""), head)
        lost = ~_heard(head, value_set)[1]
        if lost.any():  # (the rest of these texts)
            some, heard = _heard(text.filter(pa.array(lost)), value_set)
            lost[lost] = some & ~heard
        if lost.any():
            n = int(lost.sum())
            first = X.index[int(np.argmax(lost))]
            said.append(f"'{name}': {n} row{'s' * (n != 1)} (the first: index {first})")
    return "; ".join(said)


def _heard(text: Any, known: Any) -> tuple[np.ndarray, np.ndarray]:
    """For each text of the Arrow array ``text``: whether it holds a word, and whether
    it holds one of ``known``."""
    import pyarrow.compute as pc

    words, rows = _words(text)
    hit = pc.is_in(words, value_set=known).to_numpy(zero_copy_only=False)
    some = np.bincount(rows, minlength=len(text)) > 0
    return some, np.bincount(rows, weights=hit, minlength=len(text)) > 0


def _common_words(col: pd.Series) -> list[str]:
    """The :data:`WORDS` most frequent words of the texts of ``col``."""
    import pyarrow.compute as pc

    counts = pc.value_counts(_words(_texts(col))[0])
    order = np.argsort(-counts.field("counts").to_numpy(), kind="stable")[:WORDS]
    return counts.field("values").take(order).to_pylist()


def _texts(col: pd.Series) -> Any:
    """``col`` as an Arrow array of texts, a missing one empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pa.array(col.astype("str")).cast(pa.large_string()), "")


def _words(text: Any) -> tuple[Any, np.ndarray]:
    """The words of the Arrow array of texts ``text`` (lower case, two letters or
    digits or more, as scikit-learn's ``TfidfVectorizer`` reads them) as one Arrow
    array, and the position of the text each comes from. Arrow's compute functions:
    Python's ``re`` over 200,000 texts of 20 words took 12 s, these 4 s."""
    import pyarrow.compute as pc

    spaced = pc.replace_substring_regex(pc.utf8_lower(text), r"[^\p{L}\p{N}_]+", " ")
    lists = pc.utf8_split_whitespace(spaced)
    words, rows = pc.list_flatten(lists), pc.list_parent_indices(lists)
    long = pc.greater_equal(pc.utf8_length(words), 2)
    return pc.filter(words, long), pc.filter(rows, long).to_numpy()


def _categorical_shares(text: pd.Series, values: list[str]) -> list[float]:
    """Shares of each named value, every other value, and missing."""
    # a value not named is "other" (pandas 4 refuses it in Categorical(..., categories))
    named = pd.Index(values).get_indexer(text.astype(object))
    missing = text.isna().to_numpy()
    codes = np.where(missing, len(values) + 1, np.where(named < 0, len(values), named))
    counts = np.bincount(codes, minlength=len(values) + 2).astype(float)
    return (counts / max(len(text), 1)).tolist()


def _psi_of(bins: Mapping[str, Any], col: pd.Series) -> float:
    if bins["kind"] == "numeric":
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        shares = _numeric_shares(values, np.asarray(bins["edges"], dtype=float))
    else:
        shares = _categorical_shares(as_labels(col), list(bins["values"]))
    return psi(bins["shares"], shares)
