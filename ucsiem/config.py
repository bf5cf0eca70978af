"""Configuration: one YAML file, validated by pydantic, every error reported with its key path.

Unknown keys are errors (a misspelt option silently ignored is a SOC's worst kind of bug).
"""

from __future__ import annotations

import os
import re
import socket
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.enrich.config import EnrichConfig, FileSourceConfig
from ucsiem.errors import ConfigError
from ucsiem.inputs.syslog_config import UNROUTED, SyslogInputConfig
from ucsiem.inputs.unrouted import UNROUTED_PARSER
from ucsiem.inputs.webhook_config import REJECTED, WebhookInputConfig
from ucsiem.inputs.webhook_sender import SENDER_PARSER
from ucsiem.outputs.routing import ALERTS_INDEX_PREFIX, index_problem, template_problem, topic_problem
from ucsiem.sizes import ByteSize

DEFAULT_EXCLUDE = ["*.gz", "*.bz2", "*.xz", "*.zip", "*.zst", "*.7z"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricsConfig(Strict):
    """Prometheus /metrics, /healthz and /readyz (ucsiem/metrics.py). They have no authentication: loopback only,
    unless allow_non_loopback says otherwise (put a reverse proxy with TLS and auth in front, or a firewall)."""

    allow_non_loopback: bool = Field(False, description="Accept an address other hosts can reach (no auth!).")
    address: str = Field("127.0.0.1", description="Listen address: 127.0.0.1, ::1 or localhost.")
    port: int = Field(9464, ge=1, le=65535, description="TCP port of /metrics, /healthz and /readyz.")

    @field_validator("address")
    @classmethod
    def _loopback(cls, value: str, info: ValidationInfo) -> str:
        import ipaddress

        try:
            loopback = value == "localhost" or ipaddress.ip_address(value).is_loopback
        except ValueError:
            loopback = False
        if not loopback and not info.data.get("allow_non_loopback", False):
            raise ValueError(f"{value!r} is not a loopback address; the metrics and health endpoints have no "
                             "authentication: use 127.0.0.1 (scrape through a local agent or a TLS reverse proxy), "
                             "or set agent.metrics.allow_non_loopback: true to accept that risk knowingly")
        return value


class AgentConfig(Strict):
    name: str = Field(default_factory=socket.gethostname, description="Stamped in agent.name.")
    data_dir: Path = Field(Path("/var/lib/ucsiem"), description="Where the registry of read positions lives.")
    parser_dirs: list[Path] = Field(default_factory=list, description="Extra folders of parser plugins.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    stats_interval_secs: float = Field(60.0, ge=0, description="How often to log counters (0: never).")
    metrics: MetricsConfig | None = Field(None, description="Prometheus metrics and health endpoints (off: absent).")


class FileInputConfig(Strict):
    type: Literal["file"] = "file"
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Stable id; keys this input's read positions.")
    paths: list[str] = Field(min_length=1, description="Glob patterns of files to tail.")
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE), description="Glob patterns to skip.")
    parser: str = Field(description="Parser id (see `ucsiem parsers list`).")
    parser_options: dict[str, Any] = Field(default_factory=dict)
    start_at: Literal["beginning", "end"] = Field(
        "beginning", description="Where to start in files found at the first start with no saved position."
    )
    timezone: str = Field("UTC", description="Zone for timestamps that carry none.")
    max_record_bytes: ByteSize = Field(1_048_576, ge=256, description="Longer records are cut and flagged.")
    read_chunk_bytes: ByteSize = Field(1_048_576, ge=4096)
    poll_interval_secs: float = Field(1.0, gt=0, description="Fallback polling when no change notification.")
    scan_interval_secs: float = Field(10.0, gt=0, description="How often globs are expanded again.")
    close_inactive_secs: float = Field(300.0, gt=0, description="Close files idle this long (reopened on growth).")
    keep_original: bool = Field(False, description="Copy the raw record into event.original.")
    max_events_per_record: int = Field(
        10_000, ge=1, description="Events one record may give (an API page); the rest become one dead letter."
    )

    @field_validator("paths", "exclude", mode="before")
    @classmethod
    def _one_pattern(cls, value: Any) -> Any:
        """`paths: /var/log/x/*.log` (a string, not a list) is one pattern."""
        return [value] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
        return value


