"""automl_fin's built-in scikit-learn plugin.

It registers through the ``automl_fin`` entry-point group exactly as a third-party
wheel would, and uses only the public ``automl_fin`` API.
"""

from __future__ import annotations

from collections.abc import Callable

from automl_fin import ModelSpec, PreprocessorSpec, hookimpl
from automl_fin_sklearn.models import MODELS
from automl_fin_sklearn.preprocessors import PREPROCESSORS


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    for spec in MODELS:
        register(spec)


@hookimpl
def register_preprocessors(register: Callable[[PreprocessorSpec], None]) -> None:
    for spec in PREPROCESSORS:
        register(spec)
