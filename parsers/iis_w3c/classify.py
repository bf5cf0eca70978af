"""Security meaning of one request: Lync/SfB/Exchange web services, IIS status and sub-status codes.

401/403 on a UC web service is a failed sign-in (`user-login`, or `admin-login` on the control panels),
with the reason from the IIS sub-status and the Win32 status. The first legs of a Negotiate/NTLM
handshake are 401s too (401.2, 401.1 with SEC_E_NO_CREDENTIALS, anonymous 401.0): they are kept as
`user-login` with outcome `unknown` and tag `auth_challenge`, so brute-force counts are not inflated by
every normal sign-in. IIS's own IP restrictions (403.6, 403.502, 403.503) are deny-list/flood events.
Everything else is a `diagnostic` web access.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import CATEGORISATION, ParsedEvent

# first path segment (lower case) -> service name as Microsoft spells it
USER_SERVICES = {
    "webticket": "WebTicket", "autodiscover": "Autodiscover", "meet": "Meet", "dialin": "Dialin", "abs": "ABS",
    "certprov": "CertProv", "ucwa": "UCWA", "ews": "EWS", "owa": "OWA",
    "microsoft-server-activesync": "Microsoft-Server-ActiveSync", "lwa": "LWA", "groupexpansion": "GroupExpansion",
    "rgsclients": "RgsClients", "mcx": "MCX", "passiveauth": "PassiveAuth", "reach": "Reach",
}
ADMIN_SERVICES = {"scc": "Scc", "ecp": "ECP"}
# endpoints whose 200 to an authenticated user is a sign-in (token or certificate issued)
SIGN_IN_SERVICES = frozenset({"webticket", "certprov", "passiveauth"})

SUBSTATUS_401 = {
    1: "Logon failed", 2: "Logon failed due to server configuration", 3: "Unauthorized due to ACL on resource",
    4: "Authorization failed by filter", 5: "Authorization failed by ISAPI/CGI application",
    7: "Access denied by URL authorization policy on the Web server",
}
SUBSTATUS_403 = {
    1: "Execute access forbidden", 2: "Read access forbidden", 3: "Write access forbidden", 4: "SSL required",
    5: "SSL 128 required", 6: "IP address rejected", 7: "Client certificate required", 8: "Site access denied",
    12: "Mapper denied access", 13: "Client certificate revoked", 14: "Directory listing denied",
    16: "Client certificate is untrusted or invalid", 17: "Client certificate has expired or is not yet valid",
    18: "Cannot execute requested URL in the current application pool", 20: "Passport logon failed",
    502: "Too many requests from the same client IP; Dynamic IP Restriction limit reached",
    503: "Rejected due to IP address restriction",
}
WIN32 = {
    5: "Access is denied", 1326: "The user name or password is incorrect",
    1327: "Account restrictions are preventing this user from signing in", 1328: "Invalid logon hours",
    1329: "The user is not allowed to log on from this computer", 1330: "The password has expired",
    1331: "The account is disabled", 1793: "The user's account has expired",
    1907: "The user's password must be changed before signing in", 1909: "The account is locked out",
    2148074252: "The logon attempt failed", 2148074254: "No credentials are available in the security package",
}
SEC_E_NO_CREDENTIALS = 2148074254


def service_of(path: str | None) -> tuple[str, str, bool] | None:
    """(segment, service name, is admin) of a UC web service path, None for any other path."""
    if not path or not path.startswith("/"):
        return None
    segment = path[1:].split("/", 1)[0].split("?", 1)[0].lower()
    if segment in USER_SERVICES:
        return segment, USER_SERVICES[segment], False
    if segment in ADMIN_SERVICES:
        return segment, ADMIN_SERVICES[segment], True
    return None


def reason_of(status: int, substatus: int | None, win32: int | None) -> str | None:
    table = SUBSTATUS_401 if status == 401 else SUBSTATUS_403 if status == 403 else {}
    parts = []
    if substatus and substatus in table:
        parts.append(f"{status}.{substatus} {table[substatus]}")
    if win32 and win32 in WIN32:
        parts.append(WIN32[win32])
    return "; ".join(parts) or None


def _set(event: ParsedEvent, action: str, outcome: str | None, types: list[str]) -> None:
    ev: dict[str, Any] = event["event"]
    ev["action"] = action
    ev["category"] = [*CATEGORISATION[action].category, "web"]
    ev["type"] = types
    if outcome is not None:
        ev["outcome"] = outcome


def _is_challenge(substatus: int | None, win32: int | None, user: bool) -> bool:
    return substatus == 2 or (substatus == 1 and win32 == SEC_E_NO_CREDENTIALS) or (not substatus and not user)


def classify(event: ParsedEvent, vendor: dict[str, Any], tags: list[str]) -> None:
    status = event.get("http", {}).get("response", {}).get("status_code")
    substatus = vendor.get("sc-substatus")
    win32 = vendor.get("sc-win32-status")
    code = None if not isinstance(status, int) else (f"{status}.{substatus}" if substatus else str(status))
    if code:
        event["event"]["code"] = code
    path = event.get("url", {}).get("path")
    service = service_of(path)
    if service is not None:
        event.setdefault("network", {})["application"] = service[1]
    if status == 403 and substatus in (6, 503):
        _set(event, "deny-list", "success", ["denied"])
        event["event"]["reason"] = reason_of(403, substatus, None)
        return
    if status == 403 and substatus == 502:
        _set(event, "flood-block", "success", ["denied"])
        event["event"]["reason"] = reason_of(403, substatus, None)
        return
    has_user = "user" in event
    if service is not None and status in (401, 403):
        action = "admin-login" if service[2] else "user-login"
        reason = reason_of(status, substatus if isinstance(substatus, int) else None,
                           win32 if isinstance(win32, int) else None)
        if status == 401 and _is_challenge(substatus if isinstance(substatus, int) else None,
                                           win32 if isinstance(win32, int) else None, has_user):
            _set(event, action, "unknown", ["start"])
            tags.append("auth_challenge")
        else:
            _set(event, action, "failure", ["start", "denied"])
        if reason:
            event["event"]["reason"] = reason
        return
    if service is not None and not service[2] and service[0] in SIGN_IN_SERVICES and status == 200 and has_user:
        _set(event, "user-login", "success", ["start", "allowed"])
        return
    ev = event["event"]
    ev["action"] = "diagnostic"
    ev["category"] = ["web"]
    ev["type"] = ["access"]
    if isinstance(status, int):
        ev["outcome"] = "failure" if status >= 400 else "success"
