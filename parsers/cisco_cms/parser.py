"""Cisco Meeting Server: entry point `parse`. One line is one record; see `header.py` for the shapes.

The message is routed by the process that wrote it: the Call Bridge (`host:server`, and every line of
the web admin event log), the web app back end, the Web Bridge 3 front end, the MMP CLI, LDAP
authentication and the streamer. Lines of a known shape that no family matches are `diagnostic`.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .callbridge import classify as callbridge_line
from .components import authp, client_backend, mmp_audit, streamer, web_bridge_access
from .header import SHOWN, Header, read_header
from .kinds import apply


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One CMS line -> one event; ParseError for anything that is not a CMS line."""
    line = record.text.strip("\r\n")
    if "\n" in line:
        raise ParseError("unsupported_variant", "a CMS record is one line; this one has several")
    if not line.strip():
        raise ParseError("no_match", "empty record")
    try:
        header = read_header(line, ctx.timezone, ctx.reference_time)
    except OverflowError:  # date arithmetic next to year 1 or 9999
        raise ParseError("bad_timestamp", "time stamp out of the representable range") from None
    if not header.message:
        raise ParseError("truncated", f"a CMS header without a message: {line[:SHOWN]!r}")
    return [_event(header)]


def _event(h: Header) -> ParsedEvent:
    event: ParsedEvent = {"@timestamp": h.timestamp, "message": h.message, "event": {"kind": "event"}, "log": {}}
    if h.level:
        event["log"]["level"] = h.level
    if h.syslog:
        event["log"]["syslog"] = {**h.syslog, "hostname": h.host, "appname": h.process}
    if h.host:
        event["observer"] = {"hostname": h.host}
    if h.process:
        event["process"] = {"name": h.process, "pid": h.pid}
        event["event"]["provider"] = h.process
    if h.container:
        vendor: dict[str, Any] = event.setdefault("uc", {}).setdefault("vendor", {})
        vendor["container"] = h.container
    if not _classify(h, event):
        apply(event, "diagnostic")
    return prune(event)


def _classify(h: Header, event: ParsedEvent) -> bool:
    process, msg = h.process, h.message
    if process is None or process == "host:server":
        return callbridge_line(msg, event, h.level)
    if process == "client_backend":
        return client_backend(msg, event)
    if process == "wb3_frontend":
        return web_bridge_access(msg, event)
    if process == "cli":
        return mmp_audit(msg, event)
    if process == "authp":
        return authp(msg, event)
    if process.startswith("streamer"):
        return streamer(msg, event)
    return False
