"""A real syslog daemon in front of the agent: Debian's rsyslog forwarding over TCP (both framings) and TLS.

rsyslogd runs in the foreground as the test's user with a config written here (its own work dir and pid
file in tmp, no system socket: no imuxsock, no imklog), receives the appliances' messages on its own
loopback UDP port, as a relay in front of Expressway and Kamailio would, and forwards each message three
times, with three `omfwd` actions (each with its own queue, retrying), to three listeners of one agent:

* TCP, `TCP_Framing="octet-counted"`, RFC 5424 (`RSYSLOG_SyslogProtocol23Format`);
* TCP, rsyslog's default newline framing and format (`RSYSLOG_TraditionalForwardFormat`, RFC 3164);
* TLS (`gtls` driver, octet-counted, RFC 5424) to a mutual-TLS listener, rsyslog checking the agent's
  certificate by name (`x509/name`) and presenting its own.

The messages are the shared samples (`parsers/cisco_expressway/tests`, `parsers/kamailio/tests`, the lines
a host can send: time, host, tag). Every message must reach the agent exactly once per listener and be
parsed by the route for its sender (host name `exp*` -> cisco_expressway, app-name `kamailio` -> kamailio;
the samples' `sipproxy[...]` and `systemd[1]` lines -> dead letters), giving, compared whole, the events
of the same lines read from a file by `ucsiem parse` but for what the network adds.

Requires rsyslog and rsyslog-gnutls (scripts/system-packages.sh installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tests.agenthelp import events, start, stop, wait_for
from tests.pipeline.syslogtls import HOST, Certs, make_certs
from tests.pipeline.test_syslog_tls import by_message, from_files, stopped_stats

PARSERS = Path(__file__).parents[2] / "parsers"
EXPRESSWAY = [PARSERS / "cisco_expressway" / "tests" / name for name in ("event-log.log", "admin-audit.log")]
KAMAILIO = [PARSERS / "kamailio" / "tests" / name for name in ("core.log", "syslog.log")]
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


def free_ports(count: int, kind: int = socket.SOCK_STREAM) -> list[int]:
    socks = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


# `TIME HOST TAG[PID]: MSG`: what a host sends and a relay can parse (the samples also hold file-only
# variants: no host, no tag, a PRI written into the file)
TAGGED = re.compile(r"(?:\S+|[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) [a-z][\w.-]* [a-z]+(?:\[\d+\])?: .*")


def sample_lines(paths: list[Path]) -> list[str]:
    return [line for path in paths for line in path.read_text().splitlines() if TAGGED.fullmatch(line)]


def agent_config(tmp: Path, certs: Certs, octet: int, newline: int, tls: int) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{
            "type": "syslog", "id": "relay", "timezone": "UTC", "batch_max_wait_secs": 0.1,
            "listeners": [
                {"protocol": "tcp", "address": HOST, "port": octet},
                {"protocol": "tcp", "address": HOST, "port": newline},
                {"protocol": "tls", "address": HOST, "port": tls,
                 "tls": {"cert_file": str(certs.server_chain), "key_file": str(certs.server_key),
                         "client_ca_file": str(certs.ca)}},
            ],
            "routes": [{"name": "expressway", "parser": "cisco_expressway", "hostnames": ["exp*"]},
                       {"name": "kamailio", "parser": "kamailio", "app_names": ["kamailio"]}],
        }],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": 1},
    }))
    return path


def rsyslog_config(tmp: Path, certs: Certs, udp: int, octet: int, newline: int, tls: int) -> Path:
    work = tmp / "rsyslog"
    work.mkdir()
    retry = 'action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList"'
    conf = work / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="{certs.ca}"
       DefaultNetstreamDriverCertFile="{certs.client_chain}" DefaultNetstreamDriverKeyFile="{certs.client_key}")
module(load="imudp")
input(type="imudp" address="{HOST}" port="{udp}" ruleset="relay")
ruleset(name="relay") {{
  action(type="omfwd" name="octet" target="{HOST}" port="{octet}" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format" {retry})
  action(type="omfwd" name="newline" target="{HOST}" port="{newline}" protocol="tcp" {retry})
  action(type="omfwd" name="tls" target="{HOST}" port="{tls}" protocol="tcp"
         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
         StreamDriverPermittedPeers="localhost"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format" {retry})
}}
""")
    check = subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    return conf


def start_rsyslogd(conf: Path) -> subprocess.Popen[bytes]:
    with (conf.parent / "rsyslogd.out").open("ab") as out:
        return subprocess.Popen([RSYSLOGD, "-n", "-f", str(conf), "-i", str(conf.parent / "rsyslogd.pid")],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "TZ": "UTC"})


