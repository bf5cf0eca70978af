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

The agent (`ucsiem run`, file input, kamailio parser) is started first and tails the log as Kamailio
writes it. Every line of the log must arrive as exactly one event, none as a pipeline error, and the
counts of `event.action`/`event.outcome` per source address must be exactly the scenario's.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agenthelp import delivered, events, make_config, start, stop, wait_for

HERE = Path(__file__).parent / "kamailio"
REALM = "example.com"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        pytest.fail(f"`{name}` is not installed: run `bash scripts/system-packages.sh` (Debian: kamailio, sip-tester)")
    return found


def _module_dir() -> Path:
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules")) + sorted(Path("/usr/lib").glob("kamailio/modules"))
    if not found:
        pytest.fail("no Kamailio module directory under /usr/lib: is Debian's `kamailio` package installed?")
    return found[0]


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """Kamailio answers a bare OPTIONS (with 405: the script logs nothing for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
        sock.settimeout(0.3)
        probe = (f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKprobe{time.monotonic_ns()}\r\n"
                 f"From: <sip:probe@{REALM}>;tag=probe\r\nTo: <sip:probe@{REALM}>\r\n"
                 f"Call-ID: probe-{time.monotonic_ns()}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n")
        sock.sendto(probe.encode(), ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 ")
        except OSError:
            return False


class Lab:
    """Kamailio on its own port, SIPp user agents around it; every process is stopped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = _free_udp_port("127.0.0.1")
        self.log = tmp / "kamailio.log"
        self.sipp = _tool("sipp")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.kamailio: subprocess.Popen[bytes] | None = None

    def start_kamailio(self) -> None:
        config = (HERE / "kamailio.cfg").read_text()
        config = config.replace("@PORT@", str(self.port)).replace("@MPATH@", f"{_module_dir()}/")
        cfg = self.tmp / "kamailio.cfg"
        cfg.write_text(config)
        with self.log.open("ab") as err, (self.tmp / "kamailio.out").open("ab") as out:
            self.kamailio = subprocess.Popen(
                [_tool("kamailio"), "-f", str(cfg), "-DD", "-E", "-w", str(self.tmp), "-P", str(self.tmp / "k.pid")],
                stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + 30
        while not _answers(self.port):
            if self.kamailio.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Kamailio did not start (exit {self.kamailio.poll()}):\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop_kamailio(self) -> None:
        assert self.kamailio is not None
        self.kamailio.send_signal(signal.SIGTERM)
        self.kamailio.wait(timeout=30)

    def _sipp_args(self, scenario: list[str], ip: str, user: str, password: str, keys: dict[str, str],
                   port: int | None = None) -> list[str]:
        args = [self.sipp, f"127.0.0.1:{self.port}", *scenario, "-i", ip, "-s", user, "-au", user.split(":")[0],
                "-ap", password, "-nostdin", "-trace_err", "-error_file", str(self.tmp / f"sipp-{ip}-errors.log")]
        if port is not None:
            args += ["-p", str(port)]
        for key, value in keys.items():
            args += ["-key", key, value]
        return args

    def answering_phone(self, ip: str, scenario: list[str]) -> int:
        """A SIPp UAS listening on `ip` (until the end of the test); returns its port."""
        port = _free_udp_port(ip)
        with (self.tmp / f"uas-{ip}.out").open("ab") as out:
            proc = subprocess.Popen([self.sipp, *scenario, "-i", ip, "-p", str(port), "-nostdin"],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return port

    def run(self, scenario: str, ip: str, *, user: str, password: str, calls: int, **keys: str) -> None:
        """`calls` runs of a scenario from `ip`, one at a time; SIPp must report every one successful."""
        args = self._sipp_args(["-sf", str(HERE / scenario)], ip, user, password, keys)
        args += ["-m", str(calls), "-l", "1", "-timeout", "60s", "-timeout_error"]
        done = subprocess.run(args, capture_output=True, timeout=120, check=False, cwd=self.tmp)
        assert done.returncode == 0, (f"SIPp {scenario} from {ip} exited {done.returncode}:\n"
                                      f"{done.stdout.decode(errors='replace')[-3000:]}")

    def close(self) -> None:
        for proc in [*self.procs, *([self.kamailio] if self.kamailio else [])]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def _count(found: list[dict[str, Any]], *keys: str) -> Counter[tuple[Any, ...]]:
    def get(event: dict[str, Any], dotted: str) -> Any:
        value: Any = event
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return Counter(tuple(get(e, k) for k in keys) for e in found if get(e, "source.ip") is not None)


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
