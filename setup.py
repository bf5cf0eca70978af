"""Map the fixed top-level folders to import packages (pyproject.toml cannot compute this list), and compile
the hot path with mypyc.

./ucsiem -> ucsiem, ./parsers -> ucsiem_parsers (every plugin folder, and its tests/ folder of golden
files as data), ./mappings -> ucsiem_mappings, ./rules -> ucsiem_rules (the UC rule pack's YAML as data).

Compiled (`compiled_sources`): every built-in parser's modules, the parser API's helpers, the normalizer and
the enrichers, which is where a worker spends a line's Python time. mypyc turns the same typed source into C
extension modules placed beside it; the source stays the truth (and runs as it is with
UCSIEM_PURE_PYTHON=1 at run time, see ucsiem/purepython.py). UCSIEM_PURE_PYTHON=1 at install, or no C
compiler, installs pure Python.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup

ROOT = Path(__file__).resolve().parent
# mypyc names a module after its path, so the parsers are compiled from ./build/mypyc-src/ucsiem_parsers, a
# link to ./parsers: their module names are then the installed ones (ucsiem_parsers.<id>.<module>).
STAGE = Path("build") / "mypyc-src"
MANIFEST = Path("ucsiem") / "compiled.json"  # what was compiled, from which source (tests/unit/test_compiled.py)


def compilable(path: Path) -> bool:
    """Not a package's `__init__.py` (plugin discovery reads them), not plugin loading (`registry.py`), not the
    parser contract (`contract.py`: plugins subclass and build its classes, which a compiled class refuses)."""
    return path.name not in ("__init__.py", "registry.py", "contract.py")


def compiled_sources() -> list[Path]:
    parsers = [STAGE / "ucsiem_parsers" / p.relative_to("parsers") for p in sorted(Path("parsers").glob("*/*.py"))]
    core = [*sorted(Path("ucsiem/parsing").glob("*.py")), Path("ucsiem/normalize.py"),
            *(Path("ucsiem/enrich") / f"{name}.py" for name in ("keys", "numbering", "phone", "identity", "geo"))]
    return [p for p in [*core, *parsers] if compilable(p)]


def module_name(path: Path) -> str:
    parts = path.relative_to(STAGE).with_suffix("").parts if path.is_relative_to(STAGE) else path.with_suffix("").parts
    return ".".join(parts)


def extensions() -> list[object]:
    """The mypyc extension modules, and the manifest naming them (empty when nothing is compiled)."""
    if not any(a.startswith(("bdist", "build", "editable", "develop", "install")) for a in sys.argv[1:]):
        return []  # metadata only (egg_info, dist_info)
    modules: dict[str, str] = {}
    exts: list[object] = []
    if os.environ.get("UCSIEM_PURE_PYTHON") != "1":
        if shutil.which(os.environ.get("CC", "cc")) is None:
            print("ucsiem: no C compiler (cc): installing pure Python, slower (see README, Performance)",
                  file=sys.stderr)
        else:
            from mypyc.build import mypycify

            STAGE.mkdir(parents=True, exist_ok=True)
            link = STAGE / "ucsiem_parsers"
            if not link.is_symlink():
                link.symlink_to(Path("../../parsers"))
            sources = compiled_sources()
            config = STAGE / "mypy.ini"
            config.write_text("[mypy]\nexplicit_package_bases = True\nmypy_path = build/mypyc-src\n"
                              "ignore_missing_imports = True\nno_site_packages = True\n")
            exts = mypycify(["--config-file", str(config), *map(str, sources)], opt_level="3", group_name="ucsiem")
            modules = {module_name(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    MANIFEST.write_text(json.dumps({"modules": modules}, indent=1, sort_keys=True) + "\n")
    return exts


os.chdir(ROOT)
parser_packages = ["ucsiem_parsers"] + [
    f"ucsiem_parsers.{name}" for name in find_namespace_packages(where="parsers", exclude=["*__pycache__*"])
]
setup(
    packages=[*find_packages(include=["ucsiem", "ucsiem.*"]), *parser_packages, "ucsiem_mappings",
              "ucsiem_mappings.elasticsearch", "ucsiem_mappings.kibana", "ucsiem_rules", "ucsiem_rules.uc"],
    package_dir={"ucsiem": "ucsiem", "ucsiem_parsers": "parsers", "ucsiem_mappings": "mappings",
                 "ucsiem_rules": "rules"},
    package_data={
        "ucsiem": ["py.typed", "compiled.json"],
        "ucsiem_mappings": ["*.md", "*.json"],
        "ucsiem_rules": ["*.md"],  # uc/*.yml: the "" entry below
        # parser folders: README and golden files (*.log, *.log-expected.json, *-config.yml); rule YAML
        "": ["*.md", "*.log", "*.json", "*.yml", "*.ndjson"],  # and the Kibana saved objects
    },
    ext_modules=extensions(),
)
