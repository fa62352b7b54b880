"""The wheel a non-editable ``pip install .`` builds carries recipes, data and entry points."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
RECIPES = sorted(p.name for p in (ROOT / "recipes").glob("*.yaml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources (no build/ left in the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("automl_fin", "plugins", "recipes"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(base / "dist"), str(src)],
        check=True, capture_output=True,
    )  # fmt: skip
    (built,) = (base / "dist").glob("automl_fin-*.whl")
    return built


def test_wheel_holds_recipes_data_typing_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"automl_fin/_recipes/{r}" for r in RECIPES} <= names
    assert {"default.yaml", "risk_tier.yaml", "price.yaml", "sentiment.yaml"} <= set(RECIPES)
    assert "automl_fin/datasets/german_credit.csv" in names
    plugins = ("automl_fin_sklearn", "automl_fin_xgboost", "automl_fin_lightning")
    assert {f"{p}/py.typed" for p in ("automl_fin", *plugins)} <= names
    assert {f"{p}/__init__.py" for p in plugins} <= names
    assert not any(n.startswith(("tests/", "plugins/", "recipes/")) for n in names)
    (ep_file,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    entry_points = zipfile.ZipFile(wheel).read(ep_file).decode()
    group = entry_points.split("[automl_fin]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert sorted(group) == [
        "lightning = automl_fin_lightning",
        "sklearn = automl_fin_sklearn",
        "xgboost = automl_fin_xgboost",
    ]
    assert "[console_scripts]\nautoml-fin = automl_fin.cli:main" in entry_points


def test_installed_wheel_finds_its_recipes_and_plugin(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    # -S: no .pth files, so the checkout's editable install is invisible; the wheel's
    # copy comes first on the path and its dist-info wins the entry-point lookup.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), sysconfig.get_path("purelib")])}
    code = (
        "import automl_fin, automl_fin_sklearn\n"
        "from automl_fin.registry import Registry\n"
        "from automl_fin.recipes import load_recipe\n"
        "reg = Registry()\n"
        "print(automl_fin.__file__)\n"
        "print(automl_fin_sklearn.__file__)\n"
        "print(reg.recipes['default'].path)\n"
        "print(load_recipe('default', registry=reg).metric)\n"
        "print(sorted(reg.models))\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    package, plugin, recipe, metric, models = out.stdout.splitlines()
    for path in (package, plugin, recipe):
        assert path.startswith(str(site)), path
    assert recipe.endswith("automl_fin/_recipes/default.yaml")
    assert metric == "roc_auc"
    assert {"logreg", "hgb", "xgboost", "mlp"} <= set(ast.literal_eval(models))


def test_the_search_function_is_not_shadowed_by_a_submodule() -> None:
    import automl_fin
    import automl_fin.engine  # importing every submodule keeps the API

    assert callable(automl_fin.search) and automl_fin.search is automl_fin.engine.search
