"""3CX Phone System: entry point `parse`.

No complete 3CX log line with its time stamp has been published (see README.md): a record is a message
body as 3CX shows it in its Server status log / Event Log, optionally preceded by its `[CMnnnnnn]`
message code. Such a body carries no time: `@timestamp` is the read time (`ctx.reference_time`), tagged
`timestamp_from_reference`.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, prune

from .messages import classify

_CODE = re.compile(r"\[(?P<code>[A-Z]{2}\d{6})\]:? ")


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    """One 3CX message -> one event; anything that is not a documented 3CX message raises ParseError."""
    line = record.text.strip()
    if not line:
        raise ParseError("no_match", "empty record")
    event: ParsedEvent = {"event": {"kind": "event"}, "network": {"protocol": "sip"}}
    vendor: dict[str, Any] = {}
    m = _CODE.match(line)
    if m is not None:
        event["event"]["code"] = m["code"]
        line = line[m.end():].strip()
    classify(line, event, vendor)
    if event["event"]["action"] in ("system-start", "system-stop", "diagnostic") and "uc" not in event:
        del event["network"]
    event["@timestamp"] = ctx.reference_time
    event["tags"] = ["timestamp_from_reference"]
    event["message"] = line
    if vendor:
        event.setdefault("uc", {})["vendor"] = vendor
    return [prune(event)]
