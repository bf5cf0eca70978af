#!/usr/bin/env python3
"""The Kafka output alone, beside kcat, on the very same events (not a test).

    python bench/output_bench.py [--events 200000] [--rounds 3] [--batch 2048]

The events are made once, before the clock runs: `ucsiem parse` over the shared Expressway corpus
(`bench/run_bench.py` `corpus()`), one JSON document a line. Two cases per round, each into a topic of
its own on the broker of `scripts/services.sh` (127.0.0.1:19092):

* `ucsiem Kafka output`: `KafkaOutput.send` in this process, driven as the agent's sender drives it: one
  batch of `--batch` documents at a time, the next only after every document of the last is reported
  delivered. The output's defaults (acks=all, idempotent, zstd, linger 5 ms, 1 MiB batches);
* `kcat -P`: Debian's kcat (librdkafka) producing the same NDJSON file with the same settings.

Printed: events/s (median of the rounds), CPU seconds (this process's for the output, kcat's own for
kcat) and the ratio the performance issue sets a target on (the output at least half of kcat's rate).
Both counts are checked against the broker's end offsets. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run_bench import corpus, kafka_count, kcat_command, measure
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.registry import KafkaOutputConfig

BROKER = "127.0.0.1:19092"


async def ship(docs: list[bytes], topic: str, batch: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the Kafka output sending `docs`, connection made beforehand."""
    output = KafkaOutput(KafkaOutputConfig(bootstrap_servers=[BROKER], topic=topic), {})
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=2048, help="documents per send (the pipeline's batch)")
    args = ap.parse_args()
    if shutil.which("kcat") is None:
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
    for round_no in range(args.rounds):
        tag = f"outbench{os.getpid()}r{round_no}"
        ours.append(asyncio.run(ship(docs, tag, args.batch)))
        wall, cpu, _ = measure(kcat_command(events, f"{tag}-kcat"))
        theirs.append((wall, cpu))
        for topic in (tag, f"{tag}-kcat"):
            if (count := asyncio.run(kafka_count(topic))) != args.events:
                sys.exit(f"topic {topic} holds {count} messages, not {args.events}")
        print(f"round {round_no + 1}: output {args.events / ours[-1][0]:,.0f} events/s ({ours[-1][1]:.1f} CPU s), "
              f"kcat {args.events / wall:,.0f} events/s ({cpu:.1f} CPU s)", flush=True)
    print(f"events: {args.events:,} from {log} ({events.stat().st_size:,} bytes of JSON); batch {args.batch}; "
          f"cpus={os.cpu_count()}; rounds={args.rounds}")
    print(f"{'case':<22} {'events/s (median, min-max)':<32} {'CPU s':>6} {'CPU-µs/event':>13}")
    for case, runs in (("ucsiem Kafka output", ours), ("kcat -P (librdkafka)", theirs)):
        rates = [args.events / w for w, _ in runs]
        cpu = statistics.median(c for _, c in runs)
        print(f"{case:<22} {statistics.median(rates):>9,.0f} ({min(rates):,.0f}-{max(rates):,.0f}){'':<8} "
              f"{cpu:>6.1f} {cpu / args.events * 1e6:>13.1f}")
    ratio = statistics.median(args.events / w for w, _ in ours) / statistics.median(args.events / w for w, _ in theirs)
    print(f"output / kcat: {ratio:.0%} (target: at least 50 %)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
