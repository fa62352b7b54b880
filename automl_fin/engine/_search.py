"""The search engine: one Optuna study per run over the recipe's candidate specs.

:func:`search` resolves a recipe against data and plugins, opens (or resumes) the study,
runs its trials (:mod:`._objective` cross-validates one; :mod:`._runner` shares the
trial budget between processes), then finishes the run: ensemble, final test,
refitted predictor and report. :func:`work` joins a search another machine started.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
import pandas as pd

from automl_fin._words import COMMAND_LINE, cut_at_word, in_python_words, speaks_python
from automl_fin.data._shape import as_data
from automl_fin.data._table_facts import loosened
from automl_fin.engine import _run_state as run_state
from automl_fin.engine._bag import flush as flush_bags
from automl_fin.engine._interrupts import check as check_interrupt
from automl_fin.engine._objective import Objective, TrialFailed, warm_preprocessors
from automl_fin.engine._problem import Problem, resolve
from automl_fin.engine._recipes import Recipe, content_hash, load_recipe, with_overrides
from automl_fin.engine._reopen import REPEATS_SET
from automl_fin.engine._resume import check_choices, with_study_seed
from automl_fin.engine._runner import fail_stale, held, remaining, run_trials, wait_for_running
from automl_fin.engine._sampling import TrialSeededTPE, make_pruner, make_sampler
from automl_fin.engine._trial_record import (
    TrialRecord,
    best_of,
    counts_toward_budget,
    is_baseline,
    is_candidate,
)
from automl_fin.errors import RecipeError, StorageError
from automl_fin.plugin._registry import Registry, get_registry
from automl_fin.results._artifacts import (
    MANIFEST,
    PREDICTOR_DIR,
    fit_predictor,
    package_versions,
    save_predictor,
)
from automl_fin.results._decision import STORED
from automl_fin.results._ensemble import (
    ALONE,
    STORED_ROWS,
    build_ensemble,
    ensemble_of,
    last_finished,
)
from automl_fin.results._final_test import final_test
from automl_fin.results._reality_check import reality_check
from automl_fin.results._report import write_report
from automl_fin.results._stacking import build_stack
from automl_fin.storage._runs import TOKEN, own, run_folder, writable
from automl_fin.storage._storage import (
    DEFAULT_RUNS_DIR,
    MEMORY,
    absolute_url,
    default_url,
    open_storage,
    redact,
    settle,
)

if TYPE_CHECKING:
    from automl_fin.data._dataset import Dataset
    from automl_fin.results._predictor import Predictor

RETRY = "retry"  # a trial's user attribute: the number of the stopped trial it runs again
STUDY_NOTE = "automl_fin study: "  # on an interrupt: the study it named and stopped
STEP_NOTE = "automl_fin step: "  # ... and the step after the search it stopped, if one

__all__ = ["SearchResult", "search", "work"]

STUDY_SCHEMA = 1
COMPLETE_MARK = "schema"  # the study attribute written last when a study is created
IDENTITY_WAIT_S = 10.0  # how long a half-created study may still be being written
ADOPTED = ":adopted"  # a claim on a study created without an identity (_Claim)
_VERSIONED = ("automl-fin", "optuna", "scikit-learn", "pandas", "numpy")


@dataclass
class SearchResult:
    """What a finished :func:`search` returns."""

    study_name: str
    storage: Any = field(repr=False)  # URL string, or the in-memory storage object
    recipe: Recipe = field(repr=False)  # (its repr: every field; the problem's: the data)
    problem: Problem = field(repr=False)
    run_dir: Path
    seconds: float
    n_trials: int
    predictor: Predictor | None = None  # the best row refitted on all rows (recipe.predictor)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: search, then each step
    # "time" or "trials": the budget that ended the search ("" otherwise); a worker's:
    # "run" (the run ended its search meanwhile), "ended" (it had ended: nothing joined)
    ended_by: str = ""
    # the steps after the search that failed (step: one line), the predictor's too when
    # only the baselines completed; the study is then not marked finished: a batch runs
    # it again
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def dataset(self) -> Dataset:
        return self.problem.dataset

    def leaderboard(self, **query: Any) -> pd.DataFrame:
        """This study's leaderboard (see :meth:`Leaderboard.query`)."""
        from automl_fin.results._leaderboard import Leaderboard

        return Leaderboard(self.storage).query(study=self.study_name, **query)

    @property
    def final_test(self) -> dict[str, Any] | None:
        """Scores on the held-out final test rows (``validation.final_test``), if any."""
        from automl_fin.storage._storage import open_storage

        store = (
            open_storage(self.storage, create=False)
            if isinstance(self.storage, str)
            else self.storage
        )
        study = optuna.load_study(study_name=self.study_name, storage=store)
        return study.user_attrs.get("final_test")

    @property
    def best(self) -> pd.Series:
        """The leaderboard row the predictor refits (its ``chosen`` row): the best
        completed row, or the baseline a ``reality_check`` kept instead of it."""
        board = self.leaderboard(state="COMPLETE")
        board = board[board["chosen"]].head(1)
        if board.empty:  # the search's own line where it said why (every trial failed)
            raise RuntimeError(
                self.errors.get("predictor") or f"study '{self.study_name}' has no completed trial"
            )
        return board.iloc[0]


def _unfinished(tried: list[optuna.trial.FrozenTrial], problem: Problem) -> str:
    """Why no model completed in a search where model trials ran (none failed): what
    stopped and what to change (the cheapest model by declared cost, when it did not
    run out of time itself)."""
    stopped = sorted({m for t in tried if (m := TrialRecord.of(t).model)})
    models = problem.models
    cheapest = min(models, key=lambda m: (models[m].cost, m)) if models else None
    cheaper = (
        f" or fewer, cheaper models (--set models=[{cheapest}])"
        if cheapest and cheapest not in stopped
        else ""
    )
    said = (
        f"no model finished its folds within the budget (stopped: {', '.join(stopped)}); "
        f"give more time (--budget SECONDS){cheaper}, or fewer rows"
        if stopped  # none started: reading and setting up the table took the budget
        else "no model trial started within the budget (reading the data and setting up "
        "the search took it); give more time (--budget SECONDS)"
    )
    return said if COMMAND_LINE.get() else in_python_words(said)


