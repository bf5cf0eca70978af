"""The header of a Kamailio or OpenSIPS line (syslog or console), and its time.

Shapes, for both products unless noted:

    [<PRI>]Mmm dd HH:MM:SS [host] tag[pid]: body                  RFC 3164 as rsyslog/syslog-ng/journald store it
    [<PRI>]YYYY-MM-DDTHH:MM:SS[.f][Z|+hh:mm] host tag[pid]: body  ISO time (RSYSLOG_FileFormat, short-iso)
    <PRI>1 <ISO time> host app procid msgid [SD] body             RFC 5424
    ' 0(1234) body'                  Kamailio -E (log_stderror): "%2d(%d) " = process number, pid; no time
    'tag[pid]:  0(1234) body'        the same console line captured by journald/syslog (any header above)
    '<ISO time>  0(1234) body'       the same with a time written by a collector (docker --timestamps)
    'Mmm dd HH:MM:SS [1234] body'    OpenSIPS -E: ctime() without weekday and year, then [pid]

The tag is whatever `log_name` says (`/usr/sbin/kamailio`, `kamailio`, `sipproxy`...); the host may be
absent. Everything here is str slicing or anchored, bounded regexes: linear on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext
from ucsiem.parsing.helpers import structured_data_end
from ucsiem.parsing.stamps import fraction_micro, month_number, utc_offset

SHOWN = 80  # characters of input quoted in error messages
# A year-less time may lie this far after the reference time (clock skew) before it is taken as last year's.
YEAR_SLACK = timedelta(days=2)

_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?: +|$)")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?(?: +|$)")
_KAM_CONSOLE = re.compile(r" *(\d{1,5})\((\d{1,10})\) ")
_OSIPS_CONSOLE = re.compile(r"\[(\d{1,10})\] ")
_PRI = re.compile(r"<(\d{1,3})>")
_NOT_IN_NAMES = '[]:="<>'  # a host name or program tag has none of these


@dataclass(slots=True)
class Header:
    """What stands before the product's own text."""

    time: datetime | None = None
    host: str | None = None
    tag: str | None = None  # the syslog tag as written (program name or path)
    pid: int | None = None
    process_no: int | None = None  # Kamailio's process index on its console lines
    pri: int | None = None
    form: str = "none"  # syslog | console | none
    body_at: int = 0
    tags: list[str] = field(default_factory=list)  # no_header, timestamp_from_reference


def _iso_time(m: re.Match[str], zone: tzinfo) -> datetime:
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        ts = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction_micro(frac),
                      tzinfo=utc_offset(off) or zone)
        return ts.astimezone(UTC)  # also checks the time stays representable in UTC
    except (ValueError, OverflowError):
        raise ParseError("bad_timestamp", f"not a valid time: {m.group(0).strip()!r}") from None


def _bsd_time(m: re.Match[str], zone: tzinfo, reference: datetime) -> datetime:
    """`Nov  7 10:23:45`: the latest year that does not put it more than two days after the reference.

    Not `ucsiem.parsing.stamps.with_year`: this rule reads a leap second (`:60`) as `:59` and looks up to
    seven years back for a 29 February.
    """
    mon, d, h, mi, s, frac = m.groups()
    month = month_number(mon)
    if month is not None and int(h) < 24 and int(mi) < 60 and int(s) < 61:
        for year in range(reference.year + 1, reference.year - 8, -1):  # 29 February: back to a leap year
            try:
                ts = datetime(year, month, int(d), int(h), int(mi), min(int(s), 59), fraction_micro(frac),
                              tzinfo=zone)
            except ValueError:
                continue
            if ts - reference <= YEAR_SLACK:
                try:
                    return ts.astimezone(UTC)
                except OverflowError:
                    break
    raise ParseError("bad_timestamp", f"not a syslog time: {m.group(0).strip()!r}")


def _tag(token: str) -> tuple[str, int | None] | None:
    """`/usr/sbin/kamailio[1067]:` -> ("/usr/sbin/kamailio", 1067); None when the token is not a tag."""
    if len(token) < 2 or token[-1] != ":":
        return None
    name = token[:-1]
    pid: int | None = None
    if name.endswith("]"):
        lb = name.rfind("[")
        digits = name[lb + 1:-1]
        if lb <= 0 or not (digits.isascii() and digits.isdecimal()) or len(digits) > 10:
            return None
        pid, name = int(digits), name[:lb]
    if not name or len(name) > 256 or any(c in name for c in _NOT_IN_NAMES):
        return None
    return name, pid


