"""Where studies live: Optuna RDB storage URLs and the run folder beside them.

Default: ``sqlite:///automl_fin_runs/automl_fin.db``; out-of-fold predictions and other
files of a study go to ``<runs_dir>/<study name>/``. A PostgreSQL URL
(``postgresql://user@host/db``) lets several machines share one search. Running trials
send heartbeats to the storage, so that a trial whose process died is failed as stale.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from automl_fin.errors import StorageError

if TYPE_CHECKING:
    import numpy as np
    import optuna

__all__ = ["DEFAULT_RUNS_DIR", "atomic_save_npy", "default_url", "open_storage"]

DEFAULT_RUNS_DIR = "automl_fin_runs"
MEMORY = ":memory:"
HEARTBEAT_ENV = "AUTOML_FIN_HEARTBEAT"  # seconds between a running trial's heartbeats
HEARTBEAT_S = 10
GRACE_BEATS = 3  # a RUNNING trial whose heartbeat is older than 3 beats is failed as stale


def heartbeat_seconds() -> int:
    """Seconds between heartbeats of running trials (``AUTOML_FIN_HEARTBEAT``, default
    10): a trial whose process died is failed after three missed beats."""
    value = os.environ.get(HEARTBEAT_ENV, "")
    try:
        return max(1, int(value)) if value else HEARTBEAT_S
    except ValueError:
        raise StorageError(f"{HEARTBEAT_ENV}={value!r} is not a whole number of seconds") from None


def default_url(runs_dir: str | Path = DEFAULT_RUNS_DIR) -> str:
    """The SQLite URL of the default storage inside ``runs_dir``."""
    return f"sqlite:///{Path(runs_dir) / 'automl_fin.db'}"


def open_storage(url: str, *, create: bool = True) -> optuna.storages.BaseStorage:
    """Open the storage at ``url``; ``:memory:`` keeps it in memory.

    With ``create=False`` a SQLite file that does not exist is an error instead of being
    created empty (readers such as the leaderboard must not leave files behind).
    """
    import optuna
    import sqlalchemy.exc

    if url == MEMORY:
        return optuna.storages.InMemoryStorage()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        raise StorageError(
            f"storage '{url}' is not a database URL; use e.g. sqlite:///runs.db or "
            "postgresql://user@host/db"
        )
    if scheme.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            if not create and not Path(path).is_file():
                raise StorageError(
                    f"no storage at {path}: run `automl-fin run` first, or pass --storage URL "
                    "(or --runs-dir DIR) of an existing one"
                )
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    interval = heartbeat_seconds()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=_engine_kwargs(scheme),
                heartbeat_interval=interval,
                grace_period=GRACE_BEATS * interval,
            )
    except (sqlalchemy.exc.ArgumentError, ModuleNotFoundError, ValueError) as exc:
        raise StorageError(f"storage '{_redact(url)}' is malformed: {_short(exc)}") from None
    except sqlalchemy.exc.OperationalError as exc:
        raise StorageError(f"storage '{_redact(url)}' is unreachable: {_short(exc)}") from None


def _engine_kwargs(scheme: str) -> dict[str, object]:
    if scheme.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).split(" (Background on this error at:")[0]
    return text[:300]


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically: temp file, fsync, rename."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
