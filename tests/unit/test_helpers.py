from __future__ import annotations

import csv
import re
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucsiem.parsing.helpers import (
    add_group,
    canonical_ip,
    parse_kv_quoted,
    present,
    prune,
    split_csv_line,
    split_upn,
    split_uri_user,
    structured_data_end,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.1", "192.0.2.1"),
    (" 192.0.2.1 ", "192.0.2.1"),
    ("[2001:DB8::1]", "2001:db8::1"),
    ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("01.2.3.4", None),  # leading zeros: ambiguous (octal), rejected like the schema does
    ("256.1.1.1", None),
    ("1.2.3", None),
    ("fe80::1%eth0", None),  # zone ids are not valid in an `ip` field
    ("192.0.2.1\x00", None),
    ("sbc01.example.com", None),
])
def test_canonical_ip(text: str, expected: str | None) -> None:
    assert canonical_ip(text) == expected


def _inet_pton_reading(text: str) -> str | None:
    """canonical_ip as inet_pton decides, both families asked in turn (what canonical_ip answers sooner)."""
    import socket

    value = text.strip().strip("[]")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, value)
        except (OSError, ValueError):
            continue
        return value if family == socket.AF_INET else socket.inet_ntop(family, packed)
    return None


_IP_CHARS = st.text(alphabet=st.sampled_from(list("0123456789.:abcdefABCDEF[]% \x00\u0663\uff11x")), max_size=45)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_IP_CHARS, st.ip_addresses().map(str), st.ip_addresses(v=4).map(lambda a: f"{a}:5060"),
                 st.ip_addresses(v=6).map(lambda a: f"[{a.exploded.upper()}]"), st.text(max_size=20)))
def test_canonical_ip_answers_as_inet_pton(text: str) -> None:
    assert canonical_ip(text) == _inet_pton_reading(text)


def test_kv_scanner_trims_and_keeps_first() -> None:
    assert parse_kv_quoted('A=" x " B="y" A="z" C="with \\"quote\\""') == {"A": "x", "B": "y", "C": 'with \\"quote\\"'}


def test_split_uri_user() -> None:
    assert split_uri_user("<sip:alice@example.com;transport=tls>") == ("alice", "example.com")
    assert split_uri_user("+3312345@192.0.2.1:5060") == ("+3312345", "192.0.2.1")
    assert split_uri_user("tel:+441632960000") == ("+441632960000", None)


_OLD_KV = re.compile(r'([A-Za-z0-9_.:-]+)="([^"\\]*(?:\\.[^"\\]*)*)"')


@given(st.text(alphabet='ab=" \\.:-x', max_size=60))
def test_kv_scanner_finds_what_the_regex_found(text: str) -> None:
    # the linear scanner replaced re.findall with this pattern: same pairs, same first-wins rule
    expected: dict[str, str] = {}
    for key, value in _OLD_KV.findall(text):
        expected.setdefault(key, value.strip())
    assert parse_kv_quoted(text) == expected


def test_kv_scanner_on_megabyte_runs_returns() -> None:
    assert parse_kv_quoted("a" * 1_000_000) == {}
    assert parse_kv_quoted('="' * 500_000) == {}
    assert parse_kv_quoted("k" * 500_000 + '="v"') == {"k" * 500_000: "v"}


@pytest.mark.parametrize(("upn", "expected"), [
    ("bob@example.com", ("bob", "example.com")), ("a@b@example.com", ("a@b", "example.com")),
    ("bob", ("bob", None)), ("@example.com", ("@example.com", None)), ("bob@", ("bob@", None)), (None, (None, None)),
])
def test_split_upn(upn: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_upn(upn) == expected


@pytest.mark.parametrize(("text", "at", "end"), [
    ('[a x="1"] msg', 0, 9),
    ('[a x="1"][b y="2"] msg', 0, 18),  # adjacent elements are one block
    ('[a x="a]b"] msg', 0, 11),  # a bracket inside quotes
    ('[a x="q\\"]"] msg', 0, 12),  # an escaped quote
    ('<13>1 - - [a x="1"] m', 10, 19),  # from an offset
    ('[a x="open', 0, 10),  # not closed: the end of the text
])
def test_structured_data_end(text: str, at: int, end: int) -> None:
    assert structured_data_end(text, at) == end


def _prune_reference(obj: dict[str, object]) -> dict[str, object]:
    """The rule as first written (isinstance and equality only): the fast prune must agree with it."""
    out: dict[str, object] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = _prune_reference(value)
        if value is None or value == "" or value == {} or value == []:
            continue
        out[key] = value
    return out


class _Text(str):
    pass


_SCALARS = st.one_of(st.none(), st.text(max_size=3), st.integers(-2, 2), st.floats(allow_nan=False),
                     st.booleans(), st.datetimes(), st.just(()), st.just(_Text("")), st.just(_Text("x")),
                     st.just(OrderedDict()), st.just(OrderedDict(a=None)))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=2), inner, max_size=4)),
                       max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=2), _VALUES, max_size=6))
