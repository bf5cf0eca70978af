"""Values of W3C rows: the UC web services, IIS status, sub-status and Win32 texts, and pure converters."""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import canonical_ip

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


def user_of(name: str) -> dict[str, Any]:
    """`DOMAIN\\user` -> name + domain; a UPN or plain name stays whole."""
    domain, sep, user = name.partition("\\")
    if sep and domain and user:
        return {"name": user, "domain": domain}
    return {"name": name}


def first_forwarded(value: str) -> str | None:
    """First address of an `X-Forwarded-For` list (`a,+b` once IIS has encoded the space)."""
    first = value.replace("+", " ").split(",", 1)[0].strip()
    if first.startswith("[") and "]" in first:  # [2001:db8::1]:443
        first = first[1:first.index("]")]
    elif first.count(":") == 1:  # 192.0.2.1:5000
        first = first.split(":", 1)[0]
    return canonical_ip(first)
