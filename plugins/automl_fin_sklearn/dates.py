"""The ``datetime_parts`` step: date columns to year, month, day of week, day of year."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from automl_fin import date_format
from automl_fin_sklearn.preprocessors import _date_parts

__all__ = ["PARTS", "DateParts"]

PARTS = ("year", "month", "day_of_week", "day_of_year")


class DateParts(TransformerMixin, BaseEstimator):
    """Each date column read with the one format that reads it in the training rows
    (``formats_``, :func:`automl_fin.date_format`), the same on new rows: day-first
    dates are never read month first where the day is 12 or less."""

    def fit(self, X: Any, y: Any = None) -> DateParts:
        frame = pd.DataFrame(X)
        self.formats_ = [date_format(frame[c]) for c in frame.columns]
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        return _date_parts(X, self.formats_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{c}_{part}" for c in names for part in PARTS], dtype=object)
