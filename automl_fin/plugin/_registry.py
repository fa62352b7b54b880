"""Plugin discovery: a pluggy manager over the ``automl_fin`` entry-point group.

The registry loads every installed plugin (unless denied or autoload is off), calls
its registration hooks, validates what they register, and remembers which plugin and
distribution provided each spec. A plugin that fails to import or to register is
skipped with a warning that names it; the others still load.

Environment:
    ``AUTOML_FIN_DISABLE_PLUGINS=a,b``: never load these plugins (entry-point or
        distribution names); the CLI's ``--no-plugin NAME`` adds to it.
    ``AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry point except those listed in
        ``AUTOML_FIN_PLUGINS=a,b``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import os
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from automl_fin.errors import PluginError
from automl_fin.plugin import _hookspecs as hookspecs
from automl_fin.plugin._specs import ModelSpec, PreprocessorSpec, Provider, unavailable

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "PluginWarning",
    "Registry",
    "get_registry",
    "plugin_key",
    "turned_off",
]

ENTRY_POINT_GROUP = "automl_fin"
OWN_DISTRIBUTION = "automl-fin"  # the distribution of the built-in plugins
ENV_DISABLE = "AUTOML_FIN_DISABLE_PLUGINS"
ENV_NO_AUTOLOAD = "AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD"
ENV_LOAD = "AUTOML_FIN_PLUGINS"


class PluginWarning(UserWarning):
    """A plugin was skipped; the message names it and says why."""


@dataclass(frozen=True)
class PluginRecord:
    """One plugin the registry saw, and what became of it."""

    name: str
    distribution: str
    version: str
    status: str  # "loaded", "disabled" or "failed"
    error: str = ""


@dataclass(frozen=True)
class RecipeSource:
    """Where a registered recipe lives and who shipped it."""

    name: str
    path: Any  # pathlib.Path or importlib.resources Traversable
    provider: Provider


def _names(value: str | None) -> set[str]:
    return {plugin_key(n) for n in (value or "").split(",") if n.strip()}


def plugin_key(name: str) -> str:
    """A plugin's name (entry-point or distribution) as names are compared: case and
    ``-``/``_`` aside."""
    return name.strip().lower().replace("-", "_")


def turned_off(disable: Iterable[str] = ()) -> set[str]:
    """The plugin names (entry-point or distribution, normalised) that ``disable``
    (``--no-plugin``) and ``AUTOML_FIN_DISABLE_PLUGINS`` turn off."""
    return _names(os.environ.get(ENV_DISABLE)) | {plugin_key(n) for n in disable}


def turned_off_by(disable: Iterable[str] = ()) -> Callable[[Iterable[str]], str | None]:
    """A test of a plugin's names (entry-point and distribution): what turns it off
    here, in words (``--no-plugin``, ``AUTOML_FIN_DISABLE_PLUGINS``, or, for a
    third-party plugin, autoload turned off without it in ``AUTOML_FIN_PLUGINS``), ``None``
    when nothing does. automl-fin's core is never off, and its own plugins only by name
    (autoload off is the switch for plugins not trusted: a predictor of automl-fin's own
    scikit-learn models stays readable)."""
    by_env = _names(os.environ.get(ENV_DISABLE))
    by_flag = {plugin_key(n) for n in disable}
    allowed = None if autoload_on() else _names(os.environ.get(ENV_LOAD))
    own = plugin_key(OWN_DISTRIBUTION)
    never = {"core", own}

    def why(names: Iterable[str]) -> str | None:
        keys = {plugin_key(n) for n in names}
        if keys & by_env - never:
            return f"{ENV_DISABLE} turns off"
        if keys & by_flag - never:
            return "--no-plugin turns off"
        if allowed is not None and not keys & (allowed | never):
            return f"{ENV_NO_AUTOLOAD} leaves unloaded (it is not in {ENV_LOAD})"
        return None

    return why


def autoload_on() -> bool:
    """Whether entry points load by themselves (``AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD``
    unset, empty, ``0`` or ``false``)."""
    return os.environ.get(ENV_NO_AUTOLOAD, "").strip() in ("", "0", "false")


@contextlib.contextmanager
def _no_errors_made(plugin: str, dist: str) -> Iterator[None]:
    """Run a plugin's import or hook, undoing a warnings filter it adds that turns
    warnings into errors (``warnings.simplefilter("error")`` at import: every command
    then ended in a traceback of the next warning, and built-in models' trials failed
    on their ConvergenceWarning, the plugin never named), with a warning naming it. Its
    other filters (a library's noise silenced) are kept."""
    before = list(warnings.filters)
    with warnings.catch_warnings():  # every change undone as it ends ...
        try:
            yield
        finally:
            after, shown = list(warnings.filters), warnings.showwarning
    warnings.showwarning = shown  # (logging.captureWarnings(True) at import: kept)
    added = [f for f in after if f not in before]
    # an error filter over every module's warnings is undone; one of the plugin's own
    # modules (filterwarnings("error", module="myplugin")) is the plugin's affair
    broad = [f for f in added if f[0] == "error" and f[3] is None]
    for action, message, category, module, lineno in reversed(added):  # ... then redone
        if (action, message, category, module, lineno) not in broad:  # (in their order)
            pattern = (message.pattern if message else "", module.pattern if module else "")
            warnings.filterwarnings(action, pattern[0], category, pattern[1], lineno)
    if broad:
        warnings.warn(
            f"plugin '{plugin}' ({dist}) made warnings errors (warnings.simplefilter"
            '("error") or filterwarnings("error", ...) outside a catch_warnings block): '
            "undone; a plugin should not change the process's warning filters",
            PluginWarning,
            stacklevel=5,
        )


def _core_provider() -> Provider:
    return Provider("core", OWN_DISTRIBUTION, _version(OWN_DISTRIBUTION))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "0+unknown"


class Registry:
    """Models, preprocessors and recipes offered by the installed plugins.

    Args:
        disable: plugin names (entry-point or distribution) to skip, on top of
            ``AUTOML_FIN_DISABLE_PLUGINS``.
        autoload: load the ``automl_fin`` entry points; default: on, unless
            ``AUTOML_FIN_DISABLE_PLUGIN_AUTOLOAD`` is set.
        plugins: extra plugin objects (modules or instances with hook
            implementations) to register directly, as ``name -> object`` or objects.
    """

    def __init__(
        self,
        *,
        disable: Iterable[str] = (),
        autoload: bool | None = None,
        plugins: Mapping[str, object] | Iterable[object] = (),
    ) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self.models: dict[str, ModelSpec] = {}
        self.preprocessors: dict[str, PreprocessorSpec] = {}
        self.recipes: dict[str, RecipeSource] = {}
        self.plugins: list[PluginRecord] = []
        self.providers: dict[str, Provider] = {}  # spec name -> provider
        self.skipped: dict[str, str] = {}  # skipped plugin -> its warning line
        self.skipped_specs: dict[str, str] = {}  # spec a skipped plugin offered -> plugin
        self._by_plugin: dict[str, Provider] = {}

        by_env = _names(os.environ.get(ENV_DISABLE))
        denied = turned_off(disable)
        if autoload is None:
            autoload = autoload_on()
        allowed = _names(os.environ.get(ENV_LOAD))

        from automl_fin.plugin import _builtin

        self._add(_builtin, _core_provider())
        self._load_entry_points(denied, None if autoload else allowed, by_env)
        items = plugins.items() if isinstance(plugins, Mapping) else _named(plugins)
        for name, obj in items:
            dist = _dist_of(obj)
            self._add(obj, Provider(name, dist, _version(dist)))
        self._drop_unknown_hooks()
        known = {
            plugin_key(name)
            for p in self.plugins
            for name in (p.name, p.distribution, f"{p.distribution}:{p.name}")
        }
        for names, what in ((allowed, ENV_LOAD), (denied, f"--no-plugin / {ENV_DISABLE}")):
            for name in sorted(names - known - {"core", plugin_key(OWN_DISTRIBUTION)}):
                warnings.warn(  # a typo ('xgbost') would otherwise turn nothing off, silently
                    f"{what} names '{name}', but no installed plugin is called that; "
                    f"installed: {', '.join(sorted(p.name for p in self.plugins)) or 'none'}",
                    PluginWarning,
                    stacklevel=2,
                )
        self._collect()

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled by name where an installed registry holds it (its plugin's functions,
        a lambda among them, pickle by value nowhere), else by value."""
        named = registered_as(self)
        return (registered, named) if named else super().__reduce_ex__(protocol)

    # -- loading -----------------------------------------------------------------------

    def _load_entry_points(
        self,
        denied: set[str],
        only: set[str] | None,
        by_env: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        # automl-fin's own plugins first: a third-party entry point that takes one of
        # their names is then the one skipped (by :meth:`_add`, with a warning), whatever
        # order the installed distributions are listed in; the same entry point listed
        # twice (a distribution found on two paths) is loaded once
        points = sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda ep: (
                ep.dist is None or plugin_key(ep.dist.name) != plugin_key(OWN_DISTRIBUTION)
            ),
        )
        seen: set[tuple[str, str, str]] = set()
        for ep in points:
            dist = ep.dist.name if ep.dist is not None else "<unknown>"
            version = ep.dist.version if ep.dist is not None else "0+unknown"
            if (ep.name, dist, ep.value) in seen:
                continue
            seen.add((ep.name, dist, ep.value))
            # (DIST:NAME: the one entry point of a distribution, where another plugin's
            # name clashes with it; DIST alone turned off its every plugin)
            names = {plugin_key(ep.name), plugin_key(dist), plugin_key(f"{dist}:{ep.name}")}
            if names & denied or (only is not None and not names & only):
                how = (  # what turned it off, said where a name of it is missing
                    ENV_DISABLE if names & by_env
                    else "--no-plugin" if names & denied
                    else f"{ENV_NO_AUTOLOAD}, not in {ENV_LOAD}"
                )  # fmt: skip
                self.plugins.append(PluginRecord(ep.name, dist, version, "disabled", how))
                continue
            try:
                with _no_errors_made(ep.name, dist):
                    obj = ep.load()
            except (Exception, SystemExit) as exc:  # sys.exit() at import ended every command
                where = _raised_at(exc, ep.module)
                self._skip(ep.name, dist, version, f"failed to import: {_one_line(exc)}{where}")
                continue
            self._add(obj, Provider(ep.name, dist, version))

    def _add(self, obj: object, provider: Provider) -> None:
        if provider.plugin in self._by_plugin:
            why = (
                f"has the name of {self._by_plugin[provider.plugin]}; rename the entry point "
                f"in {provider.distribution}"
            )
            self._skip(provider.plugin, provider.distribution, provider.version, why,
                       off=f"{provider.distribution}:{provider.plugin}")  # fmt: skip
            return
        if self._pm.is_registered(obj):  # (pluggy's own line listed every plugin loaded)
            why = (
                f"names the object plugin '{self._pm.get_name(obj)}' names: drop one of the "
                f"two entry points in {provider.distribution}"
            )
            self._skip(provider.plugin, provider.distribution, provider.version, why)
            return
        try:
            self._pm.register(obj, name=provider.plugin)
        except (Exception, SystemExit) as exc:  # pluggy's check of hook signatures
            self._skip(provider.plugin, provider.distribution, provider.version, _one_line(exc))
            return
        wrappers = sorted(
            impl.function.__name__
            for caller in self._pm.get_hookcallers(obj) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is obj and (impl.hookwrapper or impl.wrapper)
        )
        if wrappers:
            self._pm.unregister(obj)
            why = (
                f"declares {', '.join(wrappers)} as a hook wrapper; automl_fin's hooks take "
                "plain implementations (drop wrapper=True / hookwrapper=True)"
            )
            self._skip(provider.plugin, provider.distribution, provider.version, why)
            return
        self._by_plugin[provider.plugin] = provider
        self.plugins.append(
            PluginRecord(provider.plugin, provider.distribution, provider.version, "loaded")
        )

    def _drop_unknown_hooks(self) -> None:
        """Unregister (with a warning) every plugin that implements a hook automl_fin
        does not define: a misspelt hook would otherwise be silently never called."""
        while True:
            try:
                self._pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self._pm.get_name(exc.plugin) or ""
                self._pm.unregister(exc.plugin)
                provider = self._by_plugin.pop(name)
                self._mark_failed(provider, _unknown_hook(exc))

    def _skip(self, name: str, dist: str, version: str, why: str, *, off: str = "") -> None:
        """Warn that plugin ``name`` is skipped and why; ``off``: what ``--no-plugin``
        takes to turn it off (its name, or its distribution when another plugin has
        the name)."""
        message = (
            f"plugin '{name}' ({dist} {version}) {why}; skipped, the others still load "
            f"(--no-plugin {off or name} turns it off)"
        )
        warnings.warn(message, PluginWarning, stacklevel=4)
        self.skipped[f"{name} ({dist})" if off else name] = message
        self.plugins.append(PluginRecord(name, dist, version, "failed", why))

    # -- collecting specs ----------------------------------------------------------------

    def _collect(self) -> None:
        adders: dict[str, Callable[[Provider, Any], None]] = {
            "register_preprocessors": self._add_preprocessor,
            "register_models": self._add_model,
            "register_recipes": self._add_recipes,
        }
        staged: dict[str, list[tuple[Callable[[Provider, Any], None], Any]]] = {}
        failed: dict[str, str] = {}
        for hook_name, add in adders.items():
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                plugin = self._pm.get_name(impl.plugin) or ""
                if plugin in failed:
                    continue
                items: list[Any] = []
                try:
                    dist = getattr(self._by_plugin.get(plugin), "distribution", "?")
                    with _no_errors_made(plugin, dist):
                        returned = impl.function(**{arg: items.append for arg in impl.argnames})
                    unsent = _unregistered(returned, items)
                    if unsent:  # specs returned, as other plugin systems take them
                        _warn_returned(self._by_plugin[plugin], hook_name, unsent)
                except (Exception, SystemExit) as exc:  # sys.exit(0): exit 0, nothing said
                    where = _raised_at(exc, impl.function.__module__)
                    failed[plugin] = f"raised in {hook_name}: {_one_line(exc)}{where}"
                    staged.setdefault(plugin, []).extend((add, item) for item in items)
                    continue
                staged.setdefault(plugin, []).extend((add, item) for item in items)
        for plugin, why in failed.items():
            self._mark_failed(self._by_plugin[plugin], why, staged.get(plugin, []))
        for plugin, entries in staged.items():
            if plugin in failed:
                continue
            tables = (self.models, self.preprocessors, self.recipes, self.providers)
            before = [dict(t) for t in tables]
            try:
                for add, item in entries:
                    add(self._by_plugin[plugin], item)
            except PluginError as exc:  # a wrong object or a clashing name: all or nothing
                for table, kept in zip(tables, before, strict=True):
                    table.clear()
                    table.update(kept)
                self._mark_failed(self._by_plugin[plugin], _after_plugin(str(exc)), entries)

    def _mark_failed(
        self, provider: Provider, why: str, entries: Iterable[tuple[Any, Any]] = ()
    ) -> None:
        self.plugins = [p for p in self.plugins if p.name != provider.plugin]
        self._skip(provider.plugin, provider.distribution, provider.version, why)
        for _, item in entries:  # a recipe that names one of them is told why it is missing
            name = getattr(item, "name", None)
            if isinstance(name, str) and name not in self.providers:
                self.skipped_specs[name] = provider.plugin

    def _check_unique(self, name: str, new: Provider, new_kind: str) -> None:
        """Models and preprocessors share one namespace: a trial's parameters are
        prefixed by the spec's name."""
        for kind, table in (("model", self.models), ("preprocessor", self.preprocessors)):
            if name not in table:
                continue
            what = (
                f"duplicate {kind} name '{name}'"
                if kind == new_kind
                else f"{new_kind} name '{name}' is already a {kind}'s (parameters are "
                "prefixed by the name)"
            )
            if self.providers[name] == new:  # one plugin registering one name twice
                raise PluginError(f"{what}: the plugin registers it twice; register each "
                                  "spec once")  # fmt: skip
            raise PluginError(
                f"{what}: provided by {self.providers[name]} and by "
                f"{new}; uninstall one or disable it with --no-plugin NAME "
                f"(or {ENV_DISABLE}=NAME)"
            )

    def _add_model(self, provider: Provider, spec: Any) -> None:
        if not isinstance(spec, ModelSpec):
            raise PluginError(
                f"passed {spec!r} to register_models; expected an automl_fin.ModelSpec"
            )
        self._check_unique(spec.name, provider, "model")
        self.models[spec.name] = spec
        self.providers[spec.name] = provider

    def _add_preprocessor(self, provider: Provider, spec: Any) -> None:
        if not isinstance(spec, PreprocessorSpec):
            raise PluginError(
                f"passed {spec!r} to register_preprocessors; expected an "
                "automl_fin.PreprocessorSpec"
            )
        self._check_unique(spec.name, provider, "preprocessor")
        self.preprocessors[spec.name] = spec
        self.providers[spec.name] = provider

    def _add_recipes(self, provider: Provider, path: Any) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise PluginError(
                f"passed {path!r} to register_recipes; expected the path of a recipe "
                "YAML file or of a folder of them (a str or a pathlib.Path)"
            )
        path = Path(path)
        if not path.is_file() and not path.is_dir():
            raise PluginError(f"registered recipe path {path}, which does not exist")
        entries = [path] if path.is_file() else sorted(path.iterdir(), key=lambda p: p.name)
        for entry in entries:
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            name = entry.name.rsplit(".", 1)[0]
            if name in self.recipes:
                raise PluginError(
                    f"duplicate recipe name '{name}': provided by "
                    f"{self.recipes[name].provider} and by {provider}"
                )
            self.recipes[name] = RecipeSource(name, entry, provider)

    # -- queries -------------------------------------------------------------------------

    def provider(self, name: str) -> Provider:
        """The provider of the model or preprocessor ``name``."""
        return self.providers[name]

    def to_frame(self) -> pd.DataFrame:
        """Every registered spec as a table: kind, name, tasks, inputs, provider, and
        whether it can run here (``installed``: ``yes`` or what to install)."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for spec in self.models.values():
            rows.append(
                {
                    "kind": "model",
                    "name": spec.name,
                    "tasks": ",".join(sorted(spec.tasks)),
                    "inputs": ",".join(sorted(spec.inputs)),
                    **self._provider_cols(spec.name),
                    "installed": _installed(spec),
                    "description": spec.description,
                }
            )
        for pspec in self.preprocessors.values():
            rows.append(
                {
                    "kind": f"preprocessor:{pspec.slot}",
                    "name": pspec.name,
                    "tasks": ",".join(sorted(pspec.tasks)),
                    "inputs": ",".join(sorted(pspec.kinds)),
                    **self._provider_cols(pspec.name),
                    "installed": _installed(pspec),
                    "description": pspec.description,
                }
            )
        return pd.DataFrame(rows)

    def _provider_cols(self, name: str) -> dict[str, str]:
        p = self.providers[name]
        return {"plugin": p.plugin, "distribution": p.distribution, "version": p.version}


def _installed(spec: ModelSpec | PreprocessorSpec) -> str:
    """``yes``, or why the spec cannot run here (its ``available()``)."""
    return unavailable(spec) or "yes"


def _named(objs: Iterable[object]) -> Iterable[tuple[str, object]]:
    for obj in objs:
        yield getattr(obj, "__name__", type(obj).__name__), obj


def _dist_of(obj: object) -> str:
    """The distribution that ships a plugin object's module, or ``<local>``."""
    module = obj.__name__ if inspect.ismodule(obj) else type(obj).__module__
    dists = _distributions_by_module().get(module.split(".")[0], [])
    return dists[0] if dists else "<local>"


@functools.cache
def _distributions_by_module() -> Mapping[str, list[str]]:
    """Top-level module -> distributions, read once a process: the scan opens every
    installed distribution's file list (0.9 s with this project's dependencies)."""
    return metadata.packages_distributions()


def _after_plugin(message: str) -> str:
    """A registration error as the reason a plugin is skipped."""
    return message[0].lower() + message[1:] if message else message


def _unregistered(returned: Any, registered: list[Any]) -> list[Any]:
    """What a hook returned that it did not pass to ``register`` (``return [register(s)
    for s in SPECS]`` returns Nones: nothing left out)."""
    many = isinstance(returned, list | tuple | set | frozenset)
    values = list(returned) if many else [returned]
    return [v for v in values if v is not None and not any(v is r for r in registered)]


def _warn_returned(provider: Provider, hook: str, unsent: list[Any]) -> None:
    """Warn that a hook returned specs it did not register (ignored: specs are passed to
    ``register``; returned, a plugin's models were left out without a word, then
    "unknown model")."""
    names = [str(getattr(v, "name", type(v).__name__)) for v in unsent]
    warnings.warn(
        f"plugin '{provider.plugin}' ({provider.distribution} {provider.version}): {hook} "
        f"returned {', '.join(names)} without registering it, which is ignored; call "
        "register(spec) for each spec instead",
        PluginWarning,
        stacklevel=5,
    )


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _raised_at(exc: BaseException, module: str) -> str:
    """Where in the plugin's own code ``exc`` was raised (`` (at models.py:12: 'depth':
    Int(3, 2),)``): the last frame in the package of ``module`` (its file when a module
    alone); an error of a space such as ``Int: low 3 is above high 2`` named no
    parameter, and an import error no line."""
    try:
        spec = importlib.util.find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return ""
    home = Path(spec.origin).resolve()
    home = home.parent if home.name == "__init__.py" else home
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename).resolve()
        if path == home or (home.is_dir() and path.is_relative_to(home)):
            line = " ".join((frame.line or "").split())
            found = f" (at {path.name}:{frame.lineno}{': ' + line if line else ''})"
    return found


