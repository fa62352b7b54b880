"""User-facing errors. Each one renders as a single line that says what to do.

The CLI prints ``automl-fin: error: <message>`` for these (no traceback unless
``--debug``); any other exception is a bug in automl_fin or in a plugin.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "AutomlFinError",
    "BudgetStop",
    "DataError",
    "PluginError",
    "Pruned",
    "RecipeError",
    "StorageError",
    "Terminated",
]


class AutomlFinError(Exception):
    """Base class of the errors a user can act on."""


class RecipeError(AutomlFinError, ValueError):
    """A recipe is missing, unreadable or invalid; the message names file and field."""

    def __init__(self, source: str, field: str | None, message: str) -> None:
        self.source = source
        self.field = field
        self.detail = message  # what is wrong, without where
        where = f"{source}: field '{field}'" if field else source
        super().__init__(f"{where}: {message}")


class DataError(AutomlFinError, ValueError):
    """The data cannot be used as the recipe asks; the message names file and column."""


class PluginError(AutomlFinError):
    """Plugins conflict or a spec is invalid; the message names the providers."""


class StorageError(AutomlFinError):
    """The Optuna storage URL is malformed or unreachable, or a study does not fit."""


class ArtifactError(AutomlFinError):
    """A saved predictor is missing, changed (sha256 mismatch) or unreadable."""


class Pruned(Exception):
    """Raised by :meth:`Monitor.report` when the pruner stops a trial; let it propagate."""


class BudgetStop(Pruned):
    """Raised by :meth:`Monitor.check` when the search's time budget ends during the
    fit and the fold may keep what was fitted so far (the trial's last fold to fit, or
    on a refit the rounds its trial reached). A model that can stop where it is (a
    boosting loop) catches it and returns as after early stopping, at its best round so
    far; the fold is then scored as fitted. Any other model lets it propagate: it is a
    :class:`Pruned`, and the trial is cut as before. ``keep``: on a refit, the steps
    its trial's fit kept; a model that fitted more before it could check (a batch of
    trees) drops the rest."""

    def __init__(self, message: str, keep: float | None = None) -> None:
        super().__init__(message)
        self.keep = keep


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``docker stop``, a batch scheduler's end of job), raised by the
    command line as Ctrl-C is: the running trial is failed as interrupted and not
    counted, the storage left whole, and the command says how to resume. ``received``:
    whether this process got one (a library that handles the signal itself, PyTorch
    Lightning, raises its own exception in its place)."""

    received = False
