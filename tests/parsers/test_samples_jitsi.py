"""The jitsi parser on the published Jicofo lines (`shared/samples/jitsi/`, beside the repository).

The samples are Jicofo lines pasted into public GitHub issues (old `Class.log()` and new
`Class.method#line:` styles); every record must become a normal event with the right conference action.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.parsers.samplehelp import assert_only_parse_error, builtin_parser, mutated, sample_files, sample_lines
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext

PARSER = builtin_parser("jitsi")
Event = dict[str, Any]
GOLDEN = Path(__file__).resolve().parents[2] / "parsers" / "jitsi" / "tests"


def _sample_files() -> list[Path]:
    return sample_files("jitsi")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return [e for path in _sample_files() for e in run_case_events(PARSER, path)]


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.name)
def test_every_sample_record_is_an_event(path: Path) -> None:
    found = run_case_events(PARSER, path)
    assert not [(e["log.offset"], e.get("error.message")) for e in found if e.get("event.kind") == "pipeline_error"]
    first = re.compile(PARSER.framing.first_line_pattern or "")
    assert len(found) == len([line for line in path.read_text(encoding="utf-8").splitlines() if first.match(line)])


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
    found = run_case_events(PARSER, GOLDEN / "prosody.log")
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
    ctx = ParseContext(reference_time=datetime(2024, 6, 15, 12, tzinfo=UTC))
    seeds = sample_lines("jitsi") + [line for p in sorted(GOLDEN.glob("*.log"))
                                     for line in p.read_text(encoding="utf-8").splitlines() if line]
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
