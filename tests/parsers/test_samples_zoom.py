"""The zoom parser on the published Zoom webhook bodies (`shared/samples/zoom/`, beside the repository).

The samples are Elastic's Zoom integration fixtures (one body per line, sanitised by Elastic, without
`event_ts`); every body must become one event with the action, outcome and people it describes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
    the_one,
    truncations,
)
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("zoom")
FILES = sample_files("zoom", "*.jsonl")
CTX = ParseContext(reference_time=REFERENCE_TIME)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


def _by_code(events: list[Event], code: str) -> Event:
    return the_one([e for e in events if e.get("event.code") == code], code)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, nonblank_lines(path))


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


def test_operator_is_the_actor_and_the_affected_user_the_target(events: list[Event]) -> None:
    deleted = _by_code(events, "user.deleted")
    assert (deleted["user.email"], deleted["user.id"]) == ("anawesomeuser@email.com", "z8yCxjabcdEFGHfp8uQ")
    target = {k: v for k, v in deleted.items() if k.startswith("user.target.")}
    assert target == {"user.target.name": "henrysemail@email.com", "user.target.email": "henrysemail@email.com",
                      "user.target.id": "abcD3ojfdbjfg", "user.target.full_name": "Henry Phan"}
    assert deleted["event.type"] == ["user", "deletion"]
    assert deleted["related.user"] == ["anawesomeuser@email.com", "henrysemail@email.com"]
    assert not any(k.startswith("uc.vendor.target") for k in deleted)
    # settings of another user: only its id is known
    settings = _by_code(events, "user.settings_updated")
    assert settings["user.target.id"] == "fdhjfdhsj536274gfd"
    # a sub-account: its owner is the target, the sub-account id stays in uc.vendor
    sub = _by_code(events, "account.created")
    assert (sub["user.target.email"], sub["user.target.id"]) == ("thesubaccountowneremail@somemail.com",
                                                                 "e2ZHO5RSGqyfrmFnElxw")
    assert (sub["organization.id"], sub["uc.vendor.sub_account.id"]) == ("lq8KK_EoRCq6ByEyA73qCA",
                                                                         "aIxE1yiRR8WghhUIO6eu9L")
    # sign-in/out and events without an operator have no target: the object is the user
    for code in ("user.signed_out", "user.personal_notes_updated", "meeting.participant_joined"):
        assert not any(k.startswith("user.target") for k in _by_code(events, code)), code


def test_account_id_is_the_organization(events: list[Event]) -> None:
    assert [e.get("organization.id") for e in events[:3]] == ["AAAAAA", "lAA_EBBBBBBB", "EPbbbbb@@@@@2sfdfdA"]
    assert all(e.get("organization.id") for e in events)
    assert not any("uc.vendor.account_id" in e for e in events)


def test_meeting_times_are_event_start_and_end(events: list[Event]) -> None:
    ended = _by_code(events, "meeting.ended")
    assert ended["event.start"] == "2019-07-09T17:00:00Z" and "event.end" not in ended  # no end_time logged
    joined = _by_code(events, "meeting.participant_joined")
    assert joined["event.start"] == "2019-07-16T17:13:13Z"  # the participant's join_time
    # a scheduled start_time is not when anything began
    for code in ("meeting.created", "meeting.deleted", "meeting.registration_approved"):
        assert "event.start" not in _by_code(events, code), code


def test_phone_and_webinar_spans() -> None:
    call = {"event": "phone.caller_ended", "event_ts": 1715720964000,
            "payload": {"account_id": "EPeQjuh6768MA", "object": {
                "answer_start_time": "2024-05-14T21:09:20Z", "call_end_time": "2024-05-14T21:19:24Z",
                "call_id": "7358206310925532436", "callee": {"phone_number": "+442079460123"},
                "caller": {"extension_number": "10800", "user_id": "z66jfgjdg2QgCfp8uQ"}}}}
    [event] = PARSER.parse(RawRecord(json.dumps(call)), CTX)
    assert (event["event"]["start"], event["event"]["end"]) == (datetime(2024, 5, 14, 21, 9, 20, tzinfo=UTC),
                                                                datetime(2024, 5, 14, 21, 19, 24, tzinfo=UTC))
    assert event["organization"] == {"id": "EPeQjuh6768MA"}
    webinar = {"event": "webinar.ended", "event_ts": 1715681000000,
               "payload": {"account_id": "x", "object": {"id": 1, "start_time": "2024-05-14T09:00:00Z",
                                                         "end_time": "2024-05-14T10:03:20Z"}}}
    [event] = PARSER.parse(RawRecord(json.dumps(webinar)), CTX)
    assert (event["event"]["start"], event["event"]["end"]) == (datetime(2024, 5, 14, 9, tzinfo=UTC),
                                                                datetime(2024, 5, 14, 10, 3, 20, tzinfo=UTC))
    assert event["@timestamp"] == datetime(2024, 5, 14, 10, 3, 20, tzinfo=UTC)  # event_ts, unchanged


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
    inputs += truncations(seeds, 17)
    assert_only_parse_error(PARSER, inputs, CTX)
