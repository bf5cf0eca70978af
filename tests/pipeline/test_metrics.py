"""Metrics, health and readiness of the real agent over real sockets; `ucsiem status`; `ucsiem test output`
against the real Kafka and Elasticsearch and against closed ports; the progress line under a terminal."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from tests.agenthelp import make_config, start, stop, write_lines
from tests.integration.eshelp import ES_URL, cleanup, es_config, new_namespace, reachable
from tests.integration.faultproxy import FaultProxy
from tests.integration.kafkahelp import KAFKA

GOOD, NO_MATCH, BAD_TIME = 20, 3, 2
OUT = "file:{tmp}/out/events.ndjson"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_metrics(config: Path, port: int) -> Path:
    doc = yaml.safe_load(config.read_text())
    doc["agent"]["metrics"] = {"address": "127.0.0.1", "port": port}
    doc["agent"]["log_level"] = "warning"
    config.write_text(yaml.safe_dump(doc))
    return config


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = get(port, "/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, KeyError, AssertionError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def feed(log: Path, start_seq: int = 0) -> None:
    write_lines(log, start_seq, start_seq + GOOD)
    with log.open("a") as fh:
        fh.write("garbage line\n" * NO_MATCH + "yesterday seq=1 x\n" * BAD_TIME)


def ucsiem(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ucsiem", *args], capture_output=True, text=True, timeout=120,
                          check=False, **kwargs)


def test_metrics_count_what_was_fed_and_status_shows_it(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    feed(log)
    port = free_port()
    config = with_metrics(make_config(tmp_path, [str(tmp_path / "*.log")]), port)
    proc = start(config)
    out = OUT.format(tmp=tmp_path)
    total = GOOD + NO_MATCH + BAD_TIME
    wait_for("every event delivered", lambda: value(scrape(port), "ucsiem_output_delivered_total", output=out) == total)

    m = scrape(port)
    stream = {"input": "test", "stream": "test", "parser": "linetest"}
    assert value(m, "ucsiem_records_total", **stream) == total
    assert value(m, "ucsiem_events_total", **stream) == GOOD  # dead letters are counted apart, by code
    assert value(m, "ucsiem_dead_letters_total", **stream, code="no_match") == NO_MATCH
    assert value(m, "ucsiem_dead_letters_total", **stream, code="bad_timestamp") == BAD_TIME
    assert value(m, "ucsiem_input_bytes_total", input="test", type="file") == log.stat().st_size
    assert value(m, "ucsiem_output_retries_total", output=out) == 0
    assert value(m, "ucsiem_output_auth_failures_total", output=out) == 0
    assert value(m, "ucsiem_output_up", output=out) == 1
    assert value(m, "ucsiem_output_queued_events", output=out) == 0
    assert value(m, "ucsiem_output_send_seconds_count", output=out) >= 1
    assert value(m, "ucsiem_output_send_seconds_bucket", output=out, le="+Inf") == value(
        m, "ucsiem_output_send_seconds_count", output=out)
    assert value(m, "ucsiem_worker_restarts_total") == 0
    assert value(m, "ucsiem_ready") == 1
    assert ("process_resident_memory_bytes", frozenset()) in m  # from /proc/self: the unit hides /proc/stat
    assert m[("process_cpu_seconds_total", frozenset())] > 0 and ("process_open_fds", frozenset()) in m
    wait_for("the file's position acknowledged", lambda: value(
        scrape(port), "ucsiem_file_lag_bytes", input="test", path=str(log)) == 0)
    assert value(scrape(port), "ucsiem_file_lag_seconds", input="test", path=str(log)) == 0

    status, body = get(port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "alive"
    status, body = get(port, "/readyz")
    assert (status, json.loads(body)) == (200, {"ready": True})
    assert get(port, "/nothing")[0] == 404

    shown = ucsiem("status", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert ": READY, up " in text.splitlines()[0]
    assert f"  test (file): {log.stat().st_size} B read, {total} records, {GOOD} events, 5 dead letters" in text
    assert f"  {out}: up, {total} delivered, 0 queued (0 B), 0 retries" in text
    assert "dead letters: bad_timestamp 2, no_match 3" in text
    by_url = ucsiem("status", "--url", f"http://127.0.0.1:{port}/")
    assert by_url.returncode == 0 and by_url.stdout.splitlines()[1:] == text.splitlines()[1:]

    write_lines(log, 1000, 1010)  # counters follow the live agent
    wait_for("ten more", lambda: value(scrape(port), "ucsiem_records_total", **stream) == total + 10)
    stop(proc)
    gone = ucsiem("status", "--url", f"http://127.0.0.1:{port}")
    assert gone.returncode == 1
    assert gone.stderr.startswith(f"ucsiem: cannot reach the agent at http://127.0.0.1:{port}/metrics: ")


def test_a_reload_serves_the_endpoint_again_with_the_new_agent(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_lines(log, 0, 7)
    port = free_port()
    config = with_metrics(make_config(tmp_path, [str(log)]), port)
    proc = start(config)
    stream = {"input": "test", "stream": "test", "parser": "linetest"}
    wait_for("7 records", lambda: value(scrape(port), "ucsiem_records_total", **stream) == 7)
    proc.send_signal(signal.SIGHUP)  # the same config: the next agent binds the same port once the old one let go
    wait_for("the next agent", lambda: ("ucsiem_records_total", frozenset(stream.items())) not in scrape(port))
    write_lines(log, 7, 10)
    wait_for("the next agent's counters", lambda: value(scrape(port), "ucsiem_records_total", **stream) == 3)
    assert get(port, "/readyz")[0] == 200
    stop(proc)


def test_spool_depth_and_file_size(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_lines(log, 0, 40)
    port = free_port()
    config = with_metrics(make_config(tmp_path, [str(log)]), port)
    doc = yaml.safe_load(config.read_text())
    doc["spool"] = {"enabled": True, "max_bytes": 1_048_576}
    config.write_text(yaml.safe_dump(doc))
    proc = start(config)
    out = OUT.format(tmp=tmp_path)
    wait_for("40 delivered", lambda: value(scrape(port), "ucsiem_output_delivered_total", output=out) == 40)
    wait_for("the spool emptied", lambda: value(scrape(port), "ucsiem_spool_bytes") == 0)
    m = scrape(port)
    assert value(m, "ucsiem_spool_max_bytes") == 1_048_576
    assert value(m, "ucsiem_spool_batches") == 0 and value(m, "ucsiem_output_queued_events", output=out) == 0
    spool = tmp_path / "state" / "spool.db"
    wait_for("the file size as on disk", lambda: value(scrape(port), "ucsiem_spool_file_bytes") == sum(
        p.stat().st_size for p in (spool, spool.with_name("spool.db-wal")) if p.exists()) > 0)
    assert "spool: 0 B of 1.0 MiB (" in ucsiem("status", "--config", str(config)).stdout
    stop(proc)


def test_readyz_follows_a_paused_elasticsearch_output(tmp_path: Path) -> None:
    assert (problem := reachable()) is None, f"Elasticsearch at {ES_URL}: {problem}"
    namespace = new_namespace("metrics")
    port = free_port()
    try:
        with FaultProxy(ES_URL) as proxy:
            log = tmp_path / "app.log"
            write_lines(log, 0, 10)
            config = with_metrics(es_config(tmp_path, [str(log)], hosts=[proxy.url], namespace=namespace,
                                             file_output=False), port)
            start(config)
            wait_for("ready", lambda: get(port, "/readyz")[0] == 200)
            wait_for("10 delivered", lambda: value(scrape(port), "ucsiem_output_delivered_total",
                                                   output="elasticsearch:es") == 10)

            proxy.inject(503, seconds=600)  # every bulk request fails: the output retries and delivers nothing
            write_lines(log, 10, 20)
            wait_for("not ready", lambda: get(port, "/readyz")[0] == 503)
            body = get(port, "/readyz")[1]
            reasons = json.loads(body)["reasons"]
            assert len(reasons) == 1 and reasons[0].startswith("output elasticsearch:es: paused, nothing delivered "
                                                               "for "), reasons
            assert "503" in reasons[0]
            m = scrape(port)
            assert value(m, "ucsiem_output_up", output="elasticsearch:es") == 0
            assert value(m, "ucsiem_output_retries_total", output="elasticsearch:es") >= 1
            assert value(m, "ucsiem_ready") == 0
            shown = ucsiem("status", "--url", f"http://127.0.0.1:{port}")
            assert shown.returncode == 1
            assert ": NOT READY, up " in shown.stdout.splitlines()[0]
            assert "  not ready: output elasticsearch:es: paused" in shown.stdout
            assert "  elasticsearch:es: PAUSED, 10 delivered, 10 queued" in shown.stdout

            proxy.clear()
            wait_for("ready again", lambda: get(port, "/readyz")[0] == 200)
            wait_for("20 delivered", lambda: value(scrape(port), "ucsiem_output_delivered_total",
                                                   output="elasticsearch:es") == 20)
    finally:
        cleanup(namespace)


def test_readyz_says_an_output_never_connected(tmp_path: Path) -> None:
    port = free_port()
    write_lines(tmp_path / "app.log", 0, 3)
    config = with_metrics(es_config(tmp_path, [str(tmp_path / "app.log")], hosts=[f"http://127.0.0.1:{free_port()}"],
                                    namespace="never", file_output=False), port)
    start(config)
    wait_for("the endpoint", lambda: get(port, "/healthz")[0] == 200)
    status, body = get(port, "/readyz")
    assert status == 503
    (reason,) = json.loads(body)["reasons"]
    assert reason.startswith("output elasticsearch:es: not connected: elasticsearch:es: cannot reach Elasticsearch")


def test_metrics_port_taken_is_logged_and_the_agent_runs(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        write_lines(tmp_path / "app.log", 0, 5)
        config = with_metrics(make_config(tmp_path, [str(tmp_path / "app.log")]), port)
        done = ucsiem("run", "--once", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "Metrics and health endpoints cannot listen; the agent runs without them." in done.stderr
    assert (tmp_path / "out" / "events.ndjson").read_text().count("\n") == 5


# -- ucsiem test output -------------------------------------------------------------------------------------


def probe_config(tmp: Path, outputs: list[dict[str, Any]]) -> Path:
    config = make_config(tmp, [str(tmp / "*.log")])
    doc = yaml.safe_load(config.read_text())
    doc["outputs"] = outputs
    config.write_text(yaml.safe_dump(doc))
    return config


async def _topics(*, create: list[str] | None = None, delete: list[str] | None = None) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        if create:
            await admin.create_topics([NewTopic(t, 2, 1) for t in create])
        if delete:
            await admin.delete_topics(delete)
    finally:
        await admin.close()


def test_test_output_against_the_real_services(tmp_path: Path) -> None:
    assert (problem := reachable()) is None, f"Elasticsearch at {ES_URL}: {problem}"
    prefix = f"probe{uuid.uuid4().hex[:8]}"
    asyncio.run(_topics(create=[f"{prefix}.test.lines"]))
    try:
        config = probe_config(tmp_path, [
            {"type": "file", "path": str(tmp_path / "out" / "new" / "events.ndjson")},
            {"type": "kafka", "id": "ready", "bootstrap_servers": [KAFKA], "topic": prefix + ".{event.dataset}"},
            {"type": "kafka", "id": "later", "bootstrap_servers": [KAFKA], "topic": prefix + "x.{event.dataset}"},
            {"type": "elasticsearch", "id": "es", "hosts": [ES_URL]},
        ])
        done = ucsiem("test", "output", "--config", str(config))
    finally:
        asyncio.run(_topics(delete=[f"{prefix}.test.lines"]))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, lines
    assert lines[0] == (f"file:{tmp_path}/out/new/events.ndjson ... OK  {tmp_path}/out/new does not exist yet; the "
                        f"output creates it in {tmp_path} (writable, ") + lines[0].split("(writable, ")[1]
    assert lines[1] == (f"kafka:ready ... OK  1 broker(s) at {KAFKA}; topics ready: {prefix}.test.lines "
                        "(2 partitions)")
    assert lines[2].startswith(f"kafka:later ... OK  1 broker(s) at {KAFKA}; not created yet ")
    assert lines[2].endswith(f": {prefix}x.test.lines")
    assert lines[3].startswith(f"elasticsearch:es ... OK  {ES_URL}: ")
    assert " cluster " in lines[3] and "privileges not checked (security is off on this cluster)" in lines[3]
    assert not (tmp_path / "out" / "new").exists()  # nothing created by a test
    assert "WARNING: outputs[1] (kafka:ready): no tls" in done.stderr  # the check's own warnings, not the libraries'
    assert "aiokafka" not in done.stderr and "elastic_transport" not in done.stderr


def test_test_output_says_what_is_wrong_in_one_line_each(tmp_path: Path) -> None:
    closed = free_port()
    (tmp_path / "afile").write_text("")
    config = probe_config(tmp_path, [
        {"type": "file", "path": str(tmp_path / "afile" / "events.ndjson")},
        {"type": "kafka", "bootstrap_servers": [f"127.0.0.1:{closed}"]},
        {"type": "elasticsearch", "hosts": [f"http://127.0.0.1:{closed}"]},
        {"type": "stdout"},
    ])
    done = ucsiem("test", "output", "--config", str(config), "--timeout", "20")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 4, lines
    assert lines[0] == f"file:{tmp_path}/afile/events.ndjson ... FAIL  {tmp_path}/afile is not a folder (output " \
                       f"path: {tmp_path}/afile/events.ndjson)"
    assert lines[1].startswith(f"kafka:kafka ... FAIL  cannot connect to Kafka at 127.0.0.1:{closed}: ")
    assert "Connect call failed" in lines[1]
    assert lines[2] == (f"elasticsearch:elasticsearch ... FAIL  cannot reach Elasticsearch: Cannot connect to host "
                        f"127.0.0.1:{closed} [Connect call failed ('127.0.0.1', {closed})]")  # no aiohttp ssl:default
    assert lines[3] == "stdout ... OK  standard output"


# -- progress -----------------------------------------------------------------------------------------------


def under_terminal(args: list[str], stdout: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; what it showed there."""
    master, slave = pty.openpty()
    with stdout.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ucsiem", *args], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=120), shown.decode("utf-8", "replace")


