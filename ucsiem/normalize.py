"""Turn one framed record into validated, serialized events: parse, fill pipeline-owned fields, check.

This is the CPU-heavy step; it runs in worker processes, so everything here is plain data in,
bytes out. Nothing is ever dropped: a parser error, a parser bug or an event that breaks the schema
becomes an `event.kind: pipeline_error` event carrying the original text and the reason.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from ucsiem import __version__
from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.schema.fast import dump_event, validate_event

# Pipeline error codes beyond ParseError's: the parser raised something else (a bug), or its
# output did not fit the schema (also a bug, caught by golden tests before it ships).
PARSER_EXCEPTION = "parser_exception"
INVALID_EVENT = "invalid_event"
MAX_ORIGINAL_CHARS = 65_536


@dataclass
class Counters:
    records: int = 0
    events: int = 0
    skipped: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add_error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def merge(self, other: Counters) -> None:
        self.records += other.records
        self.events += other.events
        self.skipped += other.skipped
        for code, n in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + n


class RecordMeta(NamedTuple):
    """Where a record came from; the source key identifies the file generation, not its path."""

    source_key: str
    path: str
    offset: int
    flags: tuple[str, ...] = ()


class Normalizer:
    """Runs one parser and completes its events for one input."""

    def __init__(self, spec: ParserSpec, *, host_name: str | None, agent_name: str | None,
                 keep_original: bool = False) -> None:
        self.spec = spec
        self.keep_original = keep_original
        self._observer = {"vendor": spec.vendor, "product": spec.product, "type": spec.observer_type}
        self._agent = {"type": "ucsiem", "version": __version__, **({"name": agent_name} if agent_name else {})}
        self._host = {"name": host_name} if host_name else None
        self.counters = Counters()
        self._ingested: datetime | None = None
        self._ingested_text = ""
        # Pipeline-owned constants are validated once here; per event only the parser's output is
        # validated, and the pipeline's own fields are added afterwards with values typed by construction.
        validate_event({"@timestamp": utc_now(), "observer": self._observer, "agent": self._agent,
                        **({"host": self._host} if self._host else {}),
                        "event": {"dataset": spec.dataset, "module": spec.module}})

    def process(self, text: str, meta: RecordMeta, ctx: ParseContext, ingested: datetime) -> list[bytes]:
        """Parse and validate one record; returns one JSON document per event (maybe none)."""
        self.counters.records += 1
        record = RawRecord(text, meta.offset, meta.path, meta.flags)
        try:
            parsed = self.spec.parse(record, ctx)
        except ParseError as exc:
            return [self._error(text, meta, ingested, exc.code, exc.message)]
        except Exception as exc:  # a parser bug must not stop the agent nor lose the line
            where = traceback.extract_tb(exc.__traceback__)[-1]
            message = f"parser {self.spec.id} raised {type(exc).__name__}: {exc} ({where.filename}:{where.lineno})"
            return [self._error(text, meta, ingested, PARSER_EXCEPTION, message)]
        if not parsed:
            self.counters.skipped += 1
            return []
        out: list[bytes] = []
        for index, event in enumerate(parsed):
            try:
                valid = validate_event(event)
            except ValidationError as exc:
                out.append(self._error(text, meta, ingested, INVALID_EVENT, _summarize(exc)))
                continue
            except Exception as exc:  # a value pydantic cannot even judge (a parser bug): still a dead letter
                out.append(self._error(text, meta, ingested, INVALID_EVENT, f"{type(exc).__name__}: {exc}"))
                continue
            self._complete(valid, text, meta, ingested, index)
            out.append(dump_event(valid))
            self.counters.events += 1
        return out

    def _complete(self, event: ParsedEvent, text: str, meta: RecordMeta, ingested: datetime, index: int) -> None:
        """Add the pipeline-owned fields (after validation: `related` uses the canonical addresses)."""
        ev = event.setdefault("event", {})
        ev.setdefault("kind", "event")  # the model's default; the dict path fills no defaults
        ev["id"] = event_id(meta.source_key, meta.offset, index, text)
        if ingested is not self._ingested:  # one time per batch: format it once (orjson's own format)
            self._ingested = ingested
            self._ingested_text = orjson.dumps(ingested, option=orjson.OPT_UTC_Z)[1:-1].decode()
        ev["ingested"] = self._ingested_text
        ev["dataset"] = self.spec.dataset
        ev["module"] = self.spec.module
        if self.keep_original:
            ev.setdefault("original", text[:MAX_ORIGINAL_CHARS])
        observer = event.setdefault("observer", {})
        observer.update(self._observer)
        log = event.setdefault("log", {})
        log["offset"] = meta.offset
        log["file"] = {"path": meta.path}
        if meta.flags:
            log["flags"] = list(meta.flags)
        event["agent"] = self._agent
        if self._host:
            event["host"] = self._host
        related = _related(event)
        if related:
            event["related"] = related

    def _error(self, text: str, meta: RecordMeta, ingested: datetime, code: str, message: str) -> bytes:
        self.counters.add_error(code)
        event: dict[str, Any] = {
            "@timestamp": ingested,
            "message": f"{self.spec.id}: {message}",
            "event": {"kind": "pipeline_error", "action": "pipeline-error", "original": text[:MAX_ORIGINAL_CHARS]},
            "error": {"type": code, "message": message},
        }
        if len(text) > MAX_ORIGINAL_CHARS:
            event.setdefault("tags", []).append("original_truncated")
        self._complete(event, text, meta, ingested, 0)
        event["event"]["original"] = text[:MAX_ORIGINAL_CHARS]
        try:
            return dump_event(validate_event(event))
        except ValidationError:  # only when the flags/paths themselves are odd: keep the bare minimum
            event.pop("related", None)
            return dump_event(validate_event(event))


def event_id(source_key: str, offset: int, index: int, text: str) -> str:
    """Deterministic id: the same record of the same file generation always hashes the same."""
    digest = hashlib.blake2b(f"{source_key}\0{offset}\0{index}\0".encode(), digest_size=16)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _related(event: ParsedEvent) -> dict[str, list[str]]:
    """Every IP, user and host name in the event, in order, once (plain lookups: this is the hot path)."""
    ips: list[str] = []
    users: list[str] = []
    for side in ("source", "destination"):
        endpoint = event.get(side)
        if endpoint:
            if ip := endpoint.get("ip"):
                ips.append(ip)
            if (nat := endpoint.get("nat")) and (ip := nat.get("ip")):
                ips.append(ip)
            if (user := endpoint.get("user")) and (name := user.get("name")):
                users.append(name)
    observer = event.get("observer") or {}
    ips.extend(observer.get("ip") or ())
    media = (event.get("uc") or {}).get("media")
    if media:
        ips.extend(v for v in (media.get("local_ip"), media.get("remote_ip")) if v)
    if user := event.get("user"):
        if (target := user.get("target")) and (name := target.get("name") or target.get("email")):
            users.insert(0, name)
        if name := user.get("name") or user.get("email"):
            users.insert(0, name)
    out: dict[str, list[str]] = {}
    if ips:
        out["ip"] = list(dict.fromkeys(ips))
    if users:
        out["user"] = list(dict.fromkeys(users))
    if hostname := observer.get("hostname"):
        out["hosts"] = [hostname]
    return out


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - 5
    return "event does not fit the schema: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def utc_now() -> datetime:
    return datetime.now(UTC)
