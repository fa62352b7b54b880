"""automl_fin's built-in deep-learning plugin, trained with PyTorch Lightning.

Registering it imports neither torch nor Lightning: the builders import them when one
of these models is actually built. Training runs on the hardware that is there
(``accelerator="auto"``: a GPU when visible, else the CPU) and leaves no logs or
checkpoints behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from automl_fin import (
    BuildContext,
    Categorical,
    Float,
    InputKind,
    Int,
    ModelSpec,
    Slot,
    Task,
    hookimpl,
)

__all__ = ["MLP_SPEC", "SEQUENCE_SPEC", "TEXT_SPEC"]


def _mlp_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "lr": Float(1e-4, 3e-2, log=True),
        "width": Int(32, 512, log=True),
        "depth": Int(1, 4),
        "dropout": Float(0.0, 0.5),
        "weight_decay": Float(1e-6, 1e-1, log=True),
        "batch_size": Categorical([64, 128, 256, 512]),
        "embedding_dim": Int(2, 16, log=True),
    }


def _build_mlp(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_lightning.tabular import TabularMLP

    options = dict(ctx.options)
    return TabularMLP(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        **params,
        max_epochs=int(options.pop("max_epochs", 60)),
        patience=int(options.pop("patience", 6)),
        accelerator=str(options.pop("accelerator", "auto")),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
    )


MLP_SPEC = ModelSpec(
    name="mlp",
    tasks=frozenset(Task),
    build=_build_mlp,
    space=_mlp_space,
    requires=frozenset({Slot.SCALE}),
    slot_choices={Slot.ENCODE: frozenset({"ordinal"})},  # category codes feed embeddings
    monitored=True,
    description="tabular MLP (Lightning): category embeddings, batch norm, AdamW, early stop",
)


def _text_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "encoder": Categorical(["bag", "cnn"]),
        "embedding_dim": Int(16, 128, log=True),
        "min_count": Int(1, 5),
        "dropout": Float(0.0, 0.5),
        "lr": Float(3e-4, 3e-2, log=True),
        "weight_decay": Float(1e-6, 1e-2, log=True),
        "batch_size": Categorical([32, 64, 128]),
    }


def _build_text(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_lightning.text import TextClassifier

    options = dict(ctx.options)
    return TextClassifier(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        **params,
        max_epochs=int(options.pop("max_epochs", 30)),
        patience=int(options.pop("patience", 4)),
        accelerator=str(options.pop("accelerator", "auto")),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
    )


TEXT_SPEC = ModelSpec(
    name="text_nn",
    tasks=frozenset({Task.BINARY, Task.MULTICLASS}),
    build=_build_text,
    space=_text_space,
    inputs=frozenset({InputKind.TEXT}),  # reads the raw text; vocabulary from the fold
    monitored=True,
    description="text classifier (Lightning): word-pair embedding bag or CNN encoder",
)


def _sequence_space(ctx: BuildContext) -> dict[str, Any]:
    return {
        "cell": Categorical(["gru", "lstm"]),
        "window": Int(5, 60, log=True),
        "hidden": Int(8, 128, log=True),
        "layers": Int(1, 2),
        "dropout": Float(0.0, 0.5),
        "lr": Float(1e-4, 1e-2, log=True),
        "weight_decay": Float(1e-6, 1e-2, log=True),
        "batch_size": Categorical([64, 128, 256]),
    }


def _build_sequence(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_lightning.sequence import SequenceModel

    options = dict(ctx.options)
    return SequenceModel(
        task=str(ctx.task),
        n_classes=ctx.n_classes,
        **params,
        max_epochs=int(options.pop("max_epochs", 40)),
        patience=int(options.pop("patience", 5)),
        accelerator=str(options.pop("accelerator", "auto")),
        seed=ctx.seed,
        n_jobs=ctx.n_jobs,
    )


SEQUENCE_SPEC = ModelSpec(
    name="seq_rnn",
    tasks=frozenset(Task),
    build=_build_sequence,
    space=_sequence_space,
    inputs=frozenset({InputKind.SEQUENCE}),  # rows whose <series>_lag<k> columns form windows
    requires=frozenset({Slot.SCALE}),
    monitored=True,
    description="sequence model (Lightning): GRU/LSTM over a window of past values",
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(MLP_SPEC)
    register(TEXT_SPEC)
    register(SEQUENCE_SPEC)
