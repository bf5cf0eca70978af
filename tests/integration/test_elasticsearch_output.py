"""The Elasticsearch output end to end: the real agent (`python -m ucsiem run`) against the real node.

The node is the one `bash scripts/services.sh start es` runs (http://127.0.0.1:19200); these tests fail,
never skip, when it is not there. Faults are injected by our own reverse proxy (faultproxy.py), which
forwards everything else verbatim to that node: nothing of Elasticsearch is mocked. Each test writes to
its own namespace, so each sees only its own data streams (`logs-uc.<dataset>-<namespace>`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.agenthelp import events, line, run_once, start, stop, write_lines
from tests.integration.eshelp import (
    ES_URL,
    cleanup,
    count,
    delete_index_template,
    es_config,
    flat_mapping,
    index_mappings,
    json_lines,
    new_namespace,
    pattern,
    put_index_template,
    reachable,
    records,
    request,
    resolve,
    search_all,
    summary,
    top_term_count,
    wait_until,
)
from tests.integration.faultproxy import FaultProxy
from ucsiem.outputs.es_setup import INDEX_TEMPLATE_NAME, templates
from ucsiem.pipeline.delivery import AUTH_DELAY_SECS

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "audiocodes_sbc"
OUTPUT = "elasticsearch:es"  # output_name() of the output es_config adds (id "es")
DATASET = "test.lines"  # tests/fixtures/plugins/linetest
RUN_TIMEOUT = 120.0


@pytest.fixture(scope="module", autouse=True)
def _node() -> None:
    problem = reachable()
    if problem is not None:
        pytest.fail(f"no Elasticsearch at {ES_URL} ({problem}): run `bash scripts/services.sh start es` first")


@pytest.fixture
def ns() -> Iterator[str]:
    """A namespace of this test's own; what it wrote is freed afterwards."""
    namespace = new_namespace("t")
    yield namespace
    cleanup(namespace)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(ES_URL) as p:
        yield p


