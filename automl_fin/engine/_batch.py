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

import difflib
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from shlex import quote
from typing import TYPE_CHECKING, Any

import optuna
import pandas as pd

from automl_fin.errors import AutomlFinError, RecipeError
from automl_fin.storage._storage import absolute_url, as_url, redact

if TYPE_CHECKING:
    from automl_fin.engine._recipes import Recipe

__all__ = ["Batch", "load_batch", "run_batch"]

FINISHED = "finished"  # study user attribute written when a search and its steps ended
ITEM = "batch_item"  # study user attribute: what a batch's search was of (_identity)
LONGEST = 120  # characters of a batch's study name
# the recipe fields that say what a search answers (its question), compared before a
# finished search is skipped; how it searches (n_jobs, trial_timeout, racing ...) and
# what it writes after (ensemble, report, predictor) are not: --no-ensemble or
# --set n_jobs=2 on a finished batch failed every entry
QUESTION = ("task", "metric", "data", "validation", "models", "preprocessors",
            "model_options", "baselines")  # fmt: skip


@dataclass
class Batch:
    """A matrix of searches: ``recipes`` x ``data`` (``None``: the recipe's own) x ``seeds``
    (``None``: the recipe's), each with ``overrides``; studies named ``name-...``."""

    name: str
    recipes: list[str]
    data: list[tuple[str, str | None] | None] = field(default_factory=lambda: [None])
    seeds: list[int | None] = field(default_factory=lambda: [None])
    overrides: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the batch file, for errors

    def __post_init__(self) -> None:
        if re.search(r"[/\\]", self.name) or not re.search(r"\w", self.name):
            where = (self.source, "name") if self.source else ("--study", None)
            raise RecipeError(*where, f"'{self.name}' begins the batch's study names; it is "
                              "not a path: use letters, digits, '-', '_', '.'")  # fmt: skip
        # files by their absolute paths: the same batch run from another folder, or by
        # another path to its file, names its searches alike (and resumes them)
        self.recipes = [os.path.abspath(r) if _is_file(r) else r for r in self.recipes]
        self.data = [None if d is None else (os.path.abspath(d[0]), d[1]) for d in self.data]

    def items(self) -> list[tuple[str, str, tuple[str, str | None] | None, int | None]]:
        """``(study name, recipe, data, seed)`` for every search, in running order.

        A name is ``name-<recipe>-<data>[-s<seed>]``, from the recipe's and the data
        file's stems; recipes or data named alike (the same file name in two folders,
        two targets of one table) are told apart by the target, else by a short code of
        the path. A search listed twice is one."""
        recipes = _labels(self.recipes, lambda r: _safe(Path(r).stem), lambda _: None)
        data = _labels(self.data, lambda d: _safe(Path(d[0]).stem) if d else "own",
                       lambda d: d[1] if d else None)  # fmt: skip
        out = []
        for recipe, entry in dict.fromkeys((r, d) for r in self.recipes for d in self.data):
            for seed in dict.fromkeys(self.seeds):
                name = self._name(recipes[recipe], data[entry], seed)
                out.append((name, recipe, entry, seed))
        return out

    def names_of(
        self, recipe: str, data: tuple[str, str | None] | None, seed: int | None
    ) -> list[str]:
        """Every name a search may have had as the batch grew and shrank (its stems
        alone, as if no other were named alike; told apart by the target; by a code of
        the path), the plain one first: a search is resumed under the name it has."""
        recipes = [_safe(Path(recipe).stem)]
        recipes.append(_coded(recipes[0], recipe))
        data_stem = _safe(Path(data[0]).stem) if data else "own"
        datas = [data_stem]
        if data and data[1] is not None:
            datas.append(f"{data_stem}-{data[1]}")
        if data:
            datas.append(_coded(data_stem, data))
        names = [self._name(r, d, seed) for r in recipes for d in datas]
        return list(dict.fromkeys(names))

    @property
    def prefix(self) -> str:
        """The batch's name as its study names begin: as given, or where characters a
        folder name cannot hold were rewritten, with a code of the name as given
        (``a b`` and ``a_b`` named the same studies, and the second batch skipped the
        first's as its own, showing their scores)."""
        safe = _safe(self.name)
        return safe if safe == self.name else _coded(safe, self.name)

    def _name(self, recipe: str, data: str, seed: int | None) -> str:
        """``name-recipe-data[-sSEED]``, at most :data:`LONGEST` characters: a longer one
        is cut before its seed and ends with a code of what was cut (two names cut alike
        stay two names)."""
        seeded = f"-s{seed}" if seed is not None else ""
        base = _safe("-".join([self.prefix, recipe, data]), limit=None)
        room = LONGEST - len(seeded)
        if len(base) > room:
            code = hashlib.sha256(base.encode()).hexdigest()[:10]
            base = f"{base[: room - 11].rstrip('._-')}-{code}"
        return base + seeded


