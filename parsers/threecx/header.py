"""The envelope: a message body as 3CX shows it, optionally preceded by its `[CMnnnnnn]` message code.

No complete 3CX log line with its time stamp has been published (see README.md): such a body carries no
time, so the event's time is the read time (`ctx.reference_time`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from ucsiem.parsing import ParseContext, ParseError

_CODE = re.compile(r"\[(?P<code>[A-Z]{2}\d{6})\]:? ")


class Header(NamedTuple):
    code: str | None  # the `[CMnnnnnn]` code printed beside the message
    message: str  # the message body, for body.py
    reference: datetime  # ctx.reference_time: the time stamp


def read_header(text: str, ctx: ParseContext) -> Header:
    line = text.strip()
    if not line:
        raise ParseError("no_match", "empty record")
    m = _CODE.match(line)
    if m is None:
        return Header(None, line, ctx.reference_time)
    return Header(m["code"], line[m.end():].strip(), ctx.reference_time)
