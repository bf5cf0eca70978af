"""The jitsi parser on the published Jicofo lines (`shared/samples/jitsi/`, beside the repository).

The samples are Jicofo lines pasted into public GitHub issues (old `Class.log()` and new
`Class.method#line:` styles); every record must become a normal event with the right conference action.
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
    golden_dir,
    golden_lines,
    mutated,
    record_starts,
    sample_events,
    sample_files,
    sample_lines,
)
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext

PARSER = builtin_parser("jitsi")
FILES = sample_files("jitsi")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(PARSER, FILES)


@each_file(FILES)
def test_every_sample_record_is_an_event(path: Path) -> None:
    assert_every_record_is_an_event(PARSER, path, record_starts(PARSER, path))


def test_sample_actions(events: list[Event]) -> None:
    assert [(e["event.action"], e.get("event.outcome"), e.get("uc.conference.name")) for e in events] == [
        ("conference-join", "success", "testroom@conference.vidconf.domain.com"),
        ("conference-leave", "success", "testroom@conference.vidconf.domain.com"),
        ("conference-start", "success", "timelypullstouchallegedly@conference.mydomain.com"),
        ("conference-join", "success", "timelypullstouchallegedly@conference.mydomain.com"),
        ("diagnostic", None, None),
        ("conference-join", None, "test@conference.jitsi.su.sd"),
    ]
    left = events[1]
    assert (left["user.name"], left["user.domain"], left["uc.conference.participant"]) == (
        "zzdll3laboguqgnj", "user.vidconf.domain.com", "2af5e0bb")
    assert "user.name" not in events[0]  # `jid: null`: no user to name
    assert events[0]["@timestamp"] == "2020-09-23T14:18:26.472000Z"  # naive local time, UTC context
    assert events[4]["uc.vendor.bridge_version"] == "2.3.105-ge155b81e"


def test_prosody_auth_families() -> None:
    found = run_case_events(PARSER, golden_dir("jitsi") / "prosody.log")
    failed = [e for e in found if e["event.action"] == "user-login" and e.get("event.outcome") == "failure"]
    assert [(e.get("user.name"), e.get("source.ip"), e["event.reason"]) for e in failed] == [
        ("alice", "203.0.113.45", "not-authorized"),
        (None, "2001:db8::45", "not-authorized"),
        (None, None, "Invalid issuer ('iss' claim)"),
        (None, None, "(nil)"),
    ]
    ok = [e["user.name"] for e in found if e["event.action"] == "user-login" and e.get("event.outcome") == "success"]
    assert ok == ["focus.meet.example.com", "focus", "6fbd3473-62b0-4416-a8fe-6a295183357a", "alice"]


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample and golden lines, and 1 MB lines of each separator: events or ParseError only."""
    ctx = ParseContext(reference_time=REFERENCE_TIME)
    seeds = sample_lines("jitsi") + golden_lines("jitsi")
    inputs = mutated(seeds, "[]()=,:;/@.# \t\n0123456789JicofoINFOSEVERE<>'\ufffd", 20240305)
    mb = 1_000_000
    jicofo = "Jicofo 2024-03-05 10:00:01.120 INFO: [51] "
    inputs += [
        jicofo + "[" * mb,
        jicofo + "[" + "k=v " * (mb // 4),
        jicofo + "Chat room event ChatRoomMemberPresenceChangeEvent[type=MemberJoined "
        + "member=ChatMember[" * (mb // 18),
        jicofo + "a." * (mb // 2),
        jicofo + "Jid " + "x" * mb + " authenticated as: " + "y" * mb,
        "Mar 05 10:00:00 " + "\t" * mb,
        "Mar 05 10:00:00 c2s1\tinfo\tFailed authentication attempt (" + "(" * mb,
        "Mar 05 10:00:00 c2s1\tinfo\tToken " + "x " * (mb // 2) + "not allowed to join: r",
        "Mar 05 10:00:00 h prosody[1]: " + ": " * (mb // 2),
        "Mar 05 10:00:00 h prosody[1]: x " + "#033[" * (mb // 5),
        "<" + "1" * mb,
        "Mar 05 10:00:00 c2s1\tinfo\tStream encrypted (" + "a" * mb,
        jicofo[:20],
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
