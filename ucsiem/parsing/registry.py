"""Find parser plugins: built-ins (`ucsiem_parsers`), the `ucsiem.parsers` entry points, extra folders.

A plugin is a module (or package) exporting `PARSER`, a `ParserSpec`. Built-in and folder plugins
must be named like their id. Two plugins with one id stop the agent at start: silently picking one
would make events depend on install order.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import types
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from ucsiem.errors import PluginError
from ucsiem.parsing.contract import ParserSpec

ENTRY_POINT_GROUP = "ucsiem.parsers"


@dataclass(frozen=True)
class LoadedParser:
    spec: ParserSpec
    origin: str  # where it came from, for messages: "built-in", "entry point x", "/etc/ucsiem/parsers/y"
    folder: Path | None  # plugin folder (golden files live in <folder>/tests)


class ParserRegistry:
    def __init__(self, parsers: dict[str, LoadedParser]) -> None:
        self._parsers = parsers

    def get(self, parser_id: str) -> LoadedParser:
        try:
            return self._parsers[parser_id]
        except KeyError:
            known = ", ".join(sorted(self._parsers)) or "none"
            raise PluginError(f"unknown parser id {parser_id!r}; known parsers: {known}") from None

    def __contains__(self, parser_id: object) -> bool:
        return parser_id in self._parsers

    def all(self) -> list[LoadedParser]:
        return [self._parsers[k] for k in sorted(self._parsers)]


def load_registry(extra_dirs: list[Path] | None = None, *, entry_point_plugins: bool = True) -> ParserRegistry:
    """Collect every plugin; raise PluginError listing every problem found (not just the first)."""
    found: list[LoadedParser] = []
    problems: list[str] = []
    _builtins(found, problems)
    if entry_point_plugins:
        _entry_points(found, problems)
    for folder in extra_dirs or []:
        _folder_plugins(Path(folder), found, problems)
    by_id: dict[str, LoadedParser] = {}
    for loaded in found:
        if loaded.spec.id in by_id:
            problems.append(
                f"duplicate parser id {loaded.spec.id!r}: {by_id[loaded.spec.id].origin} and {loaded.origin}; "
                "rename one of them or remove it"
            )
            continue
        by_id[loaded.spec.id] = loaded
    if problems:
        raise PluginError("cannot load parser plugins:\n" + "\n".join(f"  - {p}" for p in problems))
    return ParserRegistry(by_id)


def _spec_of(module: ModuleType, origin: str, problems: list[str]) -> ParserSpec | None:
    spec = getattr(module, "PARSER", None)
    if not isinstance(spec, ParserSpec):
        problems.append(f"{origin}: module {module.__name__} must export PARSER = ParserSpec(...)")
        return None
    return spec


def _builtins(found: list[LoadedParser], problems: list[str]) -> None:
    import ucsiem_parsers

    for info in pkgutil.iter_modules(ucsiem_parsers.__path__):
        if info.name.startswith("_"):
            continue
        origin = f"built-in parser {info.name}"
        try:
            module = importlib.import_module(f"ucsiem_parsers.{info.name}")
        except Exception as exc:
            problems.append(f"{origin}: import failed: {type(exc).__name__}: {exc}")
            continue
        spec = _spec_of(module, origin, problems)
        if spec is None:
            continue
        if spec.id != info.name:
            problems.append(f"{origin}: PARSER.id is {spec.id!r}, must equal the folder name {info.name!r}")
            continue
        found.append(LoadedParser(spec, origin, Path(module.__file__ or "").parent))


def _entry_points(found: list[LoadedParser], problems: list[str]) -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            problems.append(f"{origin}: import failed: {type(exc).__name__}: {exc}")
            continue
        spec = obj if isinstance(obj, ParserSpec) else _spec_of(obj, origin, problems)
        if spec is not None:
            module = sys.modules.get(ep.module)
            folder = Path(module.__file__).parent if module is not None and module.__file__ else None
            found.append(LoadedParser(spec, origin, folder))


def load_plugin_folder(folder: Path) -> LoadedParser:
    """One plugin folder (a user's own, or a scaffold); PluginError says what is wrong with it."""
    problems: list[str] = []
    loaded = _load_folder(folder, problems)
    if loaded is None:
        raise PluginError("; ".join(problems) or f"{folder} is not a parser plugin folder (no __init__.py)")
    return loaded


def _folder_plugins(folder: Path, found: list[LoadedParser], problems: list[str]) -> None:
    if not folder.is_dir():
        problems.append(f"parser directory {folder} does not exist or is not a directory")
        return
    for child in sorted(folder.iterdir()):
        if child.name.startswith(("_", ".")) or not (child / "__init__.py").is_file():
            continue
        loaded = _load_folder(child, problems)
        if loaded is not None:
            found.append(loaded)


_USER_PACKAGE = "ucsiem_user_parsers"


def _load_folder(child: Path, problems: list[str]) -> LoadedParser | None:
    init = child / "__init__.py"
    if not init.is_file():
        return None
    origin = str(child)
    name = f"{_USER_PACKAGE}.{child.name}"
    if _USER_PACKAGE not in sys.modules:
        # The folders' parent package must exist for `from . import x` inside a plugin to work.
        parent = types.ModuleType(_USER_PACKAGE)
        parent.__path__ = []
        sys.modules[_USER_PACKAGE] = parent
    try:
        mod_spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(child)])
        if mod_spec is None or mod_spec.loader is None:
            raise ImportError("no loader")
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = module
        mod_spec.loader.exec_module(module)
    except Exception as exc:
        problems.append(f"{origin}: import failed: {type(exc).__name__}: {exc}")
        return None
    spec = _spec_of(module, origin, problems)
    if spec is None:
        return None
    if spec.id != child.name:
        problems.append(f"{origin}: PARSER.id is {spec.id!r}, must equal the folder name {child.name!r}")
        return None
    return LoadedParser(spec, origin, child)
