"""Syslog message families and CDR record types to a `Kind` (category, type, outcome from the shared table)."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import IDS_LOG, SIP_HEADER, START, STOP, CdrBody, SyslogBody

LOGIN_FAILED = kind("admin-login", "failure")
# `user: <u> authenticate`: the attempt; its result is the next line
LOGIN_ATTEMPT = kind("admin-login", "unknown")
LOGINS: dict[str, Kind] = {
    "authenticate_locally": LOGIN_FAILED,
    "authentication failure": LOGIN_FAILED,
    "login authentication failure": LOGIN_FAILED,
    "failed to log in": LOGIN_FAILED,
    "authenticate": LOGIN_ATTEMPT,
}
DEMOTED = kind("deny-list", add_type=("creation",))  # an endpoint put on the deny list
IDS_ALERT = kind("security-alert")  # an IDS_LOG wording not seen in the documentation
SIP_HEADER_LINE = kind("diagnostic", add_category=("network",))
OTHER = kind("diagnostic")

CALL_END = kind("call-end", "success")
CALL_REJECT = kind("call-reject", "failure")
CALL_START = kind("call-start", "success")
CALL_ATTEMPT = kind("call-attempt", "unknown")
CALL_UPDATE = kind("call-update")


def classify(body: SyslogBody) -> Kind:
    found = LOGINS.get(body.family)
    if found is not None:
        return found
    if body.family == IDS_LOG:
        return DEMOTED if body.demoted_to is not None else IDS_ALERT
    if body.family == SIP_HEADER:
        return SIP_HEADER_LINE
    return OTHER


def classify_cdr(body: CdrBody) -> Kind:
    if body.status == STOP:  # connected: a connect time or a session time
        return CALL_END if body.connect_time is not None or body.duration else CALL_REJECT
    if body.status == START:
        return CALL_START if body.connect_time is not None else CALL_ATTEMPT
    return CALL_UPDATE
