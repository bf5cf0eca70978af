"""The alarm after the header: `%FACILITY-sev-Name:` with its `%[key=value]...` parameters (`kv.py`), or
an audit log line (facility `*AUDITLOG*` or an `EventType` parameter), or an RTMT alert. The parameters
that have a schema field are taken out of the list; what is left is vendor detail."""

from __future__ import annotations

from dataclasses import dataclass, field

from ucsiem.parsing import canonical_ip

from .header import Header
from .kv import canonical_key, scan_rtmt_text, scan_tags
from .values import ADDRESS_KEYS, LOGIN_ALERTS, USER_KEYS

MAX_EMBEDDED = 64


@dataclass(slots=True)
class Body:
    name: str  # the alarm name (MSGNAME)
    severity: int
    provider: str
    code: str  # the alarm name, or the audit EventType
    message: str
    audit: bool = False
    rtmt: bool = False
    event_type: str = ""  # audit EventType
    event_status: str = ""  # audit EventStatus
    details: str = ""  # audit AuditDetails
    alert_name: str = ""  # RTMT AlertName
    complete: bool = True  # False: the tag list was cut
    user: str | None = None
    source_ip: str | None = None
    device_name: str | None = None
    mac: str | None = None
    protocol: str | None = None
    application: str | None = None
    app: str | None = None  # AppID: the process that raised the alarm
    reason: str | None = None
    node: str | None = None  # NodeID
    vendor: dict[str, str] = field(default_factory=dict)  # the parameters with no schema field


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


def read_body(text: str, header: Header) -> Body:
    facility_name, sev_text, name = header.mnemonic.groups()
    pairs, description, complete = scan_tags(text, header.mnemonic.end())
    if not pairs and is_rtmt_alert(name) and (labelled := scan_rtmt_text(description)) is not None:
        pairs, description = labelled, ""
    pop = pairs.pop
    audit = "AUDITLOG" in facility_name or "EventType" in pairs
    body = Body(name, int(sev_text), _provider(facility_name), name, description, audit=audit,
                rtmt=not audit and is_rtmt_alert(name), complete=complete)
    if audit:
        body.event_type = pop("EventType", "")
        body.code = body.event_type or name
    elif body.rtmt:
        body.alert_name = pairs.get("AlertName", "")
        if body.alert_name in LOGIN_ALERTS:  # the login alarm embedded in the detail names the user
            embedded = _embedded_tags(pairs.get("AlertDetail", ""))
            for key in (*USER_KEYS, *ADDRESS_KEYS):
                if key in embedded and key not in pairs:
                    pairs[key] = embedded[key]
    for key in ADDRESS_KEYS:
        if key in pairs and (ip := canonical_ip(pairs[key])) is not None:
            body.source_ip = ip
            del pairs[key]
            break
    for key in USER_KEYS:
        if pairs.get(key):
            body.user = pop(key)
            break
    if pairs.get("DeviceName"):
        body.device_name = pop("DeviceName")
    if pairs.get("MACAddress"):
        body.mac = pop("MACAddress")
    if (protocol := pairs.get("Protocol", "")) and protocol.isalnum():
        body.protocol = pop("Protocol").lower()
    body.app = pop("AppID", "") or None
    body.reason = pop("Reason", "") or None
    if audit:
        body.event_status = pop("EventStatus", "")
        body.details = pop("AuditDetails", "")
        if body.details:
            body.message = body.details
        if resource := pop("ResourceAccessed", ""):
            body.protocol, body.application = None, resource  # the audit line names the interface used
    elif body.rtmt and body.alert_name:
        detail = pairs.get("AlertDetail", "")
        if detail:
            body.message = detail.replace("#012", "\n").strip()
    elif name == "CertExpired" and pairs.get("Message"):
        body.reason = pairs["Message"]
    body.node = pairs.get("NodeID")
    body.vendor = {k: v for k, v in pairs.items() if v}
    return body
