"""Sigma detections compiled to predicates (issue 9): every supported modifier, wildcards, null, lists,
conditions, log sources, the action index, and what a Hit carries."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path
from typing import Any

import pytest

from ucsiem.correlate import Detector, load_rules

RID = "11111111-1111-4111-8111-{:012d}"


def detector(tmp_path: Path, detection: str, logsource: str = "{product: kamailio}") -> Detector:
    rule = f"""title: test rule
id: {RID.format(1)}
logsource: {logsource}
detection:
{detection}
"""
    path = tmp_path / "rule.yml"
    path.write_text(rule)
    return Detector(load_rules([path]))


def event(**fields: Any) -> dict[str, Any]:
    """An event from dotted names, as the agent ships it (nested)."""
    doc: dict[str, Any] = {"@timestamp": "2026-03-01T10:00:00.250Z",
                           "event": {"module": "kamailio", "dataset": "kamailio.log", "id": "ev-1"}}
    for dotted, value in fields.items():
        *parents, last = dotted.replace("__", ".").split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return doc


def matches(det: Detector, **fields: Any) -> bool:
    return bool(det.detect(event(**fields)))


LIST_OF_MAPS = "  sel:\n    - {user.name: x, source.ip: 192.0.2.1}\n    - {user.name: y}\n  condition: sel"


def sel(mapping: str) -> str:
    return f"  sel: {{{mapping}}}\n  condition: sel"


CASES: list[tuple[str, dict[str, Any], bool]] = [
    # plain value: whole-string, case-insensitive
    (sel("user_agent.original: friendly-scanner"), {"user_agent.original": "Friendly-Scanner"}, True),
    (sel("user_agent.original: friendly-scanner"), {"user_agent.original": "friendly-scanner2"}, False),
    # contains / startswith / endswith
    (sel("user_agent.original|contains: vicious"), {"user_agent.original": "SIPVicious 0.3"}, True),
    (sel("user_agent.original|contains: vicious"), {"user_agent.original": "Yealink"}, False),
    (sel("user_agent.original|startswith: sipv"), {"user_agent.original": "SIPVicious"}, True),
    (sel("user_agent.original|startswith: sipv"), {"user_agent.original": "x SIPVicious"}, False),
    (sel("url.path|endswith: .php"), {"url.path": "/admin/INDEX.PHP"}, True),
    (sel("url.path|endswith: .php"), {"url.path": "/admin/index.php5"}, False),
    # wildcards in plain values, escaped wildcard
    (sel("user.name: 'adm?n*'"), {"user.name": "Admin-1"}, True),
    (sel("user.name: 'adm?n*'"), {"user.name": "admn"}, False),
    (sel("user.name: 'a\\*b'"), {"user.name": "a*b"}, True),
    (sel("user.name: 'a\\*b'"), {"user.name": "axxb"}, False),
    # cased
    (sel("user.name|cased: Admin"), {"user.name": "Admin"}, True),
    (sel("user.name|cased: Admin"), {"user.name": "admin"}, False),
    # re (case-sensitive, search), re|i
    (sel("uc.sip.request_uri|re: '^sip:\\+?00[1-9]'"), {"uc.sip.request_uri": "sip:0044@x"}, True),
    (sel("uc.sip.request_uri|re: '^sip:\\+?00[1-9]'"), {"uc.sip.request_uri": "sip:1001@x"}, False),
    (sel("user.name|re: '^ADMIN$'"), {"user.name": "admin"}, False),
    (sel("user.name|re|i: '^ADMIN$'"), {"user.name": "admin"}, True),
    # cidr (v4 and v6), bad address text
    (sel("source.ip|cidr: 10.0.0.0/8"), {"source.ip": "10.20.30.40"}, True),
    (sel("source.ip|cidr: 10.0.0.0/8"), {"source.ip": "11.0.0.1"}, False),
    (sel("source.ip|cidr: '2001:db8::/32'"), {"source.ip": "2001:db8::5"}, True),
    (sel("source.ip|cidr: '2001:db8::/32'"), {"source.ip": "10.0.0.1"}, False),
    # numeric comparisons (numbers and numeric text), neq
    (sel("uc.sip.status_code|gte: 400"), {"uc.sip.status_code": 403}, True),
    (sel("uc.sip.status_code|gte: 400"), {"uc.sip.status_code": 399}, False),
    (sel("uc.sip.status_code|gt: 400"), {"uc.sip.status_code": 400}, False),
    (sel("uc.call.duration|lt: 3"), {"uc.call.duration": 2.5}, True),
    (sel("uc.call.duration|lte: 3"), {"uc.call.duration": 3}, True),
    (sel("uc.call.duration|lte: 3"), {"uc.call.duration": 3.01}, False),
    (sel("uc.vendor.code|gt: 5"), {"uc.vendor": {"code": "7"}}, True),
    (sel("uc.sip.status_code|neq: 200"), {"uc.sip.status_code": 404}, True),
    (sel("uc.sip.status_code|neq: 200"), {"uc.sip.status_code": 200}, False),
    # plain numbers and booleans
    (sel("uc.sip.status_code: 401"), {"uc.sip.status_code": 401}, True),
    (sel("uc.sip.status_code: 401"), {"uc.sip.status_code": 407}, False),
    (sel("uc.call.callee_international: true"), {"uc.call.callee_international": True}, True),
    (sel("uc.call.callee_international: true"), {"uc.call.callee_international": False}, False),
    # exists, null
    (sel("user.name|exists: true"), {"user.name": "bob"}, True),
    (sel("user.name|exists: true"), {"source.ip": "192.0.2.1"}, False),
    (sel("user.name|exists: false"), {"source.ip": "192.0.2.1"}, True),
    (sel("user.name: null"), {"source.ip": "192.0.2.1"}, True),
    (sel("user.name: null"), {"user.name": "bob"}, False),
    # list of values = OR; all = AND; list field = any element
    (sel("user.name: [alice, bob]"), {"user.name": "BOB"}, True),
    (sel("user.name: [alice, bob]"), {"user.name": "carol"}, False),
    (sel("message|contains|all: [auth, fail]"), {"message": "Auth did FAIL"}, True),
    (sel("message|contains|all: [auth, fail]"), {"message": "auth ok"}, False),
    (sel("related.ip|cidr: 192.0.2.0/24"), {"related.ip": ["10.0.0.1", "192.0.2.9"]}, True),
    (sel("related.ip|cidr: 192.0.2.0/24"), {"related.ip": ["10.0.0.1"]}, False),
    # base64 / base64offset
    (sel("message|base64: admin"), {"message": base64.b64encode(b"admin").decode()}, True),
    ("  sel: {message|base64offset|contains: admin}\n  condition: sel",
     {"message": "x" + base64.b64encode(b"..admin..").decode()}, True),
    # fieldref
    (sel("user.name|fieldref: user.target.name"), {"user.name": "Bob", "user.target.name": "bob"}, True),
    (sel("user.name|fieldref: user.target.name"), {"user.name": "bob", "user.target.name": "al"}, False),
    # hour of the event time (UTC)
    (sel("'@timestamp|hour|gte': 9"), {}, True),
    (sel("'@timestamp|hour|gte': 11"), {}, False),
    (sel("'@timestamp|hour': 10"), {}, True),
    # conditions: maps AND, not, or, parentheses, 1 of, all of, them
    ("  a: {event.action: sip-register, event.outcome: failure}\n  condition: a",
     {"event.action": "sip-register", "event.outcome": "success"}, False),
    ("  a: {event.action: sip-register}\n  b: {event.outcome: success}\n  condition: a and not b",
     {"event.action": "sip-register", "event.outcome": "failure"}, True),
    ("  a: {event.action: sip-register}\n  b: {event.outcome: success}\n  condition: a and not b",
     {"event.action": "sip-register", "event.outcome": "success"}, False),
    ("  a: {user.name: x}\n  b: {event.action: sip-auth}\n  c: {event.outcome: failure}\n  condition: a or (b and c)",
     {"event.action": "sip-auth", "event.outcome": "failure"}, True),
    ("  a: {user.name: x}\n  b: {event.action: sip-auth}\n  c: {event.outcome: failure}\n  condition: a or (b and c)",
     {"event.action": "sip-auth", "event.outcome": "success"}, False),
    ("  sel_1: {user.name: x}\n  sel_2: {user.name: y}\n  condition: 1 of sel_*", {"user.name": "y"}, True),
    ("  sel_1: {user.name: x}\n  sel_2: {source.ip: 192.0.2.1}\n  condition: all of sel_*",
     {"user.name": "x", "source.ip": "192.0.2.2"}, False),
    ("  sel_1: {user.name: x}\n  sel_2: {source.ip: 192.0.2.1}\n  condition: all of them",
     {"user.name": "x", "source.ip": "192.0.2.1"}, True),
    # list of maps = OR of ANDs
    (LIST_OF_MAPS, {"user.name": "y"}, True),
    (LIST_OF_MAPS, {"user.name": "x"}, False),
]


@pytest.mark.parametrize(("detection", "fields", "expected"), CASES)
def test_detection_semantics(tmp_path: Path, detection: str, fields: dict[str, Any], expected: bool) -> None:
    assert matches(detector(tmp_path, detection), **fields) is expected


def test_logsource_maps_to_module_dataset_category(tmp_path: Path) -> None:
    det = detector(tmp_path, "  sel: {user.name: x}\n  condition: sel",
                   "{product: Cisco, service: expressway, category: authentication}")
    ok = event(**{"user.name": "x", "event.module": "cisco", "event.dataset": "cisco.expressway",
                  "event.category": ["authentication"]})
    assert det.detect(ok)
    assert not det.detect({**ok, "event": {**ok["event"], "dataset": "cisco.cucm"}})
    assert not det.detect({**ok, "event": {**ok["event"], "module": "kamailio"}})
    assert not det.detect({**ok, "event": {**ok["event"], "category": ["network"]}})
    full = detector(tmp_path, "  sel: {user.name: x}\n  condition: sel", "{service: cisco.expressway}")
    assert full.detect(ok)


def test_action_index_tries_only_candidate_rules(tmp_path: Path) -> None:
    det = detector(tmp_path, sel("event.action: [sip-register, sip-auth], event.outcome: failure"))
    assert set(det._by_action) == {"sip-register", "sip-auth"}  # the rule is indexed, not tried on calls
    assert not det._unindexed
    assert matches(det, **{"event.action": "sip-auth", "event.outcome": "failure"})
    assert not matches(det, **{"event.action": "call-attempt", "event.outcome": "failure"})


def test_hit_is_small_and_picklable(tmp_path: Path) -> None:
    det = detector(tmp_path, "  sel: {event.action: sip-register}\n  condition: sel")
    ev = event(**{"event.action": "sip-register", "source.ip": "192.0.2.7", "user.name": "bob",
                  "message": "not needed", "uc.sip.call_id": "abc"})
    [hit] = det.detect(ev)
    assert hit.rules == (RID.format(1),)
    assert hit.event_id == "ev-1"
    assert hit.ts == pytest.approx(1772359200.25)
    assert hit.fields["source.ip"] == "192.0.2.7" and hit.fields["user.name"] == "bob"
    assert "message" not in hit.fields and "uc.sip.call_id" not in hit.fields
    assert pickle.loads(pickle.dumps(hit)) == hit


def test_event_without_time_is_counted_not_hit(tmp_path: Path) -> None:
    det = detector(tmp_path, "  sel: {event.action: sip-register}\n  condition: sel")
    ev = event(**{"event.action": "sip-register"})
    ev["@timestamp"] = "yesterday"
    assert det.detect(ev) == []
    assert det.bad_time == 1


def test_candidates_are_decided_by_the_event_header_and_remembered(tmp_path: Path) -> None:
    rules = {1: ("{product: kamailio}", "event.action: sip-register, event.outcome: failure"),
             2: ("{product: kamailio}", "event.action: sip-register, user.name: bob"),
             3: ("{product: asterisk}", "event.action: sip-register")}
    for n, (logsource, mapping) in rules.items():
        (tmp_path / f"r{n}.yml").write_text(f"title: rule {n}\nid: {RID.format(n)}\nlogsource: {logsource}\n"
                                            f"detection:\n{sel(mapping)}\n")
    det = Detector(load_rules([tmp_path]))

    def candidates(**fields: Any) -> list[str]:
        return [c.key[-1] for c in det.candidates(event(**fields))]

    assert candidates(**{"event.action": "sip-register", "event.outcome": "success"}) == ["2"]
    assert candidates(**{"event.action": "sip-register", "event.outcome": "FAILURE"}) == ["1", "2"]
    assert candidates(**{"event.action": "sip-register"}) == ["2"]  # no outcome: rule 1 cannot match
    assert candidates(**{"event.action": "sip-register", "event.module": "asterisk"}) == ["3"]
    assert candidates(**{"event.action": "call-attempt", "event.outcome": "failure"}) == []
    # the same header, remembered: the rules' own conditions still decide per event
    assert matches(det, **{"event.action": "sip-register", "event.outcome": "success", "user.name": "bob"})
    assert not matches(det, **{"event.action": "sip-register", "event.outcome": "success", "user.name": "eve"})
    # a header that cannot be a key (an object in a list) is decided for the event alone
    odd = event(**{"event.action": "sip-register", "event.outcome": "failure", "event.category": [{"x": 1}]})
    [hit] = det.detect(odd)
    assert hit.rules == (RID.format(1),)
