"""Setting `event.action`/category/type/outcome from the shared vocabulary, refined per event."""

from __future__ import annotations

from ucsiem.parsing import CATEGORISATION, ParsedEvent


def apply(event: ParsedEvent, action: str, outcome: str | None = None, *, types: tuple[str, ...] | None = None,
          extra_categories: tuple[str, ...] = (), reason: str | None = None) -> None:
    """Start from the action's default categorisation (`CATEGORISATION`) and refine it."""
    spec = CATEGORISATION[action]
    ev = event["event"]
    ev["action"] = action
    categories = [*spec.category, *(c for c in extra_categories if c not in spec.category)]
    if categories:
        ev["category"] = categories
    ev["type"] = list(types if types is not None else spec.type)
    final = outcome or spec.outcome
    if final:
        ev["outcome"] = final
    if reason:
        ev["reason"] = reason
