"""Real data sets that ship with automl_fin (see docs/datasets.md for source and licence).

``load("german_credit")`` returns the Statlog German Credit data: 1,000 applicants,
20 attributes, target ``creditability`` (700 ``good``, 300 ``bad``).
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
}


def path(name: str) -> str:
    """The file path of the bundled data set ``name``."""
    try:
        entry = BUNDLED[name]
    except KeyError:
        raise DataError(
            f"no bundled data set named '{name}'; bundled: {', '.join(sorted(BUNDLED))}"
        ) from None
    return str(files(__name__) / entry.filename)


def load(name: str) -> pd.DataFrame:
    """Read the bundled data set ``name`` into a DataFrame."""
    from automl_fin.data import read_table

    return read_table(path(name))
