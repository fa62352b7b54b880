"""The sequence model for price forecasting: a GRU or LSTM over a window of lags.

Each row of ``X`` carries its own past as lag columns, ``<name>_lag1`` (one step back)
to ``<name>_lagK``, computed from the past only when the data is prepared. The model
reads, for every series ``<name>`` that has lags 1..window, the values from the oldest
to the newest as one time step each; the other columns (calendar, static features)
join the recurrent network's last hidden state before the head.

Imports torch and Lightning: only loaded when the ``seq_rnn`` spec is built.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from automl_fin_lightning.training import NetEstimator

__all__ = ["SequenceModel", "lag_windows"]

_LAG = re.compile(r"^(?P<base>.+)_lag(?P<k>\d+)$")


def lag_windows(names: Sequence[str], window: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Column indices ``(window, series)`` from the oldest lag to ``lag1``, the other
    columns' indices, and the window actually used (the longest all series share)."""
    lags: dict[str, dict[int, int]] = {}
    for i, name in enumerate(names):
        m = _LAG.match(str(name))
        if m:
            lags.setdefault(m["base"], {})[int(m["k"])] = i
    full = {b: ks for b, ks in lags.items() if 1 in ks and 2 in ks}
    if not full:
        raise ValueError(
            "the sequence model needs lag columns named <series>_lag1, <series>_lag2, ... "
            f"(at least two per series); features: {', '.join(map(str, names[:12]))}"
        )
    depth = min(max(k for k in range(1, len(ks) + 1) if all(j in ks for j in range(1, k + 1)))
                for ks in full.values())  # fmt: skip
    used = max(2, min(window, depth))
    bases = sorted(full)
    seq = np.array([[full[b][k] for b in bases] for k in range(used, 0, -1)], dtype=np.int64)
    taken = set(seq.ravel().tolist())
    static = np.array([i for i in range(len(names)) if i not in taken], dtype=np.int64)
    return seq, static, used


class _RNNNet(nn.Module):
    def __init__(
        self, cell: str, n_series: int, n_static: int, hidden: int, layers: int,
        dropout: float, n_out: int,
    ) -> None:  # fmt: skip
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(
            n_series, hidden, num_layers=layers, batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(hidden + n_static, hidden), nn.ReLU(),
            nn.Linear(hidden, n_out),
        )  # fmt: skip

    def forward(self, seq: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(seq)
        return self.head(torch.cat([out[:, -1], static], dim=1))


class SequenceModel(NetEstimator):
    """GRU/LSTM forecaster over lag windows (scikit-learn protocol); see the module."""

    def __init__(
        self,
        task: str = "regression",
        n_classes: int = 0,
        cell: str = "gru",
        window: int = 20,
        hidden: int = 32,
        layers: int = 1,
        dropout: float = 0.1,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 40,
        patience: int = 5,
        accelerator: str = "auto",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.cell = cell
        self.window = window
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.accelerator = accelerator
        self.seed = seed
        self.n_jobs = n_jobs

    def _inputs(self, X: Any) -> list[np.ndarray]:
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)
        return [X[:, self.sequence_], X[:, self.static_]]  # (n, window, series), (n, other)

    def fit(self, X: Any, y: Any, monitor: Any = None) -> SequenceModel:
        """Train; with a monitor that has validation data, stop early and report on it."""
        names = getattr(monitor, "feature_names", None)
        if names is None:
            names = list(X.columns) if hasattr(X, "columns") else []
        self.sequence_, self.static_, self.window_ = lag_windows(names, self.window)
        make_net = functools.partial(
            _RNNNet, self.cell, self.sequence_.shape[1], len(self.static_), self.hidden,
            self.layers, self.dropout, self._n_out,
        )  # fmt: skip
        self._train(make_net, X, y, monitor)
        return self
