"""What every configuration model shares: strict keys, renamed keys kept as deprecated aliases, TLS and SASL
settings, secret reading and the Kafka name checks (used by the agent's config, the output registry and the
scale-out service's config).

Units: every duration in a config key is in seconds and its name ends in `_secs` (sizes end in `_bytes`).
A key that is renamed (for example from milliseconds to seconds) keeps working as a deprecated alias, see
`Renamed`: its value is converted, and the deprecation names the new key.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ucsiem.outputs.routing import topic_problem

log = logging.getLogger("ucsiem.config")

# The deprecations met while one file is validated (parse_config collects them; None: log each at once).
_DEPRECATIONS: ContextVar[list[str] | None] = ContextVar("ucsiem_config_deprecations", default=None)


@dataclass(frozen=True)
class Renamed:
    """A key that was renamed: `new` is its name now; the old value divided by `divisor` is the new value
    (1000 for milliseconds to seconds)."""

    new: str
    divisor: int = 1


def deprecated(message: str) -> None:
    found = _DEPRECATIONS.get()
    if found is None:
        log.warning(message)
    else:
        found.append(message)


def collect_deprecations() -> tuple[list[str], Any]:
    """Start collecting deprecations (until `_DEPRECATIONS.reset(token)`); returns the list and the token."""
    found: list[str] = []
    return found, _DEPRECATIONS.set(found)


def end_collecting(token: Any) -> None:
    _DEPRECATIONS.reset(token)


class Strict(BaseModel):
    """Unknown keys are errors; `renamed_keys` maps a deprecated key to its new name (set by subclasses),
    `config_key` names the section in deprecation messages."""

    model_config = ConfigDict(extra="forbid")
    renamed_keys: ClassVar[dict[str, Renamed]] = {}
    config_key: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if not cls.renamed_keys or not isinstance(data, dict):
            return data
        data = dict(data)
        for old, how in cls.renamed_keys.items():
            if old not in data:
                continue
            value = data.pop(old)
            if how.new in data:
                raise ValueError(f"{old} (deprecated) and {how.new} are the same setting: keep only {how.new}")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            data[how.new] = value / how.divisor if number and how.divisor != 1 else value
            where = f"{cls.config_key}: " if cls.config_key else ""
            hint = f"{how.new}: {data[how.new]:g}" if number else how.new
            unit = " (seconds)" if how.new.endswith("_secs") else ""
            deprecated(f"{where}{old} is deprecated and will be removed: use {hint}{unit} instead")
        return data


class TlsConfig(Strict):
    ca_file: Path | None = Field(None, description="PEM CA bundle to trust (default: the system store).")
    cert_file: Path | None = Field(None, description="PEM client certificate (mutual TLS).")
    key_file: Path | None = Field(None, description="PEM private key of cert_file (a secret file).")
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
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism the brokers accept.")
    username: str = Field(description="SASL user name.")
    password: SecretStr | None = Field(None, description="The password inline (prefer password_file).")
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


def kafka_topic_name(value: str) -> str:
    if (problem := topic_problem(value)) is not None:
        raise ValueError(problem)
    return value
