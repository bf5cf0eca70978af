"""Every output in one place: its `type:` name, its config model, how it is built, how `ucsiem test output`
checks it and what else it can do, as libbeat's and Vector's output registries.

Adding an output: write its class (the `Output` protocol of `ucsiem.outputs.base`, heavy imports inside
its own module), its config model here (a subclass of `OutputSettings`, every field with a description),
and one `OutputSpec` in `OUTPUTS`; then `ucsiem docs generate` (its README reference). The config union,
the error messages, the agent, `ucsiem test output`, `ucsiem setup` and the README read this table; a
test checks that each entry is complete.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from ucsiem.config_common import Renamed, SaslConfig, Strict, TlsConfig, broker_address, kafka_topic_name
from ucsiem.outputs.routing import ALERTS_INDEX_PREFIX, index_problem, template_problem
from ucsiem.sizes import ByteSize

if TYPE_CHECKING:
    from ucsiem.config import Config
    from ucsiem.outputs.base import Output

PathFixer = Callable[[Path], Path]  # a relative path -> the path from the config file's folder
SecretFixer = Callable[[Path, str], Path]  # (secret file, its key path) -> the checked path


class OutputSettings(Strict):
    """What every output's config model has: `type` (its registry name), a name and the hooks the
    configuration loader and the commands use. Subclasses add their keys."""

    type: str

    def output_name(self) -> str:
        """Stable name of the output: keys its spool cursor and labels its logs and counters."""
        return self.type

    def security_warnings(self) -> list[str]:
        """What lets someone on the network read or redirect this output's traffic (empty: nothing known)."""
        return []

    def risk_accepted(self) -> bool:
        """The user accepted the security_warnings knowingly (allow_insecure)."""
        return False

    def resolve_paths(self, key: str, rel: PathFixer, secret: SecretFixer) -> None:
        """Make this output's paths relative to the config file's folder and check its secret files; `key`
        is its key path (outputs[0]). Default: it has no paths."""


def _resolve_tls(tls: TlsConfig | None, key: str, rel: PathFixer, secret: SecretFixer) -> None:
    if tls is None:
        return
    tls.ca_file = rel(tls.ca_file) if tls.ca_file is not None else None
    tls.cert_file = rel(tls.cert_file) if tls.cert_file is not None else None
    tls.key_file = secret(tls.key_file, f"{key}.tls.key_file") if tls.key_file is not None else None


_INSECURE_HINT = ("set allow_insecure: true on this output to accept that risk knowingly "
                  "(the agent then still warns at every start)")


class FileOutputConfig(OutputSettings):
    """A local NDJSON file with size-based rotation (`ucsiem.outputs.file`)."""

    type: Literal["file"] = Field("file", description="Output type: `file`.")
    path: Path = Field(description="NDJSON file, one event per line; created mode 0600 (the agent runs with umask "
                                   "077: events hold names and numbers); a collector running as another user needs an "
                                   "ACL on its folder (`setfacl -d -m u:filebeat:r`).")
    max_bytes: ByteSize = Field(104_857_600, ge=1024, description="Rotate when the next batch would pass this size.")
    max_files: int = Field(5, ge=1, description="Rotated files kept (`path.1` newest ... `path.N`).")
    fsync: bool = Field(True, description="fsync before every checkpoint (power-loss safe, not just crash safe).")

    def output_name(self) -> str:
        return f"file:{self.path}"

    def resolve_paths(self, key: str, rel: PathFixer, secret: SecretFixer) -> None:
        self.path = rel(self.path)


class StdoutOutputConfig(OutputSettings):
    """NDJSON on standard output, for debugging and piping (`ucsiem.outputs.stdout`)."""

    type: Literal["stdout"] = Field("stdout", description="Output type: `stdout`.")

    def output_name(self) -> str:
        return "stdout"



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



