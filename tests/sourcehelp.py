"""Tests that replace a module's function or constant to steer a compiled module's code: compiled callers never
see the replacement (mypyc binds them at build time), so where that module is compiled the test runs again,
whole, on its Python source (UCSIEM_PURE_PYTHON=1) in a child pytest, whose result is the test's."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def is_extension(module: object) -> bool:
    """Loaded from a compiled extension module (not from Python source)."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)


def ran_on_source(request: pytest.FixtureRequest, module: str) -> bool:
    """True when `module` is compiled and the test was run on the source instead (the caller returns then)."""
    if not is_extension(importlib.import_module(module)):
        return False
    child = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
                           capture_output=True, text=True, check=False, cwd=REPO, timeout=600,
                           env={**os.environ, "UCSIEM_PURE_PYTHON": "1"})
    assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
    assert re.search(r"^1 passed in ", child.stdout, re.M), child.stdout[-2000:]  # ran, and was not skipped
    return True