class FileOutputConfig(Strict):
    type: Literal["file"] = "file"
    path: Path = Field(description="NDJSON file the events are appended to.")
    max_bytes: ByteSize = Field(104_857_600, ge=1024, description="Rotate when the file would grow past this.")
    max_files: int = Field(5, ge=1, description="Rotated files kept: path.1 ... path.N.")
    fsync: bool = Field(True, description="fsync before each checkpoint (survives power loss, not just crashes).")


class StdoutOutputConfig(Strict):
    type: Literal["stdout"] = "stdout"


class TlsConfig(Strict):
    ca_file: Path | None = Field(None, description="PEM CA bundle to trust (default: the system store).")
    cert_file: Path | None = Field(None, description="PEM client certificate (mutual TLS).")
    key_file: Path | None = Field(None, description="PEM private key of cert_file.")
    check_hostname: bool = Field(
        True, description="Check the server name (or IP) against its certificate; false is a warned risk.")

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS needs both)")
        return self


def read_secret(inline: SecretStr | None, path: Path | None, key: str = "password or key file") -> str | None:
    """A password or key given inline or, better, in a file only the agent can read (ucsiem/secrets.py).

    `key` names the setting in the ConfigError raised for an unsafe or unreadable file."""
    from ucsiem import secrets

    if path is not None:
        return secrets.read_secret(path, key).decode().strip()
    return inline.get_secret_value() if inline is not None else None


class SaslConfig(Strict):
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    username: str
    password: SecretStr | None = None
    password_file: Path | None = Field(None, description="File holding the password (preferred to password).")

    @model_validator(mode="after")
    def _one_password(self) -> SaslConfig:
        if (self.password is None) == (self.password_file is None):
            raise ValueError("give exactly one of password or password_file")
        return self


def broker_address(value: str) -> str:
    # The value is not echoed: a mistaken `user:password@host` must not reach the journal.
    if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?", value):
        raise ValueError("expected host:port (e.g. kafka1.example.com:9093); credentials go in sasl:")
    return value


def _es_host(value: str) -> str:
    # The value is not echoed: it may hold a password.
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ValueError("not a URL; expected https://host:port") from None
    if url.username is not None or url.password is not None:
        raise ValueError("credentials in a URL end up in logs and process listings: remove 'user:password@' "
                         "and set username with password_file (or api_key_file) on this output")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("expected https://host:port (or http:// for a node without TLS)")
    return value


def _topic_template(value: str) -> str:
    if (problem := template_problem(value)) is not None:
        raise ValueError(problem)
    return value


def kafka_topic_name(value: str) -> str:
    if (problem := topic_problem(value)) is not None:
        raise ValueError(problem)
    return value


_INSECURE_HINT = ("set allow_insecure: true on this output to accept that risk knowingly "
                  "(the agent then still warns at every start)")


