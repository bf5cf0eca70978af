"""The webhook input in the running agent: signed Zoom and Webex deliveries over HTTPS on loopback.

The bodies are the parsers' own golden samples (`parsers/zoom/tests/*.log`, one body per line, and the
items of `parsers/cisco_webex/tests/webhooks.log`), signed here as Zoom and Webex sign them (HMAC-SHA256
over `v0:{timestamp}:{body}`, HMAC-SHA1 over the body, computed with `hmac` directly) and posted with the
standard library's HTTPS client trusting a CA made in the test. They must give the golden events; the
`endpoint.url_validation` challenge must be answered; forged, stale, oversized and non-JSON deliveries are
refused (401, 401, 413, 400), counted, and the forgeries become authentication-failure events naming the
peer. A 200 comes only once the delivery is stored: without the spool, its events are already in the output
file when the answer arrives, and an output that is down gets 503; with the spool, a 200 survives kill -9.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import signal
import socket
import ssl
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.agenthelp import events, start, stop, wait_for
from tests.integration.tlsproxy import Certs, make_certs

ROOT = Path(__file__).parents[2]
ZOOM_SAMPLES = [ROOT / "parsers" / "zoom" / "tests" / f"{n}.log" for n in ("meetings", "users", "recordings")]
WEBEX_SAMPLES = ROOT / "parsers" / "cisco_webex" / "tests" / "webhooks.log"
ZOOM_SECRET = "zoom-secret-token-3f9a"
WEBEX_SECRET = "webex-webhook-secret-77c1"
MAX_BODY = 65_536


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def secret_file(tmp: Path, name: str, value: str) -> Path:
    path = tmp / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def config(tmp: Path, port: int, certs: Certs, *, spool: bool = False, output: dict[str, Any] | None = None,
           ack_timeout: float = 5.0, shutdown_timeout: float = 30.0, read_timeout: float = 10.0) -> Path:
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0},
        "inputs": [{
            "type": "webhook", "id": "hooks", "address": "127.0.0.1", "port": port,
            "tls": {"cert_file": str(certs.ip.chain), "key_file": str(certs.ip.key)},
            "max_body_bytes": MAX_BODY, "ack_timeout_secs": ack_timeout, "read_timeout_secs": read_timeout,
            "paths": [
                {"path": "/zoom", "parser": "zoom", "provider": "zoom", "timezone": "Europe/Paris",
                 "secret_file": str(secret_file(tmp, "zoom.secret", ZOOM_SECRET))},
                {"path": "/webex", "parser": "cisco_webex", "provider": "webex", "timezone": "Europe/Paris",
                 "secret_file": str(secret_file(tmp, "webex.secret", WEBEX_SECRET))},
            ],
        }],
        "outputs": [output or {"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "spool": {"enabled": spool},
        "pipeline": {"workers": 1, "shutdown_timeout_secs": shutdown_timeout},
    }))
    return path


class Client:
    """HTTPS to the agent, trusting only the test CA (the certificate names IP 127.0.0.1)."""

    def __init__(self, port: int, certs: Certs) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(certs.ca))
        self.headers: dict[str, str] = {}  # of the last answer

    def post(self, path: str, body: bytes | list[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        try:
            if isinstance(body, list):  # chunked: no Content-Length, the size is only known while reading
                conn.request("POST", path, iter(body), {**headers, "Content-Type": "application/json"},
                             encode_chunked=True)
            else:
                conn.request("POST", path, body, {**headers, "Content-Type": "application/json"})
            response = conn.getresponse()
            self.headers = dict(response.getheaders())
            return response.status, response.read()
        finally:
            conn.close()

    def zoom(self, body: bytes, *, secret: str = ZOOM_SECRET, stamp: int | None = None) -> tuple[int, bytes]:
        ts = str(int(time.time()) if stamp is None else stamp)
        digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        return self.post("/zoom", body, {"x-zm-request-timestamp": ts, "x-zm-signature": f"v0={digest}",
                                         "User-Agent": "Zoom Marketplace/1.0a"})

    def webex(self, body: bytes, *, secret: str = WEBEX_SECRET) -> tuple[int, bytes]:
        digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return self.post("/webex", body, {"X-Spark-Signature": digest})


def zoom_deliveries() -> list[tuple[bytes, list[dict[str, Any]]]]:
    """(body, its golden events) for every Zoom sample line whose time comes from the body itself."""
    out = []
    for sample in ZOOM_SAMPLES:
        expected = _by_offset(sample)
        offset = 0
        for line in sample.read_bytes().splitlines(keepends=True):
            body, wanted = line.rstrip(b"\n"), expected.get(offset, [])
            offset += len(line)
            if not body or not wanted or b'"endpoint.url_validation"' in body:  # a challenge: answered, not stored
                continue
            if not any("time_from_reference" in e.get("tags", []) for e in wanted):
                out.append((body, wanted))
    return out


def webex_deliveries() -> list[tuple[bytes, list[dict[str, Any]]]]:
    """Each item of the Webex sample array, posted alone and compact as Webex sends it."""
    expected = json.loads(WEBEX_SAMPLES.with_name(WEBEX_SAMPLES.name + "-expected.json").read_text())
    text, items, at = WEBEX_SAMPLES.read_text(), [], 0
    decoder = json.JSONDecoder()
    while text[at:].strip():  # arrays and NDJSON lines, as the file holds them
        doc, end = decoder.raw_decode(text, len(text) - len(text[at:].lstrip()))
        items += doc if isinstance(doc, list) else [doc]
        at = end
    assert len(items) == len(expected)  # one event per delivery, in order
    return [(json.dumps(item, separators=(",", ":")).encode(), [event]) for item, event in zip(items, expected,
                                                                                                strict=True)]


def _by_offset(sample: Path) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for event in json.loads(sample.with_name(sample.name + "-expected.json").read_text()):
        out.setdefault(event["log.offset"], []).append(event)
    return out


def flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def comparable(event: dict[str, Any]) -> bytes:
    """An event without what only the pipeline knows (where and when it was read, by which agent)."""
    pipeline = ("log.", "agent.", "host.")
    kept = {k: v for k, v in flat(event).items()
            if not k.startswith(pipeline) and k not in ("event.id", "event.ingested")}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)


def of(dataset: str, tmp: Path) -> list[dict[str, Any]]:
    return [e for e in events(tmp) if e["event"].get("dataset") == dataset]


def stats(tmp: Path) -> dict[str, Any]:
    """The webhook counters the agent logged when it stopped."""
    for raw in reversed((tmp / "agent.log").read_bytes().splitlines()):
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(line, dict) and line.get("message") == "Agent stopped.":
            webhook: dict[str, Any] = line["stats"]["webhook"]["hooks"]
            return webhook
    raise AssertionError("no 'Agent stopped.' line in agent.log")


def wait_up(tmp: Path) -> None:
    wait_for(lambda: "Webhook receiver up" in (tmp / "agent.log").read_text(), timeout=60, what="the receiver")


def test_signed_zoom_and_webex_deliveries_parse_as_the_samples_and_forgeries_are_refused(tmp_path: Path) -> None:
    port, certs = free_port(), make_certs(tmp_path / "certs")
    proc = start(config(tmp_path, port, certs))
    wait_up(tmp_path)
    client = Client(port, certs)

    # signed deliveries: 200 only once stored; without the spool that means in the output file already
    zoom, webex = zoom_deliveries(), webex_deliveries()
    assert len(zoom) >= 15 and len(webex) >= 8
    for send, deliveries, dataset in ((client.zoom, zoom, "zoom.webhook"), (client.webex, webex, "cisco.webex")):
        for body, wanted in deliveries:
            before = len(of(dataset, tmp_path))
            status, answer = send(body)
            assert (status, answer) == (200, b"ok"), body[:80]
            assert len(of(dataset, tmp_path)) == before + len(wanted), "answered 200 before the events were stored"

    # Zoom's endpoint validation: answered with the token and its HMAC-SHA256, nothing stored
    token = "qgg8vlvZRS6UYooatFL8Aw"
    challenge = orjson.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": token},
                              "event_ts": int(time.time() * 1000)})
    status, answer = client.zoom(challenge)
    assert status == 200
    assert orjson.loads(answer) == {
        "plainToken": token, "encryptedToken": hmac.new(ZOOM_SECRET.encode(), token.encode(), "sha256").hexdigest()}

    # refused: forged (another secret), stale (a replay 10 minutes late), forged Webex, unsigned
    body = zoom[0][0]
    assert client.zoom(body, secret="not-the-secret")[0] == 401
    assert client.zoom(body, stamp=int(time.time()) - 600) == (401, b"stale_timestamp\n")
    assert client.webex(webex[0][0], secret="guess") == (401, b"bad_signature\n")
    assert client.post("/zoom", body, {})[0] == 401
    # too large: declared (Content-Length) and discovered while reading (chunked); not JSON: 400
    big = b'{"event":"meeting.started","pad":"' + b"x" * MAX_BODY + b'"}'
    assert client.zoom(big)[0] == 413
    assert client.post("/zoom", [big[i:i + 8192] for i in range(0, len(big), 8192)], {})[0] == 413
    assert client.zoom(b'{"event": "meeting.started", "payload": {') == (400, b"the body is not JSON\n")
    assert client.post("/nowhere", b"{}", {})[0] == 404
    wait_for(lambda: len(of("ucsiem.webhook", tmp_path)) >= 5, timeout=30, what="the refusals' events")
    stop(proc)

    # the same events as the golden files (less what the pipeline adds: log.*, ids, agent, host)
    for dataset, deliveries in (("zoom.webhook", zoom), ("cisco.webex", webex)):
        got = Counter(comparable(e) for e in of(dataset, tmp_path))
        expected = Counter(comparable({k: v for k, v in e.items() if not k.startswith("log.")})
                           for _, golden in deliveries for e in golden)
        assert got == expected, dataset
    assert not [e for e in of("zoom.webhook", tmp_path) if e["event"].get("code") == "endpoint.url_validation"]

    # the refused senders, as the detection rules see them
    refused = of("ucsiem.webhook", tmp_path)
    auth = sorted((e for e in refused if e["event"]["kind"] == "event"),
                  key=lambda e: (e["event"]["code"], e["event"]["provider"]))
    assert [(e["event"]["provider"], e["event"]["code"]) for e in auth] == [
        ("webex", "bad_signature"), ("zoom", "bad_signature"), ("zoom", "missing_header"),
        ("zoom", "stale_timestamp")]
    for event in auth:
        assert event["event"]["category"] == ["authentication"] and event["event"]["outcome"] == "failure"
        assert event["source"]["ip"] == "127.0.0.1" and event["source"]["port"] > 0
        assert event["http"]["response"]["status_code"] == 401
        assert event["related"]["ip"] == ["127.0.0.1"]
        assert event["event"]["reason"]  # the verdict's explanation
    assert auth[1]["user_agent"]["original"] == "Zoom Marketplace/1.0a"
    assert auth[1]["url"]["path"] == "/zoom"
    [dead] = [e for e in refused if e["event"]["kind"] == "pipeline_error"]
    assert "/zoom" in dead["error"]["message"] and "is not JSON" in dead["error"]["message"]
    assert dead["event"]["original"] == '{"event": "meeting.started", "payload": {'
    assert dead["source"]["ip"] == "127.0.0.1"

    counts = stats(tmp_path)
    zoom_peer, webex_peer = counts["/zoom"]["127.0.0.1"], counts["/webex"]["127.0.0.1"]
    assert zoom_peer["accepted"] == len(zoom) and zoom_peer["challenges"] == 1
    assert zoom_peer["rejected"] == {"bad_signature": 1, "stale_timestamp": 1, "missing_header": 1}
    assert zoom_peer["too_large"] == 2 and zoom_peer["bad_json"] == 1
    assert webex_peer == {"accepted": len(webex), "rejected": {"bad_signature": 1},
                          "bytes": sum(len(b) for b, _ in webex) + len(webex[0][0])}
    assert counts["unknown_paths"] == {"127.0.0.1": 1}


def test_answered_200_only_once_stored(tmp_path: Path) -> None:
    """An output that is down: without the spool nothing is stored, so 503 (the sender retries); with the
    spool a delivery is stored once committed, so 200, and it survives kill -9 to reach the output later."""
    port, certs = free_port(), make_certs(tmp_path / "certs")
    down = {"type": "elasticsearch", "hosts": [f"http://127.0.0.1:{free_port()}"]}  # nothing listens there
    (body, wanted), *_ = zoom_deliveries()

    proc = start(config(tmp_path, port, certs, output=down, ack_timeout=1.0, shutdown_timeout=1.0))
    wait_up(tmp_path)
    client = Client(port, certs)
    began = time.monotonic()
    assert client.zoom(body) == (503, b"not stored in time; retry\n")
    assert time.monotonic() - began >= 1.0
    proc.send_signal(signal.SIGTERM)  # the batch was never stored: the agent says so as it stops
    proc.wait(timeout=60)
    assert stats(tmp_path)["/zoom"]["127.0.0.1"]["timeouts"] == 1

    spooled = tmp_path / "spooled"
    spooled.mkdir()
    proc = start(config(spooled, port, certs, output=down, spool=True))
    wait_up(spooled)
    deliveries = zoom_deliveries()[:5]
    for one, _ in deliveries:
        assert client.zoom(one) == (200, b"ok")
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # the next start, with a working output: what was answered 200 is in the spool, and goes out
    proc = start(config(spooled, port, certs, spool=True))
    wait_for(lambda: len(of("zoom.webhook", spooled)) >= sum(len(w) for _, w in deliveries), timeout=60,
             what="the spooled deliveries")
    stop(proc)
    got = Counter(comparable(e) for e in of("zoom.webhook", spooled))
    assert got == Counter(comparable({k: v for k, v in e.items() if not k.startswith("log.")})
                          for _, golden in deliveries for e in golden)
    assert wanted  # the first delivery has golden events


def test_hostile_requests_cost_one_answer_each_and_the_receiver_stays_up(tmp_path: Path) -> None:
    port, certs = free_port(), make_certs(tmp_path / "certs")
    proc = start(config(tmp_path, port, certs, read_timeout=1.0))
    wait_up(tmp_path)
    client = Client(port, certs)

    def raw(data: bytes, *, tls: bool = True, wait: float = 5.0) -> bytes:
        sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
        conn = client.context.wrap_socket(sock, server_hostname="127.0.0.1") if tls else sock
        with conn:
            conn.sendall(data)
            out = b""
            with contextlib.suppress(OSError):
                while chunk := conn.recv(65536):
                    out += chunk
            return out

    raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=False)  # plain HTTP on the TLS port: handshake fails
    assert raw(b"\x00\xff garbage \r\n\r\n").startswith(b"HTTP/1.")  # not HTTP: 400 from the server
    # a header over the 8,190-byte limit, yet small enough for one TLS record: the server reads it whole
    # before it answers and closes. A longer one raced the server's close (EOF on the client's send).
    huge = b"POST /zoom HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 12_000 + b"\r\n\r\n"
    assert raw(huge).split(b"\r\n")[0].endswith(b" 400 Bad Request")  # a header over the limit
    slow = b"POST /zoom HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"
    assert raw(slow).startswith(b"HTTP/1.1 408")  # the rest of the body never comes
    assert client.post("/zoom", b"{}", {"Content-Encoding": "gzip"})[0] == 415
    assert client.post("/zoom", b'{"event": "x"}', {"x-zm-request-timestamp": "1", "x-zm-signature": "v0=zz"}) == (
        401, b"malformed_signature\n")
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=client.context, timeout=30)
    conn.request("GET", "/zoom")
    assert conn.getresponse().status == 405
    conn.close()

    # and the real sender is still served
    body, wanted = zoom_deliveries()[0]
    assert client.zoom(body) == (200, b"ok")
    assert len(of("zoom.webhook", tmp_path)) == len(wanted)
    stop(proc)
    counts = stats(tmp_path)["/zoom"]["127.0.0.1"]
    assert counts["refused"] == {"read_timeout": 1, "encoding": 1, "method": 1}
    assert counts["accepted"] == 1 and counts["rejected"] == {"malformed_signature": 1}
    assert stats(tmp_path)["tls_failures"] == {"127.0.0.1": 1}  # the plain HTTP request


def test_a_delivery_the_full_spool_drops_is_answered_503_not_200(tmp_path: Path) -> None:
    """`when_full: drop_newest` and an output that is down: the spool fills, and a delivery it drops is not
    stored, so it gets 503 with Retry-After (the sender retries), is counted, and never reaches the output;
    every delivery answered 200 does, at the next start."""
    port, certs = free_port(), make_certs(tmp_path / "certs")
    down = {"type": "elasticsearch", "hosts": [f"http://127.0.0.1:{free_port()}"]}  # nothing listens there
    cfg = config(tmp_path, port, certs, output=down, spool=True)
    settings = yaml.safe_load(cfg.read_text())
    settings["spool"].update({"max_bytes": 1_048_576, "when_full": "drop_newest"})
    settings["inputs"][0]["keep_original"] = True  # ~60 kB an event: the 1 MiB spool fills fast
    cfg.write_text(yaml.safe_dump(settings))
    proc = start(cfg)
    wait_up(tmp_path)
    client = Client(port, certs)
    template = orjson.loads(zoom_deliveries()[0][0])

    def delivery(n: int) -> bytes:
        return orjson.dumps({**template, "event_ts": 1_700_000_000_000 + n, "pad": "x" * 60_000})

    answers: list[tuple[int, bytes, str | None]] = []
    for n in range(40):
        status, body = client.zoom(delivery(n))
        answers.append((status, body, client.headers.get("Retry-After")))
        if status != 200 and len([a for a in answers if a[0] != 200]) == 3:
            break
    accepted = [n for n, (status, _, _) in enumerate(answers) if status == 200]
    refused = answers[len(accepted):]
    assert 5 <= len(accepted) < 40 and accepted == list(range(len(accepted))), answers
    assert refused == [(503, b"not stored (spool full); retry\n", "30")] * 3
    stop(proc)
    counts = stats(tmp_path)["/zoom"]["127.0.0.1"]
    assert counts["accepted"] == len(accepted) and counts["dropped"] == 3 and "timeouts" not in counts
    assert b"A webhook delivery was refused." in (tmp_path / "agent.log").read_bytes()

    # the next start, with a working output: exactly the deliveries answered 200 come out of the spool
    settings["outputs"] = [{"type": "file", "path": str(tmp_path / "out" / "events.ndjson")}]
    cfg.write_text(yaml.safe_dump(settings))
    proc = start(cfg)
    wait_for(lambda: len(of("zoom.webhook", tmp_path)) >= len(accepted), timeout=60, what="the spooled deliveries")
    time.sleep(1.0)  # anything more would arrive with them
    stop(proc)
    got = sorted(orjson.loads(e["event"]["original"])["event_ts"] for e in of("zoom.webhook", tmp_path))
    assert got == [1_700_000_000_000 + n for n in accepted]


def test_failed_tls_handshakes_are_counted_and_logged_per_peer(tmp_path: Path) -> None:
    """A client that does not trust the agent's certificate, plain HTTP on the TLS port, and (mutual TLS) a
    client without a certificate: each fails the handshake, is counted for its peer and logged; the
    listener still serves the real sender."""
    port, certs = free_port(), make_certs(tmp_path / "certs")
    proc = start(config(tmp_path, port, certs))
    wait_up(tmp_path)
    distrusting = ssl.create_default_context(cafile=str(certs.other_ca))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, \
            contextlib.suppress(ssl.SSLCertVerificationError):
        distrusting.wrap_socket(sock, server_hostname="127.0.0.1")
        raise AssertionError("the client trusted a certificate of another CA")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /zoom HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        assert sock.recv(1024) == b""  # closed without an answer
    body, _ = zoom_deliveries()[0]
    assert Client(port, certs).zoom(body) == (200, b"ok")
    wait_for(lambda: b"failed the TLS handshake" in (tmp_path / "agent.log").read_bytes(), what="the log line")
    stop(proc)
    assert stats(tmp_path)["tls_failures"] == {"127.0.0.1": 2}
    logged = [orjson.loads(raw) for raw in (tmp_path / "agent.log").read_bytes().splitlines()
              if b"failed the TLS handshake" in raw]
    assert logged and logged[0]["peer"] == "127.0.0.1" and logged[0]["error"]  # once a minute per peer

    mutual = tmp_path / "mutual"
    mutual.mkdir()
    cfg = config(mutual, port, certs)
    settings = yaml.safe_load(cfg.read_text())
    settings["inputs"][0]["tls"]["client_ca_file"] = str(certs.ca)
    cfg.write_text(yaml.safe_dump(settings))
    proc = start(cfg)
    wait_up(mutual)
    status: int | None = None
    with contextlib.suppress(ssl.SSLError, ConnectionError):  # TLS 1.3: refused after the client's Finished
        status = Client(port, certs).zoom(body)[0]
    assert status is None, "a client without a certificate was served under mutual TLS"
    stop(proc)
    assert stats(mutual)["tls_failures"] == {"127.0.0.1": 1}
