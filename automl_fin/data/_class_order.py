"""The order of class labels that write a known scale: credit ratings (S&P and Fitch's
``AAA … D``, Moody's ``Aaa … C``), a lender's letter grades (``A … G``) and sub-grades
(``A1 … G5``), the word scales of risk, quality (``Bad, Medium, Good``), a diamond's
cut (``Fair … Ideal``), size, agreement and sentiment (also with a word all labels share:
``Low risk … High risk``), and labels that number themselves (``1-Low``, ``Tier 10``).

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

__all__ = ["NUMBERED", "scale_order"]

# S&P's and Fitch's long-term ratings, best first (RD and SD: a selective default)
_SP = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
       "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C", "RD", "SD", "D")  # fmt: skip
_MOODYS = ("Aaa", "Aa1", "Aa2", "Aa3", "A1", "A2", "A3", "Baa1", "Baa2", "Baa3", "Ba1", "Ba2",
           "Ba3", "B1", "B2", "B3", "Caa1", "Caa2", "Caa3", "Ca", "C")  # fmt: skip
# Moody's generic ratings (no notch: Aa, Baa, Caa) rank as their middle notch does
_MOODYS_GENERIC = {"Aa": "Aa2", "A": "A2", "Baa": "Baa2", "Ba": "Ba2", "B": "B2", "Caa": "Caa2"}
# names of orders read from numbers in the labels: an ordered target's, never a reason
# to take a target for ordered (region 1, region 2; 1-Cash, 2-Revolving)
NUMBERED = ("the numbers they start with", "the numbers they end with")
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
    moodys = {grade: i for i, grade in enumerate(_MOODYS)}
    moodys |= {generic: moodys[notch] for generic, notch in _MOODYS_GENERIC.items()}
    for rank, name in (
        ({grade: i for i, grade in enumerate(_SP)}, "S&P's and Fitch's rating scale"),
        (moodys, "Moody's rating scale"),
    ):
        if all(t in rank for t in texts):
            keys = [rank[t] for t in texts]
            return (_by(keys, labels), name) if len(set(keys)) == len(keys) else None
    numbered = _numbered(texts)
    if numbered is not None:
        return _by(numbered[0], labels), numbered[1]
    texts = [" ".join(re.sub(r"[_\-]", " ", t).split()) for t in texts]  # very_low, Very-Low
    for folded in (_folded := [t.casefold() for t in texts], _without_shared_words(_folded)):
        for name, ranks in _WORDS.items():
            rank = {word: i for i, words in enumerate(ranks) for word in words}
            if all(t in rank for t in folded):
                keys = [rank[t] for t in folded]
                if len(set(keys)) == len(keys):
                    return _by(keys, labels), name
    return None


def _numbered(texts: Sequence[str]) -> tuple[list[int], str] | None:
    """Labels that number themselves, and how: ``1-Low, 2-Medium, 3-High`` (a bank's
    export: the numbers they start with) or ``Tier 1 ... Tier 10`` (one word, then the
    numbers they end with: sorted as text, ``Tier 10`` came before ``Tier 2``)."""
    leading = [re.fullmatch(r"\(?(\d+)\)?\s*[-_.:)/]?\s*([^\W\d_].*)", t) for t in texts]
    if all(leading):
        keys = [int(m.group(1)) for m in leading if m]
        return (keys, NUMBERED[0]) if len(set(keys)) == len(keys) else None
    trailing = [re.fullmatch(r"(.*[^\W\d_])[\s_\-]*(\d+)", t) for t in texts]
    if all(trailing) and len({m.group(1).casefold() for m in trailing if m}) == 1:
        keys = [int(m.group(2)) for m in trailing if m]
        return (keys, NUMBERED[1]) if len(set(keys)) == len(keys) else None
    return None


def _without_shared_words(texts: list[str]) -> list[str]:
    """``texts`` without the words all of them start or end with (``low risk``,
    ``medium risk``, ``high risk``: low, medium, high), where every one keeps a word."""
    words = [t.split() for t in texts]
    shortest = min(len(w) for w in words)
    head = 0
    while head < shortest - 1 and len({w[head] for w in words}) == 1:
        head += 1
    tail = 0
    while tail < shortest - 1 - head and len({w[-1 - tail] for w in words}) == 1:
        tail += 1
    return [" ".join(w[head : len(w) - tail]) for w in words]


def _by(keys: Sequence[Any], labels: Sequence[Any]) -> list[Any]:
    return [label for _, label in sorted(zip(keys, labels, strict=True), key=lambda p: p[0])]
