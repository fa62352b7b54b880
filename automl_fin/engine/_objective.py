"""One trial: a sampled pipeline cross-validated on the recipe's splits.

Each call samples a model, its parameters and one preprocessor per slot, then fits and
scores the pipeline fold by fold, reporting the running mean score to the pruner after
folds 2, 3, 5, 8 … (never after the last) and a monitored model's learning curve on the
first fold (each report is a storage write). The trial's record (model, preprocessors,
provider, per-fold scores, extra metrics, timings: :mod:`automl_fin.engine._trial_record`) is
written when its model is known and when it ends; a plugin that raises fails the trial
with its name in the error.
Out-of-fold predictions of completed trials are saved in the run folder.
"""

from __future__ import annotations

import contextlib
import functools
import math
import pickle
import sys
import textwrap
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState
from threadpoolctl import ThreadpoolController

from automl_fin.engine._bag import fitted_under, forget, kept, save_bag
from automl_fin.engine._fitting import plan_of, trial_seed
from automl_fin.engine._floor import mark_floor
from automl_fin.engine._fold_match import matched_score
from automl_fin.engine._interrupts import check as check_interrupt
from automl_fin.engine._interrupts import heard_sigint, plugins_own
from automl_fin.engine._pipeline import (
    Plan,
    build_pipeline,
    check_rows,
    culprit,
    feature_info,
    unpicklable,
)
from automl_fin.engine._predictions import check_prediction, predict
from automl_fin.engine._prior_shift import mark, shift
from automl_fin.engine._probe import probe_rows, probe_seconds
from automl_fin.engine._problem import Problem
from automl_fin.engine._process import machine, this_process
from automl_fin.engine._sampling import PRUNER_STARTUP, CompletedOnce, completed, lost_race
from automl_fin.engine._staged import staged, tag
from automl_fin.engine._time_limit import Limit, TrialTimeout, time_limit
from automl_fin.engine._trial_record import TrialRecord, is_baseline, is_candidate
from automl_fin.engine._trial_warnings import TrialWarnings
from automl_fin.errors import ArtifactError, BudgetStop, Pruned
from automl_fin.plugin._budget import budget_checked
from automl_fin.plugin._specs import Monitor
from automl_fin.storage._storage import atomic_save_npy

__all__ = ["Objective", "TrialFailed"]

# Pruner steps per fold: a monitored model's learning-curve steps first, then the
# fold's running mean at the last step, so ``last_step`` only grows within a trial.
STRIDE = 1000
CURVE_WARMUP = 5  # learning-curve reports of a fold before it may be pruned
CURVE_GROWTH = 1.4  # a judged learning-curve step is ~40 % past the previous one
CURVE_SHARE = 0.2  # of a fit's planned steps (``Monitor.plan``) before it is judged


def _judged_steps() -> frozenset[int]:
    """The learning-curve steps the pruner judges (and so the only ones stored, each a
    storage write), on a trial's first fold; later folds are judged by their running
    mean (:data:`JUDGED_FOLDS`). From :data:`CURVE_WARMUP` on, each ~:data:`CURVE_GROWTH`
    times the last (5, 7, 10, 14, 19, 27 …): dense early, where most hopeless fits show,
    and 16 writes for 1,000 steps instead of one every other step."""
    steps, at = set(), float(CURVE_WARMUP)
    while at < STRIDE - 1:
        steps.add(round(at))
        at = max(at * CURVE_GROWTH, round(at) + 1)
    return frozenset(steps)


JUDGED_STEPS = _judged_steps()
# Folds done after which the running mean is judged (one fold alone is too noisy; a
# trial is never pruned after its last fold): 2, 3, 5, 8, 13 … — 4 writes for 10 folds.
JUDGED_FOLDS = frozenset({2, 3, 5, 8, 13, 21, 34, 55, 89})
# a model not timed yet counts as fitting in the time left (so a trial short of a repeat is
# cut for it) only when declared this many times cheaper than the model fitting
GUESS = 10.0
# seconds of a monitored fit, counted from its first check (its first batch or round done:
# loading weights and building the trainer are not its pace), before that pace predicts
# the end of a pass
PACE_AFTER = 2.0
TIMEOUT = "the recipe's trial_timeout"
OVERRUN = 0.05  # share of a time budget a trial may run past its end before it is stopped
# share of a fit's time that its end (the library's wrap-up, predicting the fold) may
# add to the trial's limit when the budget stops it and it keeps its rounds (BudgetStop),
# at most OVERRUN of the budget again less SEARCH_END
END_SHARE = 0.25
# share of a time budget kept for the search's own end after a trial the limit stopped
# (its record, the storage's last writes), so that the search ends within twice OVERRUN
# of its budget (a limit of 8.8 s for an 8 s search ended it at 8.82 s and 8.84 s on CI)
SEARCH_END = 0.01


class TrialFailed(Exception):
    """A plugin raised inside a trial; the trial is FAIL and the search goes on."""


class RunFolderError(ArtifactError):
    """The run's folder cannot be written (a full disk, permissions): the search ends
    in one line, the trials that finished kept (every later trial would fail alike)."""


class _OutOfBudget(optuna.TrialPruned):
    """The search's time budget, not the pruner, cut a trial short: the trial keeps the
    whole repeats of the k-fold it finished (:meth:`Objective._cross_validate`), or is
    pruned when it finished none."""