def _syslog_rest(text: str, pos: int, head: Header) -> None:
    """`[host] tag[pid]: ` after the time; sets host/tag/pid and where the body starts."""
    first_end = text.find(" ", pos)
    first = text[pos:] if first_end < 0 else text[pos:first_end]
    tag = _tag(first)
    if tag is None:
        if first_end < 0:
            raise ParseError("truncated", f"syslog header without a program tag: {text[:SHOWN]!r}")
        if not first or any(c in first for c in _NOT_IN_NAMES.replace(":", "")):
            raise ParseError("no_match", f"not a host name after the time: {first[:SHOWN]!r}")
        head.host = first
        pos = first_end + 1
        while text.startswith(" ", pos):
            pos += 1
        second_end = text.find(" ", pos)
        second = text[pos:] if second_end < 0 else text[pos:second_end]
        tag = _tag(second)
        if tag is None:
            raise ParseError("no_match", f"no program tag (name[pid]:) after the host: {text[:SHOWN]!r}")
        first_end = second_end
    head.tag, head.pid = tag
    head.body_at = len(text) if first_end < 0 else first_end + 1


def _rfc5424(text: str, pos: int, head: Header, ctx: ParseContext) -> None:
    parts = text[pos:].split(" ", 5)
    if len(parts) < 6:
        raise ParseError("truncated", f"RFC 5424 header cut short: {text[:SHOWN]!r}")
    stamp, host, app, procid, _msgid, rest = parts
    if stamp != "-":
        m = _ISO.fullmatch(stamp)
        if m is None:
            raise ParseError("bad_timestamp", f"not an RFC 5424 time: {stamp[:SHOWN]!r}")
        head.time = _iso_time(m, ctx.timezone)
    head.host = None if host == "-" else host
    head.tag = None if app == "-" else app
    if procid.isascii() and procid.isdecimal() and len(procid) <= 10:
        head.pid = int(procid)
    body_at = len(text) - len(rest)
    if rest.startswith("-"):
        body_at += 1
    elif rest.startswith("["):
        body_at = structured_data_end(text, body_at)
    while text.startswith(" ", body_at):
        body_at += 1
    if text.startswith("\ufeff", body_at):
        body_at += 1
    head.body_at = body_at
    head.form = "syslog"


def _console_after(text: str, pos: int, head: Header, flavour: str) -> bool:
    """The product's console prefix at `pos` (Kamailio `N(pid) `, OpenSIPS `[pid] `)."""
    if flavour == "kamailio":
        m = _KAM_CONSOLE.match(text, pos)
        if m is None:
            return False
        head.process_no, pid = int(m.group(1)), int(m.group(2))
    else:
        m = _OSIPS_CONSOLE.match(text, pos)
        if m is None:
            return False
        pid = int(m.group(1))
    if head.pid is None:
        head.pid = pid
    head.body_at = m.end()
    return True


def read_header(text: str, flavour: str, ctx: ParseContext) -> Header:
    """Split off the header; `flavour` (kamailio | opensips) picks the console form."""
    head = Header()
    pos = 0
    if text.startswith("<"):
        m = _PRI.match(text)
        if m is None or int(m.group(1)) > 191:
            raise ParseError("no_match", f"bad syslog priority: {text[:SHOWN]!r}")
        head.pri = int(m.group(1))
        pos = m.end()
        if text.startswith("1 ", pos):
            _rfc5424(text, pos + 2, head, ctx)
            if head.tag is not None or head.time is not None:
                _console_after(text, head.body_at, head, flavour)
            return head
    c4 = text[pos + 4:pos + 5]
    if c4 == "-" and (m := _ISO.match(text, pos)) is not None:
        head.time = _iso_time(m, ctx.timezone)
        pos = m.end()
    elif month_number(text[pos:pos + 3]) is not None and (m := _BSD.match(text, pos)) is not None:
        head.time = _bsd_time(m, ctx.timezone, ctx.reference_time)
        pos = m.end()
    elif head.pri is not None:
        raise ParseError("bad_timestamp", f"no time after the syslog priority: {text[:SHOWN]!r}")
    if head.time is None:
        if _console_after(text, pos, head, flavour):
            head.form = "console"
        return head
    if pos >= len(text):
        raise ParseError("truncated", f"a time and nothing else: {text[:SHOWN]!r}")
    if head.pri is None and _console_after(text, pos, head, flavour):
        head.form = "console"
        return head
    _syslog_rest(text, pos, head)
    head.form = "syslog"
    _console_after(text, head.body_at, head, flavour)  # journald/syslog copy of a console line
    return head
