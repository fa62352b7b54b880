"""The SQLite storage's commit mode: write-ahead log on local disks, the rollback journal
on network filesystems, and finished trials that outlive their process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
import sqlalchemy
from conftest import cli

from automl_fin.storage import _storage as storage_module
from automl_fin.storage._storage import filesystem, open_storage


def _pragma(store: optuna.storages.RDBStorage, name: str) -> object:
    with store.engine.connect() as connection:
        return connection.execute(sqlalchemy.text(f"PRAGMA {name}")).scalar()


def test_a_local_sqlite_file_commits_through_a_write_ahead_log(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "synchronous") == 1  # NORMAL: no fsync per commit


def test_a_finished_search_leaves_one_self_contained_file(tmp_path: Path) -> None:
    from automl_fin import search

    search("default", trials=2, runs_dir=tmp_path,
           overrides={"models": ["logreg"], "validation.n_splits": 3, "report": False})  # fmt: skip
    db = tmp_path / "automl_fin.db"
    assert not Path(f"{db}-wal").exists()
    reader = open_storage(f"sqlite:///{db}", create=False)
    assert _pragma(reader, "journal_mode") == "delete"  # a reader does not switch it
    assert len(optuna.get_all_study_names(reader)) == 1


def test_a_network_filesystem_keeps_the_rollback_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "filesystem", lambda path: "nfs4")
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    assert _pragma(store, "journal_mode") == "delete"
    assert _pragma(store, "synchronous") == 2  # FULL, SQLite's default


def test_filesystem_reads_the_mount_table(tmp_path: Path) -> None:
    assert filesystem(Path("/proc/self")) == "proc"
    assert filesystem(tmp_path) not in ("", "proc")


def _tell_one_trial_then_get_killed(url: str) -> None:
    """A process that stores study ``k`` with one trial (0.75, ``fit_s`` 1.5) in ``url``
    and is killed with SIGKILL before it closes anything."""
    code = (
        "import os, signal, optuna\n"
        "from automl_fin.storage._storage import open_storage\n"
        f"s = optuna.create_study(study_name='k', storage=open_storage({url!r}))\n"
        "t = s.ask(); t.set_user_attr('fit_s', 1.5); s.tell(t, 0.75)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert run.returncode == -9, run.stderr


def test_a_finished_trial_outlives_a_killed_process(tmp_path: Path) -> None:
    """Commits no longer wait for the disk, yet a trial told before kill -9 is there."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    _tell_one_trial_then_get_killed(url)
    (trial,) = optuna.load_study(study_name="k", storage=open_storage(url)).get_trials()
    assert trial.state.name == "COMPLETE" and trial.value == 0.75
    assert trial.user_attrs == {"fit_s": 1.5}


def test_after_a_crash_one_command_makes_the_file_whole_again(tmp_path: Path) -> None:
    """docs/distributed.md: after a crash, copy the ``-wal`` file with the database, or
    open it once with any automl-fin command. Killed before the log was folded back, the
    file alone lacks the finished trial; after ``automl-fin leaderboard`` on it, the log
    is gone and a copy of the file alone holds the trial."""
    db = tmp_path / "runs.db"
    url = f"sqlite:///{db}"
    _tell_one_trial_then_get_killed(url)

    def copied_alone(name: str) -> list[float]:
        """The trial values of the study ``k`` in a copy of the file without its log."""
        (tmp_path / name).mkdir()
        shutil.copy(db, tmp_path / name / "runs.db")
        copy = f"sqlite:///{tmp_path / name / 'runs.db'}"
        if "k" not in optuna.get_all_study_names(copy):
            return []
        return [t.value for t in optuna.load_study(study_name="k", storage=copy).trials]

    assert Path(f"{db}-wal").stat().st_size > 0
    assert copied_alone("before") == []  # the trial lives in the log
    board = cli("leaderboard", "--storage", url)
    assert board.returncode == 0 and "0.75" in board.stdout, board.stderr
    assert not Path(f"{db}-wal").exists()
    assert copied_alone("after") == [0.75]
    # and back in the default journal: a log mode left in its header kept a copy from
    # being opened in a read-only place ("unable to open database file")
    assert db.read_bytes()[18:20] == b"\x01\x01"
    assert _pragma(open_storage(url, create=False), "journal_mode") == "delete"