class _NativeThreads:
    """Caps native thread pools (OpenMP, BLAS) at the recipe's ``n_jobs`` during a trial.
    Finding the loaded pools costs ~4 ms (threadpoolctl inspects every shared library),
    so the scan is kept, and redone only once modules were imported since (a deep
    model's first build loads torch's OpenMP)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs if jobs > 0 else None
        self.pools: ThreadpoolController | None = None
        self.modules = 0

    def limit(self) -> Any:
        if self.jobs is None:
            return contextlib.nullcontext()
        if self.pools is None or len(sys.modules) != self.modules:
            self.pools, self.modules = ThreadpoolController(), len(sys.modules)
        return self.pools.limit(limits=self.jobs)


def warm_preprocessors(problem: Problem) -> set[str]:
    """The expensive preprocessors whose ``warm`` hook says their work on this data is
    already done (cached): priced as a column transform, not at their declared cost."""
    ds, warm = problem.dataset, set()
    for name, spec in problem.preprocessors.items():
        columns = [c for c, kind in ds.kinds.items() if kind in spec.kinds]
        if spec.warm is None or not columns:
            continue
        try:  # a plugin's bug costs the discount, never the search
            if spec.warm(ds.X[columns]) is True:
                warm.add(name)
        except Exception:
            continue
    return warm


def _interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The user's Ctrl-C (or SIGTERM) that ``exc`` was raised while handling: PyTorch
    Lightning catches it in a fit and calls ``exit(1)`` (or, for SIGTERM, raises its own
    ``SIGTERMException``), and the search went on, the trial failed as "raised in fit:
    SystemExit: 1" (86 s more after a SIGTERM)."""
    from automl_fin.errors import Terminated

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, KeyboardInterrupt) and not plugins_own(exc):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    # Lightning handles SIGTERM itself, then raises its SIGTERMException in its place
    return Terminated("SIGTERM") if Terminated.received else None


def _of_scores(exc: BaseException, model: str) -> str:
    """What an error raised by a calibration's own code (not by the model's fit inside
    it) is about: NaN in the model's scores on its calibration rows ("Input X contains
    NaN" read as the data's fault), or what calibration reads of the model (its
    ``classes_``, the shape of its ``predict_proba``: scikit-learn's "Got predict_proba
    of shape (352, 1), but need classifier with two classes" named no cause)."""
    files = [f.filename.replace("\\", "/") for f in traceback.extract_tb(exc.__traceback__)]
    own = [i for i, f in enumerate(files) if f.endswith("sklearn/calibration.py")]
    if not own:
        return ""
    # raised by the calibrator's fit (isotonic, Platt's), not by a model's fit inside it
    after = files[own[-1] + 1 :]
    if not all(f.endswith(("sklearn/isotonic.py", "sklearn/base.py")) or "sklearn/utils/" in f
               for f in after):  # fmt: skip
        return ""
    text = str(exc)
    if "cross-validation" in text:  # too few rows of a class for its folds: the data's
        return ""
    if "NaN" in text or "infinity" in text:
        return (
            f" (in calibration: the scores {model} gave its calibration rows held NaN or "
            "infinite values, not the data; fix the model, or leave calibration out with "
            "--set 'calibration=[none]')"
        )
    return (
        f" (in calibration, which fits {model} on three folds of the training rows and "
        "reads its classes_ and predict_proba: a classifier inherits scikit-learn's "
        "ClassifierMixin, sets classes_ when fitted and gives (rows, classes) "
        "probabilities; automl_fin.testing.check_plugin checks it; --set "
        "'calibration=[none]' leaves calibration out)"
    )