def canonical(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def run(config: Path) -> tuple[dict[str, Any], str]:
    """`ucsiem run --once`: (the summary of our Elasticsearch output, the agent's stderr)."""
    result = run_once(config, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr[-5000:]
    out: dict[str, Any] = summary(result.stderr)["outputs"][OUTPUT]
    return out, result.stderr


def assert_each_seq_once(target: str, n: int) -> None:
    """n documents, n distinct labels.seq and n distinct event.id (pigeonhole: every line exactly once)."""
    assert count(target) == n
    assert top_term_count(target, "labels.seq") == (n, 1)
    assert top_term_count(target, "event.id") == (n, 1)


# -- 1. field for field ----------------------------------------------------------------------------------


def test_sample_log_events_arrive_field_for_field(tmp_path: Path, ns: str) -> None:
    samples = sorted(SAMPLES.glob("*.log"))
    assert samples, f"no sample logs in {SAMPLES}"
    config = es_config(tmp_path, [str(SAMPLES / "*.log")], hosts=[ES_URL], namespace=ns, parser="audiocodes_sbc")
    out, _ = run(config)

    written = events(tmp_path)  # what the file output got: the same serialized events
    assert len(written) >= 5
    hits = search_all(pattern(ns))
    assert Counter(canonical(h["_source"]) for h in hits) == Counter(canonical(e) for e in written)
    for hit in hits:
        source = hit["_source"]
        assert hit["_id"] == source["event"]["id"]
        assert hit["_index"].startswith(f".ds-logs-uc.{source['event']['dataset']}-{ns}-")  # a data stream
    assert out == {"delivered": len(written), "duplicates": 0, "retries": 0, "retried_documents": 0,
                   "auth_failures": 0, "dead_letters": {}, "dead_letters_local": 0}

    component, _ = templates()
    ours = flat_mapping(component["template"]["mappings"]["properties"])
    mappings = index_mappings(pattern(ns))
    assert mappings
    for index, fields in mappings.items():
        assert fields["source.ip"] == "ip" and fields["@timestamp"] == "date", index
        assert {f: fields.get(f) for f in ours} == ours, f"{index} lacks the template's mappings"


# -- 2. crash and restart ----------------------------------------------------------------------------------


def committed_lines(tmp: Path, log: Path) -> int:
    """Lines before the offset the checkpoints hold for `log` (what a restart does not read again)."""
    checkpoints = json.loads((tmp / "state" / "checkpoints.json").read_text())
    entries = [e for e in checkpoints["inputs"]["test"].values() if e["path"] == str(log)]
    assert len(entries) == 1, checkpoints
    offset = int(entries[0]["offset"])
    head = log.read_bytes()[:offset]
    assert not head or head.endswith(b"\n"), f"offset {offset} is not at a line boundary"
    return head.count(b"\n")


def settled_count(target: str, quiet_secs: float = 1.5, timeout: float = 30.0) -> int:
    """The count once it stopped moving (the node finishes a bulk request its client died in)."""
    deadline = time.monotonic() + timeout
    last, since = count(target), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = count(target)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_secs:
            return now
    raise AssertionError(f"the count of {target} kept moving for {timeout}s")


def test_sigkill_mid_stream_then_restart_indexes_every_line_exactly_once(tmp_path: Path, ns: str) -> None:
    n = 100_000
    log = tmp_path / "big.log"
    write_lines(log, 0, n, mode="w")
    config = es_config(tmp_path, [str(log)], hosts=[ES_URL], namespace=ns, file_output=False)
    stream = f"logs-uc.{DATASET}-{ns}"

    first = start(config)
    wait_until(lambda: first.poll() is not None or count(stream) >= n // 2, 120, "half of the lines indexed",
               interval=0.25)
    assert first.poll() is None, "the agent ended before it was killed; see agent.log"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL

    at_kill = settled_count(stream)
    committed = committed_lines(tmp_path, log)
    assert committed <= at_kill < n, "everything checkpointed must be indexed (and the kill came mid-stream)"

    second = start(config)
    wait_until(lambda: second.poll() is not None or count(stream) >= n, 180, "all lines indexed", interval=0.5)
    assert second.poll() is None, "the restarted agent ended; see agent.log"
    assert count(stream) == n
    time.sleep(2.0)
    assert count(stream) == n, "documents kept arriving after all lines were indexed"
    stop(second)

    assert_each_seq_once(stream, n)
    stopped = records((tmp_path / "agent.log").read_text(), "Agent stopped.")
    assert len(stopped) == 1, "only the restarted agent stops cleanly"
    out = stopped[0]["stats"]["outputs"][OUTPUT]
    # The restart re-reads from the checkpoint: what the node had already comes back as 409, the rest is new.
    assert out["delivered"] == n - committed
    assert out["duplicates"] == at_kill - committed
    assert (out["retries"], out["auth_failures"], out["dead_letters"], out["dead_letters_local"]) == (0, 0, {}, 0)


# -- 3. the node pushes back -------------------------------------------------------------------------------


def test_bulk_429_with_retry_after_then_recovery(tmp_path: Path, ns: str, proxy: FaultProxy) -> None:
    n = 5_000
    write_lines(tmp_path / "a.log", 0, n)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[proxy.url], namespace=ns, file_output=False)
    proxy.inject(429, count=5)  # with Retry-After: 1
    out, stderr = run(config)

    assert_each_seq_once(pattern(ns), n)
    assert proxy.outcomes()["injected:429"] == 5
    assert out["retries"] == 5 and out["retried_documents"] > 0
    assert (out["delivered"], out["duplicates"], out["dead_letters"], out["auth_failures"]) == (n, 0, {}, 0)

    bulk = proxy.hits("/_bulk")
    assert [h.outcome for h in bulk[:6]] == ["injected:429"] * 5 + ["forwarded"]
    gaps = [b.at - a.at for a, b in pairwise(bulk[:6])]
    assert min(gaps) >= 0.95, f"Retry-After: 1 not honoured: {gaps}"

    logged = records(stderr, "Output failed; retrying")
    assert len(logged) == 5
    for record in logged:
        assert record["level"] == "ERROR" and record["output"] == OUTPUT
        assert "429" in record["error"] and "es_rejected_execution_exception" in record["error"]
        assert record["retry_after"] == 1.0
        # The wait the log announces is the wait the agent makes (Retry-After: 1, so at least a second).
        assert record["retry_in_secs"] >= record["retry_after"], record


def test_bulk_503_is_retried_with_backoff(tmp_path: Path, ns: str, proxy: FaultProxy) -> None:
    n = 3_000
    write_lines(tmp_path / "a.log", 0, n)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[proxy.url], namespace=ns, file_output=False)
    proxy.inject(503, count=3)
    out, stderr = run(config)

    assert_each_seq_once(pattern(ns), n)
    assert proxy.outcomes()["injected:503"] == 3
    assert (out["retries"], out["delivered"], out["duplicates"], out["dead_letters"]) == (3, n, 0, {})
    logged = records(stderr, "Output failed; retrying")
    assert len(logged) == 3
    assert all("503" in r["error"] and r["retry_after"] is None for r in logged)
    bulk = proxy.hits("/_bulk")
    assert [h.outcome for h in bulk[:4]] == ["injected:503"] * 3 + ["forwarded"]
    assert min(b.at - a.at for a, b in pairwise(bulk[:4])) >= 0.09  # the first backoff: 0.2 s +-50 %