_DEFAULT: dict[tuple[str, ...], Registry] = {}


def registered_as(obj: object) -> tuple[Any, ...] | None:
    """How an installed registry, or a spec one of them holds, is named for pickling
    (:func:`registered`): a search's result holds its problem's specs, whose plugins'
    functions (a lambda) pickle by value nowhere; the unpickling process finds them
    among its own installed plugins. ``None`` for one not held there (a hand-built
    registry's: pickled by value, where it can be)."""
    for key, registry in _DEFAULT.items():
        if obj is registry:
            return (key, "registry", "")
        for kind, table in (("model", registry.models), ("preprocessor", registry.preprocessors)):
            name = getattr(obj, "name", None)
            if isinstance(name, str) and table.get(name) is obj:
                return (key, kind, name)
    return None


def registered(key: tuple[str, ...], kind: str, name: str) -> Any:
    """The installed registry, or the spec ``name`` of ``kind`` in it, that
    :func:`registered_as` named: a search's result unpickled in another process."""
    from automl_fin.errors import ArtifactError

    disable, no_autoload, load = key[:3]
    wanted = {ENV_DISABLE: disable, ENV_NO_AUTOLOAD: no_autoload, ENV_LOAD: load}
    here = {k: os.environ.get(k, "") for k in wanted}
    if here != wanted:  # another deny list here: the specs may differ
        raise ArtifactError(
            f"a search result pickled under {_env_words(wanted)} is unpickled under "
            f"{_env_words(here)}; set the same plugin environment to read it"
        )
    registry = get_registry(key[3:])
    if kind == "registry":
        return registry
    table = registry.models if kind == "model" else registry.preprocessors
    if name not in table:
        raise ArtifactError(
            f"{kind} '{name}' of a pickled search result is not registered here; install "
            "the plugin that provides it (see `automl-fin plugins`)"
        )
    return table[name]


