"""Functions written at load time from configuration (rule sets, lookup plans), as `collections.namedtuple`
writes its classes: Python's own operators and inline dict reads instead of a loop over small objects and a
call per step, which is most of what such a loop costs. Only `repr` of configured values and names bound in
`scope` go into the source, so no configured text can become code."""

from __future__ import annotations

from typing import Any


def generated(source: str, scope: dict[str, Any], filename: str, name: str = "match") -> Any:
    """The function `name` that Python `source` defines, its global names from `scope` (and the builtins)."""
    space = dict(scope)
    exec(compile(source, filename, "exec"), space)
    return space[name]