def big_log(tmp: Path, lines: int = 60_000) -> Path:
    log = tmp / "big.log"
    write_lines(log, 0, lines)
    return log


def test_parse_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    from tests.agenthelp import PLUGINS

    log = big_log(tmp_path)
    args = ["parse", "--parser", "linetest", "--parser-dir", str(PLUGINS), str(log)]
    code, shown = under_terminal(args, tmp_path / "events.ndjson")
    assert code == 0, shown
    final = [part for part in shown.split("\r") if "lines" in part][-1]
    assert final.startswith("[####################] 100%  ")
    assert "60,000 lines" in final and "done in " in final and "\x1b[K" in final
    assert (tmp_path / "events.ndjson").read_text().count("\n") == 60_000
    piped = ucsiem(*args)
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and "lines" not in piped.stderr  # stderr is not a terminal: no progress
    assert json.loads(piped.stderr)["records"] == 60_000


def test_run_once_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    big_log(tmp_path, 30_000)
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    doc = yaml.safe_load(config.read_text())
    doc["agent"]["log_level"] = "warning"
    config.write_text(yaml.safe_dump(doc))
    code, shown = under_terminal(["run", "--once", "--config", str(config)], tmp_path / "stdout")
    assert code == 0, shown
    final = [part for part in shown.split("\r") if " lines " in part][-1]
    assert final.startswith("[####################] 100%  ") and "30,000 lines" in final and "done in " in final
    summary = json.loads(shown.splitlines()[-1])  # the summary on a line of its own after the progress
    assert summary["records"] == 30_000
    for stale in ("state", "out"):
        subprocess.run(["rm", "-rf", str(tmp_path / stale)], check=True)
    piped = ucsiem("run", "--once", "--config", str(config))
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and " lines " not in piped.stderr


def test_status_needs_an_endpoint(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    done = ucsiem("status", "--config", str(config))
    assert done.returncode == 1
    assert done.stderr.startswith("ucsiem: agent.metrics is not set in the configuration")
