"""CUCM / UC-OS syslog: CiscoLog alarm lines and audit log lines -> events (README.md has the tables).

header -> body -> classification -> event: `header.py` splits the prefix up to the `%FACILITY-sev-Name:`
mnemonic, `body.py` reads the `%[k=v]...` list (`kv.py`) into the alarm's values, `classify.py` names
the action, `event.py` writes the event.
"""

from __future__ import annotations

from ucsiem.parsing import ParseContext, ParsedEvent, RawRecord

from .body import read_body
from .classify import classify
from .event import assemble
from .header import read_header


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    text = record.text.rstrip("\r\n")
    header = read_header(text, ctx.timezone, ctx.reference_time)
    body = read_body(text, header)
    return [assemble(header, body, classify(body))]
