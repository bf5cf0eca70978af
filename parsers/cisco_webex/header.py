"""The envelope of the two document families: a Control Hub audit item and a webhook delivery.

Audit items (`GET /v1/adminAudit/events`, `GET /v1/admin/securityAudit/events`, both the same shape):

    {"id", "actorId", "actorOrgId", "created", "data": {"eventCategory", "eventDescription", ...}}

`created` is when the audited operation happened; an item without a valid one is `bad_timestamp`.

Webhook deliveries: the envelope Webex POSTs to a `targetUrl` plus the changed resource in `data`:

    {"id", "name", "targetUrl", "resource", "event", "filter", "orgId", "createdBy", "appId", "ownedBy",
     "status", "created", "actorId", "data": {...}}

The webhook's `created` is when the *webhook* was registered, not when the event happened, so it is not
read: the event time comes from `data` (body.py). `resource` + `event` select the reader of `data`.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues, parse_iso_time

from .values import put, scalar

MAX_CODE = 128
# Envelope members kept in uc.vendor as Webex typed them (beside `id` as `webhookId`).
_ENVELOPE = ("name", "appId", "ownedBy", "createdBy", "status", "filter")


class AuditHeader(NamedTuple):
    id: str | None  # the audit item's id (uc.vendor.id)
    actor_id: str | None  # user.id
    actor_org_id: str | None  # organization.id: the actor's organisation
    created: datetime  # @timestamp
    data: dict[str, Any]


class WebhookHeader(NamedTuple):
    resource: str  # `meetings`, `telephony_calls`...
    verb: str  # the webhook's `event`: `started`, `created`...
    code: str  # `<resource>.<event>` (event.code)
    actor_id: str | None  # who caused the event (user.id unless the resource says otherwise)
    org_id: str | None  # the organisation the webhook is registered in (organization.id)
    vendor: dict[str, Any]  # the envelope's values kept in uc.vendor (webhookId, name, appId...)
    data: dict[str, Any]  # the changed resource
    received: datetime  # the time the record was read: @timestamp when `data` has no time


def is_webhook(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("resource"), str) and isinstance(doc.get("event"), str)


def is_audit(doc: dict[str, Any]) -> bool:
    data = doc.get("data")
    return isinstance(data, dict) and "resource" not in doc and any(
        key in data for key in ("eventCategory", "eventDescription", "actionText"))


def read_audit_header(doc: dict[str, Any], timezone: tzinfo) -> AuditHeader:
    """The envelope of an item `is_audit` accepted."""
    created = jsonvalues.text(doc, "created")
    if created is None:
        raise ParseError("bad_timestamp", "audit record without \"created\"")
    return AuditHeader(jsonvalues.text(doc, "id"), jsonvalues.text(doc, "actorId"), jsonvalues.text(doc, "actorOrgId"),
                       parse_iso_time(created, timezone), doc["data"])


def read_webhook_header(doc: dict[str, Any], received: datetime) -> WebhookHeader:
    """The envelope of a delivery `is_webhook` accepted."""
    resource = (jsonvalues.text(doc, "resource") or "").strip()
    verb = (jsonvalues.text(doc, "event") or "").strip()
    data = jsonvalues.sub(doc, "data")
    vendor: dict[str, Any] = {}
    put(vendor, "webhookId", jsonvalues.text(doc, "id"))
    for key in _ENVELOPE:
        put(vendor, key, scalar(doc, key))
    # data.orgId of a few resources when the envelope has none
    org_id = jsonvalues.text(doc, "orgId") or jsonvalues.text(data, "orgId")
    return WebhookHeader(resource, verb, f"{resource}.{verb}"[:MAX_CODE], jsonvalues.text(doc, "actorId"), org_id,
                         vendor, data, received)
