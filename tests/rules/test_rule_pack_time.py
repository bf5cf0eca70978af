"""Event time for every rule of the pack, on every positive case (issue 9: "out-of-order within and beyond
the lateness; replay equals live; kill -9 in the middle of an attack, then restart: the alert still fires,
once").

Each case's alerts, run in time order one event per batch (live tailing), are the reference; the same
events must give the same alerts when they arrive all at once (replay), shuffled within the allowed
lateness, or cut in two by a restart from a snapshot with the last events of the first half read again.
An event more than the lateness behind is counted late and changes nothing.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.rules.test_rule_pack import CASES, _key, pack, read_events, summarize
from ucsiem.correlate import CorrelationConfig, Correlator, Detector, RuleSet
from ucsiem.correlate.fields import parse_time

LATENESS = CorrelationConfig().lateness_secs
POSITIVE = sorted(CASES.glob("*/positive-*.ndjson"))


def in_time_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: (parse_time(e["@timestamp"]), e["event"]["id"]))


def live(ruleset: RuleSet, events: list[dict[str, Any]]) -> list[bytes]:
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events:
        alerts += correlator.feed(detector.detect(event), "pbx.log")
    return sorted(_key(a) for a in summarize(ruleset, alerts + correlator.flush()))


def replay(ruleset: RuleSet, events: list[dict[str, Any]]) -> list[bytes]:
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    hits = [hit for event in events for hit in detector.detect(event)]
    return sorted(_key(a) for a in summarize(ruleset, correlator.feed(hits, "pbx.log") + correlator.flush()))


def shuffled_within_lateness(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Each event may arrive after later ones, but never after one more than the lateness newer."""
    rnd = random.Random(seed)
    keyed = [(parse_time(e["@timestamp"]) or 0.0) + rnd.uniform(0, LATENESS * 0.9) for e in events]
    return [e for _, e in sorted(zip(keyed, events, strict=True), key=lambda pair: pair[0])]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return pack()


@pytest.mark.parametrize("case", POSITIVE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_replay_and_arrival_within_the_lateness_raise_what_live_tailing_raises(ruleset: RuleSet, case: Path) -> None:
    events = in_time_order(read_events(case))
    reference = live(ruleset, events)
    assert reference, "a positive case raises alerts"
    assert replay(ruleset, events) == reference
    for seed in range(5):
        arrival = shuffled_within_lateness(events, seed)
        assert live(ruleset, arrival) == reference, f"seed {seed}"


@pytest.mark.parametrize("case", POSITIVE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_restart_in_the_middle_of_the_attack_alerts_once(ruleset: RuleSet, case: Path) -> None:
    events = in_time_order(read_events(case))
    reference = live(ruleset, events)
    half = len(events) // 2
    detector, before = Detector(ruleset), Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events[:half]:
        alerts += before.feed(detector.detect(event), "pbx.log")
    saved = before.snapshot()  # what the agent writes with the read positions; then kill -9

    after = Correlator(ruleset)
    after.restore(saved)
    reread = events[max(0, half - 3):]  # the batch that was not acknowledged is read again
    for event in reread:
        alerts += after.feed(detector.detect(event), "pbx.log")
    alerts += after.flush()
    assert sorted(_key(a) for a in summarize(ruleset, alerts)) == reference
    # each re-read event that matched is dropped: as a duplicate id, or as late when the watermark is past it
    stats = after.stats()
    assert stats["duplicates"] + stats["late"] == sum(bool(detector.detect(e)) for e in events[max(0, half - 3):half])


@pytest.mark.parametrize("case", POSITIVE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_an_event_beyond_the_lateness_is_counted_late_and_changes_nothing(ruleset: RuleSet, case: Path) -> None:
    events = in_time_order(read_events(case))
    last = parse_time(events[-1]["@timestamp"])
    assert last is not None
    detector = Detector(ruleset)
    if not detector.detect(events[0]):
        pytest.fail(f"{case.name}: a positive case starts with a matching event")
    straggler = orjson.loads(orjson.dumps(events[0]))
    straggler["event"]["id"] = "0" * 32  # a new event, as old as the first one, arriving after the last
    correlator = Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events:
        alerts += correlator.feed(detector.detect(event), "pbx.log")
    alerts += correlator.advance(last + LATENESS + 1)  # time passed (live): the first event is far behind now
    alerts += correlator.feed(detector.detect(straggler), "pbx.log")
    late = correlator.stats()["late"]
    alerts += correlator.flush()
    assert late == 1
    assert sorted(_key(a) for a in summarize(ruleset, alerts)) == live(ruleset, events)


def test_events_of_the_same_time_are_taken_in_log_order_not_id_order(ruleset: RuleSet) -> None:
    """A console log has no times: a batch of lines gets one time. A success logged before five failures must
    not be taken after them (by event id) and raise an account takeover (seen in the Kamailio lab)."""
    case = CASES / "sip_account_takeover" / "positive-sip_account_takeover-five-failures-then-success.ndjson"
    events = in_time_order(read_events(case))
    failures = [e for e in events if e["event"]["outcome"] == "failure"][:5]
    [success] = [e for e in events if e["event"]["outcome"] == "success"]
    assert len(failures) == 5

    def at_one_time(order: list[dict[str, Any]], ids: list[str]) -> list[dict[str, Any]]:
        out = []
        for offset, (event, eid) in enumerate(zip(order, ids, strict=True)):
            copy = orjson.loads(orjson.dumps(event))
            copy["@timestamp"] = "2024-03-05T10:00:00Z"
            copy["event"]["id"], copy["log"]["offset"] = eid, 100 * offset
            out.append(copy)
        return out

    # the success comes first in the log, but its id sorts last
    logged = at_one_time([success, *failures], ["f" * 32, *(f"{i}" * 32 for i in range(5))])
    assert live(ruleset, logged) == []
    # the attack in its real order, ids sorting the other way: found
    attack = at_one_time([*failures, success], [*(f"{9 - i}" * 32 for i in range(5)), "0" * 32])
    assert [orjson.loads(a)["rule"] for a in live(ruleset, attack)] == ["sip_account_takeover"]
