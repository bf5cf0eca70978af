"""End to end with real software: Kamailio as registrar and proxy, SIPp as phones and attacker, the agent
tailing Kamailio's log.

Debian's `kamailio` runs `kamailio/kamailio.cfg` on 127.0.0.1 (a port of its own, in the foreground,
logging to stderr: the `-E` console form, redirected to a file). Its script challenges every REGISTER and
INVITE and logs each auth result, registration and call step with `xlog` as key=value payloads. SIPp
(`sip-tester`) plays several user agents, each from its own loopback address, so the counts per
`source.ip` tell them apart:

| source | who | what |
|---|---|---|
| 127.0.0.2 | alice | 5 registrations with the right password |
| 127.0.0.3 | an attacker | 7 registrations as alice with a wrong password, 4 calls to an unknown user |
| 127.0.0.4 | alice's phone | 3 answered calls to bob, 2 calls to dave, who is busy |
| 127.0.0.5 | bob's phone | registers once, answers calls (SIPp's built-in UAS) |
| 127.0.0.6 | dave's phone | registers once, answers every call with 486 Busy Here |

The lab (Kamailio, SIPp) is `lab.py`; the same lab under attack, with the rule pack, is
`test_kamailio_attacks.py`. The agent (`ucsiem run`, file input, kamailio parser) is started first and
tails the log as Kamailio writes it. Every line of the log must arrive as exactly one event, none as a
pipeline error, and the counts of `event.action`/`event.outcome` per source address must be exactly the
scenario's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.agenthelp import delivered, events, make_config, start, stop, wait_for
from tests.e2e.lab import HERE, Lab
from tests.e2e.lab import count as _count


def test_registrations_auth_and_calls_counted_per_source(lab: Lab, tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(lab.log)], parser="kamailio")
    agent = start(config)
    lab.start_kamailio()

    bob = lab.answering_phone("127.0.0.5", ["-sn", "uas"])
    dave = lab.answering_phone("127.0.0.6", ["-sf", str(HERE / "busy.xml")])
    lab.run("register.xml", "127.0.0.5", user="bob", password="bob-secret", calls=1, contact=f"127.0.0.5:{bob}")
    lab.run("register.xml", "127.0.0.6", user="dave", password="dave-secret", calls=1, contact=f"127.0.0.6:{dave}")
    lab.run("register.xml", "127.0.0.2", user="alice", password="alice-secret", calls=5, contact="127.0.0.2:5060")
    lab.run("register.xml", "127.0.0.3", user="alice", password="guess-1234", calls=7, contact="127.0.0.3:5060")
    lab.run("call.xml", "127.0.0.4", user="bob", password="alice-secret", calls=3, caller="alice")
    lab.run("call.xml", "127.0.0.4", user="dave", password="alice-secret", calls=2, caller="alice")
    lab.run("call.xml", "127.0.0.3", user="carol", password="alice-secret", calls=4, caller="alice")
    lab.stop_kamailio()

    lines = lab.log.read_bytes().count(b"\n")
    wait_for(lambda: delivered(tmp_path) >= lines, 60, f"{lines} events from Kamailio's log")
    stop(agent)

    found = events(tmp_path)
    errors = [(e["log"]["offset"], e.get("error", {}).get("message")) for e in found
              if e["event"]["kind"] == "pipeline_error"]
    assert not errors
    assert len(found) == lines
    assert len({e["event"]["id"] for e in found}) == lines

    challenge = ("sip-auth", None)
    assert _count(found, "source.ip", "event.action", "event.outcome") == Counter({
        # alice registers from her desk
        ("127.0.0.2", *challenge): 5, ("127.0.0.2", "sip-auth", "success"): 5,
        ("127.0.0.2", "sip-register", "success"): 5,
        # someone guesses alice's password, then tries to call a user who does not exist
        ("127.0.0.3", *challenge): 7 + 4, ("127.0.0.3", "sip-auth", "failure"): 7,
        ("127.0.0.3", "sip-auth", "success"): 4, ("127.0.0.3", "call-attempt", None): 4,
        ("127.0.0.3", "call-reject", "failure"): 4,
        # alice calls bob three times (answered, hung up) and dave twice (busy)
        ("127.0.0.4", *challenge): 5, ("127.0.0.4", "sip-auth", "success"): 5,
        ("127.0.0.4", "call-attempt", None): 5, ("127.0.0.4", "call-start", "success"): 3,
        ("127.0.0.4", "call-end", "success"): 3, ("127.0.0.4", "call-reject", "failure"): 2,
        # bob's and dave's phones register once each
        ("127.0.0.5", *challenge): 1, ("127.0.0.5", "sip-auth", "success"): 1,
        ("127.0.0.5", "sip-register", "success"): 1,
        ("127.0.0.6", *challenge): 1, ("127.0.0.6", "sip-auth", "success"): 1,
        ("127.0.0.6", "sip-register", "success"): 1,
    })
    rejects = [e for e in found if e["event"]["action"] == "call-reject"]
    assert _count(rejects, "source.ip", "uc.sip.status_code", "destination.user.name") == Counter({
        ("127.0.0.3", 404, "carol"): 4, ("127.0.0.4", 486, "dave"): 2})
    failures = [e for e in found if e["event"].get("outcome") == "failure" and e["event"]["action"] == "sip-auth"]
    assert {(e["user"]["name"], tuple(e["event"]["category"])) for e in failures} == {("alice", ("authentication",))}
    registered = [e for e in found if e["event"]["action"] == "sip-register"]
    assert sorted(e["user"]["name"] for e in registered) == ["alice"] * 5 + ["bob", "dave"]
    # the rest are Kamailio's own start and stop lines, kept as diagnostics
    assert {e["event"]["action"] for e in found if "source" not in e} <= {"diagnostic", "system-start", "system-stop"}
