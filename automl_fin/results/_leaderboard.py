"""The leaderboard: a query over every study in an Optuna storage.

``Leaderboard(storage).query(...)`` returns a pandas DataFrame with one row per trial,
ranked by each study's metric in its own direction (best first; unfinished, pruned and
failed trials after the completed ones).
"""

from __future__ import annotations

import copy
import datetime as dt
import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd
from optuna.trial import TrialState

from automl_fin.data._timeseries import RETURN_TARGET
from automl_fin.engine import _run_state as run_state
from automl_fin.engine._recipes import forecast_words, stored_hash
from automl_fin.engine._trial_record import TrialRecord, tie_order
from automl_fin.errors import StorageError
from automl_fin.results._ensemble import with_ensemble
from automl_fin.results._reality_check import chosen_number

__all__ = ["COLUMNS", "STATES", "Leaderboard"]

COLUMNS = [
    "study",
    "recipe",
    "recipe_hash",
    "dataset",
    "data",
    "target",
    "seed",
    "trial",
    "model",
    "baseline",
    "chosen",
    "preprocessors",
    "metric",
    "direction",
    "score",
    "score_std",
    "folds",
    "fit_s",
    "predict_s",
    "duration_s",
    "started",
    "finished",
    "state",
    "params",
    "plugin",
    "error",
]
STATES = ("COMPLETE", "PRUNED", "RUNNING", "WAITING", "FAIL")
# what people type for Optuna's state names (--state failed, completed, queued)
ALIASES = {"FAILED": "FAIL", "COMPLETED": "COMPLETE", "DONE": "COMPLETE", "QUEUED": "WAITING"}

_NUMBERS = ["score", "score_std", "folds", "fit_s", "predict_s", "duration_s"]
_TEXT = ["study", "recipe", "recipe_hash", "dataset", "data", "target", "model", "preprocessors",
         "metric", "direction", "state", "plugin", "error"]  # fmt: skip
# ranks count COMPLETE rows first, then PRUNED, ...; a queued trial (WAITING) and a
# trial queued twice (``surplus``) are shown only when asked for, so they count last
_STATE_ORDER = {state: i for i, state in enumerate(("COMPLETE", "PRUNED", "RUNNING", "FAIL"))}
_STATE_ORDER["WAITING"] = len(_STATE_ORDER)


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str | os.PathLike):  # a data file given as a Path
        return [os.fspath(value)]
    return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]


def _unknown(
    what: str,
    asked: list[str],
    known: Iterable[Any],
    match: Any = None,
    where: str = " in this storage",
) -> None:
    """Refuse filter values that match nothing ``where``, naming the known ones."""
    values = sorted({str(k) for k in known if k is not None})
    hits = match or (lambda a, k: a == k)
    missing = [a for a in asked if not any(hits(a, k) for k in values)]
    if missing:
        shown = ", ".join(values[:30]) + (", ..." if len(values) > 30 else "")
        plural = {"study": "studies"}.get(what, f"{what}s")
        raise StorageError(
            f"no {what} named {', '.join(map(repr, missing))}{where}; {plural}: {shown or '(none)'}"
        )


def _studies_named(asked: list[str], names: list[str]) -> list[str]:
    """The studies ``asked`` names: each by its name, its run folder's name (a listing of
    the runs folder), or a pattern (``nightly-*``: a batch's studies); one that names
    none is refused, naming the known ones."""
    import fnmatch

    from automl_fin.storage._runs import folder_name

    found: list[str] = []
    for a in asked:
        hits = [a] if a in names else [n for n in names if folder_name(n) == a]
        if not hits and any(c in a for c in "*?["):
            hits = [n for n in names if fnmatch.fnmatchcase(n, a)]
        _unknown("study", [a] if not hits else [], names)
        found += hits
    return found


