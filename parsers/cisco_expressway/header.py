"""The syslog header of an Expressway line, and its times.

    [<PRI>]<ISO time> <host> <process>[pid]: [<process>: ]<body>
    <ISO time> : <body>                         copy of the web UI event log: no host, no process
    <ISO time> <host> <body>                    clusterdb lines: no process tag
    [<PRI>]Mmm dd HH:MM:SS <host> <process>: <body>               BSD time, year from the reference time
    <PRI>1 <ISO time> <host> <app> <procid> <msgid> <SD> <body>   RFC 5424
    UTCTime="..." ...  /  Event="..." ...       header-less
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

from ucsiem.parsing import MONTHS, ParseContext, ParseError, structured_data_end

# A record starts at a line with an ISO 8601 or BSD syslog time (maybe after a <PRI>), or at a
# header-less line that starts with the first attribute of an Expressway message.
FIRST_LINE_PATTERN = (
    r'(?:<[0-9]{1,3}>(?:1 )?)?'
    r'(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}'
    r'|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} '
    r'|UTCTime="|Event=")'
)

_TAG = re.compile(r"([A-Za-z0-9_.()/-]{1,64})(?:\[([0-9]{1,10})\])?:")
# Case-sensitive, as FIRST_LINE_PATTERN: only `Mar` (not `MAR`) starts a BSD header here.
_MONTHS = {name.capitalize(): number for name, number in MONTHS.items()}
_MAX_TAGS = 3
_COMMON_TAGS = frozenset(("tvcs:", "alarm:", "management:", "replication:"))
_BODY_STARTS = ('Event="', 'UTCTime="', 'Level="')
SHOWN = 80  # characters of input quoted in error messages


class Header(NamedTuple):
    """The envelope of the first line of a record."""

    time_text: str | None  # the header's time as written; None for header-less lines
    time_style: str  # "iso", "bsd" or "none"
    host: str | None
    tags: list[str]  # process tags, outermost first: `httpd[2871]`, `web`
    rest: str  # the body, for body.py
    pri: int | None
    line: str  # the whole first line, quoted in error messages

    def time(self, ctx: ParseContext) -> datetime:
        """The header time in UTC (a naive or BSD time in the configured zone); ParseError when unusable."""
        return header_time(self.time_text, self.time_style, ctx)


def read_header(line: str) -> Header:
    # fast path for the usual `<ISO time> <host> tvcs: Event=...` shape
    parts = line.split(" ", 3)
    if len(parts) == 4:
        ts_text, host, tag, body = parts
        if (tag in _COMMON_TAGS and body.startswith(_BODY_STARTS) and len(ts_text) > 10 and ts_text[4] == "-"
                and ts_text[:4].isdecimal() and host and host[-1] != ":" and '="' not in host):
            return Header(ts_text, "iso", host, [tag[:-1]], body, None, line)
    return Header(*_header_general(line), line)


def _header_general(line: str) -> tuple[str | None, str, str | None, list[str], str, int | None]:
    pri: int | None = None
    rfc5424 = False
    if line.startswith("<"):
        end = line.find(">", 1, 5)
        digits = line[1:end] if end > 1 else ""
        if not (digits.isascii() and digits.isdecimal()) or int(digits) > 191:
            raise ParseError("no_match", f"bad syslog priority: {line[:SHOWN]!r}")
        pri = int(digits)
        line = line[end + 1:]
        if line.startswith("1 "):
            rfc5424 = True
            line = line[2:]
    head4 = line[:4]
    if len(line) > 10 and line[4] == "-" and head4.isascii() and head4.isdecimal():
        ts_text, _, rest = line.partition(" ")
        style = "iso"
    elif line[:3] in _MONTHS and len(line) > 16 and line[15] == " ":
        ts_text, rest, style = line[:15], line[16:], "bsd"
    elif line.startswith(('UTCTime="', 'Event="')):
        return None, "none", None, [], line, pri
    else:
        raise ParseError("no_match", f"record does not start with a timestamp: {line[:SHOWN]!r}")
    rest = rest.lstrip(" ")
    if rfc5424:
        return (ts_text, style, *_rfc5424(rest), pri)
    host: str | None = None
    if rest.startswith(":"):
        rest = rest[1:].lstrip(" ")  # web UI copy: `<time> : Event=...`
    else:
        first, _, after = rest.partition(" ")
        if '="' not in first and not (first.endswith(":") and _TAG.fullmatch(first)):
            host, rest = first, after.lstrip(" ")
    tags, body = _tags(rest)
    return ts_text, style, host or None, tags, body, pri


def _tags(rest: str) -> tuple[list[str], str]:
    """Strip up to three `name[pid]:` process tags (Expressway repeats them: `tvcs: tvcs:`)."""
    tags: list[str] = []
    while len(tags) < _MAX_TAGS:
        first, _, after = rest.partition(" ")
        if not first.endswith(":") or _TAG.fullmatch(first) is None:
            break
        tags.append(first[:-1])
        rest = after.lstrip(" ")
    return tags, rest


def _rfc5424(rest: str) -> tuple[str | None, list[str], str]:
    """`host app procid msgid SD msg` of an RFC 5424 line; nil values are `-`."""
    parts = rest.split(" ", 4)
    if len(parts) < 5:
        return None, [], ""
    host, app, procid, _msgid, sd_msg = parts
    tag = "" if app == "-" else app
    if tag and procid != "-":
        tag = f"{tag}[{procid}]" if procid.isascii() and procid.isdecimal() and len(procid) <= 10 else tag
    if sd_msg.startswith("-"):
        msg = sd_msg[1:]
    elif sd_msg.startswith("["):
        msg = sd_msg[structured_data_end(sd_msg):]
    else:
        msg = sd_msg
    msg = msg.lstrip(" ").removeprefix("\ufeff")
    tags, body = _tags(msg)
    # the RFC 5424 APP-NAME is the process; an inner `tvcs:` repeats it
    all_tags = ([tag] if tag else []) + [t for t in tags if t.split("[", 1)[0] != app]
    return (None if host == "-" else host), all_tags, body


def utc_time(value: str) -> datetime | None:
    """`2020-08-12 19:57:43,524` (UTC, comma before the milliseconds, which may be absent)."""
    if len(value) < 19 or value[10] != " ":
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")  # much cheaper than .replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(value)
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def header_time(text: str | None, style: str, ctx: ParseContext) -> datetime:
    if text is None:
        raise ParseError("bad_timestamp", "no syslog header time and no usable UTCTime attribute")
    if style == "iso":
        try:
            ts = datetime.fromisoformat(text)
        except ValueError:
            raise ParseError("bad_timestamp", f"not an ISO 8601 time: {text[:SHOWN]!r}") from None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=ctx.timezone)
    else:
        ts = _bsd_time(text, ctx.timezone, ctx.reference_time)
    try:
        return ts.astimezone(UTC)  # in range in UTC too (0001-01-01T00:00+05:00 is not)
    except OverflowError:
        raise ParseError("bad_timestamp", f"time out of range in UTC: {text[:SHOWN]!r}") from None


def _bsd_time(text: str, zone: tzinfo, reference: datetime) -> datetime:
    """`Nov  7 10:23:45`: the latest year that does not put the time more than 2 days after the reference.

    Not `ucsiem.parsing.stamps.with_year`: this rule never takes next year and looks up to eight years
    back for a 29 February.
    """
    month = _MONTHS.get(text[:3])
    digits = text[4:6].strip() + text[7:9] + text[10:12] + text[13:15]
    if month is not None and digits.isascii() and digits.isdecimal() and text[9] == text[12] == ":":
        day, hour, minute, second = int(text[4:6]), int(text[7:9]), int(text[10:12]), int(text[13:15])
        for year in range(reference.year, reference.year - 9, -1):  # 29 February: back to a leap year
            try:
                ts = datetime(year, month, day, hour, minute, second, tzinfo=zone)
            except ValueError:
                continue
            if ts - reference <= timedelta(days=2):
                return ts
    raise ParseError("bad_timestamp", f"not a syslog time: {text!r}")
