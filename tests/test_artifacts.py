"""Saved predictors: refit of the best row, manifest and hashes, load, and
``automl-fin predict`` reproducing the in-process predictions exactly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import cli
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import automl_fin
from automl_fin import ModelSpec, Task, datasets, hookimpl, search
from automl_fin.errors import ArtifactError, DataError, PluginError
from automl_fin.plugin._registry import Registry
from automl_fin.results._artifacts import MANIFEST, VersionWarning, save_predictor

STALE = ".*steps behind the other series"  # the bundled panel: MSFT ends before SPX

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

HELD_OUT = 100
CLI = [sys.executable, "-m", "automl_fin.cli"]


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    frame = datasets.load("german_credit")
    return frame.assign(loan_id=np.arange(10_000, 10_000 + len(frame)))  # an id column


@pytest.fixture(scope="module")
def run(credit: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One small real search on German credit, the last rows held out of it."""
    return search(
        "default",
        data=credit.iloc[:-HELD_OUT],
        trials=8,
        seed=5,
        storage=":memory:",
        runs_dir=tmp_path_factory.mktemp("runs"),
        overrides={
            "models": ["logreg", "hgb", "xgboost"],
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "report": False,
        },
    )


def _copy(run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    target = tmp_path / "predictor"
    shutil.copytree(run.predictor.path, target)
    return target


def test_the_best_row_is_refitted_on_all_rows_and_saved_with_its_manifest(run) -> None:  # type: ignore[no-untyped-def]
    best = run.leaderboard(state="COMPLETE")
    best = best[~best["baseline"]].iloc[0]
    predictor = run.predictor
    assert predictor.path == run.run_dir / "predictor"
    manifest = json.loads((predictor.path / MANIFEST).read_text())
    assert manifest["best"] == {"trial": int(best["trial"]), "model": best["model"]}
    assert manifest["metric"]["name"] == "roc_auc"
    assert manifest["metric"]["score"] == pytest.approx(best["score"])
    assert manifest["dataset"]["fingerprint"] == run.dataset.fingerprint
    assert manifest["dataset"]["rows"] == len(run.dataset.y)
    assert manifest["recipe"]["name"] == "default"
    assert {"python", "automl-fin", "scikit-learn", "pandas", "numpy"} <= set(manifest["versions"])
    assert manifest["schema"]["ids"] == ["loan_id"]
    columns = {c["name"]: c["kind"] for c in manifest["schema"]["columns"]}
    assert columns["credit_amount"] == "numeric" and columns["purpose"] == "categorical"
    files = sorted(p.name for p in predictor.path.iterdir())
    assert files == sorted([MANIFEST, *manifest["files"]])
    weights = [m["weight"] for m in manifest["members"]]
    assert sum(weights) == pytest.approx(1.0)
    if best["model"] == "ensemble":  # the members are the ensemble row's own
        assert len(weights) == len(best["preprocessors"].split(" + "))


def test_load_gives_the_same_predictions_as_the_predictor_of_the_run(run, credit) -> None:  # type: ignore[no-untyped-def]
    held = credit.iloc[-HELD_OUT:]
    loaded = automl_fin.load(run.run_dir)  # a run folder or its predictor folder
    proba = loaded.predict_proba(held)
    assert list(proba.columns) == run.dataset.classes and proba.index.equals(held.index)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(proba.to_numpy(), run.predictor.predict_proba(held).to_numpy())
    labels = loaded.predict(held)
    assert set(labels) <= set(run.dataset.classes) and pd.api.types.is_string_dtype(labels)
    assert (labels == proba.idxmax(axis=1)).all()
    # the refitted predictor separates the unseen rows (not a constant or a coin)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(held["creditability"] == "bad", proba["bad"]) > 0.65


def test_cli_predict_on_held_out_rows_reproduces_the_in_process_predictions_exactly(
    run,  # type: ignore[no-untyped-def]
    credit: pd.DataFrame,
    tmp_path: Path,
) -> None:
    held = credit.iloc[-HELD_OUT:].drop(columns=["creditability"])
    held.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "not" / "there" / "yet" / "preds.csv"  # missing folders are made
    done = subprocess.run(
        [*CLI, "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    expected = run.predictor.predict_frame(held)
    assert list(written.columns) == ["loan_id", "prediction", "proba_good", "proba_bad"]
    assert written["loan_id"].tolist() == held["loan_id"].tolist()  # keyed by the id column
    assert expected.index.equals(held.index)  # in process: indexed like the rows given
    labels = run.predictor.predict(held)  # the same labels, of one type (it was objects)
    assert expected["prediction"].dtype == labels.dtype and expected["prediction"].equals(labels)
    expected = expected.reset_index(drop=True)  # a file's rows: 0, 1, ...
    pd.testing.assert_frame_equal(written, expected, check_exact=True, check_dtype=False)
    # ids written with leading zeros come back as written (0010900 was 10900: joined to
    # no row of the user's table)
    padded = held.assign(loan_id=held["loan_id"].map("{:07d}".format))
    padded.to_csv(tmp_path / "padded.csv", index=False)
    echoed = run.predictor.predict_frame(tmp_path / "padded.csv")
    assert echoed["loan_id"].tolist() == padded["loan_id"].tolist()
    assert echoed["proba_bad"].tolist() == expected["proba_bad"].tolist()


def test_a_tampered_missing_or_added_file_is_refused_before_unpickling(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    folder = _copy(run, tmp_path)
    pickled = sorted(folder.glob("*.pkl"))[0]
    data = bytearray(pickled.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pickled.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=rf"'{pickled.name}' does not match its sha256"):
        automl_fin.load(folder)
    done = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "predict", str(folder), "--data", "x.csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not match its sha256" in done.stderr
    pickled.unlink()
    with pytest.raises(
        ArtifactError, match=rf"'{pickled.name}' listed in manifest.json is missing"
    ):
        automl_fin.load(folder)
    folder = _copy(run, tmp_path / "again")
    (folder / "extra.pkl").write_bytes(b"not ours")
    with pytest.raises(ArtifactError, match=r"\['extra.pkl'\] are not listed"):
        automl_fin.load(folder)
    with pytest.raises(ArtifactError, match=r"is not a predictor: no manifest.json"):
        automl_fin.load(run.run_dir / "oof")
    # damaged with its sha256 written anew (an unsigned predictor can be): a member of
    # 42 raised a TypeError at predict, an object array numpy's ValueError at load
    import hashlib
    import io
    import pickle

    member = json.loads((run.run_dir / "predictor" / MANIFEST).read_text())["members"][0]["file"]
    for name, content in ((member, pickle.dumps(42)), ("training_rows.npy", None)):
        folder = _copy(run, tmp_path / f"rehashed-{name}")
        if content is None:
            buffer = io.BytesIO()
            np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
            content = buffer.getvalue()
        (folder / name).write_bytes(content)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][name] = hashlib.sha256(content).hexdigest()
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ArtifactError, match=rf"file '{re.escape(name)}' (holds a int, not "
                           r"the fitted model|is not the array of numbers)"):  # fmt: skip
            automl_fin.load(folder)


def test_new_data_missing_a_column_or_with_a_wrong_kind_is_refused(run, credit, tmp_path) -> None:  # type: ignore[no-untyped-def]
    held = credit.iloc[-5:]
    with pytest.raises(DataError, match=r"missing column\(s\) 'purpose', 'credit_amount'"):
        run.predictor.predict(held.drop(columns=["credit_amount", "purpose"]))
    # a file of a header and no row (no new loan today): no prediction, as for a frame
    # of no rows (the file was refused: "has no data rows")
    held.iloc[:0].to_csv(tmp_path / "none.csv", index=False)
    nothing = run.predictor.predict_proba(tmp_path / "none.csv")
    assert nothing.shape == (0, 2) and len(run.predictor.predict(tmp_path / "none.csv")) == 0
    # a name spelt with an accent or a letter off is named for its rename (none was)
    renamed = held.rename(columns={"credit_amount": "crédit_amount", "purpose": "purpse"})
    with pytest.raises(DataError, match=r"rename the columns named alike \('purpse' for "
                       r"'purpose'; 'crédit_amount' for 'credit_amount'\)$"):  # fmt: skip
        run.predictor.predict(renamed)
    bad = held.assign(credit_amount=["1200", "lots", "800", "5000", "700"])
    with pytest.raises(DataError, match=r"column 'credit_amount' must be numeric .* 'lots'"):
        run.predictor.predict_proba(bad)
    # numbers written as text are still numbers; extra columns are ignored
    fine = held.assign(credit_amount=held["credit_amount"].astype(str), note="x")
    assert np.array_equal(
        run.predictor.predict_proba(fine).to_numpy(), run.predictor.predict_proba(held).to_numpy()
    )
    # a name in another Unicode form (decomposed: 'a' and a combining accent, as a macOS
    # file name) is the same text: it was "missing column(s) 'âge'", both looking alike
    import unicodedata

    french = credit.rename(columns={"age_in_years": "âge"})
    result = automl_fin.search("default", data=french, trials=2, storage=":memory:",
                               runs_dir=tmp_path, overrides={"models": ["logreg"],
                                                             "report": False})  # fmt: skip
    new = french.iloc[-5:].rename(columns={"âge": unicodedata.normalize("NFD", "âge")})
    assert "âge" not in new.columns
    assert np.array_equal(result.predictor.predict_proba(new).to_numpy(),
                          result.predictor.predict_proba(french.iloc[-5:]).to_numpy())  # fmt: skip


def test_other_package_versions_are_warned_about(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _copy(run, tmp_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(VersionWarning, match=r"scikit-learn 0.24.2 -> 1\."):
        automl_fin.load(folder)


def test_a_predictor_that_fails_under_other_versions_says_so_in_one_line(run, credit) -> None:  # type: ignore[no-untyped-def]
    """A plugin upgraded since the save (a fitted attribute renamed) gave a 40-line
    traceback from predict and evaluate; under the versions it was saved with, a member
    that fails is a bug and keeps its traceback."""
    import copy

    class Renamed:  # a plugin's step whose fitted attribute a new version renamed
        def predict_proba(self, X):  # type: ignore[no-untyped-def]
            raise AttributeError("'WinsorScaler' object has no attribute 'low_'")

        predict = predict_proba

        def __getitem__(self, step: int) -> Renamed:  # its last step: itself
            return self

    broken = copy.deepcopy(run.predictor)
    for member in broken.members:
        member.pipeline = Renamed()
    rows = credit.iloc[-5:].drop(columns="creditability")
    with pytest.raises(AttributeError):
        broken.predict_proba(rows)
    broken.manifest["versions"] = {**broken.manifest["versions"], "scikit-learn": "0.24.2"}
    with pytest.raises(ArtifactError) as info:
        broken.predict_proba(rows)
    text = str(info.value)
    assert "failed to predict (AttributeError: 'WinsorScaler' object" in text and "\n" not in text
    assert "; it was saved with other package versions (scikit-learn 0.24.2 -> 1." in text
    assert text.endswith("install those, or run the study again to save it anew (--debug "
                         "shows the traceback)")  # fmt: skip


def test_the_price_predictor_forecasts_each_series_from_its_latest_window(
    tmp_path: Path,
) -> None:
    frame = datasets.load("equities")
    frame = frame[frame["date"] >= "2014-01-01"].reset_index(drop=True)
    result = search(
        "price",
        data=frame,
        trials=3,
        seed=0,
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={
            "data.entity": "ticker",
            "data.series.price": "close",
            "models": ["ridge"],
            "validation.n_splits": 3,
            "validation.final_test": 0.0,
            "ensemble": False,
            "report": False,
            "reality_check": None,  # the ridge, not the baseline it may not beat
        },
    )
    predictor = automl_fin.load(result.run_dir)
    assert predictor.manifest["best"]["model"] == "ridge"
    table = predictor.predict_frame(frame)
    last = frame.groupby("ticker")["date"].max()
    assert table["ticker"].tolist() == sorted(last.index)
    assert (table["origin"].to_numpy() == last.sort_index().to_numpy()).all()
    assert (table["horizon"] == 1).all()
    close = frame.sort_values("date").groupby("ticker")["close"].last().sort_index()
    assert np.allclose(table["forecast_price"], close.to_numpy() * np.exp(table["forecast_return"]))
    # the same forecast as the refitted pipeline on the supervised row of that origin
    # (a placeholder next step gives the latest row a target so that it is kept)
    later = frame.groupby("ticker").tail(1).assign(date=lambda d: d["date"] + pd.Timedelta("1D"))
    from automl_fin.data._timeseries import supervise
    from automl_fin.engine._recipes import load_recipe

    cfg = load_recipe("price", {"data.series.price": "close"}).data.series
    rows = supervise(pd.concat([frame, later]), time="date", entity="ticker", cfg=cfg).frame
    rows = rows.groupby("ticker").tail(1).sort_values("ticker")
    pipe = predictor.members[0].pipeline
    direct = pipe.predict(rows[predictor.schema.features])
    assert np.array_equal(direct, table["forecast_return"].to_numpy())
    forecast = predictor.predict(frame)  # one per ticker, in the target's unit (returns)
    assert forecast.index.tolist() == table["ticker"].tolist()
    assert forecast.tolist() == table["forecast_return"].tolist()
    with pytest.raises(DataError, match=r"^data: no rows; a forecast needs each series' "):
        predictor.predict(frame.iloc[:0])  # (a single series: KeyError of row -1)
    # a gap in the rows given is said, as training says one (15 months missing from a
    # monthly series moved its forecast by 30 %, unsaid); shuffled rows are no gap
    ticker = frame["ticker"].iloc[-1]
    days = sorted(frame.loc[frame["ticker"] == ticker, "date"])[-80:-50]
    gapped = frame[~((frame["ticker"] == ticker) & frame["date"].isin(days))]
    with pytest.warns(UserWarning, match=r"data: the prices skip \d+ days \(.*; the usual step "
                      r"is 1 day\), 1 such gap\(s\) in all"):  # fmt: skip
        predictor.predict(gapped.sample(frac=1, random_state=0))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        predictor.predict(frame.sample(frac=1, random_state=0))
    assert not [w for w in seen if "skip" in str(w.message)]
    # no interval: walk-forward errors are not exchangeable (split-conformal needs them
    # to be); one line, in Python and on the command line
    with pytest.raises(ArtifactError, match=r"^prediction intervals: price forecasts have none"):
        predictor.predict_interval(frame, 0.9)
    frame.to_csv(tmp_path / "prices.csv", index=False)
    out = cli("predict", str(result.run_dir), "--data", str(tmp_path / "prices.csv"),
              "--interval", "0.9")  # fmt: skip
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "walk-forward errors are not exchangeable" in out.stderr
    # a series it never saw is forecast, and said (it was forecast without a word)
    assert predictor.manifest["training"]["series"] == ["MSFT", "SPX"]
    assert predictor.schema.text_columns() == []  # ids read as training read them
    renamed = frame.assign(ticker=frame["ticker"].replace({"MSFT": "AAPL"}))
    with pytest.warns(
        UserWarning, match=r"1 of the 2 series of 'ticker' had no row in training \('AAPL'\)"
    ):
        assert predictor.predict(renamed).index.tolist() == ["AAPL", "SPX"]
    with pytest.warns(UserWarning, match=r"series of 'ticker' had no row in training"):
        predictor.evaluate(renamed)
    # one written in other case is new too, with the name training wrote beside it
    lower = frame.assign(ticker=frame["ticker"].replace({"MSFT": "msft "}))
    with pytest.warns(UserWarning, match=r"\('msft ' \(training wrote 'MSFT'\)\); each is"):
        predictor.predict(lower)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=STALE)  # (said below)
        predictor.predict(frame)
    # the latest window moves the forecast; too short a history is refused
    moved = frame.copy()
    moved.loc[moved.groupby("ticker")["date"].idxmax(), "close"] *= 1.05
    assert not np.allclose(
        predictor.predict_frame(moved)["forecast_return"], table["forecast_return"]
    )
    with pytest.raises(DataError, match=r"too little history .* give at least 61 rows"):
        predictor.predict(frame.groupby("ticker").tail(30))
    # one series too short (a new listing) no longer refuses every series' forecast: it is
    # left out, said, as training leaves it out
    short = pd.concat([frame[frame["ticker"] == "SPX"],
                       frame[frame["ticker"] == "MSFT"].tail(30)])  # fmt: skip
    with pytest.warns(UserWarning, match=r"no forecast for MSFT, forecast for the other series; "
                      r"the first: MSFT has too little history"):  # fmt: skip
        alone = predictor.predict(short)
    assert alone.index.tolist() == ["SPX"] and alone.iloc[0] == pytest.approx(
        predictor.predict(frame).loc["SPX"]
    )
    # a series whose rows stop well before the others' is forecast from then: said (the
    # bundled panel is such a table: MSFT ends 2017-11-10, SPX 2018-12-31)
    with pytest.warns(UserWarning, match=r"the latest rows of MSFT \(2017-11-10\) are more "
                      r"than 5 steps behind the other series' \(2018-12-31\)"):  # fmt: skip
        assert predictor.predict(frame).index.tolist() == ["MSFT", "SPX"]
    # what training refuses, predicting refuses the same way (a price of 0 and a time
    # twice were forecast without a word), and an empty latest price is left out as
    # training leaves it out (it was "too little history"): said, the forecast made from
    # the last known price
    latest = frame.groupby("ticker")["date"].idxmax()
    with pytest.raises(DataError, match=r"price column 'close' has 2 non-numeric or non-pos"):
        predictor.predict(frame.assign(close=frame["close"].where(~frame.index.isin(latest), 0)))
    gap = frame.copy()
    gap.loc[latest, "close"] = np.nan
    with pytest.warns(UserWarning, match=r"2 rows of \d+ without a price in 'close' left out: 2 "
                      r"after their series' last price \(e.g. "):  # fmt: skip
        early = predictor.predict_frame(gap)
    assert (early["origin"] < table["origin"]).all()
    with pytest.raises(DataError, match=r"has 2 rows sharing a time for entity"):
        predictor.predict(pd.concat([frame, frame.tail(1)]))
    # what a forecast has no per-row answer to is refused by name
    with pytest.raises(ArtifactError, match="--explain: a price forecast has no per-column"):
        predictor.predict_frame(frame, explain=2)
    with pytest.raises(ArtifactError, match="explain: a price forecast's inputs are computed"):
        predictor.explain(frame)
    with pytest.raises(DataError, match="--keep: a price forecast has one row per series"):
        predictor.predict_frame(frame, keep=["volume"])
    with pytest.raises(ArtifactError, match="stability: price series drift by design"):
        predictor.stability(frame)
    # evaluate: a forecast from every origin with a full window and a known next step,
    # scored as the independent computation below does, beside the random walk
    scores = predictor.evaluate(frame)
    every = supervise(frame, time="date", entity="ticker", cfg=cfg).frame
    truth = every["next_return"].to_numpy()
    error = truth - pipe.predict(every[predictor.schema.features])
    assert scores.attrs["rows"] == len(every) and scores.index[0] == "rmse"
    assert scores.attrs["seen"] == len(every)  # every origin is one it was trained on
    assert scores.loc["rmse", "predictor"] == pytest.approx(np.sqrt(np.mean(error**2)))
    assert scores.loc["rmse", "random_walk"] == pytest.approx(np.sqrt(np.mean(truth**2)))
    assert scores.loc["mase", "random_walk"] == pytest.approx(1.0)
    with pytest.raises(ArtifactError, match="feature_importance: a price predictor's inputs"):
        predictor.feature_importance(frame)
    # on the command line before any table: the metrics were printed, then exit 2
    out = cli("evaluate", str(result.run_dir), "--data", str(tmp_path / "prices.csv"),
              "--importance")  # fmt: skip
    assert out.returncode == 2 and out.stdout == "", out.stdout
    assert "--importance: a price predictor's inputs are computed" in out.stderr


_SAVES_AGAIN_AND_AGAIN = """
import sys, time, automl_fin
from automl_fin.results._artifacts import save_predictor
both = [automl_fin.load(sys.argv[1]), automl_fin.load(sys.argv[2])]
end, saves = time.monotonic() + float(sys.argv[4]), int(sys.argv[5])
while time.monotonic() < end:
    save_predictor(both[saves % 2], sys.argv[3])
    saves += 1
print(saves - int(sys.argv[5]))
"""


def test_a_predictor_read_while_it_is_saved_again_is_read_whole(
    run,  # type: ignore[no-untyped-def]
    credit: pd.DataFrame,
    tmp_path: Path,
) -> None:
    """A save swaps the folder between a reader's manifest and its files: the old
    manifest met the new files ("does not match its sha256"), or no folder at all.
    Two processes save two predictors with other files at once, each in turn, one
    starting with each, while a third process loads; the last one saved stays whole, and
    no half-written folder is left (one save's clean-up of half-written folders removed
    the other's: FileNotFoundError, no predictor)."""
    other = search("default", data=credit.iloc[:-HELD_OUT], trials=2, seed=6, storage=":memory:",
                   runs_dir=tmp_path / "other", overrides={"models": ["logreg"],
                   "validation.n_splits": 3, "validation.repeats": 1, "report": False})  # fmt: skip
    target = tmp_path / "shared" / "predictor"
    save_predictor(run.predictor, target)  # there before the first read
    both = [str(run.predictor.path), str(other.predictor.path), str(target), "8"]
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", _SAVES_AGAIN_AND_AGAIN, *both, str(first)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in (0, 1)
    ]
    loads, errors, seen = 0, [], set()
    while any(saver.poll() is None for saver in savers):
        try:
            seen.add(tuple(automl_fin.load(target).manifest["files"].values()))
            loads += 1
        except ArtifactError as exc:
            errors.append(str(exc))
    ends = [saver.communicate() for saver in savers]
    assert [saver.returncode for saver in savers] == [0, 0], [err[-2000:] for _, err in ends]
    saves = [int(out) for out, _ in ends]
    assert min(saves) >= 2 and loads >= 4 and errors == [], (saves, loads, errors[:3])
    assert len(seen) >= 2  # both were read
    automl_fin.load(target)  # the last one saved is whole: its files match its manifest
    assert sorted(p.name for p in target.parent.iterdir()) == [".predictor.lock", "predictor"]


def test_a_manifest_pointing_a_member_at_an_unhashed_file_is_refused(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    for target in ("../outside.pkl", "evil.bin", MANIFEST):
        folder = _copy(run, tmp_path / target.replace("/", "_"))
        manifest = json.loads((folder / MANIFEST).read_text())
        manifest["members"][0]["file"] = target
        (folder / MANIFEST).write_text(json.dumps(manifest))
        with pytest.raises(ArtifactError, match=r"names '.*', not its own pickle"):
            automl_fin.load(folder)
    folder = _copy(run, tmp_path / "shape")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"] = list(manifest["files"])
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=r"manifest.json field 'files': Input should be a"):
        automl_fin.load(folder)


class _FailsOnAllRows(ClassifierMixin, BaseEstimator):
    """A real logistic regression that cannot be fitted on more than 900 rows: every
    5-fold fit of German credit works, the refit on all 1,000 rows fails."""

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        if len(X) > 900:
            raise MemoryError("too many rows for this model")
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


class _FailsPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(
            ModelSpec(
                name="fails_on_all",
                tasks={Task.BINARY},
                build=lambda p, c: _FailsOnAllRows(),
                requires={"scale"},
            )
        )


def test_a_refit_that_fails_after_the_search_keeps_the_search(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"predictor failed after the search: MemoryError"):
        result = search(
            "default",
            trials=3,
            runs_dir=tmp_path,
            registry=Registry(plugins={"fails": _FailsPlugin()}),
            overrides={
                "models": ["fails_on_all"],
                "calibration": ["none"],  # calibration would fit on two thirds of the rows
                "ensemble": False,
                "validation.repeats": 1,
                "bagging": False,  # a refit on all rows: where this model fails
            },
        )
    assert result.predictor is None
    board = result.leaderboard(state="COMPLETE")
    assert (board["model"] == "fails_on_all").sum() == 2  # the trials are all there
    assert (result.run_dir / "report.html").is_file()  # later steps still ran
    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    assert "too many rows" in study.user_attrs["error:predictor"]
    with pytest.raises(ArtifactError, match=r"this run saved no predictor \(its search said why"):
        automl_fin.load(result.run_dir)


def test_a_run_in_which_no_trial_completed_says_it_saved_no_predictor(tmp_path: Path) -> None:
    """A budget no trial fits: the run folder holds its report and its study's mark but
    no ``oof`` folder, and ``predict`` on it said "is not a predictor: no manifest.json;
    pass the folder automl-fin run wrote" (a helper's find): the folder it was given."""
    with pytest.warns(UserWarning, match="no trial completed"):
        result = search(
            "default", seconds=0.001, runs_dir=tmp_path, overrides={"models": ["logreg"]}
        )
    assert result.predictor is None and not (result.run_dir / "oof").exists()
    with pytest.raises(ArtifactError, match=r"this run saved no predictor \(.*no trial or"):
        automl_fin.load(result.run_dir)


def test_a_run_without_a_predictor_sets_aside_one_no_longer_chosen(tmp_path: Path) -> None:
    """Resumed with ``--no-predictor``, a study's leaderboard and report named a new
    chosen row while ``predict`` served the predictor of the one before, without a word
    (a helper's find). It is set aside, said in one line, and ``predict`` says where it
    is; a run whose chosen row stays keeps it."""
    run = {"runs_dir": tmp_path, "seed": 0, "study": "s",
           "storage": f"sqlite:///{tmp_path / 'r.db'}"}  # fmt: skip
    fast = {"calibration": ["none"], "report": False, "ensemble": False, "portfolio": False,
            "baselines": []}  # fmt: skip
    first = search("default", trials=1, **run, overrides={**fast, "models": ["hgb"]})
    assert first.predictor is not None
    again = search("default", trials=1, **run,
                   overrides={**fast, "models": ["hgb"], "predictor": False})  # fmt: skip
    assert automl_fin.load(again.run_dir).manifest["best"] == first.predictor.manifest["best"]
    with pytest.warns(UserWarning, match=r"moved to .*predictor.previous: the study's chosen "
                      r"row is now logreg \(0\.\d+\), not its hgb"):  # fmt: skip
        later = search("default", trials=4, **run,
                       overrides={**fast, "models": ["logreg"], "predictor": False})  # fmt: skip
    board = later.leaderboard()
    assert board.loc[board["chosen"], "model"].tolist() == ["logreg"]
    with pytest.raises(ArtifactError, match=r"the last run of this study saved no predictor"):
        automl_fin.load(later.run_dir)
    assert (later.run_dir / "predictor.previous" / "manifest.json").is_file()


class _PlainPlugin:
    """A third-party logistic regression, registered in some runs of a study only."""

    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(
            ModelSpec(
                name="plain_logreg",
                tasks={Task.BINARY},
                build=lambda p, c: LogisticRegression(max_iter=500),
                requires={"scale"},
            )
        )


def test_a_study_resumed_with_other_models_saves_its_own_predictor_or_none(
    tmp_path: Path,
) -> None:
    """Resumed with another ``models`` list, a study refits its chosen row though this
    run does not search that row's model (it failed with ``KeyError`` and `automl-fin
    predict` went on serving the first run's predictor). Where the row cannot be refitted
    (its plugin is gone), the run is refused up front."""
    plain = Registry(plugins={"plain": _PlainPlugin()})
    storage = f"sqlite:///{tmp_path / 's.db'}"
    common = {"study": "s", "storage": storage, "runs_dir": tmp_path, "trials": 3}
    fixed = {"calibration": ["none"], "validation.repeats": 1, "bagging": False,
             "ensemble": False, "report": False}  # fmt: skip
    first = search("default", registry=plain, overrides={**fixed, "models": ["plain_logreg"]},
                   **common)  # fmt: skip
    assert (
        first.predictor is not None and first.predictor.manifest["best"]["model"] == "plain_logreg"
    )
    # its plugin gone, the run is refused before anything: the predictor stays served
    # (it ran, failed to refit the row and moved the working predictor aside)
    with pytest.raises(PluginError, match=r"study 's' has trials of 'plain_logreg' \("):
        search("default", overrides={**fixed, "models": ["logreg"]}, **common)
    loaded = automl_fin.load(first.run_dir)
    assert loaded.manifest["best"] == first.predictor.manifest["best"]
    back = search("default", registry=plain, overrides={**fixed, "models": ["logreg"]},
                  **common)  # fmt: skip
    assert back.n_trials == 0 and back.predictor is not None
    loaded = automl_fin.load(first.run_dir)
    assert loaded.manifest["best"] == first.predictor.manifest["best"]
    study = optuna.load_study(study_name="s", storage=storage)
    assert study.user_attrs.get("error:predictor") is None


def _edit(run, tmp_path: Path, name: str, change) -> Path:  # type: ignore[no-untyped-def]
    folder = _copy(run, tmp_path / name)
    manifest = json.loads((folder / MANIFEST).read_text())
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def _rule(factors: list[float]) -> dict:
    return {"factors": factors, "plain": 0.5, "crossfit": 0.6, "rows": 900}


def test_an_edited_manifest_is_refused_in_one_line_naming_the_field(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def swap_files(m: dict) -> None:
        m["members"].append({**m["members"][0], "file": "member_1_x.pkl", "model": "x"})
        m["members"][0]["file"], m["members"][1]["file"] = "member_1_x.pkl", m["members"][0]["file"]

    edits = {
        "zero weight": (lambda m: m["members"][0].update(weight=0), "members.0.weight"),
        "no members": (lambda m: m.update(members=[]), "members"),
        "swapped files": (swap_files, "not its own pickle"),
        "one class": (lambda m: m["schema"].update(classes=["good"]), "two or more distinct"),
        "bad kind": (lambda m: m["schema"]["columns"][0].update(kind="image"), "columns.0.kind"),
        "no digest": (lambda m: m["files"].update({next(iter(m["files"])): "x"}), "no sha256"),
        "format": (lambda m: m.update(format=5), "has format 5"),
        "zero factor": (lambda m: m.update(decision=_rule([1, 0])), "positive and finite"),
        "factors": (lambda m: m.update(decision=_rule([1, 2, 3])), "3 factors for 2 classes"),
    }
    for name, (change, expected) in edits.items():
        folder = _edit(run, tmp_path, name.replace(" ", "_"), change)
        with pytest.raises(ArtifactError) as info:
            automl_fin.load(folder)
        assert expected in str(info.value) and "\n" not in str(info.value), name


def test_a_signed_predictor_refuses_any_edit_and_an_unsigned_one_when_required(
    run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from automl_fin.results._artifacts import save_predictor

    monkeypatch.setenv("AUTOML_FIN_SIGNING_KEY", "a long random secret of the bank")
    signed = save_predictor(run.predictor, tmp_path / "signed")
    manifest = json.loads((signed / MANIFEST).read_text())
    assert len(manifest["signature"]) == 64
    rows = datasets.load("german_credit").tail(5)
    expected = automl_fin.load(signed, require_signature=True).predict_proba(rows)
    # edits that leave a well-formed manifest: only the signature catches them
    for name, change in {
        "reversed classes": lambda m: m["schema"].update(classes=m["schema"]["classes"][::-1]),
        # (values that differ from any the search gives: an ensemble of two weighs 0.5)
        "other weight": lambda m: m["members"][0].update(weight=m["members"][0]["weight"] + 0.25),
        "other score": lambda m: m["metric"].update(score=m["metric"]["score"] + 0.01),
    }.items():
        folder = tmp_path / name.replace(" ", "_")
        shutil.copytree(signed, folder)
        edited = json.loads((folder / MANIFEST).read_text())
        change(edited)
        (folder / MANIFEST).write_text(json.dumps(edited))
        with pytest.raises(ArtifactError, match="signature does not verify"):
            automl_fin.load(folder)
    monkeypatch.setenv("AUTOML_FIN_SIGNING_KEY", "another key")
    with pytest.raises(ArtifactError, match="signature does not verify"):
        automl_fin.load(signed)
    monkeypatch.delenv("AUTOML_FIN_SIGNING_KEY")
    unsigned = save_predictor(run.predictor, tmp_path / "unsigned")
    assert "signature" not in json.loads((unsigned / MANIFEST).read_text())
    pd.testing.assert_frame_equal(automl_fin.load(unsigned).predict_proba(rows), expected)
    # unchecked, said: a signed one without the key, and an unsigned one beside a key (a
    # signature stripped off with the classes reversed served flipped labels, unsaid)
    with pytest.warns(UserWarning, match=r"is signed, but AUTOML_FIN_SIGNING_KEY is not set: "
                      r"its signature is not checked"):  # fmt: skip
        automl_fin.load(signed)
    monkeypatch.setenv("AUTOML_FIN_SIGNING_KEY", "a long random secret of the bank")
    with pytest.warns(UserWarning, match=r"is not signed, though AUTOML_FIN_SIGNING_KEY is set"):
        automl_fin.load(unsigned)
    monkeypatch.delenv("AUTOML_FIN_SIGNING_KEY")
    with pytest.raises(ArtifactError, match="not signed and a signature is required"):
        automl_fin.load(unsigned, require_signature=True)
    monkeypatch.setenv("AUTOML_FIN_REQUIRE_SIGNATURE", "1")
    with pytest.raises(ArtifactError, match="is signed, but AUTOML_FIN_SIGNING_KEY is not set"):
        automl_fin.load(signed)
    with pytest.raises(ArtifactError, match="not signed and a signature is required"):
        automl_fin.load(unsigned)  # the variable alone refuses it, as the argument does


def test_a_save_killed_half_way_leaves_nothing_behind_after_the_next(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from automl_fin.results._artifacts import save_predictor

    folder = tmp_path / "predictor"
    (tmp_path / ".predictor-abc123").mkdir()  # what a killed save leaves
    (tmp_path / ".predictor-abc123" / "member_0_logreg.pkl").write_bytes(b"half")
    (tmp_path / ".predictor-old-xyz").mkdir()
    save_predictor(run.predictor, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".predictor.lock", "predictor"]


def test_a_save_killed_between_its_two_renames_leaves_the_old_predictor_served(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Killed after it moved the old predictor aside and before it moved the new one in,
    a save left no predictor: predict said "this run saved no predictor", the old one
    whole in a hidden folder. The next reader puts it back."""
    import os

    import automl_fin
    from automl_fin.results._artifacts import save_predictor

    save_predictor(run.predictor, tmp_path / "predictor")
    before = automl_fin.load(tmp_path).predict_proba(run.problem.dataset.X.head(20))
    (tmp_path / ".predictor-new1").mkdir()  # the new one, finished, not moved in
    aside = tmp_path / ".predictor-old-k1ll3d"
    aside.mkdir()
    os.replace(tmp_path / "predictor", aside / "predictor")  # _swap's first rename
    again = automl_fin.load(tmp_path)
    assert again.predict_proba(run.problem.dataset.X.head(20)).equals(before)
    assert (tmp_path / "predictor").is_dir() and not aside.exists()


FIXTURES = Path(__file__).parent / "fixtures"


def test_a_predictor_saved_before_the_package_layout_loads_and_predicts_the_same() -> None:
    """Saved by commit b0f18ce (flat modules: automl_fin.pipeline …), before the code
    moved into packages; its predictions then are stored beside it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VersionWarning)  # saved with today's versions
        predictor = automl_fin.load(FIXTURES / "predictor_before_layout")
    rows = datasets.load("financial_phrasebank").iloc[:20].drop(columns="label")
    then = pd.read_csv(FIXTURES / "predictor_before_layout_predictions.csv")["prediction"]
    assert list(predictor.predict(rows)) == then.tolist()


def test_a_pickle_naming_a_core_module_by_its_old_path_is_read_at_the_new_one() -> None:
    """A text pipeline pickles automl_fin.pipeline.join_text by its pre-layout path."""
    import io

    from automl_fin.engine._pipeline import join_text
    from automl_fin.results._artifacts import _Unpickler

    data = (FIXTURES / "join_text_before_layout.pkl").read_bytes()
    assert b"automl_fin.pipeline" in data
    step = _Unpickler(io.BytesIO(data)).load()
    assert step.func is join_text
    frame = pd.DataFrame({"a": ["rates rise"], "b": ["stocks fall"]})
    assert list(step.transform(frame)) == list(join_text(frame, columns=["a", "b"]))


class _Locked(LogisticRegression):
    """A plugin's model that keeps a lock once fitted: it does not pickle."""

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        import threading

        self.lock_ = threading.Lock()
        return super().fit(X, y, sample_weight)


def test_a_member_that_does_not_pickle_is_named_with_its_plugin(tmp_path: Path) -> None:
    class Locked:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(ModelSpec(name="locked", tasks={Task.BINARY}, requires={"scale"},
                               build=lambda p, c: _Locked(max_iter=500)))  # fmt: skip

    with pytest.warns(UserWarning, match="predictor failed after the search"):
        result = search("default", trials=3, registry=Registry(plugins={"locked": Locked()}),
                        runs_dir=tmp_path, storage=":memory:",
                        overrides={"models": ["locked"], "report": False, "ensemble": False,
                                   "validation.repeats": 1, "calibration": ["none"]})  # fmt: skip
    message = result.errors["predictor"]
    assert "ArtifactError: member locked#" in message
    assert "(plugin 'locked')) does not pickle (TypeError: cannot pickle '_thread.lock'" in message
    assert message.endswith("leave the model out (--set models=[...] without locked)")


class _LockedScaler(StandardScaler):
    """A plugin's preprocessor that keeps a lock once fitted."""

    def fit(self, X, y=None, sample_weight=None):  # type: ignore[no-untyped-def]
        import threading

        self.lock_ = threading.Lock()
        return super().fit(X, y, sample_weight)


def test_a_preprocessor_that_does_not_pickle_is_named_not_the_model(tmp_path: Path) -> None:
    """A preprocessor holding a lock was reported as the model's fault: "member logreg#2
    (automl-fin ... 'sklearn') does not pickle ...: leave the model out"."""
    from automl_fin import ColumnKind, PreprocessorSpec, Slot

    spec = PreprocessorSpec(name="locked_scale", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                            build=lambda p, ctx: _LockedScaler())  # fmt: skip

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(spec)

    with pytest.warns(UserWarning) as said:
        result = search(
            "default", trials=2, runs_dir=tmp_path, storage=":memory:",
            registry=Registry(plugins={"locked": Plugin()}),
            overrides={"models": ["logreg"], "preprocessors": ["locked_scale", "median_impute",
                       "most_frequent_impute", "onehot"], "ensemble": False, "report": False,
                       "baselines": [], "calibration": ["none"], "validation.repeats": 1},
        )  # fmt: skip
    lines = [str(w.message) for w in said]
    assert any("logreg: a trial's fold models do not pickle: its preprocessor 'locked_scale' "
               "does not" in line for line in lines), lines  # fmt: skip
    message = result.errors["predictor"]
    assert "does not pickle: its preprocessor 'locked_scale' (<local> 0+unknown (plugin " in message
    assert message.endswith("leave it out (--set preprocessors=[...] without locked_scale)")


def test_a_predictor_names_the_plugins_its_members_need(tmp_path: Path, monkeypatch) -> None:
    """A predictor whose preprocessing came from a third-party plugin recorded only its
    model's plugin; with that plugin uninstalled, loading it named a module
    (``needs the package 'afprobe'``), not what to install. Now the manifest lists every
    spec its members hold, and the error names the plugins it was saved with."""
    import sys
    import textwrap

    from automl_fin import ColumnKind, PreprocessorSpec, Slot, hookimpl
    from automl_fin.plugin._registry import Registry

    (tmp_path / "probe_scaling.py").write_text(
        textwrap.dedent('''
        from sklearn.preprocessing import StandardScaler

        class ProbeScaler(StandardScaler):
            """A scaler from a plugin package."""
    ''')
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import probe_scaling

    spec = PreprocessorSpec(name="probe_scale", kinds={ColumnKind.NUMERIC}, slot=Slot.SCALE,
                            build=lambda p, ctx: probe_scaling.ProbeScaler())  # fmt: skip

    class Plugin:
        @hookimpl
        def register_preprocessors(self, register):  # type: ignore[no-untyped-def]
            register(spec)

    result = automl_fin.search(
        "default", trials=1, runs_dir=tmp_path / "runs", progress=False,
        registry=Registry(plugins={"probe": Plugin()}),
        overrides={"models": ["logreg"], "preprocessors": ["probe_scale", "median_impute",
                   "most_frequent_impute", "onehot"], "ensemble": False, "report": False,
                   "baselines": [], "calibration": ["none"], "portfolio": False},
    )  # fmt: skip
    manifest = json.loads((result.run_dir / "predictor" / "manifest.json").read_text())
    assert manifest["plugins"]["probe_scale"] == "<local> 0+unknown (plugin 'probe')"
    assert manifest["plugins"]["logreg"].startswith("automl-fin ")
    (tmp_path / "probe_scaling.py").unlink()  # the plugin uninstalled
    monkeypatch.delitem(sys.modules, "probe_scaling")
    with pytest.raises(ArtifactError) as info:
        automl_fin.load(result.run_dir)
    assert (
        "needs the module 'probe_scaling', which is not installed (saved with the "
        "plugins <local> 0+unknown (plugin 'probe')); install what provides it" in str(info.value)
    )


def test_codes_with_leading_zeros_read_as_numbers_by_pandas_are_the_training_codes(
    credit: pd.DataFrame, tmp_path: Path
) -> None:
    """A branch code written 001 ... 029 is a category of text in training (the file is
    read as written); ``pd.read_csv`` of new rows reads 25 for 025, and every code was an
    unknown category: probabilities off by up to 0.34, the warning naming '25' alone.
    The schema keeps the codes' width and pads new rows' shorter codes to it; a code of
    another width is still unknown, with training's spelling in the warning."""
    rng = np.random.default_rng(0)
    bad = credit["creditability"].to_numpy() == credit["creditability"].min()
    codes = np.where(bad & (rng.random(len(credit)) < 0.7), rng.integers(1, 6, len(credit)),
                     rng.integers(6, 30, len(credit)))  # fmt: skip
    table = credit.assign(branch_code=[f"{k:03d}" for k in codes])
    table.iloc[:-HELD_OUT].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[-HELD_OUT:].drop(columns="creditability").to_csv(tmp_path / "new.csv", index=False)
    result = search("default", data=tmp_path / "train.csv", target="creditability", trials=2,
                    seed=0, storage=":memory:", runs_dir=tmp_path / "runs",
                    overrides={"models": ["logreg"], "validation.n_splits": 3,
                               "validation.repeats": 1, "report": False})  # fmt: skip
    predictor = automl_fin.load(result.predictor.path)
    assert predictor.manifest["format"] == 4
    assert predictor.schema.widths == {"branch_code": 3}
    as_numbers = pd.read_csv(tmp_path / "new.csv")
    assert pd.api.types.is_integer_dtype(as_numbers["branch_code"])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        read = predictor.predict_proba(as_numbers)
    assert not [w for w in seen if "branch_code" in str(w.message)]  # no unknown code
    written = predictor.predict_proba(tmp_path / "new.csv")
    assert np.array_equal(read.to_numpy(), written.to_numpy())
    with pytest.warns(UserWarning, match=r"'branch_code': '0025' \(\d+ rows?, training wrote "
                      r"'025'\)"):  # fmt: skip
        predictor.predict_proba(as_numbers.assign(branch_code="0025"))


def test_numbers_written_with_a_percent_sign_where_training_had_none_are_said(
    run,  # type: ignore[no-untyped-def]
    credit: pd.DataFrame,
) -> None:
    """``45%`` is read as 0.45, as a training file's percents are; in a column whose
    training values were amounts (credit_amount: 932 to 7,180 at the deciles) that was a
    hundredth of every amount, without a word."""
    rows = credit.iloc[-HELD_OUT:].drop(columns="creditability")
    marked = rows.assign(credit_amount=rows["credit_amount"].map("{}%".format))
    with pytest.warns(UserWarning, match=r"data: column 'credit_amount' holds 100 value\(s\) "
                      r"written with a percent sign \('\d+%'\), read as fractions \(45% is "
                      r"0.45\), where its training values were not fractions"):  # fmt: skip
        run.predictor.predict_proba(marked)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run.predictor.predict_proba(rows)
    assert not [w for w in seen if "percent sign" in str(w.message)]


def test_load_refuses_a_predictor_of_a_plugin_turned_off_here(
    run,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``AUTOML_FIN_DISABLE_PLUGINS`` (the switch for a plugin not trusted) refused the
    predictor on the command line only: ``automl_fin.load`` ran the plugin's pickles all
    the same. Refused before anything is unpickled. Autoload turned off leaves
    automl-fin's own plugins readable (a third-party plugin's predictor: test_cli)."""
    folder = run.predictor.path
    saved = json.loads((folder / MANIFEST).read_text())  # (other tests save into the folder)
    assert any(p.endswith("(plugin 'sklearn')") for p in saved["plugins"].values())
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGINS", "sklearn")
    with pytest.raises(ArtifactError, match=r"runs \w+ of automl-fin \S+ \(plugin 'sklearn'\), "
                       r"which AUTOML_FIN_DISABLE_PLUGINS turns off: its code would run on "
                       "your rows"):  # fmt: skip
        automl_fin.load(folder)
    monkeypatch.delenv("AUTOML_FIN_DISABLE_PLUGINS")
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert automl_fin.load(folder).manifest["best"] == saved["best"]


def test_no_rows_predict_nothing_and_one_row_may_be_a_series(
    run,  # type: ignore[no-untyped-def]
    credit: pd.DataFrame,
) -> None:
    """An empty frame (a filter that left no row) crashed every scoring method with
    scikit-learn's "Found array with 0 sample(s)"; its stability was a "significant"
    shift. One row given as a Series (``X.iloc[0]``) was read as one column: "missing
    column(s)" naming the columns it held."""
    rows = credit.iloc[-HELD_OUT:].drop(columns="creditability")
    none = rows.iloc[:0]
    p = run.predictor
    labels = p.predict(rows)
    assert p.predict(none).empty and p.predict(none).dtype == labels.dtype
    proba = p.predict_proba(none)
    assert proba.shape == (0, 2) and list(proba.columns) == list(p.predict_proba(rows).columns)
    table = p.predict_frame(none, explain=2)
    assert table.empty and list(table.columns) == list(p.predict_frame(rows.head(3), explain=2))
    explained = p.explain(none)
    assert explained.contributions.shape == (0, len(p.schema.features)) and explained.margin.empty
    with pytest.raises(DataError, match="stability: data has no rows to compare"):
        p.stability(none)
    one = p.predict_proba(rows.iloc[7])
    assert one.index.tolist() == [rows.index[7]]
    assert np.array_equal(one.to_numpy(), p.predict_proba(rows.iloc[[7]]).to_numpy())


class _CountsThreads(ClassifierMixin, BaseEstimator):
    """A real logistic regression that notes the threads its native libraries may use
    each time it predicts."""

    seen: list[int] = []  # noqa: RUF012 (the class's, read by the test)

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        from threadpoolctl import threadpool_info

        _CountsThreads.seen.append(max(lib["num_threads"] for lib in threadpool_info()))
        return self.model_.predict_proba(X)


class _ThreadsPlugin:
    @hookimpl
    def register_models(self, register):  # type: ignore[no-untyped-def]
        register(ModelSpec(name="threads", tasks={Task.BINARY}, build=lambda p, c: _CountsThreads(),
                           requires={"scale"}))  # fmt: skip


def test_a_small_batch_is_predicted_on_one_thread(tmp_path: Path) -> None:
    """A bag of 15 histogram-boosting models forked OpenMP threads for every tree of a
    single row: 1.06 s a row on ISLR Default's predictor (p95 5.6 s on a busy host),
    0.16 s on one thread. A batch under 10,000 rows is predicted on one."""
    from threadpoolctl import threadpool_info

    result = search("default", trials=2, seed=0, runs_dir=tmp_path, storage=":memory:",
                    registry=Registry(plugins={"threads": _ThreadsPlugin()}),
                    overrides={"models": ["threads"], "baselines": [], "ensemble": False,
                               "report": False, "calibration": ["none"]})  # fmt: skip
    rows = datasets.load("german_credit").drop(columns="creditability")
    _CountsThreads.seen.clear()
    result.predictor.predict_proba(rows.head(3))
    assert _CountsThreads.seen and set(_CountsThreads.seen) == {1}
    cores = max(lib["num_threads"] for lib in threadpool_info())
    _CountsThreads.seen.clear()
    result.predictor.predict_proba(pd.concat([rows] * 10))  # 10,000 rows: every core
    assert set(_CountsThreads.seen) == {cores}
    # small batches from four threads at once: the process's threads come back after
    # (each saving and restoring the limit left it at one thread for good)
    import concurrent.futures

    def predict(_: int) -> None:
        for _ in range(20):
            result.predictor.predict_proba(rows.head(3))

    before = [lib["num_threads"] for lib in threadpool_info()]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(predict, range(8)))
    assert [lib["num_threads"] for lib in threadpool_info()] == before
