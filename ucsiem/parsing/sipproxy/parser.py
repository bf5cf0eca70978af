"""Kamailio and OpenSIPS log lines -> one event each (`parse_sip_proxy_line(record, ctx, flavour)`).

`header.py` splits the syslog or console header, `body.py` the product's level/module/function prefix,
`messages.py` recognises what the message means (module and core messages, default-script lines and
`xlogkv.py` payloads), `actions.py` categorises the action. This module assembles the event.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, RawRecord
from ucsiem.parsing.helpers import SYSLOG_FACILITIES, SYSLOG_SEVERITIES

from .actions import default_outcome, kind_of
from .body import Body, parse_kamailio, parse_kamailio_json, parse_opensips
from .draft import Draft
from .header import SHOWN, Header, read_header
from .messages import classify
from .options import DEFAULT, XlogOptions

_SIP_PREFIXES = ("sip-", "call-", "dialog-")
_COLOURS = re.compile(r"\x1b\[[0-9;]{0,16}m")


Flavour = Literal["kamailio", "opensips"]


def parse_sip_proxy_line(record: RawRecord, ctx: ParseContext, flavour: Flavour) -> list[ParsedEvent]:
    """One line -> one event; `flavour` is `kamailio` or `opensips`. Only ParseError leaves it."""
    text = record.text.rstrip("\r\n")
    if "\x1b[" in text:  # log_color=1 on the console: terminal colour codes around the line
        text = _COLOURS.sub("", text)
        if not text.strip():
            return []  # the colour reset Kamailio writes after the last line's newline
    if not text.strip():
        raise ParseError("no_match", "empty record")
    head = read_header(text, flavour, ctx)
    raw_body = text[head.body_at:]
    if head.form != "none" and not raw_body.strip():
        raise ParseError("truncated", f"header without a message: {text[:SHOWN]!r}")
    body = None
    if flavour == "kamailio" and raw_body.lstrip().startswith("{"):
        body = parse_kamailio_json(raw_body)
        if body is not None:
            head.process_no = head.process_no if body.process_no is None else body.process_no
            head.pid = head.pid if body.pid is None else body.pid
    if body is None:
        body = parse_kamailio(raw_body) if flavour == "kamailio" else parse_opensips(raw_body)
    draft = Draft()
    options = ctx.options if isinstance(ctx.options, XlogOptions) else DEFAULT
    recognised = classify(draft, body, options)
    tags: list[str] = []
    if body.call_id is not None:
        draft.sip.setdefault("call_id", body.call_id)
    if head.form == "none":
        if flavour != "kamailio":
            raise ParseError("no_match", f"no syslog or console header: {text[:SHOWN]!r}")
        if not (body.level is not None or body.pid is not None
                or (text.startswith(" ") and (body.structured or recognised))):
            raise ParseError("no_match", f"no header, no level and no Kamailio message: {text[:SHOWN]!r}")
        if body.process_no is None:  # a JSON document is a whole record, not a fragment
            tags.append("no_header")
    if head.time is None:
        tags.append("timestamp_from_reference")
    return [_assemble(head, body, draft, ctx, tags)]


def _log_prefix(body: Body, draft: Draft) -> None:
    """`{$mt $hdr(CSeq) $ci}` (the log_prefix of the Kamailio docs): `{1 102 INVITE <call-id> ...}`."""
    prefix = body.log_prefix or ""
    draft.vendor["log_prefix"] = prefix
    parts = prefix.strip("{} ").split(" ", 4)
    if len(parts) >= 4 and parts[0] in ("1", "2") and parts[1].isdecimal() and parts[2].isalpha() \
            and parts[2].isupper():
        sip = draft.sip
        sip.setdefault("cseq", f"{parts[1]} {parts[2]}")
        sip.setdefault("method", parts[2])
        sip.setdefault("call_id", parts[3])


def _syslog(head: Header) -> dict[str, Any]:
    syslog: dict[str, Any] = {}
    if head.pri is not None:
        syslog["priority"] = head.pri
        fac, sev = head.pri >> 3, head.pri & 7
        syslog["facility"] = {"code": fac, "name": SYSLOG_FACILITIES[fac]}
        syslog["severity"] = {"code": sev, "name": SYSLOG_SEVERITIES[sev]}
    if head.host is not None:
        syslog["hostname"] = head.host
    if head.tag is not None:
        syslog["appname"] = head.tag
    return syslog


def _assemble(head: Header, body: Body, d: Draft, ctx: ParseContext, tags: list[str]) -> ParsedEvent:
    vendor = d.vendor
    if body.log_prefix:
        _log_prefix(body, d)
    if head.process_no is not None:
        vendor["process_no"] = head.process_no
    if body.file is not None:
        vendor["file"] = body.file
        if body.line is not None:
            vendor["line"] = body.line
    if body.function is not None:
        vendor["function"] = body.function

    action = d.action
    outcome = d.outcome or default_outcome(action)
    kind, category, types = kind_of(action, outcome, body.is_error)
    if d.types is not None:
        types = list(d.types)
    for extra in d.categories:
        if extra not in category:
            category.append(extra)
    ev: dict[str, Any] = {"kind": kind, "action": action, "type": types}
    if category:
        ev["category"] = category
    if outcome is not None:
        ev["outcome"] = outcome
    if d.code:
        ev["code"] = d.code[:256]
    if d.reason:
        ev["reason"] = d.reason
    if d.duration is not None:
        ev["duration"] = int(d.duration * 1_000_000_000)
        d.call["duration"] = d.duration

    event: ParsedEvent = {"@timestamp": head.time or ctx.reference_time, "event": ev}
    message = body.message
    if message:
        event["message"] = message
    log: dict[str, Any] = {}
    if body.level is not None:
        log["level"] = body.level
    if body.module:
        log["logger"] = body.module
    syslog = _syslog(head)
    if syslog:
        log["syslog"] = syslog
    if log:
        event["log"] = log
    process: dict[str, Any] = {}
    if head.tag is not None:
        process["name"] = head.tag.rsplit("/", 1)[-1] or head.tag
    if head.pid is not None:
        process["pid"] = head.pid
    if process:
        event["process"] = process
    observer: dict[str, Any] = {}
    if head.host is not None:
        observer["hostname"] = head.host
    if d.version is not None:
        observer["version"] = d.version
    if observer:
        event["observer"] = observer

    for side in ("source", "destination"):
        endpoint = getattr(d, side)
        if endpoint:
            event[side] = endpoint
    if d.user:
        event["user"] = d.user
    network = d.network
    if d.sip or action.startswith(_SIP_PREFIXES):
        network["protocol"] = "sip"
    if d.direction is not None:
        network["direction"] = d.direction
    if network:
        event["network"] = network
    if action == "tls-handshake" and outcome in ("success", "failure"):
        d.tls["established"] = outcome == "success"
    if d.tls:
        event["tls"] = d.tls
    if d.user_agent:
        event["user_agent"] = {"original": d.user_agent}
    uc: dict[str, Any] = {}
    for name, part in (("sip", d.sip), ("call", d.call), ("registration", d.registration), ("vendor", vendor)):
        if part:
            uc[name] = part
    if uc:
        event["uc"] = uc
    if tags:
        event["tags"] = tags
    return event