def stop_rsyslogd(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def relayed(event: dict[str, Any]) -> bool:
    return bool(event["log"]["syslog"].get("hostname") != "probe")


def listener_of(event: dict[str, Any]) -> str:
    # log.file.path of a network event: "<protocol>://<address>:<port> from <peer>:<port>"
    return str(event["log"]["file"]["path"]).split(" from ", 1)[0]


def dated(event: dict[str, Any]) -> dict[str, Any]:
    """An event with the year of its time left out: rsyslog dates a year-less RFC 3164 time when it relays
    it (its year rule near New Year may differ from ucsiem's, which is not what is tested here)."""
    return {**event, "@timestamp": str(event.get("@timestamp", ""))[4:]}


def parsed_from_file(tmp: Path, parser: str, lines: list[str]) -> list[dict[str, Any]]:
    path = tmp / f"{parser}.log"
    path.write_text("".join(f"{line}\n" for line in lines))
    return by_message(from_files(parser, [path]))


def test_rsyslog_forwards_over_tcp_both_framings_and_tls_each_message_once(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "tls")
    octet, newline, tls = free_ports(3)
    [udp] = free_ports(1, socket.SOCK_DGRAM)
    agent = start(agent_config(tmp_path, certs, octet, newline, tls))
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    relay = start_rsyslogd(rsyslog_config(tmp_path, certs, udp, octet, newline, tls))
    listeners = [f"tcp://{HOST}:{octet}", f"tcp://{HOST}:{newline}", f"tls://{HOST}:{tls}"]
    expressway, kamailio = sample_lines(EXPRESSWAY), sample_lines(KAMAILIO)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            probes = 0

            def probed() -> bool:  # rsyslogd is up when a probe comes out of all three of its actions
                nonlocal probes
                probes += 1
                sender.sendto(f"<134>2024-05-14T09:00:00+00:00 probe probe: probe {probes}".encode(), (HOST, udp))
                time.sleep(0.2)
                return {listener_of(e) for e in events(tmp_path) if not relayed(e)} == set(listeners)

            wait_for(probed, timeout=60, what="rsyslogd to forward a probe on the three listeners")
            for pri, lines in ((134, expressway), (131, kamailio)):  # local0.info, local0.err
                for line in lines:
                    sender.sendto(f"<{pri}>{line}".encode(), (HOST, udp))
                    time.sleep(0.002)  # a UDP burst must not overflow rsyslogd's socket (not under test)

        def all_in() -> bool:
            count = Counter(listener_of(e) for e in events(tmp_path) if relayed(e))
            return all(count[name] >= len(expressway) + len(kamailio) for name in listeners)

        wait_for(all_in, timeout=60, what="every message on every listener")
        time.sleep(1)  # a duplicate (a resent batch) would come now
    finally:
        stop_rsyslogd(relay)
    stop(agent)

    got = [e for e in events(tmp_path) if relayed(e)]
    assert len(got) == 3 * (len(expressway) + len(kamailio))
    from_kamailio = [line for line in kamailio if " kamailio[" in line]
    others = len(kamailio) - len(from_kamailio)  # sipproxy[...], systemd[1]: no route claims them
    assert len(from_kamailio) >= 10 and others >= 1
    file_expressway = parsed_from_file(tmp_path, "cisco_expressway", expressway)
    file_kamailio = [dated(e) for e in parsed_from_file(tmp_path, "kamailio", from_kamailio)]
    for name in listeners:
        mine = [e for e in got if listener_of(e) == name]
        by_set = {d: [e for e in mine if e["event"]["dataset"] == d]
                  for d in ("cisco.expressway", "kamailio.log", "ucsiem.unrouted")}
        assert sum(map(len, by_set.values())) == len(mine), name
        # each sample once, as the same events as the file gives (the events compared whole)
        assert by_message(by_set["cisco.expressway"]) == file_expressway, name
        assert [dated(e) for e in by_message(by_set["kamailio.log"])] == file_kamailio, name
        assert len(by_set["ucsiem.unrouted"]) == others, name
        assert {e["log"]["syslog"]["appname"] for e in by_set["ucsiem.unrouted"]} == {"sipproxy", "systemd"}
        assert {e["error"]["type"] for e in by_set["ucsiem.unrouted"]} == {"no_match"}
        for event in mine:
            assert event["observer"]["ip"] == [HOST]
            assert event["log"]["syslog"]["facility"]["name"] == "local0"
        assert {e["log"]["syslog"]["severity"]["name"] for e in by_set["kamailio.log"]} == {"err"}
        assert {e["log"]["syslog"]["severity"]["name"] for e in by_set["cisco.expressway"]} == {"info"}
    # rsyslog made one connection per action and kept it
    stats = stopped_stats(tmp_path)["syslog"]["relay"]
    assert [stats[name]["connections"] for name in listeners] == [1, 1, 1], stats
