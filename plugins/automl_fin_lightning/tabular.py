"""The tabular MLP: category embeddings + numeric inputs -> [Linear, BatchNorm, ReLU,
Dropout] x depth -> head; AdamW, early stopping on the validation loss.

Imports torch and Lightning: only loaded when the ``mlp`` spec is built.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from automl_fin import ColumnKind
from automl_fin_lightning.training import NetEstimator

__all__ = ["TabularMLP"]


class _MLPNet(nn.Module):
    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        embedding_dim: int,
        width: int,
        depth: int,
        dropout: float,
        n_out: int,
    ) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, min(embedding_dim, c)) for c in cardinalities
        )
        size = n_numeric + sum(min(embedding_dim, c) for c in cardinalities)
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [
                nn.Linear(size, width),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            size = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(size, n_out)

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        parts = [numeric] + [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.head(self.body(torch.cat(parts, dim=1)))


class TabularMLP(NetEstimator):
    """A multilayer perceptron for classification or regression (scikit-learn protocol).

    ``fit(X, y, monitor=...)`` embeds the columns the monitor marks as categorical
    (ordinal codes, ``-1`` for unknown), standardises a regression target, trains with
    AdamW and stops when the validation loss has not improved for ``patience`` epochs,
    keeping the best epoch's weights. The recipe metric on the validation split is
    reported to the pruner after every epoch.
    """

    def __init__(
        self,
        task: str = "binary",
        n_classes: int = 2,
        lr: float = 1e-3,
        width: int = 128,
        depth: int = 2,
        dropout: float = 0.1,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        embedding_dim: int = 4,
        max_epochs: int = 60,
        patience: int = 6,
        accelerator: str = "auto",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.lr = lr
        self.width = width
        self.depth = depth
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.max_epochs = max_epochs
        self.patience = patience
        self.accelerator = accelerator
        self.seed = seed
        self.n_jobs = n_jobs

    def _inputs(self, X: Any) -> list[np.ndarray]:
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)
        cats = np.rint(X[:, self.categorical_]).astype(np.int64) + 1  # -1 (unknown) -> 0
        cats = np.clip(cats, 0, self.cardinalities_ - 1) if cats.size else cats
        return [np.ascontiguousarray(X[:, self.numeric_]), cats]

    def fit(self, X: Any, y: Any, monitor: Any = None) -> TabularMLP:
        """Train; with a monitor that has validation data, stop early and report on it."""
        dense = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)
        kinds = getattr(monitor, "feature_kinds", None) or [ColumnKind.NUMERIC] * dense.shape[1]
        is_cat = np.array([k is ColumnKind.CATEGORICAL for k in kinds], dtype=bool)
        self.categorical_ = np.flatnonzero(is_cat)
        self.numeric_ = np.flatnonzero(~is_cat)
        self.cardinalities_ = (
            np.rint(dense[:, self.categorical_].max(axis=0)).astype(np.int64) + 2
            if self.categorical_.size
            else np.zeros(0, dtype=np.int64)
        )
        net = functools.partial(
            _MLPNet,
            n_numeric=len(self.numeric_),
            cardinalities=[int(c) for c in self.cardinalities_],
            embedding_dim=self.embedding_dim,
            width=self.width,
            depth=self.depth,
            dropout=self.dropout,
            n_out=self._n_out,
        )
        self._train(net, dense, y, monitor)
        return self
