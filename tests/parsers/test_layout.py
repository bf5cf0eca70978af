"""Every built-in parser has the one layout of parsers/README.md ("One layout"), checked on its source.

header -> body -> classification -> event assembly, in modules of the same names in every folder:
`classify*` functions and `kind(...)` calls only in `classify.py`, `assemble*` functions and `kind_fields`
only in `event.py`, `classify(body) -> Kind` with one argument, no module named after the old roles.
The template of `ucsiem parsers new` passes the same check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ucsiem.scaffold import scaffold

ROOT = Path(__file__).resolve().parents[2]
PARSERS = ROOT / "parsers"
SIPPROXY = ROOT / "ucsiem" / "parsing" / "sipproxy"  # Kamailio's and OpenSIPS' shared code (parse_sip_proxy_line)
FLAVOURS = {"kamailio", "opensips"}
REQUIRED = ("parser", "body", "classify", "event")
OLD_ROLE_NAMES = {"events", "kinds", "actions", "messages", "operations", "record", "draft", "classifier",
                  "assemble", "build"}


def plugin_folders() -> list[Path]:
    return sorted(p for p in PARSERS.iterdir() if (p / "__init__.py").is_file())


def modules(folder: Path) -> dict[str, ast.Module]:
    """Module path (relative, without .py, sub-packages dotted) -> its syntax tree."""
    out = {}
    for path in sorted(folder.rglob("*.py")):
        if "tests" in path.relative_to(folder).parts:
            continue
        name = ".".join(path.relative_to(folder).with_suffix("").parts)
        out[name] = ast.parse(path.read_text(), str(path))
    return out


def layout_problems(folder: Path, *, plugin: bool = True) -> list[str]:
    trees = modules(folder)
    problems = [f"no {need}.py" for need in REQUIRED if need not in trees]
    for name, tree in trees.items():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in OLD_ROLE_NAMES:
            problems.append(f"{name}.py: a role has its own module name (header, body, classify, event)")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("classify") and leaf != "classify":
                    problems.append(f"{name}.py defines {node.name}: classifiers live in classify.py")
                if node.name.startswith("assemble") and leaf != "event":
                    problems.append(f"{name}.py defines {node.name}: event assembly lives in event.py")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "kind" and leaf != "classify":
                    problems.append(f"{name}.py:{node.lineno} calls kind(): Kinds are made in classify.py")
                if node.func.id == "kind_fields" and leaf != "event":
                    problems.append(f"{name}.py:{node.lineno} calls kind_fields(): the event is built in event.py")
            elif isinstance(node, ast.ClassDef) and node.name == "Kind":
                problems.append(f"{name}.py defines its own Kind: use ucsiem.parsing.Kind")
    init = trees.get("__init__")
    if init is not None and plugin:
        assigned = [t.id for n in init.body if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name) and t.id != "__all__"]
        defined = [n.name for n in init.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        if assigned + defined != ["PARSER"]:
            problems.append(f"__init__.py defines {assigned + defined}: only PARSER belongs there")
    classify = trees.get("classify")
    if classify is not None:
        fn = next((n for n in classify.body if isinstance(n, ast.FunctionDef) and n.name == "classify"), None)
        if fn is None:
            problems.append("classify.py has no classify()")
        elif len(fn.args.args) != 1 or fn.args.kwonlyargs or ast.unparse(fn.returns or ast.Constant(None)) != "Kind":
            problems.append(f"classify.py: classify({ast.unparse(fn.args)}) -> "
                            f"{ast.unparse(fn.returns) if fn.returns else '?'}: must be classify(body) -> Kind")
    event = trees.get("event")
    if event is not None and not any(isinstance(n, ast.FunctionDef) and n.name == "assemble" for n in event.body):
        problems.append("event.py has no assemble()")
    return problems


@pytest.mark.parametrize("folder", [p for p in plugin_folders() if p.name not in FLAVOURS], ids=lambda p: p.name)
def test_parser_has_the_one_layout(folder: Path) -> None:
    assert layout_problems(folder) == []


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_sip_proxy_flavours_are_the_shared_code(flavour: str) -> None:
    """Kamailio and OpenSIPS are one parser with two flavours: their folders hold the spec and a call."""
    folder = PARSERS / flavour
    assert set(modules(folder)) == {"__init__", "parser"}
    assert f'parse_sip_proxy_line(record, ctx, "{flavour}")' in (folder / "parser.py").read_text()


def test_the_shared_sip_proxy_code_has_the_one_layout() -> None:
    assert layout_problems(SIPPROXY, plugin=False) == []


def test_the_scaffold_has_the_one_layout(tmp_path: Path) -> None:
    assert layout_problems(scaffold("acme_pbx", tmp_path)) == []


def test_the_check_finds_a_classifier_out_of_place(tmp_path: Path) -> None:
    folder = scaffold("acme_pbx", tmp_path)
    (folder / "kinds.py").write_text("from ucsiem.parsing import kind\n\nX = kind('diagnostic')\n\n\n"
                                     "def classify_x(v: str) -> None:\n    return None\n")
    found = layout_problems(folder)
    assert any("kinds.py: a role" in p for p in found)
    assert any("calls kind()" in p for p in found)
    assert any("defines classify_x" in p for p in found)
