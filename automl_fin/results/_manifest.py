"""A saved predictor's ``manifest.json``: its checked shape, and its signature.

:func:`check` validates a manifest before anything it names is read: the format, a
sha256 for every file, at least one member with a positive finite weight and the file
``save`` wrote for it (``member_<i>_<model>.pkl``, so members cannot swap pickles),
a stack's layer 2 whose coefficients fit its members (in their order) and classes, a
decision rule with one positive finite factor a class, a schema whose classes fit its
task (two or more distinct classes for classification, none for regression) and whose
features are its columns. Any other shape is refused in one
line naming the field.

With a key in ``AUTOML_FIN_SIGNING_KEY``, ``save`` adds ``signature``: an HMAC-SHA256 of
the whole manifest (which holds every file's sha256) under that key. ``load`` refuses a
signed folder whose signature does not verify under the key it is given, and, when told
to require one (``AUTOML_FIN_REQUIRE_SIGNATURE=1``, ``load(require_signature=True)``,
``predict --require-signature``), an unsigned folder or one it has no key for.

What an unsigned folder promises: its files are those its manifest lists (checked
before unpickling) and the manifest is well formed. It does not promise that nobody
edited the manifest itself (reversed classes, other weights): only a signature does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl_fin.errors import ArtifactError
from automl_fin.plugin._specs import ColumnKind, Task

__all__ = ["KEY_ENV", "REQUIRE_ENV", "check", "sign", "signing_key", "verify"]

KEY_ENV = "AUTOML_FIN_SIGNING_KEY"
REQUIRE_ENV = "AUTOML_FIN_REQUIRE_SIGNATURE"
_SHA256 = r"^[0-9a-f]{64}$"


class _Column(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: ColumnKind
    dtype: str = ""
    width: int | None = Field(default=None, ge=2)  # digit codes with leading zeros


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: list[_Column] = Field(min_length=1)
    features: list[str] = Field(min_length=1)
    target: str
    task: Task
    classes: list[Any] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)
    series: dict[str, Any] | None = None
    codes: Literal["whole", "as written"] = "as written"  # (absent: saved before the reading)
    decimal: Literal[",", "."] | None = None  # a ';' training file's decimal mark
    rare_classes: list[Any] = Field(default_factory=list)  # left out of training, too rare
    # column -> how training wrote its numbers (a unit, "clock", "duration"); absent in a
    # predictor saved before: new rows' numbers read every way, as then
    written: dict[str, str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _Schema:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names repeat")
        if self.task.is_classification:
            if len(self.classes) < 2 or len({json.dumps(c) for c in self.classes}) != len(
                self.classes
            ):
                raise ValueError("a classification schema needs two or more distinct classes")
        elif self.classes:
            raise ValueError(f"a {self.task} schema has no classes")
        if self.series is None and not set(self.features) <= set(names):
            raise ValueError("features must be columns of the schema")
        return self


class _Member(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trial: int
    model: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    weight: float = Field(gt=0)
    file: str

    @model_validator(mode="after")
    def _finite(self) -> _Member:
        if not math.isfinite(self.weight):
            raise ValueError("weight must be finite")
        return self


class _Scale(BaseModel):
    """How the intervals' width grows with the prediction (``_intervals.scale_model``)."""

    model_config = ConfigDict(extra="forbid")
    centers: list[float] = Field(min_length=2)
    scales: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _sound(self) -> _Scale:
        if len(self.centers) != len(self.scales):
            raise ValueError("centers and scales differ in length")
        if not all(b > a for a, b in zip(self.centers, self.centers[1:], strict=False)):
            raise ValueError("centers must rise")
        if not all(0 < v < float("inf") for v in self.scales):
            raise ValueError("scales must be positive numbers")
        return self


class _Interval(BaseModel):
    method: str | None = None
    rows: int | None = None
    file: str | None = None
    why: str | None = None
    scale: _Scale | None = None


