"""The syslog input's work done in the parse workers: a received message -> the line a syslog daemon would
have filed, and the fields the network adds (`log.syslog.*`, `observer.ip`, `log.source.address`).

The agent's event loop only frames messages, routes them and batches them (`syslog.py`): parsing each
header there (~20 µs a message, with its fields ~34 µs) held TCP ingest to a third of reading the same
lines from a file. A batch holds the messages as received and this, one per batch, with what the parse
needs beside the bytes; `pipeline/work.py` calls `SyslogBatch.records` once per batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ucsiem.inputs.syslog_message import SyslogMessage, common_lines, parse_syslog
from ucsiem.normalize import InputFields
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, SYSLOG_SEVERITIES

TRUNCATED = "truncated"
# deviations worth a tag on the event (the rest are visible in the event itself)
_TAGGED = {"clock_unsynced": "syslog_clock_unsynced", "clock_sync_lost": "syslog_clock_sync_lost",
           "no_timestamp": "syslog_no_timestamp", "bad_timestamp": "syslog_bad_timestamp"}

_zone = functools.lru_cache(maxsize=16)(ZoneInfo)


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

    def records(self, datas: list[bytes], frame_flags: dict[int, tuple[str, ...]]) -> list[tuple[str, tuple[str, ...],
                                                                                             InputFields]]:
        """Every message of the batch as (the filed line, the record's flags, the network's fields);
        `frame_flags`: the frames' flags by index. The common shape's steps run over the whole batch at once
        (`common_lines`), any other message gets the general parse."""
        tz = _zone(self.timezone)
        out: list[tuple[str, tuple[str, ...], InputFields]] = []
        for index, found in enumerate(common_lines(datas, tz, self.max_bytes)):
            common: tuple[str, int | None, str | None, str | None, tuple[str, ...]]
            if found is not None:
                common = found
            else:
                msg = parse_syslog(datas[index], received=datetime.fromtimestamp(self.received[index], UTC),
                                   peer=self.peer_ip, tz=tz, max_bytes=self.max_bytes)
                common = msg.line, msg.priority, msg.hostname, msg.app_name, msg.flags
            line, priority, hostname, app_name, flags = common
            fields = _input_fields(priority, hostname, app_name, flags, self.peer_ip, self.ports[index])
            cut = TRUNCATED in frame_flags.get(index, ()) or TRUNCATED in flags
            out.append((line, (TRUNCATED,) if cut else (), fields))
        return out


def syslog_fields(msg: SyslogMessage, peer_ip: str, peer_port: int) -> dict[str, Any]:
    """What the network adds to the parser's event (the parser's own values win, see normalize.py)."""
    return _fields(msg.priority, msg.hostname, msg.app_name, msg.flags, peer_ip, peer_port)


@functools.lru_cache(maxsize=1024)
def _input_fields(priority: int | None, hostname: str | None, app_name: str | None, flags: tuple[str, ...],
                  peer_ip: str, peer_port: int) -> InputFields:
    """`syslog_fields`, ready to merge, once per distinct header and peer (not per message)."""
    return InputFields.of(_fields(priority, hostname, app_name, flags, peer_ip, peer_port))


def _fields(priority: int | None, hostname: str | None, app_name: str | None, flags: tuple[str, ...],
            peer_ip: str, peer_port: int) -> dict[str, Any]:
    syslog: dict[str, Any] = {}
    if priority is not None:
        syslog["priority"] = priority
        syslog["facility"] = {"code": priority >> 3, "name": SYSLOG_FACILITIES[priority >> 3]}
        syslog["severity"] = {"code": priority & 7, "name": SYSLOG_SEVERITIES[priority & 7]}
    if hostname:
        syslog["hostname"] = hostname
    if app_name:
        syslog["appname"] = app_name
    out: dict[str, Any] = {"log": {"source": {"address": f"{peer_ip}:{peer_port}"}}}
    if syslog:
        out["log"]["syslog"] = syslog
    out["observer"] = {"ip": [peer_ip]}
    tags = [_TAGGED[f] for f in flags if f in _TAGGED]
    if tags:
        out["tags"] = tags  # set only when the parser set none
    return out
