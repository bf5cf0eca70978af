"""The zoom parser on the published Zoom webhook bodies (`shared/samples/zoom/`, beside the repository).

The samples are Elastic's Zoom integration fixtures (one body per line, sanitised by Elastic, without
`event_ts`); every body must become one event with the action, outcome and people it describes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.parsers.samplehelp import assert_only_parse_error, builtin_parser, mutated, sample_files, sample_lines
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("zoom")
Event = dict[str, Any]
CTX = ParseContext(reference_time=datetime(2024, 6, 15, 12, tzinfo=UTC))


def _sample_files() -> list[Path]:
    return sample_files("zoom", "*.jsonl")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return [e for path in _sample_files() for e in run_case_events(PARSER, path)]


def _by_code(events: list[Event], code: str) -> Event:
    found = [e for e in events if e.get("event.code") == code]
    assert len(found) == 1, code
    return found[0]


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.name)
def test_every_sample_record_is_an_event(path: Path) -> None:
    found = run_case_events(PARSER, path)
    errors = [(e["log.offset"], e.get("error.message")) for e in found if e.get("event.kind") == "pipeline_error"]
    assert not errors
    assert len(found) == len([line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])


def test_actions_and_outcomes(events: list[Event]) -> None:
    got = [(e["event.code"], e["event.action"], e.get("event.outcome")) for e in events]
    assert got == [
        ("user.created", "account-change", "success"),
        ("user.updated", "account-change", "success"),
        ("user.settings_updated", "config-change", "success"),
        ("user.activated", "account-change", "success"),
        ("user.deleted", "account-change", "success"),
        ("user.personal_notes_updated", "diagnostic", None),
        ("user.signed_out", "user-logout", "success"),
        ("meeting.created", "config-change", "success"),
        ("meeting.deleted", "config-change", "success"),
        ("meeting.ended", "conference-end", "success"),
        ("meeting.registration_approved", "diagnostic", None),
        ("meeting.sharing_started", "diagnostic", None),
        ("meeting.participant_jbh_waiting", "conference-join", "unknown"),
        ("meeting.participant_joined", "conference-join", "success"),
        ("account.created", "account-change", "success"),
        ("account.disassociated", "account-change", "success"),
    ]


def test_operator_is_the_actor_and_the_target_is_kept(events: list[Event]) -> None:
    deleted = _by_code(events, "user.deleted")
    assert (deleted["user.email"], deleted["user.id"]) == ("anawesomeuser@email.com", "z8yCxjabcdEFGHfp8uQ")
    assert deleted["uc.vendor.target.email"] == "henrysemail@email.com"
    assert deleted["event.type"] == ["user", "deletion"]
    assert deleted["related.user"] == ["anawesomeuser@email.com"]


def test_security_setting_downgrade_is_visible(events: list[Event]) -> None:
    settings = _by_code(events, "user.settings_updated")
    assert settings["uc.vendor.changed"] == ["settings.meeting_authentication"]
    assert "settings.meeting_authentication: true -> false" in settings["message"]
    assert settings["@timestamp"] == "2020-06-29T17:32:19.427000Z"  # payload.time_stamp (epoch ms)


def test_sign_out_and_participants(events: list[Event]) -> None:
    out = _by_code(events, "user.signed_out")
    assert (out["user.email"], out["uc.vendor.client_type"]) == ("awesomeuser@awesomemeail.ghkgf", "android")
    assert out["@timestamp"] == "2019-09-10T14:36:10Z"  # object.date_time
    joined = _by_code(events, "meeting.participant_joined")
    assert (joined["uc.conference.id"], joined["uc.conference.participant"]) == ("111111111", "shree")
    assert joined["@timestamp"] == "2019-07-16T17:13:13Z"  # participant.join_time
    # no time at all in the body: the time the record was read, tagged
    created = _by_code(events, "meeting.created")
    assert created["tags"] == ["time_from_reference"]


def test_event_ts_wins_and_is_epoch_milliseconds() -> None:
    body = {"event": "meeting.started", "event_ts": 1715677221123,
            "payload": {"account_id": "x", "object": {"id": 1, "start_time": "2020-01-01T00:00:00Z"}}}
    [event] = PARSER.parse(RawRecord(json.dumps(body)), CTX)
    assert event["@timestamp"] == datetime(2024, 5, 14, 9, 0, 21, 123000, tzinfo=UTC)


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, deep nesting and 1 MB lines: events or ParseError, nothing else."""
    seeds = sample_lines("zoom", "*.jsonl")
    alphabet = '{}[]":,.0123456789-+eE truefalsnul\\\n'
    inputs = mutated(seeds, alphabet, 20240514)
    mb = 1_000_000
    inputs += [
        "{" * mb, "[" * mb, '"' * mb, ":" * mb, "," * mb, "." * mb,
        '{"event":"' + "." * mb + '","payload":{}}',
        '{"event":"meeting.updated","payload":{"object":' + '{"a":' * 900 + "1" + "}" * 900
        + ',"old_object":' + '{"a":' * 900 + "2" + "}" * 900 + "}}",
        '{"event":"phone.callee_call_log_completed","payload":{"object":{"call_logs":['
        + ",".join(['{"duration":1e308,"date_time":"x"}'] * 20000) + "]}}}",
        '{"event":"user.signed_in","event_ts":1e400,"payload":{}}',
        '{"event":"user.signed_in","event_ts":99999999999999999999,"payload":{}}',
        "\ufffd" * 1000 + '{"event":"user.signed_in","payload":{}}',
    ]
    inputs += [line[:cut] for line in seeds for cut in range(0, len(line), 17)]
    assert_only_parse_error(PARSER, inputs, CTX)
