"""Plugin discovery through real entry points, deny lists, failures and duplicates."""

from __future__ import annotations

import types
import warnings

import pytest
from conftest import cli

from automl_fin import Int, ModelSpec, Task, hookimpl
from automl_fin.plugin._registry import PluginWarning, Registry

BUILTIN_MODELS = {"logreg", "rf", "extra_trees", "hgb", "ridge", "elastic_net"}


def test_builtin_plugin_loads_through_its_entry_point() -> None:
    reg = Registry()
    assert set(reg.models) >= BUILTIN_MODELS
    assert {"median_impute", "onehot", "ordinal", "target_encode", "standard_scale"} <= set(
        reg.preprocessors
    )
    assert {"default", "risk_tier", "price", "sentiment", "pricing", "auto"} <= set(reg.recipes)
    provider = reg.provider("rf")
    assert (provider.plugin, provider.distribution) == ("sklearn", "automl-fin")
    assert provider.version == "0.1.0"
    frame = reg.to_frame()
    assert set(frame.columns) >= {"kind", "name", "tasks", "plugin", "distribution", "version"}
    assert frame.loc[frame["name"] == "rf", "distribution"].item() == "automl-fin"


def test_third_party_plugin_appears_with_its_provider(plugin_sites) -> None:
    out = cli("plugins", sites=[plugin_sites["good"]])
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.split()[:2] == ["model", "knn"])
    assert "testplugin" in line and "automl-fin-testplugin" in line and "0.3.1" in line
    assert any(
        ln.split()[:2] == ["preprocessor:scale", "robust_scale"] for ln in out.stdout.splitlines()
    )
    recipes = cli("recipes", sites=[plugin_sites["good"]])
    assert "knn_credit" in recipes.stdout and "automl-fin-testplugin" in recipes.stdout
    # its recipe asked for with the plugin turned off: why it is not known
    off = cli("run", "knn_credit", "--no-plugin", "testplugin", sites=[plugin_sites["good"]])
    assert off.returncode == 2 and off.stderr.rstrip().endswith(
        "(or pass a path to a .yaml file); turned off here: testplugin (--no-plugin)"
    ), off.stderr


def test_plugin_failing_on_import_is_skipped_with_a_warning(plugin_sites) -> None:
    out = cli("plugins", sites=[plugin_sites["broken"], plugin_sites["good"]])
    assert out.returncode == 0, out.stderr
    warning = [ln for ln in out.stderr.splitlines() if "warning" in ln]
    assert len(warning) == 2, out.stderr
    assert "plugin 'broken'" in warning[0] and "automl-fin-brokenplugin" in warning[0]
    assert "a_module_that_is_not_installed" in warning[0]
    # the plugin's own line that failed (a module missing, a space out of order)
    assert "(at __init__.py:3: import a_module_that_is_not_installed" in warning[0]
    # a plugin that calls sys.exit(0) as it is imported: every command had ended, silent
    assert "plugin 'exiting'" in warning[1] and "called sys.exit(0)" in warning[1]
    assert "knn" in out.stdout and "logreg" in out.stdout  # the others still load
    assert out.stdout.count("[failed]") == 2


def test_a_plugin_clashing_with_a_name_is_skipped_naming_both_providers(plugin_sites) -> None:
    out = cli("plugins", sites=[plugin_sites["dup"]])
    assert out.returncode == 0, out.stderr  # every other command still works
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "plugin 'dup'" in lines[0] and "duplicate model name 'rf'" in lines[0]
    assert "automl-fin 0.1.0 (plugin 'sklearn')" in lines[0]
    assert "automl-fin-dupplugin 2.0.0 (plugin 'dup')" in lines[0]
    assert "skipped, the others still load" in lines[0]
    assert "rf " in out.stdout and "[failed]" in out.stdout  # the built-in rf is kept


