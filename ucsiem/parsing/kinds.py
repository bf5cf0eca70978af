"""What a record is: the `Kind` every parser's classifier returns, built from the shared `CATEGORISATION`.

A classifier maps the vendor's own event names and codes to a `Kind` (usually from a table of constants
made with `kind(...)` at import time), and the event assembler copies it into `event.*` with
`kind_fields`. Taking category, type and the default outcome from `CATEGORISATION[action]` and only
naming what a product says beyond it (`add_type=("denied",)`) keeps every parser agreeing on what
`sip-register` or `admin-login` means; an explicit `category=`/`type=` replaces the table's value where a
product's event really is something else, and says so where it is written.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ucsiem.schema.actions import CATEGORISATION


class Kind(NamedTuple):
    """The ECS classification of one event: `event.action`, `.category`, `.type`, `.outcome`, `.kind`."""

    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None = None
    kind: str = "event"


def kind(action: str, outcome: str | None = None, *, category: tuple[str, ...] | None = None,
         type: tuple[str, ...] | None = None, add_category: tuple[str, ...] = (),
         add_type: tuple[str, ...] = (), event_kind: str = "event") -> Kind:
    """The `Kind` of `action` from the shared table: its category, type and default outcome, with `outcome`
    (when given) instead of the default, `category`/`type` (when given) instead of the table's, and
    `add_category`/`add_type` appended (each value once). An action outside the vocabulary is a KeyError at
    import time of the plugin, where the table of kinds is built."""
    if action not in CATEGORISATION:
        raise KeyError(f"{action!r} is not an action of the shared vocabulary (ucsiem.parsing.ACTIONS)")
    base = CATEGORISATION[action]
    categories = _once((*(base.category if category is None else category), *add_category))
    types = _once((*(base.type if type is None else type), *add_type))
    return Kind(action, categories, types, base.outcome if outcome is None else outcome, event_kind)


def kind_fields(found: Kind) -> dict[str, Any]:
    """The `event` members a `Kind` sets (lists, as the schema has). What it does not say is left out, as
    `prune` would leave it: the outcome when unknown, category and type when empty (a diagnostic)."""
    fields: dict[str, Any] = {"kind": found.kind, "action": found.action}
    if found.category:
        fields["category"] = list(found.category)
    if found.type:
        fields["type"] = list(found.type)
    if found.outcome is not None:
        fields["outcome"] = found.outcome
    return fields


def _once(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
