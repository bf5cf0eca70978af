"""End to end under attack: Kamailio and SIPp (the lab of `lab.py`), the agent tailing Kamailio's log with the
shipped rule pack (`rules/`) and the phone enrichment (home region DE), live, as deployed.

Attacks and legitimate users each play from their own loopback address (the Kamailio script is
`kamailio/kamailio.cfg`: pike, a registrar that answers 404 for unknown users, calls to numbers sent to a
gateway). Who does what, and the alerts expected (rule name: group-by values):

| source | who | what | alert |
|---|---|---|---|
| 127.0.0.2 | alice's desk phone | mistypes her password once, then registers | none |
| 127.0.0.7 | erin's phone | mistypes twice, registers; calls 089 123456 (home), Rome, London | none |
| 127.0.0.4 | alice's softphone | calls bob twice, dave (busy), 030 901820 (home), Paris, New York | none |
| 127.0.0.5, .6 | bob's, dave's phone | register once; answer, refuse (486) calls | none |
| 127.0.0.20 | the PSTN gateway | answers every call to a number (SIPp's UAS) | none |
| 127.0.0.3 | brute force | 12 REGISTERs as bob, each another wrong password | A |
| 127.0.0.8 | extension scan | 12 unknown extensions, REGISTER without credentials, 404 | B, C |
| 127.0.0.9 | OPTIONS flood | 400 OPTIONS at 200/s; pike blocks, each drop logged | D |
| 127.0.0.10 | toll fraud | frank's stolen password: 10 answered calls, see FRAUD_NUMBERS | E (x10), F |

- A `sip_bruteforce_source`: source.ip 127.0.0.3 (>= 10 failures in 5 min)
- B `sip_extension_enumeration`: source.ip 127.0.0.8 (>= 10 unknown users in 10 min)
- C `sip_scanner_user_agent`: source.ip 127.0.0.8 (User-Agent friendly-scanner, SIPVicious' default)
- D `sip_flood_block`: source.ip 127.0.0.9 (observer.hostname: none, console lines have no host). Pike's
  "UNBLOCKing node" line (the block lifted, no address; event.type end) raises nothing.
- E `toll_fraud_premium_destination`: user.name frank, uc.call.callee_number (one per number called)
- F `toll_fraud_many_international_destinations`: user.name frank (10 distinct international numbers in 1 h)

`toll_fraud_international_after_hours` raises on any international call before 07:00 or from 19:00 UTC:
run at those hours, it alerts for every user who called abroad (frank, and alice and erin too: the rule
cannot tell an ordinary call at night from fraud); the expected set adds it from the events' own times,
and the events replayed through `ucsiem rules test` with their times moved to 12:00 UTC must raise the
same set without it, whatever the hour of the run. The replay as shipped must raise exactly what the live
agent raised.

Kamailio's `-E` console lines carry no time: an event's time is when the agent read it. The scenario
waits for the agent to ship each phase before the next one starts, so phases do not share a time (the
engine orders events of one time by event id, not by their order in the log: bob's registration read in
the same batch as the brute force on his account would look like a success after five failures).

Every log line must still arrive as exactly one event, and the counts per source be the scenario's.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.agenthelp import events, make_config, start, stop, wait_for
from tests.e2e.lab import HERE, Lab, count, get

RULES = Path(__file__).parents[2] / "rules"
LATENESS_SECS = 5  # the correlation default: alerts wait this long in event time

# rule ids of rules/uc/*.yml
BRUTE_FORCE = "084104cf-8397-4627-b29d-0f3c75e804f6"  # sip_bruteforce.yml: >= 10 failures in 5 min per source
ENUMERATION = "f9e92787-6da1-4bae-9cac-b14a98433cb0"  # sip_enumeration.yml: >= 10 unknown users in 10 min
SCANNER_UA = "7a39564d-2a66-4002-b28a-56078532cdbd"  # sip_scanner.yml: a scanner's User-Agent, per source
FLOOD = "42f61159-1dd9-4a29-b26d-e6d5d2e93738"  # sip_flood.yml: a flood-block, per host and source
PREMIUM = "bf09559f-af4b-45d3-b693-4520c235a318"  # toll_fraud.yml: premium-rate or high-risk destination
MANY_INTERNATIONAL = "b8ae4e37-f302-4118-8d6e-ac9171d2f6d8"  # toll_fraud.yml: >= 10 international numbers in 1 h
AFTER_HOURS = "5f38e64e-91fa-428a-8a9c-912eae9ab5a8"  # toll_fraud.yml: international call < 07:00 or >= 19:00 UTC

# What each rule's alert is grouped by (its correlation group-by, or its suppression group-by).
GROUPS = {BRUTE_FORCE: ("source.ip",), ENUMERATION: ("source.ip",), SCANNER_UA: ("source.ip",),
          FLOOD: ("observer.hostname", "source.ip"), PREMIUM: ("user.name", "uc.call.callee_number"),
          MANY_INTERNATIONAL: ("user.name", "uc.call.trunk"), AFTER_HOURS: ("user.name", "uc.call.trunk")}

# The toll fraud's numbers and their region (libphonenumber): UK premium rate (09xx), and countries of
# toll_fraud.yml's high-risk list (Cuba, Somalia, Sierra Leone, Papua New Guinea, Jamaica, Iridium, Guinea).
FRAUD_NUMBERS = {
    "+449098790123": "GB", "+449098790456": "GB", "+449118790789": "GB", "+5372345678": "CU",
    "+25261234567": "SO", "+23222234567": "SL", "+6753021234": "PG", "+18762345678": "JM",
    "+8816123456789": "001", "+22430241234": "GN",
}
EXTENSIONS = [str(100 + i) for i in range(12)]  # none is a user of the registrar
FLOOD_REQUESTS = 400


def _agent_config(tmp: Path, log: Path) -> Path:
    path = make_config(tmp, [str(log)], parser="kamailio")
    config = yaml.safe_load(path.read_text())
    config["correlation"] = {"rules": [str(RULES)], "lateness_secs": LATENESS_SECS}
    config["enrich"] = {"phone": {"home_region": "DE"}}
    path.write_text(yaml.safe_dump(config))
    return path


def _alerts(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last version of each alert, by alert id (an alert is sent again as its count grows)."""
    return {e["event"]["id"]: e for e in found if e["event"]["kind"] == "alert"}


