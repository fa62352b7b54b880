"""Stacking: a layer 2 on the best trials' out-of-fold predictions, on real data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
from scipy.optimize import check_grad

from automl_fin import load
from automl_fin.engine._predictions import predict
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord
from automl_fin.errors import ArtifactError
from automl_fin.results._ensemble import candidates, family_of, rows_of, with_oof
from automl_fin.results._members import oof_of
from automl_fin.results._stacking import (
    Stacker,
    _loss,
    _nonnegative_logistic,
    cross_fit,
    fit_stacker,
)

CHEAP = {"models": ["logreg", "hgb", "extra_trees"], "calibration": ["none"],
         "validation.n_splits": 3, "validation.repeats": 1, "report": False, "pruner": "none",
         "validation.final_test": 0.2}  # fmt: skip


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory):
    runs = tmp_path_factory.mktemp("stacked")
    result = search("default", trials=12, seed=5, runs_dir=runs, overrides=CHEAP)
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    return result, study


def _stack_row(study: optuna.Study) -> optuna.trial.FrozenTrial:
    (row,) = [t for t in rows_of(study) if t.number == -2]
    return row


def _member_oofs(study: optuna.Study, row: optuna.trial.FrozenTrial) -> list[np.ndarray]:
    by_number = {t.number: t for t in study.trials}
    trials = TrialRecord.of(row).stacker["trials"]  # type: ignore[index]
    return [np.load(str(TrialRecord.of(by_number[n]).oof)) for n in trials]


def test_the_stack_is_a_leaderboard_row_of_the_best_trial_of_each_model(stacked) -> None:
    result, study = stacked
    board = result.leaderboard()
    row = board[board["model"] == "stack"]
    assert len(row) == 1 and int(row["trial"].iloc[0]) == -2
    assert int(row["folds"].iloc[0]) == 3 and np.isfinite(row["score"].iloc[0])
    members = candidates(study, result.problem)
    assert {TrialRecord.of(t).model for t in members} == {"logreg", "hgb", "extra_trees"}
    # a pool of three holds each model's best, however far down the ranking it is
    ranked = with_oof(study, result.problem)
    three = candidates(study, result.problem, top_k=3)
    assert {t.number for t in three} == {
        next(t.number for t in ranked if TrialRecord.of(t).model == m)
        for m in ("logreg", "hgb", "extra_trees")
    }
    # then each family's (a model with other preprocessing), before the best others
    families = {family_of(t) for t in ranked}
    assert len(families) > 3  # the search tried a model with two preprocessings
    pool = candidates(study, result.problem, top_k=len(families))
    assert {family_of(t) for t in pool} == families
    ensemble = TrialRecord.of(next(t for t in rows_of(study) if t.number == -1))
    assert set(ensemble.members) <= {str(t.number) for t in members}  # type: ignore[arg-type]
    stacker = TrialRecord.of(_stack_row(study)).stacker
    assert stacker["trials"] == [t.number for t in members]  # type: ignore[index]
    assert min(stacker["coef"][0]) >= 0  # type: ignore[index]  # one weight >= 0 a member
    assert str(study.user_attrs["final_test"]["trials"]["-2"]["model"]) == "stack"


def test_a_stacked_row_is_scored_on_folds_its_layer_2_never_saw(stacked) -> None:
    """Each split's rows are predicted by a layer 2 fitted without them: changing every
    label of a split's validation rows leaves those rows' stacked predictions exactly
    as they were, and the stored row's score is those predictions, scored per split."""
    result, study = stacked
    p, row = result.problem, _stack_row(study)
    preds = _member_oofs(study, row)
    y = p.dataset.y
    oof = cross_fit("binary", preds, y, p.splits)
    assert np.allclose(oof_of(study, row), oof, equal_nan=True)
    folds = [p.score(tr, va, oof[va]) for tr, va in p.splits]
    assert TrialRecord.of(row).fold_scores == pytest.approx(folds, abs=1e-12)
    assert row.value == pytest.approx(np.mean(folds), abs=1e-12)
    for train, valid in p.splits:
        flipped = y.copy()
        flipped[valid] = 1 - flipped[valid]
        again = cross_fit("binary", preds, flipped, [(train, valid)])
        assert np.array_equal(again[valid], oof[valid])  # nothing of valid's labels used
        layer2 = fit_stacker("binary", [pr[train] for pr in preds], flipped[train])
        assert np.array_equal(layer2.combine([pr[valid] for pr in preds]), oof[valid])
    # and a layer 2 that saw its validation rows would score otherwise (the check bites)
    train, valid = p.splits[0]
    seen = fit_stacker("binary", [pr[np.r_[train, valid]] for pr in preds], y[np.r_[train, valid]])
    assert not np.allclose(seen.combine([pr[valid] for pr in preds]), oof[valid])


