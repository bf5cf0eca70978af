"""The syslog input's TLS listeners in the running agent (RFC 5425), with certificates made in the test.

A Python `ssl` client plays the appliance: RFC 5424 messages, octet-counted, over TLS to a listener with
a server certificate only, and to one that requires a client certificate (mutual TLS, TLS 1.3 only).
Expressway's and Kamailio's sample lines sent this way give the same events as the same files read by
`ucsiem parse`, but for what the network adds. A sender without a certificate, one whose certificate an
unrelated CA signed, TLS 1.1 (refused by default) and TLS 1.2 to the 1.3-only listener are all refused
and none of what they sent reaches the output.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.agenthelp import events, start, stop, wait_for
from tests.pipeline.syslogtls import HOST, Certs, make_certs, octet_counted, to_rfc5424

PARSERS = Path(__file__).parents[2] / "parsers"
EXPRESSWAY = [PARSERS / "cisco_expressway" / "tests" / name for name in ("event-log.log", "admin-audit.log")]
KAMAILIO = PARSERS / "kamailio" / "tests" / "core.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def config(tmp: Path, certs: Certs, server_only: int, mutual: int) -> Path:
    tls = {"cert_file": str(certs.server_chain), "key_file": str(certs.server_key)}
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{
            "type": "syslog", "id": "net", "timezone": "UTC", "batch_max_wait_secs": 0.1,
            "listeners": [{"protocol": "tls", "address": HOST, "port": server_only, "tls": tls},
                          {"protocol": "tls", "address": HOST, "port": mutual,
                           "tls": {**tls, "client_ca_file": str(certs.ca), "min_version": "1.3"}}],
            # the first route takes everything on the server-only listener (some Expressway samples have
            # no host name); on the mutual TLS one, messages go by host name or app-name
            "routes": [{"name": "expressway", "parser": "cisco_expressway", "listeners": [0]},
                       {"name": "expressway-by-host", "parser": "cisco_expressway", "hostnames": ["exp*"]},
                       {"name": "kamailio", "parser": "kamailio", "app_names": ["kamailio"]}],
        }],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": 1},
    }))
    return path


def client_context(certs: Certs, *, cert: tuple[Path, Path] | None = None,
                   versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.ca))  # verifies the chain and the name 127.0.0.1
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    if versions is not None:
        old_versions(context, *versions)
    return context


def old_versions(context: ssl.SSLContext, lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> None:
    """Set the versions a context allows, TLS 1.1 included (deprecated in Python: the point of the test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = lowest, highest
    if lowest < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 does not even offer TLS 1.1 above level 0


def send_tls(port: int, context: ssl.SSLContext, payload: bytes) -> str:
    """Send over TLS, close our side, read until the server closes: the protocol version negotiated."""
    with socket.create_connection((HOST, port), timeout=30) as raw, \
            context.wrap_socket(raw, server_hostname=HOST) as tls:
        tls.sendall(payload)
        version = tls.version() or ""
        tls.unwrap()  # close_notify: the agent sees the end of the stream and flushes what it has
    return version


def refused(port: int, context: ssl.SSLContext, payload: bytes) -> str:
    """A sender the listener must refuse: the error it gets (during the handshake, or, in TLS 1.3, where a
    client certificate is checked after the client has finished, on the first read)."""
    with socket.create_connection((HOST, port), timeout=30) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(payload)
                data = tls.recv(1)
        except (ssl.SSLError, ConnectionError) as exc:
            return str(exc)
    assert data == b"", f"the listener on {port} answered {data!r}"
    return "closed"  # the agent ended the connection without a TLS alert


def expressway_messages() -> list[bytes]:
    return [to_rfc5424(line) for path in EXPRESSWAY for line in path.read_text().splitlines()]


def kamailio_messages() -> list[bytes]:
    # RFC 3164 as Kamailio's syslog sends it (facility local0, err): filed as sent, without the PRI
    return [b"<131>" + line.encode() for line in KAMAILIO.read_text().splitlines()]


def from_files(parser: str, paths: list[Path]) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "ucsiem", "parse", "--parser", parser, *map(str, paths)],
                          capture_output=True, text=True, check=True, timeout=120)
    return [orjson.loads(row) for row in done.stdout.splitlines() if row.strip()]


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs between a file and the network: ids, ingest time, `log.*` (file path
    and offset, or the syslog header and peer), `observer.ip` (the peer), agent and host."""
    out = {k: v for k, v in event.items() if k not in ("log", "agent", "host")}
    out["event"] = {k: v for k, v in event["event"].items() if k not in ("id", "ingested")}
    observer = {k: v for k, v in event.get("observer", {}).items() if k != "ip"}
    out.pop("observer", None)
    if observer:
        out["observer"] = observer
    related = dict(event.get("related", {}))
    ips = [ip for ip in related.get("ip", []) if ip != HOST]
    related.pop("ip", None)
    if ips:
        related["ip"] = ips
    out.pop("related", None)
    if related:
        out["related"] = related
    return out


def by_message(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((comparable(d) for d in docs), key=lambda d: orjson.dumps(d, option=orjson.OPT_SORT_KEYS))


def stopped_stats(tmp: Path) -> dict[str, Any]:
    """The counters the agent logs as it stops (`Agent stopped.` in agent.log)."""
    for raw in (tmp / "agent.log").read_bytes().splitlines():
        if raw.startswith(b"{") and b'"Agent stopped."' in raw:
            stats: dict[str, Any] = orjson.loads(raw)["stats"]
            return stats
    raise AssertionError("no 'Agent stopped.' line in agent.log")


@pytest.fixture
def agent(tmp_path: Path) -> tuple[Path, Certs, int, int]:
    certs = make_certs(tmp_path / "tls")
    server_only, mutual = free_port(), free_port()
    return config(tmp_path, certs, server_only, mutual), certs, server_only, mutual


def test_rfc5425_over_tls_and_mutual_tls_parses_as_from_a_file(tmp_path: Path,
                                                                 agent: tuple[Path, Certs, int, int]) -> None:
    path, certs, server_only, mutual = agent
    proc = start(path)
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    expressway, kamailio = expressway_messages(), kamailio_messages()

    assert send_tls(server_only, client_context(certs), octet_counted(expressway)) == "TLSv1.3"
    own = (certs.client_chain, certs.client_key)
    assert send_tls(mutual, client_context(certs, cert=own), octet_counted(kamailio)) == "TLSv1.3"
    total = len(expressway) + len(kamailio)
    wait_for(lambda: len(events(tmp_path)) >= total, timeout=60, what="every message")
    stop(proc)

    got = events(tmp_path)
    assert len(got) == total
    assert not [e for e in got if e["event"]["kind"] == "pipeline_error"]
    by_dataset = {d: [e for e in got if e["event"]["dataset"] == d] for d in ("cisco.expressway", "kamailio.log")}
    assert (len(by_dataset["cisco.expressway"]), len(by_dataset["kamailio.log"])) == (len(expressway), len(kamailio))
    for event in by_dataset["cisco.expressway"]:
        assert event["log"]["syslog"]["priority"] == 134 and event["observer"]["ip"] == [HOST]
        assert event["log"]["source"]["address"].startswith(f"{HOST}:")
    for event in by_dataset["kamailio.log"]:
        assert event["log"]["syslog"]["facility"] == {"code": 16, "name": "local0"}
        assert event["log"]["syslog"]["severity"] == {"code": 3, "name": "err"}
        assert event["log"]["syslog"]["appname"] == "kamailio" and event["log"]["syslog"]["hostname"] == "sip1"
    # the same events as the files give, trailing blanks and non-ASCII names (admin-audit) included
    assert by_message(by_dataset["cisco.expressway"]) == by_message(from_files("cisco_expressway", EXPRESSWAY))
    assert by_message(by_dataset["kamailio.log"]) == by_message(from_files("kamailio", [KAMAILIO]))


def marker(name: str) -> bytes:
    return to_rfc5424(f'2024-05-14T09:15:02.118+02:00 expc01 tvcs: Event="Registration Requested" '
                      f'Service="SIP" Src-ip="192.0.2.99" AOR="sip:{name}@example.com" Level="1"')


def test_unauthenticated_and_old_tls_senders_are_refused(tmp_path: Path, agent: tuple[Path, Certs, int, int]) -> None:
    path, certs, server_only, mutual = agent
    proc = start(path)
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    tls11 = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    tls12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    errors = {
        "no-certificate": refused(mutual, client_context(certs), octet_counted([marker("no-certificate")])),
        "rogue-ca": refused(mutual, client_context(certs, cert=(certs.rogue_chain, certs.rogue_key)),
                            octet_counted([marker("rogue-ca")])),
        "tls11": refused(server_only, client_context(certs, versions=tls11), octet_counted([marker("tls11")])),
        "tls12-to-13-only": refused(mutual, client_context(certs, cert=(certs.client_chain, certs.client_key),
                                                           versions=tls12), octet_counted([marker("tls12")])),
    }
    # then a sender that is allowed: its message arrives, so the refused ones had every chance to
    own = (certs.client_chain, certs.client_key)
    send_tls(mutual, client_context(certs, cert=own), octet_counted([marker("allowed")]))
    send_tls(server_only, client_context(certs, versions=tls12), octet_counted([marker("allowed-tls12")]))
    wait_for(lambda: len(events(tmp_path)) >= 2, timeout=60, what="the allowed senders' messages")
    stop(proc)  # flushes whatever the agent took

    # The agent sends no TLS alert (asyncio closes the socket as the handshake fails), so a sender sees an
    # end of stream, in the handshake (version) or at its first read (TLS 1.3 checks the client's
    # certificate after the client has finished): `refused` accepts either, and nothing else.
    assert errors["tls11"] != "closed" and errors["tls12-to-13-only"] != "closed", errors  # no handshake at all
    got = events(tmp_path)
    assert sorted(e["source"]["user"]["name"] for e in got) == ["allowed", "allowed-tls12"]
    assert all(e["event"]["dataset"] == "cisco.expressway" for e in got)


def test_the_tls11_client_is_refused_for_its_version_not_for_being_broken(tmp_path: Path) -> None:
    """The control of the test above: the same TLS 1.1 client completes a handshake with a server that
    allows TLS 1.1, so its refusal by the agent is the agent's policy (TLS 1.2 at least by default)."""
    certs = make_certs(tmp_path / "tls")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    old_versions(server, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_3)
    server.load_cert_chain(str(certs.server_chain), str(certs.server_key))
    listener = socket.create_server((HOST, 0))
    versions: list[str] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server.wrap_socket(conn, server_side=True) as tls:
            versions.append(tls.version() or "")
            tls.recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with listener:
        context = client_context(certs, versions=(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1))
        with socket.create_connection(listener.getsockname(), timeout=30) as raw, \
                context.wrap_socket(raw, server_hostname=HOST) as tls:
            assert tls.version() == "TLSv1.1"
            tls.sendall(b"1 x")
        thread.join(30)
    assert versions == ["TLSv1.1"]
