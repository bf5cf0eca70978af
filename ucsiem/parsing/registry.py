"""Find parser plugins: built-ins (`ucsiem_parsers`), the `ucsiem.parsers` entry points, extra folders.

A plugin is a module (or package) exporting `PARSER`, a `ParserSpec`. Built-in and folder plugins
must be named like their id. Two plugins with one id stop the agent at start: silently picking one
would make events depend on install order.

Plugin code runs with the agent's rights (root for `ucsiem check` run by hand). Before a folder is
imported, it, everything in it and every folder above it must belong to root or to the agent's user
and be writable by no one else, as sshd (StrictModes) and sudo require of the files they trust; a folder
above may be world-writable only with the sticky bit (/tmp), where others cannot replace what is not
theirs. Symlinks are judged by their target.

After import, every compiled regex a third-party plugin holds (module-level names, tuples, lists, dicts,
as tests/parsers/test_regex_safety.py reads the built-ins) and its multiline first-line pattern go
through regexploit's ReDoS analysis. One that can backtrack catastrophically refuses the plugin: a
single crafted log line would hold a worker for minutes or hours, and a plugin's author can fix it in
minutes. The built-ins are checked by that test instead, not at each start.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import pkgutil
import re
import stat
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from ucsiem.errors import PluginError
from ucsiem.parsing.contract import ParserSpec
from ucsiem.secrets import user_name

ENTRY_POINT_GROUP = "ucsiem.parsers"
# regexploit's measure of overlapping quantifiers: 3 or more means a crafted line of a few KiB takes
# seconds to hours; 1-2 appear in harmless patterns (the same bar as test_regex_safety.py).
MAX_STARRINESS = 2


@dataclass(frozen=True)
class LoadedParser:
    spec: ParserSpec
    origin: str  # where it came from, for messages: "built-in", "entry point x", "/etc/ucsiem/parsers/y"
    folder: Path | None  # plugin folder (golden files live in <folder>/tests)


class ParserRegistry:
    """The plugins by id. Built-ins are imported when first asked for (`get`, `all`): an agent that runs
    one parser does not pay the start-up time of twenty (~0.14 s)."""

    def __init__(self, parsers: dict[str, LoadedParser], builtins: set[str] | None = None) -> None:
        self._parsers = parsers
        self._builtins = set() if builtins is None else builtins  # ids of built-ins not imported yet

    def get(self, parser_id: str) -> LoadedParser:
        if parser_id in self._builtins:
            self._load_builtins([parser_id])
        try:
            return self._parsers[parser_id]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise PluginError(f"unknown parser id {parser_id!r}; known parsers: {known}") from None

    def __contains__(self, parser_id: object) -> bool:
        return parser_id in self._parsers or parser_id in self._builtins

    def __iter__(self) -> Iterator[str]:
        return iter({*self._parsers, *self._builtins})

    def all(self) -> list[LoadedParser]:
        self._load_builtins(list(self._builtins))
        return [self._parsers[k] for k in sorted(self._parsers)]

    def _load_builtins(self, ids: list[str]) -> None:
        """Import these built-ins; PluginError lists every one that fails (they stay unloaded)."""
        problems: list[str] = []
        for parser_id in ids:
            loaded = _builtin(parser_id, problems)
            if loaded is not None:
                self._builtins.discard(parser_id)
                self._parsers[parser_id] = loaded
        _raise_problems(problems)


def load_registry(extra_dirs: list[Path] | None = None, *, entry_point_plugins: bool = True) -> ParserRegistry:
    """Collect every plugin; raise PluginError listing every problem found (not just the first). Built-ins
    are only named here (a built-in's id is its module's name), and imported when used."""
    found: list[LoadedParser] = []
    problems: list[str] = []
    builtins = _builtin_names()
    if entry_point_plugins:
        _entry_points(found, problems)
    for folder in extra_dirs or []:
        _folder_plugins(Path(folder), found, problems)
    by_id: dict[str, LoadedParser] = {}
    for loaded in found:
        other = by_id[loaded.spec.id].origin if loaded.spec.id in by_id else (
            f"built-in parser {loaded.spec.id}" if loaded.spec.id in builtins else None)
        if other is not None:
            problems.append(
                f"duplicate parser id {loaded.spec.id!r}: {other} and {loaded.origin}; "
                "rename one of them or remove it"
            )
            continue
        by_id[loaded.spec.id] = loaded
    _raise_problems(problems)
    return ParserRegistry(by_id, builtins)


def _raise_problems(problems: list[str]) -> None:
    if problems:
        raise PluginError("cannot load parser plugins:\n" + "\n".join(f"  - {p}" for p in problems))


def _spec_of(module: ModuleType, origin: str, problems: list[str]) -> ParserSpec | None:
    spec = getattr(module, "PARSER", None)
    if not isinstance(spec, ParserSpec):
        problems.append(f"{origin}: module {module.__name__} must export PARSER = ParserSpec(...)")
        return None
    return spec


def _named_spec(module: ModuleType, origin: str, folder_name: str, problems: list[str]) -> ParserSpec | None:
    """The module's PARSER, when its id is the name of the plugin's folder (built-ins and folder plugins)."""
    spec = _spec_of(module, origin, problems)
    if spec is not None and spec.id != folder_name:
        problems.append(f"{origin}: PARSER.id is {spec.id!r}, must equal the folder name {folder_name!r}")
        return None
    return spec


def _builtin_names() -> set[str]:
    """The ids of the built-ins (each the name of its module in `ucsiem_parsers`), without importing them."""
    import ucsiem_parsers

    return {info.name for info in pkgutil.iter_modules(ucsiem_parsers.__path__) if not info.name.startswith("_")}


def _builtin(name: str, problems: list[str]) -> LoadedParser | None:
    origin = f"built-in parser {name}"
    try:
        module = importlib.import_module(f"ucsiem_parsers.{name}")
    except Exception as exc:
        problems.append(f"{origin}: import failed: {type(exc).__name__}: {exc}")
        return None
    spec = _named_spec(module, origin, name, problems)
    return LoadedParser(spec, origin, Path(module.__file__ or "").parent) if spec is not None else None


def _entry_points(found: list[LoadedParser], problems: list[str]) -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            problems.append(f"{origin}: import failed: {type(exc).__name__}: {exc}")
            continue
        spec = obj if isinstance(obj, ParserSpec) else _spec_of(obj, origin, problems)
        if spec is not None and not _regex_problems(spec, ep.module, origin, problems):
            module = sys.modules.get(ep.module)
            folder = Path(module.__file__).parent if module is not None and module.__file__ else None
            found.append(LoadedParser(spec, origin, folder))


def load_plugin_folder(folder: Path) -> LoadedParser:
    """One plugin folder (a user's own, or a scaffold); PluginError says what is wrong with it."""
    problems: list[str] = []
    loaded = None
    if _safe_to_import(folder, problems, ancestors=True):
        loaded = _load_folder(folder, problems)
    if loaded is None:
        raise PluginError("; ".join(problems) or f"{folder} is not a parser plugin folder (no __init__.py)")
    return loaded


def _folder_plugins(folder: Path, found: list[LoadedParser], problems: list[str]) -> None:
    if not folder.is_dir():
        problems.append(f"parser directory {folder} does not exist or is not a directory")
        return
    if not _safe_to_import(folder, problems, ancestors=True, contents=False):
        return  # nothing in it is imported: anyone able to write there chooses what would run
    for child in sorted(folder.iterdir()):
        if child.name.startswith(("_", ".")) or not (child / "__init__.py").is_file():
            continue
        if not _safe_to_import(child, problems, ancestors=False):
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
        # The folders' parent package must exist for `from . import x` inside a plugin to work: an empty
        # package made from its own spec and registered as importlib's documented recipe for importing a
        # source file directly does (https://docs.python.org/3/library/importlib.html#importing-programmatically)
        parent = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(_USER_PACKAGE, None, is_package=True))
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
    spec = _named_spec(module, origin, child.name, problems)
    if spec is None:
        return None
    if _regex_problems(spec, name, origin, problems):
        return None
    return LoadedParser(spec, origin, child)


