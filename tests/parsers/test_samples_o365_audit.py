"""The o365_audit parser on real unified audit log records (`shared/samples/ms_teams/o365_audit_teams.jsonl`).

The samples are Elastic's o365 fixture records from a test tenant (TeamCreated, MemberAdded twice,
TeamsSessionStarted, and a TeamCreated copy with AppAccessContext). Each must become one event with
the action, outcome, user and targets the operation calls for.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from tests.parsers.samplehelp import (
    REFERENCE_TIME,
    Event,
    assert_only_parse_error,
    assert_records_are_events,
    builtin_parser,
    mutated,
    sample_events,
    sample_files,
    sample_lines,
    truncations,
)
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("o365_audit")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, sample_files("ms_teams", "o365_audit_teams.jsonl"))


def test_every_sample_record_is_one_event(events: list[Event]) -> None:
    assert_records_are_events(events, sample_lines("ms_teams", "o365_audit_teams.jsonl"), count=5)
    assert [(e["event.code"], e["event.action"], e["event.outcome"]) for e in events] == [
        ("TeamCreated", "config-change", "success"),
        ("MemberAdded", "account-change", "success"),
        ("MemberAdded", "account-change", "success"),
        ("TeamsSessionStarted", "user-login", "success"),
        ("TeamCreated", "config-change", "success"),
    ]
    assert not [e for e in events if e["event.action"] == "diagnostic"]


def test_time_is_utc_without_designator(events: list[Event]) -> None:
    # CreationTime has no zone and is UTC by the API schema: the goldens' Europe/Paris must not apply
    assert [e["@timestamp"] for e in events] == [
        "2020-02-17T16:59:44Z", "2020-02-17T16:59:47Z", "2020-02-17T16:59:44Z", "2020-02-17T16:59:34Z",
        "2020-02-17T16:59:44Z"]


def test_users_and_targets(events: list[Event]) -> None:
    created, added, owner, login, created_app = events
    assert (login["user.email"], login["user.name"], login["user.domain"], login["user.id"]) == (
        "bob@testsiem.onmicrosoft.com", "bob", "testsiem.onmicrosoft.com", "d0e0cfb0-284d-4b0a-83fe-dd543a1c1ed0")
    assert login["event.category"] == ["authentication"] and "source.ip" not in login  # no ClientIP in samples
    assert (created["user.name"], created["uc.vendor.TeamName"]) == ("Application", "SIEMTest")
    assert "user.id" not in created  # UserKey is empty
    assert added["uc.vendor.Members"] == ["david@testsiem.onmicrosoft.com", "chuck@testsiem.onmicrosoft.com",
                                         "bob@testsiem.onmicrosoft.com", "alice@testsiem.onmicrosoft.com"]
    # several members: no single target, the list stays in uc.vendor
    assert added["uc.vendor.Members.Role"] == ["Member"] * 4
    assert not [k for k in added if k.startswith(("user.target.", "destination.user."))]
    # one member (the creator adding themself as owner): the account acted on; its role has no schema home
    assert (owner["user.target.name"], owner["user.target.domain"], owner["user.target.email"],
            owner["user.target.full_name"]) == (
        "asr", "testsiem.onmicrosoft.com", "asr@testsiem.onmicrosoft.com", "Alan Smithee")
    assert owner["uc.vendor.Members.Role"] == ["Owner"] and "destination.user.name" not in owner
    assert not [e for e in events if "user.roles" in e]  # no record says the actor's roles
    assert created_app["uc.vendor.AppAccessContext.DeviceId"] == "Device123"


def test_tenant_is_organization_id(events: list[Event]) -> None:
    assert {e["organization.id"] for e in events} == {"b86ab9d4-fcf1-4b11-8a06-7a8f91b47fbd"}
    assert not [e for e in events if "uc.vendor.OrganizationId" in e]


def test_single_member_without_upn_is_a_display_name_only() -> None:
    record = ('{"CreationTime":"2020-02-17T16:59:47","Operation":"MemberRemoved","UserId":"asr@example.com",'
              '"Members":[{"DisplayName":"Chuck","Role":1}]}')
    (event,) = PARSER.parse(RawRecord(record), ParseContext())
    assert event["user"]["target"] == {"full_name": "Chuck"}
    assert event["uc"]["vendor"]["Members"] == ["Chuck"]


@pytest.mark.parametrize(("client_ip", "ip", "port", "domain"), [
    ("192.0.2.1", "192.0.2.1", None, None),
    ("192.0.2.1:12345", "192.0.2.1", 12345, None),
    ("[192.0.2.1]:12345", "192.0.2.1", 12345, None),
    ("[192.0.2.1]", "192.0.2.1", None, None),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1", None, None),
    ("[::ffff:192.0.2.1]:12345", "::ffff:192.0.2.1", 12345, None),
    ("[2001:db8::abcd]:12345", "2001:db8::abcd", 12345, None),
    ("2001:DB8:0::abcd", "2001:db8::abcd", None, None),
    ("[2001:db8::abcd]", "2001:db8::abcd", None, None),
    ("localhost", None, None, "localhost"),
    ("[localhost]:12345", None, 12345, "localhost"),
    ("client.example.com:12345", None, 12345, "client.example.com"),
    ("192.0.2.1:99999", "192.0.2.1", None, None),  # not a port: left out, tagged bad_port (below)
    ("999.0.2.1", None, None, None),
])
def test_client_ip_forms(client_ip: str, ip: str | None, port: int | None, domain: str | None) -> None:
    """The ClientIP forms of Elastic's `test-ip-formats-events.json`: canonical address and port."""
    record = orjson.dumps({"CreationTime": "2020-02-17T17:12:03", "Id": "3be78a31-dbd3-4c2c-eaf9-08d7b3cc8226",
                           "Operation": "TeamsSessionStarted", "RecordType": 25, "ClientIP": client_ip}).decode()
    doc = orjson.loads(Normalizer(PARSER, host_name=None, agent_name=None).process(
        record, RecordMeta("k", "p", 0), ParseContext(), datetime(2024, 6, 15, tzinfo=UTC))[0])
    source = doc["source"]
    assert (source.get("ip"), source.get("port"), source.get("domain"), source["address"]) == (
        ip, port, domain, client_ip)


