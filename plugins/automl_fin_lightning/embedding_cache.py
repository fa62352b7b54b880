"""Sentence embeddings kept on disk, shared by every process and run on the machine.

One SQLite file per encoder version, ``<cache>/embeddings/<version>.sqlite``, with one
row per text: the text's 16-byte BLAKE2b digest and its float32 vector. The version
names the encoder's weights (their sha256), the token limit and the pooling, so another
encoder never reads these vectors. SQLite serialises writers from several processes
(write-ahead log, 30 s busy wait), and a lookup reads only the rows asked for.

The folder: ``AUTOML_FIN_CACHE`` when set (``off`` turns the disk cache off), else
``$XDG_CACHE_HOME/automl_fin``, else ``~/.cache/automl_fin``. A cache that cannot be
used (a read-only folder, a file that is not a database, a vector of the wrong length)
costs time, never the run: one warning, and the vectors are computed again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CACHE_ENV", "CACHE_VERSION", "DIM", "EmbeddingCache", "cache_folder", "text_key"]

CACHE_ENV = "AUTOML_FIN_CACHE"
_CHUNK = 500  # keys per SELECT: well under SQLite's limit on bound parameters

# model.safetensors of sentence-transformers/all-MiniLM-L6-v2, revision 1110a243
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 128  # Financial PhraseBank: 99 % of sentences under 70 word pieces
DIM = 384  # the encoder's hidden size: the length of a sentence vector
# what the vectors depend on: the weights, the token limit, the pooling
CACHE_VERSION = f"minilm-{WEIGHTS_SHA256[:16]}-t{MAX_TOKENS}-meanpool"


def text_key(text: str) -> bytes:
    """A text's key in the cache: the 16-byte BLAKE2b digest of its UTF-8 bytes."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def all_cached(columns: Any) -> bool:
    """Whether every text of ``columns`` (a DataFrame of text columns) has its MiniLM
    vector on disk: the ``warm`` hook of ``minilm_embed`` (no torch import)."""
    texts = {str(t) for t in np.asarray(columns, dtype=object).ravel()}
    return EmbeddingCache(CACHE_VERSION, DIM).count([text_key(t) for t in texts]) == len(texts)


def cache_folder() -> Path | None:
    """The machine's automl_fin cache folder (``None`` when ``AUTOML_FIN_CACHE=off``)."""
    given = os.environ.get(CACHE_ENV, "").strip()
    if given.lower() == "off":
        return None
    if given:
        return Path(given).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    # the XDG base-directory spec: a relative path there is invalid and ignored
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "automl_fin"


class EmbeddingCache:
    """Vectors of ``dim`` float32 by text digest, in ``<folder>/embeddings/<version>.sqlite``."""

    def __init__(self, version: str, dim: int, folder: Path | None = None) -> None:
        folder = cache_folder() if folder is None else folder
        self.path = None if folder is None else folder / "embeddings" / f"{version}.sqlite"
        self.dim = dim

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors of ``keys`` (those missing, or of the wrong length, left out)."""
        found: dict[bytes, np.ndarray] = {}
        if not keys or (db := self._open()) is None:
            return found
        try:
            with db:
                for start in range(0, len(keys), _CHUNK):
                    chunk = list(keys[start : start + _CHUNK])
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
                    for key, blob in rows:
                        if len(blob) == 4 * self.dim:
                            found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as exc:
            self._give_up(exc)
        finally:
            db.close()
        return found

    def count(self, keys: Sequence[bytes]) -> int:
        """How many of ``keys`` (distinct) have a vector of the right length stored."""
        if not keys or (db := self._open()) is None:
            return 0
        found = 0
        try:
            with db:
                for start in range(0, len(keys), _CHUNK):
                    chunk = list(keys[start : start + _CHUNK])
                    marks = ",".join("?" * len(chunk))
                    where = f"length(vec) = ? AND key IN ({marks})"
                    query = f"SELECT COUNT(*) FROM vectors WHERE {where}"
                    found += db.execute(query, [4 * self.dim, *chunk]).fetchone()[0]
        except sqlite3.Error as exc:
            self._give_up(exc)
        finally:
            db.close()
        return found

    def put(self, vectors: Mapping[bytes, np.ndarray]) -> None:
        """Store ``vectors`` (a key already there is overwritten: same text, same vector)."""
        if not vectors or (db := self._open()) is None:
            return
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            self._give_up(exc)
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30.0)
        except (OSError, sqlite3.Error) as exc:
            self._give_up(exc)
            return None
        for wait in (0.05, 0.2, 1.0, None):  # processes creating the file at once: retry
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")  # kept by the file from then on
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)"
                )
                return db
            except sqlite3.Error as exc:
                if wait is None or "locked" not in str(exc):
                    db.close()
                    self._give_up(exc)
                    return None
                time.sleep(wait)
        return None  # not reached

    def _give_up(self, exc: Exception) -> None:
        warnings.warn(
            f"the sentence-embedding cache {self.path} cannot be used ({exc}); embeddings are "
            f"computed again. Delete the file, or set {CACHE_ENV} to another folder or to 'off'",
            RuntimeWarning,
            stacklevel=3,
        )
        self.path = None  # one warning, then no more tries in this process