def _labels(
    values: Sequence[Any], stem: Callable[[Any], str], target: Callable[[Any], Any]
) -> dict[Any, str]:
    """A distinct label of each of ``values``: its stem; where stems are alike, the
    stem and the target when only that differs, else the stem and a code of the value."""
    alike: dict[str, list[Any]] = {}
    for value in dict.fromkeys(values):
        alike.setdefault(stem(value), []).append(value)
    out = {}
    for name, group in alike.items():
        targets = [target(v) for v in group]
        by_target = len(group) == 1 or (
            None not in targets
            and len({_safe(str(t)) for t in targets}) == len(group)  # as the name spells it
            and len({v[0] for v in group}) == 1
        )
        for value, aim in zip(group, targets, strict=True):
            if len(group) == 1:
                out[value] = name
            elif by_target:
                out[value] = f"{name}-{aim}"
            else:
                out[value] = _coded(name, value)
    return out


def _coded(name: str, value: Any) -> str:
    """``name`` and a short code of ``value`` (a recipe's path, a data entry)."""
    return f"{name}-{hashlib.sha256(repr(value).encode()).hexdigest()[:6]}"


def _safe(name: str, limit: int | None = LONGEST) -> str:
    """A study name that is also a plain folder name (letters of any script kept)."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._-")[:limit] or "batch"


def _is_file(recipe: str) -> bool:
    """Whether a batch's recipe entry is a YAML file (else a recipe's name)."""
    return recipe.endswith((".yaml", ".yml"))


def _identity(
    recipe: str,
    data: tuple[str, str | None] | None,
    content: str | None,
    seed: int | None,
    asks: dict[str, Any],
) -> dict[str, Any]:
    """What a batch's search is of: the recipe as named, the data file's ``content``
    (:func:`_content`; ``own``: the recipe's data), the target, the seed, and what the
    recipe asks with the batch's overrides (``asks``: its :data:`QUESTION` fields). A
    finished study is skipped only for the same (:func:`_same`)."""
    target = data[1] if data else None
    return {"recipe": Path(recipe).name, "data": content, "target": target, "seed": seed,
            "asks": asks}  # fmt: skip


def _same(before: Any, now: dict[str, Any]) -> bool:
    """Whether a study's stored batch entry is ``now`` (one stored before seeds, or what
    the recipe asks, were kept in it has none: taken as the same)."""
    if not isinstance(before, dict):
        return False
    # an own entry stored as "own" before its file's content was kept: taken as the same
    skip = {"data"} if before.get("data") == "own" else set()
    return all(
        _asked(before[k]) == _as_then(before[k], v) if k == "asks" and k in before
        else before.get(k) == v
        for k, v in now.items()
        if k not in skip and (k in before or k not in ("seed", "asks"))
    )  # fmt: skip


# recipe fields a version set since, with the value that asks what the search asked
# before it: ``auto`` gained ``baselines: auto`` (a finished auto batch failed as edited)
SINCE = {"baselines": "auto"}


def _as_then(before: Any, now: dict[str, Any]) -> dict[str, Any]:
    """``now`` (what the recipe asks) without the fields a later version set to
    :data:`SINCE`'s value where ``before`` (a study's stored asks) has none of them."""
    if not isinstance(before, dict):
        return now
    return {k: v for k, v in now.items() if k in before or SINCE.get(k, object()) != v}


def _asked(before: Any) -> Any:
    """A study's stored asks as this version writes them: a metric that is its task's
    own is ``auto``'s (the built-in recipes named it before ``auto`` meant ``cost``
    under costs: a finished batch of them failed as edited)."""
    from automl_fin.plugin._specs import TASK_METRICS

    if isinstance(before, dict) and before.get("metric") == TASK_METRICS.get(before.get("task")):
        return {k: v for k, v in before.items() if k != "metric"}
    return before


@functools.lru_cache(maxsize=64)
def _content(path: str, size: int, modified: int) -> str | None:
    """A hash of a data file's bytes (read once per file, size and time: a data set
    searched by several recipes and seeds was read for each)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()[:16]
    except OSError:
        return None  # the search names the missing file


