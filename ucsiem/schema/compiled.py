"""The UCEvent models as msgspec Structs (generated from `ucsiem/schema/event.py` by
`ucsiem mappings generate`; do not edit). See `ucsiem/schema/compile.py` for what they check and what
`canonicalise` leaves to the models."""

# ruff: noqa: E501, SIM102
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from ucsiem.parsing.helpers import canonical_ip
from ucsiem.schema.actions import EventAction

_OPTIONS = {"forbid_unknown_fields": True, "omit_defaults": True, "kw_only": True}


def _utc(value: datetime) -> datetime | None:
    if type(value) is not datetime:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


class Event(msgspec.Struct, **_OPTIONS):
    kind: Literal['alert', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'] | None = msgspec.field(default=None, name='kind')
    category: list[Literal['api', 'authentication', 'configuration', 'database', 'driver', 'email', 'file', 'host', 'iam', 'intrusion_detection', 'library', 'malware', 'network', 'package', 'process', 'registry', 'session', 'threat', 'vulnerability', 'web']] | None = msgspec.field(default=None, name='category')
    type: list[Literal['access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'device', 'end', 'error', 'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user']] | None = msgspec.field(default=None, name='type')
    action: EventAction | None = msgspec.field(default=None, name='action')
    outcome: Literal['failure', 'success', 'unknown'] | None = msgspec.field(default=None, name='outcome')
    code: str | None = msgspec.field(default=None, name='code')
    reason: str | None = msgspec.field(default=None, name='reason')
    severity: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='severity')
    sequence: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='sequence')
    duration: Annotated[int, msgspec.Meta(ge=0, le=9223372036854775807)] | None = msgspec.field(default=None, name='duration')
    start: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='start')
    end: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='end')
    dataset: str | None = msgspec.field(default=None, name='dataset')
    module: str | None = msgspec.field(default=None, name='module')
    provider: str | None = msgspec.field(default=None, name='provider')
    id: str | None = msgspec.field(default=None, name='id')
    original: str | None = msgspec.field(default=None, name='original')
    ingested: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='ingested')
    created: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='created')


class Observer(msgspec.Struct, **_OPTIONS):
    vendor: str | None = msgspec.field(default=None, name='vendor')
    product: str | None = msgspec.field(default=None, name='product')
    type: str | None = msgspec.field(default=None, name='type')
    hostname: str | None = msgspec.field(default=None, name='hostname')
    ip: list[str] | None = msgspec.field(default=None, name='ip')
    version: str | None = msgspec.field(default=None, name='version')


class Nat(msgspec.Struct, **_OPTIONS):
    ip: str | None = msgspec.field(default=None, name='ip')
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = msgspec.field(default=None, name='port')


class Group(msgspec.Struct, **_OPTIONS):
    name: list[str] | None = msgspec.field(default=None, name='name')


class EndpointUser(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    domain: str | None = msgspec.field(default=None, name='domain')
    id: str | None = msgspec.field(default=None, name='id')
    email: str | None = msgspec.field(default=None, name='email')
    full_name: str | None = msgspec.field(default=None, name='full_name')
    roles: list[str] | None = msgspec.field(default=None, name='roles')
    group: Group | None = msgspec.field(default=None, name='group')


class GeoPoint(msgspec.Struct, **_OPTIONS):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] = msgspec.field(name='lat')
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] = msgspec.field(name='lon')


class Geo(msgspec.Struct, **_OPTIONS):
    city_name: str | None = msgspec.field(default=None, name='city_name')
    continent_code: str | None = msgspec.field(default=None, name='continent_code')
    continent_name: str | None = msgspec.field(default=None, name='continent_name')
    country_iso_code: str | None = msgspec.field(default=None, name='country_iso_code')
    country_name: str | None = msgspec.field(default=None, name='country_name')
    region_iso_code: str | None = msgspec.field(default=None, name='region_iso_code')
    region_name: str | None = msgspec.field(default=None, name='region_name')
    postal_code: str | None = msgspec.field(default=None, name='postal_code')
    timezone: str | None = msgspec.field(default=None, name='timezone')
    location: GeoPoint | None = msgspec.field(default=None, name='location')


