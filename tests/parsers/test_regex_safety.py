"""No parser regex can backtrack catastrophically: a static check, independent of machine speed.

Every compiled pattern held by a built-in parser module (module-level names, and those inside tuples,
lists and dicts) goes through regexploit's ReDoS analysis, which finds nested or overlapping
quantifiers (`(a+)+`, `(\\w+\\s?)*$`) that take exponential or high-polynomial time on a crafted line.
The hostile-input tests then show the parsers end on megabyte lines; a hang fails the suite through
its per-test timeout.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest
from regexploit.ast.sre import SreOpParser
from regexploit.redos import find

import ucsiem.parsing.helpers
import ucsiem.parsing.jsonrecords
import ucsiem.parsing.jsonvalues
import ucsiem.parsing.stamps

# regexploit's measure of how many quantifiers overlap: 3 or more means a crafted line of a few KiB
# takes seconds to hours; 1-2 appear in harmless patterns.
MAX_STARRINESS = 2


def _parser_modules() -> list[ModuleType]:
    package = importlib.import_module("ucsiem_parsers")
    modules = [importlib.import_module(info.name)
               for info in pkgutil.walk_packages(package.__path__, "ucsiem_parsers.")]
    return [*modules, ucsiem.parsing.helpers, ucsiem.parsing.jsonrecords, ucsiem.parsing.jsonvalues,
            ucsiem.parsing.stamps]


def _patterns(module: ModuleType) -> list[tuple[str, re.Pattern[str]]]:
    found: list[tuple[str, re.Pattern[str]]] = []
    for name, value in vars(module).items():
        items: list[object]
        if isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        elif isinstance(value, tuple | list | frozenset | set):
            items = list(value)
        else:
            items = [value]
        for item in items:
            candidates = item if isinstance(item, tuple) else (item,)
            found += [(f"{module.__name__}.{name}", p) for p in candidates if isinstance(p, re.Pattern)]
    return found


PATTERNS = sorted({(where, p.pattern, p.flags) for m in _parser_modules() for where, p in _patterns(m)})


def test_the_scan_sees_the_parsers_patterns() -> None:
    # guards the collection itself: a refactor that hides patterns from it must not pass silently
    modules = {where.rsplit(".", 1)[0].split(".")[1] for where, _, _ in PATTERNS if where.startswith("ucsiem_parsers.")}
    assert {"asterisk", "cisco_expressway", "freeswitch", "kamailio", "audiocodes_sbc"} <= modules
    assert len(PATTERNS) > 50


@pytest.mark.parametrize(("where", "pattern", "flags"), PATTERNS, ids=[w for w, _, _ in PATTERNS])
def test_no_catastrophic_backtracking(where: str, pattern: str, flags: int) -> None:
    parsed = SreOpParser().parse_sre(pattern, flags)
    bad = [r for r in find(parsed) if r.starriness > MAX_STARRINESS]
    assert not bad, f"{where}: {pattern!r} can backtrack catastrophically ({bad[0].example()!r})"


def test_the_check_catches_a_known_bad_pattern() -> None:
    assert any(r.starriness > MAX_STARRINESS for r in find(SreOpParser().parse_sre(r"^(\w+\s?)*$", 0)))