# -- who can change the code: checked before anything is imported -------------------------------------


def _safe_to_import(folder: Path, problems: list[str], *, ancestors: bool, contents: bool = True) -> bool:
    """False (with the reasons in `problems`) when a user other than root and the agent's could change
    the code imported from `folder`: the folder, its contents (`contents`), the folders above (`ancestors`)."""
    found: list[str] = []
    if ancestors:
        above = {*Path(os.path.abspath(folder)).parents, *folder.resolve().parents}
        for parent in sorted(above, key=lambda p: len(p.parts)):
            _judge(parent, found, sticky_ok=True)
    _judge(folder, found, sticky_ok=False)
    if contents:
        for path in _tree(folder):
            _judge(path, found, sticky_ok=False)
    problems.extend(f"{folder}: refused: {p}" for p in found)
    return not found


def _tree(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            yield Path(dirpath) / name


def _judge(path: Path, found: list[str], *, sticky_ok: bool) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        found.append(f"cannot inspect {path}: {exc.strerror}")
        return
    me = os.geteuid()
    if st.st_uid not in (0, me):
        found.append(f"{path} belongs to {user_name(st.st_uid)}, who could change the code the agent runs as "
                     f"{user_name(me)}; chown root {path}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 and not (sticky_ok and stat.S_ISDIR(st.st_mode) and mode & stat.S_ISVTX and mode & 0o002):
        who = "other users" if mode & 0o002 else "its group"
        found.append(f"{path} is writable by {who} (mode {mode:04o}): they could make the agent run their code as "
                     f"{user_name(me)}; chmod go-w {path}")


# -- regexes that backtrack catastrophically ---------------------------------------------------------


def _regex_problems(spec: ParserSpec, module_name: str, origin: str, problems: list[str]) -> bool:
    """True (reasons in `problems`) when the plugin holds a regex a crafted line can make run for hours."""
    patterns: list[tuple[str, str, int]] = []
    for name, module in list(sys.modules.items()):
        if (name == module_name or name.startswith(module_name + ".")) and module is not None:
            patterns += module_patterns(module)
    if spec.framing.first_line_pattern:
        patterns.append(("framing.first_line_pattern", spec.framing.first_line_pattern, 0))
    bad = False
    for where, pattern, flags in sorted(set(patterns)):
        example = catastrophic_example(pattern, flags)
        if example is not None:
            problems.append(f"{origin}: regex {where} = {pattern!r} can backtrack catastrophically (a line such as "
                            f"{example} takes exponential time); rewrite it without nested or overlapping "
                            "quantifiers (README: Writing a parser)")
            bad = True
    return bad


def module_patterns(module: ModuleType) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    for name, value in vars(module).items():
        items: list[object]
        if isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        elif isinstance(value, tuple | list | frozenset | set):
            items = list(value)
        else:
            items = [value]
        for item in items:
            for candidate in item if isinstance(item, tuple) else (item,):
                if isinstance(candidate, re.Pattern):
                    text = candidate.pattern
                    text = text.decode("latin-1") if isinstance(text, bytes) else text
                    found.append((f"{module.__name__}.{name}", text, candidate.flags))
    return found


def catastrophic_example(pattern: str, flags: int) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # regexploit imports sre_parse, deprecated since 3.11
        from regexploit.ast.sre import SreOpParser
        from regexploit.redos import find
    try:
        found = [r for r in find(SreOpParser().parse_sre(pattern, flags)) if r.starriness > MAX_STARRINESS]
    except Exception:  # a construct regexploit cannot model: no verdict, rather than refuse on the analyser's gap
        return None
    return str(found[0].example()) if found else None
