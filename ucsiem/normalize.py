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
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from pydantic import ValidationError

from ucsiem import __version__
from ucsiem.enrich.stage import Enrichment
from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.schema.fast import dump_event, validate_event

if TYPE_CHECKING:  # pySigma is imported only where rules are configured
    from ucsiem.correlate.detector import Detector, Hit

# Pipeline error codes beyond ParseError's: the parser raised something else (a bug), its output did not
# fit the schema (also a bug, caught by golden tests before it ships), a record gave more events than
# allowed, or the pipeline itself failed on one event (it is turned into a dead letter, never raised).
PARSER_EXCEPTION = "parser_exception"
INVALID_EVENT = "invalid_event"
TOO_MANY_EVENTS = "too_many_events"
PIPELINE_EXCEPTION = "pipeline_exception"
MAX_ORIGINAL_CHARS = 65_536
# keep_original on a record that gives many events (an API page): the copies of it stop here
MAX_ORIGINAL_CHARS_PER_RECORD = 1_048_576
DEFAULT_MAX_EVENTS_PER_RECORD = 10_000
# Schema errors on values a hostile or broken source can send are the source's fault, not the parser's:
# they carry the parse error code a person expects.
_RANGE_ERRORS = frozenset({"less_than_equal", "greater_than_equal", "less_than", "greater_than", "finite_number"})


@dataclass
class Counters:
    records: int = 0
    events: int = 0
    skipped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    enrichment: dict[str, int] = field(default_factory=dict)  # found / not found / tags added, by name
    detection_errors: int = 0  # events a detection rule raised on (shipped all the same)

    def add_error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def merge(self, other: Counters) -> None:
        self.records += other.records
        self.events += other.events
        self.skipped += other.skipped
        self.detection_errors += other.detection_errors
        for code, n in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + n
        for name, n in other.enrichment.items():
            self.enrichment[name] = self.enrichment.get(name, 0) + n


class RecordMeta(NamedTuple):
    """Where a record came from; the source key identifies the file generation, not its path."""

    source_key: str
    path: str
    offset: int
    flags: tuple[str, ...] = ()
    fields: InputFields | None = None  # what the input knows (syslog PRI, the peer), typed by it


