"""The bad-input catalogue (docs/errors.md): every row's command prints exactly its one
line, exits 2 with no traceback, and leaves the finished run beside it untouched."""

from __future__ import annotations

import hashlib
import re
import shlex
import warnings
from pathlib import Path

import optuna
import pytest
from catalogue_data import make_files, make_run
from conftest import ROOT

from automl_fin.cli import main
from automl_fin.storage._storage import open_storage

ROW = re.compile(r"^\| (\d+) \| (.+?) \| `automl-fin (.+?)` \| `` (.+?) `` \| (.+?) \|$")
ROWS = [m.groups() for line in (ROOT / "docs" / "errors.md").read_text().splitlines()
        if (m := ROW.match(line))]  # fmt: skip


def test_the_catalogue_has_every_row_the_issue_asks_for() -> None:
    assert len(ROWS) >= 25
    assert [int(r[0]) for r in ROWS] == list(range(1, len(ROWS) + 1))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("catalogue")
    make_files(tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_run(tmp)
    return tmp


def _state(tmp: Path) -> tuple[list[tuple[int, str]], dict[str, str]]:
    """The finished run's trials and the sha256 of its predictor's files."""
    store = open_storage(f"sqlite:///{tmp / 'runs' / 'automl_fin.db'}", create=False)
    trials = optuna.load_study(study_name="base", storage=store).get_trials()
    files = sorted((tmp / "runs" / "base" / "predictor").iterdir())
    return (
        [(t.number, t.state.name) for t in trials],
        {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files},
    )


@pytest.mark.parametrize(("number", "situation", "command", "expected", "kept"), ROWS,
                         ids=[r[1] for r in ROWS])  # fmt: skip
def test_bad_input_gets_its_one_line(
    inputs: Path,
    number: str,
    situation: str,
    command: str,
    expected: str,
    kept: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(inputs)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    before = _state(inputs)
    argv = shlex.split(command.replace("{tmp}", str(inputs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are not the error line
        code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("automl-fin: warning:")]
    assert code == 2
    assert lines == [expected.replace("{tmp}", str(inputs))]
    assert "Traceback" not in err
    assert _state(inputs) == before  # nothing already written was lost
