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


class ObjectReads:
    """Source lines that read the objects at some paths of `event` once each, inline: a path's variable holds
    the object there, or None where there is none or it is not an object. Paths shared by several fields
    (`uc.call` for caller and callee) are read once; their parents first."""

    def __init__(self, indent: str = "    ") -> None:
        self.indent = indent
        self.lines: list[str] = []
        self._names: dict[tuple[str, ...], str] = {(): "event"}

    def name(self, path: tuple[str, ...]) -> str:
        """The variable of the object at `path` (its reading added to `lines` the first time)."""
        if path not in self._names:
            above = self.name(path[:-1])
            name = self._names[path] = f"p{len(self._names)}"
            read = f"{above}.get({path[-1]!r})" if len(path) == 1 else \
                f"{above}.get({path[-1]!r}) if {above} is not None else None"
            self.lines.append(f"{self.indent}{name} = {read}")
            self.lines.append(f"{self.indent}if {name}.__class__ is not dict: {name} = None")
        return self._names[path]