def test_an_entry_point_named_like_a_built_in_plugin_is_skipped_not_the_built_in(
    plugin_sites, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A third-party entry point called ``sklearn`` is the one skipped, whatever order
    the distributions are listed in: every built-in model stays, and the warning says
    how to turn the newcomer off without turning off scikit-learn."""
    out = cli("plugins", sites=[plugin_sites["shadow"]])
    assert out.returncode == 0, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert (
        "plugin 'sklearn' (automl-fin-shadowplugin 1.0.0) has the name of automl-fin "
        "0.1.0 (plugin 'sklearn'); rename the entry point in automl-fin-shadowplugin; "
        "skipped, the others still load (--no-plugin automl-fin-shadowplugin:sklearn turns "
        "it off)"
    ) in line
    assert "logreg" in out.stdout and "shadowmodel" not in out.stdout
    run = cli("run", "default", "--trials", "3", "--runs-dir", str(tmp_path), "--no-report",
              "--set", "models=[logreg]", sites=[plugin_sites["shadow"]])  # fmt: skip
    assert run.returncode == 0, run.stderr
    # that entry point alone (the distribution's name turned off its every plugin)
    for name in ("automl-fin-shadowplugin:sklearn", "automl-fin-shadowplugin"):
        off = cli("plugins", "--no-plugin", name, sites=[plugin_sites["shadow"]])
        assert off.returncode == 0 and "warning" not in off.stderr and "logreg" in off.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--no-plugin", "dup"], {}),
        ([], {"AUTOML_FIN_DISABLE_PLUGINS": "dup"}),
        ([], {"AUTOML_FIN_DISABLE_PLUGINS": "automl-fin-dupplugin"}),  # by distribution
    ],
)
def test_deny_list_turns_a_plugin_off(plugin_sites, args, env) -> None:
    out = cli("plugins", *args, sites=[plugin_sites["dup"]], env=env)
    assert out.returncode == 0, out.stderr
    assert "plugin dup" in out.stdout and "[disabled]" in out.stdout


def test_deny_list_removes_the_specs_of_a_plugin(monkeypatch) -> None:
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGINS", "sklearn")
    reg = Registry()
    assert not set(reg.models) & BUILTIN_MODELS and "xgboost" in reg.models
    # the built-in preprocessors come from sklearn, but the encoder's (lightning)
    assert set(reg.preprocessors) <= {"minilm_embed"}
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGINS", "sklearn,xgboost,lightgbm,catboost")
    assert "default" in Registry().recipes  # the core's recipes cannot be denied
    assert set(Registry(disable=["lightning"]).models) == set()  # env and argument add up


def test_autoload_switch_and_allow_list(plugin_sites) -> None:
    off = cli(
        "plugins", sites=[plugin_sites["good"]], env={"AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )
    assert off.returncode == 0
    assert "knn" not in off.stdout and "logreg" not in off.stdout
    allowed = cli(
        "plugins",
        sites=[plugin_sites["good"]],
        env={"AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD": "1", "AUTOML_FIN_PLUGINS": "testplugin"},
    )
    assert "knn" in allowed.stdout and "logreg" not in allowed.stdout


def test_plugin_raising_in_a_hook_is_skipped_and_named() -> None:
    class Faulty:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="half", tasks={Task.BINARY}, build=lambda p, c: None))
            raise RuntimeError("model zoo offline")

    with pytest.warns(
        PluginWarning,
        match=r"plugin 'faulty'.*raised in register_models.*"
        r"model zoo offline",
    ):
        reg = Registry(plugins={"faulty": Faulty()})
    assert "half" not in reg.models  # nothing of a failing plugin is kept
    assert "rf" in reg.models


def test_a_plugin_calling_sys_exit_in_a_hook_or_its_check_is_skipped_and_named() -> None:
    """``sys.exit(0)`` in a hook ended ``automl-fin run`` with status 0 and nothing said;
    in ``available()``, every search, even one without that model."""

    class Exiting:
        @hookimpl
        def register_models(self, register):
            raise SystemExit(0)

    with pytest.warns(PluginWarning, match=r"plugin 'exiting'.*register_models.*sys.exit\(0\)"):
        reg = Registry(plugins={"exiting": Exiting()})
    assert "rf" in reg.models

    class Licensed:
        @hookimpl
        def register_models(self, register):
            def check() -> str | None:
                raise SystemExit("licence server unreachable")

            register(ModelSpec(name="licensed", tasks={Task.BINARY}, build=lambda p, c: None,
                               available=check))  # fmt: skip

    reg = Registry(plugins={"licensed": Licensed()})
    frame = reg.to_frame().set_index("name")
    assert "sys.exit('licence server unreachable')" in frame.loc["licensed", "installed"]


def test_a_hook_returning_its_specs_and_an_available_returning_true_are_said() -> None:
    """Two habits of other plugin systems: a hook that returns its specs instead of
    passing them to ``register`` was ignored without a word ("unknown model" later), and
    ``available=lambda: True`` left the model out saying only "True"."""

    class Returns:
        @hookimpl
        def register_models(self, register):
            return [ModelSpec(name="ret_nb", tasks={Task.BINARY}, build=lambda p, c: None)]

    with pytest.warns(PluginWarning, match=r"^plugin 'returns' \(<local> 0\+unknown\): "
                      r"register_models returned ret_nb without registering it, which is "
                      r"ignored; call register\(spec\) for each spec instead$"):  # fmt: skip
        reg = Registry(plugins={"returns": Returns()})
    assert "ret_nb" not in reg.models

    class Both:  # registers each, and returns what register returned: nothing to say
        @hookimpl
        def register_models(self, register):
            specs = [ModelSpec(name="both_nb", tasks={Task.BINARY}, build=lambda p, c: None)]
            return [register(s) for s in specs]

    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        assert "both_nb" in Registry(plugins={"both": Both()}).models

    class Yes:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="yes_nb", tasks={Task.BINARY}, build=lambda p, c: None,
                               available=lambda: True))  # fmt: skip

    reg = Registry(plugins={"yes": Yes()})
    assert reg.to_frame().set_index("name").loc["yes_nb", "installed"] == (
        "its available() returned True, not None (it can run) or why not"
    )


def test_a_plugin_registering_a_wrong_object_is_skipped_naming_it() -> None:
    class Wrong:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="fine", tasks={Task.BINARY}, build=lambda p, c: None))
            register({"name": "dict-spec"})

    with pytest.warns(PluginWarning, match=r"plugin 'wrong'.*expected an automl_fin.ModelSpec"):
        reg = Registry(plugins={"wrong": Wrong()})
    assert "fine" not in reg.models and "rf" in reg.models  # all of it or nothing
    assert [p.status for p in reg.plugins if p.name == "wrong"] == ["failed"]

    class NotAPath:  # a recipe "path" that is a number: every command ended in a traceback
        @hookimpl
        def register_recipes(self, register):
            register(7)

    with pytest.warns(PluginWarning, match=r"plugin 'notapath'.*passed 7 to register_recipes"):
        reg = Registry(plugins={"notapath": NotAPath()})
    assert "default" in reg.recipes
    assert [p.status for p in reg.plugins if p.name == "notapath"] == ["failed"]

    one = NotAPath()  # two entry points naming one module: pluggy's line named every plugin
    with pytest.warns(PluginWarning) as seen:
        Registry(plugins={"first": one, "second": one})
    said = [str(w.message) for w in seen if "'second'" in str(w.message)]
    assert said and "names the object plugin 'first' names: drop one of the two" in said[0]

    class Nowhere:
        @hookimpl
        def register_recipes(self, register):
            register("/no/such/recipes")

    with pytest.warns(PluginWarning) as seen:
        Registry(plugins={"nowhere": Nowhere()})
    (said,) = [str(w.message) for w in seen if "nowhere" in str(w.message)]
    assert said.startswith("plugin 'nowhere' (") and said.count("plugin 'nowhere'") == 1
    assert "registered recipe path /no/such/recipes, which does not exist; skipped" in said


def test_a_plugin_that_makes_warnings_errors_is_undone_and_named() -> None:
    """A plugin that ran ``warnings.simplefilter("error")`` at import made every later
    warning a traceback: every command ended in one (the next plugin's PluginWarning),
    and built-in models' trials failed on their ConvergenceWarning, the plugin never
    named (a prober's plugin). The error filter is undone and the plugin named; a filter
    that silences a library's noise is kept."""

    class Strict:
        @hookimpl
        def register_models(self, register):
            warnings.filterwarnings("ignore", message="noisy library", category=UserWarning)
            warnings.filterwarnings("error", category=RuntimeWarning, module="strictplugin")
            warnings.simplefilter("error")
            register(ModelSpec(name="strict_nb", tasks={Task.BINARY}, build=lambda p, c: None))

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        reg = Registry(plugins={"strict": Strict()})
        added = [f for f in warnings.filters if f not in before]
        assert [f[0] for f in added] == ["error", "ignore"]  # its own module's, kept
        assert added[0][3].pattern == "strictplugin" and added[1][1].pattern == "noisy library"
        warnings.warn("noisy library says hi", UserWarning, stacklevel=1)  # silenced
        warnings.warn("anything else", UserWarning, stacklevel=1)  # not an error
    assert "strict_nb" in reg.models
    said = [str(w.message) for w in seen]
    assert any(m.startswith("plugin 'strict' (") and "made warnings errors" in m for m in said)
    assert "anything else" in said and not any("noisy library" in m for m in said)


def test_a_plugin_registering_one_spec_twice_is_told_so() -> None:
    """One plugin registering a spec twice was told to "uninstall one" of two providers
    that were the same plugin; a wrong object's message named the plugin twice."""

    class Twice:
        @hookimpl
        def register_models(self, register):
            spec = ModelSpec(name="twin", tasks={Task.BINARY}, build=lambda p, c: None)
            register(spec)
            register(spec)

    with pytest.warns(PluginWarning) as seen:
        Registry(plugins={"twice": Twice()})
    said = " ".join(str(w.message) for w in seen)
    assert (
        "duplicate model name 'twin': the plugin registers it twice; register each spec once"
        in said
        and "uninstall one" not in said
    )

    class Wrong:
        @hookimpl
        def register_models(self, register):
            register({"name": "dict-spec"})

    with pytest.warns(PluginWarning) as seen:
        Registry(plugins={"wrong": Wrong()})
    said = " ".join(str(w.message) for w in seen)
    assert said.count("plugin 'wrong'") == 1, said


def test_hook_implementation_with_unknown_name_is_rejected() -> None:
    module = types.ModuleType("typo_plugin")

    @hookimpl
    def register_model(register):  # missing "s": matches no hook spec
        pass

    module.register_model = register_model  # type: ignore[attr-defined]
    said = (r"plugin 'typo' \(.*\) implements a hook automl_fin does not define, "
            r"'register_model' \(did you mean 'register_models'\?\); the hooks are "
            r"register_models, register_preprocessors, register_recipes; skipped")  # fmt: skip
    with pytest.warns(PluginWarning, match=said):  # (it named a private module to read)
        reg = Registry(plugins={"typo": module})
    assert "rf" in reg.models and [p.status for p in reg.plugins if p.name == "typo"] == ["failed"]


def test_an_allow_list_naming_no_installed_plugin_says_so(monkeypatch) -> None:
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("AUTOML_FIN_PLUGINS", "sklearn,nosuch")
    with pytest.warns(PluginWarning, match=r"AUTOML_FIN_PLUGINS names 'nosuch'.*installed: "):
        reg = Registry()
    assert "rf" in reg.models


def test_spec_names_are_validated() -> None:
    with pytest.raises(ValueError, match="must start with an ASCII letter"):
        ModelSpec(name="bad.name", tasks={Task.BINARY}, build=lambda p, c: None)
    # each was accepted and searched, then failed where the name was used again: the
    # manifest refused "modèle", the predictor's file "k" * 251, the leaderboard mixed a
    # model "ensemble" with its own rows, "prep" took the engine's "prep.<kind>.<slot>"
    for name, said in (("modèle", "ASCII"), ("k" * 251, "251 characters, over 40"),
                       ("ensemble", "the search's own rows"),
                       ("prep", "the search's own parameters")):  # fmt: skip
        with pytest.raises(ValueError, match=said):
            ModelSpec(name=name, tasks={Task.BINARY}, build=lambda p, c: None)
    for key in ("categorical.encode", "n neighbours", "", "k²"):
        with pytest.raises(ValueError, match="a parameter's name is ASCII letters"):
            ModelSpec(name="knn", tasks={Task.BINARY}, build=lambda p, c: None,
                      space={key: Int(1, 5)})  # fmt: skip
    dynamic = ModelSpec(name="knn", tasks={Task.BINARY}, build=lambda p, c: None,
                        space=lambda ctx: {"a.b": Int(1, 5)})  # fmt: skip
    with pytest.raises(ValueError, match=r"model 'knn' parameter 'a\.b'"):
        dynamic.space_for(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="declares no task"):
        ModelSpec(name="none", tasks=set(), build=lambda p, c: None)
    for folds in (0, -1, 1.5, True):  # 0 was scored as one fold, its spread 0.000
        with pytest.raises(ValueError, match=r"max_folds must be a whole number, 1 or more"):
            ModelSpec(name="knn", tasks={Task.BINARY}, build=lambda p, c: None, max_folds=folds)


def test_a_model_named_like_a_preprocessor_is_refused() -> None:
    """Both would write trial parameters under the same prefix."""

    class Clash:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="onehot", tasks={Task.BINARY}, build=lambda p, c: None))

    with pytest.warns(PluginWarning, match=r"plugin 'clash'.*model name 'onehot' is already a "
                      r"preprocessor's.*--no-plugin clash"):  # fmt: skip
        reg = Registry(plugins={"clash": Clash()})
    assert "onehot" not in reg.models and "onehot" in reg.preprocessors


def test_hook_wrappers_and_wrong_hook_arguments_skip_the_plugin_in_one_line() -> None:
    class Wrapping:
        @hookimpl(wrapper=True)
        def register_models(self, register):
            return (yield)

    class WrongArgs:
        @hookimpl
        def register_models(self, register, extra):  # pluggy's text spans lines
            pass

    with pytest.warns(PluginWarning) as caught:
        reg = Registry(plugins={"wrapping": Wrapping(), "wrongargs": WrongArgs()})
    lines = {str(w.message).split(" ", 2)[1]: str(w.message) for w in caught}
    assert "register_models as a hook wrapper" in lines["'wrapping'"]
    assert "extra" in lines["'wrongargs'"] and "\n" not in lines["'wrongargs'"]
    assert "rf" in reg.models  # the others still load
    assert {p.name: p.status for p in reg.plugins}["wrapping"] == "failed"


def test_a_run_naming_a_skipped_plugins_model_fails_with_that_plugins_line(tmp_path) -> None:
    from automl_fin import search
    from automl_fin.errors import RecipeError

    class Faulty:
        @hookimpl
        def register_models(self, register):
            register(ModelSpec(name="half", tasks={Task.BINARY}, build=lambda p, c: None))
            raise RuntimeError("model zoo offline")

    with pytest.warns(PluginWarning):
        reg = Registry(plugins={"faulty": Faulty()})
    with pytest.raises(RecipeError) as caught:
        search("default", trials=1, registry=reg, runs_dir=tmp_path, storage=":memory:",
               overrides={"models": ["logreg", "half"]})  # fmt: skip
    text = str(caught.value)
    assert "models[1]" in text and "'half' is missing: plugin 'faulty'" in text
    assert "model zoo offline" in text and "\n" not in text
    with pytest.raises(RecipeError, match=r"unknown model 'nosuch'.*plugin 'faulty'"):
        search("default", trials=1, registry=reg, runs_dir=tmp_path, storage=":memory:",
               overrides={"models": ["nosuch"]})  # fmt: skip


def test_a_space_that_is_not_float_int_or_categorical_is_refused_when_the_plugin_loads() -> None:
    from automl_fin import Int

    with pytest.raises(ValueError, match=r"model 'spacetype' parameter 'a': \(1, 10\) is not a "
                       r"Float, Int or Categorical \(from automl_fin import"):  # fmt: skip
        ModelSpec(name="spacetype", tasks={Task.BINARY}, build=lambda p, c: None,
                  space={"b": Int(1, 3), "a": (1, 10)})  # fmt: skip
    with pytest.raises(ValueError, match="space must be a map of parameters"):
        ModelSpec(name="listed", tasks={Task.BINARY}, build=lambda p, c: None, space=[1, 2])


def test_a_space_function_that_fails_names_its_model_and_plugin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A space given as a function is checked when called: its trial fails naming the
    model and its plugin (the leaderboard's model and plugin columns too)."""
    from automl_fin import search

    class SpaceFn:
        @hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(ModelSpec(name="spacefn", tasks={Task.BINARY}, build=lambda p, c: None,
                               space=lambda ctx: {"a": (1, 10)}))  # fmt: skip

    result = search("default", trials=3, registry=Registry(plugins={"spacefn": SpaceFn()}),
                    runs_dir=tmp_path, storage=":memory:",
                    overrides={"models": ["spacefn", "logreg"], "enqueue": [{"model": "spacefn"}],
                               "report": False, "predictor": False})  # fmt: skip
    board = result.leaderboard()
    failed = board[board["state"] == "FAIL"].iloc[0]
    assert failed["error"].startswith("spacefn (") and "(plugin 'spacefn')) raised in suggest: " \
        "ValueError: model 'spacefn' parameter 'a': (1, 10) is not a Float, Int or " \
        "Categorical" in failed["error"]  # fmt: skip
    assert failed["model"] == "spacefn" and "(plugin 'spacefn')" in failed["plugin"]


def test_an_unknown_model_names_the_plugins_turned_off_and_failed_in_short(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from automl_fin import search
    from automl_fin.errors import RecipeError

    def faulty(text: str) -> object:
        class Faulty:
            @hookimpl
            def register_models(self, register):  # type: ignore[no-untyped-def]
                raise RuntimeError(text)

        return Faulty()

    with pytest.warns(PluginWarning):
        reg = Registry(plugins={"one": faulty("first zoo offline"), "two": faulty("second")},
                       disable=["xgboost"])  # fmt: skip
    with pytest.raises(RecipeError) as caught:
        search("default", trials=1, registry=reg, runs_dir=tmp_path, storage=":memory:",
               overrides={"models": ["xgboost"]})  # fmt: skip
    text = str(caught.value)
    assert "unknown model 'xgboost'" in text and "turned off here: xgboost (--no-plugin)" in text
    assert text.endswith("2 plugins failed to load (one, two): see their warnings")
    assert "first zoo offline" not in text and len(text) < 900
    with pytest.warns(PluginWarning, match=r"--no-plugin / AUTOML_FIN_DISABLE_PLUGINS names "
                      r"'xgbost', but no installed plugin is called that"):  # fmt: skip
        Registry(disable=["xgbost"])
    # what turned a plugin off is said as it was done: the variable was called --no-plugin,
    # and the baseline of a plugin left out by autoload named no plugin at all
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGINS", "xgboost")
    with pytest.raises(RecipeError, match=r"turned off here: xgboost "
                       r"\(AUTOML_FIN_DISABLE_PLUGINS\)"):  # fmt: skip
        search("default", trials=1, runs_dir=tmp_path, storage=":memory:",
               overrides={"models": ["xgboost"]})  # fmt: skip
    monkeypatch.delenv("AUTOML_FIN_DISABLE_PLUGINS")
    monkeypatch.setenv("AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("AUTOML_FIN_PLUGINS", "lightgbm")
    with pytest.raises(RecipeError) as caught:
        search("default", trials=1, runs_dir=tmp_path, storage=":memory:")
    assert str(caught.value).endswith(
        "field 'baselines[0]': no model 'prior' for task 'binary'; baselines here: none; "
        "turned off here: catboost, lightning, sklearn, xgboost "
        "(AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD, not in AUTOML_FIN_PLUGINS)"
    )


def test_a_plugin_whose_space_is_wrong_is_skipped_with_the_line_that_made_it() -> None:
    """``Int(3, 2)`` in a spec's space said "Int: low 3 is above high 2" and nothing of
    which parameter, model or line: the warning quotes the plugin's own line."""
    from automl_fin import Int

    class Spaced:
        @hookimpl
        def register_models(self, register):
            space = {
                "depth": Int(3, 2),
            }
            register(ModelSpec(name="deep", tasks={Task.BINARY}, build=lambda p, c: None,
                               space=space))  # fmt: skip

    with pytest.warns(
        PluginWarning,
        match=r"plugin 'spaced'.*raised in register_models: ValueError: Int: low 3 is above "
        r"high 2 \(at test_registry.py:\d+: \"depth\": Int\(3, 2\),\)",
    ):
        reg = Registry(plugins={"spaced": Spaced()})
    assert "deep" not in reg.models


def test_one_plugins_unreadable_recipe_hides_no_other_from_the_listing(
    tmp_path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """A plugin's recipe naming a model no plugin registers here (its own turned off,
    or a typo) stopped `automl-fin recipes` after `auto`, exit 2: the built-in
    recipes were hidden. The listing goes on; the recipe is named with its error."""
    from automl_fin import cli as cli_module

    (tmp_path / "cc_knn.yaml").write_text(
        "description: KNN on cards\nextends: default\nmodels: [knn]\n", encoding="utf-8"
    )

    class OwnRecipes:
        @hookimpl
        def register_recipes(self, register):  # type: ignore[no-untyped-def]
            register(str(tmp_path))

    registry = Registry(plugins={"rec": OwnRecipes()})
    monkeypatch.setattr(cli_module, "_registry", lambda args: registry)
    assert cli_module.main(["recipes"]) == 0
    out, err = capsys.readouterr()
    listed = {line.split()[0] for line in out.splitlines()}
    assert {"auto", "default", "price", "pricing", "risk_tier", "sentiment"} <= listed, out
    assert "cc_knn" not in listed
    assert err.startswith("cc_knn") and "cannot be read" in err and "unknown model 'knn'" in err


def test_numpy_choices_are_the_python_values_they_hold() -> None:
    """``Categorical(list(np.arange(5, 60, 10)))`` passed (NumPy's int64 is a number),
    and every trial of a real search then failed: "Object of type int64 is not JSON
    serializable", with no plugin named. The choices are Python's values now."""
    import json

    import numpy as np

    from automl_fin import Categorical

    space = Categorical(
        [*list(np.arange(5, 60, 10)), np.float32(0.5), np.str_("x"), np.bool_(True)]
    )
    assert [type(c) for c in space.choices] == [int] * 6 + [float, str, bool]
    json.dumps(list(space.choices))


def test_specs_that_could_never_be_used_are_refused_where_they_are_written() -> None:
    """A plugin author's finds: ``PreprocessorSpec(tasks=set())`` (a model's was
    refused), a numeric step in the encode slot (numeric columns have none), defaults
    that name no parameter (dropped silently) were accepted, listed by `automl-fin
    plugins` and never drawn; ``tasks="binary"`` said "'b' is not a valid Task"."""
    from automl_fin import Float, PreprocessorSpec, Slot

    def build(p, c):  # type: ignore[no-untyped-def]
        return None

    refused = {
        "declares no task": dict(kinds={"numeric"}, slot=Slot.SCALE, tasks=set()),
        r"slot 'encode' is in no chain of numeric columns \(numeric: impute, scale\)": dict(
            kinds={"numeric"}, slot=Slot.ENCODE
        ),
        r"defaults name 'kk', which its space has not \('k'\)": dict(
            kinds={"numeric"}, slot=Slot.SCALE, space={"k": Float(0.1, 1.0)}, defaults={"kk": 1}
        ),
        r"kinds must be a set of ColumnKind values, e\.g\. \{ColumnKind\.NUMERIC\}, got the "
        r"text 'numeric'": dict(kinds="numeric", slot=Slot.SCALE),
    }
    for said, fields in refused.items():
        with pytest.raises(
            ValueError, match=rf"^preprocessor 'p': {said}|^preprocessor 'p' {said}"
        ):
            PreprocessorSpec(name="p", build=build, **fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^model 'm': tasks must be a set of Task values"):
        ModelSpec(name="m", tasks="binary", build=build)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^model 'm': tasks: 'bin' is not a valid Task \(one of"):
        ModelSpec(name="m", tasks={"bin"}, build=build)  # type: ignore[arg-type]
