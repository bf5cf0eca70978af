"""ucsiem.inputs.syslog_message: RFC examples, real appliance lines, what Debian's `logger` really sends,
the deviations appliances send, the file line the parsers read, and a fuzzer (it never raises)."""

from __future__ import annotations

import itertools
import random
import re
import shutil
import socket
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.inputs import syslog_message as sm
from ucsiem.inputs.syslog_framing import SyslogStreamDecoder
from ucsiem.inputs.syslog_message import SyslogMessage, parse_syslog, route_names
from ucsiem.parsing.contract import ParseContext, RawRecord
from ucsiem.parsing.registry import ParserRegistry, load_registry

RECEIVED = datetime(2024, 3, 10, 12, 0, 5, tzinfo=UTC)
PEER = "192.0.2.9"
SAMPLES = Path("/work/shared/samples")
BOM = b"\xef\xbb\xbf"


def parse(data: bytes, **kw: Any) -> SyslogMessage:
    kw.setdefault("received", RECEIVED)
    kw.setdefault("peer", PEER)
    m = parse_syslog(data, **kw)
    # routing reads the names with the cheap scan in the event loop; the workers parse: they must agree
    assert route_names(data, kw.get("max_bytes")) == (m.hostname, m.app_name), data
    return m


@pytest.fixture(scope="module")
def registry() -> ParserRegistry:
    return load_registry(entry_point_plugins=False)


def events(registry: ParserRegistry, parser_id: str, line: str, reference: datetime = RECEIVED) -> list[Any]:
    ctx = ParseContext(reference_time=reference)
    return registry.get(parser_id).spec.parse(RawRecord(line), ctx)


# -- RFC 5424 section 6.5 examples ------------------------------------------------------------------


def test_rfc5424_example_1_bom_and_nil_fields() -> None:
    m = parse(b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + BOM
              + b"'su root' failed for lonvick on /dev/pts/8")
    assert (m.format, m.priority, m.facility, m.severity) == ("rfc5424", 34, 4, 2)
    assert (m.facility_name, m.severity_name) == ("auth", "crit")
    assert m.timestamp == "2003-10-11T22:14:15.003Z"
    assert m.time == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert (m.hostname, m.app_name, m.procid, m.msgid, m.structured_data) == (
        "mymachine.example.com", "su", None, "ID47", None)
    assert m.message == "'su root' failed for lonvick on /dev/pts/8"
    assert m.line == "2003-10-11T22:14:15.003Z mymachine.example.com su: 'su root' failed for lonvick on /dev/pts/8"
    assert m.flags == (sm.BOM,)


