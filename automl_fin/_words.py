"""Errors in the words of whoever called: the command line's flags (``--set k=v``,
``--target COL``) or the Python API's arguments (``overrides={'k': v}``,
``target='COL'``). Messages are written once, in the command line's words;
:func:`speaks_python` puts those of a :func:`automl_fin.search` call into its own (a
Python user was told ``pass --target COLUMN, or ... --set 'data.series.columns=[Brent,
WTI]'``). The command line marks itself with :data:`COMMAND_LINE`."""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["COMMAND_LINE", "cut_at_word", "in_python_words", "speaks_python"]

COMMAND_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar("command_line", default=False)
F = TypeVar("F", bound=Callable[..., Any])
# the search's own flags and the argument of search() that says the same
# (not --study, --storage, --seed: "another --study name", "optuna ... --storage URL",
# "--seed 3 or without --seed" read wrong as arguments)
_FLAGS = {flag: flag for flag in ("target", "data", "trials", "seconds")} | {"budget": "seconds"}


def _overrides(key: str, value: str) -> str:
    import yaml

    try:
        read = yaml.safe_load(value)
    except yaml.YAMLError:
        read = value
    shown = read if isinstance(read, str) and read.isupper() else repr(read)  # (COLUMN: a blank)
    return f"overrides={{{key!r}: {shown}}}"


def in_python_words(text: str) -> str:
    """``text`` with the command line's flags written as :func:`automl_fin.search`'s
    arguments: ``--set 'k=v'`` as ``overrides={'k': v}``, ``(data.drop: [...])`` as
    overrides too, ``--target COL`` as ``target=COL`` (and ``--data``, ``--trials``,
    ``--seconds``), ``automl-fin run R ...`` as ``search('R', ...)``."""

    def command(m: re.Match[str]) -> str:
        given = re.findall(r"--([\w-]+) (\S+)", m[2])
        args = [repr(m[1]), *(f"{_FLAGS[f]}={v!r}" for f, v in given if f in _FLAGS)]
        return f"search({', '.join(args)})"

    text = re.sub(r"automl-fin run (\S+)((?: --(?:data|target) \S+)*)", command, text)
    text = re.sub(r"--set '([\w.]+)=([^']*)'", lambda m: _overrides(m[1], m[2]), text)
    text = re.sub(r"--set ([\w.]+)=([^\s;,)]+)", lambda m: _overrides(m[1], m[2]), text)
    text = re.sub(r"\((data\.\w+): (\[[^\]]*\])\)", lambda m: f"({_overrides(m[1], m[2])})", text)
    merged = re.compile(r"overrides=\{([^{}]*)\} overrides=\{([^{}]*)\}")  # --set a --set b
    while merged.search(text):
        text = merged.sub(lambda m: f"overrides={{{m[1]}, {m[2]}}}", text)
    # a command's --set: the call's own argument
    text = re.sub(r"(search\([^()]*)\) (overrides=\{[^{}]*\})", r"\1, \2)", text)
    flags = "|".join(map(re.escape, _FLAGS))
    text = re.sub(rf"\(--({flags})\)", lambda m: f"({_FLAGS[m[1]]}=)", text)  # a flag alone
    return re.sub(rf"--({flags}) (\S+)", lambda m: f"{_FLAGS[m[1]]}={m[2]}", text)


def speaks_python(fn: F) -> F:
    """``fn`` (a public function of the Python API) raising its errors in Python's words
    (:func:`in_python_words`), unless the command line called it."""
    from automl_fin.errors import AutomlFinError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AutomlFinError as exc:
            if not COMMAND_LINE.get() and exc.args and isinstance(exc.args[0], str):
                said = in_python_words(exc.args[0])
                if said != exc.args[0]:
                    exc.args = (said, *exc.args[1:])
                    if isinstance(getattr(exc, "detail", None), str):
                        exc.detail = in_python_words(exc.detail)  # type: ignore[attr-defined]
            raise

    return wrapper  # type: ignore[return-value]


def cut_at_word(text: str, most: int) -> str:
    """``text`` up to ``most`` characters, cut between words with `` ...`` (a note said
    last, the step at fault, ended "(au)")."""
    return text if len(text) <= most else text[:most].rsplit(" ", 1)[0] + " ..."
