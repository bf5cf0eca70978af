"""Plugins import only `ucsiem.parsing`, and never another plugin (issue 12).

Every module of every built-in plugin (`parsers/<id>/**.py`, its `tests/` left out: golden tests may use
the harness) is read as an AST, without importing it, and fails on:

* an import of `ucsiem.<anything>` other than `ucsiem.parsing` itself (`ucsiem.parsing.helpers`,
  `ucsiem.errors`, `ucsiem.schema.actions`... are internals that may move);
* a name imported from `ucsiem.parsing` that is not in its `__all__`, a `*` import, or a private
  attribute read from a module it exports (`jsonvalues._MAX_TEXT`);
* an import of another plugin: `ucsiem_parsers.<other>`, `parsers.<other>`, or a relative import that
  climbs out of the plugin's own package;
* `importlib.import_module` / `__import__`, which would hide an import from this check.

What two plugins share belongs in `ucsiem.parsing` (as the Kamailio/OpenSIPS code does:
`ucsiem.parsing.sipproxy`). The template of `ucsiem parsers new` passes the same check.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

import ucsiem.parsing
from ucsiem.scaffold import scaffold

PARSERS = Path(__file__).resolve().parents[2] / "parsers"
PUBLIC = frozenset(ucsiem.parsing.__all__)
PUBLIC_MODULES = {name for name in PUBLIC if isinstance(getattr(ucsiem.parsing, name), types.ModuleType)}
PLUGIN_PACKAGES = ("ucsiem_parsers", "parsers")


def _plugin_modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "tests" not in p.relative_to(folder).parts)


def _package_parts(folder: Path, module: Path) -> list[str]:
    """The package a module sits in, relative to the plugin's parent: [id] or [id, sub, ...]."""
    rel = module.relative_to(folder.parent)
    return list(rel.parent.parts)


def _check_absolute(name: str, own: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "ucsiem" and parts[:2] != ["ucsiem", "parsing"]:
        return f"imports {name}: plugins import only from ucsiem.parsing"
    if parts[:2] == ["ucsiem", "parsing"] and len(parts) > 2:
        return f"imports {name}: import from ucsiem.parsing itself, not its modules"
    if parts[0] in PLUGIN_PACKAGES and len(parts) > 1 and parts[1] != own:
        return f"imports {name}: a plugin never imports another plugin (share code through ucsiem.parsing)"
    return None


def import_problems(folder: Path) -> list[str]:
    """Every forbidden import in the plugin package `folder`, as `path:line: what`."""
    own = folder.name
    problems: list[str] = []
    for path in _plugin_modules(folder):
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(folder.parent)
        exported_modules: set[str] = set()  # local names bound to modules of ucsiem.parsing
        for node in ast.walk(tree):
            found: list[str] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    problem = _check_absolute(alias.name, own)
                    if problem:
                        found.append(problem)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    if node.level > len(_package_parts(folder, path)):
                        found.append(f"relative import {'.' * node.level}{module} leaves the plugin package")
                elif module == "ucsiem":
                    found.extend(f"imports ucsiem.{a.name}: plugins import only from ucsiem.parsing"
                                 for a in node.names if a.name != "parsing")
                elif module in PLUGIN_PACKAGES:
                    found.extend(f"imports {module}.{a.name}: a plugin never imports another plugin"
                                 for a in node.names if a.name != own)
                elif module == "ucsiem.parsing":
                    for alias in node.names:
                        if alias.name == "*":
                            found.append("`from ucsiem.parsing import *`: name what you use")
                        elif alias.name not in PUBLIC:
                            found.append(f"imports {alias.name} from ucsiem.parsing, which is not in its __all__")
                        elif alias.name in PUBLIC_MODULES:
                            exported_modules.add(alias.asname or alias.name)
                else:
                    problem = _check_absolute(module, own)
                    if problem:
                        found.append(problem)
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name in ("import_module", "__import__"):
                    found.append(f"{name}(): a dynamic import hides what the plugin depends on")
            problems.extend(f"{where}:{getattr(node, 'lineno', 0)}: {what}" for what in found)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in exported_modules and node.attr.startswith("_")):
                problems.append(f"{where}:{node.lineno}: reads {node.value.id}.{node.attr}, a private name")
    return problems


PLUGINS = sorted(p for p in PARSERS.iterdir() if (p / "__init__.py").is_file())


def test_every_plugin_is_checked() -> None:
    assert len(PLUGINS) >= 21
    assert {"kamailio", "opensips", "cisco_expressway", "zoom"} <= {p.name for p in PLUGINS}


@pytest.mark.parametrize("folder", PLUGINS, ids=[p.name for p in PLUGINS])
def test_plugin_imports_only_the_public_api(folder: Path) -> None:
    problems = import_problems(folder)
    assert not problems, "\n".join(problems)


def test_the_scaffold_imports_only_the_public_api(tmp_path: Path) -> None:
    folder = scaffold("acme_pbx", tmp_path)
    assert _plugin_modules(folder)
    problems = import_problems(folder)
    assert not problems, "\n".join(problems)


def test_public_api_names_exist() -> None:
    missing = [name for name in ucsiem.parsing.__all__ if not hasattr(ucsiem.parsing, name)]
    assert not missing
    assert {"jsonvalues", "stamps"} <= PUBLIC_MODULES


def test_the_check_catches_what_it_should(tmp_path: Path) -> None:
    folder = tmp_path / "bad_plugin"
    (folder / "sub").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "import ucsiem.errors\n"
        "from ucsiem.errors import ParseError\n"
        "from ucsiem import schema\n"
        "from ucsiem.parsing.helpers import prune\n"
        "from ucsiem.parsing import ParserSpec, load_registry\n"
        "from ucsiem.parsing import *\n"
        "from ucsiem_parsers.kamailio.parser import parse\n"
        "from ucsiem_parsers import opensips\n"
        "import parsers.zoom\n"
        "from .. import other_plugin\n"
        "from .sub import fine\n"
        "from ucsiem.parsing import jsonvalues\n"
        "x = jsonvalues._MAX_STAMP\n"
        "import importlib\n"
        "m = importlib.import_module('ucsiem_parsers.zoom')\n"
    )
    (folder / "sub" / "fine.py").write_text(
        "from .. import parser\n"
        "from ..x import y\n"
        "from ... import escape\n"
        "from ucsiem.parsing import ParseError, jsonvalues\n"
        "from ucsiem_parsers.bad_plugin import sub\n"
    )
    (folder / "tests").mkdir()
    (folder / "tests" / "test_it.py").write_text("from ucsiem.goldens import check_case\n")
    problems = import_problems(folder)
    lines = sorted(int(p.split(":")[1]) for p in problems if p.startswith("bad_plugin/__init__.py"))
    assert lines == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15], problems
    sub = [p for p in problems if p.startswith("bad_plugin/sub/")]
    assert len(sub) == 1 and sub[0].startswith("bad_plugin/sub/fine.py:3:"), sub
