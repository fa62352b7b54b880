"""automl_fin: plugin-based AutoML for finance.

The public API is small. Plugin authors need :data:`hookimpl`, the spec classes and
the space types; users run :func:`search`, query a :class:`Leaderboard`, :func:`load`
a saved :class:`Predictor`, or fit :class:`AutoFinClassifier` / :class:`AutoFinRegressor`.
Importing this package loads neither Optuna, scikit-learn, XGBoost nor torch: the heavy
parts are imported on first use.

The code is grouped by concern (see docs/architecture.md): ``plugin`` (the contract:
hook specs, specs, spaces, discovery), ``data`` (tables to datasets, folds, metrics),
``engine`` (recipes, problems, trials, sampling, the shared budget, the search),
``storage`` (Optuna's storage, run folders) and ``results`` (leaderboard, ensemble,
final test, predictors, report). Their modules are internal (``_name``); what is public
is re-exported here, plus :mod:`automl_fin.testing` (the plugin contract test),
:mod:`automl_fin.datasets`, :mod:`automl_fin.estimators` and :mod:`automl_fin.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl_fin.errors import (
    ArtifactError,
    AutomlFinError,
    BudgetStop,
    DataError,
    PluginError,
    Pruned,
    RecipeError,
    StorageError,
)
from automl_fin.plugin._budget import check_budget
from automl_fin.plugin._hookspecs import hookimpl
from automl_fin.plugin._space import Categorical, Float, Int
from automl_fin.plugin._specs import (
    HOLDOUT,
    BuildContext,
    ColumnKind,
    InputKind,
    ModelSpec,
    Monitor,
    PreprocessorSpec,
    Provider,
    Slot,
    Task,
    holdout,
    monotone_vector,
    validation_split,
)

if TYPE_CHECKING:
    from automl_fin.data._dates import date_format, parse_dates
    from automl_fin.engine._batch import Batch, load_batch, run_batch
    from automl_fin.engine._recipes import Recipe, load_recipe
    from automl_fin.engine._search import SearchResult, search
    from automl_fin.engine._trial_record import TrialRecord
    from automl_fin.estimators import AutoFinClassifier, AutoFinRegressor
    from automl_fin.plugin._registry import PluginWarning, Registry, get_registry
    from automl_fin.results._artifacts import VersionWarning, load
    from automl_fin.results._explain import Explanation
    from automl_fin.results._leaderboard import Leaderboard
    from automl_fin.results._predictor import Predictor
    from automl_fin.results._seen import SeenWarning
    from automl_fin.results._stability import ShiftWarning

__version__ = "0.1.0"

__all__ = [
    "HOLDOUT",
    "ArtifactError",
    "AutoFinClassifier",
    "AutoFinRegressor",
    "AutomlFinError",
    "Batch",
    "BudgetStop",
    "BuildContext",
    "Categorical",
    "ColumnKind",
    "DataError",
    "Explanation",
    "Float",
    "InputKind",
    "Int",
    "Leaderboard",
    "ModelSpec",
    "Monitor",
    "PluginError",
    "PluginWarning",
    "Predictor",
    "PreprocessorSpec",
    "Provider",
    "Pruned",
    "Recipe",
    "RecipeError",
    "Registry",
    "SearchResult",
    "SeenWarning",
    "ShiftWarning",
    "Slot",
    "StorageError",
    "Task",
    "TrialRecord",
    "VersionWarning",
    "check_budget",
    "date_format",
    "get_registry",
    "holdout",
    "hookimpl",
    "load",
    "load_batch",
    "load_recipe",
    "monotone_vector",
    "parse_dates",
    "run_batch",
    "search",
    "validation_split",
]

_LAZY = {
    "AutoFinClassifier": "automl_fin.estimators",
    "AutoFinRegressor": "automl_fin.estimators",
    "Leaderboard": "automl_fin.results._leaderboard",
    "Predictor": "automl_fin.results._predictor",
    "Explanation": "automl_fin.results._explain",
    "SeenWarning": "automl_fin.results._seen",
    "ShiftWarning": "automl_fin.results._stability",
    "VersionWarning": "automl_fin.results._artifacts",
    "PluginWarning": "automl_fin.plugin._registry",
    "load": "automl_fin.results._artifacts",
    "Recipe": "automl_fin.engine._recipes",
    "load_recipe": "automl_fin.engine._recipes",
    "Registry": "automl_fin.plugin._registry",
    "get_registry": "automl_fin.plugin._registry",
    "SearchResult": "automl_fin.engine._search",
    "search": "automl_fin.engine._search",
    "Batch": "automl_fin.engine._batch",
    "load_batch": "automl_fin.engine._batch",
    "run_batch": "automl_fin.engine._batch",
    "TrialRecord": "automl_fin.engine._trial_record",
    "date_format": "automl_fin.data._dates",
    "parse_dates": "automl_fin.data._dates",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'automl_fin' has no attribute {name!r}")
