"""report.html: written at the end of a run and by ``automl-fin report``, self-contained,
and rendered by headless Chromium with every plot of the task."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_fin import datasets, search
from automl_fin.engine._reopen import reopen
from automl_fin.errors import DataError
from automl_fin.results._report import REPORT

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

COMMON = ["Leaderboard", "Optimisation history", "Parameter importances"]
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
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._in_h2 = tag == "h2"
        if tag == "figure":
            self.figures[str(a.get("id"))] = str(a.get("data-rendered", ""))
        if tag in ("path", "rect", "line", "polyline", "use"):
            self.shapes += 1
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith(("#", "data:")):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data.strip())
            self._in_h2 = False


def _rendered(page: Path, tmp_path: Path) -> _Outline:
    """The page as headless Chromium laid it out (figure sizes measured by its script)."""
    outline = _Outline()
    outline.feed(_chromium(page, tmp_path, "--dump-dom"))
    return outline


def _sizes(outline: _Outline) -> dict[str, tuple[int, int]]:
    out = {}
    for name, size in outline.figures.items():
        assert re.fullmatch(r"\d+x\d+", size), f"figure {name} was not laid out: {size!r}"
        w, h = map(int, size.split("x"))
        out[name] = (w, h)
    return out


def test_the_default_report_opens_in_chromium_with_all_its_plots(tmp_path: Path) -> None:
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
        },
    )
    page = result.run_dir / REPORT
    text = page.read_text()
    outline = _rendered(page, tmp_path)
    assert outline.headings == [*COMMON, "ROC curve", "Calibration", "Feature contributions"]
    assert outline.external == []  # self-contained: nothing fetched
    sizes = _sizes(outline)
    assert set(sizes) >= {"history", "importances", "roc", "calibration", "permutation"}
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
    # written again later from the storage, the run's data and its predictor
    page.unlink()
    done = subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", "report", str(result.run_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert page.is_file() and 'id="roc"' in page.read_text().replace("'", '"')


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
    frame.to_csv(tmp_path / "same.csv", index=False)
    assert reopen(result.run_dir, data=tmp_path / "same.csv").problem.dataset.target == (
        "creditability"
    )


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
    assert outline.headings == [*COMMON, "Confusion matrix", "Feature contributions"]
    assert {"confusion", "permutation"} <= set(_sizes(outline))
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
    assert outline.headings == [*COMMON, "Actual vs forecast", "Feature contributions"]
    w, h = _sizes(outline)["forecast"]
    assert w > 500 and h > 300
    assert "random walk" in (prices.run_dir / REPORT).read_text()
    assert isinstance(prices.leaderboard(), pd.DataFrame)


WIDE_REPORT = r"""
import resource, sys, time
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from automl_fin import datasets, search

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
    credit = datasets.load("german_credit").rename(
        columns={"credit_amount": "$gross^^net$ amount", "duration_in_month": r"$\months$"}
    )
    result = search("default", data=credit, trials=2, runs_dir=tmp_path,
                    overrides={"models": ["xgboost"], "validation.n_splits": 3})  # fmt: skip
    page = (result.run_dir / REPORT).read_text()
    assert "Permutation importance" in page and "$gross^^net$ amount" in page
    assert "Feature contributions" in page