def _is_data(asked: str, fingerprint: str, source: str, prints: Any = None) -> bool:
    """Whether ``--dataset asked`` names a study's data: a prefix of its ``fingerprint``
    (when ``prints`` is given, only of one of them), or its stored ``source``: a bundled
    set's ``bundled:name``, or the file's absolute path or a tail of it as typed
    (``credit.csv``, ``data/credit.csv``)."""
    if fingerprint.startswith(asked) and (prints is None or fingerprint in prints):
        return True
    if asked == source:
        return True
    if source.startswith(("<", "bundled:")) or not asked:
        return False
    return source.endswith("/" + asked.lstrip("/")) or os.path.abspath(asked) == source


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """Refuse an argument outside its few values (a typo answered another question)."""
    if value not in allowed:
        raise ValueError(f"{name}: one of {', '.join(map(repr, allowed))} (got {value!r})")


class Leaderboard:
    """Trials of all studies in ``storage``: a URL, an Optuna storage object, or a path
    (a SQLite file, or a runs folder holding ``automl_fin.db``).

    Studies of several objectives (which rank no single score) are left out; a study
    automl-fin did not write is ranked in the direction Optuna stores for it."""

    def __init__(self, storage: Any) -> None:
        from automl_fin.storage._storage import default_url, open_storage

        if isinstance(storage, os.PathLike):  # a file, or a runs folder as --runs-dir
            path = os.fspath(storage)
            storage = default_url(path) if os.path.isdir(path) else f"sqlite:///{path}"
        if not isinstance(storage, str) and not hasattr(storage, "get_all_studies"):
            raise StorageError(
                f"storage: a URL (sqlite:///runs/automl_fin.db), a path or an Optuna storage, "
                f"not {type(storage).__name__} {storage!r}"
            )
        if isinstance(storage, str):
            from automl_fin.storage._storage import settle

            self._storage = open_storage(storage, create=False)
            settle(self._storage, crashed=True)  # a killed run's file: one file again
        else:
            self._storage = storage

    def studies(self) -> list[str]:
        """Names of all studies in the storage."""
        return [s.study_name for s in self._storage.get_all_studies()]

    def _summaries(self) -> list[Any]:
        """The storage's studies of one objective, each with its direction among its
        attributes (a study of another application's has Optuna's only)."""
        out = []
        for summary in self._storage.get_all_studies():
            if len(summary.directions) != 1:
                continue
            if "direction" not in summary.user_attrs:  # (a copy: the storage's is kept)
                own = "minimize" if summary.direction.name == "MINIMIZE" else "maximize"
                summary = copy.copy(summary)
                summary.user_attrs = {**summary.user_attrs, "direction": own}
            out.append(summary)
        return out

    def query(
        self,
        *,
        recipe: str | Iterable[str] | None = None,
        dataset: str | Iterable[str] | None = None,
        study: str | Iterable[str] | None = None,
        model: str | Iterable[str] | None = None,
        state: str | Iterable[str] | None = None,
        top: int | None = None,
        params: Literal["dict", "flat"] = "dict",
    ) -> pd.DataFrame:
        """Trials matching every given filter, best first.

        Args:
            recipe: recipe name(s).
            dataset: dataset fingerprint(s) or a prefix of one, or data source(s) (the
                path the data was read from, or ``bundled:<name>``).
            study: study name(s).
            model: model spec name(s).
            state: trial state(s): COMPLETE, PRUNED, FAIL, RUNNING, WAITING (queued
                trials of the budget not yet run; left out unless asked for, as are
                FAIL rows of trials queued once too often by two processes at the same
                moment, which never ran: user attribute ``surplus``).
            top: keep the best ``top`` rows per study (after the other filters).
            params: ``dict``: one ``params`` column of dicts; ``flat``: one
                ``param:<name>`` column per parameter instead.

        A filter value that matches nothing in the storage (a misspelt model) raises
        :class:`~automl_fin.errors.StorageError` naming the known values.

        Columns (see docs/using-results.md#leaderboard-columns): study, recipe,
        recipe_hash, dataset (fingerprint), data (source), target, trial, model, baseline, chosen
        (the row the predictor refits), preprocessors, metric, direction, score,
        score_std, folds, fit_s, predict_s, duration_s, started, finished, state, params,
        plugin, error, then ``metric:<name>`` for every metric of the recipe (the search
        metric too), ``test:<name>`` for the final test rows, and ``rank`` (1 = best within its
        study, counted before any model, state or top filter).
        """
        if top is not None and (
            isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1
        ):
            raise ValueError(f"top: a positive whole number of rows per study (got {top!r})")
        top = None if top is None else int(top)  # numpy's too
        _one_of("params", params, ("dict", "flat"))
        recipes, datasets = _as_list(recipe), _as_list(dataset)
        studies, models = _as_list(study), _as_list(model)
        for what, asked in (("recipe", recipes), ("dataset", datasets), ("study", studies),
                            ("model", models)):  # fmt: skip
            if asked is not None and any(not str(a).strip() for a in asked):
                # (a prefix "" of every fingerprint: --dataset "" matched every study)
                raise StorageError(f"{what}: an empty name matches nothing; name one, or leave "
                                   f"the {what} filter out for all")  # fmt: skip
        states = [ALIASES.get(s.upper(), s.upper()) for s in _as_list(state) or []] or None
        summaries = self._summaries()
        if studies:
            several = {s.study_name for s in self._storage.get_all_studies()} - {
                s.study_name for s in summaries
            }
            if asked := sorted(set(studies) & several):
                raise StorageError(
                    f"study '{asked[0]}' optimises several objectives: a leaderboard ranks "
                    "one score; read it with optuna.load_study"
                )
            studies = _studies_named(studies, [s.study_name for s in summaries])
        if recipes:
            _unknown("recipe", recipes, [s.user_attrs.get("recipe") for s in summaries])
        if datasets:
            prints = {str(s.user_attrs.get("dataset")) for s in summaries}
            sources = [s.user_attrs.get(k) for s in summaries for k in ("dataset", "data_source")]
            _unknown("dataset", datasets, sources, lambda a, k: _is_data(a, k, k, prints))
            for asked in datasets:  # a prefix of two fingerprints mixed two data sets' rows
                alike = sorted(p for p in prints if p.startswith(asked))
                if len(alike) > 1 and asked not in sources:
                    raise StorageError(
                        f"dataset '{asked}' starts {len(alike)} data sets' fingerprints "
                        f"({', '.join(alike[:5])}); give more of one"
                    )
        if states:
            _unknown("state", states, STATES, where="")  # (every state: one no trial is in
            # is no error, an empty board)
        # the states a wanted row's rank depends on (ranks count COMPLETE rows first, then
        # PRUNED, ...): only those are read (10,000 trials: 0.6 ms a trial through Optuna)
        last = max(_STATE_ORDER[s] for s in states) if states else None
        fetch = None if last is None else tuple(s for s, i in _STATE_ORDER.items() if i <= last)
        rows: list[dict[str, Any]] = []
        for summary in summaries:
            name, attrs = summary.study_name, summary.user_attrs
            if studies and name not in studies:
                continue
            if recipes and attrs.get("recipe") not in recipes:
                continue
            fingerprint = str(attrs.get("dataset", ""))
            source = str(attrs.get("data_source", ""))
            if datasets and not any(_is_data(d, fingerprint, source) for d in datasets):
                continue
            attrs = {**attrs, "recipe_hash": stored_hash(attrs)}  # this version's hash
            study_rows = [_row(name, attrs, t) for t in self._trials(summary, fetch)]
            rows.extend(_ranked(study_rows, attrs, wanted=states))
        # the studies' metric columns, whatever rows the model and state filters leave (a
        # PRUNED row has none: its columns came and went with the filter)
        extra = list(
            dict.fromkeys(c for r in rows for c in r if c.startswith(("metric:", "test:")))
        )
        if models:
            known = {r["model"] for r in rows}
            if not set(models) <= known:  # a model with no row read: known in other states?
                known |= set(self._models())
            _unknown("model", models, known)
            rows = [r for r in rows if r["model"] in models]
        if states:
            rows = [r for r in rows if r["state"] in states]
        return _frame(rows, top=top, flat=params == "flat", extra=extra)

    def compare(
        self,
        by: Literal["data", "model"] = "data",
        *,
        recipe: str | Iterable[str] | None = None,
        dataset: str | Iterable[str] | None = None,
        study: str | Iterable[str] | None = None,
        model: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Which model wins where, across studies: the best completed row per recipe and
        data set (``by="data"``), or per recipe, data set and model (``by="model"``,
        best model first within each data set). Rows of different metrics or recipe
        contents (``recipe_hash``) are never compared. Filters as in :meth:`query`.

        Columns: recipe, recipe_hash, data, target, dataset, metric, direction, model, score,
        score_std,
        study, trial (where the best row is), chosen (whether its study's predictor serves
        that row: False where the study's reality check kept a baseline, the row having
        beaten the others only by luck, and while its study searches or after a run
        killed mid-search or before the steps after its search saved the predictor),
        studies and trials (how many completed
        trials, the ensemble and stack rows not counted, of how many studies competed),
        study_mean and study_sd (the mean and standard deviation of each study's best
        there: ``score`` is their maximum),
        rank (1 = best within the recipe, data set and metric); the rows of one recipe,
        data set and metric come together. Studies automl-fin did not write (no recipe)
        are not compared."""
        _one_of("by", by, ("data", "model"))
        board = self.query(
            recipe=recipe, dataset=dataset, study=study, model=model, state="COMPLETE"
        )
        board = board[board["recipe"].notna()]  # another application's studies: no recipe
        # a study searching now, or killed mid-search, serves no predictor of its rows
        # (a killed study's row, tied with a finished one's, was shown as served); nor
        # one whose steps after its last search did not finish (killed while saving the
        # predictor, or a step failed: chosen, and no predictor/ folder, a prober's find)
        unserved = {s.study_name for s in self._summaries() if not _served(s.user_attrs)}
        board = board.assign(chosen=board["chosen"] & ~board["study"].isin(unserved))
        task = ["recipe", "recipe_hash", "dataset", "target", "metric"]
        keys = task + (["model"] if by == "model" else [])
        columns = ["recipe", "recipe_hash", "data", "target", "dataset", "metric", "direction",
                   "model", "score", "score_std", "study", "trial", "chosen", "studies",
                   "study_mean", "study_sd", "trials", "rank"]  # fmt: skip
        if board.empty:  # typed as a filled answer: masks on it keep its columns
            counts = dict.fromkeys(("studies", "trials", "rank"), "int64")
            spread = dict.fromkeys(("study_mean", "study_sd"), float)
            return board.reindex(columns=columns).astype(counts | spread).reset_index(drop=True)
        sign = board["direction"].map({"maximize": -1.0, "minimize": 1.0})
        # ties in the study's own order (its rank: the simpler first, the chosen row
        # first), not by trial number (the ensemble's -1 was shown for a tied logreg)
        board = board.assign(_key=board["score"] * sign).sort_values(["_key", "study", "rank"])
        groups = board.groupby(keys, sort=False, dropna=False)
        best = groups.head(1).copy()
        best["studies"] = groups["study"].transform("nunique").loc[best.index]
        # ``score`` is the best over the group's studies (seeds): their bests' mean and
        # spread say what one study scores (a best of three seeds is a maximum)
        # (by group number: a join on keys holding NaN, a study without a target, put the
        # figures on other groups' rows)
        group = groups.ngroup()
        each = board.groupby([group, board["study"]], sort=False)["score"].first()
        facts = each.groupby(level=0).agg(["mean", "std"])  # (std: ddof 1)
        at = group.loc[best.index]
        best["study_mean"] = facts["mean"].reindex(at).to_numpy()
        best["study_sd"] = facts["std"].reindex(at).to_numpy()
        # trials, not rows: the ensemble and stack rows (-1, -2) are not counted
        tried = board.assign(_tried=board["trial"] >= 0).groupby(keys, sort=False, dropna=False)
        best["trials"] = tried["_tried"].transform("sum").loc[best.index].astype("int64")
        best["rank"] = best.groupby(task, sort=False, dropna=False).cumcount() + 1
        # one group after another (a recipe on a file under two metrics or contents)
        order = ["recipe", "data", "target", "metric", "recipe_hash", "dataset", "rank"]
        best = best.sort_values(order, na_position="last")
        return best[columns].reset_index(drop=True)

    def _trials(self, summary: Any, states: tuple[str, ...] | None = None) -> list[Any]:
        """The study's trials (of ``states`` only, if given), its ensemble and its stack
        (stored on the study, -1 and -2)."""
        study_id = self._storage.get_study_id_from_name(summary.study_name)
        read = None if states is None else tuple(TrialState[s] for s in states)
        trials = self._storage.get_all_trials(study_id, deepcopy=False, states=read)
        return with_ensemble(trials, summary.user_attrs)

    def _models(self) -> list[str]:
        """Every model with a trial in the storage."""
        return [
            _row(s.study_name, s.user_attrs, t)["model"]
            for s in self._summaries()
            for t in self._trials(s)
        ]


def _ranked(
    rows: list[dict[str, Any]], attrs: dict[str, Any], *, wanted: list[str] | None
) -> list[dict[str, Any]]:
    """One study's rows with ``rank`` (1 = best), counted before any model, state or
    top filter, so that filtering never renumbers them, and ``chosen`` (the row the
    predictor refits: the best completed row that is not a baseline, or the baseline
    the study's reality check kept instead). Queued trials not run yet (WAITING) and
    trials queued once too often (``surplus``, never run) are left out unless their
    state is ``wanted``."""

    for r in rows:
        r["_hidden"] = r["state"] == "WAITING" or r.pop("_surplus")
    sign = rows[0]["_sign"] if rows else 1
    rows.sort(  # the hidden last: whether they are shown renumbers no other row
        key=lambda r: (
            r["_hidden"],
            _STATE_ORDER.get(r["state"], 9),
            r["score"] is None,
            -sign * (r["score"] if r["score"] is not None else 0.0),
            *tie_order(r["trial"], r.get("metric:log_loss")),
        )
    )
    done = [r for r in rows if r["state"] == "COMPLETE"]
    best = next((r for r in done if not r["baseline"]), None)
    chosen = None if best is None else chosen_number(attrs, best["trial"], best["score"])
    if best is not None and not any(r["trial"] == chosen for r in done):
        chosen = best["trial"]  # the verdict names a row gone since: the best, as chosen_row
    for i, r in enumerate(rows, 1):
        r["rank"] = i
        r["chosen"] = r["trial"] == chosen and r["state"] == "COMPLETE"
    return [r for r in rows if not r.pop("_hidden") or bool(wanted and r["state"] in wanted)]


def _frame(
    rows: list[dict[str, Any]], *, top: int | None, flat: bool, extra: list[str]
) -> pd.DataFrame:
    """The board of ``rows``, with the metric and final-test columns ``extra`` (those of
    the studies asked for, whatever rows are left)."""
    # by metric, and a metric of each class in the classes' order (the order the rows give
    # them: recall:Average before recall:Very Low put an ordered scale out of order)
    seen = {c: i for i, c in enumerate(extra)}

    def key(c: str) -> tuple[str, int]:
        return ":".join(c.split(":", 2)[:2]), seen[c]

    columns = sorted((c for c in extra if c.startswith("metric:")), key=key)
    columns += sorted((c for c in extra if c.startswith("test:")), key=key)
    frame = pd.DataFrame(rows, columns=None if rows else [*COLUMNS, *columns, "rank"])
    if frame.empty:  # typed as a filled frame is, so that masks on it select rows
        return _typed(frame.reindex(columns=[*COLUMNS, *columns, "rank"]), columns)
    frame = _typed(frame.reindex(columns=[*COLUMNS, *columns, "rank", "_sign"]), columns)
    frame = frame.sort_values(["study", "rank"])
    if top is not None:
        frame = frame.groupby("study", sort=False).head(top)
    # studies grouped by metric (an AUC and a log loss are not ordered against each
    # other: every roc_auc study came before every log_loss one), the best first in each
    key = -frame["score"] * frame["_sign"]
    frame["_best"] = key.groupby(frame["study"]).transform("min")
    frame = frame.sort_values(["metric", "_best", "study", "rank"], na_position="last")
    frame = frame.drop(columns=["_sign", "_best"]).reset_index(drop=True)
    if flat:
        names = sorted({k for p in frame["params"] for k in p})
        flat_params = pd.DataFrame(
            {f"param:{k}": _param_column([p.get(k, _ABSENT) for p in frame["params"]])
             for k in names},
            index=frame.index,
        )  # fmt: skip
        at = frame.columns.get_loc("params")
        frame = pd.concat([frame.iloc[:, :at], flat_params, frame.iloc[:, at + 1 :]], axis=1)
    return frame


_ABSENT = object()  # a row whose model has no such parameter


def _param_column(values: list[Any]) -> pd.Series:
    """One parameter's values across rows, missing where a row's model has none: whole
    numbers stay whole (``Int64``: mixed with another model's rows they were floats,
    ``492.0``) and flags flags (``boolean``), whatever rows a filter leaves. A value
    ``None`` of a parameter of choices (``class_weight``: ``balanced`` or ``None``) is the
    text ``none``, not missing: a ``groupby`` dropped its rows; also in a study whose
    rows all chose ``None`` (the column was floats there, text beside another study)."""
    given = [v for v in values if v is not _ABSENT and v is not None]
    if all(isinstance(v, str) for v in given) and any(v is None for v in values):
        values = ["none" if v is None else v for v in values]
        given = [v for v in values if v is not _ABSENT]
    values = [None if v is _ABSENT else v for v in values]
    if given and all(isinstance(v, bool) for v in given):
        return pd.Series(values, dtype="boolean")
    if given and all(isinstance(v, int) and not isinstance(v, bool) for v in given):
        return pd.Series(values, dtype="Int64")
    if given and all(isinstance(v, str) for v in given):
        return pd.Series(values, dtype="str")
    return pd.Series(values, dtype=None if given else "float64")


def _typed(frame: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    """The board's columns in their types whatever rows it holds (none, or only rows
    without an error): floats, text, whole numbers, flags and times in microseconds."""
    for col in [*_NUMBERS, *extra]:  # float even when every trial failed (all None)
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in _TEXT:  # text even where every row has none (an error column of a filter)
        frame[col] = frame[col].astype("str")
    for col in ("started", "finished"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")  # no row: [s]
    types = {"folds": "Int64", "rank": "int64", "trial": "int64", "seed": "Int64"}
    return frame.astype(types | {"baseline": bool, "chosen": bool})


def _target(attrs: dict[str, Any]) -> Any:
    """A study's target as its rows name it: a price recipe's ``next_return`` as what
    it forecasts (studies of a file's Close and of its Open, or 5 steps ahead in
    dollars, all read ``next_return``; a helper's find)."""
    target = attrs.get("target")
    series = ((attrs.get("recipe_config") or {}).get("data") or {}).get("series")
    if target == RETURN_TARGET and isinstance(series, dict) and series.get("price"):
        return forecast_words(series)
    return target


def _row(study: str, attrs: dict[str, Any], t: Any) -> dict[str, Any]:
    rec = TrialRecord.of(t)
    died = None if rec.error or rec.stopped else _died(t, rec, bool(attrs.get("recipe")))
    duration = (  # a dead process's trial: its end is unknown, not when it was found
        (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start and not died
        else None
    )
    params = dict(t.params)
    model = rec.model or params.get("model")
    score = t.value if t.state.name == "COMPLETE" else None
    direction = attrs.get("direction", "maximize")
    row: dict[str, Any] = {
        "study": study,
        "recipe": attrs.get("recipe"),
        "recipe_hash": attrs.get("recipe_hash"),
        "dataset": attrs.get("dataset"),
        "data": attrs.get("data_source"),
        "target": _target(attrs),
        "seed": (attrs.get("recipe_config") or {}).get("seed"),
        "trial": t.number,
        "model": model,
        "baseline": bool(rec.baseline),
        "preprocessors": rec.preprocessors,
        "metric": attrs.get("metric"),
        "direction": direction,
        "score": score,
        # a pruned trial's: no score; one split's (a holdout): no spread, not 0.0
        "score_std": None if score is None or len(rec.fold_scores) == 1 else rec.score_std,
        "folds": len(rec.fold_scores) or None,
        "fit_s": rec.fit_s,
        "predict_s": rec.predict_s,
        "duration_s": duration,
        "started": t.datetime_start,
        "finished": None if died else t.datetime_complete,  # when found dead, not its end
        "state": t.state.name,
        "params": params,
        "plugin": rec.plugin,
        "error": rec.error or rec.stopped or died,
        "_sign": 1 if direction == "maximize" else -1,
        "_surplus": rec.surplus,
    }
    if attrs.get("metric"):
        row[f"metric:{attrs['metric']}"] = score
    for name, value in rec.metrics.items():
        row[f"metric:{name}"] = value
    tested = (attrs.get("final_test") or {}).get("trials", {}).get(str(t.number), {})
    for name, value in tested.items():
        if name not in ("model", "error"):
            row[f"test:{name}"] = value
    return row


def _served(attrs: Mapping[str, Any]) -> bool:
    """Whether a study's latest search ended and the steps after it (the predictor's
    among them) finished since, a predictor saved (a study that says neither, written
    before either was kept: as it was read then, served)."""
    if run_state.searching_since(attrs) or attrs.get("predictor_saved") is False:
        return False
    runs = run_state.runs_of(attrs)
    ended = (runs[-1].get("ended") if runs else None) or run_state.ended(attrs)
    if not ended:
        return True
    finished = attrs.get("finished")
    return isinstance(finished, str) and dt.datetime.fromisoformat(
        finished
    ) >= dt.datetime.fromisoformat(str(ended))


def _died(t: Any, rec: TrialRecord, ours: bool = True) -> str | None:
    """Why a failed trial with no error of its own failed: its process ended first
    (``kill -9``, out of memory, a machine lost), failed as stale by another run (of an
    automl-fin study, ``ours``; another application's: the cause is unknown); and
    a running trial whose process is known to have ended (on this machine: a reader
    fails nothing, the next search does)."""
    who = f" ({rec.process})" if rec.process else ""
    if t.state.name == "RUNNING":
        from automl_fin.engine._process import ended_here

        if ended_here(rec.process, rec.machine):
            return (
                f"its process{who} has ended (kill -9, out of memory, a crash); the trial "
                "is failed when the search is resumed"
            )
        return None
    if t.state.name != "FAIL":
        return None
    if rec.surplus:  # (its row was blank: asked for by --state FAIL, it said nothing)
        return "surplus: queued once too often while processes shared the budget; never run"
    if not ours:  # (another application's study: a plain objective's NaN, its exception)
        return "failed without a recorded error (not by an automl-fin run: its cause is unknown)"
    return f"its process{who} ended before it did (kill -9, out of memory, a crash); not counted"