class Objective:
    """Cross-validates one sampled pipeline per call."""

    def __init__(self, problem: Problem, run_dir: Path, deadline: float) -> None:
        self.problem = problem
        self.run_dir = run_dir
        self.deadline = deadline
        self.count = 0
        self.status: Any = lambda text: None  # told what runs now (a progress bar)
        self.fold_seconds: dict[str, list[float]] = {}  # model -> seconds of its past folds
        # model -> a fold's seconds measured on a sample (large data, :mod:`._probe`)
        self.probed: dict[str, float] = {}
        self.stops: set[str] = set()  # probed models that check the budget in steps
        self.fitted_preps = warm_preprocessors(problem)  # fitted here, or said warm
        self.skips = 0
        self.stopped = False  # set when no fold fits the remaining budget any more
        # models whose own fold no longer fits the time left (it only shrinks): the
        # sampler leaves them out (TrialSeededTPE.too_slow)
        self.too_slow: set[str] = set()
        # preprocessors whose first use (work not cached yet: a sentence encoder) no longer
        # fits the time left: the sampler leaves them out too (TrialSeededTPE.slow_preps)
        self.slow_preps: set[str] = set()
        self.curve_s = self.build_s = 0.0
        self.may_prune = False
        self.per_repeat = 0  # folds the budget checks ask to end together (a repeat, or 1)
        # set once a model has scored a whole repeat: until then a trial the budget cuts
        # is kept on the folds it finished (:meth:`_short`)
        self.repeat_done = False
        self.short = False  # no model has finished a repeat as the running trial started
        self.cut = False  # the running fit was stopped by the budget (Monitor.check)
        self.limit = Limit(None)  # the running trial's time limit (moved on a BudgetStop)
        # native thread pools follow the recipe's n_jobs: no oversubscription when
        # several searches or workers share the machine
        self.threads = _NativeThreads(problem.recipe.n_jobs)
        self.process = this_process()  # which machine ran a trial
        self.record = TrialRecord()  # the running trial's, stored when it ends
        self.warnings = TrialWarnings()  # each distinct one shown once a search

    def _skipped(self, model: str, preps: Sequence[str] = ()) -> None:
        """A trial of ``model`` skipped for want of budget: the model joins
        :attr:`too_slow` when its own first repeat of folds (without preprocessing to
        fit first) no longer fits (not counted: the sampler leaves it out from now on,
        and a queued trial of it is skipped at no cost); else ``preps``, the unfitted
        preprocessors whose first use made it not fit, join :attr:`slow_preps` (not
        counted either, the first time). The search stops when no searched model's
        (baselines aside) fits any more, or three trials in a row were skipped for a
        preprocessing that does not fit and the sampler could not leave out (every
        choice of its slot too slow, or a queued trial)."""
        now = time.monotonic()
        # no model's repeat fits and none has finished one: a model needs one fold
        need = self._model_estimate if self._fallback(now) else self._repeat_estimate
        if now + need(model) > self.deadline:
            self.too_slow.add(model)
        elif preps and not set(preps) <= self.slow_preps:
            self.slow_preps.update(preps)
        else:
            self.skips += 1
        left = [m for m in self.problem.models if m not in self.too_slow]
        # on large data a model not timed yet is probed before its first fold, not
        # judged by a guess: a slow logistic regression's fold priced every other family
        # out, and the search ended at 82 s of 120 with one model tried
        probed = probe_rows(len(self.problem.splits[0][0])) > 0
        unknown = {m for m in left if m not in self.fold_seconds and m not in self.probed}
        needs = (0.0 if probed and m in unknown else need(m) for m in left)
        cheapest = min(needs, default=math.inf)
        if now + cheapest > self.deadline or self.skips >= 3:
            self.stopped = True

    def _fallback(self, now: float, running: tuple[str, float] | None = None) -> bool:
        """Whether a trial may be kept on the folds it can finish, fewer than a repeat:
        no model of the study has finished a whole repeat (:meth:`_short`) and no
        searched model's first repeat fits the time left (a wide table, a slow model),
        so that such a budget still ends with a model, never with the baselines alone.
        While a cheaper model's repeat fits, a trial short of a repeat is cut as before
        (its time goes to that model): one timed (a fold, or a sample), or one not run yet
        declared :data:`GUESS` times cheaper. ``running``: the model fitting now and the
        seconds its fold has taken so far, a floor of its fold's time before any of its
        folds ended."""
        if not self.short:
            return False

        models = self.problem.models
        timed = [m for m in models if m in self.fold_seconds or m in self.probed]
        costs = [models[running[0]].cost] if running and running[0] in models else []
        ref = min(costs or [models[m].cost for m in timed], default=math.inf)

        def need(model: str) -> float:
            folds = self._repeat_folds(self.problem.max_folds(model))
            now_fitting = bool(running and running[0] == model)
            if not now_fitting and model not in timed and models[model].cost * GUESS > ref:
                # a model not timed yet is a guess from its declared cost, trusted only an
                # order of magnitude below the one fitting: four slow models each cut for
                # the next's guess threw every fold away, and no model in 60 s
                return math.inf
            floor = running[1] * folds if running and now_fitting else 0.0
            return max(self._repeat_estimate(model), floor)

        left = [m for m in self.problem.models if m not in self.too_slow]
        return now + min((need(m) for m in left), default=math.inf) > self.deadline

    def _repeat_estimate(self, model: str) -> float:
        """Seconds the folds of a first whole repeat of ``model`` likely take (a trial
        that cannot end them is never a candidate, :meth:`_fallback` aside)."""
        folds = self._repeat_folds(self.problem.max_folds(model))
        return self._model_estimate(model) * folds

    def _rate(self) -> float:
        """The fastest fold seen per unit of declared model ``cost`` (0 before any)."""
        models = self.problem.models
        rates = [min(s) / models[m].cost for m, s in self.fold_seconds.items() if m in models]
        return min(rates) if rates else 0.0

    def _model_estimate(self, model: str) -> float:
        """Seconds a fold of ``model`` will likely take, preprocessing fitted: its
        fastest fold so far, else its fold measured on a sample (:mod:`._probe`), else
        :meth:`_rate` times its declared cost."""
        if model in self.fold_seconds:
            return min(self.fold_seconds[model])
        if model in self.probed:
            return self.probed[model]
        models = self.problem.models
        return self._rate() * models[model].cost if model in models else 0.0

    def _fold_estimate(
        self, plan: Plan, fold: int, spent: float, first_use: float | None = None
    ) -> tuple[float, float]:
        """Seconds each next fold will likely take, and seconds once on top of the
        first: this trial's folds so far, else its plan timed on a sample (large data,
        :meth:`_probe`), else the fastest fold of the model's earlier trials; for a
        model not run yet, the fastest fold seen per unit of declared ``cost``, times its
        cost (0 before any fold). A preprocessor not fitted yet adds
        its declared cost at that rate, once (a sentence encoder embeds every row on
        first use: tens of seconds; its vectors are cached for the next folds), and a
        first fold that fitted one (``first_use``: its seconds) is no fold's measure: the
        folds after it are (logistic regression on fresh sentence vectors was stopped
        after its first fold, 58 s, as if each next fold took as long: 0.1 s)."""
        if fold and first_use is not None:
            if fold == 1:  # the model's folds elsewhere (0 unknown: the next is measured)
                return min(first_use, self._model_estimate(plan.model)), 0.0
            return (spent - first_use) / (fold - 1), 0.0
        if fold:
            return spent / fold, 0.0
        if self.record.probe:  # this trial's plan, preprocessing included, on a sample
            return self.probed[plan.model], 0.0
        preps = self.problem.preprocessors
        new = self._unfitted(plan)
        return self._model_estimate(plan.model), self._rate() * sum(preps[n].cost for n in new)

    def _too_slow_preps(self, plan: Plan, slack: float) -> list[str]:
        """The unfitted preprocessors of ``plan`` whose first use alone takes more than
        the ``slack`` seconds its model's folds leave (else the costliest): a median
        imputer fitted beside the sentence encoder is not left out with it."""
        preps, rate = self.problem.preprocessors, self._rate()
        price = {n: rate * preps[n].cost for n in self._unfitted(plan)}
        if not price:
            return []
        return [n for n, p in price.items() if p > slack] or [max(price, key=price.__getitem__)]

    def _unfitted(self, plan: Plan) -> list[str]:
        """The preprocessors of ``plan`` not fitted yet in this search (nor said warm)."""
        preps = self.problem.preprocessors
        return [n for n in plan.spec_names()[1:] if n not in self.fitted_preps and n in preps]

    def __call__(self, trial: optuna.Trial) -> float:
        check_interrupt()  # Ctrl-C that Python dropped (in a __del__) stops the search here
        self.count += 1
        self.curve_s = 0.0  # seconds this trial's fits spent reporting learning curves
        self.build_s = 0.0  # seconds in the plugins' builders (a first one imports torch)
        p = self.problem
        # the pruner cannot prune before its startup trials (of any model; of the trial's
        # own for the percentile) completed: don't ask it (each question reads every
        # trial), judged once per trial
        if p.recipe.pruner == "none":
            self.may_prune = False
        elif not self.may_prune:
            self.may_prune = len(completed(trial.study)) >= PRUNER_STARTUP
        seed = trial_seed(p.recipe, trial.number)
        stage, culprit = "suggest", "model"
        seconds, why = self._limit()
        timer = Limit(None)  # (until the limit starts)
        rec = self.record = TrialRecord(process=self.process, machine=machine())
        try:
            plan = plan_of(trial, p, seed)
            culprit = plan.model
            self._describe(rec, plan)
            rec.write(trial)  # a running trial shows its model before it fits
            # numpy's overflow / invalid-value warnings (a column of 1e308) would repeat for
            # every fold; a fit they break fails on its NaN predictions, named
            with (
                self.warnings.recording(plan.model, trial.number),
                self.threads.limit(),
                time_limit(seconds, why) as timer,
                np.errstate(all="ignore"),
            ):
                # the recipe's own limit a trial is never moved
                self.limit = Limit(None) if why == TIMEOUT else timer
                return self._cross_validate(trial, plan, seed)
        except (optuna.TrialPruned, TrialFailed, RunFolderError):
            raise
        except BaseException as exc:  # a plugin's SystemExit fails its trial, not the search
            if type(exc) is KeyboardInterrupt and timer.fired and not heard_sigint():
                exc = TrialTimeout(timer.fired)  # CatBoost raises this in the timeout's place
            if isinstance(exc, KeyboardInterrupt) and not plugins_own(exc):
                raise  # Ctrl-C is the user's: it stops the search
            if (stop := _interrupt_in(exc)) is not None:  # Lightning's exit(1) on Ctrl-C
                raise stop from None
            if isinstance(exc, TrialTimeout) and why != TIMEOUT:  # the search's budget ended
                rec.stopped = f"{culprit}: stopped, {exc}"  # as a cut fold
                raise optuna.TrialPruned(f"{culprit}: {exc}") from None
            if isinstance(exc, TrialTimeout):  # said plainly: no stage, the trial as a whole
                rec.error = f"{culprit}: {exc}"
                raise TrialFailed(f"{culprit}: {exc}") from exc
            stage = getattr(exc, "_automl_fin_stage", stage)
            culprit = getattr(exc, "_automl_fin_spec", culprit)
            if culprit == "model":  # failed suggesting its parameters: the model chosen
                culprit = str(trial.params.get("model", culprit))
            # (a preprocessor's space failing: the model was shown "?"; one model: that one)
            chosen = trial.params.get("model", next(iter(p.models)) if len(p.models) == 1 else None)
            rec.model = rec.model or (str(chosen) if chosen is not None else None)
            provider = p.registry.providers.get(culprit)
            rec.plugin = rec.plugin or (str(provider) if provider else None)
            said = "; ".join([str(exc), *getattr(exc, "__notes__", [])])
            text = " ".join(said.split())[:2000] + _of_scores(exc, culprit)
            message = f"{culprit} ({provider}) raised in {stage}: {type(exc).__name__}: {text}"
            rec.error = message
            rec.traceback = "".join(traceback.format_exc(limit=-6))[-4000:]
            raise TrialFailed(message) from exc
        finally:  # the record's second and last write; a trial failed meanwhile as stale
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                rec.write(trial)  # by another process keeps what that process saw

    def _limit(self) -> tuple[float | None, str]:
        """The trial's time limit and what it is: the recipe's ``trial_timeout``, and
        with a time budget the budget's end plus :data:`OVERRUN` of it, whichever comes
        first (a fit that never returns cannot hold the search past its budget)."""
        own = self.problem.recipe.trial_timeout
        total = self.problem.recipe.budget.seconds
        if not total or not np.isfinite(self.deadline):
            return own, TIMEOUT
        left = max(self.deadline - time.monotonic(), 0.0) + OVERRUN * total
        if own is not None and own <= left:
            return own, TIMEOUT
        return max(left, 0.1), f"the search's time budget of {total:g} s"

    def _describe(self, rec: TrialRecord, plan: Plan) -> None:
        providers = self.problem.registry.providers
        rec.model = plan.model
        rec.preprocessors = plan.describe()
        rec.plugin = str(providers[plan.model])
        rec.plugins = {
            n: f"{providers[n].distribution} {providers[n].version}" for n in plan.spec_names()
        }

    def _cross_validate(self, trial: optuna.Trial, plan: Plan, seed: int) -> float:
        """The trial's mean score over the recipe's folds (as many as the model may
        take); its out-of-fold predictions saved, its record filled."""
        p = self.problem
        splits = p.splits[: p.max_folds(plan.model)]
        folds = _Folds(len(p.dataset.y), p.width, [m.name for m in p.extra_metrics])
        bagged = p.keeps_folds and not is_baseline(trial)  # its fold models may be kept
        self.record.folds = len(splits)
        repeat = self.per_repeat = self._repeat_folds(len(splits))
        self.short = self._short(trial, repeat)
        for fold, (tr, va) in enumerate(splits):
            where = f"trial {trial.number} {plan.model} fold {fold + 1}/{len(splits)}"
            self.status(where)
            try:
                self._check_budget(trial, plan, fold, folds, tr)
                pipe, pred = self._fit_fold(trial, plan, seed, fold, tr, va, where, folds)
            except _OutOfBudget:
                whole = fold // repeat * repeat
                if not whole and not (fold and self._fallback(time.monotonic())):
                    raise
                if whole:
                    self.record.stopped = (
                        f"budget: scored on {whole} of {len(splits)} folds "
                        f"({whole // repeat} of {p.repeats} repeats)"
                    )
                else:  # a first repeat fits no model: the folds done, as a max_folds model's
                    whole = fold
                    self.record.stopped = (
                        f"budget: scored on {fold} of {len(splits)} folds (no model could "
                        f"finish the {repeat} folds of a {'repeat' if p.repeats > 1 else 'k-fold'}"
                        " in the time)"
                    )
                splits = splits[:whole]
                self.record.folds = whole
                folds.keep(whole)
                break
            if bagged:
                folds.pipes.append(pipe)
            values = p.scores(tr, va, pred)
            score = values.pop(p.metric.name)
            if not np.isfinite(score):
                raise tag(
                    ValueError(f"{p.metric.name} is {score} on fold {fold}"), "score", plan.model
                )
            folds.add(va, pred, score, values)
            self._judge(trial, fold + 1, len(splits), folds)
        oof_file = self.run_dir / "oof" / f"trial_{trial.number:05d}.npy"
        try:
            atomic_save_npy(oof_file, folds.oof())
        except OSError as exc:  # the run's folder, not the model: every trial would fail
            raise RunFolderError(
                f"{oof_file.parent}: the trial's out-of-fold predictions cannot be written "
                f"({exc.strerror or exc}); the finished trials are kept: once it can be "
                "written (space, permissions), the same command resumes the search"
            ) from None
        self._record(folds, extras=True)
        self.record.oof = str(oof_file.resolve())  # readable from any directory
        score = own = float(np.mean(folds.scores))
        if len(splits) < len(p.splits):  # fewer folds than the others: on their scale
            done = trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            score, matched = matched_score(folds.scores, done, len(p.splits), p.metric.sign)
            if matched is not None:
                self.record.metrics["own_folds"] = own
                self.record.matched = matched
        if bagged:  # (walk-forward stands in for a refit with its last fold's model)
            bag = folds.pipes if p.bagging or p.scheme != "walk_forward" else folds.pipes[-1:]
            self._keep_bag(trial, score, bag)
        return score

    def _keep_bag(self, trial: optuna.Trial, score: float, pipes: list[Any]) -> None:
        """Write the trial's fold models when it is among the trials whose bags may be
        used (:func:`~automl_fin.engine._bag.kept`), and delete those of trials that it
        pushed out (as this process sees the study: another's newer trials are left)."""
        n = len(self.problem.splits)

        def row(
            number: int, value: float, r: TrialRecord, since: Any = None
        ) -> tuple[int, float, str, str | None]:
            pooled = r.poolable(n, self.run_dir, since)
            return number, value, str(r.model), r.family if pooled else None

        done = [
            row(t.number, float(t.value), TrialRecord.of(t), t.datetime_start)  # type: ignore[arg-type]
            for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if is_candidate(t)
        ]
        this = row(trial.number, score, self.record)
        keep = kept([*done, this], self.problem.metric.sign)
        if trial.number in keep:
            try:  # not kept (a full disk is found while writing): the predictor refits it
                save_bag(self.run_dir, trial.number, pipes, fitted_under(self.problem.registry))
            except (pickle.PicklingError, TypeError, AttributeError) as e:
                step = next(filter(None, (unpicklable(p) for p in pipes)), None)
                model = self.record.model
                whose = f": its preprocessor '{step}' does not" if step not in (None, model) else ""
                warnings.warn(  # shown once a search for each model and error
                    f"{model}: a trial's fold models do not pickle{whose} "
                    f"({type(e).__name__}: {textwrap.shorten(str(e), 160)}): not kept, so a "
                    "predictor that uses such a trial refits it on all rows",
                    UserWarning,
                    stacklevel=2,
                )
        forget(self.run_dir, {number for number, *_ in done} - keep)

    def _short(self, trial: optuna.Trial, repeat: int) -> bool:
        """Whether no model of the study has scored a whole repeat yet (its first
        ``repeat`` folds), as this trial starts: then a trial may be kept on fewer folds
        (:meth:`_fallback`); once one has, a trial short of a repeat is never a
        candidate. The study is read until one has (a few trials), then never again."""
        if repeat <= 1 or self.repeat_done:
            return False
        p = self.problem
        for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            rec = TrialRecord.of(t)
            if is_candidate(t, ensemble=False) and rec.model is not None:
                limit = p.max_folds(rec.model) if rec.model in p.all_models else repeat
                if (rec.folds or 0) >= self._repeat_folds(limit):
                    self.repeat_done = True
                    return False
        return True

    def _repeat_folds(self, planned: int) -> int:
        """Folds of one whole repeat of a repeated k-fold: a trial that the budget cuts
        short keeps the whole repeats it finished (each scores every row once, as
        AutoGluon keeps the bagging sets it finished). ``planned`` (every fold: one
        repeat) for a single k-fold, a holdout, walk-forward or a ``max_folds`` model."""
        p = self.problem
        if p.repeats > 1 and p.scheme in ("kfold", "stratified_kfold") and planned == len(p.splits):
            return planned // p.repeats
        return planned

    def _check_budget(
        self, trial: optuna.Trial, plan: Plan, fold: int, folds: _Folds, train: np.ndarray
    ) -> None:
        """Stop the trial (its folds so far recorded, :class:`_OutOfBudget`) when the
        folds left in its current repeat (every fold on a single k-fold) would run past
        the search's deadline: a trial keeps whole repeats only, so folds that cannot
        end one are never started. On large data a model's first fold is timed on a
        sample of ``train`` first, not guessed (:meth:`_probe`)."""
        each, once = self._fold_estimate(
            plan, fold, folds.fit_s + folds.predict_s, folds.first_use_s
        )
        left = self.per_repeat - fold % self.per_repeat  # this fold included
        now = time.monotonic()
        if not fold and self._probe(trial, plan, train, now):  # timed on a sample, not guessed
            each, once = self._fold_estimate(plan, fold, 0.0)
            now = time.monotonic()
        if now + once + each * left <= self.deadline:
            return
        expected = each + once  # the next fold
        if fold < self.per_repeat and now + once + each <= self.deadline and self._fallback(now):
            return  # no model's repeat fits: the folds that do (kept when the budget cuts)
        if not fold and plan.model in self.stops and not self.fold_seconds:
            return  # no fold yet, of any model: one the budget cuts and keeps as fitted
        self._record(folds)
        why = f"budget reached after {fold} fold{'s' * (fold != 1)}"
        if not fold and expected:
            took = f"{expected:.0f}" if expected >= 10 else f"{expected:.2g}"  # not "~0 s"
            how = f" (measured on {self.record.probe} rows)" if self.record.probe else ""
            why = (
                f"budget: one {plan.model} fold takes ~{took} s{how}, less is left"
                if now + expected > self.deadline
                else f"budget: {left} {plan.model} folds of ~{each:.2g} s each{how} cannot "
                f"end in the {self.deadline - now:.0f} s left"
            )
            slack = self.deadline - now - each * left  # what the model's folds leave
            preps = self._too_slow_preps(plan, slack) if once and slack >= 0 else []
            if preps:  # the model's folds fit: the preprocessing's first use does not
                cost = f"{once:.0f}" if once >= 10 else f"{once:.2g}"
                why = (
                    f"budget: the first use of {', '.join(preps)} takes ~{cost} s (cached "
                    "after), less is left"
                )
            self._skipped(plan.model, preps)
        self.record.stopped = why
        raise _OutOfBudget(why)

    def _probe(self, trial: optuna.Trial, plan: Plan, train: np.ndarray, now: float) -> bool:
        """Whether the first fold of ``plan.model`` was timed on a sample of ``train``
        instead of guessed from declared costs: large data, once a model, before its own
        folds are timed, under a time budget; the search's first model too. Its 179 s
        logistic-regression fold on 192,000 nycflights13 rows, unchecked, priced every
        other family from its declared cost at ~3,000 s, too long to check on a sample
        against the 57 s left: none was tried, and a search of 240 s saved a logistic
        regression 0.07 ROC AUC behind a default histogram boosting."""
        model = plan.model
        if model in self.fold_seconds or model in self.probed:
            return False
        if not math.isfinite(self.deadline):
            return False  # no time budget: nothing to check it against
        seed = trial_seed(self.problem.recipe, trial.number)
        got = probe_seconds(self.problem, plan, seed, train, self.deadline - now)
        if got is None:
            return False
        self.probed[model], self.record.probe = got.seconds, got.rows
        if got.stops:
            self.stops.add(model)
        return True

    def _fit_fold(
        self,
        trial: optuna.Trial,
        plan: Plan,
        seed: int,
        fold: int,
        tr: np.ndarray,
        va: np.ndarray,
        where: str,
        folds: _Folds,
    ) -> tuple[Any, np.ndarray]:
        """Build and fit the plan's pipeline on the fold's training rows: it, and its
        checked predictions for the validation rows (seconds added to ``folds``)."""
        p = self.problem
        X, y = p.dataset.X, p.dataset.y
        built = time.perf_counter()
        ctx = p.context(seed, model=plan.model, n_rows=len(tr))
        pipe = staged(
            "build", plan.model, build_pipeline, plan, p.all_models, p.preprocessors,
            p.dataset.kinds, ctx,
        )  # fmt: skip
        blame = culprit(pipe)  # the spec whose step raised, read from the traceback
        preps = p.preprocessors  # a costly step fitted first here (a sentence encoder)
        first_use = sum(preps[n].cost for n in self._unfitted(plan)) >= FIRST_USE
        t0 = time.perf_counter()
        self.build_s += t0 - built
        prior_shift = p.prior_shift(plan, tr)
        self.cut = False
        check, kept = self._fold_check(plan, fold)
        try:
            if p.all_models[plan.model].monitored:
                self._fit_monitored(trial, plan, pipe, fold, tr, va, where, prior_shift, check)
            else:  # a model fitting in steps checks through automl_fin.check_budget
                with budget_checked(check):
                    staged("fit", plan.model, pipe.fit, X.iloc[tr], y[tr], blame=blame)
        except Pruned as exc:
            folds.fit_s += time.perf_counter() - t0
            self._record(folds)
            cut, self.cut = self.cut, False
            raise (_OutOfBudget if cut else optuna.TrialPruned)(str(exc)) from None
        if kept:  # the model caught BudgetStop and ended its fit where it was
            self.record.stopped = (
                f"budget: fold {fold + 1} stopped after {kept[0]:g} steps, kept as fitted"
            )
            self.record.budget_passes = kept[0]
        t1 = time.perf_counter()
        mark_floor(mark(pipe, prior_shift), p, y[tr])
        pred = staged("predict", plan.model, predict, pipe, X.iloc[va], folds.width, blame=blame)
        t2 = time.perf_counter()
        folds.fit_s += t1 - t0
        folds.predict_s += t2 - t1
        if not fold and first_use:
            folds.first_use_s = t2 - t0  # (no fold's measure, nor the model's)
        else:
            self.fold_seconds.setdefault(plan.model, []).append(t2 - t0)
        self.fitted_preps.update(plan.spec_names()[1:])
        self.skips = 0  # a fold fitted: budget skips count again from here
        return pipe, check_prediction(pred, len(va), folds.width, plan.model)

    def _judge(self, trial: optuna.Trial, done: int, planned: int, folds: _Folds) -> None:
        """After :data:`JUDGED_FOLDS` (never the last), report the running mean to the
        pruner (a storage write) and stop the trial when it says so."""
        if done not in JUDGED_FOLDS or done >= planned or self.problem.recipe.pruner == "none":
            return
        trial.report(float(np.mean(folds.scores)), step=(done - 1) * STRIDE + STRIDE - 1)
        if not self.may_prune or is_baseline(trial):
            return
        pruner = trial.study.pruner
        if self.problem.recipe.racing and isinstance(pruner, CompletedOnce):
            rivals = pruner.completed(trial.study, trial)  # the pruner's one read a trial
            winner = lost_race(folds.scores, rivals, self.problem.metric.sign, planned)
            if winner is not None:
                self._record(folds)
                theirs = next(r for r in rivals if r.number == winner)
                same = float(np.mean(TrialRecord.of(theirs).fold_scores[:done]))
                self.record.stopped = (
                    f"lost the race to trial {winner} after {done} of {planned} folds "
                    f"({np.mean(folds.scores):.4g} against its {same:.4g} on them)"
                )
                raise optuna.TrialPruned(f"lost the race after fold {done - 1}")
        if trial.should_prune():
            self._record(folds)
            self.record.stopped = f"pruned after {done} of {planned} folds"
            raise optuna.TrialPruned(f"pruned after fold {done - 1}")

    def _fold_check(self, plan: Plan, fold: int) -> tuple[Any, list[float]]:
        """The budget check of fold ``fold``'s fit (``Monitor.check``, and
        :func:`~automl_fin.check_budget` for a model that is not monitored), and the
        list that holds the passes kept when it raised BudgetStop (empty otherwise)."""
        p = self.problem
        started = time.monotonic()
        first: list[float] = []  # when the first check came, and the passes done then
        # the last fold the trial fits before it can end (the first repeat's, the
        # holdout's one): a fit the budget stops there may keep what it fitted
        last = fold + 1 == self.per_repeat
        kept: list[float] = []  # the passes done when BudgetStop was raised

        def stop(why: str, passes: float) -> None:
            self.record.stopped = why
            self.cut = True
            if last:
                if not kept:  # once: a model that swallows it is stopped by the limit
                    # the fit's end and the fold's prediction are to come: the trial's
                    # limit (the budget's end and its overrun) moves by a share of the
                    # fit, at most the overrun again (a search ends within 10 % of it)
                    total = p.recipe.budget.seconds or 0.0
                    fit = time.monotonic() - started
                    more = min(END_SHARE * fit, (OVERRUN - SEARCH_END) * total)
                    self.limit.extend(more)
                kept[:] = [passes]
                raise BudgetStop(why)
            raise Pruned(why)

        own: list[bool] = []  # whether the model calls check itself (not only report)

        def check(passes: float, *, backstop: bool = False) -> None:
            """The budget, checked as often as the model calls (every batch or round):
            spent; or the pass under way would end after it at the pace since the first
            check; or the trial cannot finish its folds before it (each later fold
            taking at least as long as this one has so far): a trial cut short is never
            a candidate, so its time is better spent on others. On the trial's last
            fold a model that can end where it is keeps what it fitted (BudgetStop).
            ``backstop``: a check from ``report``, for models that never call it; for
            one that does, its own calls decide (a BudgetStop raised inside a
            library's metric hook would not be caught where the model can end)."""
            if not backstop:
                own[:] = [True]
            elif own:
                return
            now = time.monotonic()
            if now > self.deadline:  # a long fit stops at the budget too
                stop(f"budget reached in fold {fold + 1}", passes)
            if not first:
                first.extend((now, passes))
            spent = now - started
            if now - first[0] < PACE_AFTER:
                return
            left = self.deadline - now
            why = None
            done = passes - first[1]
            per_pass = (now - first[0]) / done if done > 0 else 0.0
            if per_pass and now + (math.ceil(passes) - passes) * per_pass > self.deadline:
                why = (
                    f"budget: one {plan.model} epoch takes ~{per_pass:.0f} s, {left:.0f} s are left"
                )
            # folds still to fit after this one before the trial can end: those of this
            # repeat of the k-fold (a trial cut after a whole repeat keeps it)
            after = -(fold + 1) % self.per_repeat
            if (
                why is None
                and after > 0
                and now + after * spent > self.deadline
                and not (fold < self.per_repeat and self._fallback(now, (plan.model, spent)))
            ):
                why = (f"budget: {after} more {plan.model} folds of over {spent:.0f} s each "
                       f"cannot end in the {left:.0f} s left")  # fmt: skip
            if why is not None:
                stop(why, passes)

        return check, kept

    def _fit_monitored(
        self,
        trial: optuna.Trial,
        plan: Plan,
        pipe: Any,
        fold: int,
        tr: Any,
        va: Any,
        where: str,
        prior_shift: np.ndarray | None,
        check: Any,
    ) -> None:
        """Fit the preprocessing, then the model with the fold's validation split (its
        curve scored on probabilities mapped back by ``prior_shift`` when there is one)
        and the fold's budget ``check``."""
        p = self.problem
        ds = p.dataset
        width = p.width
        prep, model = pipe[0], pipe[-1]
        blame = culprit(prep)
        Xt = staged("fit", plan.model, prep.fit_transform, ds.X.iloc[tr], ds.y[tr], blame=blame)
        Xv = staged("fit", plan.model, prep.transform, ds.X.iloc[va], blame=blame)
        for rows, out in ((tr, Xt), (va, Xv)):
            if out.shape[0] != len(rows):  # (the fold's rows copied only then)
                check_rows(prep, ds.X.iloc[rows], out)
        names, kinds = feature_info(prep)

        def score(pred: Any) -> float:
            pred = check_prediction(np.asarray(pred, dtype=float), len(va), width, plan.model)
            return p.score(tr, va, shift(pred, prior_shift))

        planned = [0]  # the fit's planned steps (Monitor.plan), when it says

        def report(step: int, value: float) -> None:
            check(0.0, backstop=True)
            if fold or step not in JUDGED_STEPS or p.recipe.pruner == "none":
                return  # judged (and stored: a write each) on the first fold's curve only
            if step < CURVE_SHARE * planned[0]:
                return  # too early in the planned steps to tell a slow starter
            started = time.perf_counter()
            try:
                trial.report(float(value), step=fold * STRIDE + min(int(step), STRIDE - 2))
                if self.may_prune and trial.should_prune():
                    point = f"step {step} of fold {fold + 1}"
                    why = f"pruned at {point} ({p.metric.name} {value:.4g})"
                    self.record.stopped = why
                    raise Pruned(f"pruned at {point}")
            finally:
                self.curve_s += time.perf_counter() - started

        monitor = Monitor(
            feature_names=names,
            feature_kinds=kinds,
            X_valid=Xv,
            y_valid=ds.y[va],
            score=score,
            direction=p.metric.direction,
            metric=p.metric.name,
            report=report,
            plan=lambda steps: planned.__setitem__(0, int(steps)),
            progress=lambda text: self.status(f"{where} {text}"),
            check=check,
        )
        staged("fit", plan.model, functools.partial(model.fit, monitor=monitor), Xt, ds.y[tr])

    def _record(self, folds: _Folds, *, extras: bool = False) -> None:
        """The folds' scores and seconds into the trial's record (and the extra metrics'
        means, for a trial that ran all its folds)."""
        rec = self.record
        rec.fold_scores = folds.scores
        rec.score_std = float(np.std(folds.scores)) if folds.scores else None
        rec.metrics = {k: float(np.mean(v)) for k, v in folds.extras.items()} if extras else {}
        rec.fit_s = round(folds.fit_s, 4)
        rec.predict_s = round(folds.predict_s, 4)
        rec.build_s = round(self.build_s, 4)
        if self.curve_s:  # inside fit_s: the learning curve's storage writes and pruner reads
            rec.curve_s = round(self.curve_s, 4)


