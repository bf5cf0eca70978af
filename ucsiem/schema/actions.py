"""The vendor-neutral `event.action` vocabulary shared by every parser.

A parser maps its vendor's event names onto these actions; the vendor's own name goes to
`event.code`. Whether something succeeded is `event.outcome`, never part of the action, so one query
(`event.action:sip-register AND event.outcome:failure`) finds failed registrations on every product.
The table is rendered into `mappings/fields.md`.
"""

from typing import Literal, get_args

ACTIONS: dict[str, str] = {
    # Signalling and registration
    "sip-register": "A registration (REGISTER or H.323 RRQ) was requested, accepted or rejected.",
    "sip-unregister": "A registration was removed, expired or refused on refresh.",
    "sip-auth": "A SIP or H.323 request was challenged or failed authentication.",
    "sip-message": "A signalling message was sent or received (network-level trace).",
    "sip-message-reject": "A non-call request (OPTIONS, MESSAGE, SUBSCRIBE...) was refused.",
    # Calls
    "call-attempt": "A call setup was received or attempted (INVITE, SETUP, CDR start).",
    "call-start": "A call was answered or connected.",
    "call-end": "A call ended (BYE, release, CDR end); the cause is in `uc.call.disconnect_cause`.",
    "call-reject": "A call was refused before it was answered (policy, not found, busy, no route).",
    "call-redirect": "A call was diverted, transferred or rerouted.",
    "call-update": "A call in progress changed (bandwidth, media, hold).",
    "route-lookup": "A dial plan or directory search for a destination ran.",
    "media-start": "A media stream started (media report).",
    "media-update": "Interim media quality report.",
    "media-end": "A media stream ended, with its quality figures.",
    "dialog-start": "A non-call SIP dialog started (SUBSCRIBE, REFER...).",
    "dialog-end": "A non-call SIP dialog ended.",
    # Administration
    "admin-login": "An administrator or user logged in to a management interface (see outcome).",
    "admin-logout": "A management session ended.",
    "config-change": "Configuration was changed, added, removed or loaded.",
    "admin-action": "Another management action: reset, software upgrade, file upload, backup, restore.",
    # System and security
    "alarm-raise": "The appliance raised an alarm.",
    "alarm-clear": "An alarm was lowered or acknowledged.",
    "system-start": "The appliance or a service started or restarted.",
    "system-stop": "The appliance or a service stopped.",
    "tls-handshake": "A TLS negotiation happened (failures carry outcome failure).",
    "connection": "A transport connection was opened, closed or failed.",
    "service-failure": "Communication with a dependent server (DNS, LDAP, neighbour) failed.",
    "flood-block": "A source was blocked or throttled for flooding (DoS protection).",
    "deny-list": "A source was added to or matched a deny list.",
    "security-alert": "The appliance itself reported a potential attack.",
    "conference-start": "A conference or meeting started.",
    "conference-end": "A conference or meeting ended.",
    "conference-join": "A participant joined a conference.",
    "conference-leave": "A participant left a conference.",
    "license-limit": "A licence or capacity limit was reached.",
    "diagnostic": "Diagnostic or debug detail with no security meaning on its own.",
    # Owned by the pipeline
    "pipeline-error": "The agent could not parse or validate a record; `event.original` holds it.",
}

EventAction = Literal[
    "sip-register", "sip-unregister", "sip-auth", "sip-message", "sip-message-reject",
    "call-attempt", "call-start", "call-end", "call-reject", "call-redirect", "call-update",
    "route-lookup", "media-start", "media-update", "media-end", "dialog-start", "dialog-end",
    "admin-login", "admin-logout", "config-change", "admin-action",
    "alarm-raise", "alarm-clear", "system-start", "system-stop", "tls-handshake", "connection",
    "service-failure", "flood-block", "deny-list", "security-alert",
    "conference-start", "conference-end", "conference-join", "conference-leave", "license-limit",
    "diagnostic", "pipeline-error",
]

# The Literal is what mypy and pydantic check; the table is what people read. Keep them one list.
if set(get_args(EventAction)) != set(ACTIONS):  # pragma: no cover - import-time guard
    raise RuntimeError("ucsiem.schema.actions: EventAction and ACTIONS disagree")
