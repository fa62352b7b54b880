"""Ensemble selection (Caruana) over the stored out-of-fold predictions of real searches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl_fin.engine._search import search
from automl_fin.results._ensemble import greedy_selection


def test_forward_selection_starts_from_the_best_and_keeps_what_helps() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=500)
    a = truth + rng.normal(scale=1.0, size=500)  # two equally noisy, independent views
    b = truth + rng.normal(scale=1.0, size=500)
    bad = truth + rng.normal(scale=4.0, size=500)  # right on average, far too noisy

    def score(pred: np.ndarray) -> float:
        return -float(np.mean((pred - truth) ** 2))

    counts, best = greedy_selection([bad, a, b], score, rounds=10)
    assert counts[0] == 0 and counts[1] > 0 and counts[2] > 0  # the average of a and b wins
    assert best > max(score(a), score(b)) + 0.2
    single, only = greedy_selection([a], score, rounds=5)
    assert single.tolist() == [1] and only == pytest.approx(score(a))


def test_ensemble_row_is_scored_on_the_same_folds_as_its_members(tmp_path: Path) -> None:
    result = search(
        "default",
        trials=10,
        seed=42,
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={"validation.repeats": 1, "calibration": ["none"], "validation.n_splits": 3,
                   "report": False},
    )  # fmt: skip
    board = result.leaderboard()
    (ens,) = board[board["model"] == "ensemble"].itertuples()
    searched = (board["state"] == "COMPLETE") & ~board["baseline"]
    singles = board[searched & (board["trial"] >= 0)]
    # single k-fold: the members' out-of-fold predictions reproduce their trial scores
    best_member = board.loc[board["model"] == "ensemble", "metric:best_member"].iloc[0]
    assert best_member == pytest.approx(singles["score"].max(), abs=1e-12)
    assert ens.score >= best_member - 1e-12 and ens.folds == 3
    assert "prior" not in ens.preprocessors  # baselines take no part
    assert np.isfinite(board.loc[board["model"] == "ensemble", "metric:brier"]).all()


def test_no_ensemble_when_switched_off_and_on_forecasts(tmp_path: Path) -> None:
    off = search("default", trials=4, seed=1, runs_dir=tmp_path, storage=":memory:",
                 overrides={"ensemble": False, "validation.n_splits": 3,
                            "report": False})  # fmt: skip
    assert "ensemble" not in set(off.leaderboard()["model"])
    from automl_fin import datasets

    price = search(
        "price",
        data=datasets.load("sp500").tail(1200),
        trials=5,
        seed=0,
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={"models": ["ridge", "hgb"], "validation.n_splits": 3,
                   "data.series.price": "adj_close", "report": False},
    )  # fmt: skip
    board = price.leaderboard()
    ens = board[board["model"] == "ensemble"]
    assert (
        len(ens) == 1 and ens["metric:mase"].between(0.8, 1.2).all()
    )  # walk-forward: NaN rows skipped


def test_plain_optuna_sees_the_best_real_trial_and_a_resume_replaces_the_ensemble(
    tmp_path: Path,
) -> None:
    import optuna

    over = {"validation.repeats": 1, "validation.n_splits": 3, "models": ["logreg", "hgb"],
            "calibration": ["none"], "report": False}  # fmt: skip
    first = search("default", trials=6, seed=3, runs_dir=tmp_path, study="s", overrides=over)
    board = first.leaderboard()
    (ens,) = board[board["model"] == "ensemble"].itertuples()
    assert ens.trial == -1 and ens.finished >= ens.started
    study = optuna.load_study(study_name="s", storage=first.storage)
    best = study.best_trial  # the ensemble is no Optuna trial: it cannot hide the best one
    assert best.params["model"] in {"logreg", "hgb"} and best.number >= 0
    singles = board[(board["trial"] >= 0) & (board["state"] == "COMPLETE")]
    assert best.value == singles["score"].max()
    assert not any("members" in t.user_attrs for t in study.trials)
    assert set(study.user_attrs["ensemble"]["user_attrs"]["members"]) <= {
        str(n) for n in singles["trial"]
    }
    # the best trial can be re-run as plain Optuna knows it, and a resume re-selects
    study.enqueue_trial(best.params)
    again = search("default", trials=8, seed=3, runs_dir=tmp_path, study="s", overrides=over)
    board = again.leaderboard()
    assert (board["model"] == "ensemble").sum() == 1
    trials = optuna.load_study(study_name="s", storage=again.storage).trials
    (rerun,) = [t for t in trials if t.number > best.number and t.params == best.params]
    assert rerun.state.name == "COMPLETE" and rerun.number == 6  # queued: it ran first