def _env_words(env: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in env.items() if v) or "no plugin variables"


def get_registry(disable: Iterable[str] = ()) -> Registry:
    """The registry of installed plugins, built once per deny list and environment."""
    key = (
        os.environ.get(ENV_DISABLE, ""),
        os.environ.get(ENV_NO_AUTOLOAD, ""),
        os.environ.get(ENV_LOAD, ""),
        *sorted(plugin_key(d) for d in disable),
    )
    if key not in _DEFAULT:
        _DEFAULT[key] = Registry(disable=disable)
    return _DEFAULT[key]


def _unknown_hook(exc: Exception) -> str:
    """Why a plugin implementing a hook automl_fin does not define is skipped: the
    hook's name, the nearest defined one and the hooks there are (not pluggy's message,
    which printed the plugin module's repr, nor a private module to read them in)."""
    import difflib
    import re

    hooks = sorted(n for n in dir(hookspecs) if n.startswith("register_"))
    found = re.search(r"unknown hook '(\w+)'", str(exc))
    if found is None:
        return f"implements a hook automl_fin does not define ({_one_line(exc)})"
    name = found.group(1)
    near = difflib.get_close_matches(name, hooks, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    return (
        f"implements a hook automl_fin does not define, '{name}'{hint}; the hooks are "
        f"{', '.join(hooks)}"
    )
