"""Set `event.action/category/type/outcome` from the shared vocabulary, refined per outcome."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import CATEGORISATION, ParsedEvent

# outcome-dependent ECS types (a refused join is `denied`, an accepted login `allowed`...)
_EXTRA_TYPE = {
    ("user-login", "failure"): "denied",
    ("conference-join", "failure"): "denied",
    ("tls-handshake", "failure"): "error",
    ("certificate", "failure"): "error",
}


def classify(event: ParsedEvent, action: str, outcome: str | None = None, *, code: str | None = None,
             reason: str | None = None, types: tuple[str, ...] | None = None) -> None:
    """Start from `CATEGORISATION[action]`; an explicit `outcome` wins over the default one."""
    default = CATEGORISATION[action]
    ev: dict[str, Any] = event["event"]
    ev["action"] = action
    if default.category:
        ev["category"] = list(default.category)
    type_list = list(types if types is not None else default.type)
    final = outcome if outcome is not None else default.outcome
    extra = _EXTRA_TYPE.get((action, final or ""))
    if extra is not None and extra not in type_list:
        type_list.append(extra)
    ev["type"] = type_list
    if final is not None:
        ev["outcome"] = final
    if code:
        ev["code"] = code
    if reason:
        ev["reason"] = reason


def split_jid(jid: str) -> tuple[str | None, str | None, str | None]:
    """`node@domain/resource` -> (node, domain, resource); a missing part is None."""
    bare, _, resource = jid.partition("/")
    node, at, domain = bare.partition("@")
    if not at:
        node, domain = "", node
    return (node or None), (domain or None), (resource or None)
