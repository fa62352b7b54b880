"""Warnings raised inside trials are shown once a search, with how often they came back;
the warning filters keep working inside trials."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

from automl_fin import ModelSpec, Task, hookimpl
from automl_fin.engine._search import search
from automl_fin.engine._trial_warnings import TrialWarnings
from automl_fin.plugin._registry import Registry


class _Unconverged:
    """A real plugin whose model warns in every fit: logistic regression stopped after
    one iteration (scikit-learn's ConvergenceWarning)."""

    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression

        register(ModelSpec(name="unconverged", tasks={Task.BINARY},
                           build=lambda p, c: LogisticRegression(max_iter=1)))  # fmt: skip


def test_a_warning_raised_in_every_fit_is_shown_once_a_search(tmp_path: Path) -> None:
    over = {"models": ["unconverged"], "validation.n_splits": 2, "validation.repeats": 1,
            "calibration": ["none"], "baselines": [], "pruner": "none", "portfolio": False,
            "ensemble": False, "predictor": False, "report": False}  # fmt: skip
    registry = Registry(plugins={"unconverged": _Unconverged()})
    for _ in range(2):  # each search shows it again, once
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            search("default", trials=4, seed=0, runs_dir=tmp_path, registry=registry,
                   overrides=over)  # fmt: skip
        shown = [w for w in got if issubclass(w.category, ConvergenceWarning)]
        # led by the model and trial that raised it (it named neither)
        assert len(shown) == 1 and re.match(
            r"unconverged \(trial \d+\): lbfgs failed to converge", str(shown[0].message)
        ), shown[0].message
        # on one line, at most 300 characters of it (7 lines and two links, a prober's
        # "noise" among the trial lines)
        text = str(shown[0].message)
        assert "\n" not in text and len(text) <= len("unconverged (trial 99): ") + 300
        summary = [str(w.message) for w in got if "each shown once" in str(w.message)]
        assert len(summary) == 1
        # 4 trials of 2 folds, a fit each
        assert summary[0].startswith(
            "warnings from the trials, each shown once: ConvergenceWarning 8 times in 4 "
            "trials of unconverged ("
        )


def test_filters_still_apply_inside_a_trial() -> None:
    tw = TrialWarnings()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        warnings.filterwarnings("error", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        with pytest.raises(FutureWarning, match="raised where it is warned"), tw.recording():
            warnings.warn("dropped", DeprecationWarning, stacklevel=1)
            warnings.warn("shown", UserWarning, stacklevel=1)
            warnings.warn("raised where it is warned", FutureWarning, stacklevel=1)
        with tw.recording():  # a second trial: shown before, counted only
            warnings.warn("shown", UserWarning, stacklevel=1)
    assert [str(w.message) for w in got] == ["shown"]  # shown as the first trial ended
    assert tw.repeated() == (
        "warnings from the trials, each shown once: UserWarning 2 times in 2 trials (shown)"
    )
    assert TrialWarnings().repeated() is None


def test_a_warning_whose_numbers_change_each_fit_is_shown_once() -> None:
    """ElasticNet's convergence warning names each fit's duality gap: one warning still."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import ElasticNet

    X, y = load_diabetes(return_X_y=True)
    tw = TrialWarnings()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        for rows in (slice(0, 200), slice(200, 400)):  # two trials, other gaps
            with tw.recording():
                ElasticNet(alpha=1e-4, max_iter=1).fit(X[rows], y[rows])
    texts = [str(w.message) for w in got if issubclass(w.category, ConvergenceWarning)]
    assert len(texts) == 1 and "Duality gap" in texts[0], texts
    line = tw.repeated()
    assert line is not None and "ConvergenceWarning 2 times in 2 trials" in line
    # digits inside a name are not numbers: two columns' warnings stay two
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        with tw.recording():
            for name in ("x1", "x2", "x2"):
                warnings.warn(f"column {name} is constant", UserWarning, stacklevel=1)
    assert [str(w.message) for w in got] == ["column x1 is constant", "column x2 is constant"]
