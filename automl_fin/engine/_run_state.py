"""Whether a study's ``run`` is searching, and with which budget: what workers follow.

``automl-fin run`` marks its study ``searching`` (with the trial budget of this run: a
study run again with ``--trials 80`` is searched to 80 by its workers as well, not to the
budget it was created with) and ``ended`` once it stops taking trials, before its steps
after the search (ensemble, stack, predictor, report). A worker refuses a study whose
run has ended (its trials would be in no ensemble, predictor or report until the study
is run again) and stops taking trials when the run ends meanwhile. A study written
before this mark, or whose run was killed while searching, reads as searching.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import optuna

__all__ = [
    "RUNS",
    "SEARCH",
    "budget_of",
    "ended",
    "mark",
    "runs_of",
    "searching_since",
    "seconds_of",
]

SEARCH = "search"  # the study user attribute: {"state", "trials", "since"}
RUNS = "runs"  # every run's search: [{"since", "seconds", "trials", "ended"}], first first


def mark(study: optuna.Study, state: str, trials: int | None, seconds: float | None = None) -> None:
    """Mark ``study`` as ``searching`` or ``ended`` by this run (budget ``trials`` and
    ``seconds``)."""
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    found = {"state": state, "trials": trials, "since": since, "seconds": seconds}
    study.set_user_attr(SEARCH, found)
    # each run's budget and time, kept for the report of a study searched again (its
    # card gave the last run's budget and the span from the first trial to the last,
    # idle days between the runs included)
    runs = list(study.user_attrs.get(RUNS) or [])
    now = dt.datetime.now(dt.UTC).isoformat()  # (to the microsecond: short runs add up)
    if state == "searching":
        runs.append({"since": now, "seconds": seconds, "trials": trials, "ended": None})
    elif runs and runs[-1].get("ended") is None:
        runs[-1] = {**runs[-1], "ended": now}
    study.set_user_attr(RUNS, runs)


def runs_of(attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each run's search of the study (:func:`mark`), first first: when it started and
    ended (UTC, ISO; ``ended`` ``None`` where not said), its budget of seconds and
    trials."""
    found = attrs.get(RUNS)
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def ended(attrs: Mapping[str, Any]) -> str | None:
    """When the study's run ended its search (UTC, ISO), or ``None`` while it searches
    (or never said)."""
    found = attrs.get(SEARCH)
    if isinstance(found, dict) and found.get("state") == "ended":
        return str(found.get("since") or "")
    return None


def searching_since(attrs: Mapping[str, Any]) -> str | None:
    """When the study's run started the search it has not ended (UTC, ISO), or ``None``
    (ended, or never said)."""
    found = attrs.get(SEARCH)
    if isinstance(found, dict) and found.get("state") == "searching":
        return str(found.get("since") or "")
    return None


def budget_of(attrs: Mapping[str, Any], stored: int | None) -> int | None:
    """The trial budget a worker follows: the searching run's, else ``stored`` (the
    recipe's when the study was created)."""
    found = attrs.get(SEARCH)
    if isinstance(found, dict) and "trials" in found:
        trials = found["trials"]
        return trials if trials is None or isinstance(trials, int) else stored
    return stored


def seconds_of(attrs: Mapping[str, Any], stored: float | None) -> float | None:
    """The time budget a worker follows, from when it joins: what is left of the
    searching run's (its start and ``--budget``), else ``stored`` (the recipe's when the
    study was created). A worker of a study resumed with ``--budget 40`` followed the
    20 s it was created with; one that joined at 12 s of a 40 s search ran to 52 s. A
    left time outside 0 to the budget (clocks set apart) is not trusted: the budget
    whole."""
    found = attrs.get(SEARCH)
    if not isinstance(found, dict) or found.get("state") != "searching":
        return stored
    seconds = found.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return stored
    try:
        since = dt.datetime.fromisoformat(str(found.get("since")))
    except ValueError:
        return float(seconds)
    left = seconds - (dt.datetime.now(dt.UTC) - since).total_seconds()
    return left if 0 < left <= seconds else float(seconds)
