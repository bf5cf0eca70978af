"""`event.action` -> ECS kind, category, type and default outcome, for every action of the shared vocabulary.

One table for both products and for every family (module messages and xlog key=value lines), so the same
action is always categorised the same way. Outcome-dependent types: a registration accepted is `allowed`,
refused is `denied`; a removed binding is `end`.
"""

from __future__ import annotations

from typing import get_args

from ucsiem.schema.actions import CATEGORISATION, EventAction

VOCABULARY = frozenset(get_args(EventAction)) - {"pipeline-error"}

# action -> (category, type, default outcome): the schema's table, so every parser agrees
KINDS = CATEGORISATION
_OUTCOME_TYPE = {
    ("sip-register", "success"): "allowed", ("sip-register", "failure"): "denied",
    ("sip-unregister", "success"): "end", ("sip-unregister", "failure"): "denied",
    ("sip-message", "failure"): "denied",
}


def kind_of(action: str, outcome: str | None, is_error: bool) -> tuple[str, list[str], list[str]]:
    """(event.kind, event.category, event.type) of an action with its final outcome."""
    category, types, _ = KINDS[action]
    type_list = list(types)
    extra = _OUTCOME_TYPE.get((action, outcome or ""))
    if extra is not None:
        type_list.append(extra)
    if action == "diagnostic" and is_error:
        type_list = ["error"]
    kind = "alert" if action == "security-alert" else "event"
    return kind, list(category), type_list


def default_outcome(action: str) -> str | None:
    return KINDS[action][2]
