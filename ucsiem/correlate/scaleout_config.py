"""Configuration of `ucsiem correlate`, the correlation engine as a Kafka consumer-group service.

A YAML file of its own (the service reads Kafka, not log files: nothing of the agent's config applies);
unknown keys are errors, every problem is reported with its key path, relative paths are relative to
the file. See "Scale-out on Kafka" in README.md and `ucsiem/correlate/scaleout.py`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import AfterValidator, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ucsiem.config import did_you_mean
from ucsiem.config_common import (
    Renamed,
    SaslConfig,
    Strict,
    TlsConfig,
    broker_address,
    collect_deprecations,
    end_collecting,
    kafka_topic_name,
)
from ucsiem.correlate.config import CorrelationConfig
from ucsiem.errors import ConfigError
from ucsiem.sizes import ByteSize

# The agent's event topics (ucsiem.{event.dataset}), without its own: alerts (ucsiem.ucsiem.alert), errors.
DEFAULT_INPUT_PATTERN = r"^ucsiem\.(?!ucsiem\.)[A-Za-z0-9_-]+\.[A-Za-z0-9._-]+$"


class KafkaClientConfig(Strict):
    """How to reach the brokers: the same keys as a Kafka output's (`outputs: - type: kafka`)."""

    renamed_keys: ClassVar[dict[str, Renamed]] = {"request_timeout_ms": Renamed("request_timeout_secs", 1000)}
    config_key: ClassVar[str] = "kafka"

    bootstrap_servers: list[Annotated[str, AfterValidator(broker_address)]] = Field(
        min_length=1, description="host:port of one or more brokers.")
    tls: TlsConfig | None = Field(None, description="TLS to the brokers; absent: plaintext (warned).")
    sasl: SaslConfig | None = Field(None, description="SASL authentication (needs tls, unless allow_insecure).")
    allow_insecure: bool = Field(False, description="Accept SASL credentials without TLS or without a name check.")
    client_id: str = Field("ucsiem-correlate", description="Client id the brokers see (quotas, logs).")
    request_timeout_secs: float = Field(
        30.0, ge=1, description="Time for one request to a broker (was request_timeout_ms).")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "zstd", description="Of what this service writes: hits, state snapshots, alerts (zstd: see the Kafka "
                            "output's `compression`).")

    @model_validator(mode="after")
    def _private_credentials(self) -> KafkaClientConfig:
        hint = "set allow_insecure: true under kafka: to accept that risk knowingly"
        if self.sasl is not None and not self.allow_insecure:
            if self.tls is None:
                raise ValueError(f"sasl without tls sends the password (with {self.sasl.mechanism}) and every event "
                                 f"in cleartext: add tls: {{ca_file: ...}}, or {hint}")
            if not self.tls.check_hostname:
                raise ValueError("sasl with tls.check_hostname: false gives the password to any server holding a "
                                 f"certificate from the CA: remove check_hostname: false, or {hint}")
        return self

    def security_warnings(self) -> list[str]:
        if self.tls is None:
            what = "events, alerts and the SASL password" if self.sasl else "events and alerts"
            return [f"no tls: {what} travel in cleartext"]
        if not self.tls.check_hostname:
            return ["tls.check_hostname: false: any certificate the CA signed is accepted for any broker name"]
        return []


class InputConfig(Strict):
    topics: list[Annotated[str, AfterValidator(kafka_topic_name)]] | None = Field(
        None, description="Event topics to read (default: `pattern`).")
    pattern: str | None = Field(
        None, description="Regular expression of the event topics to read, instead of `topics` "
                          f"(default when neither is given: {DEFAULT_INPUT_PATTERN}).")
    start_at: Literal["earliest", "latest"] = Field(
        "earliest", description="Where a new consumer group starts in the event topics.")

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one(self) -> InputConfig:
        if self.topics is not None and self.pattern is not None:
            raise ValueError("give topics or pattern, not both")
        if self.topics is not None and not self.topics:
            raise ValueError("topics: name at least one topic (or remove it to read the agent's topics)")
        return self

    def regex(self) -> re.Pattern[str] | None:
        if self.topics is not None:
            return None
        return re.compile(self.pattern or DEFAULT_INPUT_PATTERN)


class AlertsConfig(Strict):
    topic: Annotated[str, AfterValidator(kafka_topic_name)] = Field(
        "ucsiem.ucsiem.alert", description="Where alerts are written (the agent's alert topic by default).")


class InternalConfig(Strict):
    prefix: str = Field("ucsiem-correlate.", pattern=r"^[A-Za-z0-9._-]+$",
                        description="Prefix of the internal topics: <prefix><group_id>.repartition / .changelog.")
    partitions: int = Field(6, ge=1, le=10_000,
                            description="Partitions of the internal topics: the most stage-2 tasks that can run "
                                        "in parallel. Fixed once the topics exist.")
    replication_factor: int = Field(3, ge=1, le=32,
                                    description="Of the internal topics when this service creates them.")
    changelog_max_bytes: ByteSize = Field(
        16_777_216, ge=1_048_576,
        description="Largest state snapshot of one partition (the changelog topic's max.message.bytes).")


