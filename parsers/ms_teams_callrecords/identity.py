"""Who is on each end: identity sets, participant/service endpoints and their user agents.

An endpoint (`participantEndpoint`, `serviceEndpoint`) names its party either with an identity set
(`identity`: `{"user": {...}}`, `{"phone": {...}}`, `{"guest": {...}}`...) or, in newer records, with
`associatedIdentity` (one identity: id, displayName, tenantId, userPrincipalName). Organizers and
participants (`organizer_v2`, `participants_v2`) carry an identity set under `identity`; the deprecated
`organizer`/`participants` are identity sets themselves.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ucsiem.parsing import jsonvalues

# Which member of an identity set names the party, most specific first (communicationsIdentitySet).
IDENTITY_KINDS = (
    "user", "onPremises", "guest", "phone", "assertedIdentity", "applicationInstance", "application",
    "azureCommunicationServicesUser", "acsUser", "spoolUser", "device", "encrypted",
)
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")


class Party(NamedTuple):
    kind: str | None  # the identity set member (user, phone, guest, application...), None if unknown
    id: str | None
    display_name: str | None
    tenant_id: str | None
    upn: str | None

    @property
    def label(self) -> str | None:
        """The party as a person would name it: sign-in name, phone number, display name, id."""
        if self.upn:
            return self.upn
        if self.kind == "phone" and self.id:
            return self.id
        return self.display_name or self.id

    @property
    def number(self) -> str | None:
        """E.164 number of a phone party."""
        if self.kind == "phone" and self.id and _E164.fullmatch(self.id):
            return self.id
        return None


NOBODY = Party(None, None, None, None, None)


def _identity(kind: str | None, ident: dict[str, Any]) -> Party:
    return Party(kind, jsonvalues.text(ident, "id"), jsonvalues.text(ident, "displayName"),
                 jsonvalues.text(ident, "tenantId"),
                 jsonvalues.text(ident, "userPrincipalName"))


def from_identity_set(identity_set: dict[str, Any]) -> Party:
    for kind in IDENTITY_KINDS:
        ident = jsonvalues.sub(identity_set, kind)
        if ident:
            return _identity(kind, ident)
    return NOBODY


def from_endpoint(endpoint: dict[str, Any]) -> Party:
    """The party of a session/segment endpoint (identity set first, then `associatedIdentity`)."""
    party = from_identity_set(jsonvalues.sub(endpoint, "identity"))
    if party is NOBODY and (assoc := jsonvalues.sub(endpoint, "associatedIdentity")):
        party = _identity("user" if jsonvalues.text(assoc, "userPrincipalName") else None, assoc)
    if party is NOBODY and (role := jsonvalues.text(jsonvalues.sub(endpoint, "userAgent"), "role")):
        party = Party("service", None, role, None, None)  # a serviceEndpoint (MCU, bot, gateway) by its role
    return party


def from_participant(participant: dict[str, Any]) -> Party:
    """An `organizer_v2`/`participants_v2` entry (`{"id", "identity": {...}}`) or a bare identity set."""
    if "identity" in participant:
        party = from_identity_set(jsonvalues.sub(participant, "identity"))
        if party is NOBODY and (pid := jsonvalues.text(participant, "id")):
            return Party(None, pid, None, None, None)
        return party
    return from_identity_set(participant)


def user_agent(endpoint: dict[str, Any], prefix: str, vendor: dict[str, Any]) -> str | None:
    """The endpoint's User-Agent header; platform, product family and service role go to `uc.vendor`."""
    agent = jsonvalues.sub(endpoint, "userAgent")
    for key in ("platform", "productFamily", "role", "applicationVersion"):
        if (value := jsonvalues.text(agent, key)) is not None:
            vendor[f"{prefix}.userAgent.{key}"] = value
    return jsonvalues.text(agent, "headerValue")
