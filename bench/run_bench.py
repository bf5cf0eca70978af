#!/usr/bin/env python3
"""Throughput and memory of the agent on the shared 1,000,000-line Expressway corpus (not a test).

    python bench/run_bench.py [--lines 1000000] [--rounds 3] [--workers auto]

Cases: `ucsiem run --once` into the file output (end to end: tail, frame, parse, validate, serialize,
write, checkpoint), and `ucsiem parse` alone (one process, stdout to /dev/null). Prints lines/s and the
peak RSS of the whole process tree (sampled sum of VmRSS of the agent and its parse workers), so the
figures compare with ../shared/reference/perf-baseline.md (same corpus generator and seed).

`--output kafka|elasticsearch` ships to the services of scripts/services.sh and counts what arrived at
the destination. With Kafka, Debian's `kcat` (librdkafka) also produces the same events, made once
beforehand with `ucsiem parse`, to the same broker with the same producer settings (zstd, acks=all,
idempotent, linger 5 ms), and the ratio is printed: ucsiem's figure includes tailing, parsing and
validating, kcat's only shipping.

`--full` runs the agent as issue 13 measures it: the shipped rule pack (`correlation: {rules: [rules/]}`) and
the enrichment that needs no directory (phone numbers, home region GB; GeoIP/ASN with the shared MaxMind test
databases), on top of the same file output.

`--pure` also runs every case on the Python source of the compiled modules (`UCSIEM_PURE_PYTHON=1`, see the
README's "The compiled hot path"), each round right after the compiled one, so both come from one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
GEN = REPO.parent / "shared" / "bench" / "gen_corpus.py"
DATA = Path(tempfile.gettempdir()) / "ucsiem-bench"
GEO = REPO.parent / "shared" / "data" / "geoip"
FULL_STACK = {
    "correlation": {"rules": [str(REPO / "rules")]},
    "enrich": {"phone": {"home_region": "GB"},
               "geo": {"city_db": str(GEO / "GeoLite2-City-Test.mmdb"), "asn_db": str(GEO / "GeoLite2-ASN-Test.mmdb")}},
}


def corpus(kind: str, lines: int) -> Path:
    path = DATA / f"{kind}-{lines}.log"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        if not GEN.exists():
            sys.exit(f"corpus generator not found at {GEN} (the shared/ folder beside the repository)")
        subprocess.run([sys.executable, str(GEN), "--kind", kind, "--lines", str(lines), "--out", str(path)],
                       check=True)
    return path


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over `root` and all its descendants."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as fh:
                for row in fh:
                    if row.startswith("VmRSS:"):
                        total += int(row.split()[1])
        except OSError:
            continue
    return total


def tree_cpu_secs(root: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of `root` and each of its descendants, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process tree, peak tree RSS in KiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers are waited for by the agent: included
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak


CHUNK = 1 << 20
STEADY_FROM, STEADY_TO = 0.1, 0.9


def steady_rate(samples: list[tuple[float, int]], expected: int) -> float | None:
    """Lines/s while the receiver is busy: from the first sample at 10 % of the lines out to the first at
    90 %. The whole-run rate also holds the start (a worker's first batch) and the end, where a
    multi-line record (Expressway's framing) is held until `flush_timeout_secs` (2 s) pass without a line
    that could continue it: a latency a live file has and a stream of messages has not."""
    first = next(((t, n) for t, n in samples if n >= expected * STEADY_FROM), None)
    last = next(((t, n) for t, n in samples if n >= expected * STEADY_TO), None)
    if first is None or last is None or last[0] <= first[0]:
        return None
    return (last[1] - first[1]) / (last[0] - first[0])


class LineCounter:
    """Counts the lines of a growing file (and of its rotations, if any), reading only what is new."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def poll(self) -> int:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                while True:
                    block = fh.read(CHUNK)
                    if not block:
                        break
                    self.lines += block.count(b"\n")
                    self.offset += len(block)
        except FileNotFoundError:
            pass
        return self.lines


class Measured(NamedTuple):
    wall: float
    cpu: float
    peak_kib: int
    steady: float | None  # lines/s, see `steady_rate`
    lines_out: int  # lines in the output when the command ended


def measure_steady(cmd: list[str], output: Path, lines: int) -> Measured:
    """`measure`, and the steady rate (`steady_rate`) of the lines written to `output` meanwhile."""
    counter, done = LineCounter(output), threading.Event()
    samples: list[tuple[float, int]] = []

    def watch() -> None:
        while not done.is_set():
            got = counter.poll()
            if not samples or got != samples[-1][1]:
                samples.append((time.perf_counter(), got))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        wall, cpu, peak = measure(cmd)
    finally:
        done.set()
        watcher.join()
    return Measured(wall, cpu, peak, steady_rate(samples, lines), counter.poll())


def count_delivered(output: str, out_dir: Path, tag: str) -> int:
    """Counted at the destination, not taken from the agent's word."""
    if output == "file":
        with (out_dir / "events.ndjson").open("rb") as fh:
            return sum(1 for _ in fh)
    if output == "elasticsearch":
        base = f"http://127.0.0.1:19200/logs-uc.*-{tag}"
        urllib.request.urlopen(urllib.request.Request(f"{base}/_refresh", method="POST"), timeout=60).read()
        with urllib.request.urlopen(f"{base}/_count", timeout=60) as resp:
            return int(json.load(resp)["count"])

    return asyncio.run(kafka_count(tag))


async def kafka_count(topic: str) -> int:
    """Messages in a topic of the services' broker (sum of the partitions' end offsets)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:19092")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or {0})]
        ends = await consumer.end_offsets(parts)
        return sum(ends.values())
    finally:
        await consumer.stop()


def kcat_command(events: Path, topic: str) -> list[str]:
    """Debian's kcat (librdkafka) producing NDJSON lines with the Kafka output's default settings."""
    return ["kcat", "-P", "-b", "127.0.0.1:19092", "-t", topic, "-l", str(events), "-z", "zstd",
            "-X", "acks=all", "-X", "enable.idempotence=true", "-X", "linger.ms=5"]


def run_round(args: argparse.Namespace, tag: str, parser: str, log: Path, work: Path, env: dict[str, str] | None,
              results: dict[str, list[tuple[float, float, int]]], suffix: str) -> int:
    """One round of `run --once` and `parse`, measured into `results` (case names + `suffix`); the alerts."""
    out_dir, state, config = work / "out", work / "state", work / "config.yml"
    shutil.rmtree(out_dir, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    workers = args.workers if args.workers == "auto" else int(args.workers)
    outputs: dict[str, dict[str, object]] = {
        "file": {"type": "file", "path": str(out_dir / "events.ndjson"), "max_bytes": 1 << 40},
        "kafka": {"type": "kafka", "bootstrap_servers": ["127.0.0.1:19092"], "topic": tag},
        "elasticsearch": {"type": "elasticsearch", "hosts": ["http://127.0.0.1:19200"], "namespace": tag},
    }
    config.write_text(json.dumps({
        "agent": {"data_dir": str(state), "stats_interval_secs": 0},
        "inputs": [{"id": "bench", "paths": [str(log)], "parser": parser}],
        "outputs": [outputs[args.output]],
        "pipeline": {"workers": workers},
        **(FULL_STACK if args.full else {}),
    }))
    results[f"run --once ({args.output} output){suffix}"].append(
        measure([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)], env))
    delivered = count_delivered(args.output, out_dir, tag)
    # with the rule pack, the alerts it raises go to the same output
    if delivered != args.lines and not (args.full and delivered > args.lines):
        sys.exit(f"delivered {delivered} events for {args.lines} lines")
    results[f"parse only{suffix}"].append(
        measure([sys.executable, "-m", "ucsiem", "parse", "--parser", parser, str(log)], env))
    return delivered - int(args.lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="auto")
    ap.add_argument("--kind", default="expressway", choices=["expressway", "sbc"])
    ap.add_argument("--full", action="store_true",
                    help="with the rule pack and phone number + GeoIP/ASN enrichment (issue 13's end-to-end case)")
    ap.add_argument("--output", default="file", choices=["file", "kafka", "elasticsearch"],
                    help="kafka / elasticsearch: the services of scripts/services.sh (127.0.0.1:19092 / :19200)")
    ap.add_argument("--pure", action="store_true",
                    help="also run each case on the Python source of the compiled modules (UCSIEM_PURE_PYTHON=1), "
                         "in alternation")
    args = ap.parse_args()
    parser = {"expressway": "cisco_expressway", "sbc": "audiocodes_sbc"}[args.kind]
    log = corpus(args.kind, args.lines)
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm page cache
    work = Path(tempfile.mkdtemp(prefix="ucsiem-bench-"))
    run_case = f"run --once ({args.output} output)"
    results: dict[str, list[tuple[float, float, int]]] = {run_case: [], "parse only": []}
    modes: list[tuple[str, dict[str, str] | None]] = [("", None)]
    if args.pure:
        modes.append((", pure Python", {**os.environ, "UCSIEM_PURE_PYTHON": "1"}))
        results = {case + suffix: [] for case in results for suffix, _ in modes}
    events = work / "events.ndjson"
    kcat_case = "kcat -P, same events (NDJSON)"
    if args.output == "kafka":
        # The yardstick: a C producer shipping the very events ucsiem makes, already parsed.
        if shutil.which("kcat") is None:
            sys.exit("--output kafka compares with Debian's kcat: apt-get install kcat")
        with events.open("wb") as fh:
            subprocess.run([sys.executable, "-m", "ucsiem", "parse", "--parser", parser, str(log)], stdout=fh,
                           stderr=subprocess.DEVNULL, check=True)
        results[kcat_case] = []
    for round_no in range(args.rounds):
        for suffix, env in modes:
            alerts = run_round(args, f"bench{os.getpid()}r{round_no}{'p' if env else ''}", parser, log, work, env,
                               results, suffix)
            if args.output == "kafka" and not suffix:
                tag = f"bench{os.getpid()}r{round_no}"
                results[kcat_case].append(measure(kcat_command(events, f"{tag}-kcat")))
                produced = asyncio.run(kafka_count(f"{tag}-kcat"))
                if produced != args.lines:
                    sys.exit(f"kcat produced {produced} messages for {args.lines} events")
    print(f"corpus: {log} ({args.lines:,} lines, {log.stat().st_size:,} bytes); workers={args.workers}; "
          f"cpus={os.cpu_count()}; rounds={args.rounds}"
          + ("; rule pack + phone numbers + GeoIP/ASN" if args.full else ""))
    print(f"{'case':<42} {'lines/s (median, min-max)':<30} {'CPU s':>7} {'peak RSS MiB (tree)':>20}")
    for case, runs in results.items():
        rates = [args.lines / w for w, _, _ in runs]
        cpu = statistics.median(c for _, c, _ in runs)
        rss = max(p for _, _, p in runs) / 1024
        print(f"{case:<42} {statistics.median(rates):>9,.0f} ({min(rates):,.0f}-{max(rates):,.0f}){'':<6} "
              f"{cpu:>7.1f} {rss:>20.0f}")
    if args.output == "kafka":
        ours = statistics.median(args.lines / w for w, _, _ in results[run_case])
        theirs = statistics.median(args.lines / w for w, _, _ in results[kcat_case])
        print(f"ucsiem (tail, parse, validate, ship) / kcat (ship pre-made NDJSON): {ours / theirs:.0%}")
    if args.full:
        print(f"alerts raised by the rule pack (last round): {alerts:,}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
