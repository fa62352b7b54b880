"""The core's own plugin: registers the recipes in the top-level ``recipes/`` folder.

It goes through the same hook as any plugin; only its registration is direct (it is
part of the core distribution), as pytest does with its built-in plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from automl_fin.plugin._hookspecs import hookimpl


@hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    register(files("automl_fin._recipes"))
