"""Security meaning of one request: Lync/SfB/Exchange web services, IIS status and sub-status codes.

401/403 on a UC web service is a failed sign-in (`user-login`, or `admin-login` on the control panels),
with the reason from the IIS sub-status and the Win32 status. The first legs of a Negotiate/NTLM
handshake are 401s too (401.2, 401.1 with SEC_E_NO_CREDENTIALS, anonymous 401.0): they are kept as
`user-login` with outcome `unknown` and tag `auth_challenge`, so brute-force counts are not inflated by
every normal sign-in. IIS's own IP restrictions (403.6, 403.502, 403.503) are deny-list/flood events.
Everything else is a `diagnostic` web access. Every event of a web server adds the category `web`.
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import Body
from .values import SEC_E_NO_CREDENTIALS, SIGN_IN_SERVICES

_WEB = ("web",)
DENY_LIST = kind("deny-list", "success", add_category=_WEB)
FLOOD_BLOCK = kind("flood-block", "success", add_category=_WEB)
# (admin?) -> the Kind of a challenge and of a failed sign-in
CHALLENGE = {admin: kind("admin-login" if admin else "user-login", "unknown", add_category=_WEB)
             for admin in (False, True)}
_FAILED = {admin: kind("admin-login" if admin else "user-login", "failure", add_category=_WEB,
                       add_type=("denied",)) for admin in (False, True)}
_SIGNED_IN = kind("user-login", "success", add_category=_WEB, add_type=("allowed",))
# any other request is web access, its outcome from the status
_ACCESS = {outcome: kind("diagnostic", outcome, category=_WEB, type=("access",))
           for outcome in (None, "failure", "success")}


def _is_challenge(substatus: int | None, win32: int | None, user: bool) -> bool:
    return substatus == 2 or (substatus == 1 and win32 == SEC_E_NO_CREDENTIALS) or (not substatus and not user)


def classify(body: Body) -> Kind:
    status, substatus, service = body.status, body.substatus, body.service
    if status == 403 and substatus in (6, 503):
        return DENY_LIST
    if status == 403 and substatus == 502:
        return FLOOD_BLOCK
    has_user = body.username is not None
    if service is not None and status in (401, 403):
        if status == 401 and _is_challenge(substatus, body.win32, has_user):
            return CHALLENGE[service[2]]
        return _FAILED[service[2]]
    if service is not None and not service[2] and service[0] in SIGN_IN_SERVICES and status == 200 and has_user:
        return _SIGNED_IN
    return _ACCESS[None if status is None else "failure" if status >= 400 else "success"]
