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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


OutputConfig = Annotated[FileOutputConfig | StdoutOutputConfig, Field(discriminator="type")]


class PipelineConfig(Strict):
    workers: int | Literal["auto"] = Field(
        "auto", description="Parser processes; 0 parses in the agent process; auto = number of CPUs."
    )
    batch_max_records: int = Field(2048, ge=1, description="Records per batch (bytes: see read_chunk_bytes).")
    max_batches_in_flight: int = Field(8, ge=1, description="Bound on read-but-unacknowledged batches.")
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

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for i, inp in enumerate(self.inputs):
            if inp.id in seen:
                raise ValueError(f"inputs[{i}].id {inp.id!r} is used twice; input ids must be unique")
            seen.add(inp.id)
        return self


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
        elif part in ("file", "stdout") and loc.startswith("outputs"):
            continue  # the discriminator tag pydantic inserts; the user never wrote it
        else:
            loc += f".{part}" if loc else str(part)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see the configuration reference in README.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "union_tag_invalid":
        message = f"unknown type {err.get('input', {}).get('type')!r}; use one of: file, stdout"
    return f"{loc or '(top level)'}: {message}"


def _resolve_paths(config: Config, base_dir: Path) -> None:
    """Relative paths in a config file are relative to that file, not to the current directory."""

    def rel(p: Path) -> Path:
        return p if p.is_absolute() else (base_dir / p)

    config.agent.data_dir = rel(config.agent.data_dir)
    config.agent.parser_dirs = [rel(p) for p in config.agent.parser_dirs]
    for inp in config.inputs:
        inp.paths = [p if os.path.isabs(p) else str(base_dir / p) for p in inp.paths]
    for out in config.outputs:
        if isinstance(out, FileOutputConfig):
            out.path = rel(out.path)
