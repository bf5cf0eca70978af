"""Setting `event.action/category/type/outcome` from the shared vocabulary's defaults, refined per event."""

from __future__ import annotations

from ucsiem.parsing import CATEGORISATION, ParsedEvent


def apply(event: ParsedEvent, action: str, outcome: str | None = None, *, category: tuple[str, ...] | None = None,
          types: tuple[str, ...] | None = None, reason: str | None = None) -> None:
    """Action with its default ECS categorisation; `outcome`/`category`/`types` override the defaults."""
    default = CATEGORISATION[action]
    ev = event["event"]
    ev["action"] = action
    cats = default.category if category is None else category
    if cats:
        ev["category"] = list(cats)
    ev["type"] = list(default.type if types is None else types)
    final = outcome or default.outcome
    if final:
        ev["outcome"] = final
    if reason:
        ev["reason"] = reason


def failed(event: ParsedEvent, action: str, reason: str | None = None) -> None:
    """An authentication-like failure: type start + denied, outcome failure."""
    apply(event, action, "failure", types=("start", "denied"), reason=reason)
