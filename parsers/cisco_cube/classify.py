"""IOS messages to a `Kind`: action, category, type and outcome from the shared `CATEGORISATION` table,
refined where the message says more. `body.family` names the reader that read the message, `status` the
result it states in its own words."""

from __future__ import annotations

from collections.abc import Callable

from ucsiem.parsing import Kind, kind

from .body import Body

DIAGNOSTIC = kind("diagnostic")
_REJECT_TYPES = ("connection", "denied")
_SESSION = ("session",)

# SEC_LOGIN mnemonics (QUIET_MODE_ON/OFF by prefix)
LOGIN_SUCCESS = kind("admin-login", "success", add_category=_SESSION)
LOGIN_FAILED = kind("admin-login", "failure", type=("start", "denied"))
QUIET_MODE_ON = kind("flood-block", "success", type=("denied", "start"), add_category=("authentication",))
QUIET_MODE_OFF = kind("flood-block", "success", type=("end",), add_category=("authentication",))
CONFIG_CHANGE = kind("config-change", "success")
LOGOUT = kind("admin-logout", "success", add_category=_SESSION)
SSH_USERAUTH = {outcome: kind("admin-login", outcome, type=("start", "denied") if outcome == "failure" else ("start",))
                for outcome in ("success", "failure", None)}
SSH_SESSION = {outcome: kind("connection", outcome, type=("connection", "start"))
               for outcome in ("success", "failure", None)}
ACL = {"denied": kind("deny-list", "success", type=("denied",)),
       "permitted": kind("connection", "success", type=("connection", "allowed"))}

# VOICE_IEC error texts (lower case)
TOLL_FRAUD = kind("call-reject", type=_REJECT_TYPES, add_category=("intrusion_detection",))
CALL_REJECT = kind("call-reject", type=_REJECT_TYPES)
IEC = {"call spike threshold": kind("flood-block", add_category=_SESSION),
       "low memory": CALL_REJECT, "cpu high": CALL_REJECT}  # calls refused for lack of resources (CAC)
IEC_ERROR = kind("call-end", "failure")
REGISTRATION = {"success": kind("sip-register", "success", type=("protocol", "allowed")),
                "failure": kind("sip-register", "failure", type=("protocol", "denied"))}
REGISTRATION_OTHER = kind("sip-register")
STREAM_FAILURE = kind("service-failure")
STREAM_OTHER = kind("connection", type=("connection", "info"))
LICENSE_LIMIT = kind("license-limit")
# gw-accounting: answered and cleared normally, never answered or abnormal cause, neither known
CALL_END = {"success": kind("call-end", "success"), "failure": kind("call-end", "failure"), None: kind("call-end")}
NORMAL_Q850 = frozenset((16, 31))
FORWARD_FEATURES = frozenset(("CFA", "CFB", "CFNA"))
CALL_REDIRECT = kind("call-redirect")
CALL_UPDATE = kind("call-update")


def classify(body: Body) -> Kind:
    family = FAMILIES.get(body.family)
    return DIAGNOSTIC if family is None else family(body)


def _sec_login(body: Body) -> Kind:
    mnemonic = body.mnemonic
    if mnemonic == "LOGIN_SUCCESS":
        return LOGIN_SUCCESS
    if mnemonic == "LOGIN_FAILED":
        return LOGIN_FAILED
    if mnemonic.startswith("QUIET_MODE_ON"):
        return QUIET_MODE_ON
    if mnemonic.startswith("QUIET_MODE_OFF"):
        return QUIET_MODE_OFF
    return DIAGNOSTIC


def _ssh(body: Body) -> Kind:
    if body.mnemonic == "SSH2_USERAUTH":
        return SSH_USERAUTH[body.status]
    if body.mnemonic == "SSH2_SESSION":
        return SSH_SESSION[body.status]
    if body.mnemonic == "SSH2_CLOSE":
        return LOGOUT
    return DIAGNOSTIC


def _voice_iec(body: Body) -> Kind:
    if body.status is None:
        return DIAGNOSTIC
    if body.toll_fraud:  # the caller's address is not in the trusted list (`ip address trusted list`)
        return TOLL_FRAUD
    return IEC.get(body.status, IEC_ERROR)


def _call_history(body: Body) -> Kind:
    q850 = body.q850
    if body.connect_time is not None and (q850 is None or q850 in NORMAL_Q850):
        return CALL_END["success"]
    return CALL_END["failure" if q850 is not None else None]


FAMILIES: dict[str, Callable[[Body], Kind]] = {
    "sec_login": _sec_login,
    "config": lambda body: CONFIG_CHANGE,
    "logged_command": lambda body: CONFIG_CHANGE,
    "logout": lambda body: LOGOUT,
    "tty_expired": lambda body: LOGOUT,
    "ssh": _ssh,
    "acl": lambda body: ACL.get(body.status or "", DIAGNOSTIC),
    "voice_iec": _voice_iec,
    "sip_registration": lambda body: REGISTRATION.get(body.status or "", REGISTRATION_OTHER),
    "sip_cac": lambda body: CALL_REJECT,
    "stream_service": lambda body: STREAM_FAILURE if body.status == "failure" else STREAM_OTHER,
    "ivr_resource": lambda body: CALL_REJECT if body.status == "rejected" else LICENSE_LIMIT,
    "gatekeeper": lambda body: REGISTRATION["failure"] if body.status == "failure" else REGISTRATION_OTHER,
    "dialpeer_memory": lambda body: LICENSE_LIMIT,
    "call_history": _call_history,
    "feature_history": lambda body: CALL_REDIRECT if (body.status or "").upper() in FORWARD_FEATURES else CALL_UPDATE,
}
