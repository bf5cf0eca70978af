"""The cisco_webex parser on the published Webex records (`shared/samples/cisco_webex/`, beside the
repository): real admin audit items from a sandbox org and the webhook documentation example.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.parsers.samplehelp import assert_only_parse_error, builtin_parser, mutated, sample_files, sample_lines
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("cisco_webex")
Event = dict[str, Any]
CTX = ParseContext(reference_time=datetime(2024, 6, 15, 12, tzinfo=UTC))


def _sample_files() -> list[Path]:
    return sample_files("cisco_webex")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return [e for path in _sample_files() for e in run_case_events(PARSER, path)]


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.name)
def test_every_sample_record_is_an_event(path: Path) -> None:
    found = run_case_events(PARSER, path)
    errors = [(e["log.offset"], e.get("error.message")) for e in found if e.get("event.kind") == "pipeline_error"]
    assert not errors
    assert len(found) == len([line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])


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
    inputs += [line[:cut] for line in seeds for cut in range(0, len(line), 23)]
    assert_only_parse_error(PARSER, inputs, CTX)
