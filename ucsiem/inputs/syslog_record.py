"""The syslog input's work done in the parse workers: a received message -> the line a syslog daemon would
have filed, and the fields the network adds (`log.syslog.*`, `observer.ip`, `log.source.address`).

The agent's event loop only frames messages, routes them and batches them (`syslog.py`): parsing each
header there (~20 µs a message, with its fields ~34 µs) held TCP ingest to a third of reading the same
lines from a file. A batch holds the messages as received and this, one per batch, with what the parse
needs beside the bytes; `pipeline/work.py` calls `SyslogBatch.record` for each message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ucsiem.inputs.syslog_message import SyslogMessage, parse_syslog

TRUNCATED = "truncated"
# deviations worth a tag on the event (the rest are visible in the event itself)
_TAGGED = {"clock_unsynced": "syslog_clock_unsynced", "clock_sync_lost": "syslog_clock_sync_lost",
           "no_timestamp": "syslog_no_timestamp", "bad_timestamp": "syslog_bad_timestamp"}


@dataclass(frozen=True, slots=True)
class SyslogBatch:
    """One batch's messages all come from one peer address (a connection, or a UDP sender); the port and
    the receive time are per message (a UDP sender may change ports). Plain types: pickled to a worker."""

    peer_ip: str
    ports: list[int]
    received: list[float]  # time.time() when each message arrived: the year of year-less times, and the
    # time written into the line of a message that has none
    timezone: str  # the input's: the zone of times sent without one
    max_bytes: int

    def record(self, index: int, data: bytes, frame_flags: tuple[str, ...]) -> tuple[str, tuple[str, ...],
                                                                                   dict[str, Any]]:
        """Message `index` of the batch: (the filed line, the record's flags, the network's fields)."""
        port = self.ports[index]
        msg = parse_syslog(data, received=datetime.fromtimestamp(self.received[index], UTC), peer=self.peer_ip,
                           tz=ZoneInfo(self.timezone), max_bytes=self.max_bytes)
        truncated = TRUNCATED in frame_flags or TRUNCATED in msg.flags
        return msg.line, (TRUNCATED,) if truncated else (), syslog_fields(msg, self.peer_ip, port)


def syslog_fields(msg: SyslogMessage, peer_ip: str, peer_port: int) -> dict[str, Any]:
    """What the network adds to the parser's event (the parser's own values win, see normalize.py)."""
    syslog: dict[str, Any] = {}
    if msg.priority is not None:
        syslog["priority"] = msg.priority
        syslog["facility"] = {"code": msg.facility, "name": msg.facility_name}
        syslog["severity"] = {"code": msg.severity, "name": msg.severity_name}
    if msg.hostname:
        syslog["hostname"] = msg.hostname
    if msg.app_name:
        syslog["appname"] = msg.app_name
    out: dict[str, Any] = {"log": {"source": {"address": f"{peer_ip}:{peer_port}"}}}
    if syslog:
        out["log"]["syslog"] = syslog
    out["observer"] = {"ip": [peer_ip]}
    tags = [_TAGGED[f] for f in msg.flags if f in _TAGGED]
    if tags:
        out["tags"] = tags  # set only when the parser set none
    return out
