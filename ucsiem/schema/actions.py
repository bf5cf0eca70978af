"""The vendor-neutral `event.action` vocabulary shared by every parser.

A parser maps its vendor's event names onto these actions; the vendor's own name goes to
`event.code`. Whether something succeeded is `event.outcome`, never part of the action, so one query
(`event.action:sip-register AND event.outcome:failure`) finds failed registrations on every product.
The table is rendered into `mappings/fields.md`.
"""

from typing import Literal, NamedTuple, get_args

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
    # Users of the service (cloud and client sign-ins, accounts, content)
    "user-login": "A user signed in to a UC client, portal or cloud service (see outcome).",
    "user-logout": "A user signed out or a user session ended.",
    "account-change": "A user account, role, licence assignment or group membership was created, changed or removed.",
    "recording": "A call or meeting recording was started, stopped, made available, downloaded or deleted.",
    "chat-message": "A chat message or file was sent, edited or deleted (metadata only).",
    # System and security
    "alarm-raise": "The appliance raised an alarm.",
    "alarm-clear": "An alarm was lowered or acknowledged.",
    "system-start": "The appliance or a service started or restarted.",
    "system-stop": "The appliance or a service stopped.",
    "tls-handshake": "A TLS negotiation happened (failures carry outcome failure).",
    "certificate": "A certificate or key was loaded, rejected, expiring or expired.",
    "connection": "A transport connection was opened, closed or failed.",
    "service-failure": "Communication with a dependent server (DNS, LDAP, neighbour) failed.",
    "flood-block": "A source was blocked or throttled for flooding (DoS protection).",
    "deny-list": "A source was added to, matched or removed from a deny list (`event.type` says which).",
    "security-alert": "The appliance itself reported a potential attack.",
    "conference-start": "A conference or meeting started.",
    "conference-end": "A conference or meeting ended.",
    "conference-join": "A participant joined a conference.",
    "conference-leave": "A participant left a conference.",
    "license-limit": "A licence, capacity or resource limit (sessions, bandwidth, CPU, memory) was reached.",
    "diagnostic": "Diagnostic or debug detail with no security meaning on its own.",
    # Owned by the pipeline
    "pipeline-error": "The agent could not parse or validate a record; `event.original` holds it.",
}

# The one definition of the outcomes: typing caches `Literal[...] | None` by set equality, so a second
# spelling in another order, imported first, would reorder the generated JSON schema's enum.
EventOutcome = Literal["failure", "success", "unknown"]

EventAction = Literal[
    "sip-register", "sip-unregister", "sip-auth", "sip-message", "sip-message-reject",
    "call-attempt", "call-start", "call-end", "call-reject", "call-redirect", "call-update",
    "route-lookup", "media-start", "media-update", "media-end", "dialog-start", "dialog-end",
    "admin-login", "admin-logout", "config-change", "admin-action",
    "user-login", "user-logout", "account-change", "recording", "chat-message",
    "alarm-raise", "alarm-clear", "system-start", "system-stop", "tls-handshake", "certificate", "connection",
    "service-failure", "flood-block", "deny-list", "security-alert",
    "conference-start", "conference-end", "conference-join", "conference-leave", "license-limit",
    "diagnostic", "pipeline-error",
]

# The Literal is what mypy and pydantic check; the table is what people read. Keep them one list.
if set(get_args(EventAction)) != set(ACTIONS):  # pragma: no cover - import-time guard
    raise RuntimeError("ucsiem.schema.actions: EventAction and ACTIONS disagree")


class Categorisation(NamedTuple):
    """The ECS `event.category`/`event.type` an action gets by default, and its outcome when the log line
    leaves it unsaid. Parsers start from this and refine (`allowed`/`denied`, `user`, `deletion`...)."""

    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None


_NET = ("network",)
_CALL = ("network", "session")
_AUTH = ("authentication",)
_IDS = ("network", "intrusion_detection")
_IAM = ("iam",)

CATEGORISATION: dict[str, Categorisation] = {name: Categorisation(*spec) for name, spec in {
    "sip-register": (_NET, ("protocol",), None),
    "sip-unregister": (_NET, ("protocol",), None),
    "sip-auth": (_AUTH, ("start",), None),
    "sip-message": (_NET, ("protocol",), None),
    "sip-message-reject": (_NET, ("protocol", "denied"), "failure"),
    "call-attempt": (_CALL, ("connection", "start"), None),
    "call-start": (_CALL, ("connection", "start"), "success"),
    "call-end": (_CALL, ("connection", "end"), None),
    "call-reject": (_CALL, ("connection", "denied"), "failure"),
    "call-redirect": (_CALL, ("connection", "info"), None),
    "call-update": (_CALL, ("connection", "info"), None),
    "route-lookup": (_NET, ("info",), None),
    "media-start": (_NET, ("start",), None),
    "media-update": (_NET, ("info",), None),
    "media-end": (_NET, ("end",), None),
    "dialog-start": (_CALL, ("start",), None),
    "dialog-end": (_CALL, ("end",), None),
    "admin-login": (_AUTH, ("start",), None),
    "admin-logout": (_AUTH, ("end",), "success"),
    "config-change": (("configuration",), ("change",), "success"),
    "admin-action": (("configuration",), ("info",), None),
    "user-login": (_AUTH, ("start",), None),
    "user-logout": (_AUTH, ("end",), "success"),
    "account-change": (_IAM, ("user", "change"), "success"),
    "recording": (("file",), ("info",), None),
    "chat-message": (("network",), ("info",), None),
    "alarm-raise": (("host",), ("info",), None),
    "alarm-clear": (("host",), ("info",), None),
    "system-start": (("host",), ("start",), "success"),
    "system-stop": (("host",), ("end",), "success"),
    "tls-handshake": (_NET, ("connection",), None),
    "certificate": (("configuration", "network"), ("info",), None),
    "connection": (_NET, ("connection",), None),
    "service-failure": (_NET, ("connection",), "failure"),
    "flood-block": (_IDS, ("denied",), "success"),
    "deny-list": (_IDS, ("denied",), "success"),
    "security-alert": (("intrusion_detection",), ("info",), None),
    "conference-start": (("session",), ("start",), None),
    "conference-end": (("session",), ("end",), None),
    "conference-join": (("session",), ("start",), None),
    "conference-leave": (("session",), ("end",), None),
    "license-limit": (_NET, ("info",), "failure"),
    "diagnostic": ((), ("info",), None),
    "pipeline-error": ((), ("error",), "failure"),
}.items()}

if set(CATEGORISATION) != set(ACTIONS):  # pragma: no cover - import-time guard
    raise RuntimeError("ucsiem.schema.actions: CATEGORISATION does not cover every action")
