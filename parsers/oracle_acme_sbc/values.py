"""Value tables and converters the steps share: Acme log levels, RFC 2866 terminate causes, h323 times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Final

from ucsiem.parsing import ParseError, build_time, fraction_micro, month_number

# Acme log levels (the `log-level` values, 1 = most severe) and their syslog equivalents.
LEVELS = {"EMERGENCY": (1, "emerg"), "CRITICAL": (2, "crit"), "MAJOR": (3, "err"), "MINOR": (4, "warning"),
          "WARNING": (5, "warning"), "NOTICE": (6, "notice"), "INFO": (7, "info"), "TRACE": (8, "debug"),
          "DEBUG": (9, "debug")}

# Acct-Terminate-Cause values (RFC 2866 section 5.10); a name written as text is kept as written.
TERMINATE_CAUSES: Final = {
    "1": "User-Request", "2": "Lost-Carrier", "3": "Lost-Service", "4": "Idle-Timeout", "5": "Session-Timeout",
    "6": "Admin-Reset", "7": "Admin-Reboot", "8": "Port-Error", "9": "NAS-Error", "10": "NAS-Request",
    "11": "NAS-Reboot", "12": "Port-Unneeded", "13": "Port-Preempted", "14": "Port-Suspended",
    "15": "Service-Unavailable", "16": "Callback", "17": "User-Error", "18": "Host-Request",
}

_UTC_NAMES = frozenset({"UTC", "GMT", "Z"})
# h323-setup-time & co: `17:02:12.123 UTC Tue Mar 05 2024`; Cisco marks an unsynchronised clock `*`/`.`.
H323 = re.compile(r"[*.]?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([A-Za-z]{1,6}) (?:[A-Za-z]{3} )?"
                  r"([A-Za-z]{3}) (\d{1,2}) (\d{4})")


def h323_time(value: str, what: str, tz: tzinfo, tags: list[str]) -> datetime | None:
    """An h323-*-time value (the Cisco VSA convention, local device time with a zone name); empty -> None.
    UTC/GMT are honoured, another zone name is read in `tz` and tags the event `cdr_time_zone_assumed`."""
    value = value.strip()
    if not value:
        return None
    m = H323.fullmatch(value)
    if m is None:
        raise ParseError("bad_timestamp", f"{what} is not 'hh:mm:ss.mmm ZONE Ddd Mon dd yyyy': {value[:48]!r}")
    hh, mm, ss, frac, zone, mon, day, year = m.groups()
    month = month_number(mon)
    if month is None:
        raise ParseError("bad_timestamp", f"{what} has an unknown month: {value[:48]!r}")
    zone_tz: tzinfo = UTC if zone.upper() in _UTC_NAMES else tz
    if zone_tz is tz and "cdr_time_zone_assumed" not in tags:
        tags.append("cdr_time_zone_assumed")
    return build_time(int(year), month, int(day), int(hh), int(mm), int(ss), fraction_micro(frac), zone_tz, what)