class KafkaOutputConfig(Strict):
    type: Literal["kafka"] = "kafka"
    id: str = Field("kafka", pattern=r"^[A-Za-z0-9_.-]+$", description="Names this output in logs and the spool.")
    bootstrap_servers: list[Annotated[str, AfterValidator(broker_address)]] = Field(
        min_length=1, description="host:port of one or more brokers.")
    topic: Annotated[str, AfterValidator(_topic_template)] = Field(
        "ucsiem.{event.dataset}", description="Topic template; {field} holes from an allow-list of fields.")
    fallback_topic: Annotated[str, AfterValidator(kafka_topic_name)] = Field(
        "ucsiem.unrouted", description="Where an event goes whose rendered topic is not a legal name.")
    key_field: str | None = Field(None, description="Event field used as the message key (partitioning).")
    alert_key_field: str | None = Field(
        "event.id", description="Message key of correlation alerts (re-sent with the same event.id as they grow; "
                                "a compacted topic keeps the newest); null: key_field, as other events.")
    acks: Literal["all", 1, 0] = Field("all", description="Broker acknowledgement level; 'all' for no loss.")
    idempotent: bool = Field(True, description="Idempotent producer (needs acks: all).")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    linger_ms: int = Field(5, ge=0, description="Wait this long to fill a batch.")
    max_batch_bytes: ByteSize = Field(1_048_576, ge=1024, description="Per-partition producer batch size.")
    max_message_bytes: ByteSize = Field(1_000_000, ge=1024,
                                   description="Larger events become dead letters (keep <= the broker's limit).")
    request_timeout_ms: int = Field(30_000, ge=1000)
    client_id: str = "ucsiem"
    tls: TlsConfig | None = None
    sasl: SaslConfig | None = None
    allow_insecure: bool = Field(False, description="Accept SASL credentials without TLS or without a name check.")

    @model_validator(mode="after")
    def _acks(self) -> KafkaOutputConfig:
        if self.idempotent and self.acks != "all":
            raise ValueError("idempotent: true needs acks: all (set idempotent: false to use fewer acks)")
        return self

    @model_validator(mode="after")
    def _private_credentials(self) -> KafkaOutputConfig:
        if self.sasl is not None and not self.allow_insecure:
            if self.tls is None:
                raise ValueError(f"sasl without tls sends the password (with {self.sasl.mechanism}) and every event "
                                 f"in cleartext: add tls: {{ca_file: ...}}, or {_INSECURE_HINT}")
            if not self.tls.check_hostname:
                raise ValueError("sasl with tls.check_hostname: false gives the password to any server holding a "
                                 f"certificate from the CA: remove check_hostname: false, or {_INSECURE_HINT}")
        return self

    def security_warnings(self) -> list[str]:
        """What lets someone on the network read or redirect this output's traffic (empty: nothing known)."""
        if self.tls is None:
            protocol = "SASL_PLAINTEXT" if self.sasl else "PLAINTEXT"
            what = "events and the SASL password" if self.sasl else "events"
            return [f"no tls: {what} go to Kafka in cleartext ({protocol})"]
        if not self.tls.check_hostname:
            return ["tls.check_hostname: false: any certificate the CA signed is accepted for any broker name"]
        return []


