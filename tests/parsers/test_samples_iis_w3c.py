"""The iis_w3c parser: its golden cases, a `#Fields:` change in the middle of a file, hostile input.

There is no shared IIS sample folder (no Lync-specific IIS line has been published): the golden files
follow the documented W3C layout and the default `#Fields:` set of IIS.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_only_parse_error,
    builtin_parser,
    golden_dir,
    golden_lines,
    header_key_of,
    mutated,
)
from ucsiem.errors import ParseError
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("iis_w3c")
GOLDEN = golden_dir("iis_w3c")
_IIS_ONLY = {"uc.vendor.sc-substatus", "uc.vendor.sc-win32-status", "uc.vendor.time-taken", "uc.vendor.s-sitename",
             "uc.vendor.c-ip", "uc.vendor.X-Forwarded-For"}
HEADER = ("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
          "cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
ROW = ("2024-03-05 10:00:02 192.0.2.10 POST /WebTicket/WebTicketService.svc - 443 EXAMPLE\\alice 203.0.113.5 "
       "Mozilla/5.0+(Windows+NT+10.0) - 401 1 1326 15")


def _ctx(header: str | None = HEADER) -> ParseContext:
    return ParseContext(reference_time=REFERENCE_TIME, headers={"Fields": header} if header else {})


def _events(name: str) -> list[Event]:
    return run_case_events(PARSER, GOLDEN / name)


def test_sign_in_classification() -> None:
    found = _events("sfb_webservices.log")
    assert [(e["event.action"], e["event.outcome"], e["event.code"], e.get("user.name")) for e in found] == [
        ("user-login", "unknown", "401.2", None),
        ("user-login", "failure", "401.1", "alice"),
        ("user-login", "unknown", "401.1", "alice"),
        ("user-login", "success", "200", "bob"),
        ("user-login", "unknown", "401", None),
        ("diagnostic", "success", "200", None),
        ("admin-login", "failure", "401.1", "admin"),
        ("user-login", "failure", "403.4", "carol@example.com"),
        ("diagnostic", "failure", "404", None),
    ]
    failed = found[1]
    assert (failed["source.ip"], failed["destination.ip"], failed["destination.port"]) == (
        "203.0.113.5", "192.0.2.10", 443)
    assert failed["event.reason"] == "401.1 Logon failed; The user name or password is incorrect"
    assert failed["user.domain"] == "EXAMPLE"
    assert failed["@timestamp"] == "2024-03-05T10:00:02Z"  # W3C time is UTC whatever the configured zone
    assert failed["event.duration"] == 15_000_000
    assert (failed["http.request.method"], failed["http.response.status_code"], failed["url.port"]) == (
        "POST", 401, 443)
    # sub-status and Win32 status have no ECS field: kept under uc.vendor, the HTTP details are not
    assert (failed["uc.vendor.sc-substatus"], failed["uc.vendor.sc-win32-status"]) == (1, 1326)
    assert not [k for e in found for k in e if k.startswith("uc.vendor.") and k not in _IIS_ONLY]
    autodiscover = found[5]
    assert autodiscover["url.query"] == "originalDomain=example.com&sipuri=bob@example.com"
    assert autodiscover["url.original"] == ("/Autodiscover/AutodiscoverService.svc/root"
                                            "?originalDomain=example.com&sipuri=bob@example.com")
    assert all("url.query" not in e for i, e in enumerate(found) if i != 5)  # `-` is no query
    assert found[8]["http.request.referrer"] == "https://meet.example.com/alice/AB12CD34"
    assert [e["message"] for e in found[7:]] == ["POST /EWS/Exchange.asmx 403", "GET /favicon.ico 404"]
    assert found[0]["user_agent.original"].startswith("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    assert [e.get("tags") for e in found[:3]] == [["auth_challenge"], None, ["auth_challenge"]]
    assert found[8]["event.category"] == ["web"] and found[8]["event.type"] == ["access"]


def test_header_change_mid_file_is_followed() -> None:
    first, second, third = _events("header_change.log")
    assert "observer.hostname" not in first and first["network.application"] == "Meet"
    assert second["observer.hostname"] == "RP01" and second["url.domain"] == "mail.example.com"
    # behind the reverse proxy the client is the first X-Forwarded-For address, c-ip the proxy
    assert (second["source.ip"], second["uc.vendor.c-ip"]) == ("203.0.113.77", "192.0.2.50")
    assert second["tags"] == ["source_from_x_forwarded_for"]
    assert (second["event.action"], second["event.outcome"]) == ("user-login", "failure")
    assert "source.nat.ip" not in second  # the proxy is not a NAT translation of the client
    http = {k: v for k, v in second.items() if k.startswith("http.")}
    assert http == {"http.request.method": "POST", "http.request.bytes": 1024, "http.response.status_code": 401,
                    "http.response.bytes": 345, "http.version": "1.1"}
    assert second["url.query"] == "Cmd=Sync&User=dave&DeviceId=ABCDEF0123456789&DeviceType=iPhone"
    assert (second["url.port"], second["destination.port"], second["uc.vendor.s-sitename"]) == (443, 443, "W3SVC1")
    assert (third["source.ip"], third["destination.ip"]) == ("2001:db8::50", "2001:db8::10")
    assert (third["http.version"], third["http.response.bytes"], third["http.request.bytes"]) == ("1.1", 410, 512)
    assert all(not k.startswith("uc.vendor.") or k in _IIS_ONLY for e in (first, second, third) for k in e)


def _row(header: str, values: str) -> dict[str, Any]:
    return PARSER.parse(RawRecord(f"2024-03-05 10:00:00 {values}"), _ctx(f"#Fields: date time {header}"))[0]


def test_http_version_and_number_ranges() -> None:
    event = _row("cs-method cs-uri-stem cs-version sc-status", "GET /owa/ HTTP/2 200")
    assert (event["http"]["version"], event["http"]["response"]["status_code"]) == ("2", 200)
    assert "uc" not in event
    odd = _row("cs-method cs-uri-stem cs-version sc-status", "GET /owa/ SPDY/3 200")
    assert "version" not in odd["http"] and odd["uc"]["vendor"]["cs-version"] == "SPDY/3"
    for header, values in (("sc-status", "1000"), ("sc-bytes", "12k"), ("cs-bytes", "-1")):
        with pytest.raises(ParseError, match=header):
            _row(header, values)
    for port in ("65536", "44x"):  # a port that is not one: the event stays, without it, tagged
        bad = _row("c-ip s-port", f"203.0.113.5 {port}")
        assert (bad["source"]["ip"], bad["tags"], "destination" in bad, "url" in bad) == (
            "203.0.113.5", ["bad_port"], False, False)


def test_ip_restrictions() -> None:
    assert [(e["event.action"], e["event.code"], e["source.ip"]) for e in _events("ip_restrictions.log")] == [
        ("flood-block", "403.502", "203.0.113.66"), ("deny-list", "403.503", "203.0.113.67")]


def test_directives_are_no_events_and_rows_need_a_header() -> None:
    for directive in ("#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0",
                      "#Date: 2024-03-05 10:00:00", HEADER,
                      "\ufeff#Software: Microsoft Internet Information Services 8.5"):
        assert PARSER.parse(RawRecord(directive), _ctx(None)) == []
    with pytest.raises(ParseError, match="no #Fields: header"):
        PARSER.parse(RawRecord(ROW), _ctx(None))
    header_key = header_key_of(PARSER)
    assert header_key(HEADER.encode()) == "Fields"
    assert header_key(ROW.encode()) is None
    assert header_key(b"#Software: x") is None


def test_hostile_input_raises_only_parse_error() -> None:
    seeds = [line for line in golden_lines("iis_w3c") if not line.startswith("#")]
    inputs = mutated(seeds, "- +#:./\\?&=,[]0123456789\t\ufffd", 20240305)
    mb = 1_000_000
    inputs += [" " * mb, "-" * mb, "+" * mb, "#" * mb, ROW + " -" * (mb // 2), ROW[:40], "\ufffd" * mb,
               ROW.replace("203.0.113.5", "[" * mb)]
    ctx = _ctx()
    assert_only_parse_error(PARSER, inputs, ctx)
    headers = [HEADER + " X-Forwarded-For", "#Fields: " + "x " * mb, "#Fields:", "#Fields: date time c-ip"]
    for header in headers:
        assert_only_parse_error(PARSER, [ROW, ROW + " " + "203.0.113.9,+" * (mb // 13), "2024-03-05 10:00:00 ::1"],
                                _ctx(header))
