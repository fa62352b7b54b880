"""The example plugin of docs/examples, pip-installed as a real wheel, is searched."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
from conftest import EXAMPLE_PLUGIN, cli


def test_example_plugin_is_listed_with_its_distribution(plugin_sites) -> None:
    out = cli("plugins", "--format", "csv", sites=[plugin_sites["example"]])
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout.split("\n\n")[0]))
    mine = frame[frame["distribution"] == "automl-fin-scorecard"]
    assert sorted(mine["name"]) == ["scorecard", "woe_bins"]
    assert set(mine["version"].astype(str)) == {"0.1.0"} and set(mine["plugin"]) == {"scorecard"}


def test_example_plugin_is_searched_and_on_the_leaderboard(plugin_sites, tmp_path: Path) -> None:
    site = [plugin_sites["example"]]
    run = cli(
        "run", "default", "--trials", "6", "--seed", "3", "--runs-dir", str(tmp_path),
        "--study", "card", "--set", "models=[scorecard, logreg]", "--no-progress",
        "--set", "validation.n_splits=3", sites=site,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    board = cli("leaderboard", "--runs-dir", str(tmp_path), "--format", "csv", sites=site)
    frame = pd.read_csv(io.StringIO(board.stdout))
    cards = frame[frame["model"] == "scorecard"]
    assert len(cards) >= 1
    assert set(cards["plugin"]) == {"automl-fin-scorecard 0.1.0 (plugin 'scorecard')"}
    assert cards["preprocessors"].str.contains("numeric:median_impute\\+woe_bins").all()
    done = cards[cards["state"] == "COMPLETE"]
    assert (done["score"] > 0.7).all() and len(done) >= 1


def test_example_plugin_passes_its_own_contract_tests(plugin_sites) -> None:
    env_path = str(plugin_sites["example"])
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(EXAMPLE_PLUGIN / "tests")],
        capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout
