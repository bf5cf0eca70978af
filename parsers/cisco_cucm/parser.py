"""CUCM / UC-OS syslog: CiscoLog alarm lines and audit log lines -> events (README.md has the tables).

`header.py` splits the prefix up to the `%FACILITY-sev-Name:` mnemonic, `kv.py` scans the `%[k=v]...`
list, `events.py` names the action; this module maps the parameters onto the schema.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import (
    CATEGORISATION,
    SYSLOG_FACILITIES,
    SYSLOG_SEVERITIES,
    ParseContext,
    ParsedEvent,
    RawRecord,
    canonical_ip,
)

from .events import ALARMS, AUDIT_EVENT_TYPES, Kind, classify
from .header import Header, split_header
from .kv import canonical_key, scan_rtmt_text, scan_tags

# Parameters that name the user, the remote address, the device; the first one present wins.
# (`Login UserID`, `Login IP Address/Hostname`: the AuthenticationFailed alarm's parameters, keys compared
# without blanks)
_USER_KEYS = ("UserID", "UserId", "User", "UserName", "LoginUserID")
_ADDRESS_KEYS = ("ClientAddress", "IPAddress", "IPv4Address", "IPV4Address", "IPv6Address", "IPV6Address",
                 "LoginIPAddress/Hostname")
_LOGIN_ACTIONS = frozenset(("admin-login", "user-login", "sip-auth"))
MAX_EMBEDDED = 64
_AUDIT_OUTCOMES = {"success": "success", "failure": "failure", "failed": "failure"}


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text.rstrip("\r\n")
    header = split_header(text, ctx.timezone, ctx.reference_time)
    facility_name, sev_text, name = header.mnemonic.groups()
    severity = int(sev_text)
    pairs, description, complete = scan_tags(text, header.mnemonic.end())
    if not pairs and is_rtmt_alert(name) and (labelled := scan_rtmt_text(description)) is not None:
        pairs, description = labelled, ""
    return [_event(header, facility_name, severity, name, pairs, description, complete)]


def is_rtmt_alert(name: str) -> bool:
    """`RTMT_ALERT` (UC_RTMT), `RTMT-ERROR-ALERT`/`RTMT-ALERT` (older CCM_RTMT releases)."""
    upper = name.upper()
    return upper.startswith("RTMT") and upper.endswith("ALERT")


def _provider(facility_name: str) -> str:
    """`UC_CALLMANAGER` -> `CALLMANAGER`; the older `CCM_RTMT-RTMT` (facility-sub-facility) -> `RTMT`."""
    if facility_name.startswith("CCM_") and "-" in facility_name:
        return facility_name.rsplit("-", 1)[1]
    return facility_name.removeprefix("UC_")


def _embedded_tags(detail: str) -> dict[str, str]:
    """`[key=value]` pairs inside an alert's detail (the alarm that raised it, embedded with its tags)."""
    found: dict[str, str] = {}
    pos = detail.find("[")
    while pos >= 0 and len(found) < MAX_EMBEDDED:
        close = detail.find("]", pos)
        if close < 0:
            break
        key, sep, value = detail[pos + 1:close].partition("=")
        if sep:
            found.setdefault(canonical_key(key.strip()), value.strip())
        pos = detail.find("[", close)
    return found


def _event(header: Header, facility_name: str, severity: int, name: str, pairs: dict[str, str],
           description: str, complete: bool) -> ParsedEvent:
    pop = pairs.pop
    ev: dict[str, Any] = {"kind": "event", "code": name, "severity": severity,
                          "provider": _provider(facility_name)}
    out: dict[str, Any] = {"@timestamp": header.timestamp, "event": ev}
    tags: list[str] = []
    if not complete:
        tags.append("truncated_tags")
    if header.zone_assumed:
        tags.append("timezone_assumed")

    audit = "AUDITLOG" in facility_name or "EventType" in pairs
    rtmt = not audit and is_rtmt_alert(name)
    if audit:
        kind, audit_type = _audit_kind(pairs, name)
        if audit_type:
            ev["code"] = audit_type
    elif rtmt:
        # an RTMT alert named after an alarm with a meaning (AuthenticationFailed, CallProcessingNodeCpuPegging)
        # is that event; other alerts (SyslogSeverityMatchFound, DBChangeNotifyFailure...) are raised alarms
        alert = ALARMS.get(pairs.get("AlertName", ""))
        kind = alert if alert is not None and alert.action != "alarm-raise" else Kind("alarm-raise")
        if kind.action in _LOGIN_ACTIONS:
            embedded = _embedded_tags(pairs.get("AlertDetail", ""))
            for key in (*_USER_KEYS, *_ADDRESS_KEYS):
                if key in embedded and key not in pairs:
                    pairs[key] = embedded[key]
    else:
        kind = classify(name, severity)
    spec = CATEGORISATION[kind.action]
    outcome = kind.outcome or spec.outcome
    category = [*spec.category, *(c for c in kind.category if c not in spec.category)]
    types = list(spec.type)

    source: dict[str, Any] = {}
    for key in _ADDRESS_KEYS:
        if key in pairs and (ip := canonical_ip(pairs[key])) is not None:
            source["ip"] = ip
            del pairs[key]
            break
    for key in _USER_KEYS:
        if pairs.get(key):
            out["user"] = {"name": pop(key)}
            break
    device: dict[str, Any] = {}
    if pairs.get("DeviceName"):
        device["name"] = pop("DeviceName")
    if pairs.get("MACAddress"):
        device["mac"] = pop("MACAddress")
    if device:
        out["uc"] = {"device": device}
    if (protocol := pairs.get("Protocol", "")) and protocol.isalnum():
        out["network"] = {"protocol": pop("Protocol").lower()}
    if app := pop("AppID", ""):
        out["process"] = {"name": app}
    reason = pop("Reason", "")
    if reason:
        ev["reason"] = reason

    message = description
    if audit:
        outcome = _audit_outcome(pairs, outcome)
        details = pop("AuditDetails", "")
        if details:
            message = details
            if kind.action == "config-change":
                types = _change_type(details)
        if resource := pop("ResourceAccessed", ""):
            out["network"] = {"application": resource}
        if kind.action == "admin-login" and outcome == "failure" and details:
            ev["reason"] = details
    elif rtmt and pairs.get("AlertName"):
        out["rule"] = {"name": pairs["AlertName"]}
        detail = pairs.get("AlertDetail", "")
        if detail:
            message = detail.replace("#012", "\n").strip()
    elif name == "CertExpired" and pairs.get("Message"):
        ev["reason"] = pairs["Message"]

    if outcome:
        ev["outcome"] = outcome
    ev["action"] = kind.action
    if category:
        ev["category"] = category
    ev["type"] = types
    if message:
        out["message"] = message
    if source:
        out["source"] = source

    hostname = header.host or pairs.get("NodeID")
    if hostname:
        out["observer"] = {"hostname": hostname}
    out["log"] = _log(header, severity)
    vendor: dict[str, Any] = {k: v for k, v in pairs.items() if v}
    if header.seq is not None:
        vendor["sequence"] = header.seq
    if vendor:
        out.setdefault("uc", {})["vendor"] = vendor
    if tags:
        out["tags"] = tags
    return out


def _audit_kind(pairs: dict[str, str], name: str) -> tuple[Kind, str]:
    event_type = pairs.pop("EventType", "")
    action = AUDIT_EVENT_TYPES.get(event_type)
    if action is None:
        action = "config-change" if event_type.endswith("Update") else "admin-action"
    if action == "config-change" and event_type.startswith("UserRole"):
        return Kind("account-change"), event_type
    return Kind(action), event_type or name


def _audit_outcome(pairs: dict[str, str], default: str | None) -> str | None:
    status = pairs.pop("EventStatus", "")
    return _AUDIT_OUTCOMES.get(status.lower(), default if not status else "unknown")


def _change_type(details: str) -> list[str]:
    """`record in table device, with key field name = SEP... deleted` -> deletion."""
    last = details.rstrip(". ").rsplit(" ", 1)[-1].lower()
    if last == "deleted":
        return ["deletion"]
    if last in ("added", "inserted", "created"):
        return ["creation"]
    return ["change"]


def _log(header: Header, severity: int) -> dict[str, Any]:
    syslog: dict[str, Any] = {"severity": {"name": SYSLOG_SEVERITIES[severity], "code": severity}}
    facility: tuple[str, int] | None = header.facility
    if header.pri is not None:
        code = header.pri >> 3
        syslog["priority"] = header.pri
        if code < len(SYSLOG_FACILITIES):
            facility = (SYSLOG_FACILITIES[code], code)
    if facility is not None:
        syslog["facility"] = {"name": facility[0], "code": facility[1]}
    if header.host:
        syslog["hostname"] = header.host
    return {"level": SYSLOG_SEVERITIES[severity], "syslog": syslog}
