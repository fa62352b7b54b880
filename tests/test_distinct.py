"""A text column's chain applied once per distinct text: the same output, less work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from automl_fin import datasets
from automl_fin.engine._distinct import EachDistinct


@pytest.fixture(scope="module")
def texts() -> pd.Series:
    return datasets.load("financial_phrasebank")["text"]


class Counting(TfidfVectorizer):
    """TF-IDF that counts the texts it transforms."""

    seen = 0

    def transform(self, raw_documents):  # type: ignore[no-untyped-def]
        Counting.seen += len(raw_documents)
        return super().transform(raw_documents)


def test_each_distinct_text_is_transformed_once_and_rows_get_its_output(texts) -> None:
    fitted = EachDistinct(Pipeline([("tfidf", Counting(min_df=2))])).fit(texts)
    plain = Counting(min_df=2).fit(texts)
    # fitting counts every row: duplicates weigh in the document frequencies
    assert np.array_equal(fitted.chain_.named_steps["tfidf"].idf_, plain.idf_)
    assert list(fitted.get_feature_names_out()) == list(plain.get_feature_names_out())
    rng = np.random.default_rng(0)
    repeated = texts.iloc[rng.integers(0, 40, 4000)].reset_index(drop=True)  # 40 texts
    Counting.seen = 0
    out = fitted.transform(repeated)
    assert Counting.seen <= 40
    expected = plain.transform(repeated)
    assert (out != expected).nnz == 0 and out.shape == expected.shape
    # distinct texts (PhraseBank has few repeats) go through in one call, as they are
    Counting.seen = 0
    once = fitted.transform(texts)
    assert Counting.seen == len(texts)
    assert (once != plain.transform(texts)).nnz == 0


def _column_transformers(predictor):  # type: ignore[no-untyped-def]
    for member in predictor.members:
        for pipe in getattr(member.pipeline, "pipes", [member.pipeline]):
            yield pipe.named_steps["preprocess"]


def test_a_text_explanation_reads_each_distinct_text_once(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Explaining rows of a text table transforms each row's and background row's text
    once, not every hybrid row's; the contributions are those of the plain chain."""
    import copy

    from automl_fin.engine._search import search

    frame = datasets.load("financial_phrasebank").iloc[:900].copy()
    frame["desk"] = np.where(np.arange(900) % 3 == 0, "wire", "blog")
    result = search(
        "sentiment", data=frame, target="label", trials=3, seed=1, runs_dir=tmp_path,
        storage=":memory:",
        overrides={"models": ["logreg"], "validation.n_splits": 3, "report": False,
                   "ensemble": False, "calibration": ["none"], "enqueue": [],
                   "preprocessors": ["tfidf", "onehot", "most_frequent_impute"]},
    )  # fmt: skip
    wrapped = result.predictor
    assert wrapped is not None
    plain = copy.deepcopy(wrapped)
    fold_models = len(list(_column_transformers(plain)))  # a bag: one a fold
    for prep in _column_transformers(plain):
        assert isinstance(dict((n, t) for n, t, _ in prep.transformers_)["text:0"], EachDistinct)
        prep.transformers_ = [
            (n, t.chain_ if isinstance(t, EachDistinct) else t, c) for n, t, c in prep.transformers_
        ]
    read = []
    transform = TfidfVectorizer.transform  # counted, not replaced

    def counted(self: TfidfVectorizer, docs: pd.Series) -> object:
        read.append(len(docs))
        return transform(self, docs)

    monkeypatch.setattr(TfidfVectorizer, "transform", counted)
    rows = frame.drop(columns="label").iloc[:20]
    explained = wrapped.explain(rows)
    once, read[:] = sum(read), []
    # each fold model reads the rows' texts, the 100 background rows' (their mean margin
    # is the base) and the 16 sampled among them (32 samples)
    assert 20 * fold_models <= once <= (20 + 100 + 16) * fold_models
    again = plain.explain(rows)
    assert sum(read) >= 20 * 32 * 2 * fold_models  # every hybrid row, read again
    pd.testing.assert_frame_equal(explained.contributions, again.contributions, atol=1e-9)