def recipe_of(
    recipe: str | Path | Recipe,
    registry: Registry,
    target: str | None = None,
    trials: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Recipe, dict[str, Any]]:
    """The recipe :func:`search` runs, with its shortcuts and ``overrides`` applied, and
    the overrides merged (``automl-fin run --check`` reads them too)."""
    merged = dict(overrides or {})
    for key, value in (
        ("data.target", target),
        ("budget.trials", trials),
        ("budget.seconds", seconds),
        ("seed", seed),
    ):
        if value is not None:
            if key in merged and merged[key] != value:  # (one went unread, unchecked too)
                flag = "budget" if key == "budget.seconds" else key.rsplit(".", 1)[-1]
                raise RecipeError(
                    "overrides", key, f"set twice, to {merged[key]!r} and by --{flag} {value}; "
                    "give one"
                )  # fmt: skip
            merged[key] = value
    if isinstance(recipe, Recipe):
        recipe = with_overrides(recipe, merged)
    else:
        recipe = load_recipe(recipe, merged, registry=registry)
    if seconds is not None and trials is None and "budget.trials" not in merged:
        recipe = recipe.model_copy(deep=True)  # (never the caller's Recipe object)
        recipe.budget.trials = None  # a time budget asked for is not cut by the recipe's cap
    return recipe, merged


@speaks_python
def search(
    recipe: str | Path | Recipe = "default",
    data: str | Path | pd.DataFrame | pd.Series | None = None,
    *,
    target: str | None = None,
    trials: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    storage: str | None = None,
    study: str | None = None,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    registry: Registry | None = None,
    progress: bool | None = None,
    on_trial: Any = None,
    announce: Any = None,
    cluster: str | None = None,
    cluster_workers: int | None = None,
) -> SearchResult:
    """Run a recipe's search and return where its trials were stored.

    Args:
        recipe: a recipe name (``automl-fin recipes``), a YAML path, or a :class:`Recipe`.
        data: a CSV/Parquet path, a DataFrame or a Series (a table of one column);
            default: the recipe's own data.
        target, trials, seconds, seed: shortcuts for the overrides ``data.target``,
            ``budget.trials``, ``budget.seconds`` and ``seed``; ``seconds`` without
            ``trials`` lifts the recipe's trial cap (the search runs for that time).
        overrides: dotted recipe fields to override, e.g. ``{"validation.n_splits": 3}``.
        storage: Optuna storage URL; default: a SQLite file in ``runs_dir``;
            ``":memory:"`` keeps the study in memory.
        study: study name; an existing study of the same recipe and data is resumed.
        runs_dir: folder for the default storage and the per-study files.
        registry: the plugins to use; default: every installed plugin.
        cluster: a Dask scheduler address: one worker search per Dask worker (or
            ``cluster_workers`` of them) joins this study (:mod:`automl_fin.engine._cluster`);
            the storage must be one they reach (PostgreSQL, or SQLite on this machine).
        progress: show what was resolved and a progress bar on stderr, as
            ``automl-fin run`` does; ``None`` (default): when stderr is a terminal or a
            notebook runs the search; ``False``: silent.
        on_trial: optional ``callback(study, frozen_trial)`` after every trial.
        announce: optional ``callback(line)`` told what was resolved before the search.
    """
    started = time.monotonic()
    registry = registry or get_registry()
    recipe, merged = recipe_of(recipe, registry, target, trials, seconds, seed, overrides)
    if study is not None and not study.strip():  # "" or spaces: no name a user can type again
        raise StorageError(
            f"--study {study!r}: a study name needs a visible character; leave it out for a "
            "new name (<recipe>-<date>-<time>)"
        )
    if cluster_workers is not None and (not cluster or cluster_workers < 1):
        raise StorageError(
            f"--cluster-workers {cluster_workers}: "
            + ("give 1 or more" if cluster else "needs --cluster ADDRESS (a Dask scheduler)")
        )
    if study is not None:
        recipe = with_study_seed(recipe, storage or default_url(runs_dir), study, merged)
    data = as_data(data)  # a Series: a table of one column; an array: refused
    problem = resolve(recipe, data, registry, soft=loosened(recipe, data, merged))
    if progress is None:
        progress = interactive()
    if progress and announce is None:
        announce = _to_stderr
    url = storage or default_url(runs_dir)
    if cluster and url == MEMORY:
        raise StorageError("--cluster: workers cannot reach a ':memory:' storage; pass --storage")
    store = open_storage(url) if storage else None  # (refused: no runs folder made for it)
    runs_dir = writable(runs_dir)
    store = store or open_storage(url)
    name = study or _fresh_name(store, recipe.name)  # (claimed when the study is opened)
    launch = None
    if cluster:
        from automl_fin.engine._cluster import Workers

        # a frame travels to the workers; a path is read there (absolute: their cwd differs)
        shipped = data if isinstance(data, pd.DataFrame) or data is None else Path(data).resolve()

        def launch(name: str) -> Workers:
            return Workers(cluster, storage=absolute_url(url), study=name, data=shipped,
                           runs_dir=runs_dir, n=cluster_workers)  # fmt: skip

    run = _Run(store, url, name, Path(runs_dir), started, progress, on_trial, announce,
               launch=launch, fresh=study is None)  # fmt: skip
    return _execute(problem, run)


def work(
    storage: str,
    study: str,
    *,
    data: str | Path | pd.DataFrame | pd.Series | None = None,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    registry: Registry | None = None,
    progress: bool = False,
    on_trial: Any = None,
    announce: Any = None,
    wait: float = 0.0,
) -> SearchResult:
    """Join a search another machine started (``automl-fin run --storage URL --study
    NAME``): read its recipe and data location from the study, check the data is the
    same (fingerprint), and run queued trials until none is left (or the recipe's
    ``budget.seconds`` ran out here). Ensemble, refit and report stay with ``run``.
    ``wait``: seconds to wait for a study that ``run`` has not created yet (workers
    started at the same moment as the run)."""
    from automl_fin.engine._reopen import reopen

    runs_dir = writable(runs_dir)
    waited = time.monotonic() + wait
    _await_study(storage, study, wait)
    found = reopen(study, storage=storage, runs_dir=runs_dir, data=as_data(data),
                   registry=registry)  # fmt: skip
    # a study whose run has ended: nothing to join (its trials would be in none of its
    # ensemble, predictor and report), unless a run of it starts again within ``wait``
    while run_state.ended(found.study.user_attrs) and time.monotonic() < waited:
        time.sleep(0.2)
    started = time.monotonic()  # its time budget counts from here, not from waiting
    attrs = found.study.user_attrs
    if run_state.ended(attrs):
        return SearchResult(study_name=found.study.study_name, storage=storage,
                            recipe=found.problem.recipe, problem=found.problem,
                            run_dir=run_folder(runs_dir, found.study.study_name), seconds=0.0,
                            n_trials=0, ended_by="ended")  # fmt: skip
    budget = found.problem.recipe.budget
    budget.trials = run_state.budget_of(attrs, budget.trials)  # a later run's --trials
    budget.seconds = run_state.seconds_of(attrs, budget.seconds)  # ... and what its time leaves
    store = open_storage(storage, create=False)
    run = _Run(store, storage, study, Path(runs_dir), started, progress, on_trial, announce,
               worker=True)  # fmt: skip
    return _execute(found.problem, run)


