"""What a record is: free-text families and Activity Log wording, older event abbreviations and CDR report
types to a `Kind` (category, type and default outcome from the shared `CATEGORISATION`). Pure."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import (
    ABNORMAL_DISCONNECT,
    PACKET_LOSS,
    RTP_REORDER,
    SIP_FRAGMENT,
    SIP_TRACE,
    Activity,
    Body,
    CdrBody,
    LegacyBody,
)

SIP_MESSAGE = kind("sip-message")
DIAGNOSTIC = kind("diagnostic")
FAMILIES: dict[str, Kind] = {
    SIP_TRACE: SIP_MESSAGE,
    SIP_FRAGMENT: SIP_MESSAGE,
    ABNORMAL_DISCONNECT: kind("call-end", "failure"),
    # the board's periodic counters: a metric
    PACKET_LOSS: kind("diagnostic", add_category=("network",), event_kind="metric"),
    RTP_REORDER: kind("diagnostic", add_category=("network",)),
}

# Activity Log wording -> Kind. The manuals list these activities: parameter changes, table row
# add/remove, CLI commands, file loads, software update, reset, burn, unauthorised page access, login
# and logout, file upload/delete, lock/unlock. First match wins.
CONFIG_CHANGE = kind("config-change")
ROW_CHANGES: dict[str, Kind] = {change: kind("config-change", type=(change,))
                                for change in ("creation", "deletion", "change")}
HOST_CHANGE = kind("admin-action", "success", category=("host",), type=("change",))
ACTIVITY_RULES: tuple[tuple[tuple[str, ...], Kind], ...] = (
    (("unsuccessful login", "unsuccessful user login", "failed login", "login failed", "login failure",
      "invalid login", "authentication failed"), kind("admin-login", "failure")),
    (("successful login", "successful user login", "logged in", "user login"), kind("admin-login", "success")),
    (("logout", "logged out", "log out", "logoff", "session expired", "session timeout"), kind("admin-logout")),
    (("unauthorized", "unauthorised", "not authorized", "access denied"),
     kind("admin-action", "failure", category=("web",), type=("access", "denied"))),
    (("software", "firmware", "reset", "restart", "reboot", "switchover"), HOST_CHANGE),
    (("burn", "configuration file", "ini file", "auxiliary file", "aux file", "configuration package",
      "restore", "load"), CONFIG_CHANGE),  # "load" covers upload
    (("delete", "lock", "backup", "command"), HOST_CHANGE),
)
OTHER_ACTIVITY = kind("admin-action")

# the older abbreviation form: media/DSP error events
LEGACY_EVENT = kind("diagnostic", add_category=("network",), type=("error",))

# CDR report types. TrmReasonCategory values (AudioCodes manuals): for calls that never connected...
FAILED_UNCONNECTED = {"NO_ANSWER", "BUSY", "NO_RESOURCES", "NO_MATCH", "GENERAL_FAILED"}
NORMAL = "NORMAL_CALL_CLEAR"
ABNORMAL = "ABNORMALLY_TERMINATED"
FORWARDED = "FORWARDED"
MEDIA_KINDS: dict[str, Kind] = {
    "MEDIA_START": kind("media-start"), "MEDIA_UPDATE": kind("media-update"), "MEDIA_END": kind("media-end"),
    # the media report names printed by 7.2 manuals
    "UPDATE": kind("media-update"), "END": kind("media-end"),
}
CALL_ATTEMPT = kind("call-attempt", "unknown")
CALL_START = kind("call-start")
DIALOG_START = kind("dialog-start", "unknown")
DIALOG_END = {outcome: kind("dialog-end", outcome) for outcome in ("success", "failure", "unknown")}
CALL_REDIRECT = kind("call-redirect", "success", type=("connection", "end"))
CALL_END_SUCCESS = kind("call-end", "success")
CALL_END_FAILURE = kind("call-end", "failure")
CALL_REJECT = kind("call-reject")


def classify(body: Body) -> Kind:
    """A free-text message by its family (Activity Log by its wording); any other text is a diagnostic."""
    if body.activity is not None:
        return classify_activity(body.activity)
    return FAMILIES.get(body.family, DIAGNOSTIC)


def classify_activity(activity: Activity) -> Kind:
    if activity.changed:
        return CONFIG_CHANGE
    if activity.row_change is not None:
        return ROW_CHANGES[activity.row_change]
    low = activity.text.lower()
    for words, found in ACTIVITY_RULES:
        for word in words:  # loops: `any` of a generator left unfinished throws GeneratorExit into it
            if word in low:
                return found
    return OTHER_ACTIVITY


def classify_legacy(body: LegacyBody) -> Kind:
    """`PL:5`: a media/DSP error event of the abbreviation table (an unknown abbreviation too)."""
    return LEGACY_EVENT


def classify_cdr(body: CdrBody) -> Kind:
    """The report type, and for *_END rows how the call ended (README.md, "Report type -> action")."""
    report, sig = body.report, body.signalling
    if sig is None:
        return MEDIA_KINDS[report]
    if report == "CALL_START":
        return CALL_ATTEMPT
    if report == "CALL_CONNECT":
        return CALL_START
    if report == "DIALOG_START":
        return DIALOG_START
    category, status = sig.category, sig.status
    if report == "DIALOG_END":
        if category == NORMAL or (status is not None and status < 300):
            return DIALOG_END["success"]
        if category in FAILED_UNCONNECTED or category == ABNORMAL or (status is not None and status >= 400):
            return DIALOG_END["failure"]
        return DIALOG_END["unknown"]
    # CALL_END
    if category == FORWARDED:
        return CALL_REDIRECT
    if category == NORMAL or (sig.connected and category != ABNORMAL):
        return CALL_END_SUCCESS
    if not sig.connected and (category in FAILED_UNCONNECTED or (status is not None and status >= 400)):
        return CALL_REJECT
    return CALL_END_FAILURE