def _open_at_once(url: str, barrier: object, errors: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        open_storage(url)
    except Exception as exc:  # reported to the parent
        errors.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_creating_the_same_new_storage_at_once_all_open_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    for round_ in range(4):  # the race is short: several fresh databases, four openers each
        url = (
            f"sqlite:///{tmp_path / f'new{round_}.db'}"
            if backend == "sqlite"
            else request.getfixturevalue("fresh_postgres_database")()
        )
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_at_once, args=(url, barrier, errors)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * 4
        assert optuna.get_all_study_summaries(url) == []  # one sound, empty storage
    assert errors.empty(), errors.get()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql:/analyst:Hunter2@db-host/automl",  # one slash
        "analyst:Hunter2@db-host/automl",  # no scheme
        "postgresql+nosuchdriver://analyst:Hunter2@db-host/automl",
        "postgresql://analyst:Hunter2@db-host:notaport/automl",
        "sqlite://analyst:Hunter2@db-host",  # a file URL with credentials: names no file
    ],
)
def test_a_mistyped_storage_url_never_shows_its_password(url: str) -> None:
    from automl_fin import StorageError

    with pytest.raises(StorageError) as refused:
        open_storage(url)
    message = str(refused.value)
    assert "Hunter2" not in message and "analyst:***@" in message, message


def test_a_database_url_spelt_postgres_is_told_its_sqlalchemy_name() -> None:
    """``postgres://`` (a DATABASE_URL's spelling) was "malformed: Can't load plugin:
    sqlalchemy.dialects:postgres", with no word of ``postgresql://``."""
    from automl_fin import StorageError

    with pytest.raises(StorageError, match=r"write postgresql:// \(SQLAlchemy's name\) for "
                       r"postgres://$") as refused:  # fmt: skip
        open_storage("postgres://analyst:Hunter2@db-host/automl")
    assert "Hunter2" not in str(refused.value)


def test_the_cli_masks_the_password_of_a_url_it_cannot_read(tmp_path: Path) -> None:
    out = cli("leaderboard", "--storage", "postgresql:/analyst:Hunter2@db-host/automl")
    assert out.returncode == 2
    assert "Hunter2" not in out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [
        "automl-fin: error: storage 'postgresql:/analyst:***@db-host/automl' is not a "
        "database URL nor an existing file or folder; use e.g. sqlite:///runs.db, "
        "postgresql://user@host/db or the path of a runs folder or its .db file"
    ]