def test_rfc5424_example_2_offset_and_procid() -> None:
    m = parse(b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")
    assert m.time == datetime(2003, 8, 24, 5, 14, 15, 3, tzinfo=timezone(-timedelta(hours=7)))
    assert (m.hostname, m.app_name, m.procid, m.msgid) == ("192.0.2.1", "myproc", "8710", None)
    assert m.message == "%% It's time to make the do-nuts."
    assert m.line == "2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc[8710]: %% It's time to make the do-nuts."
    assert m.flags == ()


def test_rfc5424_example_3_structured_data_and_message() -> None:
    sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    m = parse(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 " + sd.encode() + b" "
              + BOM + b"An application event log entry...")
    assert m.structured_data == sd
    assert m.message == "An application event log entry..."
    assert m.line == "2003-10-11T22:14:15.003Z mymachine.example.com evntslog: An application event log entry..."


def test_rfc5424_example_4_structured_data_only() -> None:
    sd = ('[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
          '[examplePriority@32473 class="high"]')
    m = parse(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 " + sd.encode())
    assert (m.structured_data, m.message, m.flags) == (sd, "", ())
    assert m.line == "2003-10-11T22:14:15.003Z mymachine.example.com evntslog:"


def test_rfc5424_structured_data_escapes_and_brackets_in_values() -> None:
    sd = r'[a@1 k="x\"]y" j="\\"][b@1 z="]"]'
    m = parse(b"<14>1 2024-03-10T11:59:00Z h app 1 ID " + sd.encode() + b" tail text")
    assert m.structured_data == sd
    assert m.message == "tail text"


def test_rfc5424_all_nil_uses_receive_time_and_peer_in_line() -> None:
    m = parse(b"<14>1 - - - - - - hello")
    assert (m.timestamp, m.time, m.hostname, m.app_name) == (None, None, None, None)
    assert sm.NIL_TIMESTAMP in m.flags and sm.NO_HOSTNAME in m.flags
    assert m.line == f"{RECEIVED.isoformat()} {PEER} hello"


def test_rfc5424_bad_pieces_are_flagged_not_fatal() -> None:
    m = parse(b"<14>1 2024-02-30T10:00:00Z host app - - - text")
    assert m.time is None and sm.BAD_TIMESTAMP in m.flags and m.message == "text"
    assert m.line.startswith(RECEIVED.isoformat())  # an invalid time is replaced, as a daemon does
    m = parse(b"<14>1 2024-03-10T10:00:00Z host app - - garbage text")
    assert sm.BAD_STRUCTURED_DATA in m.flags and m.message == "garbage text"
    m = parse(b'<14>1 2024-03-10T10:00:00Z host app - - [unterminated x="1"')
    assert sm.BAD_STRUCTURED_DATA in m.flags
    m = parse(b"<14>1 2024-03-10T10:00:00Z host")
    assert sm.TRUNCATED_HEADER in m.flags and m.hostname == "host"
    m = parse(b"<14>1 2024-03-10T10:00:00Z " + b"h" * 300 + b" app - - - x")
    assert sm.OVERLONG_FIELD in m.flags and m.hostname == "h" * 300
    m = parse(b"<14>1 2024-03-10T10:00:00 host app - - - naive")
    assert sm.ZONE_ASSUMED in m.flags and m.time == datetime(2024, 3, 10, 10, tzinfo=UTC)


# -- RFC 3164 section 5.4 examples ------------------------------------------------------------------


def test_rfc3164_example_1() -> None:
    m = parse(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")
    assert (m.format, m.priority, m.hostname, m.app_name, m.procid) == ("rfc3164", 34, "mymachine", "su", None)
    assert m.timestamp == "Oct 11 22:14:15"
    assert m.time == datetime(2023, 10, 11, 22, 14, 15, tzinfo=UTC)  # October is last year's in March 2024
    assert sm.YEAR_INFERRED in m.flags
    assert m.message == "'su root' failed for lonvick on /dev/pts/8"
    assert m.line == "Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"


def test_rfc3164_example_2_no_tag() -> None:
    m = parse(b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!")
    assert (m.hostname, m.app_name, m.message) == ("10.0.0.99", None, "Use the BFG!")
    assert m.time == datetime(2024, 2, 5, 17, 32, 18, tzinfo=UTC)
    assert sm.NO_TAG in m.flags
    assert m.line == "Feb  5 17:32:18 10.0.0.99 Use the BFG!"


def test_rfc3164_example_3_zone_and_year_after_the_time() -> None:
    # RFC 3164: a relay takes "CST" as the host name and "1987 ..." as the rest
    m = parse(b"<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.")
    assert (m.timestamp, m.hostname) == ("Aug 24 05:34:00", "CST")
    assert m.line == "Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts."


def test_rfc3164_example_4_invalid_time_gets_the_receive_time() -> None:
    data = b"<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"
    m = parse(data)
    assert (m.format, m.priority, m.timestamp, m.hostname) == ("rfc3164", 0, None, None)
    assert sm.NO_TIMESTAMP in m.flags
    assert m.line == f"Mar 10 12:00:05 {PEER} " + data[3:].decode()


# -- what Debian's logger (util-linux) really sends -------------------------------------------------

LOGGER = shutil.which("logger")


def _logger(port: int, *args: str, stdin: str | None = None) -> None:
    assert LOGGER is not None, "logger (util-linux) is required for the real-sender tests"
    cmd = [LOGGER, "--server", "127.0.0.1", "--port", str(port), "-t", "uctest", "-p", "local4.notice", *args]
    subprocess.run(cmd, input=stdin, text=True, check=True, timeout=20, capture_output=True)


def _udp(*args: str) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        _logger(s.getsockname()[1], "--udp", *args)
        return s.recv(65535)


def _tcp(*args: str, stdin: str | None = None) -> bytes:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        s.settimeout(10)
        _logger(s.getsockname()[1], "--tcp", *args, stdin=stdin)
        conn, _ = s.accept()
        with conn:
            conn.settimeout(10)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        return data


def _check_logger_message(m: SyslogMessage, fmt: str, before: datetime) -> None:
    assert m.format == fmt
    assert (m.priority, m.facility_name, m.severity_name) == (165, "local4", "notice")
    assert m.app_name == "uctest"
    assert m.hostname and socket.gethostname().startswith(m.hostname)
    assert m.message == "hello wörld from logger"
    assert m.time is not None and abs(m.time - before) < timedelta(minutes=2)
    assert "\n" not in m.line and m.line.endswith("uctest: hello wörld from logger")


LOCAL = datetime.now().astimezone().tzinfo or UTC


def test_logger_udp_rfc3164() -> None:
    before = datetime.now(UTC)
    data = _udp("--rfc3164", "hello wörld from logger")
    assert re.fullmatch(rb"<165>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ uctest: hello w\xc3\xb6rld from logger", data)
    m = parse_syslog(data, received=before, peer="127.0.0.1", tz=LOCAL)
    _check_logger_message(m, "rfc3164", before)
    assert m.line == data[5:].decode()  # a complete 3164 header: filed as sent, without the PRI


def test_logger_udp_rfc5424_with_time_quality() -> None:
    before = datetime.now(UTC)
    data = _udp("--rfc5424", "hello wörld from logger")
    m = parse_syslog(data, received=before, peer="127.0.0.1")
    _check_logger_message(m, "rfc5424", before)
    assert m.structured_data is not None and m.structured_data.startswith("[timeQuality tzKnown=")
    assert (m.procid, m.msgid) == (None, None)
    assert m.line == f"{m.timestamp} {m.hostname} uctest: hello wörld from logger"


def test_logger_tcp_rfc3164_newline_framing() -> None:
    before = datetime.now(UTC)
    data = _tcp("--rfc3164", "hello wörld from logger")
    assert data.endswith(b"\n") and data.startswith(b"<165>")
    decoder = SyslogStreamDecoder()
    frames = decoder.feed(data)
    assert decoder.framing == "non_transparent" and decoder.close() is None
    [frame] = frames
    _check_logger_message(parse_syslog(frame.data, received=before, peer="127.0.0.1", tz=LOCAL), "rfc3164", before)


@pytest.mark.parametrize("fmt", ["--rfc3164", "--rfc5424", "--rfc5424=notq"])
def test_logger_tcp_octet_counting(fmt: str) -> None:
    before = datetime.now(UTC)
    data = _tcp(fmt, "--octet-count", "hello wörld from logger")
    count, _, rest = data.partition(b" ")
    assert int(count) == len(rest) and rest.startswith(b"<165>")
    decoder = SyslogStreamDecoder()
    [frame] = decoder.feed(data)
    assert decoder.framing == "octet_counting" and decoder.close() is None
    assert (frame.start, frame.end, frame.data) == (0, len(data), rest)
    m = parse_syslog(frame.data, received=before, peer="127.0.0.1", tz=LOCAL)
    _check_logger_message(m, "rfc3164" if fmt == "--rfc3164" else "rfc5424", before)
    if fmt == "--rfc5424=notq":
        assert m.structured_data is None


@pytest.mark.parametrize("octet", [False, True])
def test_logger_tcp_several_messages_on_one_connection(octet: bool) -> None:
    before = datetime.now(UTC)
    lines = ["first message", "second: with a colon", "third ü"]
    data = _tcp("--rfc5424", *(["--octet-count"] if octet else []), stdin="\n".join(lines) + "\n")
    decoder = SyslogStreamDecoder()
    frames = decoder.feed(data)
    assert decoder.close() is None
    assert decoder.framing == ("octet_counting" if octet else "non_transparent")
    got = [parse_syslog(f.data, received=before, peer="127.0.0.1") for f in frames]
    assert [m.message for m in got] == lines
    assert all(m.format == "rfc5424" and m.app_name == "uctest" for m in got)
    assert frames[0].start == 0 and all(a.end == b.start for a, b in itertools.pairwise(frames))
    assert frames[-1].end == len(data)


# -- appliance deviations -----------------------------------------------------------------------------


def test_cisco_ios_sequence_number_and_unsynced_marker() -> None:
    m = parse(b"<189>123: *Mar  1 00:00:01.123: %SYS-5-CONFIG_I: Configured from console by vty0")
    assert (m.format, m.priority, m.facility_name, m.severity_name) == ("rfc3164", 189, "local7", "notice")
    assert m.sequence == 123
    assert m.timestamp == "Mar  1 00:00:01.123"
    assert m.time == datetime(2024, 3, 1, 0, 0, 1, 123000, tzinfo=UTC)
    assert m.message == "%SYS-5-CONFIG_I: Configured from console by vty0"
    assert {sm.CISCO_SEQUENCE, sm.CLOCK_UNSYNCED, sm.YEAR_INFERRED, sm.NO_HOSTNAME} <= set(m.flags)
    # filed as rsyslog files it: receive time, peer, then everything after the PRI
    assert m.line == f"Mar 10 12:00:05 {PEER} 123: *Mar  1 00:00:01.123: %SYS-5-CONFIG_I: Configured from console " \
                     "by vty0"


def test_cisco_sync_lost_marker_zone_and_no_sequence() -> None:
    m = parse(b"<187>.Mar  9 20:53:01.225 CET: %VOICE_IEC-3-GW: CCAPI: x")
    assert sm.CLOCK_SYNC_LOST in m.flags and m.sequence is None
    assert m.timestamp == "Mar  9 20:53:01.225 CET" and sm.ZONE_ASSUMED in m.flags  # CET is no UTC offset
    m = parse(b"<187>Apr 20 12:56:39.754 UTC: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success")
    assert m.time == datetime(2023, 4, 20, 12, 56, 39, 754000, tzinfo=UTC)  # April is last year's in March
    assert sm.ZONE_ASSUMED not in m.flags


def test_cisco_two_counters_and_origin_id() -> None:
    m = parse(b"<189>54: 000051: gw1: Jan  6 10:24:17: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin logged command")
    assert (m.sequence, m.hostname) == (54, "gw1")
    assert m.message.startswith("%PARSER-5-CFGLOG_LOGGEDCMD")


def test_cisco_sequence_without_time() -> None:
    m = parse(b"<189>42: %LINK-3-UPDOWN: Interface x, changed state to up")
    assert (m.sequence, m.timestamp) == (42, None)
    assert sm.NO_TIMESTAMP in m.flags and m.message == "%LINK-3-UPDOWN: Interface x, changed state to up"


def test_cucm_samples_with_year_ampm_and_zone() -> None:
    lines = [ln for ln in (SAMPLES / "cisco_cucm/samples.log").read_text().splitlines() if ln.startswith("<189>")]
    assert len(lines) >= 2
    first = parse(lines[0].encode())
    assert (first.sequence, first.hostname, first.facility_name) == (8103, None, "local7")
    assert first.time == datetime(2015, 10, 14, 5, 50, 19, 484000, tzinfo=UTC)
    assert first.message.startswith("%UC_AUDITLOG-5-AdministrativeEvent:")
    second = parse(lines[1].encode())
    assert (second.sequence, second.hostname) == (23813, "cucm-pub")
    assert second.time == datetime(2016, 7, 5, 16, 3, 1, 688000, tzinfo=UTC)  # 04:03:01 PM
    assert sm.YEAR_INFERRED not in second.flags and sm.ZONE_ASSUMED not in second.flags


def test_cucm_line_reads_with_the_cucm_parser(registry: ParserRegistry) -> None:
    for text in (SAMPLES / "cisco_cucm/samples.log").read_text().splitlines():
        if not text.startswith("<189>"):
            continue
        m = parse(text.encode())
        [via_syslog] = events(registry, "cisco_cucm", m.line)
        [from_file] = events(registry, "cisco_cucm", text)
        assert via_syslog["@timestamp"] == from_file["@timestamp"] == m.time
        assert via_syslog["event"]["code"] == from_file["event"]["code"]


def test_cube_samples_sent_with_pri_and_sequence(registry: ParserRegistry) -> None:
    texts = [t for t in (SAMPLES / "cisco_cube/samples.log").read_text().splitlines() if t.startswith(("*", "%"))]
    assert texts
    for n, text in enumerate(texts, start=1):
        data = f"<187>{n:06d}: {text}".encode()
        m = parse(data)
        assert m.format == "rfc3164" and m.sequence == n
        [via_syslog] = events(registry, "cisco_cube", m.line)
        [from_file] = events(registry, "cisco_cube", text)
        # the sequence number the sender added is the event's (event.sequence since f435210); the rest is the same
        assert {**from_file["event"], "sequence": n} == via_syslog["event"], text
        assert via_syslog["message"] == from_file["message"]
        if text.startswith("*"):
            assert sm.CLOCK_UNSYNCED in m.flags
            assert via_syslog["uc"]["vendor"]["clock"] == "not_set"


def test_iso_time_in_3164_expressway(registry: ParserRegistry) -> None:
    texts = [t for t in (SAMPLES / "cisco_expressway/samples.log").read_text().splitlines()
             if re.match(r"\d{4}-\d\d-\d\dT\S+ [^\s:]\S* ", t)]  # not the web UI copies (`TIME : ...`)
    assert len(texts) > 10
    for text in texts:
        m = parse(b"<166>" + text.encode())
        assert m.format == "rfc3164" and sm.ISO_TIMESTAMP in m.flags and m.time is not None
        assert m.line == text
        assert events(registry, "cisco_expressway", m.line) == events(registry, "cisco_expressway", text)


def test_expressway_as_rfc5424_gives_the_same_events(registry: ParserRegistry) -> None:
    text = next(t for t in (SAMPLES / "cisco_expressway/samples.log").read_text().splitlines()
                if re.match(r"\d{4}-\d\d-\d\dT\S+ \S+ [a-z]+: ", t))
    stamp, host, tag, body = text.split(" ", 3)
    m = parse(f"<166>1 {stamp} {host} {tag[:-1]} - - - {body}".encode())
    assert m.format == "rfc5424" and m.line == text
    assert events(registry, "cisco_expressway", m.line) == events(registry, "cisco_expressway", text)


def _stamped(path: str) -> list[str]:
    return [t for t in (SAMPLES / path).read_text().splitlines() if re.match(r"[A-Z][a-z]{2} [ \d]\d \d\d:", t)]


def test_kamailio_sample_sent_by_its_host_reads_like_the_file(registry: ParserRegistry) -> None:
    texts = _stamped("kamailio/samples.log")
    assert texts
    for text in texts:
        # forwarded by the Kamailio host's syslog daemon: with its host name
        m = parse(b"<134>" + text.encode())
        assert (m.format, m.facility_name, m.severity_name) == ("rfc3164", "local0", "info")
        assert m.line == text
        assert events(registry, "kamailio", m.line) == events(registry, "kamailio", text)
        # as glibc's syslog(3) writes it (no host name): the peer takes the host's place
        stamp, host, rest = text[:15], text[16:].split(" ", 1)[0], text[16:].split(" ", 1)[1]
        m = parse(f"<134>{stamp} {rest}".encode(), peer=host)
        assert sm.NO_HOSTNAME in m.flags and m.app_name == "/usr/sbin/kamailio"
        assert m.line == text
        assert events(registry, "kamailio", m.line) == events(registry, "kamailio", text)


def test_opensips_sample_without_host_gets_the_peer(registry: ParserRegistry) -> None:
    for text in _stamped("opensips/samples.log"):
        m = parse(b"<131>" + text.encode(), peer="sip1.example.com")
        assert m.hostname is None and m.app_name == "/usr/sbin/opensips" and m.procid == "13231"
        assert m.line == f"{text[:15]} sip1.example.com {text[16:]}"
        [via_syslog] = events(registry, "opensips", m.line)
        [from_file] = events(registry, "opensips", text)
        assert via_syslog["event"] == from_file["event"] and via_syslog["message"] == from_file["message"]
        assert via_syslog["observer"] == {"hostname": "sip1.example.com"}


def test_asterisk_security_line_sent_as_syslog(registry: ParserRegistry) -> None:
    text = next(t for t in (SAMPLES / "asterisk/samples.log").read_text().splitlines() if "Wrong password" in t)
    body = text.split("] ", 1)[1]  # `NOTICE[1638] chan_sip.c: Registration from ...`
    m = parse(f"<133>Feb 13 17:21:54 pbx1 asterisk[1638]: {body}".encode())
    assert (m.app_name, m.procid, m.message) == ("asterisk", "1638", body)
    [via_syslog] = events(registry, "asterisk", m.line)
    [from_file] = events(registry, "asterisk", text)
    for key in ("event", "source", "user", "message"):
        assert via_syslog[key] == from_file[key]
    assert via_syslog["observer"] == {"hostname": "pbx1"}


def test_no_pri() -> None:
    m = parse(b"Mar 10 11:59:59 host app[1]: text")
    assert (m.format, m.priority, m.facility, m.severity) == ("rfc3164", None, None, None)
    assert sm.NO_PRI in m.flags and m.line == "Mar 10 11:59:59 host app[1]: text"
    m = parse(b"2024-03-10T11:59:59Z host app: text")
    assert m.format == "rfc3164" and sm.NO_PRI in m.flags and sm.ISO_TIMESTAMP in m.flags


def test_pri_without_header_audiocodes_style() -> None:
    m = parse(b"<133>[S=23795891] [SID=cd91eb:42:7998878] (N 1)  Activity Log: Successful user login")
    assert (m.format, m.priority, m.timestamp, m.hostname) == ("rfc3164", 133, None, None)
    assert {sm.NO_TIMESTAMP, sm.NO_HOSTNAME} <= set(m.flags)
    assert m.line == f"Mar 10 12:00:05 {PEER} [S=23795891] [SID=cd91eb:42:7998878] (N 1)  Activity Log: " \
                     "Successful user login"
    m = parse(b"<13>app[77]: only a tag")
    assert (m.app_name, m.procid, m.message) == ("app", "77", "only a tag")


def test_receive_time_rendered_in_the_configured_zone() -> None:
    m = parse(b"<13>x", tz=timezone(timedelta(hours=2)), received=datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
    assert m.line == f"Jan  1 01:30:00 {PEER} x"
    assert sm.received_stamp(datetime(2024, 3, 5, 1, 2, 3, tzinfo=UTC), UTC) == "Mar  5 01:02:03"


def test_year_less_date_uses_the_shared_year_rule() -> None:
    new_year = datetime(2025, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert parse(b"<13>Dec 31 23:59:59 h a: x", received=new_year).time == datetime(2024, 12, 31, 23, 59, 59,
                                                                                   tzinfo=UTC)
    assert parse(b"<13>Jan  1 00:00:10 h a: x", received=new_year).time == datetime(2025, 1, 1, 0, 0, 10, tzinfo=UTC)
    # a clock a few hours ahead is still this year (stamps.YEAR_SLACK)
    assert parse(b"<13>Jan  1 05:00:00 h a: x", received=new_year).time == datetime(2025, 1, 1, 5, tzinfo=UTC)
    leap = parse(b"<13>Feb 29 10:00:00 h a: x", received=datetime(2025, 3, 1, tzinfo=UTC))
    assert leap.time == datetime(2024, 2, 29, 10, tzinfo=UTC)
    bad = parse(b"<13>Feb 30 10:00:00 h a: x")
    assert bad.time is None and sm.BAD_TIMESTAMP in bad.flags and bad.line.startswith("Feb 30 10:00:00 h a: x")
    naive = parse(b"<13>Mar 10 11:00:00 h a: x", received=datetime(2024, 3, 10, 12))
    assert naive.time == datetime(2024, 3, 10, 11, tzinfo=UTC)


def test_trailers_nul_cr_lf() -> None:
    for tail in (b"\n", b"\r\n", b"\x00", b"\n\x00", b"\r\n\r\n"):
        m = parse(b"<13>Mar 10 11:00:00 h a: x" + tail)
        assert m.message == "x" and m.line == "Mar 10 11:00:00 h a: x"
        assert (sm.TRAILING_NUL in m.flags) == (b"\x00" in tail)


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    m = parse(b"<13>Mar 10 11:00:00 h a: caf\xe9 \xff")
    assert sm.INVALID_UTF8 in m.flags and m.message == "caf\ufffd \ufffd"
    assert parse(b"<13>Mar 10 11:00:00 h a: caf\xc3\xa9").flags.count(sm.INVALID_UTF8) == 0


def test_control_characters_are_escaped_in_the_line_only() -> None:
    m = parse(b"<13>Mar 10 11:00:00 h a: one\ntwo\x1b[0m\tthree")
    assert m.message == "one\ntwo\x1b[0m\tthree"
    assert m.line == "Mar 10 11:00:00 h a: one#012two#033[0m\tthree"
    assert sm.CONTROL_CHARS in m.flags


def test_octet_stuffed_junk() -> None:
    m = parse(b"45 <13>Mar 10 11:00:00 h a: counted in a datagram")
    assert sm.OCTET_COUNT_PREFIX in m.flags and m.priority == 13 and m.message == "counted in a datagram"
    m = parse(b"\x00\x00  <13>Mar 10 11:00:00 h a: padded")
    assert sm.LEADING_JUNK in m.flags and m.priority == 13 and m.message == "padded"
    m = parse(b"<999>Mar 10 11:00:00 h a: x")
    assert m.format == "raw" and sm.BAD_PRI in m.flags and m.line == "<999>Mar 10 11:00:00 h a: x"
    m = parse(b"<13>")
    assert m.format == "rfc3164" and m.message == "" and m.priority == 13


def test_not_syslog_at_all_is_raw() -> None:
    for data in (b"GET / HTTP/1.1", b"{\"json\": 1}", b"\x16\x03\x01\x02\x00\x01", b"   ", b""):
        m = parse(data)
        assert m.format == "raw" and m.priority is None
        assert m.line == sm.escape_controls(data.decode("utf-8", "replace").rstrip("\r\n\x00"))[0]


def test_max_bytes_cuts_at_a_character_boundary() -> None:
    data = b"<13>Mar 10 11:00:00 h a: " + "é".encode() * 20
    m = parse(data, max_bytes=30)
    assert sm.TRUNCATED in m.flags and sm.INVALID_UTF8 not in m.flags
    assert m.message == "é" * 2  # 25 header bytes + 2 whole characters; the split third one is dropped


# -- never raises -------------------------------------------------------------------------------------

FRAGMENTS = [b"<13>", b"<189>", b"<999>", b"<", b">", b"1 ", b"- ", b"123: ", b"*", b".", b"Mar  1 ", b"Feb 30 ",
             b"00:00:01", b".123", b" UTC", b": ", b" ", b"2024-03-10T11:00:00Z ", b"2024-13-99T99:99:99+99:99 ",
             b"host ", b"app[1]: ", b"[", b"]", b'"', b"\\", b"=", b"[id k=\"v\"]", b"\xef\xbb\xbf", b"\xff",
             b"\x00", b"\n", b"\r", b"AM", b"PM", b" 2015", b"%SYS-5-X: ", b"msg", b"99999999999 "]


def _check_invariants(m: SyslogMessage) -> None:
    assert sm.PARSER_ERROR not in m.flags
    assert "\n" not in m.line and "\r" not in m.line
    assert m.format in ("rfc5424", "rfc3164", "raw")
    if m.priority is not None:
        assert 0 <= m.priority <= 191 and m.facility == m.priority >> 3 and m.severity == m.priority & 7
    if m.time is not None:
        assert m.time.tzinfo is not None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_never_raise(data: bytes) -> None:
    _check_invariants(parse(data))


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.integers(0, 2))
def test_fuzz_syslog_like_fragments_never_raise(parts: list[bytes], edge: int) -> None:
    received = (datetime(1, 1, 1, 0, 0, tzinfo=UTC), RECEIVED, datetime(9999, 12, 31, 23, 59, tzinfo=UTC))[edge]
    _check_invariants(parse(b"".join(parts), received=received, max_bytes=200))


def test_seeded_byte_mutation_of_real_messages_never_raises() -> None:
    rng = random.Random(20240310)
    seeds = [b"<189>123: *Mar  1 00:00:01.123: %SYS-5-CONFIG_I: Configured from console by vty0",
             b'<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [ex@1 a="1"][b@1 c="]"] ' + BOM + b"msg",
             b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed"]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            op = rng.randint(0, 2)
            pos = rng.randrange(len(data) + 1)
            if op == 0:
                data.insert(pos, rng.randrange(256))
            elif op == 1 and data:
                del data[min(pos, len(data) - 1)]
            elif data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
        _check_invariants(parse(bytes(data)))


def test_hostile_long_input_is_linear() -> None:
    import time
    for data in (b"<13>" + b"1: " * 20000, b"<13>1 " + b"[" * 60000, b"<13>Mar 10 11:00:00 " + b"a" * 100000,
                 b"<13>1 - - - - - " + b'[x a="' + b'\\"' * 30000):
        t0 = time.perf_counter()
        _check_invariants(parse(data))
        assert time.perf_counter() - t0 < 1.0


# -- the common shape's short cut gives the general parse's result --------------------------------------

def _general(data: bytes, tz: Any = UTC, max_bytes: int | None = None) -> SyslogMessage:
    return parse_syslog(data, received=RECEIVED, peer=PEER, tz=tz, max_bytes=max_bytes)


def _same_as_general(data: bytes, tz: Any = UTC, max_bytes: int | None = None) -> bool:
    """The short cut either declines or gives exactly what the general parse gives for what the workers
    take (line, priority, host, app, flags). True when it took the message."""
    line = sm.common_line(data, tz, max_bytes)
    if line is None:
        return False
    full = _general(data, tz, max_bytes)
    assert line == (full.line, full.priority, full.hostname, full.app_name, full.flags), data
    return True


def test_common_line_takes_the_expressway_lines_and_logger_iso_messages() -> None:
    lines = [raw for path in sorted((SAMPLES / "cisco_expressway").glob("*.log"))
             for raw in path.read_bytes().splitlines() if raw.strip()]
    iso = [line for line in lines if re.match(rb"\d{4}-\d\d-\d\dT", line)]
    assert iso, "the shared Expressway samples have ISO-time lines"
    tagged = [line for line in iso if re.match(rb"\S+ \S+ [^\s\[\]:]+(\[[^\]\s]*\])?: ", line)]
    assert len(tagged) * 2 > len(iso)
    for line in iso:
        for pri in (b"<0>", b"<134>", b"<191>"):
            assert _same_as_general(pri + line) == (line in tagged), line  # a line without a tag: general parse
    # what `logger --rfc3164` / rsyslog's RFC 3339 template send
    assert _same_as_general(b"<13>2024-03-10T11:00:00.123456+01:00 host app[42]: x")
    assert _same_as_general(b"<13>2024-03-10 11:00:00,5 host app: x", tz=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize("data", [
    b"<13>2024-03-10T11:00:00Z host app: x\n", b"<13>2024-03-10T11:00:00Z host app: x\x00",  # trailers
    b"<13>2024-03-10T11:00:00Z host app: a\x07b", b"<13>2024-03-10T11:00:00Z host app: \xef\xbb\xbfbom",
    b"<13>2024-03-10T11:00:00Z host app: \xff", b"<192>2024-03-10T11:00:00Z host app: x",
    b"<13>2024-03-10T11:00:00Z  host app: x", b"<13>2024-03-10T11:00:00Z host\xe2\x80\x8b app: x",  # ZWSP
    b" <13>2024-03-10T11:00:00Z host app: x", b"<13>2024-03-10T11:00:00Z host app:x", b"<13>Mar 10 11:00:00 h a: x",
])
def test_common_line_declines_what_the_general_parse_changes_or_flags(data: bytes) -> None:
    assert sm.common_line(data, UTC, None) is None


def test_common_line_declines_a_message_over_the_limit() -> None:
    data = b"<13>2024-03-10T11:00:00Z host app: " + b"x" * 100
    assert sm.common_line(data, UTC, 50) is None
    assert _same_as_general(data, max_bytes=len(data))


_DIGITS = st.text(alphabet="0123456789", min_size=2, max_size=2)
_TIMES = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, off: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{off}",
    st.sampled_from(["0000", "0001", "2024", "2023", "9999"]), _DIGITS, _DIGITS, st.sampled_from(["T", " "]),
    st.sampled_from(["00", "09", "23", "24", "99"]), _DIGITS, st.sampled_from(["00", "59", "60", "61"]),
    st.one_of(st.just(""), st.builds(lambda c, n: c + n, st.sampled_from([".", ","]),
                                     st.text(alphabet="0123456789", min_size=1, max_size=10))),
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+01:00", "-0530", "+2359", "+24:00", "+05:60", "+1",
                     "+01:0", "-12:45"]))
_TOKEN = st.text(alphabet=st.sampled_from(list("ab-._:=[]<>\"1 \t\u200b\u00e9\x7f")), min_size=0, max_size=8)


@settings(max_examples=1500, deadline=None)
@given(st.integers(0, 999), _TIMES, st.one_of(st.sampled_from(["h", "expc01", "a.b-c_d"]), _TOKEN),
       st.one_of(st.sampled_from(["tvcs", "app"]), _TOKEN), st.one_of(st.none(), st.just("42"), _TOKEN), _TOKEN,
       st.sampled_from([UTC, timezone(timedelta(hours=9, minutes=30))]))
def test_common_line_equals_the_general_parse_on_generated_messages(
        pri: int, stamp: str, host: str, tag: str, pid: str | None, body: str, tz: Any) -> None:
    header = f"<{pri}>{stamp} {host} {tag}" + ("" if pid is None else f"[{pid}]")
    data = f"{header}: {body}".encode()
    _same_as_general(data, tz)


# -- a batch's messages at once give what each gives alone --------------------------------------------------

_BATCH_MESSAGES = [
    b"<134>2024-03-10T11:00:00.012+00:00 expc01 tvcs: Event=\"x\"", b"<13>2024-03-10 11:00:00,5 host app[42]: y",
    b"<13>2024-03-10T11:00:00Z host app: z", b"<13>2024-13-10T11:00:00Z host app: bad month",
    b"<13>2024-03-10T11:00:00+24:00 host app: bad offset", b"<192>2024-03-10T11:00:00Z host app: bad pri",
    b"<13>Mar 10 11:00:00 h a: bsd", b"", b"no pri at all", b"<13>2024-03-10T11:00:00Z host app:x",
    b"<13>2024-03-10T11:00:00Z h\xc3\xa9st app: accent", b"<13>2024-03-10T11:00:00Z host app: caf\xc3\xa9",
    b"<13>2024-03-10T11:00:00Z host app: \xef\xbb\xbfbom", b"<13>2024-03-10T11:00:00Z host\xe2\x80\x8b app: zwsp",
]
_BATCH_SPOILERS = [b"<13>2024-03-10T11:00:00Z host app: a\x07b", b"<13>2024-03-10T11:00:00Z host app: two\nlines",
                   b"<13>2024-03-10T11:00:00Z host app: \xff", b"<13>2024-03-10T11:00:00Z host app: cr\r",
                   b"<13>2024-03-10T11:00:00Z host app: x\x00"]


def _each_alone(datas: list[bytes], tz: Any, max_bytes: int | None) -> bool:
    """`common_lines` equals `common_line` message by message; True when it took some message."""
    together = sm.common_lines(datas, tz, max_bytes)
    assert together == [sm.common_line(data, tz, max_bytes) for data in datas], datas
    return any(found is not None for found in together)


def test_common_lines_of_a_batch_are_each_messages_common_line() -> None:
    assert _each_alone(_BATCH_MESSAGES, UTC, None)
    assert _each_alone(_BATCH_MESSAGES, timezone(timedelta(hours=9, minutes=30)), 40)  # some over the limit
    for spoiler in _BATCH_SPOILERS:  # one message the batch steps refuse: each message is read alone
        assert _each_alone([*_BATCH_MESSAGES[:3], spoiler, *_BATCH_MESSAGES[3:]], UTC, None)
    assert sm.common_lines([], UTC, None) == []
    assert _each_alone([b""], UTC, None) is False and _each_alone([b"", b""], UTC, None) is False


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_BATCH_MESSAGES + _BATCH_SPOILERS),
                          st.builds(lambda pri, stamp, host, tag, body: f"<{pri}>{stamp} {host} {tag}: {body}".encode(),
                                    st.integers(0, 999), _TIMES, st.one_of(st.sampled_from(["h", "expc01"]), _TOKEN),
                                    st.one_of(st.sampled_from(["tvcs", "app[7]"]), _TOKEN), _TOKEN)),
                max_size=12),
       st.sampled_from([None, 45, 1000]))
def test_common_lines_equal_common_line_on_generated_batches(datas: list[bytes], max_bytes: int | None) -> None:
    _each_alone(datas, UTC, max_bytes)


def test_common_line_takes_most_generated_well_formed_messages() -> None:
    """The equality test above is only worth something if the short cut does take messages."""
    rng = random.Random(7)
    taken = sum(_same_as_general(f"<{rng.randint(0, 191)}>2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1"
                                 f"{rng.randint(0, 9)}:00:00.{rng.randint(0, 999)}Z h{i} app[{i}]: x".encode())
                for i in range(200))
    assert taken == 200