def test_the_stack_predictor_applies_its_layer_2_to_its_members(stacked, tmp_path: Path) -> None:
    """Saved, loaded and predicting as its layer 2 of its members' bags; a manifest
    whose layer 2 does not fit its members is refused in one line."""
    from automl_fin.results._artifacts import fit_predictor, save_predictor

    result, study = stacked
    p, run_dir = result.problem, Path(result.run_dir)
    row = _stack_row(study)
    row_value = float(row.value)  # type: ignore[arg-type]
    study.set_user_attr("stack", {**study.user_attrs["stack"], "value": 2.0})  # chosen
    predictor = fit_predictor(study, p, run_dir)
    folder = save_predictor(predictor, tmp_path / "predictor")
    study.set_user_attr("stack", {**study.user_attrs["stack"], "value": row_value})
    loaded = load(folder)
    assert [m.trial for m in loaded.members] == TrialRecord.of(row).stacker["trials"]  # type: ignore[index]
    assert all(v.startswith("bag of") for v in loaded.manifest["fit"].values())
    X = p.dataset.X.iloc[p.test_rows]
    members = [predict(m.pipeline, X, 2) for m in loaded.members]
    by_hand = Stacker.from_json(loaded.manifest["stacker"]).combine(members)
    assert np.allclose(loaded.predict_proba(X).to_numpy(), by_hand, atol=1e-12)
    tested = study.user_attrs["final_test"]["trials"]["-2"]
    assert tested["roc_auc"] == pytest.approx(p.score(p.search_rows, p.test_rows, by_hand))

    manifest = json.loads((folder / "manifest.json").read_text())
    for field, value, message in [
        ("coef", [[1.0]], r"stacker has 1x1 coefficients; its \d+ members need 1x\d+"),
        ("trials", [0, 1], r"stacker's trials are not its members"),
        ("coef", [[float("nan")] * len(loaded.members)], r"coefficients must be finite"),
    ]:
        bad = tmp_path / f"bad-{field}-{len(message)}"
        shutil.copytree(folder, bad)
        edited = json.loads(json.dumps(manifest))
        edited["stacker"][field] = value
        (bad / "manifest.json").write_text(json.dumps(edited))
        with pytest.raises(ArtifactError, match=message):
            load(bad)


def test_layer_2_weights_near_identical_members_alike_and_fits_every_task() -> None:
    """On synthetic members: a copy of a member shares its weight instead of the two
    cancelling out; a noise member gets (almost) none; the gradient is exact; the
    multi-class and regression layers predict probabilities summing to 1 and values."""
    rng = np.random.default_rng(0)
    n = 2000
    signal = rng.normal(size=n)
    y = (signal + rng.normal(scale=0.8, size=n) > 0).astype(np.int64)
    good = 1 / (1 + np.exp(-signal))
    copy = np.clip(good + rng.normal(scale=1e-3, size=n), 1e-4, 1 - 1e-4)
    noise = rng.uniform(0.05, 0.95, size=n)
    probs = [np.column_stack([1 - q, q]) for q in (good, copy, noise)]
    layer2 = fit_stacker("binary", probs, y)
    w = np.asarray(layer2.coef[0])
    assert w.min() >= 0 and w[2] < 0.05 * w[:2].sum()
    assert w[0] > 0.2 * w[:2].sum() and w[1] > 0.2 * w[:2].sum()  # shared, not cancelled
    X = layer2.features(probs)
    logs = np.log(rng.dirichlet(np.ones(3), size=(n, 2))).reshape(n, 6)
    for classes, yy, XX in [(1, y, X), (3, y % 3 + (y == 0), logs)]:
        members = XX.shape[1] // classes
        loss = _loss(XX, yy, members, classes)
        theta = np.abs(rng.normal(size=members + classes))
        assert check_grad(lambda t: loss(t)[0], lambda t: loss(t)[1], theta) < 1e-5  # noqa: B023
    three = [rng.dirichlet(np.ones(3), size=n) for _ in range(2)]
    multi = fit_stacker("multiclass", three, rng.integers(0, 3, size=n))
    out = multi.combine(three)
    assert out.shape == (n, 3) and np.allclose(out.sum(axis=1), 1.0)
    values = [signal + rng.normal(scale=s, size=n) for s in (0.1, 1.0)]
    reg = fit_stacker("regression", values, signal)
    assert reg.coef[0][0] > 5 * reg.coef[0][1] >= 0
    assert reg.combine(values).shape == (n,)
    assert _nonnegative_logistic(X, y, 3, 1)[0].min() >= 0