def test_prune_agrees_with_the_plain_rule(event: dict[str, object]) -> None:
    assert prune(event) == _prune_reference(event)


def _csv_module(text: str) -> list[str] | str:
    """What the csv module gives for one line: its fields, or the kind of its error."""
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error:
        return "csv.Error"
    return rows[0] if rows else []


def _split(text: str) -> list[str] | str:
    try:
        return split_csv_line(text)
    except csv.Error:
        return "csv.Error"


@pytest.mark.parametrize("text", [
    "", "a", "a,b", ",", ",,", 'a,"b,c",d', '"a"', '"a",', '",a"', 'a,"",b', '""', '""""', '"a""b",c',
    'a"b', 'a"b"c', '"a"b', '"a" ,b', ' "a",b', '"a', 'a,"b', '"a\nb",c', "a\nb", "a\rb", "a\x00b", '"\x00"',
    'x' * 131_073, '"' + 'x' * 131_073 + '"', "é,ü,\u2028", 'START,"SIP,id@host,;tag=1",12,"96,84,2,182",0',
])
def test_split_csv_line_reads_a_line_as_the_csv_module_does(text: str) -> None:
    assert _split(text) == _csv_module(text)


@settings(max_examples=3000)
@given(st.text(alphabet=st.sampled_from(list('ab,,,""" \n\r\x00\té')), max_size=40))
def test_split_csv_line_agrees_with_the_csv_module_on_any_line(text: str) -> None:
    assert _split(text) == _csv_module(text)


def test_split_csv_line_takes_the_fast_path_on_quoted_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quoted groups of a Ribbon CDR are cut by str.split: the csv module is called for the doubled quote.
    (The csv module's reader is watched: a compiled helpers module calls its own functions directly.)"""
    called: list[str] = []
    original = csv.reader
    def recording(lines: list[str], **options: Any) -> Any:
        called.extend(lines)
        return original(lines, **options)

    monkeypatch.setattr(csv, "reader", recording)
    line = 'STOP,SBC1,"SIP,8812@198.51.100.170,%22U%22;tag=gK0,,0",,110,"96,84,2,182",0'
    assert split_csv_line(line) == ["STOP", "SBC1", "SIP,8812@198.51.100.170,%22U%22;tag=gK0,,0", "", "110",
                                    "96,84,2,182", "0"]
    assert split_csv_line('a,"b""c"') == ["a", 'b"c']
    assert called == ['a,"b""c"']


_FLAT_VALUES = st.one_of(st.none(), st.sampled_from(["", "x", 0, 0.0, False, True, 5, [], ["a"], {}]),
                         st.text(max_size=3))


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _FLAT_VALUES))
def test_present_leaves_of_one_level_what_prune_leaves(members: dict[str, object]) -> None:
    assert present(members) == prune(members)
    assert list(present(members)) == list(prune(members))  # and in the same order


def test_add_group_sets_only_a_group_with_members() -> None:
    event: dict[str, object] = {}
    add_group(event, "source", {})
    assert event == {}
    add_group(event, "source", {"ip": "192.0.2.1"})
    assert event == {"source": {"ip": "192.0.2.1"}}


def test_add_envelope_groups_sets_only_groups_with_members() -> None:
    from ucsiem.parsing import add_envelope_groups

    bare: dict[str, object] = {}
    add_envelope_groups(bare, level=None, logger="", syslog=None, observer=None, process={})
    assert bare == {}
    event: dict[str, object] = {}
    add_envelope_groups(event, level="warning", logger=None, syslog={"hostname": "pbx1", "appname": "asterisk"},
                        observer={"hostname": "pbx1"}, process={"name": "asterisk", "pid": 7})
    assert event == {"log": {"level": "warning", "syslog": {"hostname": "pbx1", "appname": "asterisk"}},
                     "observer": {"hostname": "pbx1"}, "process": {"name": "asterisk", "pid": 7}}
