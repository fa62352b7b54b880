"""Tables written for the user (``predict --out``): the format the file's name says, as
``--data`` reads it (``.csv``, ``.tsv``, ``.txt`` with a compression ending, or
``.parquet`` / ``.pq``), written atomically: a failed write (a full disk) leaves the file
that was there, never half a table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from automl_fin.errors import ArtifactError
from automl_fin.storage._storage import atomic_write

if TYPE_CHECKING:
    import pandas as pd

SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET = (".parquet", ".pq")
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}


def table_format(path: Path, flag: str) -> tuple[str, str | None]:
    """``path``'s format by its name: ``(".csv" | ".tsv" | ".txt" | ".parquet",
    compression)``; CSV for a name without an ending of letters (``preds``,
    ``preds.2026-12``) and for a device or a pipe (``/dev/stdout``); any other ending is
    a one-line error naming ``flag`` (a file named ``.parquet`` or ``.xlsx`` was written
    as CSV text, which no reader of that format opens)."""
    if path.exists() and not path.is_file():
        return ".csv", None
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression is not None:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in SEPARATORS:
        return suffix, compression
    if suffix in PARQUET and compression is None:
        return ".parquet", None
    if not suffix[1:].isalpha():  # no ending, or a date's or a version's
        return ".csv", compression
    ending = "".join(path.suffixes[-2:]) or "no ending"
    raise ArtifactError(
        f"{flag} {path}: a table cannot be written as '{ending}'; name it .csv, .tsv or "
        ".parquet (.csv.gz, .csv.zip, ... compress the text)"
    )


def write_table(frame: pd.DataFrame, path: Path, flag: str, **csv: Any) -> None:
    """Write ``frame`` (without its index) to ``path`` in the format its name says
    (:func:`table_format`; ``csv``: ``to_csv``'s further arguments, e.g. its line end),
    atomically where ``path`` is a file or none yet; a device or a pipe (``/dev/null``)
    is written as it is."""
    suffix, compression = table_format(path, flag)
    plain = frame.copy(deep=False)
    plain.attrs = {}  # (Parquet's metadata would carry them)

    def write(handle: BinaryIO | Path) -> None:
        if suffix == ".parquet":
            plain.to_parquet(handle, index=False)
        else:
            plain.to_csv(handle, index=False, sep=SEPARATORS[suffix],
                         compression=compression, **csv)  # fmt: skip

    if path.exists() and not path.is_file():
        write(path)
    else:
        atomic_write(path, write)