class AsOrganization(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')


class AutonomousSystem(msgspec.Struct, **_OPTIONS):
    number: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='number')
    organization: AsOrganization | None = msgspec.field(default=None, name='organization')


class Endpoint(msgspec.Struct, **_OPTIONS):
    ip: str | None = msgspec.field(default=None, name='ip')
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = msgspec.field(default=None, name='port')
    nat: Nat | None = msgspec.field(default=None, name='nat')
    address: str | None = msgspec.field(default=None, name='address')
    domain: str | None = msgspec.field(default=None, name='domain')
    user: EndpointUser | None = msgspec.field(default=None, name='user')
    geo: Geo | None = msgspec.field(default=None, name='geo')
    as_: AutonomousSystem | None = msgspec.field(default=None, name='as')


class Network(msgspec.Struct, **_OPTIONS):
    transport: str | None = msgspec.field(default=None, name='transport')
    protocol: str | None = msgspec.field(default=None, name='protocol')
    application: str | None = msgspec.field(default=None, name='application')
    direction: Literal['inbound', 'outbound', 'internal', 'external', 'unknown'] | None = msgspec.field(default=None, name='direction')
    forwarded_ip: str | None = msgspec.field(default=None, name='forwarded_ip')


class TargetUser(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    domain: str | None = msgspec.field(default=None, name='domain')
    id: str | None = msgspec.field(default=None, name='id')
    email: str | None = msgspec.field(default=None, name='email')
    full_name: str | None = msgspec.field(default=None, name='full_name')
    roles: list[str] | None = msgspec.field(default=None, name='roles')
    group: Group | None = msgspec.field(default=None, name='group')


class User(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    domain: str | None = msgspec.field(default=None, name='domain')
    id: str | None = msgspec.field(default=None, name='id')
    email: str | None = msgspec.field(default=None, name='email')
    full_name: str | None = msgspec.field(default=None, name='full_name')
    roles: list[str] | None = msgspec.field(default=None, name='roles')
    group: Group | None = msgspec.field(default=None, name='group')
    target: TargetUser | None = msgspec.field(default=None, name='target')


class Url(msgspec.Struct, **_OPTIONS):
    original: str | None = msgspec.field(default=None, name='original')
    scheme: str | None = msgspec.field(default=None, name='scheme')
    domain: str | None = msgspec.field(default=None, name='domain')
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = msgspec.field(default=None, name='port')
    path: str | None = msgspec.field(default=None, name='path')
    query: str | None = msgspec.field(default=None, name='query')


class HttpRequest(msgspec.Struct, **_OPTIONS):
    method: str | None = msgspec.field(default=None, name='method')
    referrer: str | None = msgspec.field(default=None, name='referrer')
    bytes: Annotated[int, msgspec.Meta(ge=0, le=9223372036854775807)] | None = msgspec.field(default=None, name='bytes')


class HttpResponse(msgspec.Struct, **_OPTIONS):
    status_code: Annotated[int, msgspec.Meta(ge=0, le=999)] | None = msgspec.field(default=None, name='status_code')
    bytes: Annotated[int, msgspec.Meta(ge=0, le=9223372036854775807)] | None = msgspec.field(default=None, name='bytes')


class Http(msgspec.Struct, **_OPTIONS):
    request: HttpRequest | None = msgspec.field(default=None, name='request')
    response: HttpResponse | None = msgspec.field(default=None, name='response')
    version: str | None = msgspec.field(default=None, name='version')


class Organization(msgspec.Struct, **_OPTIONS):
    id: str | None = msgspec.field(default=None, name='id')
    name: str | None = msgspec.field(default=None, name='name')


class UserAgent(msgspec.Struct, **_OPTIONS):
    original: str | None = msgspec.field(default=None, name='original')


class X509Subject(msgspec.Struct, **_OPTIONS):
    common_name: list[str] | None = msgspec.field(default=None, name='common_name')


class X509(msgspec.Struct, **_OPTIONS):
    subject: X509Subject | None = msgspec.field(default=None, name='subject')


class TlsPeer(msgspec.Struct, **_OPTIONS):
    x509: X509 | None = msgspec.field(default=None, name='x509')
    server_name: str | None = msgspec.field(default=None, name='server_name')


class Tls(msgspec.Struct, **_OPTIONS):
    established: bool | None = msgspec.field(default=None, name='established')
    version: str | None = msgspec.field(default=None, name='version')
    client: TlsPeer | None = msgspec.field(default=None, name='client')
    server: TlsPeer | None = msgspec.field(default=None, name='server')


class Related(msgspec.Struct, **_OPTIONS):
    ip: list[str] | None = msgspec.field(default=None, name='ip')
    user: list[str] | None = msgspec.field(default=None, name='user')
    hosts: list[str] | None = msgspec.field(default=None, name='hosts')


class LogFile(msgspec.Struct, **_OPTIONS):
    path: str | None = msgspec.field(default=None, name='path')


class SyslogCode(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    code: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='code')


class Syslog(msgspec.Struct, **_OPTIONS):
    facility: SyslogCode | None = msgspec.field(default=None, name='facility')
    severity: SyslogCode | None = msgspec.field(default=None, name='severity')
    priority: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='priority')
    hostname: str | None = msgspec.field(default=None, name='hostname')
    appname: str | None = msgspec.field(default=None, name='appname')


class LogSource(msgspec.Struct, **_OPTIONS):
    address: str | None = msgspec.field(default=None, name='address')


class Log(msgspec.Struct, **_OPTIONS):
    level: str | None = msgspec.field(default=None, name='level')
    logger: str | None = msgspec.field(default=None, name='logger')
    offset: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='offset')
    file: LogFile | None = msgspec.field(default=None, name='file')
    syslog: Syslog | None = msgspec.field(default=None, name='syslog')
    source: LogSource | None = msgspec.field(default=None, name='source')
    flags: list[Literal['truncated', 'invalid_utf8', 'multiline']] | None = msgspec.field(default=None, name='flags')


