"""The envelope: one Windows event as a collector shipped it -> `Header`, whatever the collector.

Accepted shapes (README "Collectors" says why these):

* Winlogbeat 7+/Elastic Agent (ECS): `@timestamp`, `message`, `log.level`, `event.created`,
  `winlog.{event_id, provider_name, channel, computer_name, record_id, process.pid, event_data}`;
  `event_id` is a number (7.x) or a string (8.x).
* Winlogbeat 6.x (pre-ECS): the same record with top-level `event_id`, `source_name`, `log_name`,
  `computer_name`, `record_number`, `level`, `process_id`, `event_data`.
* NXLog `im_msvistalog` + `to_json()`: `EventTime`, `EventReceivedTime`, `Hostname`, `SourceName`,
  `EventID`, `Channel`, `Severity`, `RecordNumber`, `ProcessID` / `ExecutionProcessID`, `Message`.
  Times are `YYYY-MM-DD hh:mm:ss` in the Windows host's zone (NXLog CE default, the configured
  timezone applies), ISO 8601 with an offset (NXLog EE), or an integer epoch when the configuration
  converted them (`integer($EventTime)`: microseconds; `/ 1000` ms; `/ 1000000` s - told apart by size).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from ucsiem.parsing import ParseError, jsonvalues, parse_iso_time

MAX_DATA_KEYS = 32
MAX_TEXT = 4096


class Header(NamedTuple):
    """The Windows event's system fields, its rendered message (the payload body.py reads) and event data."""

    collector: str
    timestamp: datetime
    created: datetime | None
    provider: str
    channel: str
    event_id: int
    computer: str
    message: str
    level: str
    record_id: str
    pid: int | None
    data: dict[str, str]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _event_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal() and len(value.strip()) <= 5:
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= 65535:
        raise ParseError("bad_field", f"{field} is not a Windows event id (0-65535): {str(value)[:32]!r}")
    return value


def _pid(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 10:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 2**32 else None


def _record_id(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)[:32]
    return ""


def _when(value: Any, field: str, zone: tzinfo) -> datetime:
    """A required time: ISO text (naive -> the configured zone) or an integer epoch."""
    found = _maybe_time(value, field, zone)
    if found is None:
        raise ParseError("bad_timestamp", f"{field} is missing")
    return found


def _maybe_time(value: Any, field: str, zone: tzinfo) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError("bad_timestamp", f"{field} is not a time: {value!r}")
    try:
        if isinstance(value, int | float):
            seconds = float(value)
            if abs(seconds) >= 1e14:
                seconds /= 1_000_000  # NXLog integer($EventTime): microseconds
            elif abs(seconds) >= 1e11:
                seconds /= 1000
            return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ParseError("bad_timestamp", f"{field} is out of range: {value!r}") from None
    if not isinstance(value, str):
        raise ParseError("bad_timestamp", f"{field} is not a time: {str(value)[:64]!r}")
    return parse_iso_time(value, zone)


def _data(fields: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, item in fields.items():
        if len(out) >= MAX_DATA_KEYS:
            break
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            out[str(key)[:64]] = str(item).strip()[:MAX_TEXT]
    return out


def read_header(doc: dict[str, Any], zone: tzinfo) -> Header:
    """The collector's document -> Header; raises ParseError for other JSON."""
    winlog = doc.get("winlog")
    if isinstance(winlog, dict):
        event, log = jsonvalues.sub(doc, "event"), jsonvalues.sub(doc, "log")
        process = jsonvalues.sub(winlog, "process")
        provider = _text(winlog.get("provider_name")) or _text(event.get("provider"))
        raw_id = winlog.get("event_id", event.get("code"))
        return Header(
            collector="winlogbeat",
            timestamp=_when(doc.get("@timestamp") or winlog.get("time_created"), "@timestamp", zone),
            created=_maybe_time(event.get("created"), "event.created", zone),
            provider=_provider(provider, "winlog.provider_name"),
            channel=_text(winlog.get("channel")),
            event_id=_event_id(raw_id, "winlog.event_id"),
            computer=_text(winlog.get("computer_name")),
            message=_text(doc.get("message")),
            level=(_text(log.get("level")) or _text(winlog.get("level"))).lower(),
            record_id=_record_id(winlog.get("record_id")),
            pid=_pid(process.get("pid")),
            data=_data(jsonvalues.sub(winlog, "event_data")),
        )
    if "source_name" in doc and "event_id" in doc:  # Winlogbeat 6.x
        return Header(
            collector="winlogbeat",
            timestamp=_when(doc.get("@timestamp"), "@timestamp", zone),
            created=None,
            provider=_provider(_text(doc.get("source_name")), "source_name"),
            channel=_text(doc.get("log_name")),
            event_id=_event_id(doc.get("event_id"), "event_id"),
            computer=_text(doc.get("computer_name")),
            message=_text(doc.get("message")),
            level=_text(doc.get("level")).lower(),
            record_id=_record_id(doc.get("record_number")),
            pid=_pid(doc.get("process_id")),
            data=_data(jsonvalues.sub(doc, "event_data")),
        )
    if "EventID" in doc and ("SourceName" in doc or "ProviderName" in doc):  # NXLog im_msvistalog
        return Header(
            collector="nxlog",
            timestamp=_when(doc.get("EventTime"), "EventTime", zone),
            created=_maybe_time(doc.get("EventReceivedTime"), "EventReceivedTime", zone),
            provider=_provider(_text(doc.get("SourceName")) or _text(doc.get("ProviderName")), "SourceName"),
            channel=_text(doc.get("Channel")),
            event_id=_event_id(doc.get("EventID"), "EventID"),
            computer=_text(doc.get("Hostname")),
            message=_text(doc.get("Message")),
            level=_text(doc.get("Severity")).lower(),
            record_id=_record_id(doc.get("RecordNumber")),
            pid=_pid(doc.get("ProcessID", doc.get("ExecutionProcessID"))),
            data={},
        )
    keys = ", ".join(list(doc)[:8])
    raise ParseError("unsupported_variant", "JSON object is neither a Winlogbeat event (winlog.*) nor an NXLog "
                     f"im_msvistalog event (EventID, SourceName, EventTime); its keys: {keys[:160]}")


def _provider(value: str, field: str) -> str:
    if not value:
        raise ParseError("bad_field", f"{field} (the event's provider) is missing or empty")
    return value[:256]
