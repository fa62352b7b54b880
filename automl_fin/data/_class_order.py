"""The order of class labels that write a known scale: credit ratings (S&P and Fitch's
``AAA … D``, Moody's ``Aaa … C``), a lender's letter grades (``A … G``) and sub-grades
(``A1 … G5``), and the word scales of risk, quality (``Bad, Medium, Good``), a diamond's
cut (``Fair … Ideal``), size, agreement and sentiment.

Ordered classes (``data.ordered``) whose labels are not listed were ordered only where
they are numbers; Lending Club's grades ``A … G`` under ``risk_tier`` lost the ordinal
models and QWK with a "the order is unknown" warning. Each scale runs from the best
credit, the lowest risk or the least to the worst, the highest or the most; an ordinal
model and QWK read the order, not its direction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["scale_order"]

# S&P's and Fitch's long-term ratings, best first (RD and SD: a selective default)
_SP = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
       "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C", "RD", "SD", "D")  # fmt: skip
_MOODYS = ("Aaa", "Aa1", "Aa2", "Aa3", "A1", "A2", "A3", "Baa1", "Baa2", "Baa3", "Ba1", "Ba2",
           "Ba3", "B1", "B2", "B3", "Caa1", "Caa2", "Caa3", "Ca", "C")  # fmt: skip
# words of one scale; words on one line share a rank (medium, moderate)
_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "a risk scale": (
        ("very low",), ("low",), ("low medium", "medium low"), ("medium", "moderate"),
        ("medium high", "high medium"), ("high",), ("very high",),
    ),
    "a quality scale": (
        ("very poor", "very bad"), ("poor", "bad"), ("fair", "average", "medium"), ("good",),
        ("very good",), ("excellent", "exceptional"),
    ),
    "a cut grade scale": (("fair",), ("good",), ("very good",), ("premium",), ("ideal",)),
    "a size scale": (("very small",), ("small",), ("medium",), ("large",), ("very large",)),
    "an agreement scale": (
        ("strongly disagree",), ("disagree",), ("neutral",), ("agree",), ("strongly agree",),
    ),
    "a sentiment scale": (
        ("very negative",), ("negative",), ("neutral",), ("positive",), ("very positive",),
    ),
}  # fmt: skip


def scale_order(labels: Sequence[Any]) -> tuple[list[Any], str] | None:
    """``labels`` in the order of the one known scale they all belong to, and its name
    (``"S&P's rating scale"``); ``None`` where they write no known scale, fewer than
    three labels, or two labels of one rank."""
    if len(labels) < 3:
        return None
    texts = [str(v).strip() for v in labels]
    if all(re.fullmatch(r"[A-Z]", t) for t in texts):  # (S&P's A, B, C, D alike)
        return _by([ord(t) for t in texts], labels), "letter grades"
    if all(re.fullmatch(r"[A-Z][1-9]", t) for t in texts):  # (Moody's A1 ... B3 alike)
        return _by([(t[0], int(t[1])) for t in texts], labels), "sub-grades"
    for scale, name in ((_SP, "S&P's and Fitch's rating scale"), (_MOODYS, "Moody's rating scale")):
        rank = {grade: i for i, grade in enumerate(scale)}
        if all(t in rank for t in texts):
            return _by([rank[t] for t in texts], labels), name
    texts = [" ".join(re.sub(r"[_\-]", " ", t).split()) for t in texts]  # very_low, Very-Low
    folded = [t.casefold() for t in texts]
    for name, ranks in _WORDS.items():
        rank = {word: i for i, words in enumerate(ranks) for word in words}
        if all(t in rank for t in folded):
            keys = [rank[t] for t in folded]
            if len(set(keys)) == len(keys):
                return _by(keys, labels), name
    return None


def _by(keys: Sequence[Any], labels: Sequence[Any]) -> list[Any]:
    return [label for _, label in sorted(zip(keys, labels, strict=True), key=lambda p: p[0])]