class Normalizer:
    """Runs one parser and completes its events for one input."""

    def __init__(self, spec: ParserSpec, *, host_name: str | None, agent_name: str | None,
                 keep_original: bool = False, max_events_per_record: int = DEFAULT_MAX_EVENTS_PER_RECORD,
                 enrichment: Enrichment | None = None, detector: Detector | None = None) -> None:
        self.spec = spec
        self.enrichment = enrichment
        self.detector = detector
        self.hits: list[Hit] = []  # what the detector found since the pipeline last took them
        self.keep_original = keep_original
        self.max_events_per_record = max_events_per_record
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
        """Parse and validate one record; returns one JSON document per event (maybe none). Never raises:
        whatever goes wrong with one record or one of its events becomes a dead letter."""
        self.counters.records += 1
        try:
            return self._process(text, meta, ctx, ingested)
        except Exception as exc:  # a pipeline bug on hostile input: the record is still accounted for
            return [self._error(text, meta, ingested, PIPELINE_EXCEPTION, f"{type(exc).__name__}: {exc}")]

    def _process(self, text: str, meta: RecordMeta, ctx: ParseContext, ingested: datetime) -> list[bytes]:
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
        over = len(parsed) - self.max_events_per_record
        if over > 0:
            parsed = parsed[: self.max_events_per_record]
        # one hash of the record for all its events: hashing it again per event made a 1 MiB array of
        # 10,000 objects cost seconds
        record_digest = record_hash(meta.source_key, meta.offset, text)
        original_budget = MAX_ORIGINAL_CHARS_PER_RECORD
        for index, event in enumerate(parsed):
            try:
                valid = validate_event(event)
            except ValidationError as exc:
                out.append(self._error(text, meta, ingested, _schema_error_code(exc), _summarize(exc), index))
                continue
            except Exception as exc:  # a value pydantic cannot even judge (a parser bug): still a dead letter
                out.append(self._error(text, meta, ingested, INVALID_EVENT, f"{type(exc).__name__}: {exc}", index))
                continue
            if self.enrichment is not None:
                self.enrichment.enrich(valid)  # never raises: a failing enricher tags the event
            original = None
            if self.keep_original and original_budget > 0:
                original = text[: min(MAX_ORIGINAL_CHARS, original_budget)]
                original_budget -= len(original)
            try:
                self._complete(valid, meta, ingested, event_id_of(record_digest, index), original, protect=True)
                doc = dump_event(valid)
            except Exception as exc:  # e.g. a value orjson cannot write: this event only is a dead letter
                out.append(self._error(text, meta, ingested, INVALID_EVENT,
                                       f"event cannot be serialized: {type(exc).__name__}: {exc}", index))
                continue
            out.append(doc)
            self.counters.events += 1
        if over > 0:
            out.append(self._error(
                text, meta, ingested, TOO_MANY_EVENTS,
                f"the record gave {len(parsed) + over} events; the first {self.max_events_per_record} were kept and "
                f"{over} were not (raise max_events_per_record of this input to keep them)",
                self.max_events_per_record))
        return out

    def _complete(self, event: ParsedEvent, meta: RecordMeta, ingested: datetime, eid: str,
                  original: str | None, protect: bool = False) -> None:
        """Add the pipeline-owned fields (after validation: `related` uses the canonical addresses). With
        `protect`, the privacy rules run last but for `related`, which then holds what is shipped (dead
        letters are not protected: their reason and raw text are all they have)."""
        ev = event.setdefault("event", {})
        ev.setdefault("kind", "event")  # the model's default; the dict path fills no defaults
        ev["id"] = eid
        if ingested is not self._ingested:  # one time per batch: format it once (orjson's own format)
            self._ingested = ingested
            self._ingested_text = iso_time(ingested)
        ev["ingested"] = self._ingested_text
        ev["dataset"] = self.spec.dataset
        ev["module"] = self.spec.module
        if original is not None:
            ev.setdefault("original", original)
        observer = event.setdefault("observer", {})
        observer.update(self._observer)
        log = event.setdefault("log", {})
        log["offset"] = meta.offset
        log["file"] = {"path": meta.path}
        if meta.flags:
            log["flags"] = list(meta.flags)
        if meta.fields is not None:
            add_missing(event, meta.fields)
        event["agent"] = self._agent
        if self._host:
            event["host"] = self._host
        if protect and self.detector is not None:
            # Rules see the event as enriched and before privacy: a SOC correlates on the numbers and names
            # it is not shipped.
            try:
                self.hits.extend(self.detector.detect(event))
            except Exception:  # a rule that cannot judge this event: the event still ships, and it is counted
                self.counters.detection_errors += 1
        if protect and self.enrichment is not None and self.enrichment.privacy is not None:
            self.enrichment.privacy.apply(event)
        related = _related(event)
        if related:
            event["related"] = related

    def _error(self, text: str, meta: RecordMeta, ingested: datetime, code: str, message: str,
               index: int = 0) -> bytes:
        """A dead letter for the record (`index`: which of its events failed, for a distinct id)."""
        self.counters.add_error(code)
        original = text[:MAX_ORIGINAL_CHARS]
        eid = event_id(meta.source_key, meta.offset, index, text)
        event: dict[str, Any] = {
            "@timestamp": ingested,
            "message": f"{self.spec.id}: {message}",
            "event": {"kind": "pipeline_error", "action": "pipeline-error"},
            "error": {"type": code, "message": message},
        }
        if len(text) > MAX_ORIGINAL_CHARS:
            event["tags"] = ["original_truncated"]
        try:
            self._complete(event, meta, ingested, eid, original)
            # validated whole, unlike an event: the time as a datetime (the text _complete writes is the one
            # this gives), or msgspec refuses it and every dead letter costs the models' slower path
            event["event"]["ingested"] = ingested
            return dump_event(validate_event(event))
        except Exception:  # only when the flags/paths themselves are odd: keep the bare minimum
            return _minimal_dead_letter(self.spec.id, eid, ingested, code, message, original, meta)