@dataclass(frozen=True)
class _Run:
    """Where and how one process runs a study's trials."""

    store: optuna.storages.BaseStorage
    url: str
    name: str  # the study's
    runs_dir: Path
    started: float  # time.monotonic() at the call
    progress: bool = False
    on_trial: Any = None  # called with (study, frozen trial) after each trial
    announce: Any = None  # called with each summary line
    worker: bool = False  # joins a study another process runs: no queueing, no finish
    launch: Any = None  # starts workers on a cluster (:class:`~automl_fin.engine._cluster.Workers`)
    fresh: bool = False  # ``name`` was made up for a new study: another one if it is taken


def _execute(problem: Problem, run: _Run) -> SearchResult:
    """Run the study's queued (or, with a time budget only, new) trials in this
    process; unless a ``worker``, wait for trials running elsewhere, then finish the
    search (ensemble, final test, predictor, report). ``launch()``: starts workers on a
    cluster once the first trials are queued."""
    store, url, name, started = run.store, run.url, run.name, run.started
    progress, on_trial, announce, worker = run.progress, run.on_trial, run.announce, run.worker
    recipe = problem.recipe
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    predictor, timings, ended_by = None, {}, ""
    errors: dict[str, str] = {}
    bar = workers = None
    try:
        run_dir = run_folder(run.runs_dir, name)  # before the study: a refused one writes nothing
        names = lambda: [s.study_name for s in store.get_all_studies()]  # noqa: E731
        own(run_dir, name, write=False, studies=names)  # another study's folder: refused
        opt_study = _open_study(store, name, problem, url, worker=worker, fresh=run.fresh)
        if opt_study.study_name != name:  # a run started in the same second took the name
            name = opt_study.study_name
            run_dir = run_folder(run.runs_dir, name)
        started_trials = opt_study.get_trials(deepcopy=False)
        own(run_dir, name, token=opt_study.user_attrs.get(TOKEN), new=not started_trials)
        if announce:
            announce(problem.summary())
            announce(f"{'worker on ' if worker else ''}study {name} in {redact(url)}")
        objective = Objective(problem, run_dir, started + (recipe.budget.seconds or float("inf")))
        if isinstance(opt_study.sampler, TrialSeededTPE):  # not a model that cannot fit
            opt_study.sampler.too_slow = lambda: objective.too_slow
            opt_study.sampler.slow_preps = lambda: objective.slow_preps
        if progress:  # after the summary lines, which it would otherwise overwrite
            timed = recipe.budget.seconds is not None
            bar = _ProgressBar(recipe.budget.trials, objective.deadline if timed else None)
        objective.status = bar.status if bar else _silent
        callbacks = [cb for cb in (bar.trial_done if bar else None, on_trial) if cb]
        budget = recipe.budget.trials
        if not worker:  # workers follow this run's budget, and stop when it ends
            run_state.mark(opt_study, "searching", budget, recipe.budget.seconds)
            # the run queues the first trials (baselines, portfolio) once
            with _queueing(run.store, name):  # (two runs at once: one after the other)
                _enqueue_first(opt_study, problem)
        if run.launch is not None:
            workers = run.launch(name)
        while True:
            run_trials(
                opt_study,
                store,
                objective,
                deadline=objective.deadline,
                budget=budget,  # the study's total, shared by all workers
                catch=(TrialFailed,),
                callbacks=callbacks,
                should_stop=lambda: objective.stopped or (worker and _run_ended(opt_study)),
                give_up=lambda: worker and _run_ended(opt_study),
            )
            if worker:
                ended_by = "run" if _run_ended(opt_study) else _worker_end(objective, budget)
                break
            over = objective.stopped or time.monotonic() >= objective.deadline
            if over:  # workers take no more trials (a later one's would be in no ensemble)
                run_state.mark(opt_study, "ended", budget)
            wait_for_running(opt_study, objective.status)
            # a worker that died left a failed trial: its budget is free again, go on
            out_of_time = objective.stopped or time.monotonic() >= objective.deadline
            if budget is None or out_of_time or not remaining(opt_study, budget):
                ended_by = "time" if out_of_time else "trials" if budget is not None else ""
                if not over:
                    run_state.mark(opt_study, "ended", budget)
                    wait_for_running(opt_study, objective.status)  # taken meanwhile
                break
        if workers is not None:
            for line in workers.finish():
                objective.status(f"cluster worker {line}")
        if repeated := objective.warnings.repeated():
            warnings.warn(repeated, stacklevel=2)
        if not worker:
            _say_few_rows(opt_study, problem)
        flush_bags()  # this process's fold models on disk before anyone reads them
        check_interrupt()  # Ctrl-C that Python dropped as the search ended
        if not worker:
            timings["search"] = round(time.monotonic() - started, 3)
            predictor = _after_search(
                opt_study,
                problem,
                run_dir,
                store,
                objective.status,
                timings,
                objective.count,
                errors,
            )
            stamp = dt.datetime.now(dt.UTC).isoformat()  # (to the microsecond, as runs' ends)
            # a batch run again skips a finished study, and runs again one whose steps failed
            opt_study.set_user_attr("finished", None if errors else stamp)
            # compare's chosen: no predictor serves a run's rows with --no-predictor
            opt_study.set_user_attr("predictor_saved", predictor is not None)
    except KeyboardInterrupt as exc:  # a study named here: the one to resume by name
        if run.fresh:
            exc.add_note(f"{STUDY_NOTE}{name}")
        raise
    finally:
        optuna.logging.set_verbosity(previous)
        if workers is not None:
            workers.close()
        if bar:
            bar.close()
        settle(store)  # a SQLite file: one file again
    return SearchResult(
        study_name=name,
        storage=store if url == MEMORY else url,
        recipe=recipe,
        problem=problem,
        run_dir=run_dir,
        seconds=time.monotonic() - started,
        n_trials=objective.count,
        predictor=predictor,
        timings=timings,
        ended_by=ended_by,
        errors=errors,
    )