class ElasticsearchOutputConfig(Strict):
    type: Literal["elasticsearch"] = "elasticsearch"
    id: str = Field("elasticsearch", pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Names this output in logs and the spool.")
    hosts: list[Annotated[str, AfterValidator(_es_host)]] = Field(
        min_length=1, description="Node URLs, e.g. https://es1.example.com:9200 (no credentials in them).")
    namespace: str = Field("default", pattern=r"^[a-z0-9_]+$",
                           description="Data stream namespace: logs-uc.<dataset>-<namespace>.")
    index_mode: Literal["auto", "data_stream", "index"] = Field(
        "auto", description="data_stream, daily indices (index), or auto: data streams where the node has them.")
    alerts_index: str | None = Field(
        None, description=f"Plain index or alias for correlation alerts, updated in place (default "
                          f"{ALERTS_INDEX_PREFIX}<namespace>; the alerts template covers {ALERTS_INDEX_PREFIX}*).")
    manage_templates: bool = Field(True, description="Install or update the ucsiem templates at start.")
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    api_key: SecretStr | None = Field(None, description="Base64 'id:key' API key.")
    api_key_file: Path | None = None
    tls: TlsConfig | None = None
    allow_insecure: bool = Field(False, description="Accept credentials over http:// or without a name check.")
    request_timeout_secs: float = Field(30.0, gt=0)
    max_bulk_bytes: ByteSize = Field(10_485_760, ge=65_536, description="A batch is split into bulk requests this big.")
    index_date_window_days: int = Field(
        365, ge=1, description="index_mode index: an event dated further than this from event.ingested goes to "
                               "the index of its ingest day.")

    @field_validator("alerts_index")
    @classmethod
    def _alerts_index(cls, value: str | None) -> str | None:
        if value is not None and (problem := index_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @property
    def alerts_target(self) -> str:
        """Where alerts go: alerts_index, or ucsiem-alerts-<namespace>."""
        return self.alerts_index or f"{ALERTS_INDEX_PREFIX}{self.namespace}"

    @model_validator(mode="after")
    def _auth(self) -> ElasticsearchOutputConfig:
        if self.username is not None and (self.password is None) == (self.password_file is None):
            raise ValueError("username needs exactly one of password or password_file")
        if self.api_key is not None and self.api_key_file is not None:
            raise ValueError("give api_key or api_key_file, not both")
        if self.username is not None and (self.api_key is not None or self.api_key_file is not None):
            raise ValueError("choose basic auth (username) or an API key, not both")
        return self

    @model_validator(mode="after")
    def _private_credentials(self) -> ElasticsearchOutputConfig:
        schemes = {urlsplit(h).scheme for h in self.hosts}
        if len(schemes) > 1:
            raise ValueError("hosts mixes http:// and https:// URLs: use https:// for every node")
        if self.tls is not None and schemes == {"http"}:
            raise ValueError("tls is set but hosts are http://: use https:// URLs")
        has_credentials = self.username is not None or self.api_key is not None or self.api_key_file is not None
        if has_credentials and not self.allow_insecure:
            if schemes == {"http"}:
                raise ValueError("credentials over http:// go in cleartext with every request: use https:// "
                                 f"hosts (with tls: {{ca_file: ...}} for a private CA), or {_INSECURE_HINT}")
            if self.tls is not None and not self.tls.check_hostname:
                raise ValueError("credentials with tls.check_hostname: false go to any server holding a "
                                 f"certificate from the trusted CAs: remove check_hostname: false, or {_INSECURE_HINT}")
        return self

    def security_warnings(self) -> list[str]:
        """What lets someone on the network read or redirect this output's traffic (empty: nothing known)."""
        if urlsplit(self.hosts[0]).scheme == "http":
            has_credentials = self.username is not None or self.api_key is not None or self.api_key_file is not None
            what = "events and credentials" if has_credentials else "events"
            return [f"http:// hosts: {what} go to Elasticsearch in cleartext"]
        if self.tls is not None and not self.tls.check_hostname:
            return ["tls.check_hostname: false: any certificate the trusted CAs signed is accepted for any node name"]
        return []


OutputConfig = Annotated[
    FileOutputConfig | StdoutOutputConfig | KafkaOutputConfig | ElasticsearchOutputConfig,
    Field(discriminator="type"),
]


class SpoolConfig(Strict):
    enabled: bool = Field(False, description="Put a durable on-disk queue between the pipeline and the outputs.")
    path: Path | None = Field(None, description="SQLite file (default: <data_dir>/spool.db).")
    max_bytes: ByteSize = Field(1_073_741_824, ge=1_048_576, description="Bound on the spooled event bytes.")
    when_full: Literal["block", "drop_newest"] = Field(
        "block", description="block: inputs wait (nothing lost); drop_newest: new batches are dropped and counted.")
    encryption_key_file: Path | None = Field(
        None, description="32-byte key (raw, hex or base64; `ucsiem spool keygen`): AES-256-GCM at rest.")


class PipelineConfig(Strict):
    workers: int | Literal["auto"] = Field(
        "auto", description="Parser processes; 0 parses in the agent process; auto = number of CPUs."
    )
    batch_max_records: int = Field(2048, ge=1, description="Records per batch (bytes: see read_chunk_bytes).")
    max_batches_in_flight: int = Field(
        8, ge=1, description="Batches waiting for the parse workers; as many again may wait for the outputs.")
    shutdown_timeout_secs: float = Field(30.0, gt=0)

    @field_validator("workers")
    @classmethod
    def _workers(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("workers must be 0 or more, or 'auto'")
        return value

    def worker_count(self) -> int:
        return (os.cpu_count() or 1) if self.workers == "auto" else int(self.workers)


def _input_type(value: Any) -> str:
    """`type` may be left out for file inputs (the first kind there was)."""
    kind = value.get("type", "file") if isinstance(value, dict) else getattr(value, "type", "file")
    return kind if isinstance(kind, str) else "file"


InputConfig = Annotated[
    Annotated[FileInputConfig, Tag("file")] | Annotated[SyslogInputConfig, Tag("syslog")]
    | Annotated[WebhookInputConfig, Tag("webhook")],
    Discriminator(_input_type)]


class ParseTarget(Strict):
    """One stream of records and its parser: a file input, or one route of a network input. The parse
    workers keep a normalizer per target; batches name their target."""

    id: str
    where: str  # the config key that chose the parser, for error messages
    parser: str
    parser_options: dict[str, Any] = Field(default_factory=dict)
    timezone: str = "UTC"
    keep_original: bool = False
    max_events_per_record: int = 10_000


class Config(Strict):
    agent: AgentConfig = Field(default_factory=AgentConfig)
    inputs: list[InputConfig] = Field(min_length=1)
    outputs: list[OutputConfig] = Field(min_length=1)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    spool: SpoolConfig = Field(default_factory=SpoolConfig)
    enrich: EnrichConfig = Field(default_factory=EnrichConfig)
    correlation: CorrelationConfig | None = Field(
        None, description="Detection and correlation rules evaluated on the events (alerts); off when absent.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for i, inp in enumerate(self.inputs):
            if inp.id in seen:
                raise ValueError(f"inputs[{i}].id {inp.id!r} is used twice; input ids must be unique")
            seen.add(inp.id)
        streams = [t.id for t in self.parse_targets()]
        for stream in {s for s in streams if streams.count(s) > 1}:
            raise ValueError(f"parse stream {stream!r} is both a file input id and a syslog route (<input>.<route>)"
                             "; rename one")
        names: set[str] = set()
        for i, out in enumerate(self.outputs):
            if output_name(out) in names:
                raise ValueError(f"outputs[{i}]: a second output named {output_name(out)!r}; give each an id")
            names.add(output_name(out))
        return self

    def spool_path(self) -> Path:
        return self.spool.path or self.agent.data_dir / "spool.db"

    def file_inputs(self) -> list[FileInputConfig]:
        return [inp for inp in self.inputs if isinstance(inp, FileInputConfig)]

    def parse_targets(self) -> list[ParseTarget]:
        out: list[ParseTarget] = []
        for i, inp in enumerate(self.inputs):
            common = {"keep_original": inp.keep_original, "max_events_per_record": inp.max_events_per_record}
            if isinstance(inp, FileInputConfig):
                out.append(ParseTarget(id=inp.id, where=f"inputs[{i}].parser", parser=inp.parser,
                                       parser_options=inp.parser_options, timezone=inp.timezone, **common))
                continue
            if isinstance(inp, WebhookInputConfig):  # a stream per path, and one of refused deliveries
                for j, hook in enumerate(inp.paths):
                    out.append(ParseTarget(id=inp.stream_id(hook.stream_name), where=f"inputs[{i}].paths[{j}].parser",
                                           parser=hook.parser, parser_options=hook.parser_options,
                                           timezone=hook.timezone or inp.timezone, **common))
                out.append(ParseTarget(id=inp.stream_id(REJECTED), where=f"inputs[{i}]", parser=SENDER_PARSER,
                                       **common))
                continue
            for j, route in enumerate(inp.routes):
                out.append(ParseTarget(id=inp.stream_id(route.name), where=f"inputs[{i}].routes[{j}].parser",
                                       parser=route.parser, parser_options=route.parser_options,
                                       timezone=route.timezone or inp.timezone, **common))
            fallback = inp.default_parser or UNROUTED_PARSER
            out.append(ParseTarget(id=inp.stream_id(UNROUTED), where=f"inputs[{i}].default_parser", parser=fallback,
                                   timezone=inp.timezone, **common))
        return out


def output_name(cfg: OutputConfig) -> str:
    """Stable name of an output: keys its spool cursor and labels its logs and counters."""
    if isinstance(cfg, FileOutputConfig):
        return f"file:{cfg.path}"
    if isinstance(cfg, StdoutOutputConfig):
        return "stdout"
    return f"{cfg.type}:{cfg.id}"


def load_config(path: Path) -> Config:
    """Read and validate a config file; ConfigError lists every problem with its key path."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError.unreadable(str(path), exc) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ConfigError(str(path), [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the file must hold a mapping with inputs: and outputs:"])
    return parse_config(data, str(path), base_dir=path.parent.resolve())


def parse_config(data: dict[str, Any], source: str, base_dir: Path | None = None) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None
    if base_dir is not None:
        _resolve_paths(config, base_dir, source)
    if config.correlation is not None:
        _check_rules(config.correlation, source)
    return config


def _check_rules(correlation: CorrelationConfig, source: str) -> None:
    """Every problem of every rule file, named by file and rule, before anything runs (`ucsiem check` too)."""
    from ucsiem.correlate import RuleError, load_rules

    if not correlation.rules:
        raise ConfigError(source, ["correlation.rules: name at least one rule file or directory "
                                   "(the shipped pack: the rules/ folder of ucsiem, see `ucsiem rules list`)"])
    try:
        load_rules(correlation.rules)
    except RuleError as exc:
        raise ConfigError(source, [f"correlation.rules: {problem}" for problem in exc.problems]) from None


def _describe(err: Any) -> str:
    loc = ""
    for part in err["loc"]:
        if isinstance(part, int):
            loc += f"[{part}]"
        elif (part in ("file", "stdout", "kafka", "elasticsearch") and loc.startswith("outputs")) or (
                part in ("file", "syslog", "webhook") and loc.startswith("inputs") and loc.count(".") == 0):
            continue  # the discriminator tag pydantic inserts; the user never wrote it
        else:
            loc += f".{part}" if loc else str(part)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        guess = did_you_mean(Config, err["loc"])
        hint = f"did you mean {guess!r}?" if guess else "check the spelling;"
        message = f"unknown key ({hint} see the configuration reference in README.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "union_tag_invalid" and loc.startswith("inputs"):
        message = f"unknown type {err.get('input', {}).get('type')!r}; use one of: file, syslog, webhook"
    elif err["type"] == "union_tag_invalid":
        message = f"unknown type {err.get('input', {}).get('type')!r}; use one of: file, stdout, kafka, elasticsearch"
    return f"{loc or '(top level)'}: {message}"


def did_you_mean(root: type[BaseModel], loc: Sequence[int | str]) -> str | None:
    """The real key closest to the unknown one at the end of `loc` (a pydantic error location, discriminator
    tags included), among the field names of the model(s) it was written in; None: nothing close."""
    import difflib

    def leaves(tp: Any) -> list[Any]:
        if get_origin(tp) is Annotated:
            return leaves(get_args(tp)[0])
        if get_origin(tp) in (Union, types.UnionType):
            return [leaf for arg in get_args(tp) for leaf in leaves(arg)]
        return [tp]

    current: list[Any] = [root]
    for part in loc[:-1]:
        found: list[Any] = []
        for tp in current:
            if isinstance(part, int):
                found += leaves(get_args(tp)[0]) if get_origin(tp) is list else []
            elif get_origin(tp) is dict:
                found += leaves(get_args(tp)[1])
            elif isinstance(tp, type) and issubclass(tp, BaseModel):
                if part in tp.model_fields:
                    found += leaves(tp.model_fields[part].annotation)
                elif "type" in tp.model_fields and part in get_args(tp.model_fields["type"].annotation):
                    found.append(tp)  # the discriminator tag pydantic puts in the location
        current = found
    names = sorted({name for tp in current if isinstance(tp, type) and issubclass(tp, BaseModel)
                    for name in tp.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6) if loc else []
    return close[0] if close else None


def _resolve_paths(config: Config, base_dir: Path, source: str = "configuration") -> None:
    """Relative paths in a config file are relative to that file, not to the current directory.

    Secret files (`credential:NAME` too, see ucsiem/secrets.py) are checked here, so `ucsiem check`
    refuses one other users can read; a missing one is reported when it is first read."""
    from ucsiem import secrets

    problems: list[str] = []
    secret_fields = ("key_file", "password_file", "api_key_file")  # private keys and credentials, not certificates

    def rel(p: Path) -> Path:
        return p if p.is_absolute() else (base_dir / p)

    def secret(p: Path, key: str) -> Path:
        try:
            path = secrets.resolve_secret_path(p, base_dir)
            secrets.check_secret_file(path)
        except secrets.SecretFileError as exc:
            problems.append(f"{key}: {exc}")
            return p
        return path

    config.agent.data_dir = rel(config.agent.data_dir)
    config.agent.parser_dirs = [rel(p) for p in config.agent.parser_dirs]
    for i, inp in enumerate(config.inputs):
        if isinstance(inp, FileInputConfig):
            inp.paths = [p if os.path.isabs(p) else str(base_dir / p) for p in inp.paths]
            continue
        if isinstance(inp, WebhookInputConfig):
            for j, hook in enumerate(inp.paths):
                if hook.secret_file is not None:
                    hook.secret_file = secret(hook.secret_file, f"inputs[{i}].paths[{j}].secret_file")
            if inp.tls is not None:
                inp.tls.cert_file = rel(inp.tls.cert_file)
                inp.tls.key_file = secret(inp.tls.key_file, f"inputs[{i}].tls.key_file")
                if inp.tls.client_ca_file is not None:
                    inp.tls.client_ca_file = rel(inp.tls.client_ca_file)
            continue
        for j, listener in enumerate(inp.listeners):
            if listener.tls is not None:
                key = f"inputs[{i}].listeners[{j}].tls"
                listener.tls.cert_file = rel(listener.tls.cert_file)
                listener.tls.key_file = secret(listener.tls.key_file, f"{key}.key_file")
                if listener.tls.client_ca_file is not None:
                    listener.tls.client_ca_file = rel(listener.tls.client_ca_file)
    for i, out in enumerate(config.outputs):
        if isinstance(out, FileOutputConfig):
            out.path = rel(out.path)
            continue
        for part in ("", "tls", "sasl"):
            owner = getattr(out, part, None) if part else out
            for name in ("ca_file", "cert_file", "key_file", "password_file", "api_key_file"):
                value = getattr(owner, name, None) if owner is not None else None
                if isinstance(value, Path):
                    key = ".".join(k for k in (f"outputs[{i}]", part, name) if k)
                    setattr(owner, name, secret(value, key) if name in secret_fields else rel(value))
    if config.spool.path is not None:
        config.spool.path = rel(config.spool.path)
    if config.spool.encryption_key_file is not None:
        config.spool.encryption_key_file = secret(config.spool.encryption_key_file, "spool.encryption_key_file")
    _resolve_enrich_paths(config.enrich, rel, secret)
    if config.correlation is not None:
        config.correlation.rules = [rel(p) for p in config.correlation.rules]
    if problems:
        raise ConfigError(source, problems)


def _resolve_enrich_paths(enrich: EnrichConfig, rel: Callable[[Path], Path],
                          secret: Callable[[Path, str], Path]) -> None:
    if enrich.identity is not None:
        for i, source in enumerate(enrich.identity.sources):
            key = f"enrich.identity.sources[{i}]"
            if isinstance(source, FileSourceConfig):
                source.path = rel(source.path)
                continue
            if source.password_file is not None:
                source.password_file = secret(source.password_file, f"{key}.password_file")
            if source.tls.ca_file is not None:
                source.tls.ca_file = rel(source.tls.ca_file)
    if enrich.geo is not None:
        enrich.geo.city_db = rel(enrich.geo.city_db) if enrich.geo.city_db is not None else None
        enrich.geo.asn_db = rel(enrich.geo.asn_db) if enrich.geo.asn_db is not None else None
    if enrich.privacy is not None and enrich.privacy.hmac_key_file is not None:
        enrich.privacy.hmac_key_file = secret(enrich.privacy.hmac_key_file, "enrich.privacy.hmac_key_file")
