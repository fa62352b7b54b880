"""The report's building blocks: sections, inline SVG figures, notes and tables."""

from __future__ import annotations

import html
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["bars", "figure", "note", "print_pdf", "section", "table"]

LABEL_CHARS = 40  # a bar's label longer than this is cut in the middle

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def section(title: str, content: str) -> str:
    """A titled section; its anchor is the title in lower case with dashes."""
    anchor = title.lower().replace(" ", "-")
    return f"<section id='{anchor}'><h2>{html.escape(title)}</h2>{content}</section>"


def bars(ax: Any, names: list[str], values: Any, color: str) -> None:
    """Horizontal bars of ``values`` on ``ax``, each labelled by its name, a name over
    :data:`LABEL_CHARS` characters cut in the middle (its ends kept): a 157-character
    column name left a Shapley figure 195 pt of its 1,415 for the bars. Placed by
    position, so that two names cut alike stay two bars."""
    half = (LABEL_CHARS - 1) // 2
    labels = [n if len(n) <= LABEL_CHARS else f"{n[:half]}…{n[-half:]}" for n in map(str, names)]
    ax.barh(range(len(labels)), values, color=color)
    ax.set_yticks(range(len(labels)), labels)


def figure(fig: Any, name: str, caption: str) -> str:
    """The matplotlib figure ``fig`` as inline SVG with a plain-language caption (closed)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prologue: the SVG is inline
    return f"<figure id='{name}'>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def note(text: str) -> str:
    """A grey paragraph (a caption or why something is not shown)."""
    return f"<p class='note'>{html.escape(text)}</p>"


def number_text(value: float) -> str:
    """A number as the tables show it: four significant digits (``0.8116``, ``44.49``),
    and from 1,000 on every digit left of the point and two after it (``14504.64``, not
    ``1.450e+04``, which shows eight different RMSEs alike)."""
    if 1000 <= abs(value) < 1e15:
        return f"{value:.2f}"
    return f"{value:#.4g}".rstrip(".")


def table(frame: pd.DataFrame, name: str, caption: str = "", *, index: bool = False) -> str:
    """``frame`` as an HTML table in a box that scrolls sideways when it is wider than
    the page (never the page itself), with a caption below."""
    nullable = [
        c for c, t in frame.dtypes.items() if isinstance(t, pd.api.extensions.ExtensionDtype)
    ]
    if nullable:  # to_html writes <NA> of Int64 / string columns, whatever na_rep says
        frame = frame.copy()
        for c in nullable:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), "-")
    body = frame.to_html(index=index, float_format=number_text, na_rep="-", border=0, escape=True)
    under = note(caption) if caption else ""
    return f"<div class='wide' id='{name}'>{body}</div>{under}"


def print_pdf(page: Path, pdf: Path) -> Path:
    """Print the report ``page`` to ``pdf`` with headless Chromium (A4, backgrounds on);
    a missing browser or a failed print is an :class:`~automl_fin.errors.AutomlFinError`
    saying so (the HTML is written already)."""
    from automl_fin.errors import AutomlFinError

    browser = next((b for name in BROWSERS if (b := shutil.which(name))), None)
    if browser is None:
        raise AutomlFinError(
            f"--pdf needs Chromium or Chrome on the PATH ({', '.join(BROWSERS)}); the HTML "
            f"report is at {page}: open it in a browser and print it there"
        )
    pdf = pdf.resolve()
    if pdf.is_dir():
        raise AutomlFinError(f"--pdf {pdf} is a folder; pass a file name (e.g. {pdf}/report.pdf)")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)  # an old file must not pass for a new print
    with tempfile.TemporaryDirectory() as profile:
        try:
            done = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={profile}",
                 "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AutomlFinError(f"--pdf: {browser} did not print {page} within 300 s") from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        why = " ".join(done.stderr.split())[-300:] or f"exit status {done.returncode}"
        raise AutomlFinError(f"--pdf: {browser} could not print {page}: {why}")
    return pdf
