"""The text classifier: a vocabulary built on the training fold, then either a bag of
word (and word-pair) embeddings or a small convolutional encoder, and a linear head.

Imports torch and Lightning: only loaded when the ``text_nn`` spec is built.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from automl_fin_lightning.training import NetEstimator

__all__ = ["TextClassifier", "tokenize"]

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*|[%$€£+-]")
PAD, UNKNOWN = 0, 1


def tokenize(text: str) -> list[str]:
    """Lower-case words, numbers (``2.5``, ``1,000``) and the signs ``% $ € £ + -``."""
    return _TOKEN.findall(text.lower())


def _grams(tokens: list[str], ngrams: int) -> list[str]:
    out = list(tokens)
    if ngrams >= 2:
        out += [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    return out


class _BagNet(nn.Module):
    trims_padding = True  # ids padded at the end, cut to the batch's longest: batch by length

    def __init__(self, vocab: int, dim: int, dropout: float, n_out: int) -> None:
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean", padding_idx=PAD)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim, n_out)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids[:, : max(int((ids != PAD).sum(dim=1).max()), 1)]  # drop all-padding tail
        return self.head(self.drop(self.embed(ids)))


class _ConvNet(nn.Module):
    trims_padding = True

    def __init__(self, vocab: int, dim: int, dropout: float, n_out: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.conv = nn.Conv1d(dim, dim, kernel_size=3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim, n_out)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids[:, : max(int((ids != PAD).sum(dim=1).max()), 1)]  # drop all-padding tail
        hidden = torch.relu(self.conv(self.embed(ids).transpose(1, 2)))
        mask = (ids != PAD).unsqueeze(1)
        pooled = hidden.masked_fill(~mask, float("-inf")).amax(dim=2)
        pooled = torch.where(torch.isinf(pooled), torch.zeros_like(pooled), pooled)
        return self.head(self.drop(pooled))


class TextClassifier(NetEstimator):
    """Classifies short texts (scikit-learn protocol; ``X`` is a sequence of strings).

    The vocabulary (tokens seen at least ``min_count`` times, at most ``max_vocab``)
    is built from the training texts only, so a fold's validation words stay unknown.
    ``encoder="bag"`` averages word and word-pair embeddings (fastText style);
    ``encoder="cnn"`` runs a width-3 convolution over word embeddings and max-pools.
    """

    def __init__(
        self,
        task: str = "multiclass",
        n_classes: int = 3,
        encoder: str = "bag",
        embedding_dim: int = 64,
        ngrams: int = 2,
        min_count: int = 2,
        max_vocab: int = 30000,
        max_tokens: int = 96,
        dropout: float = 0.2,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 30,
        patience: int = 4,
        accelerator: str = "auto",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.encoder = encoder
        self.embedding_dim = embedding_dim
        self.ngrams = ngrams
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.max_tokens = max_tokens
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.accelerator = accelerator
        self.seed = seed
        self.n_jobs = n_jobs

    def _terms(self, text: str) -> list[str]:
        tokens = tokenize(str(text))
        return _grams(tokens, self.ngrams) if self.encoder == "bag" else tokens

    def _build_vocab(self, texts: Iterable[str]) -> None:
        terms = [self._terms(text) for text in texts]
        self.length_ = max(1, min(self.max_tokens, max((len(t) for t in terms), default=1)))
        counts = Counter(t for seq in terms for t in set(seq))
        kept = [t for t, n in counts.most_common(self.max_vocab) if n >= self.min_count]
        self.vocabulary_ = {t: i + 2 for i, t in enumerate(sorted(kept))}

    def _encode(self, X: Any) -> np.ndarray:
        """Term ids padded to the longest text of the training set (at most max_tokens)."""
        texts = np.asarray(X, dtype=object).ravel()
        get = self.vocabulary_.get
        seqs = [[get(t, UNKNOWN) for t in self._terms(text)][: self.length_] for text in texts]
        ids = np.zeros((len(texts), self.length_), dtype=np.int64)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
        return ids

    def fit(self, X: Any, y: Any, monitor: Any = None) -> TextClassifier:
        """Build the vocabulary on ``X``, then train (early stopping on the validation
        split when the monitor has one, else on 15 % held out)."""
        self._build_vocab(np.asarray(X, dtype=object).ravel())
        net_class = _BagNet if self.encoder == "bag" else _ConvNet
        make_net = functools.partial(
            net_class, len(self.vocabulary_) + 2, self.embedding_dim, self.dropout, self._n_out
        )
        self._train(make_net, X, y, monitor)
        return self

    def _inputs(self, X: Any) -> list[np.ndarray]:
        return [self._encode(X)]
