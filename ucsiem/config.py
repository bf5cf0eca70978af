"""Configuration: one YAML file, validated by pydantic, every error reported with its key path.

Unknown keys are errors (a misspelt option silently ignored is a SOC's worst kind of bug).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from ucsiem.errors import ConfigError

DEFAULT_EXCLUDE = ["*.gz", "*.bz2", "*.xz", "*.zip", "*.zst", "*.7z"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentConfig(Strict):
    name: str = Field(default_factory=socket.gethostname, description="Stamped in agent.name.")
    data_dir: Path = Field(Path("/var/lib/ucsiem"), description="Where the registry of read positions lives.")
    parser_dirs: list[Path] = Field(default_factory=list, description="Extra folders of parser plugins.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    stats_interval_secs: float = Field(60.0, ge=0, description="How often to log counters (0: never).")


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
    max_record_bytes: int = Field(1_048_576, ge=256, description="Longer records are cut and flagged.")
    read_chunk_bytes: int = Field(1_048_576, ge=4096)
    poll_interval_secs: float = Field(1.0, gt=0, description="Fallback polling when no change notification.")
    scan_interval_secs: float = Field(10.0, gt=0, description="How often globs are expanded again.")
    close_inactive_secs: float = Field(300.0, gt=0, description="Close files idle this long (reopened on growth).")
    keep_original: bool = Field(False, description="Copy the raw record into event.original.")

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
    max_bytes: int = Field(104_857_600, ge=1024, description="Rotate when the file would grow past this.")
    max_files: int = Field(5, ge=1, description="Rotated files kept: path.1 ... path.N.")
    fsync: bool = Field(True, description="fsync before each checkpoint (survives power loss, not just crashes).")


class StdoutOutputConfig(Strict):
    type: Literal["stdout"] = "stdout"


class TlsConfig(Strict):
    ca_file: Path | None = Field(None, description="PEM CA bundle to trust (default: the system store).")
    cert_file: Path | None = Field(None, description="PEM client certificate (mutual TLS).")
    key_file: Path | None = Field(None, description="PEM private key of cert_file.")
    check_hostname: bool = Field(True, description="Check the server name against its certificate.")

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


class KafkaOutputConfig(Strict):
    type: Literal["kafka"] = "kafka"
    id: str = Field("kafka", pattern=r"^[A-Za-z0-9_.-]+$", description="Names this output in logs and the spool.")
    bootstrap_servers: list[str] = Field(min_length=1, description="host:port of one or more brokers.")
    topic: str = Field("ucsiem.{event.dataset}", description="Topic template; {field.path} takes it from the event.")
    key_field: str | None = Field(None, description="Event field used as the message key (partitioning).")
    acks: Literal["all", 1, 0] = Field("all", description="Broker acknowledgement level; 'all' for no loss.")
    idempotent: bool = Field(True, description="Idempotent producer (needs acks: all).")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    linger_ms: int = Field(5, ge=0, description="Wait this long to fill a batch.")
    max_batch_bytes: int = Field(1_048_576, ge=1024, description="Per-partition producer batch size.")
    max_message_bytes: int = Field(1_000_000, ge=1024,
                                   description="Larger events become dead letters (keep <= the broker's limit).")
    request_timeout_ms: int = Field(30_000, ge=1000)
    client_id: str = "ucsiem"
    tls: TlsConfig | None = None
    sasl: SaslConfig | None = None

    @model_validator(mode="after")
    def _acks(self) -> KafkaOutputConfig:
        if self.idempotent and self.acks != "all":
            raise ValueError("idempotent: true needs acks: all (set idempotent: false to use fewer acks)")
        return self


class ElasticsearchOutputConfig(Strict):
    type: Literal["elasticsearch"] = "elasticsearch"
    id: str = Field("elasticsearch", pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Names this output in logs and the spool.")
    hosts: list[str] = Field(min_length=1, description="Node URLs, e.g. https://es1.example.com:9200.")
    namespace: str = Field("default", pattern=r"^[a-z0-9_]+$",
                           description="Data stream namespace: logs-uc.<dataset>-<namespace>.")
    index_mode: Literal["auto", "data_stream", "index"] = Field(
        "auto", description="data_stream, daily indices (index), or auto: data streams where the node has them.")
    manage_templates: bool = Field(True, description="Install or update the ucsiem templates at start.")
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    api_key: SecretStr | None = Field(None, description="Base64 'id:key' API key.")
    api_key_file: Path | None = None
    tls: TlsConfig | None = None
    request_timeout_secs: float = Field(30.0, gt=0)
    max_bulk_bytes: int = Field(10_485_760, ge=65_536, description="A batch is split into bulk requests this big.")

    @model_validator(mode="after")
    def _auth(self) -> ElasticsearchOutputConfig:
        if self.username is not None and (self.password is None) == (self.password_file is None):
            raise ValueError("username needs exactly one of password or password_file")
        if self.api_key is not None and self.api_key_file is not None:
            raise ValueError("give api_key or api_key_file, not both")
        if self.username is not None and (self.api_key is not None or self.api_key_file is not None):
            raise ValueError("choose basic auth (username) or an API key, not both")
        return self


OutputConfig = Annotated[
    FileOutputConfig | StdoutOutputConfig | KafkaOutputConfig | ElasticsearchOutputConfig,
    Field(discriminator="type"),
]


class SpoolConfig(Strict):
    enabled: bool = Field(False, description="Put a durable on-disk queue between the pipeline and the outputs.")
    path: Path | None = Field(None, description="SQLite file (default: <data_dir>/spool.db).")
    max_bytes: int = Field(1_073_741_824, ge=1_048_576, description="Bound on the spooled event bytes.")
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


class Config(Strict):
    agent: AgentConfig = Field(default_factory=AgentConfig)
    inputs: list[FileInputConfig] = Field(min_length=1)
    outputs: list[OutputConfig] = Field(min_length=1)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    spool: SpoolConfig = Field(default_factory=SpoolConfig)

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for i, inp in enumerate(self.inputs):
            if inp.id in seen:
                raise ValueError(f"inputs[{i}].id {inp.id!r} is used twice; input ids must be unique")
            seen.add(inp.id)
        names: set[str] = set()
        for i, out in enumerate(self.outputs):
            if output_name(out) in names:
                raise ValueError(f"outputs[{i}]: a second output named {output_name(out)!r}; give each an id")
            names.add(output_name(out))
        return self

    def spool_path(self) -> Path:
        return self.spool.path or self.agent.data_dir / "spool.db"


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
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
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
        _resolve_paths(config, base_dir)
    return config


def _describe(err: Any) -> str:
    loc = ""
    for part in err["loc"]:
        if isinstance(part, int):
            loc += f"[{part}]"
        elif part in ("file", "stdout", "kafka", "elasticsearch") and loc.startswith("outputs"):
            continue  # the discriminator tag pydantic inserts; the user never wrote it
        else:
            loc += f".{part}" if loc else str(part)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see the configuration reference in README.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "union_tag_invalid":
        message = f"unknown type {err.get('input', {}).get('type')!r}; use one of: file, stdout, kafka, elasticsearch"
    return f"{loc or '(top level)'}: {message}"


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
    for inp in config.inputs:
        inp.paths = [p if os.path.isabs(p) else str(base_dir / p) for p in inp.paths]
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
    if problems:
        raise ConfigError(source, problems)
