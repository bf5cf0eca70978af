"""The cisco_cms parser on the published Cisco Meeting Server lines (`shared/samples/cisco_cms/`).

The samples are copied from Cisco TAC documents (three presentation forms: syslog with a year-less
time, syslog with an ISO time, the web admin event log view). Every line must become a normal event;
the security-relevant ones must carry the right action, outcome and ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_every_record_is_an_event,
    assert_only_parse_error,
    builtin_parser,
    each_file,
    mutated,
    nonblank_lines,
    sample_events,
    sample_files,
    sample_lines,
    truncations,
)
from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("cisco_cms")
FILES = sample_files("cisco_cms")
CTX = ParseContext(reference_time=REFERENCE_TIME)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, nonblank_lines(path))


def test_security_relevant_actions(events: list[Event]) -> None:
    """The exact sequence of non-diagnostic actions, in file order."""
    found = [(e["event.action"], e.get("event.outcome")) for e in events if e["event.action"] != "diagnostic"]
    assert found == [
        ("conference-join", None),            # WebApp Audit: join call
        ("account-change", "success"),        # created guest account
        ("license-limit", "failure"),         # unable to apply logo -- no license
        ("conference-start", None),           # conference <guid> named "9999"
        ("call-attempt", None),               # call 11: allocated for guest (web app)
        ("conference-join", None),            # participant joined space
        ("call-end", None),                   # call 11: tearing down
        ("conference-leave", None),           # participant left space
        ("account-change", "success"),        # destroying guest account
        ("call-attempt", None),               # call 38: incoming encrypted SIP call
        ("conference-join", None),
        ("conference-join", None),
        ("call-attempt", None),               # call 40: incoming encrypted SIP call
        ("call-end", "success"),              # call 40: ending; remote SIP teardown - connected for 0:14
    ]


def test_call_legs(events: list[Event]) -> None:
    incoming = next(e for e in events if e["event.action"] == "call-attempt" and e.get("uc.call.leg_id") == "38")
    assert (incoming["uc.call.caller"], incoming["uc.call.callee"]) == (
        "sip:2000@steven.lab", "sip:guestpin.space@acano.steven.lab")
    assert (incoming["source.user.name"], incoming["destination.user.name"]) == ("2000", "guestpin.space")
    assert incoming["uc.call.direction"] == "inbound" and incoming["uc.vendor.encrypted"] is True
    assert incoming["@timestamp"] == "2017-02-21T17:48:54.809000Z"  # event log view, naive time in UTC
    end = next(e for e in events if e["event.action"] == "call-end" and e.get("uc.call.leg_id") == "40")
    assert end["uc.call.disconnect_cause"] == "remote SIP teardown"
    assert (end["uc.call.duration"], end["event.duration"]) == (14.0, 14_000_000_000)
    web = next(e for e in events if e["event.action"] == "call-attempt" and e.get("uc.call.leg_id") == "11")
    assert (web["user.name"], web["user.full_name"], web["uc.vendor.client"]) == (
        "guest1573064743", "Thomas", "Firefox")


def test_guest_accounts_are_the_target(events: list[Event]) -> None:
    """The Call Bridge creates and removes guest accounts itself: the guest is `user.target`, there is no actor."""
    guests = [e for e in events if e["event.action"] == "account-change"]
    assert [(e["event.type"], e["user.target.name"], "user.name" in e) for e in guests] == [
        (["user", "creation"], "guest1573064743", False), (["user", "deletion"], "guest1573064743", False)]
    assert all(e["related.user"] == ["guest1573064743"] for e in guests)


def test_conference_ids(events: list[Event]) -> None:
    start = next(e for e in events if e["event.action"] == "conference-start")
    assert (start["uc.conference.id"], start["uc.conference.name"]) == ("db0fafc3-ad47-43bd-bcbd-47886416451b", "9999")
    joins = [e for e in events if e["event.action"] == "conference-join" and "uc.vendor.space_id" in e]
    assert [(e["uc.conference.participant"], e["uc.conference.name"]) for e in joins] == [
        ("guest1573064743", "9999"), ("2000@steven.lab", "Guest/Host PIN"), ("1060@steven.lab", "Guest/Host PIN")]
    leave = next(e for e in events if e["event.action"] == "conference-leave")
    assert leave["uc.vendor.space_id"] == "58ef98d1-5181-4e63-a386-4b60597be7e4"
    jwt = next(e for e in events if str(e.get("message", "")).startswith("WebSocket : Got authenticated JWT"))
    assert (jwt["uc.call.leg_id"], jwt["user.name"]) == ("fcfe42f4-ac94-4ab2-a14a-f4165ec960a7", "guest1573064743")


def test_syslog_header_fields(events: list[Event]) -> None:
    first = events[0]
    assert (first["log.syslog.facility.name"], first["log.syslog.severity.name"]) == ("local0", "info")
    assert (first["observer.hostname"], first["process.name"], first["log.level"]) == ("CMS", "client_backend", "info")
    assert first["@timestamp"] == "2024-02-23T09:02:21.588000Z"  # year from the reference time
    postgres = next(e for e in events if e.get("process.name") == "postgres")
    assert postgres["process.pid"] == 54639
    iso = [e for e in events if e.get("observer.hostname") == "cms01"]
    assert [e["@timestamp"] for e in iso] == ["2024-03-05T16:50:25.736000Z", "2024-03-06T09:35:42.003000Z"]


def test_mmp_audit_line_from_the_reference() -> None:
    """The CMS 3.9 CLI audit line quoted in the reference (Cisco doc 221776), as published."""
    line = ("2024-03-06T09:34:45.395 local0.info cms01 cli: User admin from 10.140.249.233:63290 issued command "
            "< callbridge av1 enable>: permission granted")
    event = PARSER.parse(RawRecord(line), CTX)[0]
    assert (event["event"]["action"], event["event"]["outcome"]) == ("config-change", "success")
    assert event["source"] == {"ip": "10.140.249.233", "port": 63290}
    assert event["user"] == {"name": "admin"}
    assert event["process"]["command_line"] == "callbridge av1 enable"
    assert event["uc"]["vendor"] == {"permission": "granted"}


_CLI = "2024-03-06T09:34:45.395 local0.info cms01 cli: User admin from 203.0.113.233:63290 issued command <{}>: {}"


@pytest.mark.parametrize(("command", "verdict", "action", "types", "outcome", "target"), [
    (" user add mmpops appadmin", "permission granted", "account-change", ["user", "creation"], "success", "mmpops"),
    (" user del mmpops", "permission granted", "account-change", ["user", "deletion"], "success", "mmpops"),
    (" user expire mmpops", "permission granted", "account-change", ["user", "change"], "success", "mmpops"),
    (" user add mmpops admin", "permission denied", "account-change", ["user", "creation", "denied"], "failure",
     "mmpops"),
    (" user evict mmpops", "permission granted", "admin-action", ["info"], "success", "mmpops"),
    (" user list", "permission granted", "admin-action", ["info"], "success", None),
    (" user rule password_length 12", "permission granted", "config-change", ["change"], "success", None),
])
def test_mmp_user_commands_name_the_target_account(command: str, verdict: str, action: str, types: list[str],
                                                   outcome: str, target: str | None) -> None:
    """MMP `user <verb> <name>` commands: the admin is `user.name`, the account acted on `user.target.name`
    (command syntax from the MMP Command Line Reference; the line shape is the audit line above)."""
    event = PARSER.parse(RawRecord(_CLI.format(command, verdict)), CTX)[0]
    ev = event["event"]
    assert (ev["action"], ev["type"], ev["outcome"]) == (action, types, outcome)
    assert event["user"]["name"] == "admin"
    assert event["user"].get("target") == ({"name": target} if target else None)
    assert event["process"]["command_line"] == command.strip()


_WB3 = ("Feb 23 09:02:21.599 local7.info cms01 3b8086e0e5a0 wb3_frontend: [Join call:fcfe42f4-ac94-4ab2-a14a-"
        "f4165ec960a7] 198.51.100.52 - - [23/Feb/2024:09:02:21 +0000] status {status} \"{request}\" bytes_sent "
        "{sent} http_referer \"{referrer}\" http_user_agent \"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:122.0) "
        "Gecko/20100101 Firefox/122.0\" toupstream 192.0.2.2:9000: upstream_response_time 0.008 request_time 0.007 "
        "msec 1708678941.598 upstream_response_length 1027 200")


def test_web_bridge_access_line_http_fields() -> None:
    """The CMS Edge doc's Web Bridge 3 access line: method, status, version, bytes and referrer under `http.*`,
    the request target split into `url.path` / `url.query`; nothing of it left under `uc.vendor`."""
    line = _WB3.format(status=200, request="POST /api/join HTTP/1.1", sent=1003,
                       referrer="https://join.example.com:445/")
    event = PARSER.parse(RawRecord(line), CTX)[0]
    assert event["http"] == {"request": {"method": "POST", "referrer": "https://join.example.com:445/"},
                             "response": {"status_code": 200, "bytes": 1003}, "version": "1.1"}
    assert event["url"] == {"original": "/api/join", "path": "/api/join"}
    assert event["uc"]["vendor"] == {"container": "3b8086e0e5a0", "upstream": "192.0.2.2:9000"}
    assert event["event"]["action"] == "conference-join"


def test_web_bridge_access_query_no_referrer_and_error_status() -> None:
    """Same line with a query string, nginx's `-` for no referrer, and a 403 on the auth API."""
    line = _WB3.format(status=403, request="GET /api/auth/sso?lang=en-GB&next=%2F HTTP/1.0", sent=512, referrer="-")
    event = PARSER.parse(RawRecord(line), CTX)[0]
    assert event["url"] == {"original": "/api/auth/sso?lang=en-GB&next=%2F", "path": "/api/auth/sso",
                            "query": "lang=en-GB&next=%2F"}
    assert event["http"] == {"request": {"method": "GET"}, "response": {"status_code": 403, "bytes": 512},
                             "version": "1.0"}
    ev = event["event"]
    assert (ev["action"], ev["outcome"], ev["reason"]) == ("user-login", "failure", "HTTP 403")
    oversized = PARSER.parse(RawRecord(_WB3.format(status=200, request="GET / HTTP/1.1", sent="9" * 30,
                                                   referrer="-")), CTX)[0]
    assert oversized["http"]["response"] == {"status_code": 200}


