#!/usr/bin/env python3
"""The Kafka and Elasticsearch outputs alone, each beside a plain client shipping the very same events
(not a test).

    python bench/output_bench.py [--output kafka|elasticsearch] [--events 200000] [--rounds 3] [--batch 2048]

The events are made once, before the clock runs: `ucsiem parse` over the shared Expressway corpus
(`bench/run_bench.py` `corpus()`), one JSON document a line. The output runs in this process, driven as
the agent's sender drives it: one batch of `--batch` documents at a time, the next only after every
document of the last is acknowledged. Two cases per round, each into a destination of its own on the
services of `scripts/services.sh`:

* Kafka (127.0.0.1:19092): `KafkaOutput.send` with its defaults (acks=all, idempotent, zstd, linger
  5 ms, 1 MiB batches), and Debian's `kcat -P` (librdkafka) producing the same NDJSON file with the same
  settings;
* Elasticsearch (127.0.0.1:19200): `ElasticsearchOutput.send` (data streams `logs-uc.<dataset>-<ns>`,
  `create`), and a plain `_bulk` loop: one keep-alive HTTP connection posting, batch after batch, bodies
  made beforehand with the same actions, into the same kind of data stream.

Printed: events/s (median of the rounds), CPU seconds (this process's for our output; kcat's own, or
this process's for the `_bulk` loop) and the ratio the performance issue sets a target on (the output
at least half of the plain client's rate). Every count is checked at the destination. Nothing here
asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run_bench import corpus, count_delivered, kafka_count, kcat_command, measure
from ucsiem.outputs.base import Output
from ucsiem.outputs.elasticsearch import ElasticsearchOutput
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.registry import ElasticsearchOutputConfig, KafkaOutputConfig

BROKER = "127.0.0.1:19092"
NODE = ("127.0.0.1", 19200)


def output_for(kind: str, tag: str) -> Output:
    if kind == "kafka":
        return KafkaOutput(KafkaOutputConfig(bootstrap_servers=[BROKER], topic=tag), {})
    return ElasticsearchOutput(ElasticsearchOutputConfig(hosts=[f"http://{NODE[0]}:{NODE[1]}"], namespace=tag))


async def ship(output: Output, docs: list[bytes], batch: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of an output sending `docs`, connection made beforehand."""
    await output.start()
    try:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for start in range(0, len(docs), batch):
            result = await output.send(docs[start:start + batch])
            if result.retry or result.rejected:
                sys.exit(f"the output did not deliver a batch: {result}")
        return time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await output.close()


def bulk_bodies(docs: list[bytes], namespace: str, batch: int) -> list[bytes]:
    """The `_bulk` request bodies of the plain loop: per batch of documents, `create` into the data stream
    the output would pick (dataset read beforehand, not while the clock runs)."""
    bodies = []
    for start in range(0, len(docs), batch):
        lines = []
        for doc in docs[start:start + batch]:
            dataset = json.loads(doc)["event"]["dataset"]
            lines.append(b'{"create":{"_index":"logs-uc.%s-%s"}}\n%s\n' % (dataset.encode(), namespace.encode(), doc))
        bodies.append(b"".join(lines))
    return bodies


def post_bulk(bodies: list[bytes]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of posting the bodies one after the other on one connection."""
    conn = http.client.HTTPConnection(*NODE, timeout=120)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for body in bodies:
        conn.request("POST", "/_bulk", body, {"content-type": "application/x-ndjson"})
        answer = json.loads(conn.getresponse().read())
        if answer.get("errors"):
            sys.exit(f"the plain _bulk loop had errors: {str(answer)[:500]}")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    conn.close()
    return wall, cpu


def request(method: str, path: str) -> Any:
    conn = http.client.HTTPConnection(*NODE, timeout=120)
    try:
        conn.request(method, path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default="kafka", choices=["kafka", "elasticsearch"])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=2048, help="documents per send (the pipeline's batch)")
    args = ap.parse_args()
    if args.output == "kafka" and shutil.which("kcat") is None:
        sys.exit("the yardstick is Debian's kcat: apt-get install kcat")
    log = corpus("expressway", args.events)
    work = Path(tempfile.mkdtemp(prefix="ucsiem-output-bench-"))
    events = work / "events.ndjson"
    with events.open("wb") as fh:
        subprocess.run([sys.executable, "-m", "ucsiem", "parse", "--parser", "cisco_expressway", str(log)],
                       stdout=fh, stderr=subprocess.DEVNULL, check=True)
    docs = events.read_bytes().splitlines()
    if len(docs) != args.events:
        sys.exit(f"parse made {len(docs)} events of {args.events} lines")
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    names = {"kafka": ("ucsiem Kafka output", "kcat -P (librdkafka)"),
             "elasticsearch": ("ucsiem ES output", "plain _bulk loop")}[args.output]
    for round_no in range(args.rounds):
        tag = f"outbench{os.getpid()}r{round_no}"
        ours.append(asyncio.run(ship(output_for(args.output, tag), docs, args.batch)))
        if args.output == "kafka":
            wall, cpu, _ = measure(kcat_command(events, f"{tag}-kcat"))
            counts = {t: asyncio.run(kafka_count(t)) for t in (tag, f"{tag}-kcat")}
        else:
            wall, cpu = post_bulk(bulk_bodies(docs, f"{tag}plain", args.batch))
            counts = {t: count_delivered("elasticsearch", work, t) for t in (tag, f"{tag}plain")}
            for namespace in counts:  # the node's disk is small
                request("DELETE", f"/_data_stream/logs-uc.*-{namespace}")
        theirs.append((wall, cpu))
        if any(count != args.events for count in counts.values()):
            sys.exit(f"delivered {counts}, not {args.events} each")
        print(f"round {round_no + 1}: {names[0]} {args.events / ours[-1][0]:,.0f} events/s ({ours[-1][1]:.1f} CPU s), "
              f"{names[1]} {args.events / wall:,.0f} events/s ({cpu:.1f} CPU s)", flush=True)
    print(f"events: {args.events:,} from {log} ({events.stat().st_size:,} bytes of JSON); batch {args.batch}; "
          f"cpus={os.cpu_count()}; rounds={args.rounds}")
    print(f"{'case':<22} {'events/s (median, min-max)':<32} {'CPU s':>6} {'CPU-µs/event':>13}")
    for case, runs in zip(names, (ours, theirs), strict=True):
        rates = [args.events / w for w, _ in runs]
        cpu = statistics.median(c for _, c in runs)
        print(f"{case:<22} {statistics.median(rates):>9,.0f} ({min(rates):,.0f}-{max(rates):,.0f}){'':<8} "
              f"{cpu:>6.1f} {cpu / args.events * 1e6:>13.1f}")
    ratio = statistics.median(args.events / w for w, _ in ours) / statistics.median(args.events / w for w, _ in theirs)
    print(f"{names[0]} / {names[1]}: {ratio:.0%} (target: at least 50 %)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
