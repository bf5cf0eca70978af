"""Control Hub audit records: admin audit (`/v1/adminAudit/events`) and security audit
(`/v1/admin/securityAudit/events`, user sign-in/sign-out). Both APIs return the same item shape:

    {"id", "actorId", "actorOrgId", "created", "data": {"eventCategory", "eventDescription",
     "actionText", "actorName", "actorEmail", "actorIp", "actorUserAgent", "target*", ...}}

The category decides the action (table in README.md); `eventDescription` is the vendor's event name
(`event.code`); `eventStatus` / `failedReason` / `errorCode` give the outcome of sign-ins and failed
operations. The actor's organisation is `organization.*`, its admin roles `user.roles`, a person the
admin acted on `user.target.*`. Every other scalar of `data` is kept in `uc.vendor` under its own name.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, canonical_ip, jsonvalues, parse_iso_time

from .values import scalar

MAX_LIST = 32
# Read into schema fields, not copied to uc.vendor.
_MAPPED = frozenset(("actorName", "actorEmail", "actorIp", "actorUserAgent", "actionText", "eventDescription",
                     "actorOrgName", "adminRoles"))
# `targetType` values naming a person (the API also writes them `TargetResourceType.PERSON`).
_PERSON_TARGETS = frozenset(("PERSON", "USER", "PEOPLE"))
# Webex fills the target of some admin operations (token revocation) with the acting admin, labelled so.
_ADMIN_PLACEHOLDER = "using admin"

_IAM = ("iam",)
_CONFIG = ("configuration",)
# Categories whose events change people, their roles, licences or identity.
_ACCOUNT_CATEGORIES = frozenset(("USERS", "WEBEX_IDENTITY", "LICENSES", "ROLES", "GROUPS", "PEOPLE",
                                 "USER_MANAGEMENT", "CUSTOMERS", "PARTNER"))
# Categories whose events change settings of the organisation, its services or its devices.
_CONFIG_CATEGORIES = frozenset(("ORG_SETTINGS", "SETTINGS", "USER_SETTINGS", "INTEGRATION", "DEVICES", "PLACES",
                                "WORKSPACES", "LOCATIONS", "MEETINGS", "MESSAGING", "SPACE", "TEAMS",
                                "HYBRID", "WEBEX_CALLING", "CALLING", "CONTACT_CENTER", "COMPLIANCE",
                                "DATA_RETENTION", "ORG", "SECURITY", "DIRSYNC", "SSO"))
# Operations that run something rather than change it (reports, exports, reboots).
_ACTION_WORDS = ("report", "export", "download", "reboot", "restart", "invoke", "upload", "sync was")
_FAILURE_STATUS = frozenset(("FAILURE", "FAILED", "FAIL", "ERROR", "DENIED"))
_ADMIN_CLIENTS = ("admin portal", "control hub")


def is_audit(doc: dict[str, Any]) -> bool:
    data = doc.get("data")
    return isinstance(data, dict) and "resource" not in doc and any(
        key in data for key in ("eventCategory", "eventDescription", "actionText"))


def _category(data: dict[str, Any]) -> str:
    """`LOGINS`; the OpenAPI examples write `EventCategory.LOGINS`."""
    value = (jsonvalues.text(data, "eventCategory") or "").upper()
    return value.removeprefix("EVENTCATEGORY.")


def _outcome(data: dict[str, Any]) -> str | None:
    status = (jsonvalues.text(data, "eventStatus") or "").upper()
    if status == "SUCCESS":
        return "success"
    if status in _FAILURE_STATUS or jsonvalues.text(data, "errorCode") or jsonvalues.text(data, "errorMessage"):
        return "failure"
    if status in ("N/A", "NA", "UNKNOWN"):
        return "unknown"
    return None


def _is_admin(data: dict[str, Any]) -> bool:
    """An administrator's sign-in: the description says so, an admin role is listed, or the client is
    the admin portal. Other sign-ins are users signing in to Webex apps (security audit)."""
    if "admin" in (jsonvalues.text(data, "eventDescription") or "").lower():
        return True
    roles = data.get("adminRoles")
    if isinstance(roles, list) and any(isinstance(r, str) and r != "User" for r in roles):
        return True
    client = (jsonvalues.text(data, "actionClientName") or jsonvalues.text(data, "actorClientName") or "").lower()
    return any(name in client for name in _ADMIN_CLIENTS)


def _change_type(data: dict[str, Any]) -> str:
    words = " ".join(filter(None, (jsonvalues.text(data, "eventDescription"), jsonvalues.text(data, "operationType"),
                                   jsonvalues.text(data, "configOperationType")))).lower()
    if any(w in words for w in ("creat", "added", "add ", "assign")) and "unassign" not in words:
        return "creation"
    if any(w in words for w in ("delet", "remov", "unassign")):
        return "deletion"
    return "change"


def classify(data: dict[str, Any]) -> tuple[str, list[str], list[str], str | None]:
    """(action, category, type, outcome) of one audit record."""
    category = _category(data)
    description = (jsonvalues.text(data, "eventDescription") or "").lower()
    outcome = _outcome(data)
    logout = category == "LOGOUT" or any(w in description for w in ("logout", "log out", "logged out",
                                                                         "sign out", "signed out"))
    if category in ("LOGINS", "LOGIN", "LOGOUT") or (category == "" and ("logged in" in description or logout)):
        admin = _is_admin(data)
        if logout:
            return ("admin-logout" if admin else "user-logout"), ["authentication"], ["end"], outcome or "success"
        # an audit record of a login exists once the login happened, unless its status says otherwise
        return ("admin-login" if admin else "user-login"), ["authentication"], ["start"], outcome or "success"
    if any(w in description for w in _ACTION_WORDS):
        return "admin-action", list(_CONFIG), ["info"], outcome
    change = _change_type(data)
    if category in _ACCOUNT_CATEGORIES:
        return "account-change", list(_IAM), ["user", change], outcome or "success"
    if category in _CONFIG_CATEGORIES:
        return "config-change", list(_CONFIG), [change], outcome or "success"
    return "admin-action", list(_CONFIG), ["info"], outcome


def audit_event(doc: dict[str, Any], ctx: ParseContext) -> ParsedEvent:
    data: dict[str, Any] = doc["data"]
    created = jsonvalues.text(doc, "created")
    if created is None:
        raise ParseError("bad_timestamp", "audit record without \"created\"")
    action, category, type_, outcome = classify(data)
    event: ParsedEvent = {
        "@timestamp": parse_iso_time(created, ctx.timezone),
        "event": {"kind": "event", "action": action, "category": category, "type": type_, "outcome": outcome,
                  "code": jsonvalues.text(data, "eventDescription") or _category(data) or None, "provider": "audit"},
        "message": jsonvalues.text(data, "actionText"),
    }
    if outcome == "failure":
        event["event"]["reason"] = jsonvalues.text(data, "failedReason") or jsonvalues.text(data, "errorMessage")
    email = jsonvalues.text(data, "actorEmail")
    event["user"] = {"name": email or jsonvalues.text(data, "actorName"),
                     "email": email if email and "@" in email else None,
                     "full_name": jsonvalues.text(data, "actorName"), "id": jsonvalues.text(doc, "actorId"),
                     "roles": _roles(data)}
    event["organization"] = {"id": jsonvalues.text(doc, "actorOrgId"), "name": jsonvalues.text(data, "actorOrgName")}
    raw_ip = jsonvalues.text(data, "actorIp")
    if raw_ip:
        ip = canonical_ip(raw_ip)
        event["source"] = {"ip": ip} if ip else {"address": raw_ip}
    agent = jsonvalues.text(data, "actorUserAgent")
    if agent:
        event["user_agent"] = {"original": agent}
    target = _target_person(doc, data)
    if target:
        event["user"]["target"] = target
    event["uc"] = {"vendor": _vendor(doc, data, skip=("targetId", "targetName") if target else ())}
    return event


def _roles(data: dict[str, Any]) -> list[str] | None:
    """`adminRoles` of the actor (`["User", "Full_Admin", "id_full_admin"]`), as Webex names them."""
    raw = data.get("adminRoles")
    if not isinstance(raw, list):
        return None
    return [r.strip()[:128] for r in raw[:MAX_LIST] if isinstance(r, str) and r.strip()] or None


def _target_person(doc: dict[str, Any], data: dict[str, Any]) -> dict[str, Any] | None:
    """The person an admin acted on (`targetType` PERSON), as `user.target`; None for any other target.

    Not a target: the actor's own record (sign-in/out audit items name the actor as target, with the
    organisation's name as `targetName`) and Webex's `Using Admin Id: ...` placeholders.
    """
    kind = (jsonvalues.text(data, "targetType") or "").upper().removeprefix("TARGETRESOURCETYPE.")
    if kind not in _PERSON_TARGETS:
        return None
    target_id, name = jsonvalues.text(data, "targetId"), jsonvalues.text(data, "targetName")
    if target_id is None or target_id == jsonvalues.text(doc, "actorId"):
        return None
    if any(_ADMIN_PLACEHOLDER in (v or "").lower() for v in (target_id, name)):
        return None
    if name in (jsonvalues.text(data, "targetOrgName"), jsonvalues.text(data, "actorOrgName")):
        name = None  # the organisation's name, not the person's
    is_email = name is not None and "@" in name
    return {"id": target_id, "name": name, "email": name if is_email else None,
            "full_name": None if is_email else name}


def _vendor(doc: dict[str, Any], data: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    vendor: dict[str, Any] = {}
    value = jsonvalues.text(doc, "id")
    if value:
        vendor["id"] = value
    for key, raw in data.items():
        if key in _MAPPED or key in skip or not isinstance(key, str) or len(key) > 64:
            continue
        if isinstance(raw, list):
            items = [i.strip() for i in raw[:MAX_LIST] if isinstance(i, str) and i.strip()]
            if items:
                vendor[key] = items
            continue
        kept = scalar(data, key)
        if kept is not None:
            vendor[key] = kept
    return vendor
