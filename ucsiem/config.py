"""Configuration: one YAML file, validated by pydantic, every error reported with its key path.

Unknown keys are errors (a misspelt option silently ignored is a SOC's worst kind of bug).
"""

from __future__ import annotations

import os
import socket
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ucsiem.config_common import SaslConfig as SaslConfig
from ucsiem.config_common import Strict as Strict
from ucsiem.config_common import TlsConfig as TlsConfig
from ucsiem.config_common import broker_address as broker_address
from ucsiem.config_common import collect_deprecations, end_collecting
from ucsiem.config_common import kafka_topic_name as kafka_topic_name
from ucsiem.config_common import read_secret as read_secret
from ucsiem.correlate.config import CorrelationConfig
from ucsiem.enrich.config import EnrichConfig, FileSourceConfig
from ucsiem.errors import ConfigError
from ucsiem.inputs.syslog_config import UNROUTED, SyslogInputConfig
from ucsiem.inputs.unrouted import UNROUTED_PARSER
from ucsiem.inputs.webhook_config import REJECTED, WebhookInputConfig
from ucsiem.inputs.webhook_sender import SENDER_PARSER
from ucsiem.outputs.registry import ElasticsearchOutputConfig as ElasticsearchOutputConfig
from ucsiem.outputs.registry import FileOutputConfig as FileOutputConfig
from ucsiem.outputs.registry import KafkaOutputConfig as KafkaOutputConfig
from ucsiem.outputs.registry import OutputConfig as OutputConfig
from ucsiem.outputs.registry import StdoutOutputConfig as StdoutOutputConfig
from ucsiem.outputs.registry import output_types
from ucsiem.sizes import ByteSize

DEFAULT_EXCLUDE = ["*.gz", "*.bz2", "*.xz", "*.zip", "*.zst", "*.7z"]


class MetricsConfig(Strict):
    """Prometheus /metrics, /healthz and /readyz (ucsiem/metrics.py). They have no authentication: loopback only,
    unless allow_non_loopback says otherwise (put a reverse proxy with TLS and auth in front, or a firewall)."""

    allow_non_loopback: bool = Field(
        False, description="Accept an address other hosts can reach: the endpoints have no authentication (put a "
                           "TLS reverse proxy with auth, or a firewall, in front).")
    address: str = Field("127.0.0.1", description="Listen address: `127.0.0.1`, `::1` or `localhost` (others only "
                                                  "with `allow_non_loopback`).")
    port: int = Field(9464, ge=1, le=65535, description="TCP port of `/metrics`, `/healthz` and `/readyz`.")

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
    name: str = Field(default_factory=socket.gethostname, description="Stamped in `agent.name`.",
                      json_schema_extra={"doc_default": "host name"})
    data_dir: Path = Field(
        Path("/var/lib/ucsiem"),
        description="Holds `checkpoints.json` (the saved read positions), the spool and `dead-letters.ndjson`; the "
                    "agent makes it 0700 and creates every file 0600 (umask 077).")
    parser_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra folders, each holding plugin folders; refused if another user can write to them or to "
                    "anything in or above them (see Writing a parser).")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe level logged (the agent logs JSON lines to stderr).")
    stats_interval_secs: float = Field(60.0, ge=0, description="How often the counters are logged (0: never).")
    metrics: MetricsConfig | None = Field(
        None, description="Serve `/metrics`, `/healthz`, `/readyz` (see Metrics and health); off when absent, "
                          "`metrics: {}` for the defaults below.")


class FileInputConfig(Strict):
    type: Literal["file"] = Field("file", description="Input type: `file` (may be left out).")
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Stable id; keys the saved positions. Renaming it re-reads the files.")
    paths: list[str] = Field(min_length=1, description="Glob patterns (a single pattern may be given as a string).")
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE),
                               description="Glob patterns (file name or full path) to skip; by default compressed "
                                           "files.")
    parser: str = Field(description="Parser id (`ucsiem parsers list`).")
    parser_options: dict[str, Any] = Field(
        default_factory=dict, description="The parser's own options, validated by its options model.")
    start_at: Literal["beginning", "end"] = Field(
        "beginning", description="`end`: files found at the very first start (no saved position) are read from "
                                 "their end.")
    timezone: str = Field("UTC", description="IANA zone for timestamps that carry none.")
    max_record_bytes: ByteSize = Field(
        1_048_576, ge=256, description="Longer records are cut, flagged `log.flags: [truncated]`; the rest of the "
                                       "line is skipped without being loaded.")
    read_chunk_bytes: ByteSize = Field(1_048_576, ge=4096, description="Bytes read per file per turn.")
    poll_interval_secs: float = Field(
        1.0, gt=0, description="Polling fallback when inotify does not report (NFS, inotify limits).")
    scan_interval_secs: float = Field(
        10.0, gt=0, description="How often the globs are expanded again (new files, rotation).")
    close_inactive_secs: float = Field(
        300.0, gt=0, description="Idle files are closed (and reopened when they grow).")
    keep_original: bool = Field(
        False, description="Copy each raw record into `event.original` (dead letters always carry it); up to 64 KiB "
                           "per event and 1 MiB per record, so a record that gives many events is not copied into "
                           "each.")
    max_events_per_record: int = Field(
        10_000, ge=1, description="Events one record may give (a JSON API page); the rest become one "
                                  "`too_many_events` dead letter.")

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



