"""A throwaway PostgreSQL server for the tests (Debian's postgresql package).

``python tests/postgres_server.py start DIR`` initialises a cluster in ``DIR``, starts
it on a Unix socket there and prints its URL; ``stop DIR`` stops it. ``.ci/run`` starts
one and exports the URL as ``AUTOML_FIN_TEST_POSTGRES``; without that variable the test
fixture starts its own the same way. As root, the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

PORT = 54329
USER = "postgres"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql")
    return found[-1]


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *argv] if os.geteuid() == 0 else argv


def url(folder: Path) -> str:
    """The SQLAlchemy URL of the server in ``folder`` (``postgres`` database)."""
    user = USER if os.geteuid() == 0 else os.environ.get("USER", USER)
    return f"postgresql://{user}@/postgres?host={folder}&port={PORT}"


def start(folder: Path) -> str:
    """Initialise (once) and start a server with its data and socket in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, USER)
    if not data.exists():
        subprocess.run(
            _as_owner([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", USER]),
            check=True,
            capture_output=True,
        )
    options = f"-k {folder} -p {PORT} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_owner(
            [
                _bin("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(folder / "log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return url(folder)


def stop(folder: Path) -> None:
    """Stop the server in ``folder`` (immediately: its data is thrown away)."""
    subprocess.run(
        _as_owner([_bin("pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]),
        check=False,
        capture_output=True,
    )


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(where))
    else:
        stop(where)