@pytest.mark.parametrize("client_ip", ["192.0.2.1:99999", "[2001:db8::1]:x1", "client.example.com:-1"])
def test_a_bad_port_is_tagged_and_the_address_kept(client_ip: str) -> None:
    """parsers/README.md "Decisions every parser follows": a mangled port never hides the source."""
    record = orjson.dumps({"CreationTime": "2020-02-17T17:12:03", "Operation": "UserLoginFailed",
                           "RecordType": 15, "ClientIP": client_ip}).decode()
    (event,) = PARSER.parse(RawRecord(record), ParseContext())
    assert "port" not in event["source"]
    assert (event["source"].get("ip") or event["source"].get("domain")) is not None
    assert event["tags"] == ["bad_port"]


def test_hostile_input_raises_only_parse_error() -> None:
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = sample_lines("ms_teams", "o365_audit_teams.jsonl")
    inputs = mutated(seeds, '{}[]":,0123456789.-T@ \\nulltruefalse', 20240305)
    inputs += truncations(seeds, 37)
    mb = 1_000_000
    head = '{"CreationTime":"2020-02-17T16:59:44","Id":"x","Operation":"MemberAdded",'
    for char in '{}[]":,\\@':
        inputs += [char * mb, head + '"ClientIP":"' + char * mb + '"}', head + '"Members":[' + char * mb + "]}"]
    inputs += [
        head + '"Members":[' + '{"UPN":"a@b","Role":"9999999999999"},' * 50000 + "{}]}",
        head + '"ClientIP":"[' + ":" * 1000 + ']:1"}',
        head + '"Extra":' + "[" * 200 + "]" * 200 + "}",
        '{"CreationTime":"9999-12-31T23:59:59-05:00","Operation":"X"}',
        '{"CreationTime":"2020-02-17T16:59:44","Operation":"MeetingDetail","StartTime":"x"}',
        '{"CreationTime":"2020-02-17T16:59:44","Operation":"UserLoginFailed","ExtendedProperties":[{"Name":1}],'
        '"LogonError":[]}',
        "\ufffd" * 1000 + head + '"UserId":"\ufffd@\ufffd"}',
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
