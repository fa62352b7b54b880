"""The Lightning training loop of the plugin's models (imported to train only).

``fit_module`` builds and trains a plain ``torch.nn.Module`` with AdamW on the given
arrays, early stops on the validation loss (keeping the best epoch's weights), reports
the recipe metric to the monitor after every epoch, and returns the network on the CPU.
A :class:`~automl_fin.BudgetStop` from the monitor's check (the search's budget ends in
the trial's last fold, or a refit reaches the epochs that fold was stopped at) ends the
fit as early stopping would, with the best epoch so far; before any epoch is validated
there is nothing to keep and it propagates.
Nothing is written to disk: no logger, no checkpoints, a throw-away root folder.
Batching and prediction live in :mod:`automl_fin_lightning.training`, which does not
import Lightning.
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
from torch import nn

from automl_fin import BudgetStop, holdout
from automl_fin_lightning.training import (
    _batch,
    _in_row_order,
    _lengths,
    _loader,
    length_batches,
)

__all__ = ["choose_precision", "fit_module"]

_QUIET = ("lightning.pytorch", "lightning.fabric", "lightning")


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

    def __init__(
        self, monitor: Any, check: Any, order: np.ndarray, as_prediction: Any, epochs: int
    ):
        self.monitor = monitor  # None on a refit: its reports go nowhere
        self.check = check
        self.order = order
        self.as_prediction = as_prediction
        self.epochs = epochs
        self.best_loss = float("inf")
        self.best_state: dict[str, torch.Tensor] | None = None
        self.validated = 0  # epochs trained and validated

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        if self.check is not None:  # the search's time budget, checked every batch
            self.check(trainer.current_epoch + (i + 1) / trainer.num_training_batches)

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.validated += 1
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
) -> tuple[nn.Module, int]:
    """Train the network ``make_net()`` builds (after seeding, so its initial weights are
    repeatable); see the module docstring. ``valid`` targets are in model units. The
    network (best epoch's weights, in evaluation mode) and the epochs it validated."""
    L.seed_everything(seed, workers=True, verbose=False)
    net = make_net()
    check = None if monitor is None else monitor.check
    if valid is None:  # fitted outside a search: the core's holdout tells when to stop
        tr, va = holdout(target, seed=seed, classify=not regression)
        valid = ([a[va] for a in inputs], target[va])
        inputs, target = [a[tr] for a in inputs], target[tr]
        monitor = None
    elif monitor is not None and monitor.refit:  # the engine's holdout: nothing to report
        monitor = None  # (its check still stops the refit where the trial's fold stopped)
    valid_inputs, valid_target = valid
    valid_lengths = _lengths(net, valid_inputs)
    valid_size = _batch(net)
    order = length_batches(valid_lengths, len(valid_target), valid_size)
    module = _Module(net, regression, lr, weight_decay)
    watch = _Watch(monitor, check, np.concatenate(order), as_prediction, max_epochs)
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
            try:
                trainer.fit(
                    module,
                    _loader([*inputs, target], batch_size, seed, _lengths(net, inputs)),
                    _loader([*valid_inputs, valid_target], valid_size, None, valid_lengths),
                )
            except BudgetStop:  # Lightning re-raises what a callback raised, after teardown
                if watch.best_state is None:  # no epoch validated: nothing to keep
                    raise
    finally:
        shutil.rmtree(root, ignore_errors=True)
    net = module.net.cpu()
    if watch.best_state is not None:
        net.load_state_dict(watch.best_state)
    return net.eval(), watch.validated
