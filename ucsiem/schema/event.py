"""The common event schema: ECS field sets plus the `uc.*` extension.

These models are the single source of truth. `ucsiem.schema.generate` derives the field reference,
the Elasticsearch templates and the JSON Schema in `mappings/` from them, and a test fails when the
committed files drift. Every model forbids unknown keys so a typo in a parser fails its golden test.

Field types carry their Elasticsearch type in `json_schema_extra={"es": ...}` only where it cannot be
derived from the Python type (ip, flattened, text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from ucsiem.parsing.helpers import canonical_ip
from ucsiem.schema.actions import EventAction, EventOutcome


def _check_ip(value: str) -> str:
    """Valid IPv4/IPv6 in canonical text form: ES rejects a bad `ip` and would drop the whole event.

    inet_pton is the C parser (strict dotted quad, no leading zeros); it is ~20x faster than
    `ipaddress`, and this runs several times per event on the hot path.
    """
    ip = canonical_ip(value)
    if ip is None:
        raise ValueError(f"not an IP address: {value[:64]!r}")
    return ip


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00: a ValueError makes it a validation error
        raise ValueError("time is out of range once converted to UTC") from None


# Every integer is an Elasticsearch `long` and must fit orjson's 64 bits: a bigger number in a log line
# (a byte counter of 20 digits, a duration from a date in year 6020) is refused here, so the event becomes
# a dead letter instead of an exception when it is serialized.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
Long = Annotated[int, Field(ge=LONG_MIN, le=LONG_MAX)]
IP = Annotated[str, AfterValidator(_check_ip), Field(json_schema_extra={"es": "ip"})]
UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Port = Annotated[int, Field(ge=0, le=65535)]


class Schema(BaseModel):
    """Base of every field set: strict keys, no coercion surprises, compact JSON."""

    # inf and NaN have no JSON form (they would become null without a word): refused like any bad value
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True, allow_inf_nan=False)


EventKind = Literal["alert", "enrichment", "event", "metric", "state", "pipeline_error", "signal"]
EventCategory = Literal[
    "api", "authentication", "configuration", "database", "driver", "email", "file", "host", "iam",
    "intrusion_detection", "library", "malware", "network", "package", "process", "registry",
    "session", "threat", "vulnerability", "web",
]
EventType = Literal[
    "access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied", "device",
    "end", "error", "group", "indicator", "info", "installation", "protocol", "start", "user",
]


class Event(Schema):
    kind: EventKind = Field("event", description="ECS event.kind: what sort of record this is.")
    category: list[EventCategory] | None = Field(None, description="ECS event.category values.")
    type: list[EventType] | None = Field(None, description="ECS event.type values.")
    action: EventAction | None = Field(None, description="Vendor-neutral action, see the action table.")
    outcome: EventOutcome | None = Field(None, description="success, failure or unknown.")
    code: str | None = Field(None, description="The vendor's own name or number for this event.")
    reason: str | None = Field(None, description="Why the event happened (rejection reason, cause).")
    severity: Long | None = Field(None, description="Numeric severity as the source gives it.")
    sequence: Long | None = Field(None, description="Sequence number the source gave the record (IOS and "
                                                    "CiscoLog `service sequence-numbers`): gaps show lost messages.")
    duration: Long | None = Field(None, ge=0, description="Duration in nanoseconds.")
    start: UtcTime | None = Field(None, description="When the activity (call, session, meeting) began.")
    end: UtcTime | None = Field(None, description="When the activity ended.")
    dataset: str | None = Field(None, description="`<vendor>.<product>` of the parser (set by the pipeline).")
    module: str | None = Field(None, description="Vendor module of the parser (set by the pipeline).")
    provider: str | None = Field(None, description="Sub-source inside the product (process, log name).")
    id: str | None = Field(None, description="Deterministic id: hash of source identity, offset and record.")
    original: str | None = Field(None, description="The raw record (pipeline errors; or when asked).")
    ingested: UtcTime | None = Field(None, description="When the agent processed the record.")
    created: UtcTime | None = Field(None, description="Time a relay or receiver stamped on the record.")


class Group(Schema):
    name: list[str] | None = Field(None, description="Groups of the account (directory enrichment).")


class EndpointUser(Schema):
    name: str | None = Field(None, description="User part of the endpoint (SIP user, alias, extension).")
    domain: str | None = Field(None, description="Domain part of the endpoint's URI.")
    id: str | None = Field(None, description="Directory id of the person behind the endpoint (enrichment).")
    email: str | None = Field(None, description="E-mail of the person behind the endpoint (enrichment).")
    full_name: str | None = Field(None, description="Display name of the person behind the endpoint (enrichment).")
    roles: list[str] | None = None
    group: Group | None = None


class GeoPoint(Schema):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Geo(Schema):
    """Where a public address is (GeoIP enrichment)."""

    city_name: str | None = None
    continent_code: str | None = None
    continent_name: str | None = None
    country_iso_code: str | None = None
    country_name: str | None = None
    region_iso_code: str | None = None
    region_name: str | None = None
    postal_code: str | None = None
    timezone: str | None = None
    location: GeoPoint | None = Field(None, json_schema_extra={"es": "geo_point"})


class AsOrganization(Schema):
    name: str | None = None


class AutonomousSystem(Schema):
    number: Long | None = Field(None, description="Autonomous system number of the address (ASN enrichment).")
    organization: AsOrganization | None = None


class Nat(Schema):
    ip: IP | None = Field(None, description="The address after NAT: the public (reflexive) address of a client.")
    port: Port | None = None


class Endpoint(Schema):
    ip: IP | None = Field(None, description="IP address.")
    port: Port | None = Field(None, description="Transport port.")
    nat: Nat | None = None
    address: str | None = Field(None, description="Address as the source wrote it (IP, name or URI).")
    domain: str | None = Field(None, description="Domain name.")
    user: EndpointUser | None = None
    geo: Geo | None = None
    as_: AutonomousSystem | None = Field(None, alias="as")


class Observer(Schema):
    vendor: str | None = Field(None, description="Vendor of the UC appliance that wrote the log.")
    product: str | None = Field(None, description="Product of the UC appliance.")
    type: str | None = Field(None, description="Kind of appliance: sbc, proxy, pbx, conferencing...")
    hostname: str | None = Field(None, description="Host name of the appliance, as it logs it.")
    ip: list[IP] | None = Field(None, description="Addresses of the appliance.")
    version: str | None = Field(None, description="Firmware or software version.")


class Network(Schema):
    transport: str | None = Field(None, description="udp, tcp, sctp (lower case).")
    protocol: str | None = Field(None, description="Application protocol, lower case: sip, h323, http.")
    application: str | None = Field(None, description="Service name as the vendor logs it.")
    direction: Literal["inbound", "outbound", "internal", "external", "unknown"] | None = None
    forwarded_ip: IP | None = Field(None, description="Client address a proxy forwarded (X-Forwarded-For) when the "
                                                      "connection itself came from the proxy.")


class TargetUser(Schema):
    name: str | None = Field(None, description="Account name of the user acted upon.")
    domain: str | None = None
    id: str | None = None
    email: str | None = None
    full_name: str | None = None
    roles: list[str] | None = None
    group: Group | None = None


class User(Schema):
    name: str | None = Field(None, description="Account name.")
    domain: str | None = Field(None, description="Account domain.")
    id: str | None = Field(None, description="Account id.")
    email: str | None = Field(None, description="E-mail address.")
    full_name: str | None = Field(None, description="Display name.")
    roles: list[str] | None = Field(None, description="Roles of the account at the time of the event.")
    group: Group | None = None
    target: TargetUser | None = Field(None, description="The account an administrator or a change acted on.")


class Organization(Schema):
    id: str | None = Field(None, description="Tenant, organisation or account id of a cloud service.")
    name: str | None = None


class Url(Schema):
    original: str | None = Field(None, description="URL or URI as logged.")
    scheme: str | None = None
    domain: str | None = None
    port: Port | None = None
    path: str | None = None
    query: str | None = Field(None, description="Query string, without the `?`.")


class HttpRequest(Schema):
    method: str | None = Field(None, description="HTTP method, upper case as logged.")
    referrer: str | None = None
    bytes: Long | None = Field(None, ge=0, description="Size of the request in bytes.")


class HttpResponse(Schema):
    status_code: Long | None = Field(None, ge=0, le=999)
    bytes: Long | None = Field(None, ge=0, description="Size of the response in bytes.")


class Http(Schema):
    """Web access to a UC service: reverse proxies, web bridges, admin portals."""

    request: HttpRequest | None = None
    response: HttpResponse | None = None
    version: str | None = Field(None, description="HTTP version (1.1, 2).")


class UserAgent(Schema):
    original: str | None = Field(None, description="User-Agent or Server header as logged.")


class X509Subject(Schema):
    common_name: list[str] | None = None


class X509(Schema):
    subject: X509Subject | None = None


class TlsPeer(Schema):
    x509: X509 | None = None
    server_name: str | None = None


class Tls(Schema):
    established: bool | None = Field(None, description="Whether the TLS session was set up.")
    version: str | None = None
    client: TlsPeer | None = None
    server: TlsPeer | None = None


class Related(Schema):
    ip: list[IP] | None = Field(None, description="Every IP in the event (set by the pipeline).")
    user: list[str] | None = Field(None, description="Every user name in the event (set by the pipeline).")
    hosts: list[str] | None = Field(None, description="Every host name in the event (set by the pipeline).")


class LogFile(Schema):
    path: str | None = Field(None, description="File the record was read from.")


class SyslogCode(Schema):
    name: str | None = None
    code: Long | None = None


class Syslog(Schema):
    facility: SyslogCode | None = None
    severity: SyslogCode | None = None
    priority: Long | None = None
    hostname: str | None = None
    appname: str | None = None


class LogSource(Schema):
    address: str | None = Field(None, description="Network peer the record came from (ip:port), as Filebeat's.")


class Log(Schema):
    level: str | None = Field(None, description="Log level as the source gives it (lower case).")
    logger: str | None = Field(None, description="Logging module of the source (Expressway `Module`).")
    offset: Long | None = Field(None, description="Byte offset of the record in its file.")
    file: LogFile | None = None
    syslog: Syslog | None = None
    source: LogSource | None = None
    flags: list[Literal["truncated", "invalid_utf8", "multiline"]] | None = Field(
        None, description="Record-level conditions: cut at max size, bad UTF-8 replaced, joined lines."
    )


class Host(Schema):
    name: str | None = Field(None, description="Host the agent runs on.")


class Agent(Schema):
    type: str | None = None
    version: str | None = None
    name: str | None = None


class Process(Schema):
    name: str | None = Field(None, description="Process or program that logged the record.")
    pid: Long | None = None
    command_line: str | None = Field(None, description="Command run (admin CLI audit lines).")


class Error(Schema):
    type: str | None = Field(None, description="Error code (parse errors: the ParseError code).")
    message: str | None = Field(None, description="What went wrong, for a person.")


class Rule(Schema):
    """The rule that raised an alert (ECS rule.*; filled from the Sigma rule's metadata)."""

    id: str | None = Field(None, description="Rule id (the Sigma rule's `id`).")
    uuid: str | None = Field(None, description="Rule id as a UUID (the Sigma `id`, which is one).")
    name: str | None = Field(None, description="Rule name (the Sigma `title`).")
    description: str | None = None
    reference: list[str] | None = Field(None, description="URLs about the rule or what it detects.")
    category: str | None = Field(None, description="Sigma logsource category, or the correlation type.")
    ruleset: str | None = Field(None, description="Rule set the rule belongs to (the rule file's name).")
    version: str | None = Field(None, description="Revision of the rule (Sigma `modified` or `date`).")
    author: list[str] | None = None
    license: str | None = None


class ThreatTactic(Schema):
    id: list[str] | None = Field(None, description="MITRE ATT&CK tactic ids (TA0006).")
    name: list[str] | None = Field(None, description="MITRE ATT&CK tactic names (Credential Access).")
    reference: list[str] | None = None


class ThreatSubtechnique(Schema):
    id: list[str] | None = Field(None, description="MITRE ATT&CK sub-technique ids (T1110.001).")
    name: list[str] | None = None
    reference: list[str] | None = None


class ThreatTechnique(Schema):
    id: list[str] | None = Field(None, description="MITRE ATT&CK technique ids (T1110).")
    name: list[str] | None = None
    reference: list[str] | None = None
    subtechnique: ThreatSubtechnique | None = None


class Threat(Schema):
    """ECS threat.*: the ATT&CK classification of an alert, from the rule's `attack.*` tags."""

    framework: str | None = Field(None, description="MITRE ATT&CK when the rule has attack.* tags.")
    tactic: ThreatTactic | None = None
    technique: ThreatTechnique | None = None


class Sip(Schema):
    method: str | None = Field(None, description="SIP request method (INVITE, REGISTER...).")
    status_code: Long | None = Field(None, ge=0, le=999, description="SIP response code (or equivalent).")
    reason_phrase: str | None = None
    call_id: str | None = Field(None, description="SIP Call-ID.")
    cseq: str | None = None
    from_uri: str | None = None
    from_tag: str | None = None
    to_uri: str | None = None
    to_tag: str | None = None
    request_uri: str | None = None
    contact: str | None = None
    user_agent: str | None = None
    direction: Literal["received", "sent"] | None = Field(None, description="Message direction at the observer.")


class Call(Schema):
    id: str | None = Field(None, description="Call or session id common to all legs.")
    leg_id: str | None = Field(None, description="Id of this call leg.")
    direction: Literal["inbound", "outbound", "internal", "unknown"] | None = None
    caller: str | None = Field(None, description="Calling party as logged (URI, alias or number).")
    callee: str | None = Field(None, description="Called party as logged.")
    caller_number: str | None = Field(None, description="Calling number in E.164 when known.")
    callee_number: str | None = Field(None, description="Called number in E.164 when known.")
    callee_country: str | None = Field(None, description="ISO 3166 country of the called number.")
    callee_number_type: str | None = Field(None, description="premium_rate, toll_free, mobile, fixed_line...")
    callee_international: bool | None = Field(None, description="Called number outside the home region.")
    caller_country: str | None = Field(None, description="ISO 3166 country of the calling number.")
    caller_number_type: str | None = Field(None, description="premium_rate, toll_free, mobile, fixed_line...")
    caller_international: bool | None = Field(None, description="Calling number outside the home region.")
    duration: float | None = Field(None, ge=0, description="Connected time in seconds.")
    setup_time: UtcTime | None = None
    connect_time: UtcTime | None = None
    end_time: UtcTime | None = None
    disconnect_cause: str | None = Field(None, description="Why the call ended, as the vendor says it.")
    disconnect_category: str | None = Field(None, description="Vendor's class of the disconnect cause.")
    disconnect_side: str | None = Field(None, description="Which side ended the call.")
    trunk: str | None = Field(None, description="Trunk, IP group or zone the call used.")
    route: str | None = Field(None, description="Routing object (SIP interface, zone, search rule).")
    authenticated: bool | None = Field(None, description="Whether the caller was authenticated.")


class Media(Schema):
    type: str | None = Field(None, description="audio, video, data...")
    codec: str | None = None
    local_ip: IP | None = None
    local_port: Port | None = None
    remote_ip: IP | None = None
    remote_port: Port | None = None
    packets_in: Long | None = None
    packets_out: Long | None = None
    packets_lost_local: Long | None = None
    packets_lost_remote: Long | None = None
    packet_loss_rate: float | None = Field(None, ge=0, description="Lost packets as a fraction (0.01 = 1 %).")
    jitter_ms: float | None = None
    delay_ms: float | None = None
    mos: float | None = None
    mos_degradation: float | None = Field(None, description="Loss of MOS points against the ideal (Teams).")
    r_factor: float | None = None


class Conference(Schema):
    id: str | None = None
    name: str | None = None
    participant: str | None = None
    role: str | None = None


class Registration(Schema):
    aor: str | None = Field(None, description="Address of record being registered.")
    contact: str | None = None
    expires: Long | None = Field(None, description="Requested or granted expiry in seconds.")


class Device(Schema):
    name: str | None = None
    model: str | None = None
    mac: str | None = None
    firmware: str | None = None


def _big_int_as_text(value: Any) -> Any:
    """A vendor number beyond 64 bits is kept as its digits (it would otherwise become a rounded float)."""
    if type(value) is int and not LONG_MIN <= value <= LONG_MAX:
        return str(value)
    return value


class IdentityDetails(Schema):
    """What a directory knows of a person and ECS has no field for."""

    department: str | None = None
    title: str | None = None
    manager: str | None = None
    site: str | None = Field(None, description="Office, site or location of the person.")
    sip_uri: str | None = Field(None, description="The person's SIP address (msRTCSIP-PrimaryUserAddress).")
    extension: str | None = None
    phone_numbers: list[str] | None = Field(None, description="The person's numbers in E.164.")
    source: str | None = Field(None, description="The directory the identity came from.")


class Identity(Schema):
    """Directory details per party, beside the ECS `user.*`, `user.target.*`, `source.user.*`,
    `destination.user.*` they belong to."""

    user: IdentityDetails | None = None
    target: IdentityDetails | None = None
    source: IdentityDetails | None = None
    destination: IdentityDetails | None = None


VendorValue = Annotated[str | Long | float | bool | list[str], BeforeValidator(_big_int_as_text)]


AlertLevel = Literal["informational", "low", "medium", "high", "critical"]


class Alert(Schema):
    """What a correlation alert counted (set on `event.kind: alert` events only)."""

    level: AlertLevel | None = Field(None, description="Sigma level of the rule (event.severity is its number).")
    correlation: str | None = Field(
        None, description="How the alert was raised: single (one event), event_count, value_count, temporal...")
    count: Long | None = Field(None, ge=0, description="Events counted, running: suppressed repeats add to it.")
    value: float | None = Field(None, description="The measured value: distinct values, sum, average, spike rate.")
    threshold: float | None = Field(None, description="The value the rule compared against.")
    baseline: float | None = Field(None, description="Learned baseline of a spike rule when it fired.")
    group_by: list[str] | None = Field(None, description="Fields the rule groups by (values: in those fields).")
    values: list[str] | None = Field(None, description="Bounded sample of the distinct values counted.")
    event_ids: list[str] | None = Field(None, description="event.id of the contributing events (bounded).")
    suppressed_until: UtcTime | None = Field(None, description="End of the suppression window of this alert.")


class UC(Schema):
    alert: Alert | None = None
    sip: Sip | None = None
    call: Call | None = None
    media: Media | None = None
    conference: Conference | None = None
    registration: Registration | None = None
    device: Device | None = None
    identity: Identity | None = None
    vendor: dict[str, VendorValue] | None = Field(
        None,
        description="Vendor fields with no common home, keys as the vendor names them.",
        json_schema_extra={"es": "flattened"},
    )


class UCEvent(Schema):
    """One normalized event, serialized as nested ECS JSON."""

    timestamp: UtcTime = Field(alias="@timestamp", description="When the event happened, UTC.")
    message: str | None = Field(None, description="Human-readable text of the event.", json_schema_extra={"es": "text"})
    tags: list[str] | None = None
    labels: dict[str, str] | None = None
    event: Event = Field(default_factory=Event)
    observer: Observer | None = None
    source: Endpoint | None = None
    destination: Endpoint | None = None
    network: Network | None = None
    user: User | None = None
    url: Url | None = None
    http: Http | None = None
    organization: Organization | None = None
    user_agent: UserAgent | None = None
    tls: Tls | None = None
    related: Related | None = None
    log: Log | None = None
    host: Host | None = None
    agent: Agent | None = None
    process: Process | None = None
    error: Error | None = None
    rule: Rule | None = None
    threat: Threat | None = None
    uc: UC | None = None

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


def field_paths(model: type[BaseModel] = UCEvent, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted ECS names of every leaf field with its FieldInfo, in declaration order."""
    out: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        sub = _submodel(info.annotation)
        if sub is not None and not _es_leaf(info):
            out.extend(field_paths(sub, key + "."))
        else:
            out.append((key, info))
    return out


def _es_leaf(info: Any) -> bool:
    """A sub-model that Elasticsearch stores as one value (a geo_point)."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and "es" in extra


def _submodel(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_time(annotation: Any) -> bool:
    return annotation is AwareDatetime or any(_is_time(a) for a in getattr(annotation, "__args__", ()))


TIME_FIELDS = frozenset(path for path, info in field_paths() if _is_time(info.annotation))
"""Dotted names of every time field: a schema error on them alone is a bad time stamp in the record."""
