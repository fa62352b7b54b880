"""The leaderboard: a query over every study in an Optuna storage.

``Leaderboard(storage).query(...)`` returns a pandas DataFrame with one row per trial,
ranked by each study's metric in its own direction (best first; unfinished, pruned and
failed trials after the completed ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from automl_fin.errors import StorageError

__all__ = ["COLUMNS", "Leaderboard"]

COLUMNS = [
    "study",
    "recipe",
    "dataset",
    "trial",
    "model",
    "baseline",
    "preprocessors",
    "metric",
    "score",
    "score_std",
    "folds",
    "fit_s",
    "predict_s",
    "duration_s",
    "state",
    "params",
    "plugin",
    "error",
]

_NUMBERS = ["score", "score_std", "folds", "fit_s", "predict_s", "duration_s"]
_STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "RUNNING": 2, "WAITING": 3, "FAIL": 4}


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class Leaderboard:
    """Trials of all studies in ``storage`` (a URL or an Optuna storage object)."""

    def __init__(self, storage: Any) -> None:
        from automl_fin.storage import open_storage

        self._storage = open_storage(storage, create=False) if isinstance(storage, str) else storage

    def studies(self) -> list[str]:
        """Names of all studies in the storage."""
        return [s.study_name for s in self._storage.get_all_studies()]

    def query(
        self,
        *,
        recipe: str | Iterable[str] | None = None,
        dataset: str | Iterable[str] | None = None,
        study: str | Iterable[str] | None = None,
        model: str | Iterable[str] | None = None,
        state: str | Iterable[str] | None = None,
        top: int | None = None,
    ) -> pd.DataFrame:
        """Trials matching every given filter, best first.

        Args:
            recipe: recipe name(s).
            dataset: dataset fingerprint(s), or a prefix of one.
            study: study name(s).
            model: model spec name(s).
            state: trial state(s): COMPLETE, PRUNED, FAIL, RUNNING, WAITING (queued
                trials of the budget not yet run; left out unless asked for, as are
                FAIL rows of trials queued once too often by two processes at the same
                moment, which never ran: user attribute ``surplus``).
            top: keep the best ``top`` rows per study.

        Columns: study, recipe, dataset, trial, model, baseline (a reference model the
        recipe lists, not searched), preprocessors, metric, score, score_std, folds (the
        validation splits the score averages: fewer for an expensive model), fit_s,
        predict_s, duration_s, state, params, plugin, error, then one column per extra
        metric the recipe reports (``metric:<name>``), the scores on the final test
        rows held out of the search (``test:<name>``, for the trials scored there) and
        ``rank`` (1 = best within its study).
        """

        recipes, datasets = _as_list(recipe), _as_list(dataset)
        studies, models = _as_list(study), _as_list(model)
        states = [s.upper() for s in _as_list(state) or []] or None
        if studies:
            known = set(self.studies())
            missing = [s for s in studies if s not in known]
            if missing:
                raise StorageError(
                    f"no study named {', '.join(map(repr, missing))} in this storage; "
                    f"studies: {', '.join(sorted(known)) or '(none)'}"
                )
        rows: list[dict[str, Any]] = []
        for summary in self._storage.get_all_studies():
            name = summary.study_name
            if studies and name not in studies:
                continue
            attrs = summary.user_attrs
            if recipes and attrs.get("recipe") not in recipes:
                continue
            fingerprint = str(attrs.get("dataset", ""))
            if datasets and not any(fingerprint.startswith(d) for d in datasets):
                continue
            trials = self._storage.get_all_trials(summary._study_id, deepcopy=False)
            for t in trials:
                row = _row(name, attrs, t)
                if models and row["model"] not in models:
                    continue
                if states and row["state"] not in states:
                    continue
                if not states and (row["state"] == "WAITING" or t.user_attrs.get("surplus")):
                    continue  # queued budget not run yet, or queued once too often
                rows.append(row)
        frame = pd.DataFrame(rows, columns=None if rows else COLUMNS)
        if frame.empty:
            return frame.reindex(columns=[*COLUMNS, "rank"])
        extra = sorted(c for c in frame.columns if c.startswith("metric:"))
        extra += sorted(c for c in frame.columns if c.startswith("test:"))
        frame = frame.reindex(columns=[*COLUMNS, *extra, "_sign"])
        for col in [*_NUMBERS, *extra]:  # float even when every trial failed (all None)
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        frame["folds"] = frame["folds"].astype("Int64")
        frame["_state"] = frame["state"].map(_STATE_ORDER).fillna(9)
        frame["_key"] = -frame["score"] * frame["_sign"]
        frame = frame.sort_values(["study", "_state", "_key", "trial"], na_position="last")
        frame["rank"] = frame.groupby("study").cumcount() + 1
        if top is not None:
            frame = frame[frame["rank"] <= top]
        # the best studies' rows first when several studies share a metric
        frame["_best"] = frame.groupby("study")["_key"].transform("min")
        frame = frame.sort_values(["_best", "study", "rank"], na_position="last")
        return frame.drop(columns=["_sign", "_state", "_key", "_best"]).reset_index(drop=True)


def _row(study: str, attrs: dict[str, Any], t: Any) -> dict[str, Any]:
    ua = t.user_attrs
    duration = (
        (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start
        else None
    )
    params = {k: v for k, v in t.params.items()}
    model = ua.get("model") or params.get("model")
    row: dict[str, Any] = {
        "study": study,
        "recipe": attrs.get("recipe"),
        "dataset": attrs.get("dataset"),
        "trial": t.number,
        "model": model,
        "baseline": bool(ua.get("baseline")),
        "preprocessors": ua.get("preprocessors"),
        "metric": attrs.get("metric"),
        "score": t.value if t.state.name == "COMPLETE" else None,
        "score_std": ua.get("score_std"),
        "folds": len(ua.get("fold_scores") or []) or None,
        "fit_s": ua.get("fit_s"),
        "predict_s": ua.get("predict_s"),
        "duration_s": duration,
        "state": t.state.name,
        "params": params,
        "plugin": ua.get("plugin"),
        "error": ua.get("error") or ua.get("stopped"),
        "_sign": 1 if attrs.get("direction", "maximize") == "maximize" else -1,
    }
    for name, value in (ua.get("metrics") or {}).items():
        row[f"metric:{name}"] = value
    tested = (attrs.get("final_test") or {}).get("trials", {}).get(str(t.number), {})
    for name, value in tested.items():
        if name not in ("model", "error"):
            row[f"test:{name}"] = value
    return row
