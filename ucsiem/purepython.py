"""UCSIEM_PURE_PYTHON=1: import ucsiem's and the built-in parsers' Python source where compiled extension
modules lie beside it (see setup.py). A path hook gives the folders of those two packages a finder that knows
only source and bytecode files; every other folder (third-party C extensions) keeps the default finders."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_LOADERS = ((importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
            (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES))


def _package_folders() -> tuple[str, ...]:
    folders = [str(Path(__file__).resolve().parent)]
    spec = importlib.util.find_spec("ucsiem_parsers")  # found, not imported
    if spec is not None and spec.submodule_search_locations:
        folders += [str(Path(p).resolve()) for p in spec.submodule_search_locations]
    return tuple(folders)


def prefer_source() -> None:
    """Install the hook for folders not yet searched (called once, by the package's `__init__`)."""
    folders = _package_folders()
    source_finder = importlib.machinery.FileFinder.path_hook(*_LOADERS)

    def inside(path: str) -> bool:
        resolved = str(Path(path).resolve())
        return any(resolved == f or resolved.startswith(f + "/") for f in folders)

    def hook(path: str) -> importlib.abc.PathEntryFinder:
        if not inside(path):
            raise ImportError("not a ucsiem folder")  # the next hook (the default finders) takes it
        return source_finder(path)

    sys.path_hooks.insert(0, hook)
    for path in [p for p in sys.path_importer_cache if inside(p)]:
        del sys.path_importer_cache[path]
