"""Value tables and converters the steps share: the IOS clock markers, the facilities with a protocol,
the zone names IOS prints that are trusted."""

from __future__ import annotations

from datetime import UTC, tzinfo

from ucsiem.parsing import canonical_ip

SHOWN = 96  # characters of a bad record quoted in an error message

# `clock timezone NAME offset` names that mean UTC; any other name is free text chosen by the administrator
UTC_NAMES = frozenset(("UTC", "GMT", "UCT", "Z"))
# the marker before an IOS stamp: `*` the clock was never set (no NTP), `.` it is no longer synchronised
CLOCK = {"*": "not_set", ".": "not_synchronized"}
# facilities whose messages are about one protocol (network.protocol)
PROTOCOL = {"SIP": "sip", "CCSIP": "sip", "CCH323": "h323", "H323": "h323", "SSH": "ssh"}


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """UTC for UTC/GMT; any other `clock timezone` name is the configured zone of the source."""
    return UTC if name is not None and name.upper() in UTC_NAMES else default


def ip_or_address(text: str) -> tuple[str | None, str | None]:
    """(ip, None) when the text is an address, else (None, text as written, e.g. `LOCAL`)."""
    ip = canonical_ip(text)
    if ip is not None:
        return ip, None
    return None, (text or None)
