"""Configuration of the syslog input (`inputs[]` with `type: syslog`): listeners, routes to parsers, limits.

One input holds any number of listeners (UDP, TCP, TLS on their own addresses) and an ordered list of
routes: the first route whose every condition matches a message picks its parser; a message no route
claims goes to `default_parser`, or, when there is none, becomes a dead letter saying why. Each route is
a parse stream of its own in the pipeline (`<input id>.<route name>`), so its parser, time zone and
options are those of a file input.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ucsiem.sizes import ByteSize

UNROUTED = "unrouted"  # the route name of messages nobody claims when there is no default parser


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
    return value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR network (192.0.2.10, 10.1.0.0/16)") from None
    return value


def _listen_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address (a listener binds an address, not a name)") from None
    return value


Zone = Annotated[str, AfterValidator(_zone)]
ListenAddress = Annotated[str, AfterValidator(_listen_address)]
Network = Annotated[str, AfterValidator(_network)]


class ServerTlsConfig(Strict):
    cert_file: Path = Field(description="PEM server certificate (with its chain).")
    key_file: Path = Field(description="PEM private key of cert_file (a secret file: mode 0600).")
    client_ca_file: Path | None = Field(
        None, description="PEM CA bundle: senders must present a certificate it signed (mutual TLS).")
    min_version: Literal["1.2", "1.3"] = Field("1.2", description="Oldest TLS version accepted.")


class SyslogListenerConfig(Strict):
    protocol: Literal["udp", "tcp", "tls"] = Field(
        description="udp (RFC 5426), tcp (RFC 6587, octet counting or LF framing, detected per connection) or tls "
                    "(RFC 5425).")
    address: ListenAddress = Field(description="Address to listen on (0.0.0.0 or :: for every interface).")
    port: int = Field(ge=1, le=65535, description="514 (udp, tcp) or 6514 (tls) by convention.")
    tls: ServerTlsConfig | None = Field(None, description="Server certificate and key; required for protocol tls.")
    max_connections: int = Field(1000, ge=1, description="TCP/TLS: connections beyond this are refused.")
    idle_timeout_secs: float = Field(3600.0, gt=0, description="TCP/TLS: close a connection silent this long.")
    receive_buffer_bytes: ByteSize = Field(
        8_388_608, ge=65_536, le=1_073_741_824,
        description="UDP: kernel receive buffer asked for (bursts wait there); capped by net.core.rmem_max.")

    @model_validator(mode="after")
    def _tls(self) -> SyslogListenerConfig:
        if (self.protocol == "tls") != (self.tls is not None):
            raise ValueError("protocol tls needs tls: {cert_file, key_file}, and only tls takes it")
        return self


class SyslogRouteConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Names the route (and its parse stream).")
    parser: str = Field(description="Parser id for the messages this route claims.")
    peers: list[Network] = Field(default_factory=list, description="Sender addresses or CIDR networks.")
    hostnames: list[str] = Field(default_factory=list, description="Glob patterns on the syslog HOSTNAME.")
    app_names: list[str] = Field(default_factory=list, description="Glob patterns on APP-NAME / the 3164 tag.")
    listeners: list[int] = Field(default_factory=list, description="Indexes in listeners[] this route serves.")
    parser_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the parser (see its README); checked against its options model.")
    timezone: Zone | None = Field(None, description="Zone of times without one (default: the input's).")


class SyslogInputConfig(Strict):
    type: Literal["syslog"] = Field(description="Receive syslog over the network.")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Stable id; prefixes the route stream ids.")
    listeners: list[SyslogListenerConfig] = Field(min_length=1, description="Sockets to receive on (at least one).")
    routes: list[SyslogRouteConfig] = Field(default_factory=list, description="First match wins.")
    default_parser: str | None = Field(
        None, description="Parser of messages no route claims; without it they become dead letters.")
    timezone: Zone = Field("UTC", description="Zone for timestamps that carry none.")
    max_message_bytes: ByteSize = Field(65_536, ge=480, le=16_777_216,
                                   description="Longer messages are cut and flagged (RFC 5425 asks for 2048+).")
    batch_max_records: int = Field(512, ge=1, description="Messages per batch sent to the parse workers.")
    batch_max_wait_secs: float = Field(0.2, gt=0, le=10, description="A batch waits at most this long to fill.")
    keep_original: bool = Field(False, description="Copy the raw message into event.original.")
    max_events_per_record: int = Field(
        10_000, ge=1, description="Events kept from one message; the rest: counted in a too_many_events dead letter.")

    @model_validator(mode="after")
    def _routes(self) -> SyslogInputConfig:
        names = [r.name for r in self.routes]
        for name in {n for n in names if names.count(n) > 1 or n == UNROUTED}:
            raise ValueError(f"route name {name!r} is used twice or reserved; give each route its own name")
        for i, route in enumerate(self.routes):
            bad = [n for n in route.listeners if not 0 <= n < len(self.listeners)]
            if bad:
                raise ValueError(f"routes[{i}].listeners: {bad} are not indexes of listeners[] "
                                 f"(0..{len(self.listeners) - 1})")
        return self

    def stream_id(self, route: str) -> str:
        return f"{self.id}.{route}"
