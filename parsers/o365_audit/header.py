"""The common schema every audit record shares: CreationTime, Operation, Workload, UserId, UserKey,
OrganizationId, ResultStatus, RecordType and the client address.

A record without Operation or CreationTime is not an audit record. The client address is where the
workload puts it: ClientIP (common schema), ClientIPAddress (Exchange mailbox audit), ActorIpAddress
(Azure AD, whose ClientIP may be null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues

from .clientip import Endpoint, client_endpoint
from .values import code

SHOWN = 80
ADDRESS_FIELDS = ("ClientIP", "ClientIPAddress", "ActorIpAddress")


class Header(NamedTuple):
    time: datetime
    operation: str
    workload: str | None
    user_id: str | None  # a UPN for people (`bob@example.com`), a word for services (`Application`)
    user_key: str | None
    organization_id: str | None  # the tenant
    status: str | None  # ResultStatus
    record_type: int | None
    client: Endpoint | None
    tags: list[str]  # bad_port


def read_header(record: dict[str, Any]) -> Header:
    operation = jsonvalues.text(record, "Operation")
    if operation is None or "CreationTime" not in record:
        keys = ", ".join(list(record)[:6])
        raise ParseError("no_match",
                         f"not an Office 365 audit record, no Operation/CreationTime (keys: {keys[:SHOWN]})")
    when = jsonvalues.utc_time(record, "CreationTime")
    if when is None:
        raise ParseError("bad_timestamp", "CreationTime is empty or not a string")
    client: Endpoint | None = None
    tags: list[str] = []
    for key in ADDRESS_FIELDS:
        if (raw := jsonvalues.text(record, key)) is not None and raw.lower() != "null":
            client = client_endpoint(raw, tags)
            break
    return Header(when, operation[:128], jsonvalues.text(record, "Workload"), jsonvalues.text(record, "UserId"),
                  jsonvalues.text(record, "UserKey"), jsonvalues.text(record, "OrganizationId"),
                  jsonvalues.text(record, "ResultStatus"), code(record, "RecordType"), client, tags)