def test_a_path_is_a_storage_where_it_names_a_sqlite_file_or_a_runs_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--storage runs.db`` was "not a database URL": a new .db file is made where a
    storage is made, an existing file or runs folder is read; a reader makes none."""
    from automl_fin.errors import StorageError
    from automl_fin.storage._storage import open_storage

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match=r"'runs.db' is not a database URL nor an existing"):
        open_storage("runs.db", create=False)
    assert not (tmp_path / "runs.db").exists()
    open_storage("runs.db").get_all_studies()  # made
    assert (tmp_path / "runs.db").is_file()
    assert open_storage("runs.db", create=False).get_all_studies() == []
    with pytest.raises(StorageError, match=r"nor an existing file or folder"):
        open_storage("runs", create=True)  # no .db: not taken for a file to make
    # a file on the way to a new one ("File exists: 'afile'; check that path"), and a
    # run refused for it leaves no empty runs folder behind
    (tmp_path / "afile").write_text("x")
    url = f"sqlite:///{tmp_path / 'afile' / 'x.db'}"
    with pytest.raises(StorageError, match=r"/afile is a file, not a folder; pass a path in a"):
        open_storage(url)
    out = cli("run", "default", "--trials", "1", "--storage", url, cwd=tmp_path)
    assert out.returncode == 2 and "afile is a file, not a folder" in out.stderr, out.stderr
    assert not (tmp_path / "automl_fin_runs").exists()


def test_masking_leaves_a_url_without_a_password_as_it_is() -> None:
    from automl_fin.storage._storage import redact

    plain = ["sqlite:////home/a:b@c/runs.db", "sqlite:///runs@2026/x:y.db",
             "postgresql://analyst@db-host/automl", "postgresql://db-host:5432/automl"]  # fmt: skip
    assert [redact(url) for url in plain] == plain
    masked = redact("postgresql://analyst:pa/ss@w0rd@db-host/x")  # "/" and "@" in it
    assert masked == "postgresql://analyst:***@db-host/x"


def test_a_reader_leaves_a_database_it_did_not_write_as_it_was(
    tmp_path: Path, postgres_url: str
) -> None:
    """The leaderboard, compare, predict by study name and a worker only read a storage:
    pointed at another application's database (SQLite with its own table, an empty
    file, a fresh PostgreSQL database) they refuse it in one line and leave it as it was
    (Optuna's tables were created in it, and the query answered "no trials")."""
    import hashlib
    import sqlite3

    from automl_fin.errors import StorageError
    from automl_fin.results._leaderboard import Leaderboard

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE accounts (id INTEGER, balance REAL)")
    (tmp_path / "empty.db").touch()
    for path, held in ((other, "it holds 'accounts'"), (tmp_path / "empty.db", "it is empty")):
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(StorageError, match=f"not a storage automl-fin wrote .*{held}"):
            Leaderboard(f"sqlite:///{path}")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with pytest.raises(StorageError, match="not a storage automl-fin wrote"):
        Leaderboard(postgres_url)
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as connection:
        assert sqlalchemy.inspect(connection).get_table_names() == []
    engine.dispose()
    # a storage a search wrote is read as before, even one whose studies were all deleted
    open_storage(f"sqlite:///{tmp_path / 'runs.db'}")  # (Optuna's tables, no study)
    assert Leaderboard(f"sqlite:///{tmp_path / 'runs.db'}").query().empty


def test_a_storage_driver_that_is_not_installed_is_named_with_its_package() -> None:
    """Optuna re-raises a missing driver as a bare ImportError (a 40-line traceback from
    the command line); it is named, with the package that installs it."""
    from automl_fin.errors import StorageError

    for url, package in (("mysql://u@localhost/db", "mysqlclient"),
                         ("mysql+pymysql://u@localhost/db", "pymysql")):  # fmt: skip
        for create in (True, False):
            with pytest.raises(StorageError, match=f"not installed: pip install {package} "):
                open_storage(url, create=create)


def test_a_damaged_storage_file_is_one_line_naming_it(tmp_path: Path) -> None:
    """A SQLite file whose header reads but whose pages are damaged (a disk error, a
    copy cut short and patched): every command ended in a traceback blaming Optuna's
    "commit" ("invalid data in the commit, e.g. exceeding max length"); the cause, a
    malformed database, is said in one line with the file and what to do."""
    from automl_fin import search

    runs = tmp_path / "runs"
    search("default", trials=4, seed=0, study="s", runs_dir=runs,
           overrides={"models": ["logreg"], "report": False, "validation.n_splits": 2})  # fmt: skip
    db = runs / "automl_fin.db"
    whole = db.read_bytes()
    third = len(whole) // 3
    # every page but the first (its schema: opening it failed), or the middle third only
    # (opened, then reading the trials failed: the traceback blaming a "commit")
    for start, end in ((4096, len(whole)), (third, 2 * third)):
        db.write_bytes(whole[:start] + b"\xff" * (end - start) + whole[end:])
        for command in (["leaderboard"], ["compare"], ["run", "default", "--trials", "1"]):
            out = cli(*command, "--runs-dir", str(runs))
            assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-500:]
            assert out.stderr.strip().splitlines()[-1] == (  # (run: its summary above)
                f"automl-fin: error: storage 'sqlite:///{db}' is not a readable Optuna "
                "database (database disk image is malformed); restore it from a copy, or pass "
                "another --storage"
            ), (start, command, out.stderr)
    # another database error met mid-command (a race's duplicate key, a role without a
    # right) is not told to restore a copy
    from automl_fin.cli import _storage_lost

    for said in ("duplicate key value violates unique constraint", "permission denied"):
        raced = sqlalchemy.exc.IntegrityError("INSERT ...", {}, Exception(said))
        assert _storage_lost(raced, searching=True) is None


