"""A text column's preprocessing applied once per distinct text.

At prediction a text column's chain (TF-IDF, sentence embeddings, ...) maps each row's
text alone, so rows with the same text get the same output. Some inputs repeat texts
many times: explaining one row builds hundreds of hybrid rows whose text is the row's
own or one of a few background rows' (a report on 1,200 texts of 80,000 characters
spent 47 of its 71 s re-reading them), and news tables repeat their headlines.
:class:`EachDistinct` transforms each distinct text once and repeats its output rows.
Fitting is left as it is: document frequencies count every row. A missing text is an
empty document, at fitting and at prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

__all__ = ["EachDistinct"]

# repeated texts below this share of the rows are not worth regrouping
REPEATS_WORTH_IT = 0.25


class EachDistinct(TransformerMixin, BaseEstimator):
    """``chain`` (a transformer of one column of texts) fitted as it is, and applied to
    each distinct text of a column once at ``transform``."""

    def __init__(self, chain: Any) -> None:
        self.chain = chain

    def fit(self, X: Any, y: Any = None) -> EachDistinct:
        """Fit a clone of ``chain`` on every row (duplicates included)."""
        self.chain_ = clone(self.chain).fit(_texts(X), y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Fit a clone of ``chain`` on every row and transform them as it does."""
        self.chain_ = clone(self.chain)
        return self.chain_.fit_transform(_texts(X), y)

    def transform(self, X: Any) -> Any:
        """The fitted chain's output for ``X``, computed once per distinct text and
        repeated for the rows that share it."""
        import pandas as pd

        X = _texts(X)
        values = X if isinstance(X, pd.Series) else pd.Series(np.asarray(X, dtype=object).ravel())
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        if len(distinct) > (1 - REPEATS_WORTH_IT) * len(values):
            return self.chain_.transform(X)
        once = pd.Series(np.asarray(distinct, dtype=object), name=values.name, dtype=values.dtype)
        out = self.chain_.transform(once)
        if isinstance(out, np.ndarray):
            return out[codes]
        if hasattr(out, "tocsr"):  # scipy sparse
            return out.tocsr()[codes]
        return self.chain_.transform(X)  # another container: not regrouped

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The fitted chain's output names."""
        return self.chain_.get_feature_names_out(input_features)


def _texts(X: Any) -> Any:
    """``X`` with a missing text as an empty document: a CSV's empty cell is NaN, which
    scikit-learn's vectorisers refuse (``np.nan is an invalid document``): one blank
    cell failed every TF-IDF trial of a search, and a new row without text its
    prediction."""
    import pandas as pd

    if not isinstance(X, pd.Series | pd.DataFrame):
        X = pd.Series(np.asarray(X, dtype=object).ravel())
    missing = X.isna()
    return X.mask(missing, "") if missing.to_numpy().any() else X
