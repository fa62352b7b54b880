"""The plugin contract: every hook a plugin may implement.

A plugin is any importable module or object published under the setuptools entry-point
group ``automl_fin``::

    [project.entry-points.automl_fin]
    my_models = "my_package.plugin"

and implementing one or more of the hooks below, marked with
:data:`automl_fin.hookimpl`. Registration hooks receive a ``register`` callback (the
``llm``/``datasette`` style), so a plugin calls it once per thing it offers and never
builds lists. The core calls each hook once per plugin when the registry is built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from automl_fin.plugin._specs import ModelSpec, PreprocessorSpec

PROJECT = "automl_fin"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------
# Registration hooks: called once, when the registry is built.
# ---------------------------------------------------------------------------


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Offer models to the search.

    Call ``register(spec)`` once per :class:`automl_fin.ModelSpec`. A spec's ``name``
    must be unique across all installed plugins: a second plugin registering the same
    name is skipped, whole, with one warning naming both providers (the first keeps it;
    automl-fin's own plugins load first). A hook that raises, or calls ``sys.exit()``,
    skips its plugin the same way.

    :param register: callback taking one :class:`~automl_fin.ModelSpec`.

    Example::

        @hookimpl
        def register_models(register):
            register(ModelSpec(name="knn", tasks={Task.BINARY}, build=build_knn,
                               space={"n_neighbors": Int(3, 50, log=True)}))
    """


@hookspec
def register_preprocessors(register: Callable[[PreprocessorSpec], None]) -> None:
    """Offer preprocessing steps to the search.

    Call ``register(spec)`` once per :class:`automl_fin.PreprocessorSpec`. The spec
    says which column kinds it transforms and which slot of the preprocessing chain
    (impute, encode, scale, vectorize) it fills; the search chooses one registered
    preprocessor per slot and column kind in every trial. Names share one namespace
    with other preprocessors and must be unique.

    :param register: callback taking one :class:`~automl_fin.PreprocessorSpec`.
    """


@hookspec
def register_recipes(register: Callable[[Path | Traversable], None]) -> None:
    """Ship recipes with a plugin.

    Call ``register(path)`` with a recipe YAML file, or a directory whose ``*.yaml``
    files are all recipes (``importlib.resources.files(__package__) / "recipes"`` works
    for package data). A recipe's name is its file stem; it must be unique across
    plugins. Recipes may only name registered models and preprocessors.

    :param register: callback taking a path (or an ``importlib.resources`` Traversable).
    """
