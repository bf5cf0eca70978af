"""The cisco_webex parser on the published Webex records (`shared/samples/cisco_webex/`, beside the
repository): real admin audit items from a sandbox org and the webhook documentation example.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("cisco_webex")
FILES = sample_files("cisco_webex")
CTX = ParseContext(reference_time=REFERENCE_TIME)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, nonblank_lines(path))


def test_actions_outcomes_and_addresses(events: list[Event]) -> None:
    got = [(e["event.action"], e.get("event.outcome"), e.get("source.ip"), e.get("user.email")) for e in events]
    assert got == [
        ("config-change", "success", "173.38.220.36", "pod0@webexone-ai-assistant.wbx.ai"),
        ("admin-logout", "success", "2001:420:4919:1300:51fd:d522:b958:88df", "pod0@webexone-ai-assistant.wbx.ai"),
        ("account-change", "success", "170.72.250.110", "pod0@webexone-ai-assistant.wbx.ai"),
        ("chat-message", "success", None, "matt@example.com"),
    ]


def test_audit_fields(events: list[Event]) -> None:
    integration, logout, token, message = events
    assert integration["event.code"] == "Service App authorization is changed by an admin"
    assert integration["uc.vendor.serviceAppScopes"] == ["spark:kms", "audit:events_read"]
    assert integration["uc.vendor.authorizedStatus"] == "AUTHORIZED"
    assert integration["@timestamp"] == "2026-09-23T13:03:31.431000Z"
    assert logout["uc.vendor.eventStatus"] == "SUCCESS" and "event.reason" not in logout  # failedReason " "
    assert token["uc.vendor.eventCategory"] == "USERS" and token["event.type"] == ["user", "change"]
    assert message["event.code"] == "messages.created"
    assert message["@timestamp"] == "2015-10-18T14:26:16Z"  # data.created, not the webhook's own time


def test_organization_roles_and_targets(events: list[Event]) -> None:
    integration, logout, token, message = events
    org = "NzQ5ODNmZDUtNWMxOC00NWNiLWJmY2QtNTA3MDA1ZTA1YjBm"
    name = "Troubleshoot and manage your organization with an AI assistant"
    for audit in (integration, logout, token):  # actorOrgId / actorOrgName
        assert (audit["organization.id"], audit["organization.name"]) == (org, name)
        assert "uc.vendor.actorOrgId" not in audit and "uc.vendor.actorOrgName" not in audit
    assert message["organization.id"] == "OTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh"  # webhook orgId
    assert "uc.vendor.orgId" not in message
    # an INTEGRATION target is not a person: it stays in uc.vendor
    assert integration["uc.vendor.targetType"] == "INTEGRATION" and integration["uc.vendor.targetName"] == "Events"
    # the sign-out names the actor's own record as its PERSON target, the token revocation a
    # "Using Admin ..." placeholder: neither is another account
    for audit in (integration, logout, token):
        assert not any(k.startswith("user.target") for k in audit)
    assert token["uc.vendor.targetId"] == "Using Admin Id: 18c2c489-2fef-4a15-a4bd-cab7b65d8416"


def _audit(**data: Any) -> str:
    return json.dumps({"data": {"eventCategory": "WEBEX_IDENTITY", "eventDescription": "User was updated",
                                "actorEmail": "alice.admin@example.com", "actorOrgName": "Example Corp",
                                "targetOrgName": "Example Corp", **data},
                       "created": "2024-05-14T11:48:10.200Z", "actorId": "QUNUT1I", "actorOrgId": "T1JH"})


def test_person_target_and_admin_roles() -> None:
    [event] = PARSER.parse(RawRecord(_audit(targetType="PERSON", targetName="Bob User", targetId="Qk9C",
                                            adminRoles=["User", "Full_Admin"])), CTX)
    assert event["user"]["target"] == {"id": "Qk9C", "name": "Bob User", "full_name": "Bob User"}
    assert event["user"]["roles"] == ["User", "Full_Admin"]
    assert event["organization"] == {"id": "T1JH", "name": "Example Corp"}
    vendor = event["uc"]["vendor"]
    assert "targetId" not in vendor and "targetName" not in vendor and "adminRoles" not in vendor
    assert vendor["targetType"] == "PERSON"
    [mail] = PARSER.parse(RawRecord(_audit(targetType="TargetResourceType.PERSON", targetName="bob@example.com",
                                           targetId="Qk9C")), CTX)
    assert mail["user"]["target"] == {"id": "Qk9C", "name": "bob@example.com", "email": "bob@example.com"}
    # the actor itself, or the organisation's name in targetName, is not a target person's name
    [self_] = PARSER.parse(RawRecord(_audit(targetType="PERSON", targetName="Example Corp", targetId="QUNUT1I")), CTX)
    assert "target" not in self_["user"] and self_["uc"]["vendor"]["targetId"] == "QUNUT1I"
    [org_name] = PARSER.parse(RawRecord(_audit(targetType="PERSON", targetName="Example Corp", targetId="Qk9C")), CTX)
    assert org_name["user"]["target"] == {"id": "Qk9C"}
    [org] = PARSER.parse(RawRecord(_audit(targetType="ORG", targetName="Example Corp", targetId="T1JH")), CTX)
    assert "target" not in org["user"] and org["uc"]["vendor"]["targetId"] == "T1JH"


def test_webhook_meeting_times_and_member_target() -> None:
    envelope = {"id": "V0VCSE9PSw", "name": "Org meetings", "resource": "meetings", "orgId": "T1JH",
                "actorId": "SE9TVA", "created": "2024-01-10T09:00:00.000Z"}
    meeting = {"id": "0ed74a1c_I_1660", "meetingNumber": "2483 123 4567", "title": "Quarterly review",
               "start": "2024-05-14T09:00:21Z", "end": "2024-05-14T10:00:00Z", "hostEmail": "alice@example.com"}
    [started] = PARSER.parse(RawRecord(json.dumps({**envelope, "event": "started", "data": meeting})), CTX)
    assert started["event"]["start"] == datetime(2024, 5, 14, 9, 0, 21, tzinfo=UTC) and "end" not in started["event"]
    assert started["uc"]["vendor"]["end"] == "2024-05-14T10:00:00Z"  # still the scheduled end
    [ended] = PARSER.parse(RawRecord(json.dumps({**envelope, "event": "ended", "data": meeting})), CTX)
    assert (ended["event"]["start"], ended["event"]["end"]) == (datetime(2024, 5, 14, 9, 0, 21, tzinfo=UTC),
                                                                datetime(2024, 5, 14, 10, tzinfo=UTC))
    assert ended["organization"] == {"id": "T1JH"}
    assert "start" not in ended["uc"]["vendor"] and "end" not in ended["uc"]["vendor"]
    [created] = PARSER.parse(RawRecord(json.dumps({**envelope, "event": "created", "data": meeting})), CTX)
    assert "start" not in created["event"] and created["uc"]["vendor"]["start"] == "2024-05-14T09:00:21Z"
    member = {"id": "TUVNQg", "roomId": "Uk9PTQ", "personId": "UEFU", "personEmail": "partner@example.org",
              "personDisplayName": "Pat Partner", "personOrgId": "T1RIRVI", "created": "2024-05-14T14:30:00.000Z"}
    [added] = PARSER.parse(RawRecord(json.dumps({**envelope, "resource": "memberships", "event": "created",
                                                 "data": member})), CTX)
    assert added["user"] == {"id": "SE9TVA", "target": {"id": "UEFU", "name": "partner@example.org",
                                                        "email": "partner@example.org", "full_name": "Pat Partner"}}
    assert added["uc"]["vendor"]["personOrgId"] == "T1RIRVI"


def test_failed_sign_in_and_items_page() -> None:
    item = ('{"data":{"eventCategory":"LOGINS","eventDescription":"User Login Attempted","eventStatus":"FAILURE",'
            '"failedReason":"Invalid credentials","actorEmail":"carol@example.com","actorIp":"203.0.113.77",'
            '"actionClientName":"Webex Teams Desktop"},"created":"2024-05-14T12:20:02.118Z","actorId":"x"}')
    [event] = PARSER.parse(RawRecord('{"items":[' + item + "," + item + "]}"), CTX)[:1]
    assert (event["event"]["action"], event["event"]["outcome"]) == ("user-login", "failure")
    assert event["event"]["reason"] == "Invalid credentials"
    assert event["source"] == {"ip": "203.0.113.77"}
    assert len(PARSER.parse(RawRecord('{"items":[' + item + "," + item + "]}"), CTX)) == 2
    bad_ip = item.replace("203.0.113.77", "203.0.113.999")
    [odd] = PARSER.parse(RawRecord(bad_ip), CTX)
    assert odd["source"] == {"address": "203.0.113.999"}  # never an invalid `ip`


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, 1 MB lines of JSON punctuation, truncations: events or ParseError only."""
    seeds = sample_lines("cisco_webex")
    alphabet = '{}[]":,.0123456789-+eE truefalsnul\\\n'
    inputs = mutated(seeds, alphabet, 20240514)
    mb = 1_000_000
    inputs += [
        "{" * mb, "[" * mb, '"' * mb, ":" * mb, "," * mb,
        '{"items":' + "[" * 1000 + "]" * 1000 + "}",
        '{"resource":"telephony_calls","event":"deleted","data":{"eventType":"disconnected","remoteParty":'
        + '{"number":"' + "+" * mb + '"},"answered":"' + "9" * mb + '"}}',
        '{"data":{"eventCategory":"' + "L" * mb + '","actorIp":"' + ":" * mb + '"},"created":"2024-01-01T00:00:00Z"}',
        '{"data":{"eventCategory":"LOGINS"},"created":"9999-12-31T23:59:59-23:59"}',
        "\ufffd" * 1000 + '{"data":{"eventCategory":"LOGINS"}}',
    ]
    inputs += truncations(seeds, 23)
    assert_only_parse_error(PARSER, inputs, CTX)