def test_no_stack_when_switched_off(tmp_path: Path) -> None:
    """(Walk-forward runs have none either: tests/test_price.py.)"""
    off = search(
        "default", trials=6, seed=1, runs_dir=tmp_path, overrides={**CHEAP, "stacking": False}
    )
    assert "stack" not in set(off.leaderboard()["model"])


def test_on_more_rows_than_fitting_rows_weights_come_from_a_sample_scores_from_all(
    stacked, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``FITTING_ROWS`` rows (100,000; lowered here to 200 of the search's 800)
    the ensemble's weights are chosen, and the stack's layer 2 fitted, on a seeded
    sample; both rows are still scored on every validation row."""
    from automl_fin.results import _ensemble
    from automl_fin.results._ensemble import (
        build_ensemble,
        cv_score,
        fitting_rows,
        select,
        selection_criterion,
        selection_splits,
    )
    from automl_fin.results._stacking import build_stack

    result, study = stacked
    p = result.problem
    copy = optuna.create_study(direction="maximize")  # the module's study stays as it was
    for trial in study.trials:
        copy.add_trial(trial)
    monkeypatch.setattr(_ensemble, "FITTING_ROWS", 200)
    searched = np.sort(np.concatenate([valid for _, valid in p.splits]))  # not the test rows
    sample = fitting_rows(searched, p.recipe.seed)
    assert len(sample) == 200 and np.array_equal(sample, fitting_rows(searched, p.recipe.seed))
    splits = selection_splits(p)
    for (train, valid), (kept_train, kept) in zip(p.splits, splits, strict=True):
        assert kept_train is train and 0 < len(kept) < len(valid)
        assert set(kept) == set(valid) & set(sample)
    assert sum(len(kept) for _, kept in splits) == 200

    ensemble = build_ensemble(copy, p)
    assert ensemble is not None
    members = {int(k): w for k, w in TrialRecord.of(ensemble).members.items()}  # type: ignore[union-attr]
    pool = candidates(copy, p)
    preds = [np.load(str(TrialRecord.of(t).oof)) for t in pool]
    criterion, _ = selection_criterion(p, splits)
    weights = select(preds, [family_of(t) for t in pool],
                     criterion or (lambda pr: cv_score(p, pr, splits)),
                     p.recipe.ensemble_selection, seed=p.recipe.seed)  # fmt: skip
    assert members == {t.number: w for t, w in zip(pool, weights, strict=True) if w > 0}
    blend = sum(w * pr for w, pr in zip(weights, preds, strict=True))
    assert ensemble.value == pytest.approx(cv_score(p, blend), abs=1e-12)  # every row

    row = build_stack(copy, p)
    assert row is not None
    y = p.dataset.y
    layer2 = fit_stacker("binary", [pr[sample] for pr in preds], y[sample])
    assert TrialRecord.of(row).stacker["coef"] == layer2.coef  # type: ignore[index]
    oof = cross_fit("binary", preds, y, p.splits, seed=p.recipe.seed)
    assert TrialRecord.of(row).fold_scores == pytest.approx(
        [p.score(tr, va, oof[va]) for tr, va in p.splits], abs=1e-12
    )
    full = fit_stacker("binary", preds, y)  # on every row the weights differ: the check bites
    assert full.coef != layer2.coef