class Host(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')


class Agent(msgspec.Struct, **_OPTIONS):
    type: str | None = msgspec.field(default=None, name='type')
    version: str | None = msgspec.field(default=None, name='version')
    name: str | None = msgspec.field(default=None, name='name')


class Process(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    pid: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='pid')
    command_line: str | None = msgspec.field(default=None, name='command_line')


class Error(msgspec.Struct, **_OPTIONS):
    type: str | None = msgspec.field(default=None, name='type')
    message: str | None = msgspec.field(default=None, name='message')


class Rule(msgspec.Struct, **_OPTIONS):
    id: str | None = msgspec.field(default=None, name='id')
    uuid: str | None = msgspec.field(default=None, name='uuid')
    name: str | None = msgspec.field(default=None, name='name')
    description: str | None = msgspec.field(default=None, name='description')
    reference: list[str] | None = msgspec.field(default=None, name='reference')
    category: str | None = msgspec.field(default=None, name='category')
    ruleset: str | None = msgspec.field(default=None, name='ruleset')
    version: str | None = msgspec.field(default=None, name='version')
    author: list[str] | None = msgspec.field(default=None, name='author')
    license: str | None = msgspec.field(default=None, name='license')


class ThreatTactic(msgspec.Struct, **_OPTIONS):
    id: list[str] | None = msgspec.field(default=None, name='id')
    name: list[str] | None = msgspec.field(default=None, name='name')
    reference: list[str] | None = msgspec.field(default=None, name='reference')


class ThreatSubtechnique(msgspec.Struct, **_OPTIONS):
    id: list[str] | None = msgspec.field(default=None, name='id')
    name: list[str] | None = msgspec.field(default=None, name='name')
    reference: list[str] | None = msgspec.field(default=None, name='reference')


class ThreatTechnique(msgspec.Struct, **_OPTIONS):
    id: list[str] | None = msgspec.field(default=None, name='id')
    name: list[str] | None = msgspec.field(default=None, name='name')
    reference: list[str] | None = msgspec.field(default=None, name='reference')
    subtechnique: ThreatSubtechnique | None = msgspec.field(default=None, name='subtechnique')


class Threat(msgspec.Struct, **_OPTIONS):
    framework: str | None = msgspec.field(default=None, name='framework')
    tactic: ThreatTactic | None = msgspec.field(default=None, name='tactic')
    technique: ThreatTechnique | None = msgspec.field(default=None, name='technique')


class Alert(msgspec.Struct, **_OPTIONS):
    level: Literal['informational', 'low', 'medium', 'high', 'critical'] | None = msgspec.field(default=None, name='level')
    correlation: str | None = msgspec.field(default=None, name='correlation')
    count: Annotated[int, msgspec.Meta(ge=0, le=9223372036854775807)] | None = msgspec.field(default=None, name='count')
    value: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='value')
    threshold: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='threshold')
    baseline: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='baseline')
    group_by: list[str] | None = msgspec.field(default=None, name='group_by')
    values: list[str] | None = msgspec.field(default=None, name='values')
    event_ids: list[str] | None = msgspec.field(default=None, name='event_ids')
    suppressed_until: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='suppressed_until')