class ScaleoutConfig(Strict):
    renamed_keys: ClassVar[dict[str, Renamed]] = {
        "session_timeout_ms": Renamed("session_timeout_secs", 1000),
        "transaction_timeout_ms": Renamed("transaction_timeout_secs", 1000)}
    config_key: ClassVar[str] = "(top level)"

    kafka: KafkaClientConfig = Field(description="How to reach the brokers.")
    group_id: str = Field("ucsiem-correlate", pattern=r"^[A-Za-z0-9._-]+$",
                          description="Consumer group of the event topics; stage 2 uses <group_id>.correlate.")
    input: InputConfig = Field(default_factory=InputConfig, description="Which event topics to read.")
    correlation: CorrelationConfig = Field(description="The rules and limits: exactly the agent's `correlation:`.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Where alerts go.")
    internal: InternalConfig = Field(default_factory=InternalConfig,
                                     description="The service's own topics (repartition, changelog).")
    session_timeout_secs: float = Field(
        10.0, ge=1, description="How soon a dead instance's partitions move on (was session_timeout_ms).")
    transaction_timeout_secs: float = Field(
        60.0, ge=1, description="Longest transaction (a batch of hits or alerts) before the broker aborts it "
                                "(was transaction_timeout_ms).")
    idle_timeout_secs: float = Field(
        5.0, ge=0, description="A caught-up event partition stops holding event time back after this long.")
    max_pending_hits: int = Field(
        100_000, ge=1, description="Hits one partition holds while waiting for a slower event partition; beyond "
                                   "it the oldest are processed anyway (the slow partition's may then be late).")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe level logged (JSON lines on stderr).")
    _deprecations: list[str] = PrivateAttr(default_factory=list)

    @property
    def deprecations(self) -> list[str]:
        """Deprecated keys met when the file was read (still accepted): a message each, naming the new key."""
        return list(self._deprecations)

    def repartition_topic(self) -> str:
        return f"{self.internal.prefix}{self.group_id}.repartition"

    def changelog_topic(self) -> str:
        return f"{self.internal.prefix}{self.group_id}.changelog"

    def stage2_group(self) -> str:
        return f"{self.group_id}.correlate"


def load_scaleout_config(path: Path) -> ScaleoutConfig:
    """Read and validate the file; ConfigError lists every problem with its key path (the rules' too)."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError.unreadable(source, exc) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["the file must hold a mapping with kafka: and correlation:"])
    return parse_scaleout_config(data, source, path.parent.resolve())


def parse_scaleout_config(data: dict[str, Any], source: str, base_dir: Path | None = None) -> ScaleoutConfig:
    found, token = collect_deprecations()
    try:
        cfg = ScaleoutConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None
    finally:
        end_collecting(token)
    cfg._deprecations = found
    problems: list[str] = []
    if base_dir is not None:
        problems += _resolve_paths(cfg, base_dir)
    if not cfg.correlation.rules:
        problems.append("correlation.rules: name at least one rule file or directory (the shipped pack: "
                        "see `ucsiem rules list`)")
    else:
        from ucsiem.correlate import RuleError, load_rules

        try:
            load_rules(cfg.correlation.rules)
        except RuleError as exc:
            problems += [f"correlation.rules: {p}" for p in exc.problems]
    if cfg.alerts.topic.startswith(cfg.internal.prefix):
        problems.append("alerts.topic: starts with internal.prefix; pick a topic outside the internal ones")
    regex = cfg.input.regex()
    for topic in (cfg.alerts.topic, cfg.repartition_topic(), cfg.changelog_topic()):
        if topic in (cfg.input.topics or ()) or (regex is not None and regex.search(topic)):
            problems.append(f"input: would read {topic!r}, which this service writes; narrow topics or pattern")
    if problems:
        raise ConfigError(source, problems)
    return cfg


def _describe(err: Any) -> str:
    loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        guess = did_you_mean(ScaleoutConfig, err["loc"])
        hint = f"did you mean {guess!r}?" if guess else "check the spelling;"
        message = f"unknown key ({hint} see \"Scale-out on Kafka\" in README.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    return f"{loc or '(top level)'}: {message}"


def _resolve_paths(cfg: ScaleoutConfig, base_dir: Path) -> list[str]:
    from ucsiem import secrets

    problems: list[str] = []

    def rel(p: Path) -> Path:
        return p if p.is_absolute() else base_dir / p

    cfg.correlation.rules = [rel(p) for p in cfg.correlation.rules]
    tls, sasl = cfg.kafka.tls, cfg.kafka.sasl
    if tls is not None:
        tls.ca_file = rel(tls.ca_file) if tls.ca_file is not None else None
        tls.cert_file = rel(tls.cert_file) if tls.cert_file is not None else None
    for owner, name in ((tls, "key_file"), (sasl, "password_file")):
        value = getattr(owner, name, None) if owner is not None else None
        if isinstance(value, Path):
            key = f"kafka.{'tls' if owner is tls else 'sasl'}.{name}"
            try:
                path = secrets.resolve_secret_path(value, base_dir)
                secrets.check_secret_file(path)
            except secrets.SecretFileError as exc:
                problems.append(f"{key}: {exc}")
                continue
            setattr(owner, name, path)
    return problems
