"""How a ``;``-separated file writes its numbers: which mark is the decimal one.

A spreadsheet's "CSV" from most of Europe puts ``;`` between fields, ``,`` before the
decimals and ``.`` between thousands (``44.361,63``; ``45.200,00 €``; ``3,3%``); one
from elsewhere written with ``;`` has the point before its decimals (``18.25``) and may
have commas between thousands (``25,548``). Some values say which on their own
(``12,5``, ``1.234,56``, ``0,817``; ``18.25``, ``1,234.56``, ``0.125``); others could
be either (``1.169`` beside ``999``, ``25,548``). The file's mark is the one its
columns say, else the one a predictor's training file was read with, else the comma
where a column reads as thousands (:func:`_european`), else the point, said with the
setting that reads it the other way; a column that says the other mark itself is read
so.

Reading each file on its own went wrong three ways: a predict file whose rows held no
decimal comma read ``18.424`` (a loan of 18,424) as 18.4 and turned the decision; a file
of ``1.169`` amounts and no decimals read them as 1.169 beside 999; and a decimal-comma
column holding a ``-`` was read by the thousands rule (``0,817`` as 817).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pandas.api import types as ptypes

__all__ = ["read_marks"]

_SIGN = r"[$€£¥]"
_AROUND = rf"[-+]?(?:{_SIGN}\s?)?{{}}(?:\s?(?:%|{_SIGN}))?"
# every value of a column written with a decimal comma (dots between thousands) ...
COMMA_FORM = re.compile(_AROUND.format(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"), re.ASCII)
# ... or with a decimal point (commas between thousands)
POINT_FORM = re.compile(_AROUND.format(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"), re.ASCII)
# a value that says its decimal mark is the comma: other than three digits after it, a
# zero before it, or a dot before it (1.234,5) or a second dot (1.234.567)
SAYS_COMMA = re.compile(r",(?:\d{1,2}|\d{4,})(?!\d)|(?<![\d.,])0,\d|\.\d{3}[.,]", re.ASCII)
SAYS_POINT = re.compile(  # ... the point ($1,200 too)
    r"\.(?:\d{1,2}|\d{4,})(?!\d)|(?<![\d.,])0\.\d|,\d{3}[.,]|\$", re.ASCII
)
# thousands between dots beside plain numbers under a thousand: '1.169' beside '999'
GROUPED = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})+", re.ASCII)
SMALL = re.compile(r"[-+]?\d{1,3}", re.ASCII)
ROUND = 20  # distinct values in groups of three, each ending in 0: thousands, not decimals
MARKS = (",", ".")
FORMS = {",": COMMA_FORM, ".": POINT_FORM}
SAMPLE = 5_000  # a column's distinct values looked at for the mark they say
# a space between groups of three digits (France's, Switzerland's, the Nordics' thousands:
# a plain, a no-break or a narrow no-break one): '45 200,00' was read as text, a category
GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")


def _number(text: pd.Series, mark: str) -> pd.Series:
    """``text`` (each value in ``mark``'s form) as numbers; a percent is a fraction (the
    signs and spaces are taken out only where a value has them: a regular expression
    over a million values took half a second)."""
    thousands = "." if mark == "," else ","
    bare = text.str.replace(thousands, "", regex=False).str.replace(mark, ".", regex=False)
    number = pd.to_numeric(bare, errors="coerce")
    signed = number.isna()
    if signed.any():
        number[signed] = pd.to_numeric(bare[signed].str.replace(rf"\s|{_SIGN}|%", "", regex=True))
        number = number.where(~text.str.endswith("%"), number / 100)
    return number


def _said(distinct: pd.Series) -> tuple[bool, str | None]:
    """Whether ``distinct`` (a column's values, once each) are numbers in one of the
    two forms, and the decimal mark they say (``None``: either reads them). Which mark
    a value says is looked for in the first :data:`SAMPLE` (a million values took 3 s);
    the form is checked on all of them, the told one's first."""
    sample = distinct.head(SAMPLE)
    says = {",": bool(sample.str.contains(SAYS_COMMA).any()),
            ".": bool(sample.str.contains(SAYS_POINT).any())}  # fmt: skip
    told = [m for m in MARKS if says[m]]
    first = told[0] if len(told) == 1 else ","
    fits = {first: bool(distinct.str.fullmatch(FORMS[first]).all())}
    if fits[first] and len(told) == 1:
        return True, first
    other = "." if first == "," else ","
    fits[other] = bool(distinct.str.fullmatch(FORMS[other]).all())
    if fits[","] != fits["."]:  # one form only ("12,5": not the point's)
        return True, "," if fits[","] else "."
    return fits[","], None


def read_marks(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    p: Path,
    *,
    missing: frozenset[str],
    decimal: str | None = None,
    decimal_from: str = "the predictor's training file was read",
    text: Sequence[str] = (),
) -> tuple[pd.DataFrame, str | None]:
    """``frame`` (``p`` as pandas read it, with the point) with its number columns read
    in the file's decimal mark, and that mark (``None``: no value has one). ``raw``: the
    same file read as text; ``missing``: the values that are missing markers (``-``);
    ``decimal``: the mark to read it with where none of its values says (the predictor's
    training file's, or ``data.decimal``; ``decimal_from`` says which); ``text``: columns
    left as written. One warning says how the file was read."""
    forms: dict[str, tuple[pd.Series, str | None]] = {}  # column: (values, the mark it says)
    for name in raw.columns:
        if name in text:
            continue
        if ptypes.is_numeric_dtype(frame[name]):  # pandas read it with the point already
            head = raw[name].dropna().head(SAMPLE).str.strip()
            if head.str.contains(SAYS_POINT).any():  # and it says so: no value to read again
                forms[str(name)] = (head.iloc[:0], ".")
                continue
        values = raw[name].dropna().str.strip()
        if values.str.contains(GROUP_SPACE).any():
            values = values.str.replace(GROUP_SPACE, "", regex=True)
        distinct = pd.Series(values.unique(), dtype="str")
        gone = distinct[distinct.str.lower().isin(missing)]
        if len(gone):
            values, distinct = values[~values.isin(gone)], distinct[~distinct.isin(gone)]
        if not len(distinct) or not distinct.str.contains(r"[.,%$€£¥]").any():
            continue  # plain integers, or nothing: as pandas read them
        numbers, said = _said(distinct)
        if numbers:  # (both or neither says: either reads it)
            forms[str(name)] = (values, said)
    told = {m: [c for c, (_, said) in forms.items() if said == m] for m in MARKS}
    if any(told.values()):  # the file's columns say: the mark most of them say
        mark, how = max(MARKS, key=lambda m: (len(told[m]), m == ",")), "told"
    elif decimal:  # none says: the mark asked for (the training file's, data.decimal)
        mark, how = decimal, "given"
    elif any(_european(values) for values, _ in forms.values()):
        mark, how = ",", "guessed"  # ('1.169' beside '999'; a comma's '25,548', as before)
    else:  # ('1.250', '10.125': a fixed number of decimals)
        mark, how = ".", "point"
    frame = frame.copy(deep=False)  # (not assign: its keywords break on a column 'self')
    for name, (values, said) in forms.items():
        use = said or mark
        if use == "." and ptypes.is_numeric_dtype(frame[name]):
            continue  # read so by pandas already (half the time of a point file's reading)
        frame[name] = _number(values, use).reindex(raw.index)
    if not forms or how == "point":
        either = [c for c, (v, said) in forms.items()
                  if said is None and v.str.contains(".", regex=False).any()]  # fmt: skip
        hint = (
            f"; no value of {_names(either)} says which mark is the decimal one: if '.' is "
            "between thousands there, --set data.decimal=,"
            if either
            else ""
        )
        warnings.warn(f"data file '{p}' is ';'-separated (read so; '.' the decimal mark){hint}",
                      stacklevel=4)  # fmt: skip
        return frame, None
    return frame, _say(p, mark, forms, told, how, decimal_from)


def _european(values: pd.Series) -> bool:
    """Whether a column that says no mark reads as a ``;`` file of Europe writes it:
    thousands between dots beside plain numbers under a thousand (``1.169`` beside
    ``999``), or amounts in groups of three (``42.000 €``: a currency's decimals are two;
    ``38.500``, ``83.800``: :data:`ROUND` or more of them, each ending in a zero, as no
    three decimals measured do), or a comma in it (``25,548``, read so before). Ecdat's
    house prices written ``42.000 €`` were read as 42.0, every one 1,000 times too small."""
    distinct = pd.Series(values.unique()[:SAMPLE], dtype="str")
    if distinct.str.contains(",", regex=False).any():
        return True
    dotted = distinct[distinct.str.contains(".", regex=False)]
    bare = dotted.str.replace(rf"\s|{_SIGN}", "", regex=True)
    if not len(dotted) or not bare.str.fullmatch(GROUPED).all():
        return False
    money = bool(dotted.str.contains(_SIGN).any())
    round_ = len(bare) >= ROUND and bool(bare.str.endswith("0").all())
    return money or round_ or bool(distinct.str.fullmatch(SMALL).any())


def _say(
    p: Path,
    mark: str,
    forms: dict[str, tuple[pd.Series, str | None]],
    told: dict[str, list[str]],
    how: str,
    decimal_from: str,
) -> str:
    """Warn how ``p``'s number columns were read; ``mark``, its decimal mark."""
    other = "." if mark == "," else ","
    by_mark = [c for c in forms if c not in told[other]]
    said = f"data file '{p}' is ';'-separated"
    if mark == ",":
        said += (
            " with ',' as the decimal mark and '.' (or a space) between thousands, as a "
            f"spreadsheet in most of Europe writes it: {_names(by_mark)} read so"
        )
    else:
        grouped = [c for c in by_mark if forms[c][0].str.contains(",", regex=False).any()]
        said += " (read so; '.' the decimal mark)"
        said += f": {_names(grouped)} read with ',' between thousands" if grouped else ""
    if how == "given":
        said += f" (no value says which: '{mark}', as {decimal_from})"
    if told[other]:
        said += f"; {_names(told[other])} written with '{other}' as the decimal mark, read so"
    if how == "guessed":  # ('1.169' beside '999')
        said += "; no value says which mark is the decimal one: for decimals, --set data.decimal=."
    warnings.warn(said, stacklevel=5)
    return mark


def _names(columns: list[str]) -> str:
    return ", ".join(map(repr, columns[:5])) + (", ..." if len(columns) > 5 else "")
