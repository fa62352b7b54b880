"""automl_fin: plugin-based AutoML for finance.

The public API is small. Plugin authors need :data:`hookimpl`, the spec classes and
the space types; users run :func:`search`, query a :class:`Leaderboard`, :func:`load`
a saved :class:`Predictor`, or fit :class:`AutoFinClassifier` / :class:`AutoFinRegressor`.
Importing this package loads neither Optuna, scikit-learn, XGBoost nor torch: the heavy
parts are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl_fin.errors import (
    ArtifactError,
    AutomlFinError,
    DataError,
    PluginError,
    Pruned,
    RecipeError,
    StorageError,
)
from automl_fin.hookspecs import hookimpl
from automl_fin.space import Categorical, Float, Int
from automl_fin.specs import (
    BuildContext,
    ColumnKind,
    InputKind,
    ModelSpec,
    Monitor,
    PreprocessorSpec,
    Provider,
    Slot,
    Task,
)

if TYPE_CHECKING:
    from automl_fin.artifacts import load
    from automl_fin.batch import Batch, load_batch, run_batch
    from automl_fin.engine import SearchResult, search
    from automl_fin.estimators import AutoFinClassifier, AutoFinRegressor
    from automl_fin.leaderboard import Leaderboard
    from automl_fin.predictor import Predictor
    from automl_fin.recipes import Recipe, load_recipe
    from automl_fin.registry import Registry, get_registry

__version__ = "0.1.0"

__all__ = [
    "ArtifactError",
    "AutoFinClassifier",
    "AutoFinRegressor",
    "AutomlFinError",
    "Batch",
    "BuildContext",
    "Categorical",
    "ColumnKind",
    "DataError",
    "Float",
    "InputKind",
    "Int",
    "Leaderboard",
    "ModelSpec",
    "Monitor",
    "PluginError",
    "Predictor",
    "PreprocessorSpec",
    "Provider",
    "Pruned",
    "Recipe",
    "RecipeError",
    "Registry",
    "SearchResult",
    "Slot",
    "StorageError",
    "Task",
    "get_registry",
    "hookimpl",
    "load",
    "load_batch",
    "load_recipe",
    "run_batch",
    "search",
]

_LAZY = {
    "AutoFinClassifier": "automl_fin.estimators",
    "AutoFinRegressor": "automl_fin.estimators",
    "Leaderboard": "automl_fin.leaderboard",
    "Predictor": "automl_fin.predictor",
    "load": "automl_fin.artifacts",
    "Recipe": "automl_fin.recipes",
    "load_recipe": "automl_fin.recipes",
    "Registry": "automl_fin.registry",
    "get_registry": "automl_fin.registry",
    "SearchResult": "automl_fin.engine",
    "search": "automl_fin.engine",
    "Batch": "automl_fin.batch",
    "load_batch": "automl_fin.batch",
    "run_batch": "automl_fin.batch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'automl_fin' has no attribute {name!r}")
