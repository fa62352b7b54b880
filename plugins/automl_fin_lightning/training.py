"""Shared Lightning training loop of the plugin's models.

``fit_module`` builds and trains a plain ``torch.nn.Module`` with AdamW on the given arrays, early
stops on the validation loss (keeping the best epoch's weights), reports the recipe
metric to the monitor after every epoch, and returns the network on the CPU. Nothing is
written to disk: no logger, no checkpoints, a throw-away root folder.

A network over padded token ids that cuts each batch to its longest row declares
``trims_padding = True``: its rows are then batched by length (:func:`length_batches`),
so it computes little padding. On Financial PhraseBank (sentences of 31 word pieces on
average, 128 at most) random batches of 16 hold 284k word pieces an epoch, batches by
length 149k. A fold of all-MiniLM-L6-v2 fine-tuned two epochs on 3,876 sentences, two
CPU cores, took 359 s; with batches by length and one validation pass an epoch 208 s,
with the fused optimiser too 187 s (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from automl_fin import holdout

__all__ = [
    "NetEstimator",
    "TrainedNet",
    "choose_precision",
    "fit_module",
    "length_batches",
    "predict_module",
]

TrainedNet = nn.Module
_QUIET = ("lightning.pytorch", "lightning.fabric", "lightning")
BUCKET = 50  # batches a training epoch sorts by length at a time: random across buckets


def choose_precision(accelerator: str) -> str:
    """``bf16-mixed`` on a GPU that supports it, else full 32-bit precision."""
    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "bf16-mixed" if on_gpu and torch.cuda.is_bf16_supported() else "32-true"


class _Module(L.LightningModule):
    def __init__(self, net: nn.Module, regression: bool, lr: float, weight_decay: float):
        super().__init__()
        self.net = net
        self.regression = regression
        self.lr = lr
        self.weight_decay = weight_decay
        self.valid_out: list[torch.Tensor] = []  # this epoch's validation outputs

    def _loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.regression:
            return nn.functional.mse_loss(out[:, 0], target)
        return nn.functional.cross_entropy(out, target)

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        *inputs, target = batch
        loss = self._loss(self.net(*inputs).float(), target)
        self.log("train_loss", loss, on_epoch=True, on_step=False, batch_size=len(target))
        return loss

    def on_validation_epoch_start(self) -> None:
        self.valid_out = []

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        *inputs, target = batch
        out = self.net(*inputs).float()
        self.valid_out.append(out.detach().cpu())  # the monitor scores these: no second pass
        loss = self._loss(out, target)
        self.log("val_loss", loss, on_epoch=True, on_step=False, batch_size=len(target))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # fused: one kernel over every tensor; all-MiniLM-L6-v2's 22.7M weights take 17 ms a
        # step on two CPU cores, 106 ms with the default loop over tensors
        return torch.optim.AdamW(
            self.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )


class _Watch(L.Callback):
    """Keeps the best weights by validation loss; reports the metric every epoch and
    lets the search check its time budget every batch. The metric is scored on the
    validation loop's own outputs (``order``: the rows the validation batches visit, in
    turn), not on a second prediction of the validation rows."""

    def __init__(self, monitor: Any, order: np.ndarray, as_prediction: Any, epochs: int):
        self.monitor = monitor
        self.order = order
        self.as_prediction = as_prediction
        self.epochs = epochs
        self.best_loss = float("inf")
        self.best_state: dict[str, torch.Tensor] | None = None

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        if self.monitor is not None:  # the search's time budget, checked every batch
            self.monitor.check(trainer.current_epoch + (i + 1) / trainer.num_training_batches)

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        loss = float(trainer.callback_metrics["val_loss"])
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_state = {
                k: v.detach().cpu().clone() for k, v in module.net.state_dict().items()
            }
        epoch = trainer.current_epoch
        if self.monitor is not None:
            if epoch == 0:
                self.monitor.plan(self.epochs)
            self.monitor.progress(f"epoch {epoch + 1}/{self.epochs}")
            rows = _in_row_order(torch.cat(module.valid_out).numpy(), self.order)
            self.monitor.report(epoch, self.monitor.score(self.as_prediction(rows)))


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


@contextlib.contextmanager
def _quiet_threads(n_jobs: int) -> Iterator[None]:
    levels = {name: logging.getLogger(name).level for name in _QUIET}
    threads = torch.get_num_threads()
    try:
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.ERROR)
        if n_jobs > 0:
            torch.set_num_threads(n_jobs)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"lightning\..*")
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            yield
    finally:
        torch.set_num_threads(threads)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def fit_module(
    make_net: Callable[[], nn.Module],
    inputs: Sequence[np.ndarray],
    target: np.ndarray,
    *,
    regression: bool,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    seed: int,
    accelerator: str = "auto",
    n_jobs: int = 1,
    monitor: Any = None,
    valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
    as_prediction: Callable[[np.ndarray], np.ndarray] = lambda out: out,
) -> nn.Module:
    """Train the network ``make_net()`` builds (after seeding, so its initial weights are
    repeatable); see the module docstring. ``valid`` targets are in model units."""
    L.seed_everything(seed, workers=True, verbose=False)
    net = make_net()
    if valid is None:  # fitted outside a search: the core's holdout tells when to stop
        tr, va = holdout(target, seed=seed, classify=not regression)
        valid = ([a[va] for a in inputs], target[va])
        inputs, target = [a[tr] for a in inputs], target[tr]
        monitor = None
    elif monitor is not None and monitor.refit:  # the engine's holdout: nothing to report
        monitor = None
    valid_inputs, valid_target = valid
    valid_lengths = _lengths(net, valid_inputs)
    valid_size = _batch(net)
    order = length_batches(valid_lengths, len(valid_target), valid_size)
    module = _Module(net, regression, lr, weight_decay)
    watch = _Watch(monitor, np.concatenate(order), as_prediction, max_epochs)
    root = tempfile.mkdtemp(prefix="automl_fin_lightning_")
    try:
        with _quiet_threads(n_jobs):
            trainer = L.Trainer(
                accelerator=accelerator,
                devices=1,
                precision=choose_precision(accelerator),  # type: ignore[arg-type]
                max_epochs=max_epochs,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                deterministic=True,
                default_root_dir=root,
                callbacks=[
                    L.pytorch.callbacks.EarlyStopping("val_loss", patience=patience, mode="min"),
                    watch,
                ],
            )
            trainer.fit(
                module,
                _loader([*inputs, target], batch_size, seed, _lengths(net, inputs)),
                _loader([*valid_inputs, valid_target], valid_size, None, valid_lengths),
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    net = module.net.cpu()
    if watch.best_state is not None:
        net.load_state_dict(watch.best_state)
    return net.eval()


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
    arrays its network's ``forward`` takes.
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
        self.net_ = fit_module(
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
