"""The credit validator's tables (KS, Gini, score bands, cutoffs) against independent code."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from automl_fin import datasets
from automl_fin.data._discrimination import (
    confusion_at,
    cumulative,
    cutoffs,
    gini,
    ks,
    score_bands,
)


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    """German credit: out-of-fold P(bad) of a logistic regression on the numeric columns,
    rounded to two decimals so that many scores tie."""
    frame = datasets.load("german_credit")
    X = frame.select_dtypes("number")
    y = (frame["creditability"] == "bad").to_numpy(dtype=int)
    p = cross_val_predict(LogisticRegression(max_iter=2000), X, y, cv=5, method="predict_proba")
    return y, np.round(p[:, 1], 2)


def test_ks_and_gini_equal_scipy_and_scikit_learn(scored) -> None:  # type: ignore[no-untyped-def]
    y, score = scored
    statistic, cutoff = ks(y, score)
    assert statistic == pytest.approx(ks_2samp(score[y == 1], score[y == 0]).statistic)
    # the KS point: declining at or above the cutoff separates the shares by exactly KS
    declined = score >= cutoff
    assert declined[y == 1].mean() - declined[y == 0].mean() == pytest.approx(statistic)
    assert gini(y, score) == pytest.approx(2 * roc_auc_score(y, score) - 1)  # ties count half
    curve = cumulative(y, score)
    assert curve["score"].is_monotonic_decreasing and curve["score"].is_unique
    assert curve[["bads", "goods", "rows"]].iloc[-1].tolist() == [1.0, 1.0, 1.0]


def test_score_bands_count_every_row_and_capture_every_bad(scored) -> None:  # type: ignore[no-untyped-def]
    y, score = scored
    bands = score_bands(y, score)
    assert (
        5 <= len(bands) <= 10 and bands["rows"].sum() == len(y) and bands["bads"].sum() == y.sum()
    )
    assert bands["captured"].iloc[-1] == pytest.approx(1.0)
    # riskiest first, ranges do not overlap, bad rates fall (a score that ranks) ...
    assert (bands["score_min"].to_numpy()[:-1] > bands["score_max"].to_numpy()[1:]).all()
    assert bands["bad_rate"].iloc[0] > 2 * bands["bad_rate"].iloc[-1]
    # ... and each band's numbers are its rows'
    top = score >= bands["score_min"].iloc[0]
    assert bands["rows"].iloc[0] == top.sum() and bands["bads"].iloc[0] == y[top].sum()
    assert bands["predicted"].iloc[0] == pytest.approx(score[top].mean())
    assert bands["odds"].iloc[0] == pytest.approx((1 - y[top]).sum() / y[top].sum())


def test_cutoffs_approve_the_share_asked_for(scored) -> None:  # type: ignore[no-untyped-def]
    y, score = scored
    table = cutoffs(y, score)
    assert table["cutoff"].is_monotonic_increasing
    for rate, row in table.iterrows():
        approved = score < row["cutoff"]
        assert row["approved"] == pytest.approx(approved.mean())
        assert abs(row["approved"] - rate) < 0.06  # ties at two decimals move it a little
        assert row["bad_rate"] == pytest.approx(y[approved].mean())
        assert row["bads_declined"] == pytest.approx(y[~approved].sum() / y.sum())
    # a stricter policy declines more bads and approves a safer book
    assert table["bads_declined"].is_monotonic_decreasing
    assert table["bad_rate"].iloc[0] < table["bad_rate"].iloc[-1] < y.mean() + 1e-9
    counts = confusion_at(y, score, ks(y, score)[1])
    assert counts.to_numpy().sum() == len(y) and counts.loc["bad"].sum() == y.sum()


def test_one_class_or_mismatched_input_is_refused() -> None:
    with pytest.raises(ValueError, match="both bads and goods"):
        ks(np.zeros(5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="0 \\(good\\) and 1 \\(bad\\)"):
        gini(np.array([0, 1, 2]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="one length"):
        score_bands(np.array([0, 1]), np.array([0.1, 0.2, 0.3]))


def test_an_approval_rate_outside_0_1_is_refused() -> None:
    with pytest.raises(ValueError, match=r"approval rate 1\.0: give rates between 0 and 1"):
        cutoffs(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4]), approval_rates=[1.0])


def test_roc_auc_metric_equals_scikit_learn_with_ties_and_rare_classes(scored) -> None:  # type: ignore[no-untyped-def]
    from automl_fin.data._metrics import METRICS

    y, score = scored  # two decimals: many ties
    auc = METRICS["roc_auc"]
    assert auc(y, np.column_stack([1 - score, score])) == pytest.approx(
        roc_auc_score(y, score), abs=1e-12
    )
    rng = np.random.default_rng(3)  # 30 positives among 20,000, then the labels inverted
    rare = rng.random(20_000) < 0.0015
    noisy = np.round(rng.random(20_000) + rare * 0.3, 3)
    for labels in (rare, ~rare):
        assert auc(labels.astype(int), np.column_stack([1 - noisy, noisy])) == pytest.approx(
            roc_auc_score(labels, noisy), abs=1e-12
        )
    three = rng.integers(0, 3, 500)
    proba = rng.dirichlet(np.ones(3), 500).round(2)
    proba /= proba.sum(axis=1, keepdims=True)
    assert auc(three, proba) == pytest.approx(
        roc_auc_score(three, proba, multi_class="ovr"), abs=1e-12
    )


def test_bands_of_tied_predictions_are_numbered_without_a_gap() -> None:
    """Predictions of a few values each (a mean per fold, a tree's leaves): pandas' cut
    leaves a bin between tied edges empty, and the report's residual bands read 1, 2, 4,
    5 (here 1, 3, 4); numbered as they hold rows, without a gap."""
    from automl_fin.data._discrimination import band_of

    rng = np.random.default_rng(0)
    values = rng.normal(size=4)[rng.integers(0, 4, 1200)]  # pandas: bins 0, 2, 3
    bands = band_of(values, 10)
    assert sorted(set(bands)) == list(range(1, bands.max() + 1))
    order = np.argsort(values, kind="stable")
    assert (np.diff(bands[order]) >= 0).all()  # band 1 the lowest, in the values' order