_ABSENT = object()


class InputFields(NamedTuple):
    """What an input adds to every event of a record (the syslog header, the peer), prepared once per
    distinct content (one syslog header serves many messages) for `add_missing`: per key its value and, for
    an object, its own entries.

    The values are shared by every event they are added to, not copied: nothing changes an event's
    objects once its fields are complete (privacy, the one step that edits shipped fields, copies each
    object it changes; the agent's own `agent` and `host` are shared the same way). Copying them was an
    eighth of what a syslog message cost more than a file line."""

    entries: tuple[tuple[str, Any, InputFields | None], ...]

    @classmethod
    def of(cls, fields: dict[str, Any]) -> InputFields:
        return cls(tuple((key, value, cls.of(value) if isinstance(value, dict) else None)
                         for key, value in fields.items()))


def add_missing(event: dict[str, Any], fields: InputFields) -> None:
    """Merge an input's fields under the event's: what the parser read from the record itself wins; an
    object where the event has a value of another type replaces it."""
    for key, value, below in fields.entries:
        node = event.get(key, _ABSENT)
        if below is not None and isinstance(node, dict):
            add_missing(node, below)
        elif node is _ABSENT or below is not None:
            event[key] = value


def _minimal_dead_letter(parser_id: str, eid: str, ingested: datetime, code: str, message: str, original: str,
                         meta: RecordMeta) -> bytes:
    """The last resort: plain types only, text made valid UTF-8, so this cannot fail to serialize."""
    def clean(value: str) -> str:
        return value.encode("utf-8", "replace").decode("utf-8")

    return orjson.dumps({
        "@timestamp": iso_time(ingested),
        "message": clean(f"{parser_id}: {message}"),
        "event": {"kind": "pipeline_error", "action": "pipeline-error", "id": eid, "original": clean(original)},
        "error": {"type": code, "message": clean(message)},
        "log": {"offset": meta.offset, "file": {"path": clean(meta.path)}},
    })


def iso_time(moment: datetime) -> str:
    """A time as the events write it (orjson's own format, so both paths agree)."""
    return orjson.dumps(moment, option=orjson.OPT_UTC_Z)[1:-1].decode()


def record_hash(source_key: str, offset: int, text: str) -> bytes:
    """Digest of one record of one file generation: the base of its events' ids."""
    digest = hashlib.blake2b(f"{source_key}\0{offset}\0".encode(), digest_size=16)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def event_id_of(record_digest: bytes, index: int) -> str:
    """Deterministic id of the record's `index`-th event: the same record of the same generation always
    gives the same ids (idempotent writes on replay)."""
    return hashlib.blake2b(record_digest + index.to_bytes(4, "big"), digest_size=16).hexdigest()


def event_id(source_key: str, offset: int, index: int, text: str) -> str:
    return event_id_of(record_hash(source_key, offset, text), index)


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


def _schema_error_code(exc: ValidationError) -> str:
    """bad_timestamp when only time fields failed, bad_field when only values out of range did."""
    from ucsiem.schema.event import TIME_FIELDS  # the models are built only when an event needs them

    errors = exc.errors()
    if all(".".join(str(p) for p in err["loc"]) in TIME_FIELDS for err in errors):
        return "bad_timestamp"
    if all(err["type"] in _RANGE_ERRORS for err in errors):
        return "bad_field"
    return INVALID_EVENT


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - 5
    return "event does not fit the schema: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def utc_now() -> datetime:
    return datetime.now(UTC)
