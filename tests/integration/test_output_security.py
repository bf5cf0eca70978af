"""Outputs against hostile networks and hostile log lines, with the real agent and the real Elasticsearch and Kafka.

* TLS to Elasticsearch at an IP address: the node sits behind our own TLS-terminating relay (tlsproxy.py), which
  shows each test a different certificate and records what a client sent once it trusted one. A certificate
  for another name, or from another CA, must stop the agent before a byte (or a password) crosses.
* Cleartext and unverified outputs are warned about at every start.
* index_mode: index: a line dated year 1 or 9999 must not create an index outside the templates' patterns.
"""

from __future__ import annotations

import base64
import fnmatch
import re
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.agenthelp import run_once, start, write_lines
from tests.integration.eshelp import (
    ES_URL,
    cleanup,
    es_config,
    json_lines,
    new_namespace,
    pattern,
    reachable,
    records,
    resolve,
    search_all,
    summary,
)
from tests.integration.kafkahelp import KAFKA, agent_log, run_async, topic_prefix
from tests.integration.tlsproxy import Certs, TlsProxy, make_certs
from ucsiem.config import ElasticsearchOutputConfig, parse_config
from ucsiem.errors import OutputError
from ucsiem.outputs.elasticsearch import ElasticsearchOutput
from ucsiem.outputs.es_setup import DAILY_PATTERNS

OUTPUT = "elasticsearch:es"
DATASET = "test.lines"
PASSWORD = "pw-7c1d9e4b-never-in-logs"  # the node has security off: it ignores it; the relay sees it
NOT_PRIVATE = "Output is not private: its traffic can be read or redirected on the network."
UPSTREAM = (urlsplit(ES_URL).hostname or "127.0.0.1", urlsplit(ES_URL).port or 9200)


@pytest.fixture(scope="module", autouse=True)
def _node() -> None:
    problem = reachable()
    if problem is not None:
        pytest.fail(f"no Elasticsearch at {ES_URL} ({problem}): run `bash scripts/services.sh start es` first")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def ns() -> Iterator[str]:
    namespace = new_namespace("sec")
    yield namespace
    cleanup(namespace)


def secret_file(path: Path, secret: str) -> Path:
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def tls_es(tmp: Path, proxy: TlsProxy, ns: str, *, log: Path, **extra: Any) -> Path:
    es = {"username": "ucsiem", "password_file": str(secret_file(tmp / "es.pw", PASSWORD)), **extra}
    return es_config(tmp, [str(log)], hosts=[proxy.url], namespace=ns, file_output=False, es=es,
                     pipeline={"shutdown_timeout_secs": 2})


def refused_start(cfg: dict[str, Any]) -> OutputError:
    """Start the Elasticsearch output of this config (validated as `ucsiem run` would) and return its error."""
    output_cfg = parse_config({"inputs": [{"id": "a", "paths": ["x"], "parser": "linetest"}], "outputs": [cfg]},
                              "test").outputs[0]
    assert isinstance(output_cfg, ElasticsearchOutputConfig)
    output = ElasticsearchOutput(output_cfg)

    async def go() -> None:
        try:
            await output.start()
        finally:
            await output.close()

    with pytest.raises(OutputError) as info:
        run_async(go(), 30)
    return info.value


def assert_nothing_disclosed(proxy: TlsProxy) -> None:
    # the client gives up as soon as it refuses the certificate; the proxy's side of that connection may
    # record its end a moment later
    deadline = time.monotonic() + 10
    while not proxy.handshake_errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proxy.handshake_errors, "the client never tried"
    assert proxy.handshakes == 0, "a client completed the handshake with a certificate it must refuse"
    assert proxy.received == b"", f"the client sent {proxy.received[:300]!r} to an untrusted server"


# -- 1. TLS to an IP address ------------------------------------------------------------------------


def test_certificate_for_another_name_stops_the_agent_before_any_byte_is_sent(tmp_path: Path, ns: str,
                                                                               certs: Certs) -> None:
    """The certificate is signed by the very CA we trust, but names wrong.example, not 127.0.0.1."""
    log = tmp_path / "a.log"
    write_lines(log, 0, 20)
    with TlsProxy(UPSTREAM, certs.wrong_name) as proxy:
        config = tls_es(tmp_path, proxy, ns, log=log, tls={"ca_file": str(certs.ca)})
        proc = start(config)
        deadline = time.monotonic() + 60
        failed: list[dict[str, Any]] = []
        while not failed:
            assert time.monotonic() < deadline, f"no TLS failure logged in 60 s:\n{agent_log(config)}"
            assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{agent_log(config)}"
            time.sleep(0.2)
            failed = [r for r in json_lines(agent_log(config, None)) if r.get("output") == OUTPUT
                      and str(r.get("message", "")).startswith("Output failed; retrying")]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert_nothing_disclosed(proxy)

    assert "IP address mismatch" in failed[0]["error"], failed[0]
    assert "TLS with Elasticsearch failed" in failed[0]["error"]
    text = agent_log(config, None, library=True)
    assert PASSWORD not in text and base64.b64encode(f"ucsiem:{PASSWORD}".encode()).decode() not in text
    assert resolve(f"logs-uc.*-{ns}*")["data_streams"] == []


def test_certificate_from_another_ca_is_refused(certs: Certs) -> None:
    """tls.ca_file replaces the trust store: a valid certificate for 127.0.0.1 from any other CA is refused."""
    with TlsProxy(UPSTREAM, certs.other_signer) as proxy:
        error = refused_start({"type": "elasticsearch", "hosts": [proxy.url], "tls": {"ca_file": str(certs.ca)}})
        assert_nothing_disclosed(proxy)
    assert "certificate verify failed" in str(error) and "IP address mismatch" not in str(error)