def _after_search(
    study: optuna.Study,
    problem: Problem,
    run_dir: Path,
    store: Any,
    status: Any,
    timings: dict[str, float],
    ran: int,
    errors: dict[str, str],
) -> Predictor | None:
    """What the recipe asks for once the search is over (the budget covers the search
    only): the ensemble, the stack, the final test, the refitted predictor and the report; each
    step's seconds go to ``timings``, the message of each that failed to ``errors``."""
    recipe = problem.recipe
    predictor = None

    @contextlib.contextmanager
    def step(name: str, text: str) -> Any:
        """Time a step; one that fails is warned about and noted on the study, so
        the finished search (already stored) is never lost to it."""
        check_interrupt()  # Ctrl-C that Python dropped: no step after it
        status(text)
        t0 = time.monotonic()
        try:
            yield
        except KeyboardInterrupt as exc:  # the search is whole; this step and those after not
            exc.add_note(f"{STEP_NOTE}{held(study)} {text}")
            raise
        except (Exception, SystemExit) as exc:  # a plugin's sys.exit() too, as in a trial
            message = f"{name} failed after the search: {type(exc).__name__}: {exc}"
            if isinstance(exc, OSError) and exc.filename:  # a folder no longer writable
                message = (
                    f"{name} failed after the search: cannot write "
                    f"{exc.filename2 or exc.filename} "
                    f"({exc.strerror}); the finished trials are kept: once it is writable, "
                    f"--trials {held(study)} runs the steps after the search without "
                    "searching more"
                )
            study.set_user_attr(f"error:{name}", message[:2000])
            errors[name] = message
            warnings.warn(message, stacklevel=4)
        else:
            if study.user_attrs.get(f"error:{name}"):  # an earlier run's failure, passed now
                study.set_user_attr(f"error:{name}", None)
        timings[name] = round(time.monotonic() - t0, 3)

    kept = ensemble_of(study.user_attrs)
    selected = kept.user_attrs if kept else study.user_attrs.get(ALONE)  # (one trial kept)
    # a resumed study that ran nothing new keeps its selection, unless it predates rules
    # or trials finished after it (a worker's, after the run that selected it had ended)
    fresh = (
        ran > 0
        or selected is None
        or (kept is not None and problem.decision_metric is not None and STORED not in selected)
        or last_finished(study) > selected.get("last_trial", last_finished(study))
    )
    attrs = study.user_attrs
    for key, number in STORED_ROWS:  # a row this run does not ask for is not kept: it
        wanted = recipe.ensemble and (number == -1 or recipe.stacking)  # would be chosen
        if not wanted and attrs.get(key) is not None:
            study.set_user_attr(key, None)
    if not recipe.ensemble and attrs.get(ALONE) is not None:
        study.set_user_attr(ALONE, None)
    # a step an earlier run of the study left failed (or killed: no row) is done again
    if recipe.ensemble and (fresh or attrs.get("error:ensemble")):
        with step("ensemble", "selecting an ensemble"):
            build_ensemble(study, problem, run_dir)
    # a stack older than a finished trial (its run stopped between the two steps) too
    stack = attrs.get(STORED_ROWS[1][0])
    again = (
        fresh
        or attrs.get("error:stack")
        or stack is None
        or stack["user_attrs"].get("last_trial", -1) < last_finished(study)
    )
    if recipe.ensemble and recipe.stacking and again:  # no ensemble: a single model
        with step("stack", "fitting a stack"):
            build_stack(study, problem, run_dir)
    if recipe.reality_check is None:
        reality_check(study, problem)  # forgets a verdict an earlier run of the study left
    else:  # run again on a resumed study: the recipe may newly ask for it
        with step("reality_check", "testing the best row against the baselines"):
            reality_check(study, problem, run_dir)
    if len(problem.test_rows):
        with step("final_test", "scoring the final test rows"):
            final_test(study, problem, run_dir)
    _said_of_the_chosen(study, problem)
    if not _has_complete(study):
        failed = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.FAIL])
        models = [e for t in failed if not is_baseline(t) and (e := TrialRecord.of(t).error)]
        raised = models or [e for t in failed if (e := TrialRecord.of(t).error)]
        tried = [t for t in study.get_trials(deepcopy=False) if not is_baseline(t)]
        who = "model trial" if models else "trial"
        allowed, holds = recipe.budget.trials, held(study)
        spent = (  # a resumed study's budget already spent: nothing ran with the cause fixed
            f"; this run ran none: the study holds {holds} trials of its budget of "
            f"{allowed}, so give more (--trials {holds + allowed}) to search again once the "
            "cause is fixed"
            if ran == 0 and allowed and holds >= allowed
            else ""
        )
        why = (
            f"every {who} that ran failed ({len(raised)}; the first: "
            f"{cut_at_word(raised[0], 600)}); "
            f"see the leaderboard's error column{spent}"
            if raised
            else f"the trial budget went to the {len(study.trials)} "
            f"baseline{'s' * (len(study.trials) != 1)}; give more "
            "trials (--trials N)"
            if not tried
            else _unfinished(tried, problem)
        )
        baselines = any(
            is_baseline(t)
            for t in study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
        )
        what = "only the baselines completed" if baselines else "no trial completed"
        message = f"{what} in study '{study.study_name}', so no predictor was saved: {why}"
        if recipe.predictor:
            errors["predictor"] = message
        warnings.warn(message, stacklevel=2)
    elif recipe.predictor:
        with step("predictor", "refitting the best row on all rows"):
            try:
                fitted = fit_predictor(study, problem, run_dir)
                save_predictor(fitted, run_dir / PREDICTOR_DIR)
            except (Exception, SystemExit):
                _set_aside(run_dir / PREDICTOR_DIR)
                raise
            predictor = fitted
    else:  # --no-predictor: an earlier run's predictor stays only as the chosen row
        try:
            _keep_if_chosen(study, problem, run_dir / PREDICTOR_DIR)
        except Exception as exc:  # the search stays whole, as after a step that failed
            warnings.warn(f"the predictor an earlier run saved could not be checked: {exc}",
                          stacklevel=2)  # fmt: skip
    if recipe.report:
        with step("report", "writing the report"):
            write_report(study, problem, run_dir, storage=store, predictor=predictor)
    return predictor


def _said_of_the_chosen(study: optuna.Study, problem: Problem) -> None:
    """Warn, in one line, when the chosen row adds nothing to a baseline, or else when
    its probabilities are worse than the prior's (the chosen row and the completed
    baselines read once for both)."""
    from automl_fin.results._reality_check import chosen_row

    chosen = chosen_row(study, problem)
    if chosen is None:
        return
    done = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
    bases = [t for t in done if is_baseline(t)]
    if not _no_better_than_a_baseline(chosen, bases, problem):
        _worse_than_the_prior(chosen, bases, problem)
    _too_good(chosen, problem)


# metrics whose best is 1 (a perfect score on every fold of real data is a leak, mostly)
PERFECT_AT_1 = ("roc_auc", "gini", "ks", "accuracy", "balanced_accuracy", "macro_f1", "qwk")
PERFECT = 0.9999  # a fold's score this close to 1 counts as perfect
EXPLAINED = 0.999  # a regression's share of the target's variance said to be too good