class Sip(msgspec.Struct, **_OPTIONS):
    method: str | None = msgspec.field(default=None, name='method')
    status_code: Annotated[int, msgspec.Meta(ge=0, le=999)] | None = msgspec.field(default=None, name='status_code')
    reason_phrase: str | None = msgspec.field(default=None, name='reason_phrase')
    call_id: str | None = msgspec.field(default=None, name='call_id')
    cseq: str | None = msgspec.field(default=None, name='cseq')
    from_uri: str | None = msgspec.field(default=None, name='from_uri')
    from_tag: str | None = msgspec.field(default=None, name='from_tag')
    to_uri: str | None = msgspec.field(default=None, name='to_uri')
    to_tag: str | None = msgspec.field(default=None, name='to_tag')
    request_uri: str | None = msgspec.field(default=None, name='request_uri')
    contact: str | None = msgspec.field(default=None, name='contact')
    user_agent: str | None = msgspec.field(default=None, name='user_agent')
    direction: Literal['received', 'sent'] | None = msgspec.field(default=None, name='direction')


class Call(msgspec.Struct, **_OPTIONS):
    id: str | None = msgspec.field(default=None, name='id')
    leg_id: str | None = msgspec.field(default=None, name='leg_id')
    direction: Literal['inbound', 'outbound', 'internal', 'unknown'] | None = msgspec.field(default=None, name='direction')
    caller: str | None = msgspec.field(default=None, name='caller')
    callee: str | None = msgspec.field(default=None, name='callee')
    caller_number: str | None = msgspec.field(default=None, name='caller_number')
    callee_number: str | None = msgspec.field(default=None, name='callee_number')
    callee_country: str | None = msgspec.field(default=None, name='callee_country')
    callee_number_type: str | None = msgspec.field(default=None, name='callee_number_type')
    callee_international: bool | None = msgspec.field(default=None, name='callee_international')
    caller_country: str | None = msgspec.field(default=None, name='caller_country')
    caller_number_type: str | None = msgspec.field(default=None, name='caller_number_type')
    caller_international: bool | None = msgspec.field(default=None, name='caller_international')
    duration: Annotated[float, msgspec.Meta(ge=0, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='duration')
    setup_time: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='setup_time')
    connect_time: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='connect_time')
    end_time: Annotated[datetime, msgspec.Meta(tz=True)] | None = msgspec.field(default=None, name='end_time')
    disconnect_cause: str | None = msgspec.field(default=None, name='disconnect_cause')
    disconnect_category: str | None = msgspec.field(default=None, name='disconnect_category')
    disconnect_side: str | None = msgspec.field(default=None, name='disconnect_side')
    trunk: str | None = msgspec.field(default=None, name='trunk')
    route: str | None = msgspec.field(default=None, name='route')
    authenticated: bool | None = msgspec.field(default=None, name='authenticated')


class Media(msgspec.Struct, **_OPTIONS):
    type: str | None = msgspec.field(default=None, name='type')
    codec: str | None = msgspec.field(default=None, name='codec')
    local_ip: str | None = msgspec.field(default=None, name='local_ip')
    local_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = msgspec.field(default=None, name='local_port')
    remote_ip: str | None = msgspec.field(default=None, name='remote_ip')
    remote_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = msgspec.field(default=None, name='remote_port')
    packets_in: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='packets_in')
    packets_out: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='packets_out')
    packets_lost_local: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='packets_lost_local')
    packets_lost_remote: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='packets_lost_remote')
    packet_loss_rate: Annotated[float, msgspec.Meta(ge=0, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='packet_loss_rate')
    jitter_ms: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='jitter_ms')
    delay_ms: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='delay_ms')
    mos: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='mos')
    mos_degradation: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='mos_degradation')
    r_factor: Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | None = msgspec.field(default=None, name='r_factor')


