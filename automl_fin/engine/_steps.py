"""The engine's pipelines: scikit-learn's ``Pipeline``, fitted once its own fit ran.

scikit-learn judges whether a pipeline is fitted by its last step's attributes ending
in ``_``; a plugin's stateless step (a ``fit`` that returns ``self``: a signed log, a
clip at fixed bounds) has none, so every trial with it in a preprocessing chain failed
at predict ("NotFittedError: This Pipeline instance is not fitted yet"), blamed on the
model. Imported when a pipeline is built (scikit-learn is not imported before).
"""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

__all__ = ["Steps"]


class Steps(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` that is fitted once ``fit`` or
    ``fit_transform`` ran on it (or, its steps fitted one by one, as scikit-learn
    judges)."""

    def fit(self, X: Any, y: Any = None, **params: Any) -> Steps:
        super().fit(X, y, **params)
        self.fitted_ = True
        return self

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        out = super().fit_transform(X, y, **params)
        self.fitted_ = True
        return out

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "fitted_", False)) or super().__sklearn_is_fitted__()