def _too_good(chosen: optuna.trial.FrozenTrial, problem: Problem) -> None:
    """Warn when the chosen row is perfect on every fold (a classification metric whose
    best is 1) or explains nearly all of a regression target's variance (R² from its
    RMSE): Ecdat's Kakadu answer, fixed by two bid columns together (neither alone, so
    no column was refused), scored ROC AUC 1.0000 for every model without a word."""
    if is_baseline(chosen) or chosen.value is None or problem.dataset.scale is not None:
        return
    record, name = TrialRecord.of(chosen), problem.metric.name
    folds = record.fold_scores or [float(chosen.value)]
    if problem.task.is_classification:
        bounded = name in PERFECT_AT_1 or name.startswith(("f1:", "recall:", "precision:"))
        if not bounded or min(folds) < PERFECT:
            return
        how = f"scores {name} {float(chosen.value):.4f} on every fold"
    else:
        import numpy as np

        rmse = float(chosen.value) if name == "rmse" else record.metrics.get("rmse")
        spread = float(np.var(problem.dataset.y))
        if rmse is None or not spread or 1 - rmse**2 / spread < EXPLAINED:
            return
        how = f"explains {1 - rmse**2 / spread:.2%} of the variance of the folds' targets"
    warnings.warn(
        f"the chosen row ({record.model or chosen.number}) {how}: real data this "
        f"predictable mostly hold columns that give '{problem.dataset.target}' away "
        "(computed from it, or known only after it), alone or together; check what the "
        "model leans on (the report's importances) and leave such columns out "
        "(--set 'data.drop=[...]'), or ignore this where the target is a formula of them",
        stacklevel=4,
    )


def _no_better_than_a_baseline(
    chosen: optuna.trial.FrozenTrial, bases: list[optuna.trial.FrozenTrial], problem: Problem
) -> bool:
    """Warn (and say so) when the chosen row scores no better than the best baseline on
    the folds (a 10-row table's saved ensemble: ROC AUC 0.5000, the prior's, said
    nothing): its predictions add nothing the baseline does not give."""
    if is_baseline(chosen) or chosen.value is None:
        return False
    base = best_of(bases, problem.metric.sign)
    if base is None or problem.metric.sign * (chosen.value - base.value) > 0:  # type: ignore[operator]
        return False
    warnings.warn(
        f"the chosen row ({TrialRecord.of(chosen).model or chosen.number}) scores "
        f"{problem.metric.name} {chosen.value:.4g} on the folds, no better than the baseline "
        f"{TrialRecord.of(base).model} ({base.value:.4g}): '{problem.dataset.target}' may not "
        "follow from these columns (or the rows are too few to tell); check the leaderboard "
        "before relying on it",
        stacklevel=4,  # (from _after_search's caller, as before)
    )
    return True


def _worse_than_the_prior(
    chosen: optuna.trial.FrozenTrial, bases: list[optuna.trial.FrozenTrial], problem: Problem
) -> None:
    """Warn when the chosen row's probabilities are worse than the prior's (the class
    shares) by the recipe's log loss on the folds: on a table without signal the search
    chose a row of macro-F1 0.197 (the prior's 0.167) whose log loss was 20.24 against
    the prior's 1.608, and said nothing while it saved probabilities of 7e-40."""
    if not problem.task.is_classification:
        return
    priors = [t for t in bases if TrialRecord.of(t).model == "prior"]
    if not priors:
        return
    own = TrialRecord.of(chosen).metrics.get("log_loss")
    prior = TrialRecord.of(priors[0]).metrics.get("log_loss")
    if problem.metric.name == "log_loss":  # the metric itself: the rows' values
        own, prior = chosen.value, priors[0].value
    if own is None or prior is None or not own > prior:
        return
    record = TrialRecord.of(chosen)
    sign, spread = problem.metric.sign, record.score_std or 0.0
    ahead = sign * (float(chosen.value) - float(priors[0].value)) > 2 * spread  # type: ignore[arg-type]
    why = (
        f"they rank the rows by {problem.metric.name} but are overconfident: use them as "
        "scores, or calibrate (--set 'calibration=[sigmoid, isotonic]')"
        if ahead
        else f"'{problem.dataset.target}' may not follow from these columns: check the "
        "leaderboard before relying on them"
    )
    warnings.warn(
        f"the chosen row ({record.model or chosen.number}) has a log loss of {own:.4g} on "
        f"the folds, worse than the prior's {prior:.4g} (the class shares alone): its "
        f"probabilities are worse than none; {why}",
        stacklevel=4,
    )


def _run_ended(study: optuna.Study) -> bool:
    """Whether the run of the study a worker joined has ended its search."""
    return run_state.ended(study.user_attrs) is not None


def _worker_end(objective: Objective, budget: int | None) -> str:
    """What ended a worker's trials, the run's end aside: its time or the study's
    trial budget (no trial left to take)."""
    late = objective.stopped or time.monotonic() >= objective.deadline
    return "time" if late or budget is None else "trials"


