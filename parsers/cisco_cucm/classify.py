"""Alarms, RTMT alerts and audit log lines to a `Kind`, from the tables of `values.py` (action, outcome,
categories) and the shared `CATEGORISATION`."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body
from .values import ALARMS, AUDIT_EVENT_TYPES, AUDIT_OUTCOMES

KINDS: dict[str, Kind] = {name: kind(action, outcome, add_category=extra)
                          for name, (action, outcome, extra) in ALARMS.items()}
ALARM_RAISE = kind("alarm-raise")
CERTIFICATE = kind("certificate")
DIAGNOSTIC = kind("diagnostic")

# audit lines: (action, outcome from EventStatus or None for the action's default, the type a
# configuration change's details name or None for the action's default)
AUDIT_ACTIONS = ("admin-login", "config-change", "admin-action", "account-change", *AUDIT_EVENT_TYPES.values())
CHANGE_TYPES = (None, "deletion", "creation", "change")
AUDIT_KINDS: dict[tuple[str, str | None, str | None], Kind] = {
    (action, outcome, change): kind(action, outcome, type=(change,) if change else None)
    for action in AUDIT_ACTIONS for outcome in (None, "success", "failure", "unknown") for change in CHANGE_TYPES
}


def classify(body: Body) -> Kind:
    if body.audit:
        return classify_audit(body)
    if body.rtmt:
        # an RTMT alert named after an alarm with a meaning (AuthenticationFailed, CallProcessingNodeCpuPegging)
        # is that event; other alerts (SyslogSeverityMatchFound, DBChangeNotifyFailure...) are raised alarms
        alert = KINDS.get(body.alert_name)
        return alert if alert is not None and alert.action != "alarm-raise" else ALARM_RAISE
    found = KINDS.get(body.name)
    if found is not None:
        return found
    if body.name.startswith("Cert"):
        return CERTIFICATE
    return ALARM_RAISE if body.severity <= 4 else DIAGNOSTIC  # unknown alarms: warning or worse is raised


def classify_audit(body: Body) -> Kind:
    """EventType -> action (unknown `...Update` types are configuration changes, others administrative
    actions; a `UserRole...` change is an account change), EventStatus -> outcome, the details' last word
    -> the type of a configuration change."""
    event_type = body.event_type
    action = AUDIT_EVENT_TYPES.get(event_type)
    if action is None:
        action = "config-change" if event_type.endswith("Update") else "admin-action"
    if action == "config-change" and event_type.startswith("UserRole"):
        action = "account-change"
    status = body.event_status
    outcome = AUDIT_OUTCOMES.get(status.lower(), "unknown") if status else None
    change = _change_type(body.details) if action == "config-change" and body.details else None
    return AUDIT_KINDS[(action, outcome, change)]


def _change_type(details: str) -> str:
    """`record in table device, with key field name = SEP... deleted` -> deletion."""
    last = details.rstrip(". ").rsplit(" ", 1)[-1].lower()
    if last == "deleted":
        return "deletion"
    if last in ("added", "inserted", "created"):
        return "creation"
    return "change"