Key = tuple[str, tuple[tuple[str, Any], ...]]  # rule id, (group-by field, value)...


def _key(alert: dict[str, Any]) -> Key:
    rule = alert["rule"]["id"]
    return rule, tuple((name, get(alert, name)) for name in GROUPS.get(rule, ("source.ip",)))


def _after_hours(found: list[dict[str, Any]]) -> set[Key]:
    """One after-hours alert per user who called abroad before 07:00 or from 19:00 UTC (event time)."""
    users = {get(e, "user.name") for e in found
             if e["event"]["action"] in ("call-attempt", "call-start", "call-end")
             and get(e, "uc.call.callee_international") is True
             and not 7 <= datetime.fromisoformat(e["@timestamp"]).hour < 19}
    return {(AFTER_HOURS, (("user.name", user), ("uc.call.trunk", None))) for user in users}


def _replayed(tmp: Path, logged: list[dict[str, Any]], shift: timedelta = timedelta(0)) -> set[Key]:
    """The alerts `ucsiem rules test` (the pack, replayed) raises over the events the agent shipped, their
    times moved by `shift`."""
    path = tmp / f"replay-{shift.total_seconds():.0f}.ndjson"
    moved = [{**e, "@timestamp": (datetime.fromisoformat(e["@timestamp"]) + shift).isoformat()} for e in logged]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in moved))
    done = subprocess.run([sys.executable, "-m", "ucsiem", "rules", "test", "--rules", str(RULES), str(path)],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return {_key(a) for a in _alerts([orjson.loads(raw) for raw in done.stdout.splitlines() if raw]).values()}


def _logged(tmp: Path) -> list[dict[str, Any]]:
    return [e for e in events(tmp) if e["event"]["kind"] != "alert"]


def _settle(lab: Lab, tmp: Path) -> None:
    """Wait until the agent has shipped every line Kamailio has logged so far. Kamailio's console lines carry
    no time: an event's time is when the agent read it, so this keeps the phases of the scenario apart in
    event time (events read in one batch share one time, and the engine orders ties by event id)."""
    lines = lab.log.read_bytes().count(b"\n")
    wait_for(lambda: len(_logged(tmp)) >= lines, 60, f"{lines} events from Kamailio's log")


def _wait_in_log(lab: Lab, text: bytes) -> None:
    wait_for(lambda: text in lab.log.read_bytes(), 30, f"{text.decode()!r} in Kamailio's log")


def test_attacks_raise_their_alerts_and_legitimate_users_none(lab: Lab, tmp_path: Path) -> None:
    began = time.monotonic()
    agent = start(_agent_config(tmp_path, lab.log))
    gateway = lab.answering_phone("127.0.0.20", ["-sn", "uas"])
    bob = lab.answering_phone("127.0.0.5", ["-sn", "uas"])
    dave = lab.answering_phone("127.0.0.6", ["-sf", str(HERE / "busy.xml")])
    lab.start_kamailio(gateway=f"127.0.0.20:{gateway}")
    _settle(lab, tmp_path)  # the agent is up and reading

    # the phones register; alice mistypes once, erin twice, then both get it right
    lab.run("register.xml", "127.0.0.5", user="bob", password="bob-secret", calls=1, contact=f"127.0.0.5:{bob}")
    lab.run("register.xml", "127.0.0.6", user="dave", password="dave-secret", calls=1, contact=f"127.0.0.6:{dave}")
    for ip, user, passwords in (("127.0.0.2", "alice", ["alice-secert", "alice-secret"]),
                                ("127.0.0.7", "erin", ["erin-secre", "Erin-secret", "erin-secret"])):
        for password in passwords:
            lab.run("register.xml", ip, user=user, password=password, calls=1, contact=f"{ip}:5060")
    _settle(lab, tmp_path)

    # brute force: bob's password guessed 12 times from one address
    for guess in range(12):
        lab.run("register.xml", "127.0.0.3", user="bob", password=f"guess-{guess:04}", calls=1,
                contact="127.0.0.3:5060")
    # extension scan: 12 unknown extensions, each answered 404
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("SEQUENTIAL\n" + "".join(f"{ext};\n" for ext in EXTENSIONS))
    lab.run("scan.xml", "127.0.0.8", user="scan", password="-", calls=len(EXTENSIONS), rate=20, inject=extensions)
    # OPTIONS flood: pike blocks the source, and lifts the block a few seconds after the flood stops
    lab.run("options.xml", "127.0.0.9", user="ping", password="-", calls=FLOOD_REQUESTS, rate=200)
    _settle(lab, tmp_path)

    # ordinary calls: to colleagues, domestic numbers (national format) and ordinary international numbers
    for callee in ("bob", "bob", "dave", "030901820", "+33142685300", "+12125550100"):
        lab.run("call.xml", "127.0.0.4", user=callee, auth_user="alice", password="alice-secret", calls=1,
                caller="alice")
    for callee in ("089123456", "+390612345678", "+442079460123"):
        lab.run("call.xml", "127.0.0.7", user=callee, auth_user="erin", password="erin-secret", calls=1,
                caller="erin")
    _settle(lab, tmp_path)
    # toll fraud: frank's password, answered calls to premium-rate and high-risk numbers
    for number in FRAUD_NUMBERS:
        lab.run("call.xml", "127.0.0.10", user=number, auth_user="frank", password="frank-secret", calls=1,
                caller="frank")
    _wait_in_log(lab, b"PIKE - UNBLOCKing node")
    played = time.monotonic() - began
    lab.stop_kamailio()
    _settle(lab, tmp_path)
    logged = _logged(tmp_path)

    expected = {
        (BRUTE_FORCE, (("source.ip", "127.0.0.3"),)),
        (ENUMERATION, (("source.ip", "127.0.0.8"),)),
        (SCANNER_UA, (("source.ip", "127.0.0.8"),)),
        (FLOOD, (("observer.hostname", None), ("source.ip", "127.0.0.9"))),
        (MANY_INTERNATIONAL, (("user.name", "frank"), ("uc.call.trunk", None))),
        *((PREMIUM, (("user.name", "frank"), ("uc.call.callee_number", number))) for number in FRAUD_NUMBERS),
    } | _after_hours(logged)
    wait_for(lambda: expected <= {_key(a) for a in _alerts(events(tmp_path)).values()}, 60, "the expected alerts")
    alerted = time.monotonic() - began
    # the last alerts came from the last attack: wait for event time to pass every event, then stop
    time.sleep(LATENESS_SECS + 2)
    stop(agent)
    print(f"scenario played in {played:.1f} s, alerts after {alerted:.1f} s, done in {time.monotonic() - began:.1f} s")

    found = events(tmp_path)
    alerts = _alerts(found)
    assert sorted({_key(a) for a in alerts.values()}, key=repr) == sorted(expected, key=repr)
    assert len(alerts) == len(expected)  # one alert per rule and group
    # a replay of the shipped events raises the same; in business hours (moved to 12:00 UTC), no after-hours alert
    assert _replayed(tmp_path, logged) == expected
    first = datetime.fromisoformat(logged[0]["@timestamp"])
    noon = first.replace(hour=12, minute=0, second=0, microsecond=0) - first
    assert _replayed(tmp_path, logged, noon) == {key for key in expected if key[0] != AFTER_HOURS}
    # each alert was raised by the attacker's own events only
    by_id = {e["event"]["id"]: e for e in logged}
    for alert in alerts.values():
        rule, group = _key(alert)
        sources = {get(by_id[i], "source.ip") for i in alert["uc"]["alert"]["event_ids"]}
        if rule in (PREMIUM, MANY_INTERNATIONAL, AFTER_HOURS):
            assert {get(by_id[i], "user.name") for i in alert["uc"]["alert"]["event_ids"]} == {dict(group)["user.name"]}
        else:
            assert sources == {dict(group)["source.ip"]}, (alert["rule"]["name"], sources)

    # every line of the log is one event, none a pipeline error
    lines = lab.log.read_bytes().count(b"\n")
    errors = [(e["log"]["offset"], e.get("error", {}).get("message")) for e in logged
              if e["event"]["kind"] == "pipeline_error"]
    assert not errors
    assert len(logged) == lines
    assert len({e["event"]["id"] for e in logged}) == lines

    # the counts per source: exactly the scenario's (the flood: as many drops as pike made)
    challenge = ("sip-auth", None)
    per_source = count(logged, "source.ip", "event.action", "event.outcome")
    drops = per_source.pop(("127.0.0.9", "flood-block", "success"))
    assert per_source == Counter({
        # alice mistypes once, erin twice, then both register
        ("127.0.0.2", *challenge): 2, ("127.0.0.2", "sip-auth", "failure"): 1, ("127.0.0.2", "sip-auth", "success"): 1,
        ("127.0.0.2", "sip-register", "success"): 1,
        ("127.0.0.7", *challenge): 3 + 3, ("127.0.0.7", "sip-auth", "failure"): 2,
        ("127.0.0.7", "sip-auth", "success"): 1 + 3, ("127.0.0.7", "sip-register", "success"): 1,
        # erin calls a home number, Rome and London; alice's softphone bob twice, dave (busy), three numbers
        ("127.0.0.7", "call-attempt", None): 3, ("127.0.0.7", "call-start", "success"): 3,
        ("127.0.0.7", "call-end", "success"): 3,
        ("127.0.0.4", *challenge): 6, ("127.0.0.4", "sip-auth", "success"): 6, ("127.0.0.4", "call-attempt", None): 6,
        ("127.0.0.4", "call-start", "success"): 5, ("127.0.0.4", "call-end", "success"): 5,
        ("127.0.0.4", "call-reject", "failure"): 1,
        # bob's and dave's phones register once each
        ("127.0.0.5", *challenge): 1, ("127.0.0.5", "sip-auth", "success"): 1,
        ("127.0.0.5", "sip-register", "success"): 1,
        ("127.0.0.6", *challenge): 1, ("127.0.0.6", "sip-auth", "success"): 1,
        ("127.0.0.6", "sip-register", "success"): 1,
        # the brute force: challenged, then refused, 12 times
        ("127.0.0.3", *challenge): 12, ("127.0.0.3", "sip-auth", "failure"): 12,
        # the scan: 12 REGISTERs refused with 404, never challenged
        ("127.0.0.8", "sip-register", "failure"): 12,
        # the toll fraud: 10 calls, each challenged, authenticated, answered and hung up
        ("127.0.0.10", *challenge): 10, ("127.0.0.10", "sip-auth", "success"): 10,
        ("127.0.0.10", "call-attempt", None): 10, ("127.0.0.10", "call-start", "success"): 10,
        ("127.0.0.10", "call-end", "success"): 10,
    })
    scanned = [e for e in logged if get(e, "source.ip") == "127.0.0.8"]
    assert sorted(get(e, "user.name") for e in scanned) == EXTENSIONS
    assert {(get(e, "event.reason"), get(e, "uc.sip.status_code"), get(e, "user_agent.original"),
             tuple(get(e, "event.category"))) for e in scanned} == {
        ("user not found", 404, "friendly-scanner", ("network",))}

    # the flood: pike's own BLOCKing line, then one script line per request dropped; the block lifted after
    blocks = [e for e in logged if get(e, "event.action") == "flood-block"]
    kinds = Counter((get(e, "log.logger"), get(e, "source.ip"), tuple(get(e, "event.type"))) for e in blocks)
    assert kinds == Counter({
        ("pike", "127.0.0.9", ("denied",)): 1, ("script", "127.0.0.9", ("denied",)): drops - 1,
        ("pike", None, ("end",)): 1})
    assert 0 < drops - 1 < FLOOD_REQUESTS
    assert {get(e, "uc.sip.method") for e in blocks if get(e, "log.logger") == "script"} == {"OPTIONS"}
    # the rest are Kamailio's own start and stop lines, kept as diagnostics
    assert {e["event"]["action"] for e in logged if "source" not in e} <= {
        "diagnostic", "system-start", "system-stop", "flood-block"}

    # the phone enrichment: what each dialled number is (number, region, international)
    dialled = {(get(e, "user.name"), get(e, "uc.call.callee")): (
        get(e, "uc.call.callee_number"), get(e, "uc.call.callee_country"), get(e, "uc.call.callee_international"))
        for e in logged if get(e, "event.action") == "call-attempt"}
    assert dialled == {
        ("alice", "bob"): (None, None, None), ("alice", "dave"): (None, None, None),
        ("alice", "030901820"): ("+4930901820", "DE", False), ("alice", "+33142685300"): ("+33142685300", "FR", True),
        ("alice", "+12125550100"): ("+12125550100", "US", True),
        ("erin", "089123456"): ("+4989123456", "DE", False), ("erin", "+390612345678"): ("+390612345678", "IT", True),
        ("erin", "+442079460123"): ("+442079460123", "GB", True),
        **{("frank", number): (number, region, True) for number, region in FRAUD_NUMBERS.items()},
    }
    premium = {get(e, "uc.call.callee") for e in logged if get(e, "uc.call.callee_number_type") == "premium_rate"}
    assert premium == {"+449098790123", "+449098790456", "+449118790789"}