class Conference(msgspec.Struct, **_OPTIONS):
    id: str | None = msgspec.field(default=None, name='id')
    name: str | None = msgspec.field(default=None, name='name')
    participant: str | None = msgspec.field(default=None, name='participant')
    role: str | None = msgspec.field(default=None, name='role')


class Registration(msgspec.Struct, **_OPTIONS):
    aor: str | None = msgspec.field(default=None, name='aor')
    contact: str | None = msgspec.field(default=None, name='contact')
    expires: Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | None = msgspec.field(default=None, name='expires')


class Device(msgspec.Struct, **_OPTIONS):
    name: str | None = msgspec.field(default=None, name='name')
    model: str | None = msgspec.field(default=None, name='model')
    mac: str | None = msgspec.field(default=None, name='mac')
    firmware: str | None = msgspec.field(default=None, name='firmware')


class IdentityDetails(msgspec.Struct, **_OPTIONS):
    department: str | None = msgspec.field(default=None, name='department')
    title: str | None = msgspec.field(default=None, name='title')
    manager: str | None = msgspec.field(default=None, name='manager')
    site: str | None = msgspec.field(default=None, name='site')
    sip_uri: str | None = msgspec.field(default=None, name='sip_uri')
    extension: str | None = msgspec.field(default=None, name='extension')
    phone_numbers: list[str] | None = msgspec.field(default=None, name='phone_numbers')
    source: str | None = msgspec.field(default=None, name='source')


class Identity(msgspec.Struct, **_OPTIONS):
    user: IdentityDetails | None = msgspec.field(default=None, name='user')
    target: IdentityDetails | None = msgspec.field(default=None, name='target')
    source: IdentityDetails | None = msgspec.field(default=None, name='source')
    destination: IdentityDetails | None = msgspec.field(default=None, name='destination')


class UC(msgspec.Struct, **_OPTIONS):
    alert: Alert | None = msgspec.field(default=None, name='alert')
    sip: Sip | None = msgspec.field(default=None, name='sip')
    call: Call | None = msgspec.field(default=None, name='call')
    media: Media | None = msgspec.field(default=None, name='media')
    conference: Conference | None = msgspec.field(default=None, name='conference')
    registration: Registration | None = msgspec.field(default=None, name='registration')
    device: Device | None = msgspec.field(default=None, name='device')
    identity: Identity | None = msgspec.field(default=None, name='identity')
    vendor: dict[str, str | Annotated[int, msgspec.Meta(ge=-9223372036854775808, le=9223372036854775807)] | Annotated[float, msgspec.Meta(ge=-1.7976931348623157e+308, le=1.7976931348623157e+308)] | bool | list[str]] | None = msgspec.field(default=None, name='vendor')


class UCEvent(msgspec.Struct, **_OPTIONS):
    timestamp: Annotated[datetime, msgspec.Meta(tz=True)] = msgspec.field(name='@timestamp')
    message: str | None = msgspec.field(default=None, name='message')
    tags: list[str] | None = msgspec.field(default=None, name='tags')
    labels: dict[str, str] | None = msgspec.field(default=None, name='labels')
    event: Event | None = msgspec.field(default=None, name='event')
    observer: Observer | None = msgspec.field(default=None, name='observer')
    source: Endpoint | None = msgspec.field(default=None, name='source')
    destination: Endpoint | None = msgspec.field(default=None, name='destination')
    network: Network | None = msgspec.field(default=None, name='network')
    user: User | None = msgspec.field(default=None, name='user')
    url: Url | None = msgspec.field(default=None, name='url')
    http: Http | None = msgspec.field(default=None, name='http')
    organization: Organization | None = msgspec.field(default=None, name='organization')
    user_agent: UserAgent | None = msgspec.field(default=None, name='user_agent')
    tls: Tls | None = msgspec.field(default=None, name='tls')
    related: Related | None = msgspec.field(default=None, name='related')
    log: Log | None = msgspec.field(default=None, name='log')
    host: Host | None = msgspec.field(default=None, name='host')
    agent: Agent | None = msgspec.field(default=None, name='agent')
    process: Process | None = msgspec.field(default=None, name='process')
    error: Error | None = msgspec.field(default=None, name='error')
    rule: Rule | None = msgspec.field(default=None, name='rule')
    threat: Threat | None = msgspec.field(default=None, name='threat')
    uc: UC | None = msgspec.field(default=None, name='uc')