def _content_of(data: tuple[str, str | None] | None) -> str | None:
    if data is None:
        return "own"
    try:
        stat = Path(data[0]).stat()
    except OSError:
        return None
    return _content(data[0], stat.st_size, stat.st_mtime_ns)


def load_batch(path: str | Path) -> Batch:
    """Read a batch file (see the module); every error names the file and the field."""
    from automl_fin.engine._recipes import _read_yaml

    source = str(path)
    raw = _read_yaml(Path(path), source)
    fields = ["name", "recipes", "data", "seeds", "set"]
    unknown = sorted(set(map(str, raw)) - set(fields))
    if unknown:
        like = difflib.get_close_matches(unknown[0], fields, n=1, cutoff=0.75)
        hint = f"did you mean '{like[0]}'? " if like else ""
        raise RecipeError(source, unknown[0], f"unknown batch field; {hint}use name, recipes, "
                          "data, seeds, set")  # fmt: skip
    recipes = raw.get("recipes")
    if not isinstance(recipes, list) or not recipes or not all(isinstance(r, str) for r in recipes):
        raise RecipeError(source, "recipes", "a list of recipe names or .yaml paths")
    here = Path(path).parent
    recipes = [str(here / r) if _is_file(r) else r for r in recipes]
    for key in ("data", "seeds"):  # `data: []` searched the recipe's own data, unsaid
        if raw.get(key) == []:
            what = "own" if key == "data" else "0"
            raise RecipeError(source, key, f"an empty list; list at least one ({what}), or "
                              "leave the field out for the recipe's own")  # fmt: skip
    data: list[tuple[str, str | None] | None] = []
    for i, entry in enumerate(raw.get("data") or ["own"]):
        if entry == "own":
            data.append(None)
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            if odd := sorted(set(map(str, entry)) - {"path", "target"}):
                raise RecipeError(source, f"data[{i}].{odd[0]}", "unknown field; use path, target")
            target = entry.get("target")
            data.append((str(here / entry["path"]), None if target is None else str(target)))
        else:
            raise RecipeError(source, f"data[{i}]", "use {path: FILE, target: COLUMN} or own")
    seeds = raw.get("seeds") or [None]
    if not isinstance(seeds, list) or not all(
        s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in seeds
    ):
        raise RecipeError(source, "seeds", "a list of integers")
    overrides = raw.get("set") or {}
    if not isinstance(overrides, dict):
        raise RecipeError(source, "set", "a mapping of recipe fields to values")
    name = str(raw.get("name") or Path(path).stem)
    return Batch(name, recipes, data, seeds, overrides, source=source)