FIRST_USE = 1.0  # declared cost of the steps a fold fits first, from which it is no measure


class _Folds:
    """What a trial's folds add up to: their scores and extra metrics, out-of-fold
    predictions (the mean where a row is predicted by several folds), seconds spent."""

    def __init__(self, n_rows: int, width: int, extra_names: list[str]) -> None:
        self.width = width
        self.oof_sum = np.zeros((n_rows, width))
        self.oof_n = np.zeros(n_rows)
        self.scores: list[float] = []
        self.pipes: list[Any] = []  # the fitted fold pipelines, when they may be bagged
        self.extras: dict[str, list[float]] = {name: [] for name in extra_names}
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []  # each fold's rows, predictions
        self.fit_s = self.predict_s = 0.0
        # the first fold's seconds where it fitted a preprocessor first (a sentence
        # encoder embeds every row once, cached for the next folds): no fold's measure
        self.first_use_s: float | None = None

    def add(self, va: np.ndarray, pred: np.ndarray, score: float, values: dict[str, float]) -> None:
        self.scores.append(score)
        for name, value in values.items():
            self.extras[name].append(value)
        pred = pred.reshape(len(va), self.width)
        self.parts.append((va, pred))
        self.oof_sum[va] += pred
        self.oof_n[va] += 1

    def keep(self, k: int) -> None:
        """Forget every fold after the first ``k`` (their scores, models and predictions)."""
        del self.parts[k:], self.scores[k:], self.pipes[k:]
        self.oof_sum[:], self.oof_n[:] = 0.0, 0.0
        for va, pred in self.parts:
            self.oof_sum[va] += pred
            self.oof_n[va] += 1
        for values in self.extras.values():
            del values[k:]

    def oof(self) -> np.ndarray:
        """``(n,)`` values or ``(n, k)`` probabilities; NaN on rows no fold predicted."""
        with np.errstate(invalid="ignore"):
            oof = self.oof_sum / self.oof_n[:, None]
        return oof if self.width > 1 else oof[:, 0]
