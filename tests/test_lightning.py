"""The Lightning plugin: lazy torch import, searched like any model, nothing left on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from automl_fin import Monitor, Task
from automl_fin.engine._search import search
from automl_fin.testing import sample_data

HEAVY = ("torch", "lightning")


def test_registering_the_plugin_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "from automl_fin.plugin._registry import Registry\n"
        "reg = Registry()\n"
        "assert 'mlp' in reg.models, sorted(reg.models)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _scaled(task: Task):
    X, y = sample_data(task, seed=2)
    X = X.select_dtypes("number").to_numpy(float)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_epochs_are_reported_and_training_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.metrics import roc_auc_score

    from automl_fin_lightning.tabular import TabularMLP

    X, y = _scaled(Task.BINARY)
    curve: list[tuple[int, float]] = []
    status: list[str] = []
    checks: list[float] = []
    monitor = Monitor(
        X_valid=X[180:],
        y_valid=y[180:],
        score=lambda p: roc_auc_score(y[180:], p[:, 1]),
        report=lambda step, value: curve.append((step, value)),
        progress=status.append,
        check=checks.append,
    )
    monkeypatch.chdir(tmp_path)  # Lightning would write lightning_logs/ or checkpoints here
    model = TabularMLP(lr=0.03, max_epochs=200, patience=3, width=64).fit(
        X[:180], y[:180], monitor=monitor
    )
    epochs = [s for s, _ in curve]
    assert epochs == list(range(len(epochs))) and 3 < len(epochs) < 200  # stopped early
    assert status[0] == "epoch 1/200" and len(status) == len(epochs)
    # the budget is checked after every batch, with the passes done so far
    assert len(checks) > len(epochs) and checks == sorted(checks)
    assert checks[-1] == pytest.approx(len(epochs)) and 0 < checks[0] < 1
    assert list(tmp_path.iterdir()) == []
    proba = model.predict_proba(X[180:])
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1)
    # the weights kept are those of the best validation-loss epoch, not the last one
    assert roc_auc_score(y[180:], proba[:, 1]) == pytest.approx(max(v for _, v in curve), abs=0.08)


def test_regression_target_is_predicted_in_its_own_units() -> None:
    from automl_fin_lightning.tabular import TabularMLP

    X, y = _scaled(Task.REGRESSION)
    model = TabularMLP(task="regression", n_classes=0, max_epochs=30).fit(X, y)
    pred = model.predict(X)
    assert pred.shape == (len(y),)
    assert abs(pred.mean() - y.mean()) < 0.25 * y.std()  # ages, not standardised values


def test_precision_is_32_bit_on_the_cpu() -> None:
    import torch

    from automl_fin_lightning.trainer import choose_precision

    expected = (
        "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"
    )
    assert choose_precision("auto") == expected
    assert choose_precision("cpu") == "32-true"


def test_mlp_in_a_search_embeds_ordinal_codes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = search(
        "default",
        trials=3,
        seed=1,
        runs_dir=tmp_path,
        progress=True,
        overrides={
            "models": ["mlp"],
            "baselines": [],
            "ensemble": False,
            "validation.n_splits": 3,
            "validation.repeats": 1,
            "model_options": {"mlp": {"max_epochs": 15}},
        },
    )
    board = result.leaderboard()
    done = board[(board["state"] == "COMPLETE") & ~board["baseline"]]
    assert len(done) >= 2
    assert done["preprocessors"].str.contains("ordinal").all()  # the model's slot choice
    assert not done["preprocessors"].str.contains("onehot|target_encode").any()
    assert set(done["plugin"]) == {"automl-fin 0.1.0 (plugin 'lightning')"}
    assert done["score"].max() > 0.7
    bar = capfd.readouterr().err.replace("\r", "\n").splitlines()
    assert any("trial 0 mlp fold 1/3 epoch" in line for line in bar)  # epochs in the one bar
    assert bar[-1].lstrip().startswith("100%|") and "3/3" in bar[-1]
    # its predictor loads and predicts with torch alone: Lightning (~6 s) is for training
    assert result.predictor is not None and result.predictor.path is not None
    script = (
        "import sys, automl_fin, automl_fin.datasets\n"
        f"p = automl_fin.load({str(result.predictor.path)!r})\n"
        "rows = automl_fin.datasets.load('german_credit').head(20)\n"
        "assert p.predict_proba(rows).shape == (20, 2)\n"
        "print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['torch']"


@pytest.mark.gpu
@pytest.mark.skipif(not Path("/proc/driver/nvidia/gpus").is_dir(), reason="no CUDA device")
def test_trains_on_the_gpu_when_there_is_one() -> None:
    from automl_fin_lightning.tabular import TabularMLP

    X, y = _scaled(Task.BINARY)
    model = TabularMLP(max_epochs=3, accelerator="gpu").fit(X, y)
    assert model.predict_proba(X).shape == (len(y), 2)


def test_text_model_learns_sentiment_with_a_vocabulary_from_the_fold(tmp_path: Path) -> None:
    result = search(
        "sentiment",
        trials=2,
        seed=0,
        runs_dir=tmp_path,
        overrides={
            "models": ["text_nn"],
            "validation.n_splits": 3,
            "model_options": {"text_nn": {"max_epochs": 6}},
        },
    )
    board = result.leaderboard()
    assert set(board["state"]) == {"COMPLETE"}
    board = board[~board["baseline"]]
    assert set(board["preprocessors"]) == {"text:raw"}
    # always predicting "neutral" (59 % of sentences) scores macro-F1 0.25
    assert board["score"].max() > 0.5
    assert board["metric:accuracy"].max() > 0.65


def test_text_vocabulary_comes_from_the_training_texts_only() -> None:
    from automl_fin_lightning.text import UNKNOWN, TextClassifier, tokenize

    assert tokenize("Sales rose 2.5 % to EUR 1,000 mn.") == [
        "sales", "rose", "2.5", "%", "to", "eur", "1,000", "mn",
    ]  # fmt: skip
    train = ["profit rose", "profit fell", "sales rose", "sales fell"] * 3
    model = TextClassifier(n_classes=2, max_epochs=2, min_count=2)
    model.fit(np.array(train, dtype=object), np.array([1, 0, 1, 0] * 3))
    assert "profit rose" in model.vocabulary_ and "bankruptcy" not in model.vocabulary_
    ids = model._encode(["bankruptcy looms"])
    assert set(ids[0]) <= {UNKNOWN, 0}


def test_lag_windows_run_from_the_oldest_lag_to_the_newest() -> None:
    from automl_fin_lightning.sequence import lag_windows

    names = ["ret_lag2", "vol_lag1", "ret_lag1", "dow", "vol_lag2", "ret_lag3", "vol_lag3"]
    seq, static, used = lag_windows(names, window=10)
    assert used == 3  # both series have lags 1..3
    assert [[names[i] for i in step] for step in seq] == [
        ["ret_lag3", "vol_lag3"],
        ["ret_lag2", "vol_lag2"],
        ["ret_lag1", "vol_lag1"],
    ]
    assert [names[i] for i in static] == ["dow"]
    with pytest.raises(ValueError, match="needs lag columns named <series>_lag1"):
        lag_windows(["price", "volume"], window=5)


def test_sequence_model_honours_the_contract() -> None:
    from conftest import sp500_lags

    from automl_fin.testing import check_plugin
    from automl_fin_lightning import SEQUENCE_SPEC

    frame = sp500_lags(rows=400, lags=12)
    X = frame.drop(columns=["date", "ret"])
    y = frame["ret"].to_numpy()
    check_plugin(SEQUENCE_SPEC, tasks=[Task.REGRESSION], data={Task.REGRESSION: (X, y)})


def test_sequence_model_forecasts_returns_in_a_walk_forward_search(tmp_path: Path) -> None:
    from automl_fin import datasets

    result = search(
        "price",
        data=datasets.load("sp500").tail(1600),
        trials=5,
        seed=0,
        runs_dir=tmp_path,
        overrides={
            "models": ["seq_rnn", "ridge"],
            "data.series.lags": 30,
            "validation.n_splits": 3,
            "validation.final_test": 0,
            "model_options": {"seq_rnn": {"max_epochs": 8}},
        },
    )
    assert result.problem.scheme == "walk_forward"
    board = result.leaderboard()
    rnn = board[board["model"] == "seq_rnn"]
    assert len(rnn) >= 1 and set(rnn["state"]) <= {"COMPLETE", "PRUNED"}
    done = board[board["state"] == "COMPLETE"]
    # daily returns are close to unpredictable: every model lands near their spread (~1 %)
    assert ((done["score"] > 0.003) & (done["score"] < 0.03)).all()
    assert set(rnn["params"].iloc[0]) >= {"seq_rnn.cell", "seq_rnn.window", "model"}


def test_a_budget_check_that_prunes_stops_the_fit_mid_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_fin import Pruned
    from automl_fin_lightning.tabular import TabularMLP

    X, y = _scaled(Task.BINARY)
    seen: list[float] = []

    def check(passes: float) -> None:
        seen.append(passes)
        if passes > 1.5:
            raise Pruned("budget")

    monitor = Monitor(X_valid=X[180:], y_valid=y[180:], score=lambda p: 0.5, check=check)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Pruned, match="budget"):
        TabularMLP(lr=0.03, max_epochs=50, patience=50, width=16, batch_size=16).fit(
            X[:180], y[:180], monitor=monitor
        )
    assert 1.5 < seen[-1] < 2  # inside the second epoch, not at its end


def test_text_rows_are_batched_by_length_and_come_back_in_row_order() -> None:
    """A network that trims padding gets rows of similar length together: every training
    epoch still visits each row once, in a new seeded order, with far less padding; its
    predictions, and the validation scores its monitor gets, come back in row order."""
    from sklearn.metrics import f1_score

    from automl_fin import datasets
    from automl_fin_lightning.text import TextClassifier
    from automl_fin_lightning.training import length_batches

    frame = datasets.load("financial_phrasebank").sample(600, random_state=1)
    X = frame["text"].to_numpy(dtype=object)
    y = frame["label"].map({"negative": 0, "neutral": 1, "positive": 2}).to_numpy()
    Xv, yv = X[450:], y[450:]
    curve: list[float] = []
    monitor = Monitor(
        X_valid=Xv,
        y_valid=yv,
        score=lambda p: f1_score(yv, p.argmax(axis=1), average="macro"),
        report=lambda step, value: curve.append(value),
    )
    model = TextClassifier(encoder="cnn", batch_size=16, max_epochs=4, patience=4)
    model.fit(X[:450], y[:450], monitor=monitor)

    lengths = (model._encode(X[:450]) != 0).sum(axis=1)
    rng = np.random.default_rng(7)
    first, second = (length_batches(lengths, 450, 16, rng) for _ in range(2))
    for epoch in (first, second):
        assert np.array_equal(np.sort(np.concatenate(epoch)), np.arange(450))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    again = length_batches(lengths, 450, 16, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    shuffled = np.random.default_rng(7).permutation(450)
    at_random = [lengths[shuffled[i : i + 16]] for i in range(0, 450, 16)]

    def padded(batches: list[np.ndarray]) -> int:
        return sum(int(b.max()) * len(b) for b in batches)

    assert padded([lengths[b] for b in first]) < 0.7 * padded(at_random)

    proba = model.predict_proba(Xv)
    one_by_one = np.vstack([model.predict_proba(Xv[i : i + 1]) for i in range(len(Xv))])
    assert np.allclose(proba, one_by_one, atol=1e-5)
    # the kept (best) epoch's reported score is the score of the model's predictions
    assert min(abs(v - monitor.score(proba)) for v in curve) < 1e-9


def test_the_summary_says_a_text_model_leaves_the_other_columns_unused() -> None:
    """A text network reads the text alone: chosen on a table with numbers beside the
    text, its predictor ignored them (their importance 0, any value the same forecast)
    and nothing said so."""
    from automl_fin import datasets
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    news = datasets.load("financial_phrasebank").sample(300, random_state=0)
    both = news.assign(retweets=np.arange(300), likes=np.arange(300) % 7)
    recipe_over = {"models": ["text_nn", "logreg"]}
    recipe = load_recipe("sentiment", recipe_over)
    said = resolve(recipe, both, get_registry()).summary().splitlines()
    assert said[-1] == (
        "  note: text_nn reads the text alone: its trials leave the 2 other feature columns unused"
    )
    alone = resolve(recipe, news, get_registry()).summary()
    assert "note:" not in alone  # nothing else to leave out
    # a table without text: the recipe's text models are said to be left out
    credit = datasets.load("german_credit").iloc[:300].rename(columns={"housing": "label"})
    said = r"no column reads as text, so text_nn \(the recipe's models of text\) are left out"
    with pytest.warns(UserWarning, match=said + "; --set data.columns.COLUMN=text"):
        resolve(load_recipe("sentiment", {**recipe_over, "data.classes": None}), credit,
                get_registry())  # fmt: skip