def canonicalise(event: dict) -> bool:  # type: ignore[type-arg]
    """Make every IP address of a converted event canonical and every time UTC, in place, as the models'
    after-validators do; False when one cannot be (a bad address, a time out of range once in UTC, a
    datetime subclass): the models then say why."""
    if (v := event.get('@timestamp')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
        if (utc := _utc(v)) is None:
            return False
        event['@timestamp'] = utc
    if (o1 := event.get('event')) is not None:
        if (v := o1.get('start')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
            if (utc := _utc(v)) is None:
                return False
            o1['start'] = utc
        if (v := o1.get('end')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
            if (utc := _utc(v)) is None:
                return False
            o1['end'] = utc
        if (v := o1.get('ingested')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
            if (utc := _utc(v)) is None:
                return False
            o1['ingested'] = utc
        if (v := o1.get('created')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
            if (utc := _utc(v)) is None:
                return False
            o1['created'] = utc
    if (o1 := event.get('observer')) is not None:
        if (v := o1.get('ip')) is not None and (any(canonical_ip(x) != x for x in v)):
            if None in (ips := [canonical_ip(x) for x in v]):
                return False
            o1['ip'] = ips
    if (o1 := event.get('source')) is not None:
        if (v := o1.get('ip')) is not None and ((ip := canonical_ip(v)) != v):
            if ip is None:
                return False
            o1['ip'] = ip
        if (o2 := o1.get('nat')) is not None:
            if (v := o2.get('ip')) is not None and ((ip := canonical_ip(v)) != v):
                if ip is None:
                    return False
                o2['ip'] = ip
    if (o1 := event.get('destination')) is not None:
        if (v := o1.get('ip')) is not None and ((ip := canonical_ip(v)) != v):
            if ip is None:
                return False
            o1['ip'] = ip
        if (o2 := o1.get('nat')) is not None:
            if (v := o2.get('ip')) is not None and ((ip := canonical_ip(v)) != v):
                if ip is None:
                    return False
                o2['ip'] = ip
    if (o1 := event.get('network')) is not None:
        if (v := o1.get('forwarded_ip')) is not None and ((ip := canonical_ip(v)) != v):
            if ip is None:
                return False
            o1['forwarded_ip'] = ip
    if (o1 := event.get('related')) is not None:
        if (v := o1.get('ip')) is not None and (any(canonical_ip(x) != x for x in v)):
            if None in (ips := [canonical_ip(x) for x in v]):
                return False
            o1['ip'] = ips
    if (o1 := event.get('uc')) is not None:
        if (o2 := o1.get('alert')) is not None:
            if (v := o2.get('suppressed_until')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
                if (utc := _utc(v)) is None:
                    return False
                o2['suppressed_until'] = utc
        if (o2 := o1.get('call')) is not None:
            if (v := o2.get('setup_time')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
                if (utc := _utc(v)) is None:
                    return False
                o2['setup_time'] = utc
            if (v := o2.get('connect_time')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
                if (utc := _utc(v)) is None:
                    return False
                o2['connect_time'] = utc
            if (v := o2.get('end_time')) is not None and (type(v) is not datetime or v.tzinfo is not UTC):
                if (utc := _utc(v)) is None:
                    return False
                o2['end_time'] = utc
        if (o2 := o1.get('media')) is not None:
            if (v := o2.get('local_ip')) is not None and ((ip := canonical_ip(v)) != v):
                if ip is None:
                    return False
                o2['local_ip'] = ip
            if (v := o2.get('remote_ip')) is not None and ((ip := canonical_ip(v)) != v):
                if ip is None:
                    return False
                o2['remote_ip'] = ip
    return True
