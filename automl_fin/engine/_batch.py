"""Batches: several recipes, data sets and seeds searched one after another into one storage.

A batch is a matrix of recipes x data sets x seeds, from the command line (``automl-fin
run a.yaml b.yaml default``) or a batch file::

    name: nightly                    # study names: nightly-<recipe>-<data>-s<seed>
    recipes: [default, auto, mine.yaml]
    data:                            # each: {path, target}; "own": the recipe's data
      - {path: loans.csv, target: bad}
      - own
    seeds: [0, 1]
    set: {budget.seconds: 60}        # overrides for every search

Every search gets a study name made from its place in the matrix, so running the same
batch again resumes it: finished studies are skipped, an interrupted one resumes where
its trials stopped. :func:`run_batch` returns one summary row per search.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from automl_fin.errors import AutomlFinError, RecipeError

__all__ = ["Batch", "load_batch", "run_batch"]

FINISHED = "finished"  # study user attribute written when a search and its steps ended


@dataclass
class Batch:
    """A matrix of searches: ``recipes`` x ``data`` (``None``: the recipe's own) x ``seeds``
    (``None``: the recipe's), each with ``overrides``; studies named ``name-...``."""

    name: str
    recipes: list[str]
    data: list[tuple[str, str | None] | None] = field(default_factory=lambda: [None])
    seeds: list[int | None] = field(default_factory=lambda: [None])
    overrides: dict[str, Any] = field(default_factory=dict)

    def items(self) -> list[tuple[str, str, tuple[str, str | None] | None, int | None]]:
        """``(study name, recipe, data, seed)`` for every search, in running order."""
        out = []
        for recipe in self.recipes:
            for data in self.data:
                for seed in self.seeds:
                    parts = [self.name, Path(recipe).stem, Path(data[0]).stem if data else "own"]
                    if seed is not None:
                        parts.append(f"s{seed}")
                    out.append((_safe("-".join(parts)), recipe, data, seed))
        return out


def _safe(name: str) -> str:
    """A study name that is also a plain folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:120] or "batch"


def load_batch(path: str | Path) -> Batch:
    """Read a batch file (see the module); every error names the file and the field."""
    from automl_fin.engine._recipes import _read_yaml

    source = str(path)
    raw = _read_yaml(Path(path), source)
    unknown = sorted(set(raw) - {"name", "recipes", "data", "seeds", "set"})
    if unknown:
        raise RecipeError(source, unknown[0], "unknown batch field; use name, recipes, data, "
                          "seeds, set")  # fmt: skip
    recipes = raw.get("recipes")
    if not isinstance(recipes, list) or not recipes or not all(isinstance(r, str) for r in recipes):
        raise RecipeError(source, "recipes", "a list of recipe names or .yaml paths")
    here = Path(path).parent
    recipes = [str(here / r) if r.endswith((".yaml", ".yml")) else r for r in recipes]
    data: list[tuple[str, str | None] | None] = []
    for i, entry in enumerate(raw.get("data") or ["own"]):
        if entry == "own":
            data.append(None)
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            target = entry.get("target")
            data.append((str(here / entry["path"]), None if target is None else str(target)))
        else:
            raise RecipeError(source, f"data[{i}]", "use {path: FILE, target: COLUMN} or own")
    seeds = raw.get("seeds") or [None]
    if not isinstance(seeds, list) or not all(s is None or isinstance(s, int) for s in seeds):
        raise RecipeError(source, "seeds", "a list of integers")
    overrides = raw.get("set") or {}
    if not isinstance(overrides, dict):
        raise RecipeError(source, "set", "a mapping of recipe fields to values")
    return Batch(str(raw.get("name") or Path(path).stem), recipes, data, seeds, overrides)


def run_batch(
    batch: Batch,
    *,
    storage: str | None = None,
    runs_dir: str | Path = "automl_fin_runs",
    overrides: Mapping[str, Any] | None = None,
    trials: int | None = None,
    seconds: float | None = None,
    announce: Callable[[str], None] | None = None,
    **search_args: Any,
) -> pd.DataFrame:
    """Run every search of ``batch`` not finished yet (one after another, same storage)
    and return one row per search: study, recipe, data, seed, status (``done``,
    ``skipped``: finished before, ``failed``: with its error), and its chosen row's
    model, whether that is a baseline (kept by the reality check), metric and score;
    ``incomplete``: searched, but a step after the search failed or no predictor was
    saved (the ``error`` column says which; the batch run again runs it again, its trials
    kept). A search that fails is reported and the batch goes on. Progress is shown as
    :func:`automl_fin.search` shows it (``progress=False``: silent)."""
    from automl_fin.engine._search import _to_stderr, interactive, search
    from automl_fin.storage._storage import default_url, open_storage

    if announce is None and search_args.get("progress") is not False and interactive():
        announce = _to_stderr  # as automl-fin run reports a batch

    url = storage or default_url(runs_dir)
    store = open_storage(url)
    rows = []
    for i, (study, recipe, data, seed) in enumerate(batch.items(), 1):
        row: dict[str, Any] = {"study": study, "recipe": Path(recipe).stem,
                               "data": data[0] if data else "own", "seed": seed}  # fmt: skip
        done = {s.study_name for s in store.get_all_studies() if s.user_attrs.get(FINISHED)}
        if study in done:
            row["status"] = "skipped"
        else:
            if announce:
                announce(f"batch {batch.name}: search {i} of {len(batch.items())}: {study}")
            try:
                result = search(
                    recipe,
                    data=data[0] if data else None,
                    target=data[1] if data else None,
                    seed=seed,
                    trials=trials,
                    seconds=seconds,
                    overrides={**batch.overrides, **(overrides or {})},
                    storage=url,
                    study=study,
                    runs_dir=runs_dir,
                    announce=announce,
                    **search_args,
                )
                row["status"] = "incomplete" if result.errors else "done"
                if result.errors:  # the batch run again runs this search again
                    row["error"] = "; ".join(result.errors.values())
            except AutomlFinError as exc:
                row["status"], row["error"] = "failed", str(exc)
        rows.append(row)
    stored = {s.study_name for s in store.get_all_studies()}
    best = _best_rows(url, [r["study"] for r in rows if r["study"] in stored])
    return pd.DataFrame(rows).merge(best, on="study", how="left")


def _best_rows(url: str, studies: Sequence[str]) -> pd.DataFrame:
    from automl_fin.results._leaderboard import Leaderboard

    columns = ["study", "model", "baseline", "metric", "score", "score_std", "trials"]
    if not studies:
        return pd.DataFrame(columns=columns)
    board = Leaderboard(url).query(study=list(studies))
    counted = board.groupby("study").size().rename("trials")
    best = board[board["chosen"]].sort_values(["study", "rank"]).groupby("study").head(1)
    return best.set_index("study").join(counted, how="outer").reset_index()[columns]
