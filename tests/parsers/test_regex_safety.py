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
from types import ModuleType

import pytest

import ucsiem.parsing.helpers
import ucsiem.parsing.jsonrecords
import ucsiem.parsing.jsonvalues
import ucsiem.parsing.sipproxy
import ucsiem.parsing.stamps
from ucsiem.parsing.registry import catastrophic_example, module_patterns


def _parser_modules() -> list[ModuleType]:
    package = importlib.import_module("ucsiem_parsers")
    modules = [importlib.import_module(info.name)
               for info in pkgutil.walk_packages(package.__path__, "ucsiem_parsers.")]
    # the code plugins share (ucsiem.parsing's public API): the Kamailio/OpenSIPS parser lives there
    shared = [importlib.import_module(info.name)
              for info in pkgutil.walk_packages(ucsiem.parsing.sipproxy.__path__, "ucsiem.parsing.sipproxy.")]
    return [*modules, *shared, ucsiem.parsing.helpers, ucsiem.parsing.jsonrecords, ucsiem.parsing.jsonvalues,
            ucsiem.parsing.stamps]


# the same scan and the same verdict the agent applies to user plugins at load (ucsiem/parsing/registry.py)
PATTERNS = sorted({found for module in _parser_modules() for found in module_patterns(module)})


def test_the_scan_sees_the_parsers_patterns() -> None:
    # guards the collection itself: a refactor that hides patterns from it must not pass silently
    modules = {where.rsplit(".", 1)[0].split(".")[1] for where, _, _ in PATTERNS if where.startswith("ucsiem_parsers.")}
    assert {"asterisk", "cisco_expressway", "freeswitch", "audiocodes_sbc"} <= modules
    assert any(where.startswith("ucsiem.parsing.sipproxy.") for where, _, _ in PATTERNS)  # kamailio, opensips
    assert len(PATTERNS) > 50


@pytest.mark.parametrize(("where", "pattern", "flags"), PATTERNS, ids=[w for w, _, _ in PATTERNS])
def test_no_catastrophic_backtracking(where: str, pattern: str, flags: int) -> None:
    example = catastrophic_example(pattern, flags)
    assert example is None, f"{where}: {pattern!r} can backtrack catastrophically ({example!r})"


def test_the_check_catches_a_known_bad_pattern() -> None:
    assert catastrophic_example(r"^(\w+\s?)*$", 0) is not None