def test_a_storage_file_another_program_keeps_locked_is_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite file held under a write transaction by another program (a database
    browser, an sqlite3 shell) was "unreachable: (sqlite3.OperationalError) database is
    locked [SQL: SELECT name FROM sqlite_master ...]" after a minute of silence: the
    lock is named, with how long was waited and what to do."""
    import re
    import sqlite3

    from automl_fin.errors import StorageError

    db = tmp_path / "s.db"
    open_storage(f"sqlite:///{db}")  # Optuna's tables
    monkeypatch.setattr(storage_module, "LOCK_WAIT_S", 0.5)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for create in (False, True):
            with pytest.raises(StorageError) as info:
                open_storage(f"sqlite:///{db}", create=create)
            said = str(info.value)
            assert re.fullmatch(
                rf"storage 'sqlite:///{re.escape(str(db))}' stayed locked by another program "
                r"for 0\.5 s \(one holding a write transaction open: .*\); close it, then run "
                r"again: \(sqlite3\.OperationalError\) database is locked",
                said,
            ), said
    finally:
        holder.close()
    assert open_storage(f"sqlite:///{db}", create=False) is not None  # let go: it opens


@pytest.mark.parametrize("value", ["abc", "0", "-5", "2.5"])
def test_a_heartbeat_that_is_not_a_whole_number_of_seconds_is_refused(
    value: str, tmp_path: Path
) -> None:
    """``AUTOML_FIN_HEARTBEAT`` of 0 or -5 was taken as 1 s without a word; ``abc``'s
    line was never reached by a test. Each is refused in one line."""
    out = cli("run", "default", "--trials", "2", "--set", "models=[logreg]", "--no-progress",
              "--runs-dir", str(tmp_path), env={"AUTOML_FIN_HEARTBEAT": value})  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stderr.strip() == (
        f"automl-fin: error: AUTOML_FIN_HEARTBEAT={value!r}: give a whole number of seconds, 1 or "
        "more (default 10), or unset it"
    )


_KILLED_WRITING = """
import os, signal, sys
from pathlib import Path
from automl_fin.storage._storage import atomic_write

def half(fh):
    fh.write(b"new and half")
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # the crash at the worst moment

atomic_write(Path(sys.argv[1]), half)
"""


def test_a_write_killed_half_way_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """docs/distributed.md: out-of-fold files, the report and the final test's
    predictions are written to a temporary name, fsynced and renamed, "so a crash never
    leaves a half file". A writer killed (SIGKILL) half way through, and one that
    raises: the file under its name is the old one, whole; the raising one leaves no
    temporary file either."""
    from automl_fin.storage._storage import atomic_save_npy, atomic_write

    report = tmp_path / "report.html"
    report.write_bytes(b"<html>the old report</html>")
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITING, str(report)], timeout=60)
    assert killed.returncode == -9
    assert report.read_bytes() == b"<html>the old report</html>"

    oof = tmp_path / "oof" / "trial_3.npy"
    atomic_save_npy(oof, np.arange(5.0))

    def raises(fh):  # type: ignore[no-untyped-def]
        fh.write(b"\x93NUMPY half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(oof, raises)
    assert np.array_equal(np.load(oof), np.arange(5.0))
    assert sorted(p.name for p in oof.parent.iterdir()) == ["trial_3.npy"]