class _Stacker(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["binary", "multiclass", "regression"]
    coef: list[list[float]] = Field(min_length=1)
    intercept: list[float] = Field(min_length=1)
    trials: list[int] = Field(min_length=2)
    floor: float | None = None  # a regression's least prediction (a target never negative)

    @model_validator(mode="after")
    def _shape(self) -> _Stacker:
        numbers = [v for row in self.coef for v in row] + list(self.intercept)
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError("coefficients must be finite")
        if len(self.intercept) != len(self.coef) or len({len(r) for r in self.coef}) != 1:
            raise ValueError("one intercept and one equal-length row of coefficients an output")
        return self


class _Recalibration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slope: float = Field(gt=0, allow_inf_nan=False)  # a positive slope keeps the rows' order
    intercept: float = Field(allow_inf_nan=False)


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factors: list[float] = Field(min_length=2)
    plain: float
    crossfit: float
    rows: int = Field(ge=0)  # 0: a cost's own decision, no out-of-fold rows read
    costs: list[list[float]] | None = None  # labels of least expected cost (Rule.costs)

    @model_validator(mode="after")
    def _positive(self) -> _Decision:
        if not all(math.isfinite(f) and f > 0 for f in self.factors):
            raise ValueError("factors must be positive and finite")
        k = len(self.factors)
        if self.costs is not None and (
            len(self.costs) != k
            or any(len(row) != k or not all(math.isfinite(c) for c in row) for row in self.costs)
        ):
            raise ValueError(f"costs must be {k}x{k} finite numbers, one row a class")
        return self


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    format: Literal[1, 2, 3, 4]
    files: dict[str, str]
    members: list[_Member] = Field(min_length=1)
    schema_: _Schema = Field(alias="schema")
    interval: _Interval | None = None
    stacker: _Stacker | None = None
    recalibration: _Recalibration | None = None
    decision: _Decision | None = None
    signature: str | None = Field(default=None, pattern=_SHA256)

    @model_validator(mode="after")
    def _files(self) -> _Manifest:
        for name, digest in self.files.items():
            if Path(name).name != name or name in ("", ".", "..") or name == "manifest.json":
                raise ValueError(f"file name {name!r} is not a plain file of the folder")
            if not re.fullmatch(_SHA256, digest):
                raise ValueError(f"file {name!r} has no sha256")
        for i, m in enumerate(self.members):
            if m.file != f"member_{i}_{m.model}.pkl" or m.file not in self.files:
                raise ValueError(f"member {i} ({m.model}) names {m.file!r}, not its own pickle")
        if self.stacker is not None:
            if self.stacker.trials != [m.trial for m in self.members]:
                raise ValueError("stacker's trials are not its members, in their order")
            inputs = len(self.members) * (
                len(self.schema_.classes) if self.stacker.kind == "multiclass" else 1
            )
            outputs = len(self.schema_.classes) if self.stacker.kind == "multiclass" else 1
            if len(self.stacker.coef) != outputs or len(self.stacker.coef[0]) != inputs:
                raise ValueError(
                    f"stacker has {len(self.stacker.coef)}x{len(self.stacker.coef[0])} "
                    f"coefficients; its {len(self.members)} members need {outputs}x{inputs}"
                )
        if self.recalibration is not None and (
            self.stacker is not None or len(self.schema_.classes) != 2
        ):
            raise ValueError("recalibration is for the mean of a two-class ensemble only")
        costs = self.decision is not None and self.decision.costs is not None
        widths = any(c.width for c in self.schema_.columns)
        if widths != (self.format == 4):  # an older reader refuses it as newer
            raise ValueError("format 4 is a manifest with codes' widths, and only that")
        if costs != (self.format == 3) and not widths:
            raise ValueError("format 3 is a manifest with a decision's costs, and only that")
        if (self.recalibration is not None) != (self.format == 2) and not (costs or widths):
            raise ValueError(  # an older reader refuses it (3 holds both, read by none)
                "format 2 is a manifest with a recalibration, and only that"
            )
        if self.decision is not None and len(self.decision.factors) != len(self.schema_.classes):
            raise ValueError(
                f"decision has {len(self.decision.factors)} factors for "
                f"{len(self.schema_.classes)} classes"
            )
        if self.interval and self.interval.file and self.interval.file not in self.files:
            raise ValueError(f"interval file {self.interval.file!r} is not a listed file")
        return self


def check(manifest: Any, folder: Path, name: str = "manifest.json") -> dict[str, Any]:
    """``manifest`` if it has the shape :func:`save_predictor` writes, else a one-line
    :class:`~automl_fin.errors.ArtifactError` naming the field."""
    try:
        _Manifest.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        what = str(first["msg"]).removeprefix("Value error, ")
        raise ArtifactError(
            f"predictor {folder}: {name}{f' field {where!r}' if where else ''}: {what}; it was "
            "edited or damaged: save the predictor again"
        ) from None
    return manifest  # type: ignore[no-any-return]


def signing_key() -> bytes | None:
    """The signing key from ``AUTOML_FIN_SIGNING_KEY`` (``None`` when unset)."""
    value = os.environ.get(KEY_ENV, "")
    return value.encode() if value else None


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(manifest: dict[str, Any], key: bytes) -> str:
    """The HMAC-SHA256 of ``manifest`` (all but its ``signature``) under ``key``."""
    return hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()


def verify(manifest: dict[str, Any], folder: Path, *, require: bool | None = None) -> None:
    """Refuse a signed manifest whose signature does not verify under the configured
    key, and, when a signature is required (``require``, default from
    ``AUTOML_FIN_REQUIRE_SIGNATURE``), an unsigned one or one without a key to verify."""
    if require is None:
        require = os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0", "false")
    key, signature = signing_key(), manifest.get("signature")
    if signature is None:
        if require:
            raise ArtifactError(
                f"predictor {folder} is not signed and a signature is required; save it "
                f"again with {KEY_ENV} set"
            )
        if key is not None:  # a signature stripped off defeated the key, unsaid
            warnings.warn(
                f"predictor {folder} is not signed, though {KEY_ENV} is set: only its "
                "manifest's hashes check its files, and whoever can write the folder can "
                "rewrite them; --require-signature refuses it",
                stacklevel=4,
            )
        return
    if key is None:
        if require:
            raise ArtifactError(
                f"predictor {folder} is signed, but {KEY_ENV} is not set to verify it"
            )
        warnings.warn(
            f"predictor {folder} is signed, but {KEY_ENV} is not set: its signature is "
            "not checked; set the key to check it (--require-signature refuses it unchecked)",
            stacklevel=4,
        )
        return
    if not hmac.compare_digest(sign(manifest, key), str(signature)):
        raise ArtifactError(
            f"predictor {folder}: its signature does not verify under {KEY_ENV} (the "
            "manifest was changed, or signed with another key); refusing it"
        )
