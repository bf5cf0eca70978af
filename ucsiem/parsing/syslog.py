"""The syslog envelope many UC products write their lines in: the PRI value and the receiver's header.

`priority_fields` turns a `<PRI>` into ECS `log.syslog.priority/facility/severity`; `syslog_header_fields`
fills `log.syslog`, `observer.hostname` and `process` from the parts of an RFC 3164 header
(`<PRI>Mmm dd hh:mm:ss host prog[pid]: `) as a parser's own pattern matched them. Time stamps are the
business of `stamps.py` (one year rule for year-less dates).
"""

from __future__ import annotations

from typing import Any

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParsedEvent
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, SYSLOG_SEVERITIES, add_group, present

MAX_PRIORITY = 191  # facility 23 (local7) * 8 + severity 7 (debug)


def priority_fields(pri: int) -> dict[str, Any]:
    """`log.syslog` members of a PRI value; ParseError("no_match") when it is out of range (RFC 5424 6.2.1)."""
    if not 0 <= pri <= MAX_PRIORITY:
        raise ParseError("no_match", f"bad syslog priority <{pri}>")
    return {"priority": pri, "facility": {"code": pri >> 3, "name": SYSLOG_FACILITIES[pri >> 3]},
            "severity": {"code": pri & 7, "name": SYSLOG_SEVERITIES[pri & 7]}}


def syslog_header_fields(event: ParsedEvent, *, host: str, program: str, pri: str | None = None,
                         pid: str | None = None) -> dict[str, Any]:
    """Set `log.syslog` (hostname, appname, and the PRI's fields when there was one), `observer.hostname` and
    `process.name`/`.pid` on `event`; returns the `log.syslog` dict. The parts are the groups of the
    parser's header pattern (PRI and pid as the digits it matched, None when absent)."""
    syslog: dict[str, Any] = {"hostname": host, "appname": program}
    if pri is not None:
        syslog.update(priority_fields(int(pri)))
    event.setdefault("log", {})["syslog"] = syslog
    event["observer"] = {"hostname": host}
    event["process"] = {"name": program} if pid is None else {"name": program, "pid": int(pid)}
    return syslog


def add_envelope_groups(event: ParsedEvent, *, level: str | None, logger: str | None,
                        syslog: dict[str, Any] | None, observer: dict[str, Any] | None,
                        process: dict[str, Any] | None) -> None:
    """Set `log` (level, logger and a receiver's `log.syslog`), `observer` and `process` on `event`, each only
    when it has members: for parsers that write their events group by group (`present`, `add_group`). The
    three dicts are a syslog receiver's prefix as `syslog_header_fields` made them (never with empty members),
    or None."""
    log = present({"level": level, "logger": logger})
    if syslog:
        log["syslog"] = syslog
    add_group(event, "log", log)
    add_group(event, "observer", observer or {})
    add_group(event, "process", process or {})

