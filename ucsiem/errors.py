"""Errors, one type per failure domain. Every message says what to do about it.

    UcsiemError
      ConfigError          bad configuration; names every offending key path
      PluginError          a parser plugin is broken, missing or its id is taken twice
      ParseError           one record could not be parsed; becomes a pipeline_error event
      CheckpointError      the checkpoints cannot be read or written (fatal: stop rather than lose position)
      OutputError          an output cannot accept events; `retriable` says whether trying again helps
      SpoolError           the on-disk spool cannot be used
      EnrichmentError      an enrichment source (directory, GeoIP database) cannot be read; the last good
                           copy stays in use
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ucsiem.outputs.base import SendResult

ParseErrorCode = Literal["no_match", "bad_timestamp", "bad_field", "truncated", "unsupported_variant"]
PARSE_ERROR_CODES: tuple[ParseErrorCode, ...] = (
    "no_match", "bad_timestamp", "bad_field", "truncated", "unsupported_variant",
)


class UcsiemError(Exception):
    """Base of every error ucsiem raises on purpose."""


class ConfigError(UcsiemError):
    """The configuration is invalid. `problems` lists `key.path: message` lines, all of them."""

    def __init__(self, source: str, problems: list[str], *, invalid: bool = True) -> None:
        self.source = source
        self.problems = problems
        if not invalid:  # the file could not be read: nothing was validated
            super().__init__(f"{source}: " + "; ".join(problems))
            return
        super().__init__(f"{source}: invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))

    @classmethod
    def unreadable(cls, source: str, exc: OSError) -> ConfigError:
        """A config file that is missing or cannot be read: said so, not called an invalid configuration."""
        if isinstance(exc, FileNotFoundError):
            problem = "no such file (name the configuration file with --config FILE)"
        elif isinstance(exc, IsADirectoryError):
            problem = "is a directory; name the configuration file itself with --config FILE"
        else:
            problem = f"cannot read the file: {exc.strerror or exc}"
        return cls(source, [problem], invalid=False)


class PluginError(UcsiemError):
    """A parser plugin cannot be loaded or used."""


class ParseError(UcsiemError):
    """A parser could not turn a record into an event.

    `code` is one of a small fixed set (metrics label it), `message` tells a person what was wrong.
    """

    def __init__(self, code: ParseErrorCode, message: str) -> None:
        if code not in PARSE_ERROR_CODES:
            raise ValueError(f"unknown ParseError code {code!r}; use one of {PARSE_ERROR_CODES}")
        self.code: ParseErrorCode = code
        self.message = message
        super().__init__(f"{code}: {message}")


class CheckpointError(UcsiemError):
    """The checkpoints (read positions) cannot be loaded or persisted."""


class OutputError(UcsiemError):
    """An output failed. `retriable` tells the pipeline whether the same batch may succeed later.

    `retry_after` is the server's own hint (HTTP Retry-After) in seconds; `auth` marks credentials or
    permissions refused: the output pauses and keeps everything, since only a person can fix it.
    `partial`, when set, is what became of each document of the batch (some settled, the rest to retry).
    """

    partial: SendResult | None = None

    def __init__(self, message: str, *, retriable: bool, retry_after: float | None = None,
                 auth: bool = False) -> None:
        self.retriable = retriable
        self.retry_after = retry_after
        self.auth = auth
        super().__init__(message)


class SpoolError(UcsiemError):
    """The on-disk spool cannot be opened, read or written (or its encryption key does not fit)."""


class EnrichmentError(UcsiemError):
    """An enrichment source cannot be read (directory down, bind refused, database unreadable). The message
    names the source; the pipeline keeps the last good copy and counts the failure."""