class KafkaOutputConfig(OutputSettings):
    """Kafka topics through aiokafka, idempotent by default (`ucsiem.outputs.kafka`)."""

    renamed_keys: ClassVar[dict[str, Renamed]] = {
        "linger_ms": Renamed("linger_secs", divisor=1000),
        "request_timeout_ms": Renamed("request_timeout_secs", divisor=1000)}
    config_key: ClassVar[str] = "outputs (type kafka)"

    type: Literal["kafka"] = Field("kafka", description="Output type: `kafka`.")
    id: str = Field("kafka", pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Names the output in logs, counters and the spool (`kafka:<id>`).")
    bootstrap_servers: list[Annotated[str, AfterValidator(broker_address)]] = Field(
        min_length=1, description="`host:port` of one or more brokers.")
    topic: Annotated[str, AfterValidator(_topic_template)] = Field(
        "ucsiem.{event.dataset}",
        description="Template: `{field}` is replaced by the event's value (e.g. `uc-{event.kind}`, "
                    "`ucsiem.{event.dataset}`). Only fields no log line can set are allowed: `event.dataset`, "
                    "`event.module`, `event.kind`, `event.category`, `event.type`, `event.outcome`, `observer.vendor`, "
                    "`observer.product`, `observer.type`, `agent.name`; text outside the holes is `[A-Za-z0-9._-]` "
                    "and the template cannot start with `__`. In a value, characters Kafka refuses become `_` (cut at "
                    "249).")
    fallback_topic: Annotated[str, AfterValidator(kafka_topic_name)] = Field(
        "ucsiem.unrouted",
        description="Where an event goes when its rendered topic is still no legal name (empty, `.`, `..`, or one of "
                    "Kafka's internal `__` topics), with one warning per such name.")
    key_field: str | None = Field(
        None, description="Event field used as the message key (e.g. `source.ip`, `uc.call.id`): same key, same "
                          "partition, in order.")
    alert_key_field: str | None = Field(
        "event.id", description="Message key of correlation alerts, whatever `key_field` says: every version of an "
                                "alert lands in one partition, in order, and a compacted topic keeps the newest; "
                                "`null` keys alerts like other events (`key_field`).")
    acks: Literal["all", 1, 0] = Field("all", description="Broker acknowledgement level; `all` for no loss.")
    idempotent: bool = Field(True, description="Idempotent producer (needs `acks: all`).")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "zstd", description="Compression of the producer's batches (codecs installed with the package). zstd "
                            "(level 3) by default: aiokafka writes lz4 at level 9 (lz4 HC), three times zstd's CPU "
                            "for a worse ratio (~15 against ~5 µs an event).")
    linger_secs: float = Field(
        0.005, ge=0, description="Producer batching: wait this long to fill a batch (was `linger_ms`, in ms).")
    max_batch_bytes: ByteSize = Field(1_048_576, ge=1024, description="Producer batching: batch size per partition.")
    max_message_bytes: ByteSize = Field(
        1_000_000, ge=1024, description="Larger events become dead letters (keep it at or below the broker's "
                                        "`message.max.bytes`).")
    request_timeout_secs: float = Field(
        30.0, ge=1, description="A message not acknowledged in this time is retried; the sender warns after each "
                                "such wait (was `request_timeout_ms`, in ms).")
    client_id: str = Field("ucsiem", description="Client id the brokers see (quotas, logs).")
    tls: TlsConfig | None = Field(None, description="TLS to the brokers (PEM files); without it the connection is "
                                                    "PLAINTEXT.")
    sasl: SaslConfig | None = Field(None, description="SASL authentication; needs `tls` (or `allow_insecure`).")
    allow_insecure: bool = Field(
        False, description="Accept `sasl` without `tls` or with `check_hostname: false` (still warned at every "
                           "start).")

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

    def output_name(self) -> str:
        return f"kafka:{self.id}"

    def risk_accepted(self) -> bool:
        return self.allow_insecure

    def resolve_paths(self, key: str, rel: PathFixer, secret: SecretFixer) -> None:
        _resolve_tls(self.tls, key, rel, secret)
        if self.sasl is not None and self.sasl.password_file is not None:
            self.sasl.password_file = secret(self.sasl.password_file, f"{key}.sasl.password_file")


