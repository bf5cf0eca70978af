"""The older event-abbreviation syslog form (AudioCodes user's manuals, "Event Representation in Syslog
Messages"): no `[S=n]` marker, a two-letter event name and its value, the event code and channel:

    Apr 4 12:00:12 172.30.1.14 PL:5 [Code:3a002] [CID:3294] [Time: 20:17:00]

The device time is a time of day only; the record keeps it in `uc.vendor.device_time` and takes its time
stamp from the receiver.
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, ParseError

# Two upper-case letters, the value, then the event code: anchored where the prefix ends.
START = re.compile(r"([A-Z]{2}):([^\s\[\]]{1,32})[ \t]+\[Code:")
_TAG = re.compile(r"[ \t]*\[(Code|CID):[ \t]?([^\[\]\s]{1,40})\]")
_TIME = re.compile(r"[ \t]*\[Time:[ \t]?(\d{1,2}:\d\d:\d\d(?:\.\d{1,6})?)\][ \t]*$")

# Table "Syslog Error Name Descriptions" of the user's manuals (Mediant 500L/1000/1000B/4000 SBC, 7.x).
ERROR_NAMES: dict[str, str] = {
    "AA": "Invalid Accumulated Packets Counter", "AC": "Invalid Channel ID", "AL": "Invalid Header Length",
    "AO": "Invalid Codec Type", "AP": "Unknown Aggregation Payload Type", "AR": "Invalid Routing Flag Received",
    "AT": "Simple Aggregation Packets Lost", "CC": "Command Checksum Error", "CE": "Invalid Cell Coder Code",
    "CS": "Command Sequence Error", "ES": "8 sec Timeout Before Disconnect", "HO": "Host Received Overrun",
    "IA": "Invalid AMR Payload", "IC": "Invalid CID Error", "IG": "Invalid G723 Code",
    "IP": "Invalid payload length", "IR": "Invalid RTCP Packet", "IS": "Invalid SID Length",
    "LC": "Transmitter Received Illegal Command", "LF": "Lost Fax Frames In High Speed Mode",
    "LM": "Lost Modem Frames In High Speed Mode", "MI": "Misalignment Error", "MR": "Modem Relay Is Not Supported",
    "OR": "DSP JB Overrun", "PH": "Packet Header Error", "PL": "RTP Packet Loss",
    "RB": "Counts the number of BFI Frames Received From The Host", "RD": "No Available Release Descriptor",
    "RO": "RTP Reorder", "RP": "Unknown RTP Payload Type", "RS": "RTP SSRC Error",
    "UF": "Unrecognized Fax Relay Command",
}


def classify_event(name: str, value: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """`PL:5`: a media/DSP error event of the abbreviation table (an unknown abbreviation keeps its letters)."""
    ev = event["event"]
    ev.update(action="diagnostic", category=["network"], type=["error"], code=name)
    vendor["event_value"] = value
    if (label := ERROR_NAMES.get(name)) is not None:
        ev["reason"] = label


def parse_body(text: str, start: int, event: ParsedEvent) -> None:
    """`AB:value [Code:x] [CID:n] [Time: hh:mm:ss]` from `start` (a `START` match) to the end."""
    vendor: dict[str, Any] = event.setdefault("uc", {}).setdefault("vendor", {})
    m = START.match(text, start)
    if m is None:
        raise ParseError("no_match", "not an AudioCodes event abbreviation (`PL:5 [Code:...]`)")
    name, value = m.group(1), m.group(2)
    pos = m.end() - len("[Code:")
    while (tag := _TAG.match(text, pos)) is not None:
        vendor[tag.group(1).lower()] = tag.group(2)
        pos = tag.end()
    rest = text[pos:]
    if (t := _TIME.match(rest)) is not None:
        vendor["device_time"] = t.group(1)
        rest = rest[:t.start()] + rest[t.end():]
    rest = rest.strip()
    event["message"] = f"{name}:{value} {rest}" if rest else f"{name}:{value}"
    classify_event(name, value, event, vendor)