def test_certificate_for_the_ip_from_the_private_ca_delivers_every_event(tmp_path: Path, ns: str,
                                                                          certs: Certs) -> None:
    n = 200
    log = tmp_path / "a.log"
    write_lines(log, 0, n)
    with TlsProxy(UPSTREAM, certs.ip) as proxy:
        config = tls_es(tmp_path, proxy, ns, log=log, tls={"ca_file": str(certs.ca)})
        result = run_once(config, timeout=120)
        sent = proxy.received
    assert result.returncode == 0, result.stderr[-3000:]
    out = summary(result.stderr)["outputs"][OUTPUT]
    assert (out["delivered"], out["dead_letters"]) == (n, {})
    assert len(search_all(pattern(ns))) == n
    # The relay did see the credentials: the refusals above are the only thing that kept them from it.
    token = base64.b64encode(f"ucsiem:{PASSWORD}".encode())
    assert re.search(rb"(?im)^authorization: basic " + re.escape(token) + rb"\r$", sent), sent[:500]
    assert PASSWORD not in result.stderr and token.decode() not in result.stderr
    assert records(result.stderr, NOT_PRIVATE) == []


def test_check_hostname_false_is_honoured_and_warned_at_start(tmp_path: Path, ns: str, certs: Certs) -> None:
    """check_hostname: false (no credentials, so no allow_insecure needed): the chain is still checked."""
    n = 30
    log = tmp_path / "a.log"
    write_lines(log, 0, n)
    with TlsProxy(UPSTREAM, certs.wrong_name) as proxy:
        config = es_config(tmp_path, [str(log)], hosts=[proxy.url], namespace=ns, file_output=False,
                           es={"tls": {"ca_file": str(certs.ca), "check_hostname": False}})
        result = run_once(config, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary(result.stderr)["outputs"][OUTPUT]["delivered"] == n
    warned = records(result.stderr, NOT_PRIVATE)
    assert len(warned) == 1 and warned[0]["level"] == "WARNING" and warned[0]["output"] == OUTPUT
    assert warned[0]["problems"] == ["tls.check_hostname: false: any certificate the trusted CAs signed is "
                                     "accepted for any node name"]
    with TlsProxy(UPSTREAM, certs.other_signer) as proxy:  # ... but only from the CA of tls.ca_file
        refused_start({"type": "elasticsearch", "hosts": [proxy.url],
                       "tls": {"ca_file": str(certs.ca), "check_hostname": False}})
        assert_nothing_disclosed(proxy)


# -- 2. cleartext is warned about ------------------------------------------------------------------------


def test_cleartext_outputs_are_warned_about_at_start(tmp_path: Path, ns: str) -> None:
    """The shared node (http://) and broker (PLAINTEXT) take the events, and each output warns once, loudly."""
    n = 10
    log = tmp_path / "a.log"
    write_lines(log, 0, n)
    config = es_config(tmp_path, [str(log)], hosts=[ES_URL], namespace=ns, file_output=False)
    settings = yaml.safe_load(config.read_text())
    settings["outputs"].append({"type": "kafka", "id": "k", "bootstrap_servers": [KAFKA],
                                "topic": topic_prefix("cleartext")})
    config.write_text(yaml.safe_dump(settings))
    result = run_once(config, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    delivered = {name: out["delivered"] for name, out in summary(result.stderr)["outputs"].items()}
    assert delivered == {OUTPUT: n, "kafka:k": n}
    warned = records(result.stderr, NOT_PRIVATE)
    assert sorted(r["output"] for r in warned) == [OUTPUT, "kafka:k"]
    assert all(r["level"] == "WARNING" and r["allow_insecure"] is False for r in warned)
    problems = {r["output"]: r["problems"] for r in warned}
    assert problems == {OUTPUT: ["http:// hosts: events go to Elasticsearch in cleartext"],
                        "kafka:k": ["no tls: events go to Kafka in cleartext (PLAINTEXT)"]}


# -- 3. index names from log content -------------------------------------------------------------------


def test_index_dates_outside_the_window_go_to_the_ingest_day(tmp_path: Path, ns: str) -> None:
    """Year 1 and 9999 (and a year-old stamp with a 30-day window) land in the index of their ingest day;
    a stamp inside the window keeps its own day. Every index matches the daily template's patterns."""
    recent = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    old = recent - timedelta(days=400)
    stamps = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00+00:00", recent.isoformat(), old.isoformat()]
    n = 40
    (tmp_path / "a.log").write_text("".join(f"{stamps[i % 4]} seq={i} payload\n" for i in range(n)))
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[ES_URL], namespace=ns,
                       es={"index_mode": "index", "index_date_window_days": 30})
    result = run_once(config, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary(result.stderr)["outputs"][OUTPUT]["delivered"] == n

    prefix = f"logs-uc.{DATASET}-{ns}"
    hits = search_all(f"{prefix}-*")
    assert len(hits) == n
    for hit in hits:
        source = hit["_source"]
        seq = int(source["labels"]["seq"])
        ingested = datetime.fromisoformat(source["event"]["ingested"])
        day = recent if seq % 4 == 2 else ingested
        assert hit["_index"] == f"{prefix}-{day:%Y.%m.%d}", (seq, source["@timestamp"])
        assert source["@timestamp"].startswith(stamps[seq % 4][:10]), "the event keeps its own time"
    names = {i["name"] for i in resolve(f"{prefix}-*")["indices"]}
    assert 1 <= len(names) <= 3  # the recent day, and the ingest day (twice if the run crossed midnight)
    assert all(any(fnmatch.fnmatchcase(name, p) for p in DAILY_PATTERNS) for name in names), names