class ElasticsearchOutputConfig(OutputSettings):
    """Elasticsearch data streams or daily indices through the bulk API (`ucsiem.outputs.elasticsearch`)."""

    type: Literal["elasticsearch"] = Field("elasticsearch", description="Output type: `elasticsearch`.")
    id: str = Field("elasticsearch", pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Names the output in logs, counters and the spool (`elasticsearch:<id>`).")
    hosts: list[Annotated[str, AfterValidator(_es_host)]] = Field(
        min_length=1, description="Node URLs, all `https://` (or all `http://`), e.g. `https://es1.example.com:9200`; "
                                  "no `user:password@` in them.")
    namespace: str = Field("default", pattern=r"^[a-z0-9_]+$",
                           description="Events go to the data stream `logs-uc.<event.dataset>-<namespace>`.")
    index_mode: Literal["auto", "data_stream", "index"] = Field(
        "auto", description="`data_stream`, `index` (daily indices `logs-uc.<dataset>-<namespace>-YYYY.MM.DD`), or "
                            "`auto`: data streams unless the cluster refuses them.")
    alerts_index: str | None = Field(
        None, description="Plain index (not a data stream, not rolled over: an update must find the older version) "
                          "for correlation alerts, in both index modes; lowercase letters, digits, `.`, `_`, `-`, not "
                          "under `logs-uc.`. The index template `ucsiem-alerts` (same mappings, installed with the "
                          f"others by `manage_templates` and `ucsiem setup`) covers `{ALERTS_INDEX_PREFIX}*`.",
        json_schema_extra={"doc_default": f"{ALERTS_INDEX_PREFIX}<namespace>"})
    manage_templates: bool = Field(True, description="Install or update the templates at start.")
    username: str | None = Field(None, description="Basic authentication user (with password_file or password).")
    password: SecretStr | None = Field(None, description="The password inline (prefer password_file).")
    password_file: Path | None = Field(None, description="File holding the password of username (a secret file).")
    api_key: SecretStr | None = Field(None, description="Base64 'id:key' API key inline (prefer api_key_file).")
    api_key_file: Path | None = Field(None, description="File holding the base64 'id:key' API key (a secret file).")
    tls: TlsConfig | None = Field(
        None, description="CA, client certificate and name check; https:// hosts are verified even without it "
                          "(system store, names checked).")
    allow_insecure: bool = Field(
        False, description="Accept credentials over `http://` or with `check_hostname: false` (still warned at every "
                           "start).")
    request_timeout_secs: float = Field(30.0, gt=0, description="Time for one request to a node.")
    max_bulk_bytes: ByteSize = Field(
        10_485_760, ge=65_536,
        description="A batch is split into bulk requests of at most this size (a 413 halves it).")
    index_date_window_days: int = Field(
        365, ge=1, description="Daily indices: the day is the event's `@timestamp` (UTC) when it lies within this many "
                               "days of `event.ingested`; otherwise (a line claiming year 1 or 9999, a missing or "
                               "unreadable time) the ingest day, so log content cannot create indices outside the "
                               "templates' patterns. Raise it to replay archives older than a year into their own "
                               "days.")

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

    def output_name(self) -> str:
        return f"elasticsearch:{self.id}"

    def risk_accepted(self) -> bool:
        return self.allow_insecure

    def resolve_paths(self, key: str, rel: PathFixer, secret: SecretFixer) -> None:
        _resolve_tls(self.tls, key, rel, secret)
        if self.password_file is not None:
            self.password_file = secret(self.password_file, f"{key}.password_file")
        if self.api_key_file is not None:
            self.api_key_file = secret(self.api_key_file, f"{key}.api_key_file")


# -- the registry -----------------------------------------------------------------------------------

C = TypeVar("C", bound=OutputSettings)


@dataclass(frozen=True)
class BuildContext:
    """What the agent knows when it builds outputs, beyond each output's own config."""

    parser_versions: dict[str, str]  # event.dataset -> version of the parser that makes it (Kafka headers)


@dataclass(frozen=True)
class CheckContext:
    """What `ucsiem test output` knows beyond each output's own config."""

    config: Config
    datasets: list[str]  # the event.dataset values this config can write


@dataclass(frozen=True)
class SetupContext:
    """Options of `ucsiem setup TYPE`."""

    source: str  # the config file, for error messages
    replicas: int | None  # index replicas, where the destination has such a thing


@dataclass(frozen=True)
class OutputSpec(Generic[C]):
    """One output type. `build` and the hooks import the output's module only when called (aiokafka and the
    Elasticsearch client are heavy), so reading a config stays cheap."""

    type: str  # the `type:` of the config
    config: builtins.type[C]
    summary: str  # one line for the docs and error messages
    build: Callable[[C, BuildContext], Output]
    check: Callable[[C, CheckContext], Coroutine[Any, Any, tuple[bool, str]]]  # `ucsiem test output`: (ok, detail)
    setup: Callable[[C, SetupContext], Coroutine[Any, Any, str]] | None = None  # `ucsiem setup TYPE`: prepare it
    loggers: tuple[str, ...] = ()  # library loggers `ucsiem test output` silences (the check's line says it all)


def _build_file(cfg: FileOutputConfig, ctx: BuildContext) -> Output:
    from ucsiem.outputs.file import FileOutput

    return FileOutput(cfg)


def _build_stdout(cfg: StdoutOutputConfig, ctx: BuildContext) -> Output:
    from ucsiem.outputs.stdout import StdoutOutput

    return StdoutOutput()


def _build_kafka(cfg: KafkaOutputConfig, ctx: BuildContext) -> Output:
    from ucsiem.outputs.kafka import KafkaOutput

    return KafkaOutput(cfg, ctx.parser_versions)


def _build_elasticsearch(cfg: ElasticsearchOutputConfig, ctx: BuildContext) -> Output:
    from ucsiem.outputs.elasticsearch import ElasticsearchOutput

    return ElasticsearchOutput(cfg)


async def _check_file(cfg: FileOutputConfig, ctx: CheckContext) -> tuple[bool, str]:
    import asyncio

    from ucsiem.outputs.probe import probe_file

    return await asyncio.to_thread(probe_file, cfg)


async def _check_stdout(cfg: StdoutOutputConfig, ctx: CheckContext) -> tuple[bool, str]:
    return True, "standard output"


async def _check_kafka(cfg: KafkaOutputConfig, ctx: CheckContext) -> tuple[bool, str]:
    from ucsiem.outputs.probe import probe_kafka

    return await probe_kafka(cfg, ctx.config, ctx.datasets)


async def _check_elasticsearch(cfg: ElasticsearchOutputConfig, ctx: CheckContext) -> tuple[bool, str]:
    from ucsiem.outputs.probe import probe_elasticsearch

    return await probe_elasticsearch(cfg)


async def _setup_elasticsearch(cfg: ElasticsearchOutputConfig, ctx: SetupContext) -> str:
    from ucsiem.outputs.es_setup import setup_output

    return await setup_output(cfg, ctx.source, ctx.replicas)


OUTPUTS: tuple[OutputSpec[Any], ...] = (
    OutputSpec("file", FileOutputConfig, "local NDJSON file with rotation", _build_file, _check_file),
    OutputSpec("stdout", StdoutOutputConfig, "NDJSON on standard output", _build_stdout, _check_stdout),
    OutputSpec("kafka", KafkaOutputConfig, "Kafka topics", _build_kafka, _check_kafka, loggers=("aiokafka",)),
    OutputSpec("elasticsearch", ElasticsearchOutputConfig, "Elasticsearch data streams or daily indices",
               _build_elasticsearch, _check_elasticsearch, setup=_setup_elasticsearch,
               loggers=("elastic_transport", "elasticsearch")),
)

# The `outputs:` items of the config: one of the registered models, chosen by `type`.
OutputConfig = Annotated[
    FileOutputConfig | StdoutOutputConfig | KafkaOutputConfig | ElasticsearchOutputConfig,
    Field(discriminator="type"),
]


def output_types() -> list[str]:
    return [spec.type for spec in OUTPUTS]


def spec_for(cfg: OutputSettings | str) -> OutputSpec[Any]:
    """The registry entry of an output config (or of a `type:` name); KeyError for an unknown type."""
    kind = cfg if isinstance(cfg, str) else cfg.type
    for spec in OUTPUTS:
        if spec.type == kind:
            return spec
    raise KeyError(kind)


def build_output(cfg: OutputSettings, ctx: BuildContext) -> Output:
    return spec_for(cfg).build(cfg, ctx)
