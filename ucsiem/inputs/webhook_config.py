"""Configuration of the webhook input (`inputs[]` with `type: webhook`): an HTTPS listener and its paths.

Each path (`/zoom`, `/webex`...) names who signs what is posted to it (`provider`), the secret that checks
it, and the parser of the bodies. Each path is a parse stream of its own in the pipeline
(`<input id>.<path name>`), as a syslog route is, so its parser, time zone and options are those of a
file input. Refused deliveries (bad signature, not JSON) go to one more stream, `<input id>._rejected`
(`webhook_sender.py`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from ucsiem.inputs.syslog_config import ListenAddress, ServerTlsConfig, Strict, Zone
from ucsiem.sizes import ByteSize

REJECTED = "_rejected"  # the stream of refused deliveries; a path name cannot start with "_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")



class WebhookPathConfig(Strict):
    path: str = Field(pattern=r"^(/[A-Za-z0-9._~-]+)+$", description="URL path the sender posts to: /zoom.")
    name: str | None = Field(
        None, description="Names the parse stream <input id>.<name> (default: the path, '/' -> '_', no lead).")
    parser: str = Field(description="Parser id of the bodies posted here (zoom, cisco_webex...).")
    provider: Literal["zoom", "webex", "none"] = Field(
        description="Who signs the deliveries: zoom (x-zm-signature), webex (X-Spark-Signature), none (unsigned).")
    secret_file: Path | None = Field(
        None, description="File holding the Zoom secret token / the Webex webhook secret (a secret file: 0600).")
    replay_window_secs: float | None = Field(
        None, gt=0, le=3600, description="Zoom: refuse a request time further than this from now (default 300).")
    parser_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the parser (see its README); checked against its options model.")
    timezone: Zone | None = Field(None, description="Zone of times without one (default: the input's).")

    @model_validator(mode="after")
    def _provider(self) -> WebhookPathConfig:
        if self.provider == "none":
            if self.secret_file is not None:
                raise ValueError("secret_file: provider none checks no signature; set provider zoom or webex, or "
                                 "remove secret_file")
        elif self.secret_file is None:
            raise ValueError(f"secret_file: provider {self.provider} needs the secret its deliveries are signed "
                             "with (a file only the agent can read)")
        if self.replay_window_secs is not None and self.provider != "zoom":
            raise ValueError(f"replay_window_secs: only Zoom signs a request time; provider {self.provider} has "
                             "no replay window")
        return self

    @property
    def stream_name(self) -> str:
        return self.name if self.name is not None else self.path.strip("/").replace("/", "_").replace(".", "_")

    @property
    def window_secs(self) -> float:
        return self.replay_window_secs if self.replay_window_secs is not None else 300.0


class WebhookInputConfig(Strict):
    type: Literal["webhook"] = Field(description="Receive signed HTTPS deliveries (Zoom, Webex).")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Stable id; prefixes the path stream ids.")
    address: ListenAddress = Field(description="Address to listen on (0.0.0.0 or :: for every interface).")
    port: int = Field(ge=1, le=65535, description="443, or 8443 as an unprivileged user.")
    tls: ServerTlsConfig | None = Field(None, description="Server certificate and key (HTTPS).")
    allow_insecure_http: bool = Field(
        False, description="Serve plain HTTP, for a TLS-terminating reverse proxy in front (warned at start).")
    paths: list[WebhookPathConfig] = Field(min_length=1, description="URL paths served, each with parser and signer.")
    max_body_bytes: ByteSize = Field(1_048_576, ge=1024, le=67_108_864, description="Larger bodies get 413.")
    ack_timeout_secs: float = Field(
        2.5, gt=0, le=60, description="Answer 503 (the sender retries) when a delivery is not stored by then.")
    read_timeout_secs: float = Field(10.0, gt=0, le=300, description="Time to send a body (slow senders: 408).")
    max_concurrent_requests: int = Field(256, ge=1, description="Requests in progress beyond this get 503.")
    timezone: Zone = Field("UTC", description="Zone for timestamps that carry none.")
    keep_original: bool = Field(False, description="Copy the raw body into event.original.")
    max_events_per_record: int = Field(
        10_000, ge=1, description="Events kept from one body; the rest are counted in a too_many_events dead letter.")

    @model_validator(mode="after")
    def _checks(self) -> WebhookInputConfig:
        if self.tls is None and not self.allow_insecure_http:
            raise ValueError("tls: required (cert_file, key_file): deliveries carry meeting and user data; set "
                             "allow_insecure_http: true only behind a reverse proxy that terminates TLS")
        if self.tls is not None and self.allow_insecure_http:
            raise ValueError("allow_insecure_http: true with tls: choose one (tls, or plain HTTP behind a proxy)")
        seen_paths: set[str] = set()
        seen_names: set[str] = set()
        for i, route in enumerate(self.paths):
            name = route.stream_name
            if not _NAME.match(name):
                raise ValueError(f"paths[{i}].name: {name!r} is not a stream name (letters, digits, '_' and '-', "
                                 "not starting with '_'); set name")
            if route.path in seen_paths:
                raise ValueError(f"paths[{i}].path: {route.path!r} is configured twice")
            if name in seen_names:
                raise ValueError(f"paths[{i}].name: {name!r} is used twice; give each path its own name")
            seen_paths.add(route.path)
            seen_names.add(name)
        return self

    def stream_id(self, name: str) -> str:
        return f"{self.id}.{name}"

    def security_warnings(self) -> list[str]:
        """What lets someone on the network read or inject deliveries (empty: nothing known)."""
        out = []
        if self.allow_insecure_http:
            out.append(f"allow_insecure_http: plain HTTP on {self.address}:{self.port}; only a TLS-terminating "
                       "reverse proxy should reach it")
        out += [f"paths {p.path}: provider none: anyone who reaches it can post events (no signature check)"
                for p in self.paths if p.provider == "none"]
        return out