class SpoolConfig(Strict):
    enabled: bool = Field(False, description="Turn the spool on: a durable queue on disk between the parse stage "
                                             "and the outputs.")
    path: Path | None = Field(None, description="The SQLite file (default: `<data_dir>/spool.db`).")
    max_bytes: ByteSize = Field(1_073_741_824, ge=1_048_576, description="Bound on spooled event bytes.")
    when_full: Literal["block", "drop_newest"] = Field(
        "block", description="`block`: inputs wait (nothing lost); `drop_newest`: new batches are dropped, logged and "
                             "counted (a webhook delivery dropped so is answered 503, and the sender retries).")
    encryption_key_file: Path | None = Field(
        None, description="AES-256-GCM at rest (`cryptography`): key file of 64 hex digits or the base64 of 32 random "
                          "bytes (`ucsiem spool keygen`); raw bytes and typed passwords are refused (`base64 -w0 OLD > "
                          "NEW` keeps an older raw key). A secret file (below). Each batch has a random nonce, and the "
                          "spool's random id and the batch's position as authenticated data. A wrong key is refused at "
                          "start naming the key file; a batch altered on disk, or moved from another spool, is copied "
                          "to the spool's `quarantine` table, logged, counted and skipped, and the rest is delivered.")


class PipelineConfig(Strict):
    workers: int | Literal["auto"] = Field(
        "auto", description="Parser processes (`auto`: one per CPU; `0`: parse in the agent process).")
    batch_max_records: int = Field(
        512, ge=1, description="Records per batch sent to a parse worker (a batch never spans more than one read of "
                               "`read_chunk_bytes`); an output joins batches into sends of up to 2,048 events.")
    max_batches_in_flight: int = Field(
        8, ge=1, description="Batches waiting for the parse workers; as many again may wait for the outputs (memory "
                             "feed). The reader waits beyond this.")
    shutdown_timeout_secs: float = Field(
        30.0, gt=0, description="On SIGTERM, time to deliver what is in flight (the rest is re-read at the next "
                                "start).")

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
    agent: AgentConfig = Field(default_factory=AgentConfig, description="The agent itself: name, state, logs.")
    inputs: list[InputConfig] = Field(min_length=1, description="Where records come from: file, syslog, webhook.")
    outputs: list[OutputConfig] = Field(min_length=1, description="Where events go: every event to every output.")
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig, description="Parse workers and batching.")
    spool: SpoolConfig = Field(default_factory=SpoolConfig, description="The durable on-disk queue.")
    enrich: EnrichConfig = Field(default_factory=EnrichConfig,
                                 description="Identity, phone number, GeoIP/ASN enrichment and privacy.")
    correlation: CorrelationConfig | None = Field(
        None, description="Detection and correlation rules evaluated on the events (alerts); off when absent.")
    # Deprecated keys met when the file was read (renamed keys are still accepted): a message each, naming the new key.
    _deprecations: list[str] = PrivateAttr(default_factory=list)

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

    @property
    def deprecations(self) -> list[str]:
        return list(self._deprecations)

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
    return cfg.output_name()


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
    found, token = collect_deprecations()
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None
    finally:
        end_collecting(token)
    config._deprecations = found
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
        elif (part in output_types() and loc.startswith("outputs") and loc.count(".") == 0) or (
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
        message = f"unknown type {err.get('input', {}).get('type')!r}; use one of: {', '.join(output_types())}"
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
        out.resolve_paths(f"outputs[{i}]", rel, secret)
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
