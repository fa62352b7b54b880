"""What the plugin's models share: batching, prediction, and the estimator base class.

Prediction needs torch alone: Lightning (about 6 s to import) is imported only to train,
by :mod:`automl_fin_lightning.trainer`, so a saved predictor with a network member loads
and predicts without it (``fit_module`` is there).

A network over padded token ids that cuts each batch to its longest row declares
``trims_padding = True``: its rows are then batched by length (:func:`length_batches`),
so it computes little padding. On Financial PhraseBank (sentences of 31 word pieces on
average, 128 at most) random batches of 16 hold 284k word pieces an epoch, batches by
length 149k. A fold of all-MiniLM-L6-v2 fine-tuned two epochs on 3,876 sentences, two
CPU cores, took 359 s; with batches by length and one validation pass an epoch 208 s,
with the fused optimiser too 187 s (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

__all__ = [
    "NetEstimator",
    "TrainedNet",
    "length_batches",
    "predict_module",
]

TrainedNet = nn.Module
BUCKET = 50  # batches a training epoch sorts by length at a time: random across buckets


def _in_row_order(out: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Outputs of the rows ``order`` visited, in turn, as float64 in the rows' order."""
    rows = np.empty(out.shape, dtype=np.float64)
    rows[order] = out
    return rows


def _one_left(n: int, size: int) -> bool:
    """Whether shuffled batches of ``size`` out of ``n`` rows end with a batch of one
    row, which a training epoch drops (BatchNorm needs two)."""
    return n > size and n % size == 1


def _lengths(net: nn.Module, inputs: Sequence[np.ndarray]) -> np.ndarray | None:
    """Word pieces per row when ``net`` trims padding (``trims_padding``: its first input
    holds ids padded with 0 at the end, and it cuts each batch to its longest row)."""
    if not getattr(net, "trims_padding", False):
        return None
    return np.asarray(np.asarray(inputs[0]) != 0).sum(axis=1)


def length_batches(
    lengths: np.ndarray | None, n: int, size: int, rng: np.random.Generator | None = None
) -> list[np.ndarray]:
    """Row indices of each batch of ``size`` rows out of ``n``. Without ``rng`` (a
    prediction) in row order, or sorted by ``lengths`` when given; with ``rng`` (a
    training epoch) shuffled, and with ``lengths`` sorted within each run of
    :data:`BUCKET` batches, in random order; a last batch of one row is dropped (BatchNorm
    needs two)."""
    if rng is None:
        order = np.arange(n) if lengths is None else np.argsort(lengths, kind="stable")
        return [order[i : i + size] for i in range(0, n, size)]
    order = rng.permutation(n)
    if lengths is not None:
        span = size * BUCKET
        runs = [order[i : i + span] for i in range(0, n, span)]
        order = np.concatenate([r[np.argsort(lengths[r], kind="stable")] for r in runs])
    batches = [order[i : i + size] for i in range(0, n, size)]
    if _one_left(n, size):
        batches.pop()
    return [batches[i] for i in rng.permutation(len(batches))] if lengths is not None else batches


class _Batches(torch.utils.data.Sampler[list[int]]):
    """A loader's batches (:func:`length_batches`); a training loader draws each epoch's
    from its own seeded generator, so a fit repeats exactly."""

    def __init__(self, lengths: np.ndarray | None, n: int, size: int, seed: int | None):
        self.lengths, self.n, self.size = lengths, n, size
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        dropped = self.rng is not None and _one_left(self.n, self.size)
        return -(-self.n // self.size) - dropped

    def __iter__(self) -> Iterator[list[int]]:
        return (b.tolist() for b in length_batches(self.lengths, self.n, self.size, self.rng))


def _loader(
    arrays: Sequence[np.ndarray], batch_size: int, seed: int | None, lengths: np.ndarray | None
) -> Any:
    """A loader of ``arrays``' rows: shuffled each epoch with a ``seed``, else in order;
    batched by ``lengths`` when given."""
    tensors = [torch.from_numpy(np.array(a)) for a in arrays]  # a writable copy
    n = len(tensors[0])
    sampler = _Batches(lengths, n, min(batch_size, n) or 1, seed)
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*tensors), batch_sampler=sampler
    )


def _batch(net: nn.Module) -> int:
    """Rows per prediction batch: a network may lower it (``predict_batch``)."""
    return int(getattr(net, "predict_batch", 4096))


def predict_module(net: nn.Module, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Network outputs for ``inputs`` as float64, in batches (by length for a network
    that trims padding), without gradients, in the rows' order."""
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    batches = length_batches(_lengths(net, inputs), len(inputs[0]), _batch(net))
    outs = []
    with torch.no_grad():
        for rows in batches:
            batch = [torch.from_numpy(np.array(a[rows])).to(device) for a in inputs]
            outs.append(net(*batch).float().cpu().numpy())
    net.train(was_training)
    if not outs:
        return np.zeros((0, 1))
    return _in_row_order(np.concatenate(outs), np.concatenate(batches))


class NetEstimator(BaseEstimator):
    """What the plugin's estimators share: target coding, training, prediction.

    A subclass sets the common hyper-parameters in ``__init__`` (``task``, ``n_classes``,
    ``lr``, ``weight_decay``, ``batch_size``, ``max_epochs``, ``patience``,
    ``accelerator``, ``seed``, ``n_jobs``) and implements ``_inputs(X)``: the list of
    arrays its network's ``forward`` takes. Fitted: ``net_``, the trained network, and
    ``n_iter_``, the epochs it trained and validated (early stopping or the search's
    budget may end the fit before ``max_epochs``; the weights are the best epoch's).
    """

    task: str
    n_classes: int
    lr: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int
    accelerator: str
    seed: int
    n_jobs: int

    def _inputs(self, X: Any) -> list[np.ndarray]:
        raise NotImplementedError

    @property
    def _regression(self) -> bool:
        return self.task == "regression"

    @property
    def _n_out(self) -> int:
        return 1 if self._regression else self.n_classes

    def _units(self, y: Any) -> np.ndarray:
        """The target as the network learns it: standardised values, or class indices."""
        y = np.asarray(y)
        if self._regression:
            return ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        return y.astype(np.int64)

    def _train(self, make_net: Callable[[], nn.Module], X: Any, y: Any, monitor: Any) -> None:
        y = np.asarray(y)
        if self._regression:
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
        valid = None
        if monitor is not None and monitor.has_validation:
            valid = (self._inputs(monitor.X_valid), self._units(monitor.y_valid))
        from automl_fin_lightning.trainer import fit_module  # Lightning: to train only

        self.net_, self.n_iter_ = fit_module(
            make_net,
            self._inputs(X),
            self._units(y),
            regression=self._regression,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            seed=self.seed,
            accelerator=self.accelerator,
            n_jobs=self.n_jobs,
            monitor=monitor,
            valid=valid,
            as_prediction=self._as_prediction,
        )
        if not self._regression:
            self.classes_ = np.arange(self.n_classes)

    def _as_prediction(self, out: np.ndarray) -> np.ndarray:
        """Network outputs -> probabilities (classification) or target units."""
        if self._regression:
            return out[:, 0] * self.y_std_ + self.y_mean_
        z = np.exp(out - out.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        return self._as_prediction(predict_module(self.net_, self._inputs(X)))

    def predict(self, X: Any) -> np.ndarray:
        """Class indices for classification, values for regression."""
        out = self._as_prediction(predict_module(self.net_, self._inputs(X)))
        return out if self._regression else out.argmax(axis=1)
