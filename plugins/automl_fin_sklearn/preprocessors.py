"""scikit-learn preprocessors: imputation, scaling, categorical encoding, text, dates."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from automl_fin import (
    BuildContext,
    Categorical,
    ColumnKind,
    Int,
    PreprocessorSpec,
    Slot,
    Task,
)


def _median_impute(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.impute import SimpleImputer

    return SimpleImputer(
        strategy="median", add_indicator=p["add_indicator"], keep_empty_features=True
    )


def _most_frequent_impute(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy="most_frequent", keep_empty_features=True)


def _standard_scale(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def _onehot(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    """Dense one-hot columns, at most 100 a column and a bounded width in all
    (:mod:`automl_fin_sklearn.onehot`): nycflights13's 4,000 tail numbers made 210,000 x
    4,000 floats (6.7 GB) and a logistic regression that did not finish one fit in 60 s;
    capped, 227 columns, it fits in 7 s (ROC AUC 0.689; 30 levels: 87 columns, 3 s,
    0.689)."""
    from automl_fin_sklearn.onehot import OneHot

    return OneHot(min_frequency=p["min_frequency"])


def _ordinal(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.preprocessing import OrdinalEncoder

    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )


def _target_encode(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import TargetEncoder

    # a multiclass recipe on a two-class table is binary to the encoder (one column)
    two = ctx.task is Task.BINARY or (ctx.task is Task.MULTICLASS and ctx.n_classes == 2)
    target_type = "binary" if two else "multiclass" if ctx.task.is_classification else "continuous"
    if ctx.task.is_classification:
        cv: Any = _CrossFit(n_splits=5, shuffle=True, random_state=ctx.seed)
    else:
        cv = KFold(n_splits=5, shuffle=True, random_state=ctx.seed)  # seeded cross-fitting
    return TargetEncoder(target_type=target_type, smooth=p["smooth"], cv=cv)


class _CrossFit:
    """The target encoder's seeded, stratified 5-fold cross-fitting, without
    scikit-learn's warning when a class of the rows it is fitted on has fewer than 5
    rows (``n_splits=5``, a number the user's recipe never set): such a class's rows
    fall in fewer folds, the other classes keep all 5 (2 folds for every row would
    encode 100k rows from half of them because of one rare class)."""

    def __init__(self, n_splits: int, shuffle: bool, random_state: int | None) -> None:
        self.n_splits, self.shuffle, self.random_state = n_splits, shuffle, random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def __repr__(self) -> str:  # by value: a clone's copy reads as the same splitter
        return (
            f"_CrossFit(n_splits={self.n_splits}, shuffle={self.shuffle}, "
            f"random_state={self.random_state})"
        )

    def split(self, X: Any, y: Any, groups: Any = None) -> Any:
        import warnings

        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            return list(folds.split(X, y, groups))


# scripts written without spaces between words (Chinese, Japanese, Korean, Thai, Lao,
# Myanmar, Khmer): a run of them is a phrase or a whole sentence, not a word
NO_SPACES = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_WORDS = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
_RUNS = re.compile(r"(?u)\w+")


def words_of(doc: str) -> list[str]:
    """The words of ``doc`` as scikit-learn's default pattern finds them; in a script
    written without spaces, each character and each pair of neighbouring characters
    (a sentence of Chinese was one "word", seen once, so no term survived ``min_df``:
    "After pruning, no terms remain", every trial failed)."""
    if not NO_SPACES.search(doc):
        return _WORDS.findall(doc)
    out: list[str] = []
    for run in _RUNS.findall(doc):
        if not NO_SPACES.search(run):
            out += [run] if len(run) > 1 else []
            continue
        out += list(run) + [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def _tfidf(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(
        ngram_range=(1, p["max_ngram"]),
        min_df=p["min_df"],
        sublinear_tf=p["sublinear_tf"],
        strip_accents="unicode",
        dtype=np.float32,
        tokenizer=words_of,
        token_pattern=None,
    )
    if p.get("analyzer", "word") == "word":
        return words
    from sklearn.pipeline import FeatureUnion

    chars = TfidfVectorizer(  # character n-grams within words: robust to inflection, typos
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2,
        sublinear_tf=p["sublinear_tf"],
        strip_accents="unicode",
        dtype=np.float32,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def _date_parts(values: Any, formats: Sequence[str] | None = None) -> np.ndarray:
    """Year, month, day of week and day of year of each column (-1 where unreadable),
    each column read with its format (:func:`automl_fin.parse_dates`); predictors
    saved before the formats were kept call it without them (value by value)."""
    import pandas as pd

    from automl_fin import parse_dates

    frame = pd.DataFrame(values)
    out = []
    for i, col in enumerate(frame.columns):
        d = parse_dates(frame[col], formats[i] if formats else "mixed")
        out += [d.dt.year, d.dt.month, d.dt.day_of_week, d.dt.day_of_year]
    return np.column_stack([s.to_numpy(dtype=float, na_value=-1.0) for s in out])


def _datetime_parts(p: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_sklearn.dates import DateParts

    return DateParts()


PREPROCESSORS = [
    PreprocessorSpec(
        name="median_impute",
        kinds=frozenset({ColumnKind.NUMERIC}),
        slot=Slot.IMPUTE,
        build=_median_impute,
        space={"add_indicator": Categorical([False, True])},
        description="fill missing numbers with the median (optional missing-indicator)",
    ),
    PreprocessorSpec(
        name="most_frequent_impute",
        kinds=frozenset({ColumnKind.CATEGORICAL}),
        slot=Slot.IMPUTE,
        build=_most_frequent_impute,
        description="fill missing categories with the most frequent one",
    ),
    PreprocessorSpec(
        name="standard_scale",
        kinds=frozenset({ColumnKind.NUMERIC}),
        slot=Slot.SCALE,
        build=_standard_scale,
        description="zero mean, unit variance",
    ),
    PreprocessorSpec(
        name="onehot",
        kinds=frozenset({ColumnKind.CATEGORICAL}),
        slot=Slot.ENCODE,
        build=_onehot,
        space={"min_frequency": Int(1, 20, log=True)},
        description="one-hot encoding; rare levels pooled, at most 100 a column, 2,000 in all",
    ),
    PreprocessorSpec(
        name="ordinal",
        kinds=frozenset({ColumnKind.CATEGORICAL}),
        slot=Slot.ENCODE,
        build=_ordinal,
        description="integer codes (for trees)",
    ),
    PreprocessorSpec(
        name="target_encode",
        kinds=frozenset({ColumnKind.CATEGORICAL}),
        slot=Slot.ENCODE,
        build=_target_encode,
        space={"smooth": Categorical(["auto", 1.0, 10.0, 100.0])},
        description="cross-fitted target encoding",
    ),
    PreprocessorSpec(
        name="datetime_parts",
        kinds=frozenset({ColumnKind.DATETIME}),
        slot=Slot.ENCODE,
        build=_datetime_parts,
        description="year, month, day of week and day of year",
    ),
    PreprocessorSpec(
        name="tfidf",
        kinds=frozenset({ColumnKind.TEXT}),
        slot=Slot.VECTORIZE,
        build=_tfidf,
        space={
            "analyzer": Categorical(["word", "word+char"]),
            "max_ngram": Int(1, 2),
            "min_df": Int(1, 5),
            "sublinear_tf": Categorical([True, False]),
        },
        defaults={"analyzer": "word", "max_ngram": 2, "min_df": 2, "sublinear_tf": True},
        description="TF-IDF of word n-grams, optionally with character 2-5-grams",
    ),
]