def _set_aside(
    folder: Path,
    why: str = "it may not be the study's chosen row any more; fix the error and run the "
    "study again to save one",
) -> None:
    """Move the predictor an earlier run of the study saved to ``<folder>.previous``
    (replacing an older one), so that ``automl-fin predict`` never serves it as the
    study's predictor after a run whose own predictor could not be saved: its chosen row
    may have changed since. Said in one line, with ``why``."""
    if not folder.is_dir():
        return
    previous = folder.with_name(f"{folder.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    folder.rename(previous)
    warnings.warn(
        f"the predictor an earlier run saved was moved to {previous}: {why}", stacklevel=3
    )


def _keep_if_chosen(study: optuna.Study, problem: Problem, folder: Path) -> None:
    """A run that saves no predictor (``--no-predictor``) resumed a study whose earlier
    run saved one: it is set aside (:func:`_set_aside`) unless it is still the study's
    chosen row, the same row with the same score. Kept, ``predict`` served the old
    ensemble while the leaderboard and the report named the new one (a helper's find)."""
    from automl_fin.results._reality_check import chosen_row

    try:
        saved = json.loads((folder / MANIFEST).read_text())
        was = (saved["best"]["trial"], float(saved["metric"]["score"]))
    except (OSError, ValueError, KeyError, TypeError):
        return  # none saved (or not one this version reads: load says so)
    row = chosen_row(study, problem)
    if row is not None and (row.number, row.value) == was:
        return
    now = "none" if row is None else f"{TrialRecord.of(row).model or row.number} ({row.value:.4g})"
    _set_aside(
        folder,
        f"the study's chosen row is now {now}, not its {saved['best'].get('model')} "
        f"({was[1]:.4g}); run the study again without --no-predictor to save one",
    )


def _has_complete(study: optuna.Study) -> bool:
    return any(is_candidate(t) for t in study.get_trials(deepcopy=False))


def _silent(text: str) -> None:
    return None


def interactive() -> bool:
    """Whether progress can be shown: stderr is a terminal that reports a width, or a
    notebook kernel runs this process."""
    import os
    import sys

    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty() and os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except (AttributeError, ValueError, OSError):
        return False


def _to_stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _runnable(entry: dict[str, Any], problem: Problem) -> bool:
    """Whether this search has the model and the preprocessors an ``enqueue`` entry
    names (one it leaves out, or a plugin not installed here, skips the entry: Optuna
    would sample another value in its place without a word)."""
    from automl_fin.engine._pipeline import NONE

    if entry.get("model", next(iter(problem.models))) not in problem.models:
        return False
    steps = [v for k, v in entry.items() if k.startswith("prep.") and isinstance(v, str)]
    return all(v == NONE or v in problem.preprocessors for v in steps)


def _enqueue_first(study: optuna.Study, problem: Problem) -> None:
    """Queue the trials that run first (once per study): one per baseline the study has
    not scored yet, then the models' portfolios, cheapest first, so that a usable model
    exists early on any data, and the recipe's ``enqueue`` entries among them by declared
    cost (an expensive model starts only after the cheap ones, and a fit whose pace
    would overrun the budget stops, see :class:`~automl_fin.plugin._specs.Monitor`; a
    preprocessor whose work is cached counts as a column transform)."""
    fail_stale(study)  # a trial left RUNNING by a dead process is failed first
    trials = study.get_trials(deepcopy=False)
    records = [TrialRecord.of(t) for t in trials]
    # a baseline scored, failed by its own error, or on its way; one cut (Ctrl-C, kill -9)
    # is queued again: the reality check went without it, and a price search saved the
    # mean, not the walk (one failing by its own error is not: each resume ran it again)
    done = {
        r.baseline
        for t, r in zip(trials, records, strict=True)
        if counts_toward_budget(t) or not t.state.is_finished()
    }
    for name in problem.baselines:
        if name not in done:
            study.enqueue_trial({}, user_attrs={"baseline": name})
    queued = {r.enqueued for r in records}
    wanted = [
        (i, params)
        for i, params in enumerate(problem.recipe.enqueue)
        if i not in queued and _runnable(params, problem)
    ]
    # a portfolio trial whose process died (failed without an error) may run again
    taken = {
        r.portfolio
        for t, r in zip(trials, records, strict=True)
        if counts_toward_budget(t) or not t.state.is_finished()
    }
    todo = [(key, params) for key, params in problem.portfolio() if key not in taken]
    retry = _interrupted(trials, records)
    if problem.recipe.budget.trials is not None:  # within the budget, cheapest first
        room = problem.recipe.budget.trials - held(study)
        retry = retry[: max(room, 0)]
        room -= len(retry)
        # the cheapest entry runs first even when `enqueue` alone fills a new study's
        # trial budget: an expensive queued trial (a cold encoder) never leaves it bare
        first = 1 if room > 0 and not taken - {None} else 0
        todo = todo[: max(room - len(wanted), first, 0)]
        wanted = wanted[: max(room - len(todo), 0)]  # the rest: queued when a run resumes
    # queued entries take their place among the portfolio's by declared cost (a warm
    # sentence encoder's vectors cost a column transform): under a short budget a cheap
    # queued trial is not left waiting behind an expensive portfolio entry
    models = problem.all_models
    queue = [(models[str(params["model"])].cost, 0, key, params) for key, params in todo]
    warm = warm_preprocessors(problem) if wanted else set()
    queue += [(_entry_cost(params, problem, warm), 1, i, params) for i, params in wanted]
    for trial in retry:  # first: the search goes on where it was stopped
        study.enqueue_trial(dict(trial.params), user_attrs={RETRY: trial.number})
    for _, kind, key, params in sorted(queue, key=lambda e: e[:2]):  # stable: ties keep order
        attrs = {"portfolio": key} if kind == 0 else {"enqueued": key}
        study.enqueue_trial(dict(params), user_attrs=attrs)


def _interrupted(
    trials: list[optuna.trial.FrozenTrial], records: list[TrialRecord]
) -> list[optuna.trial.FrozenTrial]:
    """The sampled trials a signal stopped (Ctrl-C, SIGTERM: ``interrupted``) and not yet
    run again: their parameters were the sampler's choice and were lost with them (a
    resumed search went on without them; a portfolio entry or a baseline is queued again
    by its own key). A trial run again and stopped again is not run a third time; a
    trial whose process died (its heartbeat stale: perhaps out of memory) is not run
    again."""
    again = {t.user_attrs.get(RETRY) for t in trials}
    return [
        t
        for t, r in zip(trials, records, strict=True)
        if t.state.name == "FAIL"
        and str(r.stopped or "").startswith("interrupted")
        and r.portfolio is None
        and r.enqueued is None
        and r.baseline is None
        and RETRY not in t.user_attrs
        and t.number not in again
        and t.params
    ]


def _entry_cost(params: dict[str, Any], problem: Problem, warm: set[str]) -> float:
    """A queued trial's declared cost: its model's, plus each preprocessor it names
    whose work on this data is not already done (see ``PreprocessorSpec.warm``)."""
    preps = problem.preprocessors
    named = {v for k, v in params.items() if k.startswith("prep.") and v in preps}
    model = problem.all_models.get(str(params.get("model")))
    return (model.cost if model else 0.0) + sum(preps[n].cost for n in named - warm)


class _ProgressBar:
    """One bar for the whole search: trials done, best score, and what runs now
    (model, fold, and the epoch or round a monitored model reports)."""

    def __init__(self, trials: int | None, deadline: float | None) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trials, unit="trial", dynamic_ncols=True, leave=True)
        self.best = ""
        self.shown = 0.0
        self.deadline = deadline  # a time budget: the bar says the time left

    def status(self, text: str) -> None:
        now = time.monotonic()
        if now - self.shown >= 0.1:  # a terminal redraw per epoch at most ten times a second
            self.shown = now
            left = f" | {max(self.deadline - now, 0):.0f} s left" if self.deadline else ""
            self.bar.set_postfix_str(f"{self.best}{text}{left}", refresh=True)

    def trial_done(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with contextlib.suppress(ValueError):  # no completed trial yet
            self.best = f"best {study.best_value:.4f} | "
        self.bar.update(1)
        self.shown = 0.0
        self.status(f"trial {trial.number} {trial.state.name.lower()}")

    def close(self) -> None:
        self.bar.close()


def _fresh_name(store: optuna.storages.BaseStorage, recipe: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return _next_free(store, f"{recipe}-{stamp}")


def _next_free(store: optuna.storages.BaseStorage, base: str, taken: Set[str] = frozenset()) -> str:
    """``base``, or ``base-2``, ``base-3`` … : the first name no study of ``store`` has
    (nor ``taken``: names the storage refused though it lists no such study, e.g. one
    whose names ignore case)."""
    existing = {s.study_name for s in store.get_all_studies()} | taken
    name, n = base, 2
    while name in existing:
        name, n = f"{base}-{n}", n + 1
    return name


FEW_ROWS = 100  # search rows under which the best of many trials is said to be optimistic
MANY_TRIALS = 10


def _say_few_rows(study: optuna.Study, problem: Problem) -> None:
    """Warn where the best of :data:`MANY_TRIALS` completed trials or more was chosen on
    the folds of fewer than :data:`FEW_ROWS` search rows: its score is the luckiest of
    many on a few rows. mtcars (25 rows): RMSE 1.66 on the folds for the best of 61
    trials, 2.1 to 2.7 for one untuned model on other shuffles, 3.2 on held-out rows."""
    rows = len(problem.search_rows)
    done = [
        t for t in study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
        if not TrialRecord.of(t).baseline
    ]  # fmt: skip
    if rows >= FEW_ROWS or len(done) < MANY_TRIALS:
        return
    held = problem.recipe.validation.final_test
    warnings.warn(
        f"{rows} search rows: the best of {len(done)} trials was chosen on the folds that "
        "score it, so its score is optimistic (the luckiest of many on a few rows); "
        + ("read the final test's" if held else "hold rows out to check it: --set "
           "validation.final_test=0.2, or search fewer trials: --trials 5"),
        stacklevel=3,
    )  # fmt: skip


def _open_study(
    store: optuna.storages.BaseStorage,
    name: str,
    problem: Problem,
    url: str,
    *,
    worker: bool,
    fresh: bool = False,
) -> optuna.Study:
    """Create study ``name``, or open it and check that it was searched on this run's
    recipe and data. Creating is the storage's one atomic step (a unique name): of two
    processes opening one new name at once, one creates it and writes what it is searched
    on; the other finds it, waits for that, and is checked against it. A ``fresh`` name
    (made up for a new study, e.g. ``default-20261204-161015``) that is taken becomes the
    next free one instead: two runs started in the same second get a study each."""
    recipe = problem.recipe
    shared = worker or (not url.startswith("sqlite") and url != MEMORY)

    def create(name: str, load: bool) -> optuna.Study:
        return optuna.create_study(
            storage=store,
            sampler=make_sampler(recipe, shared=shared),
            pruner=make_pruner(recipe),
            study_name=name,
            direction=problem.metric.direction,
            load_if_exists=load,
        )

    created, base, taken = False, name, set()
    try:
        while not worker and len(taken) < 100:
            try:
                study, created = create(name, load=False), True
                break
            except optuna.exceptions.DuplicatedStudyError:
                if not fresh:
                    break
                taken.add(name)
                name = _next_free(store, base, taken)
        if not created:
            study = create(name, load=True)
    except ValueError as exc:  # direction of an existing study differs
        raise StorageError(
            f"study '{name}' in {redact(url)} does not fit this run: {exc}"
        ) from None
    ds = problem.dataset
    identity = {
        "recipe": recipe.name,
        "dataset": ds.fingerprint,
        "target": ds.target,
        "features": list(map(str, ds.X.columns)),
        "task": str(problem.task),
        "metric": problem.metric.name,
        "validation": problem.scheme,
        "n_splits": len(problem.splits),
    }
    claim = _Claim(store, name)
    attrs = {} if created else _complete_attrs(study, name, url, identity, claim)
    same_task = bool(attrs) and attrs.get("task") == identity["task"]  # (a metric's hint)
    differ = [_difference(k, attrs[k], v, same_task) for k, v in identity.items()
              if attrs and attrs[k] != v]  # fmt: skip
    if differ and attrs["validation"] != "holdout" and problem.scheme == "holdout":
        differ.append(  # a k-fold study of a version before validation.holdout_from
            "validation.holdout_from turned k-fold into a holdout: --set "
            "validation.holdout_from=null keeps the study's k-fold"
        )
    gone = set(attrs.get("features", ())) - set(identity["features"]) if differ else set()
    if gone and gone <= {"day_of_week", "month"} and recipe.data.series is not None:
        differ.append(  # a study of a version that made both whatever the spacing
            "the calendar features now follow the prices' spacing: --set "
            f"'data.series.calendar=[{', '.join(sorted(gone | {'month'}))}]' keeps the study's"
        )
    classes = json.loads(json.dumps(ds.classes, default=str))
    if attrs and "classes" in attrs and attrs["classes"] != classes:
        stored = attrs["classes"]
        keep = (  # (an inference that changed: codes 1/2 give 2 since session 53)
            f"; --set data.positive_class={stored[-1]} resumes it"
            if len(stored) == 2 and sorted(map(str, stored)) == sorted(map(str, classes))
            else ""
        )
        differ.append(  # another positive class: old trials score P(yes), new ones P(no)
            f"classes were {stored}, are {classes} (data.positive_class or "
            f"data.classes changed, or was inferred otherwise; the last is the positive "
            f"class){keep}"
        )
    wanted = json.loads(json.dumps(recipe.costs, default=str))  # keys as stored: text
    costs = (attrs.get("recipe_config") or {}).get("costs") if attrs else wanted
    if not _same_costs(costs, wanted, ds.classes):  # its rows' cost was scored by the first
        now = "none are given now" if wanted is None else f"are {wanted}"
        differ.append(
            f"costs were {costs}, {now}"
            + ("" if costs is None else f" (--set 'costs={_flow(costs)}' resumes it)")
        )
    left = {c for c, why in ds.dropped.items() if why in ("one value", "id column")}
    if gone and gone <= left:  # a study of a version that kept them as features
        keep = ", ".join(f"{c}: categorical" for c in sorted(gone))
        differ.append(
            "this version leaves out columns of one value and codes distinct on every row: "
            f"--set 'data.columns={{{keep}}}' keeps the study's"
        )
    rows = attrs.get("n_rows") if attrs else None
    if not differ and rows is not None and rows != len(ds.y):  # the same file, read anew
        differ.append(
            f"this version reads {len(ds.y)} rows of the data where the study's trials were "
            f"validated on {rows} (a totals row, or classes too rare for the folds, are now "
            "left out): its folds and out-of-fold rows are of those"
        )
    if attrs.get("seed") is not None and attrs["seed"] != recipe.seed:
        # made meanwhile by a run of another seed (both found no study, one made it): its
        # folds follow its seed, and this run's trials would be scored on others
        raise StorageError(
            f"study '{name}' in {redact(url)} was made meanwhile by another run with seed "
            f"{attrs['seed']} (its folds and final-test rows follow it), not {recipe.seed}: "
            f"resume it with --seed {attrs['seed']} or without --seed, or choose another "
            "--study name for this seed"
        )
    if differ:
        raise StorageError(
            f"study '{name}' in {redact(url)} belongs to another search (recipe "
            f"'{attrs.get('recipe')}'): {'; '.join(differ)}; resume it with the same recipe "
            "and data, or choose another --study name"
        )
    if attrs:  # the choices its trials were asked, and the models they used, fit this run
        check_choices(study, problem, worker=worker)
    if not attrs:
        info = {
            **identity,
            "recipe_config": recipe.model_dump(mode="json"),
            # whether validation.repeats was given (binding) or left to the routing: a
            # worker or a reopened run reads the same folds again
            REPEATS_SET: "repeats" in recipe.validation.model_fields_set,
            "recipe_hash": content_hash(recipe),
            "recipe_source": recipe.source,
            # where the data is read again (a worker, report): a file by its absolute path,
            # whatever folder the command that reads it runs in
            "data_source": ds.source
            if ds.source.startswith(("<", "bundled:"))
            else os.path.abspath(ds.source),  # (a link as named: current.csv, not v3.csv)
            "direction": problem.metric.direction,
            "classes": classes,
            "n_rows": len(ds.y),
            "seed": recipe.seed,
            "models": sorted(problem.models),  # asked before any trial is (check_choices)
            "versions": package_versions(_VERSIONED),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if url != MEMORY:  # its run folder's mark: a later study of its name is another
            info[TOKEN] = uuid.uuid4().hex
        for key, value in info.items():
            study.set_user_attr(key, value)
        study.set_user_attr(COMPLETE_MARK, STUDY_SCHEMA)  # last: the identity is complete
    claim.release()
    return study


def _await_study(url: str, name: str, seconds: float) -> None:
    """Return once study ``name`` exists with its identity written, or after
    ``seconds`` (what then follows says what is missing)."""
    end = time.monotonic() + seconds
    store = None
    while time.monotonic() < end:
        with contextlib.suppress(StorageError):
            store = store or open_storage(url, create=False)
        if store is not None:
            found = [s for s in store.get_all_studies() if s.study_name == name]
            if found and COMPLETE_MARK in found[0].user_attrs:
                return
        time.sleep(0.2)


QUEUEING = ":queueing"  # a claim on queueing a study's first trials (_queueing)
QUEUE_WAIT_S = 30.0  # the longest a run waits for another's queueing (a killed one's)


@contextlib.contextmanager
def _queueing(store: optuna.storages.BaseStorage, name: str) -> Iterator[None]:
    """Queue a study's first trials one run at a time: two runs of one study started
    together both queued its baselines and portfolio (a study of --trials 6 ran 10
    trials, each first trial twice). The claim is the study ``<name>:queueing`` (the
    storage's one atomic step, as for :class:`_Claim`); the other run waits for it to
    go, then finds those trials queued and adds none of its own. A claim left by a
    killed run (queueing takes milliseconds) is waited out for :data:`QUEUE_WAIT_S`,
    then removed, so that no later run waits for it again."""
    claim = _Claim(store, name, QUEUEING)
    end = time.monotonic() + QUEUE_WAIT_S
    while not claim.take():
        if time.monotonic() > end:
            claim.held = True  # a dead run's: this run lets it go when it is done
            break
        time.sleep(0.05)
    try:
        yield
    finally:
        claim.release()


class _Claim:
    """The right to write the identity of a study created without one (``optuna
    create-study``): creating the study ``<name>:adopted`` is the storage's one atomic
    step, so of two runs taking such a study at once only one writes what it is
    searched on; the other waits for it and is checked against it."""

    def __init__(
        self, store: optuna.storages.BaseStorage, name: str, suffix: str = ADOPTED
    ) -> None:
        self.store, self.name, self.held = store, f"{name}{suffix}", False

    def take(self) -> bool:
        """Claim it: False when another run holds it."""
        try:
            optuna.create_study(storage=self.store, study_name=self.name)
        except optuna.exceptions.DuplicatedStudyError:
            return False
        self.held = True
        return True

    def release(self) -> None:
        """Let it go once the identity is written (nothing when never taken)."""
        if self.held:
            with contextlib.suppress(KeyError):
                optuna.delete_study(study_name=self.name, storage=self.store)
            self.held = False


def _complete_attrs(
    study: optuna.Study,
    name: str,
    url: str,
    identity: dict[str, Any],
    claim: _Claim | None,
) -> dict[str, Any]:
    """The attributes of a study this run did not create: a complete identity, or none
    (a study created without one, e.g. by ``optuna create-study``: this run's becomes
    its, if ``claim`` is this run's, else the other run's is waited for). A
    study whose creator stopped while writing it (no ``schema`` mark, written last, or
    an identity key missing) could not be checked against this run: it is refused. Both
    after a grace period for a creator that is writing it right now."""
    end = time.monotonic() + IDENTITY_WAIT_S
    while True:
        attrs = study.user_attrs
        complete = COMPLETE_MARK in attrs and all(k in attrs for k in identity)
        if complete:
            return attrs
        if not attrs and time.monotonic() >= end and claim is not None:
            if claim.take():
                return attrs  # this run's identity becomes the study's
            # another run holds the claim and writes its identity: wait longer for it
            claim, end = None, time.monotonic() + 3 * IDENTITY_WAIT_S
            continue
        if time.monotonic() >= end:  # (a bare study here: the claim's holder stopped)
            claimed = "" if attrs else f"; and '{name}{ADOPTED}'"
            raise StorageError(
                f"study '{name}' in {redact(url)} was left half-created (its process stopped "
                "while writing what it was searched on), so this run cannot be checked "
                f"against it; delete it (optuna delete-study --study-name '{name}' "
                f"--storage URL{claimed}) or choose another --study name"
            )
        time.sleep(0.2)


def _flow(value: Any) -> str:
    """``value`` as YAML's flow style writes it on one line (``{bad: 5, good: 1}``)."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()


def _same_costs(then: Any, now: Any, classes: list[Any]) -> bool:
    """Whether a study's costs and a run's are one cost matrix, however written
    (``{false_negative: 5, false_positive: 1}`` is ``{bad: 5, good: 1}``)."""
    if then is None or now is None or then == now:
        return then == now
    from automl_fin.data._metrics import cost_matrix

    try:
        return cost_matrix(then, classes, "").tolist() == cost_matrix(now, classes, "").tolist()
    except RecipeError:  # (the run's own are checked with the recipe)
        return False


def _difference(key: str, stored: Any, now: Any, same_task: bool = True) -> str:
    if isinstance(stored, list) and isinstance(now, list):
        gone, new = sorted(set(stored) - set(now)), sorted(set(now) - set(stored))
        return f"{key} differ (missing now: {gone or 'none'}; new: {new or 'none'})"
    if key == "n_splits":  # folds x repeats: "n_splits was 6, is 8" for 3 and 4 folds
        key = "validation splits (folds x repeats)"
    if key == "metric" and same_task:  # under costs by roc_auc, before auto meant cost
        return f"metric was {stored!r}, is {now!r} (--set metric={stored} resumes it)"
    return f"{key} was {stored!r}, is {now!r}"
