"""The modules compiled with mypyc at install (setup.py): what `ucsiem/compiled.json` lists is what is loaded,
built from the source as it is now, and UCSIEM_PURE_PYTHON=1 runs their source instead.

scripts/test.sh runs the suite with the compiled modules (UCSIEM_REQUIRE_COMPILED=1: a build that silently fell
back to pure Python fails here), then the parser and unit tests again with UCSIEM_PURE_PYTHON=1.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import ucsiem
from tests.sourcehelp import is_extension

MANIFEST = Path(ucsiem.__file__).parent / "compiled.json"
PURE = os.environ.get("UCSIEM_PURE_PYTHON") == "1"
# the hot path: a build that compiles anything compiles these
HOT = ("ucsiem.normalize", "ucsiem.parsing.helpers", "ucsiem.enrich.identity", "ucsiem.enrich.phone",
       "ucsiem_parsers.cisco_expressway.parser", "ucsiem_parsers.audiocodes_sbc.parser")


def compiled_modules() -> dict[str, str]:
    """module -> SHA-256 of the source it was compiled from."""
    modules: dict[str, str] = json.loads(MANIFEST.read_text())["modules"]
    return modules


def test_the_manifest_says_what_is_loaded_and_the_source_is_what_was_compiled() -> None:
    modules = compiled_modules()
    if os.environ.get("UCSIEM_REQUIRE_COMPILED") == "1":
        assert set(HOT) <= set(modules), f"not compiled: {sorted(set(HOT) - set(modules))} (is there a C compiler?)"
    if modules:
        assert set(HOT) <= set(modules)
    stale = []
    for name, digest in sorted(modules.items()):
        module = importlib.import_module(name)
        assert is_extension(module) != PURE, f"{name} loaded from {module.__spec__.origin if module.__spec__ else '?'}"
        parent, _, leaf = name.rpartition(".")  # a compiled module's __file__ names the shared library's folder
        source = Path(importlib.import_module(parent).__path__[0]) / f"{leaf}.py"
        if hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            stale.append(name)
    assert not stale, f"compiled from an older source: {stale}; build again (pip install -e .)"
    for name in HOT:  # not compiled: the source, whatever the mode
        if name not in modules:
            assert not is_extension(importlib.import_module(name))


def test_pure_python_mode_imports_the_source() -> None:
    probe = ("import json, sys, importlib.machinery as m; import ucsiem_parsers.cisco_expressway.parser, "
             "ucsiem.normalize, ucsiem.enrich.identity, msgspec._core; print(json.dumps({n: isinstance("
             "sys.modules[n].__loader__, m.ExtensionFileLoader) for n in sys.argv[1:]}))")
    names = ["ucsiem_parsers.cisco_expressway.parser", "ucsiem.normalize", "ucsiem.enrich.identity", "msgspec._core"]
    found = {}
    for pure in ("1", "0"):
        child = subprocess.run([sys.executable, "-c", probe, *names], capture_output=True, text=True, check=False,
                               env={**os.environ, "UCSIEM_PURE_PYTHON": pure})
        assert child.returncode == 0, child.stderr
        found[pure] = json.loads(child.stdout)
    compiled = bool(compiled_modules())
    assert found["1"] == {**dict.fromkeys(names[:3], False), "msgspec._core": True}  # third-party C stays C
    assert found["0"] == {**dict.fromkeys(names[:3], compiled), "msgspec._core": True}