def test_bulk_items_refused_with_429_are_sent_again(tmp_path: Path, ns: str, proxy: FaultProxy) -> None:
    """The usual form of push-back: a 200 bulk answer whose items failed with 429."""
    n = 3_000
    write_lines(tmp_path / "a.log", 0, n)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[proxy.url], namespace=ns, file_output=False)
    proxy.inject(429, count=3, items=True)
    out, stderr = run(config)

    assert_each_seq_once(pattern(ns), n)
    assert proxy.outcomes()["items:429"] == 3
    logged = records(stderr, "Output asked to retry part of a batch.")
    assert len(logged) == 3
    assert all(r["reason"].startswith("429: es_rejected_execution_exception") for r in logged)
    sizes = {r["documents"] for r in logged}
    assert len(sizes) == 1 and 0 < min(sizes) <= n, "the same batch, all of its documents, each time"
    assert out["retries"] == 3 and out["retried_documents"] == 3 * min(sizes)
    assert (out["delivered"], out["duplicates"], out["dead_letters"]) == (n, 0, {})


def test_refused_credentials_pause_the_output_and_nothing_is_dropped(tmp_path: Path, ns: str,
                                                                     proxy: FaultProxy) -> None:
    n = 3_000
    write_lines(tmp_path / "a.log", 0, n)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[proxy.url], namespace=ns, file_output=False)
    proxy.inject(401, seconds=5)
    out, stderr = run(config)

    assert_each_seq_once(pattern(ns), n)
    refused = proxy.outcomes()["injected:401"]
    assert refused >= 1
    paused = [r for r in json_lines(stderr) if "PAUSED" in str(r.get("message"))]
    assert len(paused) == refused
    assert all(r["level"] == "ERROR" and "401" in r["error"] and "security_exception" in r["error"] for r in paused)
    assert out["auth_failures"] == refused
    assert (out["delivered"], out["duplicates"], out["dead_letters"], out["dead_letters_local"]) == (n, 0, {}, 0)
    bulk = proxy.hits("/_bulk")
    assert [h.outcome for h in bulk[:refused + 1]] == ["injected:401"] * refused + ["forwarded"]
    assert bulk[refused].at - bulk[0].at >= 5.0
    assert min(b.at - a.at for a, b in pairwise(bulk[:refused + 1])) >= AUTH_DELAY_SECS - 0.1