def test_not_cms_lines_are_parse_errors() -> None:
    for line in ("Mar  5 10:15:02 pbx01 asterisk[2400]: NOTICE[2417]: chan_sip.c:1 in f: x",
                 "2024-05-14T09:15:02.125+02:00 expc01 tvcs: Event=\"Registration Accepted\"",
                 '{"time": "2024-01-01T00:00:00Z"}', "", "\x00\x00"):
        with pytest.raises(ParseError):
            PARSER.parse(RawRecord(line), CTX)


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, 1 MB lines of each separator the parser splits on, truncations, U+FFFD."""
    seeds = sample_lines("cisco_cms")
    alphabet = "\"'()[]<>:;.,-/ 0123456789abcdefINFOcal\ufffd"
    inputs = mutated(seeds, alphabet, 20240223)
    inputs += truncations(seeds, 7)
    inputs += [seed.replace("e", "\ufffd") for seed in seeds]
    mb = 1_000_000
    head = "Feb 23 09:02:21.598 user.info cms01 host:server: INFO : "
    for ch in " :\"'()[]<>-;,.@/":
        inputs += [head + ch * mb, "Feb 23 09:02:21.598 user.info " + ch * mb, ch * mb]
    inputs += [
        head + "call 1: ending; " + " - " * (mb // 3),
        head + 'participant "' + '" (' * (mb // 3),
        head + "conference " + "0" * mb,
        head + 'call 1: incoming SIP call from "' + '"' * mb,
        head + "call 1: allocated for " + "x / " * (mb // 4) + " conference participation",
        "Feb 23 09:02:21.598 local0.info cms01 client_backend: INFO : WebApp Audit : Session: "
        + "a77d94b1-ba12-4e4e-8f3e-86b3e9c1de8f : Participant " + "(" * mb,
        "Feb 23 09:02:21.599 local7.info cms01 wb3_frontend: ["
        + "a:b, " * (mb // 5) + "] 192.0.2.1 - - [x] status 200",
        "Feb 23 09:02:21.599 local7.info cms01 wb3_frontend: 192.0.2.1 - - [x] status 200 \"GET /"
        + "a" * mb + ' HTTP/1.1" http_user_agent "' + '"' * mb,
        "2024-03-06T09:34:45.395 local0.info cms01 cli: User " + " from " * (mb // 6) + " issued command <",
        "2024-03-06T09:34:45.395 local0.info cms01 cli: User a from 192.0.2.1:1 issued command <user add "
        + "x " * (mb // 2) + ">: permission granted",
        "Feb 23 09:02:21.599 local7.info cms01 wb3_frontend: 192.0.2.1 - - [x] status 200 \"GET /?"
        + "?" * 4000 + ' HTTP/1.1" bytes_sent ' + "9" * mb + ' http_referer "' + " " * mb,
        "Feb 23 09:02:21.599 local7.info cms01 wb3_frontend: 192.0.2.1 - - [x] status 200 \"GET / HTTP/1.1\""
        + ' http_referer "' * (mb // 15) + " bytes_sent \u0663",
        "2017-02-21  17:48:54.809  Info " + " " * mb + "x",
        "<" + "1" * mb + ">",
    ]
    assert_only_parse_error(PARSER, inputs, CTX)
