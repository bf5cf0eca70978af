"""The shared classification and syslog/SIP value helpers of the plugin API."""

from typing import Any

import pytest

from ucsiem.parsing import (
    BAD_PORT,
    CATEGORISATION,
    Kind,
    ParseError,
    kind,
    kind_fields,
    name_addr,
    priority_fields,
    sip_params,
    syslog_header_fields,
    to_port,
)


def test_kind_takes_the_shared_table_and_refines_it() -> None:
    base = CATEGORISATION["sip-register"]
    assert kind("sip-register") == Kind("sip-register", base.category, base.type, base.outcome)
    refused = kind("sip-register", "failure", add_type=("denied", "protocol"), add_category=("authentication",))
    assert refused == Kind("sip-register", ("network", "authentication"), ("protocol", "denied"), "failure")
    # the table's default outcome stays unless the line says otherwise; a replaced category says so
    assert kind("config-change").outcome == "success"
    assert kind("call-end", category=("session",), event_kind="alert") == Kind(
        "call-end", ("session",), CATEGORISATION["call-end"].type, None, "alert")


def test_kind_refuses_an_action_outside_the_vocabulary() -> None:
    with pytest.raises(KeyError, match="sip-flood"):
        kind("sip-flood")


def test_kind_fields_are_what_the_event_gets() -> None:
    assert kind_fields(kind("admin-login", "failure")) == {
        "kind": "event", "action": "admin-login", "category": ["authentication"], "type": ["start"],
        "outcome": "failure"}
    assert "outcome" not in kind_fields(kind("diagnostic"))


@pytest.mark.parametrize(("pri", "facility", "severity"), [(0, "kern", "emerg"), (187, "local7", "err"),
                                                          (191, "local7", "debug"), (38, "auth", "info")])
def test_priority_fields(pri: int, facility: str, severity: str) -> None:
    fields = priority_fields(pri)
    assert fields["priority"] == pri
    assert fields["facility"] == {"code": pri >> 3, "name": facility}
    assert fields["severity"] == {"code": pri & 7, "name": severity}


@pytest.mark.parametrize("pri", [192, 999, -1])
def test_priority_out_of_range_is_a_parse_error(pri: int) -> None:
    with pytest.raises(ParseError) as caught:
        priority_fields(pri)
    assert caught.value.code == "no_match"


def test_syslog_header_fields_fill_receiver_observer_and_process() -> None:
    event: dict[str, Any] = {"log": {"level": "info"}}
    syslog = syslog_header_fields(event, host="pbx1", program="asterisk", pri="30", pid="412")
    assert event == {"log": {"level": "info", "syslog": syslog}, "observer": {"hostname": "pbx1"},
                     "process": {"name": "asterisk", "pid": 412}}
    assert syslog["severity"] == {"code": 6, "name": "info"} and syslog["appname"] == "asterisk"
    bare: dict[str, Any] = {}
    syslog_header_fields(bare, host="h", program="p")
    assert bare == {"log": {"syslog": {"hostname": "h", "appname": "p"}}, "observer": {"hostname": "h"},
                    "process": {"name": "p"}}


@pytest.mark.parametrize(("value", "uri", "tag"), [
    ('"Bob" <sip:bob@example.com>;tag=1', "sip:bob@example.com", "1"),
    ("<sip:bob@example.com;transport=tls>;epid=9;tag=a7", "sip:bob@example.com;transport=tls", "a7"),
    ("sip:bob@example.com;tag=x1", "sip:bob@example.com", "x1"),
    ('"Eve <sip:x@y>" <sip:eve@example.com', "sip:x@y", None),  # unclosed: the first <...> is kept as read
    ("sip:bob@example.com", "sip:bob@example.com", None),
    ("<sip:bob@example.com>;TAG=", "sip:bob@example.com", None),
])
def test_name_addr(value: str, uri: str, tag: str | None) -> None:
    assert name_addr(value) == (uri, tag)


def test_sip_params_quoted_values_first_wins_and_bounded() -> None:
    assert sip_params('1010; reason ="a;b c";ErrorType="x";reason=second') == (
        "1010", {"reason": "a;b c", "errortype": "x"})
    head, found = sip_params("h" + ";k=v" * 10_000)
    assert head == "h" and found == {"k": "v"}


@pytest.mark.parametrize(("value", "port", "tagged"), [
    ("5060", 5060, False), (" 0 ", 0, False), (65535, 65535, False), ("", None, False), (None, None, False),
    ("65536", None, True), ("-1", None, True), ("50x0", None, True), ("٥٠٦٠", None, True), (70000, None, True),
    ("123456", None, True), (True, None, True),
])
def test_to_port_tags_what_is_not_a_port(value: str | int | None, port: int | None, tagged: bool) -> None:
    tags: list[str] = ["earlier"]
    assert to_port(value, tags) == port
    assert tags == (["earlier", BAD_PORT] if tagged else ["earlier"])
    to_port(value, tags)
    assert tags.count(BAD_PORT) == (1 if tagged else 0)  # once, however many ports are bad