# -- 5. mapping conflicts ----------------------------------------------------------------------------------


def conflicting_template(namespace: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Above the ucsiem template (priority 200) for this namespace only: our schema with `properties` over it."""
    return {"index_patterns": [f"logs-uc.*-{namespace}"], "priority": 300, "composed_of": ["ucsiem-schema"],
            "data_stream": {}, "template": {"mappings": {"properties": properties}},
            "_meta": {"description": "ucsiem test: mapping conflict"}}


def test_mapping_conflict_makes_exactly_the_conflicting_events_dead_letters(tmp_path: Path, ns: str) -> None:
    """labels.seq mapped as `byte`: lines with seq > 127 conflict. Dead letters carry no labels, so they index."""
    n, fits = 300, 128
    write_lines(tmp_path / "a.log", 0, n)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[ES_URL], namespace=ns)
    template = f"ucsiem-test-{ns}"
    put_index_template(template, conflicting_template(
        ns, {"labels": {"type": "object", "properties": {"seq": {"type": "byte"}}}}))
    try:
        out, stderr = run(config)
    finally:
        delete_index_template(template)

    k = n - fits
    originals = {int(e["labels"]["seq"]): e for e in events(tmp_path)}  # the file output took every event
    assert sorted(originals) == list(range(n))
    assert out["dead_letters"] == {"mapping": k} and out["dead_letters_local"] == 0
    assert (out["delivered"], out["duplicates"]) == (n, 0)  # n - k events and k dead letters
    assert not (tmp_path / "state" / "dead-letters.ndjson").exists()
    warned = records(stderr, "Output refused an event; it becomes a dead letter.")
    assert len(warned) == k and all(r["code"] == "mapping" for r in warned)
    assert all("[labels.seq]" in r["reason"] and "Value [" not in r["reason"] for r in warned)

    hits = search_all(pattern(ns))
    assert len(hits) == n
    indexed = [h for h in hits if h["_source"]["event"]["kind"] != "pipeline_error"]
    letters = [h for h in hits if h["_source"]["event"]["kind"] == "pipeline_error"]
    assert sorted(int(h["_source"]["labels"]["seq"]) for h in indexed) == list(range(fits))
    for hit in indexed:
        assert hit["_source"] == originals[int(hit["_source"]["labels"]["seq"])]
    assert len(letters) == k
    seen = []
    for hit in letters:
        letter = hit["_source"]
        original = json.loads(letter["event"]["original"])
        seq = int(original["labels"]["seq"])
        seen.append(seq)
        assert original == originals[seq], "event.original is the refused document"
        assert hit["_id"] == letter["event"]["id"] == original["event"]["id"]
        assert hit["_index"].startswith(f".ds-logs-uc.{DATASET}-{ns}-"), "same data stream as the event"
        assert letter["event"]["dataset"] == DATASET and "labels" not in letter
        assert letter["error"]["type"] == "output_mapping"
        # The node's reason quotes the value ("Value [300] is out of range"): only type and field are kept.
        assert letter["error"]["message"] == ("400 document_parsing_exception on field [labels.seq] of type [byte] "
                                              "(caused by illegal_argument_exception)")
        assert letter["message"].startswith(f"{OUTPUT} refused the event (mapping): 400")
    assert sorted(seen) == list(range(fits, n))


def test_dead_letters_the_node_refuses_too_are_kept_on_local_disk(tmp_path: Path, ns: str) -> None:
    """`message` mapped as `long`: lines with a text message conflict, and so do their dead letters (whose
    message is text): those land in <data_dir>/dead-letters.ndjson."""
    n = 40
    texts = {i: "payload words" if i % 4 == 0 else str(i * 7) for i in range(n)}
    (tmp_path / "a.log").write_text("".join(line(i, texts[i]) for i in range(n)))
    conflicting = {i for i, t in texts.items() if not t.isdigit()}
    k = len(conflicting)
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[ES_URL], namespace=ns)
    template = f"ucsiem-test-{ns}"
    put_index_template(template, conflicting_template(ns, {"message": {"type": "long"}}))
    try:
        out, stderr = run(config)
    finally:
        delete_index_template(template)

    assert out["dead_letters"] == {"mapping": k} and out["dead_letters_local"] == k
    assert (out["delivered"], out["duplicates"]) == (n - k, 0)
    hits = search_all(pattern(ns))
    assert sorted(int(h["_source"]["labels"]["seq"]) for h in hits) == sorted(set(range(n)) - conflicting)
    assert all(h["_source"]["event"]["kind"] == "event" for h in hits)

    originals = {int(e["labels"]["seq"]): e for e in events(tmp_path)}
    local = [json.loads(raw) for raw in (tmp_path / "state" / "dead-letters.ndjson").read_text().splitlines()]
    assert len(local) == k
    seen = set()
    for letter in local:
        original = json.loads(letter["event"]["original"])
        seq = int(original["labels"]["seq"])
        seen.add(seq)
        assert original == originals[seq]
        assert letter["event"]["kind"] == "pipeline_error" and letter["event"]["id"] == original["event"]["id"]
        assert letter["error"]["type"] == "output_mapping" and "[message]" in letter["error"]["message"]
    assert seen == conflicting
    kept = records(stderr, "Dead letters refused by the output too; kept on local disk.")
    assert sum(r["count"] for r in kept) == k
    # The node's reasons quote the refused value ("Preview of field's value: 'payload words'"): never logged.
    assert "payload words" not in stderr


# -- 6. daily indices ------------------------------------------------------------------------------------


def test_index_mode_writes_daily_indices_named_by_the_event_day(tmp_path: Path, ns: str) -> None:
    """index_mode: index -> logs-uc.<dataset>-<ns>-YYYY.MM.DD from @timestamp (UTC), plain indices."""
    stamps = {  # the line's time -> the day of its @timestamp in UTC
        "2024-05-01T10:00:00+00:00": "2024.05.01",
        "2024-05-01T23:30:00-02:00": "2024.05.02",
        "2024-05-02T00:30:00+02:00": "2024.05.01",
        "2024-12-31T23:59:59.999+00:00": "2024.12.31",
        "2025-01-01T00:00:00+00:00": "2025.01.01",
    }
    times = list(stamps)
    n = 50
    (tmp_path / "a.log").write_text("".join(f"{times[i % len(times)]} seq={i} payload\n" for i in range(n)))
    # Fixed dates, so the window around ingest time (365 days by default) is widened to keep them all.
    config = es_config(tmp_path, [str(tmp_path / "a.log")], hosts=[ES_URL], namespace=ns,
                       es={"index_mode": "index", "index_date_window_days": 36500})
    try:
        out, _ = run(config)
    finally:  # should the agent have made the shared `ucsiem` template index-only, give data streams theirs back
        _, index_template = templates()
        put_index_template(INDEX_TEMPLATE_NAME, index_template)

    assert (out["delivered"], out["duplicates"], out["dead_letters"]) == (n, 0, {})
    prefix = f"logs-uc.{DATASET}-{ns}"
    found = resolve(f"{prefix}*")
    assert found["data_streams"] == []
    expected = {f"{prefix}-{day}" for day in stamps.values()}
    assert {i["name"] for i in found["indices"]} == expected
    hits = search_all(f"{prefix}-*")
    assert len(hits) == n
    for hit in hits:
        seq = int(hit["_source"]["labels"]["seq"])
        assert hit["_index"] == f"{prefix}-{stamps[times[seq % len(times)]]}"
        assert hit["_id"] == hit["_source"]["event"]["id"]
    for index, fields in index_mappings(f"{prefix}-*").items():
        assert (fields["@timestamp"], fields["labels"], fields["source.ip"]) == ("date", "flattened", "ip"), index
    assert request("GET", f"/{prefix}-2024.05.02/_count")["count"] == n // len(times)
