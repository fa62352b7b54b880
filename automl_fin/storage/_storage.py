"""Where studies live: Optuna RDB storage URLs and the run folder beside them.

Default: ``sqlite:///automl_fin_runs/automl_fin.db``; out-of-fold predictions and other
files of a study go to ``<runs_dir>/<study name>/``. A PostgreSQL URL
(``postgresql://user@host/db``) lets several machines share one search. Running trials
send heartbeats to the storage, so that a trial whose process died is failed as stale.

While a search writes to a SQLite file, the file runs in write-ahead-log mode with
``synchronous=NORMAL``: a commit appends to the log (``<file>-wal``) without waiting for
the disk (0.7 ms instead of 3.4 ms here, and a trial makes dozens), every committed trial
survives a crash of the process, and a power cut can lose the last moments of commits but
never corrupts the file. When the search ends the log is folded back and the file returns
to SQLite's default rollback journal: a finished run is one self-contained file, readable
from a read-only place. On a network filesystem, where the log cannot work, the rollback
journal is kept throughout. (Optuna's JournalStorage was measured as the default and
not chosen: a torn append or a killed writer's lock breaks or stalls it, and it has no
heartbeats; see docs/benchmarks.md.)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from automl_fin.errors import StorageError

if TYPE_CHECKING:
    import numpy as np
    import optuna

__all__ = [
    "DEFAULT_RUNS_DIR",
    "absolute_url",
    "as_url",
    "atomic_save_npy",
    "atomic_write",
    "default_url",
    "open_storage",
    "redact",
    "settle",
    "short_error",
]

DEFAULT_RUNS_DIR = "automl_fin_runs"
MEMORY = ":memory:"
HEARTBEAT_ENV = "AUTOML_FIN_HEARTBEAT"  # seconds between a running trial's heartbeats
HEARTBEAT_S = 10
CREATE_TRIES = 6  # opening a database another process is creating at the same moment
GRACE_BEATS = 3  # a RUNNING trial whose heartbeat is older than 3 beats is failed as stale
# a driver module missing -> the package that installs it
DRIVERS = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "psycopg": "'psycopg[binary]'",
           "pymysql": "pymysql", "pyodbc": "pyodbc",
           "cx_Oracle": "oracledb, and write the URL oracle+oracledb://..."}  # fmt: skip
NETWORK_FILESYSTEMS = ("nfs", "cifs", "smb", "9p", "fuse", "lustre", "gpfs", "ceph", "afs",
                       "glusterfs", "beegfs", "ocfs2", "gfs2", "virtiofs", "vboxsf", "davfs",
                       "drvfs")  # fmt: skip


def heartbeat_seconds() -> int:
    """Seconds between heartbeats of running trials (``AUTOML_FIN_HEARTBEAT``, default
    10): a trial whose process died is failed after three missed beats."""
    value = os.environ.get(HEARTBEAT_ENV, "").strip()
    try:
        seconds = int(value) if value else HEARTBEAT_S
    except ValueError:
        seconds = 0
    if seconds < 1:  # 0 and -5 were taken as 1 s without a word
        raise StorageError(
            f"{HEARTBEAT_ENV}={value!r}: give a whole number of seconds, 1 or more (default "
            f"{HEARTBEAT_S}), or unset it"
        )
    return seconds


LOCK_WAIT_S = 60.0  # how long a SQLite connection waits for another's write lock


def default_url(runs_dir: str | Path = DEFAULT_RUNS_DIR) -> str:
    """The SQLite URL of the default storage inside ``runs_dir``."""
    return f"sqlite:///{Path(runs_dir) / 'automl_fin.db'}"


def absolute_url(url: str) -> str:
    """``url`` with a SQLite file named relative to this process's folder made absolute
    (a Dask worker, whose folder differs, opens the same file); other URLs as given."""
    head, sep, path = url.partition(":///")
    if head.startswith("sqlite") and sep and path and path != ":memory:":
        return f"{head}:///{os.path.abspath(path)}"
    return url


def as_url(storage: str, *, create: bool = True) -> str:
    """The URL of ``storage`` given as a URL or by the path of a SQLite file or a runs
    folder (a new ``.db`` file where ``create``); as given where it is neither."""
    if "://" in storage or storage == MEMORY:
        return storage
    sqlite_file = storage.lower().endswith((".db", ".sqlite", ".sqlite3"))
    if os.path.exists(storage) or (create and sqlite_file):
        if os.path.isdir(storage):
            return default_url(storage)
        return f"sqlite:///{os.path.abspath(storage)}"
    return storage


def open_storage(url: str, *, create: bool = True) -> optuna.storages.BaseStorage:
    """Open the storage at ``url``; ``:memory:`` keeps it in memory.

    With ``create=False`` a SQLite file that does not exist is an error instead of being
    created empty (readers such as the leaderboard must not leave files behind).
    """
    import optuna
    import sqlalchemy.exc

    if url == MEMORY:
        return optuna.storages.InMemoryStorage()
    url = as_url(url, create=create)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        raise StorageError(
            f"storage '{redact(url)}' is not a database URL nor an existing file or folder; "
            "use e.g. sqlite:///runs.db, postgresql://user@host/db or the path of a runs "
            "folder or its .db file"
        )
    if scheme.startswith("sqlite"):
        path = url.split(":///", 1)[-1] if ":///" in url else ""
        if not path:
            raise StorageError(
                f"storage '{redact(url)}' names no file; use sqlite:///PATH.db (three slashes, "
                "then the path) or :memory:"
            )
        if path != ":memory:":
            folder = Path(path).parent
            if not create and folder.exists() and not folder.is_dir():  # --runs-dir FILE
                raise StorageError(
                    f"no storage at {path}: {folder} is a file, not a runs folder; pass the "
                    "folder `automl-fin run` wrote (--runs-dir DIR) or --storage URL"
                )
            if not create and Path(path).is_dir():  # --storage sqlite:///RUNS
                raise StorageError(
                    f"storage '{redact(url)}' names a folder; pass the file in it "
                    f"(sqlite:///{Path(path) / 'automl_fin.db'}) or --runs-dir {path}"
                )
            if not Path(path).is_file() and _is_run_folder(folder):  # a new one made there too
                said = f"no storage at {path}" if not create else f"storage {path} not made"
                raise StorageError(
                    f"{said}: {folder} is the folder of one run; pass the runs folder that "
                    f"holds it (--runs-dir {folder.parent})"
                )
            if not create and not Path(path).is_file():
                raise StorageError(
                    f"no storage at {path}: run `automl-fin run` first, or pass --storage URL "
                    "(or --runs-dir DIR) of an existing one"
                )
            blocked = next((d for d in Path(path).parents if d.exists() and not d.is_dir()), None)
            if blocked is not None:  # ("File exists: '...'; check that path")
                raise StorageError(
                    f"storage '{redact(url)}': {blocked} is a file, not a folder; pass a path "
                    "in a folder"
                )
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    interval = heartbeat_seconds()
    try:
        if not create and not url.endswith(":memory:"):  # a reader: never Optuna's tables
            _has_studies(url, scheme)  # written into another application's database
        for attempt in range(CREATE_TRIES):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    storage = optuna.storages.RDBStorage(
                        url,
                        engine_kwargs=_engine_kwargs(scheme),
                        heartbeat_interval=interval,
                        grace_period=GRACE_BEATS * interval,
                    )
                break
            except sqlalchemy.exc.DBAPIError as exc:
                # two processes creating the same new database: one wins the tables and
                # the schema version, the other finds them taken and tries again
                racing = isinstance(exc, sqlalchemy.exc.IntegrityError) or (
                    "already exists" in str(exc)
                )
                if not racing:
                    raise
                if attempt == CREATE_TRIES - 1:
                    raise StorageError(
                        f"storage '{redact(url)}' could not be created: {short_error(exc)}"
                    ) from None
                time.sleep(0.05 * 2**attempt)
        if create and scheme.startswith("sqlite") and path and path != ":memory:":
            _log_ahead(storage, Path(path))  # a writer's; a reader leaves the file as it is
        return storage
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        # a DATABASE_URL's postgres:// (Heroku's, libpq's) is SQLAlchemy's postgresql://
        spelt = (
            "; write postgresql:// (SQLAlchemy's name) for postgres://"
            if str(url).startswith(("postgres://", "postgres+"))
            else ""
        )
        raise StorageError(
            f"storage '{redact(url)}' is malformed: {short_error(exc)}{spelt}"
        ) from None
    except ImportError as exc:  # (Optuna re-raises the driver's as a plain ImportError)
        module = getattr(exc.__cause__, "name", None) or exc.name or "its driver"
        package = DRIVERS.get(module.split(".")[0], module)
        raise StorageError(
            f"storage '{redact(url)}' needs the database driver '{module}', which is not "
            f"installed: pip install {package} (or name an installed driver after '+' in the "
            f"URL: {scheme.split('+')[0]}+DRIVER://...)"
        ) from None
    except sqlalchemy.exc.OperationalError as exc:
        said = short_error(exc)
        if "password authentication failed" in said or "authentication failed" in said:
            why = "refused the login; fix the user or password in the URL"
        elif re.search(r'database ".+" does not exist', said):
            why = "has no such database; create it (createdb NAME) or name another"
        elif "database is locked" in said:  # waited for (the connections' timeout)
            why = (
                f"stayed locked by another program for {LOCK_WAIT_S:g} s (one holding a write "
                "transaction open: a database browser, an sqlite3 shell, a process stopped "
                "mid-write); close it, then run again"
            )
            said = said.split(" [SQL:")[0]
        else:
            why = "is unreachable"
        raise StorageError(f"storage '{redact(url)}' {why}: {said}") from None
    except (sqlalchemy.exc.DatabaseError, optuna.exceptions.StorageInternalError) as exc:
        cause = getattr(exc, "orig", None) or exc  # the driver's words, not the SQL sent
        raise StorageError(unreadable(url, cause)) from None


def _has_studies(url: str, scheme: str) -> None:
    """Refuse a database that holds no Optuna studies table: a reader of it (the
    leaderboard) would otherwise create Optuna's tables in someone else's database."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **_engine_kwargs(scheme))  # type: ignore[arg-type]
    try:
        with engine.connect() as connection:
            tables = sqlalchemy.inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if "studies" in tables:
        return
    held = f"it holds {', '.join(map(repr, sorted(tables)[:5]))}" if tables else "it is empty"
    raise StorageError(
        f"storage '{redact(url)}' is not a storage automl-fin wrote (no Optuna studies; "
        f"{held}); pass the --storage or --runs-dir of a run"
    )