def run_batch(
    batch: Batch | str | Path,
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
    :func:`automl_fin.search` shows it (``progress=False``: silent). ``batch``: a
    :class:`Batch`, or a batch file's path (read by :func:`load_batch`)."""
    from automl_fin.engine._recipes import asks
    from automl_fin.engine._search import _to_stderr, interactive, search
    from automl_fin.storage._storage import default_url, open_storage

    if isinstance(batch, str | Path):  # (a path failed: "'str' object has no attribute")
        batch = load_batch(batch)
    if announce is None and search_args.get("progress") is not False and interactive():
        announce = _to_stderr  # as automl-fin run reports a batch

    flags = (("budget.trials", trials), ("budget.seconds", seconds))
    flagged = {key for key, value in flags if value is not None}
    # the command's --trials / --budget win over the file's set (a --set beside them in
    # the command is refused by search as set twice)
    own = {k: v for k, v in batch.overrides.items() if k not in flagged}
    merged = {**own, **(overrides or {})}
    recipes = _check(batch, merged, search_args.get("registry"))
    url = storage or default_url(runs_dir)
    store = open_storage(url)
    told = search_args.pop("on_trial", None)  # the caller's, called after the batch's own
    rows = []
    for i, (study, recipe, data, seed) in enumerate(batch.items(), 1):
        summaries = {s.study_name: s for s in store.get_all_studies()}
        wants = {k: v for k, v in asks(recipes[recipe]).items() if k in QUESTION}
        # an entry of the recipe's own data read from a file (set: data.path) is that
        # file's content too: changed, it was skipped with the old search's score
        own = recipes[recipe].data.path if data is None else None
        content = _content_of((own, None)) if own else _content_of(data)
        identity = _identity(recipe, data, content, seed, wants)
        # the name it had before the batch grew a search named alike, or lost one (a
        # suffix no longer needed): resumed under it, its finished search skipped
        named = [study, *batch.names_of(recipe, data, seed)]
        mine = [
            n
            for n in named
            if n in summaries and _same(summaries[n].user_attrs.get(ITEM), identity)
        ]
        study = mine[0] if mine else study
        row: dict[str, Any] = {"study": study, "recipe": Path(recipe).stem,
                               "data": data[0] if data else own or "own",
                               # (its own data's: the recipe's target, not "-")
                               "target": (data[1] if data else None)
                               or recipes[recipe].data.target, "seed": seed}  # fmt: skip
        before = summaries[study].user_attrs.get(ITEM) if study in summaries else None
        if before and not _same(before, identity):  # an edited batch: never another's score,
            row["status"], row["error"] = "failed", _another(study, before, identity, url)
        elif before and summaries[study].user_attrs.get(FINISHED):  # nor its trials
            row["status"] = "skipped"
        else:  # new, interrupted, or a study of that name no batch made: search() checks it
            if announce:
                announce(f"batch {batch.name}: search {i} of {len(batch.items())}: {study}")

            marked: list[bool] = []

            def mark(opened: optuna.Study, trial: Any, identity: Any = identity,
                     marked: list[bool] = marked) -> None:  # fmt: skip
                # what this search is of, once it has a trial: an interrupted one is
                # resumed under its name, or refused once edited, as a finished one
                if not marked:
                    if ITEM not in opened.user_attrs:
                        opened.set_user_attr(ITEM, identity)
                    marked.append(True)
                if told is not None:
                    told(opened, trial)

            try:
                result = search(
                    recipe,
                    data=data[0] if data else None,
                    target=data[1] if data else None,
                    seed=seed,
                    trials=trials,
                    seconds=seconds,
                    overrides=merged,
                    storage=url,
                    study=study,
                    runs_dir=runs_dir,
                    announce=announce,
                    on_trial=mark,
                    **search_args,
                )
                optuna.load_study(study_name=study, storage=store).set_user_attr(ITEM, identity)
                row["status"] = "incomplete" if result.errors else "done"
                if result.errors:  # the batch run again runs this search again
                    row["error"] = "; ".join(result.errors.values())
            except Exception as exc:  # one search's failure, whatever it is: the batch goes on
                why = (
                    str(exc) if isinstance(exc, AutomlFinError) else f"{type(exc).__name__}: {exc}"
                )
                row["status"], row["error"] = "failed", why
        rows.append(row)
    stored = {s.study_name for s in store.get_all_studies()}
    kept = [r["study"] for r in rows if r["study"] in stored and r["status"] != "failed"]
    out = pd.DataFrame(rows).merge(_best_rows(url, kept), on="study", how="left")
    # typed as the leaderboard's, whatever rows failed: not 6.000 where a search failed,
    # nor objects (seeds all None, flags beside the missing of a failed row)
    types = {"trials": "Int64", "seed": "Int64", "baseline": "boolean", "score": float,
             "score_std": float}  # fmt: skip
    for name in ("study", "recipe", "data", "target", "status", "error", "model", "metric"):
        if name in out:
            types[name] = "str"
    return out.astype(types)


def _check(batch: Batch, overrides: Mapping[str, Any], registry: Any) -> dict[str, Recipe]:
    """Refuse a batch with an entry that cannot run, before its first search: a recipe
    that is not there or not valid with the overrides, a data file that cannot be read,
    a target its header lacks, named by the entry or, where it names none, by a recipe
    (found when its turn came, hours into a nightly batch). Returns each recipe, loaded
    with the overrides."""
    from automl_fin.data._dataset import read_table
    from automl_fin.engine._recipes import load_recipe, with_overrides
    from automl_fin.errors import DataError

    problems, loaded = [], {}
    problems += _named_by_the_batch(batch, overrides)
    for i, recipe in enumerate(dict.fromkeys(batch.recipes)):
        try:
            loaded[recipe] = load_recipe(recipe, overrides, registry=registry)
        except AutomlFinError as exc:
            problems.append(f"recipes[{i}]: {exc}")
    for seed in dict.fromkeys(s for s in batch.seeds if s is not None and loaded):
        try:  # a seed the recipes refuse (negative, too large): not when its turn comes
            with_overrides(next(iter(loaded.values())), {"seed": seed})
        except AutomlFinError as exc:
            problems.append(f"seeds: {exc}")
    for i, entry in enumerate(batch.data):
        if entry is None:  # the recipe's own data: a recipe without any (auto) cannot run
            problems += [
                f"data[{i}]: own, but recipe '{r.name}' has no data of its own; give it a "
                "{path: FILE, target: COLUMN} entry"
                for r in loaded.values()
                if not (r.data.dataset or r.data.path)
            ]
            continue
        path, target = entry
        try:
            columns = [str(c) for c in read_table(path, header_only=True).columns]
        except DataError as exc:
            problems.append(f"data[{i}]: {exc}")
            continue
        if target is not None and target not in columns:
            problems.append(f"data[{i}]: '{path}' has no column '{target}' (its target)")
        elif target is not None:
            problems += [f"data[{i}]: {why}" for why in _misfits(loaded.values(), path, target)]
        if target is None:
            problems += [
                f"data[{i}]: {why}" for r in loaded.values() if (why := _aim(r, path, columns))
            ]
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise RecipeError(
            batch.source or f"batch {batch.name}",
            None,
            f"nothing was searched: {'; '.join(problems[:3])}{more}; fix the batch and run "
            "it again",
        )
    return loaded


def _misfits(recipes: Iterable[Recipe], path: str, target: str) -> list[str]:
    """Why a recipe's named metric does not fit the task of ``path``'s ``target``
    (``set: {metric: rmse}`` over a binary and a regression entry: the binary one failed
    when its turn came, a helper's find). The target column is read only where a
    recipe leaves the task to the data; per-class metrics and ``cost`` are left to the
    search (they need the classes and the costs)."""
    from automl_fin.data._dataset import infer_task, read_table
    from automl_fin.data._metrics import COST, get_metric
    from automl_fin.plugin._specs import Task

    named = [r for r in recipes if r.metric not in ("auto", COST) and ":" not in r.metric]
    task = None
    if any(r.task == "auto" and r.data.series is None for r in named):
        try:
            task = infer_task(read_table(path)[target].dropna())
        except Exception:  # (the search says what is wrong with the file)
            return []
    out = []
    for recipe in named:  # a price series' target is a return: a regression
        known = Task.REGRESSION if recipe.data.series is not None else recipe.task
        try:
            get_metric(recipe.metric, task if known == "auto" else known)
        except RecipeError as exc:
            out.append(f"'{path}' ({target}), recipe '{recipe.name}': {exc.detail}")
    return out


def _named_by_the_batch(batch: Batch, overrides: Mapping[str, Any]) -> list[str]:
    """The overrides (the file's ``set:``, ``--set``) of what the batch's own entries
    name, each with why it is refused: a data file's path and target (ignored for an
    entry that names its file, yet kept as the entry's identity: the batch run again
    without them was refused as edited), and the seed (``seeds:`` names them; set, it
    was ignored beside a list, or applied without showing in the study's name)."""
    flat = _flat(overrides)  # {data: {path: ...}} as data.path
    out = []
    named = [k for k in ("data.path", "data.target", "data.dataset") if k in flat]
    if named and any(entry is not None for entry in batch.data):
        out.append(f"set {', '.join(named)}: the batch's data entries name their files and "
                   "targets; give each as {path: FILE, target: COLUMN} under data:")  # fmt: skip
    if "seed" in flat:
        out.append(f"set seed: a batch's seeds are its list; give seeds: [{flat['seed']}]")
    return out


def _aim(recipe: Recipe, path: str, columns: list[str]) -> str | None:
    """Why an entry that names no target cannot take ``recipe``'s (None where it can):
    the recipe has none, or the table has neither it nor the column it is derived from
    (a price recipe finds its price column in the table: not judged here)."""
    wanted = recipe.data.target
    if recipe.data.series is not None:
        return None
    how = "give the entry one: {path: FILE, target: COLUMN}"
    if wanted is None:
        return f"'{path}' names no target and recipe '{recipe.name}' has none; {how}"
    derived = recipe.data.derive.get(wanted)
    if wanted in columns or (derived is not None and derived.source in columns):
        return None
    return f"'{path}' has no column '{wanted}' (the target of recipe '{recipe.name}'); {how}"


def _another(study: str, before: dict[str, Any], now: dict[str, Any], url: str) -> str:
    """Why a finished study of this name is not this search (a batch file edited since),
    and how to search it: another batch name, or Optuna's command that deletes the study
    from the storage ``url`` (automl-fin has none: the line named none)."""
    words = {
        "recipe": "recipe",
        "data": "data file's bytes (sha256, not the leaderboard's dataset fingerprint)",
        "target": "target",
        "seed": "seed",
    }
    changes = [
        f"{words[k]} {before.get(k)!r} then, {now.get(k)!r} now"
        for k in words
        if before.get(k) != now.get(k)
    ]
    asks = _as_then(before.get("asks"), now["asks"])
    if "asks" in before and before["asks"] != asks:  # the recipe or the batch's set:
        then, later = _flat(before["asks"]), _flat(asks)
        changes += [
            f"{k} {_said(then, k)} then, {_said(later, k)} now"
            for k in sorted(then.keys() | later.keys())
            if then.get(k) != later.get(k)
        ]
    differ = ", ".join(changes)
    return (
        f"study '{study}' was searched for another batch entry ({differ}); give the batch "
        "another name (`name:` in a batch file; --study NAME beside recipes listed on the "
        "command line) to search this one, or delete that study: optuna delete-study "
        f"--study-name {quote(study)} --storage {quote(redact(absolute_url(as_url(url))))}"
    )


def _said(values: Mapping[str, Any], key: str) -> str:
    """A setting's value as a change names it (``'roc_auc'``), or ``as the recipe had it``
    (not set: ``metric as the recipe had it then, 'log_loss' now``)."""
    return repr(values[key]) if key in values else "as the recipe had it"


def _flat(tree: Mapping[str, Any], head: str = "") -> dict[str, Any]:
    """A nested mapping's leaves by dotted names (``validation.n_splits``)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            out.update(_flat(value, f"{head}{key}."))
        else:
            out[f"{head}{key}"] = value
    return out


def _best_rows(url: str, studies: Sequence[str]) -> pd.DataFrame:
    from automl_fin.results._leaderboard import Leaderboard

    columns = ["study", "model", "baseline", "metric", "score", "score_std", "trials"]
    if not studies:
        return pd.DataFrame(columns=columns)
    from automl_fin.engine._trial_record import counts_toward_budget
    from automl_fin.storage._storage import open_storage

    board = Leaderboard(url).query(study=list(studies))
    store = open_storage(url, create=False)
    counted = {}  # trials as --trials counts them: not the ensemble's, stack's, killed ones'
    for name in studies:
        trials = optuna.load_study(study_name=name, storage=store).get_trials(deepcopy=False)
        counted[name] = sum(map(counts_toward_budget, trials))
    counts = pd.Series(counted, name="trials", dtype="int64").rename_axis("study")
    best = board[board["chosen"]].sort_values(["study", "rank"]).groupby("study").head(1)
    return best.set_index("study").join(counts, how="outer").reset_index()[columns]
