"""Kamailio and OpenSIPS log lines -> one event each (`parse_sip_proxy_line(record, ctx, flavour)`).

The steps of every parser (parsers/README.md, "One layout"): `header.py` splits the syslog or console
header; `body.py` reads the product's level/module/function prefix, `modmsg.py` and `xlogkv.py` the
message (module and core messages, default-script lines, xlog payloads); `classify.py` gives the `Kind`;
`event.py` assembles the event. This module runs them and tells the line forms apart.
"""

from __future__ import annotations

import re
from typing import Literal

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, RawRecord

from .body import Body, read_kamailio, read_kamailio_json, read_log_prefix, read_opensips
from .classify import classify
from .event import assemble
from .header import SHOWN, Header, read_header
from .modmsg import read_message
from .options import DEFAULT, XlogOptions

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
    body = _read_body(text, head, flavour)
    recognised = read_message(body, ctx.options if isinstance(ctx.options, XlogOptions) else DEFAULT)
    if body.call_id is not None:
        body.sip.setdefault("call_id", body.call_id)
    if head.form == "none":
        _check_headerless(text, flavour, body, recognised)
        if body.process_no is None:  # a JSON document is a whole record, not a fragment
            head.tags.append("no_header")
    if head.time is None:
        head.time = ctx.reference_time
        head.tags.append("timestamp_from_reference")
    read_log_prefix(body)
    return [assemble(head, body, classify(body))]


def _read_body(text: str, head: Header, flavour: Flavour) -> Body:
    """The product's prefix and message: Kamailio's JSON log engine, its text lines, or OpenSIPS'."""
    raw = text[head.body_at:]
    if head.form != "none" and not raw.strip():
        raise ParseError("truncated", f"header without a message: {text[:SHOWN]!r}")
    if flavour == "kamailio" and raw.lstrip().startswith("{"):
        body = read_kamailio_json(raw)
        if body is not None:
            head.process_no = head.process_no if body.process_no is None else body.process_no
            head.pid = head.pid if body.pid is None else body.pid
            return body
    return read_kamailio(raw) if flavour == "kamailio" else read_opensips(raw)


def _check_headerless(text: str, flavour: Flavour, body: Body, recognised: bool) -> None:
    """A line without a header is a Kamailio console line (`-E`), or it is not one of ours."""
    if flavour != "kamailio":
        raise ParseError("no_match", f"no syslog or console header: {text[:SHOWN]!r}")
    if not (body.level is not None or body.pid is not None
            or (text.startswith(" ") and (body.structured or recognised))):
        raise ParseError("no_match", f"no header, no level and no Kamailio message: {text[:SHOWN]!r}")