def _is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is one run's (its out-of-fold predictions or predictor), not
    a runs folder: given as ``--runs-dir``, its storage is the folder above."""
    return (folder / "oof").is_dir() or (folder / "predictor").is_dir()


def _in_wal(path: Path) -> bool:
    """Whether the SQLite file at ``path`` is in write-ahead-log mode (its header's read
    and write versions are 2): a run killed before it settled the file leaves it so,
    and a reader opening it folds the log back but leaves the mode (the file alone then
    could not be opened from a read-only place)."""
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _log_ahead(storage: optuna.storages.RDBStorage, path: Path) -> None:
    """Write-ahead log and ``synchronous=NORMAL`` for this SQLite file's connections,
    unless it lies on a network filesystem (see the module's docstring)."""
    import sqlite3

    from sqlalchemy import event

    if filesystem(path.parent).startswith(NETWORK_FILESYSTEMS):
        return

    def pragmas(connection: sqlite3.Connection, _: object) -> None:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            with contextlib.suppress(sqlite3.OperationalError):  # busy or read-only: as is
                connection.execute(f"PRAGMA {pragma}").close()

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # connections opened before the listener are not reused


def settle(storage: object, *, crashed: bool = False) -> None:
    """Fold a SQLite file's write-ahead log back into it and return it to the rollback
    journal (a no-op for other storages, or while another process has the file open).
    ``crashed``: only where a run left the file in log mode (docs/distributed.md: a
    reader makes it one file again), and without waiting on a live run's writes (the
    switch alone, which a connected run refuses at once)."""
    import sqlite3

    engine = getattr(storage, "engine", None)
    if engine is None or engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    if crashed and not (database and database != ":memory:" and _in_wal(Path(database))):
        return
    pragmas = (
        ("busy_timeout=0", "journal_mode=DELETE")
        if crashed
        else ("busy_timeout=100", "wal_checkpoint(TRUNCATE)", "journal_mode=DELETE")
    )
    engine.dispose()
    raw = engine.raw_connection()
    try:
        # another process on the file keeps it in WAL: give up at once, not after 60 s
        for pragma in pragmas:
            with contextlib.suppress(sqlite3.OperationalError):
                raw.execute(f"PRAGMA {pragma}").close()  # type: ignore[attr-defined]
    finally:
        raw.close()
    engine.dispose()


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (``ext4``, ``nfs4``, …) from Linux's
    /proc/mounts; ``""`` where that cannot be read."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target = str(path.resolve())
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind


def _engine_kwargs(scheme: str) -> dict[str, object]:
    if scheme.startswith("sqlite"):
        return {"connect_args": {"timeout": LOCK_WAIT_S}}
    return {"pool_pre_ping": True}


def redact(url: Any) -> str:
    """``url`` as it may be shown: its password (``user:PASSWORD@host``, or a
    ``password=`` query parameter) masked. Every URL automl-fin prints or stores goes
    through here."""
    text = str(url)
    # user:PASSWORD@ after the scheme (``scheme://``, a mistyped ``scheme:/``), or at the
    # start of a URL with no scheme; the password runs to the last "@" (it may hold "@"
    # or "/"); a sqlite path holding ":" and "@" has no user before its first "/"
    scheme = re.match(r"[A-Za-z][\w+.-]*:/+", text)
    head = scheme.group() if scheme else ""
    creds = re.fullmatch(r"([^:/@]*):.*@([^@]*)", text[len(head) :])
    if creds:
        text = f"{head}{creds.group(1)}:***@{creds.group(2)}"
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", text)


def unreadable(url: str, exc: BaseException) -> str:
    """The line for a storage that is no readable Optuna database (damaged, or another
    kind of file), met when it is opened or later in a command."""
    return (
        f"storage '{redact(url)}' is not a readable Optuna database ({short_error(exc)}); "
        "restore it from a copy, or pass another --storage"
    )


def short_error(exc: BaseException) -> str:
    """A database error on one line, without SQLAlchemy's link, at most 300 characters."""
    text = " ".join(str(exc).split()).split(" (Background on this error at:")[0]
    return text[:300]


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (see :func:`atomic_write`)."""
    import numpy as np

    atomic_write(path, lambda fh: np.save(fh, array))


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` atomically: ``write(file)`` into a temp file beside it, fsync,
    rename (a reader sees the old file or the whole new one, never half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # (the name cut: a long one's temporary name beside it was too long to be one)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name[:100], suffix=".tmp")
    except OSError as exc:  # named as the file asked for, not the temporary one beside it
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the file it replaces was not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
