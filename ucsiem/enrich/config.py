"""Configuration of the enrichment stage (`enrich:` in the agent's config file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# Identity fields a source fills (see ucsiem.enrich.identity.Identity); lists take every value found.
IDENTITY_SCALARS = ("name", "email", "full_name", "id", "domain", "department", "title", "manager", "site",
                    "sip_uri", "extension")
IDENTITY_LISTS = ("roles", "groups", "phone_numbers", "ips", "macs")
IDENTITY_FIELDS = IDENTITY_SCALARS + IDENTITY_LISTS

# Active Directory with Skype for Business / Teams attributes: what most UC shops have.
DEFAULT_LDAP_ATTRIBUTES: dict[str, list[str]] = {
    "name": ["sAMAccountName", "uid"],
    "email": ["mail"],
    "full_name": ["displayName", "cn"],
    "id": ["objectGUID", "entryUUID"],
    "department": ["department"],
    "title": ["title"],
    "manager": ["manager"],
    "site": ["physicalDeliveryOfficeName", "l"],
    "sip_uri": ["msRTCSIP-PrimaryUserAddress"],
    "extension": ["ipPhone"],
    "phone_numbers": ["telephoneNumber", "mobile", "ipPhone", "msRTCSIP-Line", "homePhone", "otherTelephone"],
    "groups": ["memberOf"],
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_fields(mapping: dict[str, list[str]]) -> dict[str, list[str]]:
    unknown = sorted(set(mapping) - set(IDENTITY_FIELDS))
    if unknown:
        raise ValueError(f"unknown identity field(s) {unknown}; known: {list(IDENTITY_FIELDS)}")
    return mapping


class FileSourceConfig(Strict):
    """A CSV file (first row: column names) or a JSON file (an array of objects, or one object per line)."""

    type: Literal["csv", "json"] = Field(
        description="Source kind: a csv file (first row: column names), a json file, or ldap.")
    id: str | None = Field(None, description="Name in logs and counters (default: the file name).")
    path: Path = Field(description="The file, read again at every refresh.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Identity field -> column/key names to read it from (default: the identity field's own name).")

    _check_fields = field_validator("fields")(classmethod(lambda cls, v: _known_fields(v)))

    def name(self) -> str:
        return self.id or self.path.name


class LdapTlsConfig(Strict):
    ca_file: Path | None = Field(None, description="PEM CA bundle to trust (replaces the system store).")
    check_hostname: bool = Field(True, description="Check the server certificate names the host of url.")


class LdapSourceConfig(Strict):
    """LDAP or Active Directory, read whole (paged search) at every refresh."""

    type: Literal["ldap"] = Field(description="An LDAP directory or Active Directory.")
    id: str | None = Field(None, description="Name in logs and counters (default: the URL's host).")
    url: str = Field(pattern=r"^ldaps?://", description="ldap://host[:port] or ldaps://host[:port].")
    start_tls: bool = Field(False, description="Upgrade ldap:// with StartTLS before binding.")
    bind_dn: str | None = Field(None, description="DN (or user@domain for AD) to bind as; none: anonymous.")
    password_file: Path | None = Field(None, description="File holding the bind password (or credential:NAME).")
    base_dn: str = Field(description="Where the search starts (e.g. OU=Staff,DC=example,DC=com).")
    filter: str = Field("(objectClass=person)", description="Which entries are identities.")
    attributes: dict[str, list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_LDAP_ATTRIBUTES),
        description="Identity field -> LDAP attributes to read it from (default: AD with Skype/Teams attributes).")
    page_size: int = Field(500, ge=1, le=100_000, description="Entries per page of the paged search.")
    timeout_secs: float = Field(30.0, gt=0, description="Connect and per-request timeout.")
    tls: LdapTlsConfig = Field(default_factory=LdapTlsConfig, description="Trust for ldaps:// and StartTLS.")
    allow_insecure: bool = Field(False, description="Accept a bind password over ldap:// without StartTLS.")

    _check_attributes = field_validator("attributes")(classmethod(lambda cls, v: _known_fields(v)))

    @model_validator(mode="after")
    def _safe(self) -> LdapSourceConfig:
        if self.bind_dn is not None and self.password_file is None:
            raise ValueError("bind_dn needs password_file")
        cleartext = self.url.startswith("ldap://") and not self.start_tls
        if cleartext and self.password_file is not None and not self.allow_insecure:
            raise ValueError("a bind password over ldap:// without start_tls goes in cleartext: use ldaps:// or "
                             "start_tls: true (or allow_insecure: true to accept it)")
        return self

    def name(self) -> str:
        return self.id or self.url.split("://", 1)[1].split("/", 1)[0]


IdentitySourceConfig = Annotated[FileSourceConfig | LdapSourceConfig, Field(discriminator="type")]

# Event fields whose value is looked up, and where the identity found is written. The E.164 numbers come
# first for their party: exact, and cheap (the phone enricher has already normalised them).
DEFAULT_IDENTITY_LOOKUPS: dict[str, str] = {
    "user.name": "user",
    "user.email": "user",
    "user.target.name": "user.target",
    "uc.call.caller_number": "source.user",
    "uc.call.callee_number": "destination.user",
    "source.user.name": "source.user",
    "destination.user.name": "destination.user",
    "uc.call.caller": "source.user",
    "uc.call.callee": "destination.user",
    "uc.sip.from_uri": "source.user",
    "uc.sip.to_uri": "destination.user",
    "uc.registration.aor": "user",
    "source.ip": "source.user",
}


class IdentityConfig(Strict):
    sources: list[IdentitySourceConfig] = Field(
        default_factory=list, description="Directories, first wins where two know the same key.")
    refresh_interval_secs: float = Field(300.0, ge=1, description="How often every source is read again.")
    lookups: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_IDENTITY_LOOKUPS),
        description="Event field -> where the identity found goes (user, user.target, source.user, destination.user).")

    @field_validator("lookups")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in ("user", "user.target", "source.user", "destination.user")}
        if bad:
            raise ValueError(f"lookup targets must be user, user.target, source.user or destination.user: {bad}")
        return value


class PhoneConfig(Strict):
    """Caller and callee numbers: E.164, country, type, international or not (phonenumbers)."""

    home_region: str = Field(description="ISO 3166 region of the local numbering plan (DE, US, GB...).")
    caller_fields: list[str] = Field(
        default_factory=lambda: ["uc.call.caller_number", "uc.call.caller", "uc.sip.from_uri"],
        description="Where the calling number is read from: the first that holds a number wins.")
    callee_fields: list[str] = Field(
        default_factory=lambda: ["uc.call.callee_number", "uc.call.callee", "uc.sip.to_uri", "uc.sip.request_uri"],
        description="Where the called number is read from: the first that holds a number wins.")

    @field_validator("home_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}: use an ISO 3166 code such as DE, US or GB")
        return value.upper()


class GeoConfig(Strict):
    city_db: Path | None = Field(None, description="GeoLite2/GeoIP2 City (or Country) .mmdb file.")
    asn_db: Path | None = Field(None, description="GeoLite2/GeoIP2 ASN .mmdb file.")


class PrivacyConfig(Strict):
    hash_fields: list[str] = Field(
        default_factory=list, description="Fields replaced by HMAC-SHA256 (hex) of their value before shipping.")
    redact_fields: list[str] = Field(default_factory=list, description="Fields removed before shipping.")
    hmac_key_file: Path | None = Field(None, description="Secret for hash_fields (at least 32 bytes).")

    @model_validator(mode="after")
    def _key(self) -> PrivacyConfig:
        if self.hash_fields and self.hmac_key_file is None:
            raise ValueError("hash_fields needs hmac_key_file")
        return self

    @field_validator("hash_fields", "redact_fields")
    @classmethod
    def _fields(cls, value: list[str], info: ValidationInfo) -> list[str]:
        from ucsiem.schema.event import field_paths
        from ucsiem.schema.generate import es_type

        types = {path: es_type(field) for path, field in field_paths()}
        problems = []
        for path in value:
            if path not in types and not any(known.startswith(path + ".") for known in types):
                problems.append(f"{path!r} is not a field of the schema (see mappings/fields.md)")
            elif info.field_name == "hash_fields" and types.get(path) not in ("keyword", "text"):
                # a hash in an ip, date or number field would be refused by Elasticsearch: redact those
                problems.append(f"{path!r} is not a text field ({types.get(path, 'object')}): redact it instead")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class EnrichConfig(Strict):
    identity: IdentityConfig | None = Field(
        None, description="Who is behind a user, SIP URI, number or device: directory sources and lookups.")
    phone: PhoneConfig | None = Field(
        None, description="E.164, country, number type and international or not of caller and callee.")
    geo: GeoConfig | None = Field(None, description="City, country, location and ASN of public addresses.")
    privacy: PrivacyConfig | None = Field(
        None, description="Fields pseudonymised (keyed hash) or removed before events leave the agent.")
