#!/usr/bin/env python3
"""What enrichment costs end to end (not a test).

    python bench/enrich_bench.py [--lines 200000] [--entries 100000] [--rounds 3] [--workers auto]

Runs `ucsiem run --once` on the shared Expressway corpus into the file output twice per round: without
enrichment, and with identity (a CSV directory of `--entries` people, built so that the corpus' aliases,
extensions and numbers are found), phone numbers (home region GB) and GeoIP/ASN (the shared MaxMind test
databases). Prints lines/s, CPU seconds and the peak RSS of the process tree for each, the cost in
percent, and the RSS each worker adds (the identity index is memory-mapped: its pages are counted in
each process's RSS but sit once in the page cache, so the tree's RSS overstates what it takes).

The directory is loaded as in a running service: the index is built once first (its CPU time is printed:
the agent pays it in a child process at the first start and at every refresh) and each enriched run
starts from it, as a restarted agent does from the index in its data_dir.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run_bench import REPO, corpus, measure

GEO = REPO.parent / "shared" / "data" / "geoip"


def corpus_names() -> tuple[list[str], list[str]]:
    """The aliases (first.last) and domains the corpus generator uses, from the generator itself."""
    spec = importlib.util.spec_from_file_location("gen_corpus", REPO.parent / "shared" / "bench" / "gen_corpus.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return [f"{f}.{last}" for f in gen.FIRST for last in gen.LAST], list(gen.DOMAINS)


def directory(path: Path, entries: int) -> None:
    people, domains = corpus_names()
    rnd = random.Random(7)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["user", "mail", "display", "sip", "ext", "ddi", "department"])
        for i in range(entries):
            alias = people[i] if i < len(people) else f"user{i}.synthetic"
            domain = domains[i % len(domains)]
            ext = str(1000 + i) if i < 9000 else ""
            out.writerow([alias, f"{alias}@{domain}", alias.replace(".", " ").title(), f"sip:{alias}@{domain}",
                          ext, f"+44{rnd.randint(0, 9999999999):010d}", f"dept-{i % 40}"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="auto")
    args = ap.parse_args()
    log = corpus("expressway", args.lines)
    work = Path(tempfile.mkdtemp(prefix="ucsiem-enrich-bench-"))
    users = work / "users.csv"
    directory(users, args.entries)
    workers = args.workers if args.workers == "auto" else int(args.workers)
    index = work / "identity.lmdb"
    enrich = {
        "phone": {"home_region": "GB"},
        "identity": {"sources": [{"type": "csv", "path": str(users), "fields": {
            "name": ["user"], "email": ["mail"], "full_name": ["display"], "sip_uri": ["sip"], "extension": ["ext"],
            "phone_numbers": ["ddi"], "department": ["department"]}}]},
        "geo": {"city_db": str(GEO / "GeoLite2-City-Test.mmdb"), "asn_db": str(GEO / "GeoLite2-ASN-Test.mmdb")},
    }
    build_cpu, build_wall = build_directory_index(enrich, index)
    results: dict[str, list[tuple[float, float, int]]] = {"without enrichment": [], "with enrichment": []}
    found: dict[str, int] = {}
    pss: dict[str, tuple[int, dict[str, int]]] = {}
    for _ in range(args.rounds):
        for case, extra in (("without enrichment", {}), ("with enrichment", {"enrich": enrich})):
            state, out = work / "state", work / "out"
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            config = work / "config.yml"
            config.write_text(json.dumps({
                "agent": {"data_dir": str(state), "stats_interval_secs": 0},
                "inputs": [{"id": "bench", "paths": [str(log)], "parser": "cisco_expressway"}],
                "outputs": [{"type": "file", "path": str(out / "events.ndjson"), "max_bytes": 1 << 40}],
                "pipeline": {"workers": workers}, **extra}))
            cmd = [sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)]
            loaded = index if extra else None
            with_index(state, loaded)
            results[case].append(measure(cmd))
            if case == "with enrichment":
                found = enrichment_counts(out / "events.ndjson")
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            with_index(state, loaded)
            pss[case] = peak_pss(cmd)  # a separate run: sampling smaps costs CPU
    print(f"corpus: {log} ({args.lines:,} lines); directory: {args.entries:,} entries; workers={args.workers}; "
          f"cpus={os.cpu_count()}; rounds={args.rounds}")
    print(f"{'case':<22} {'lines/s (median, min-max)':<30} {'CPU s':>7} {'peak RSS MiB (tree)':>20}")
    rates = {}
    for case, runs in results.items():
        per_run = [args.lines / w for w, _, _ in runs]
        rates[case] = statistics.median(per_run)
        print(f"{case:<22} {rates[case]:>9,.0f} ({min(per_run):,.0f}-{max(per_run):,.0f}){'':<6} "
              f"{statistics.median(c for _, c, _ in runs):>7.1f} {max(p for _, _, p in runs) / 1024:>20.0f}")
    cost = 1 - rates["with enrichment"] / rates["without enrichment"]
    print(f"enrichment costs {cost:.1%} of end-to-end throughput")
    print(f"identity index of {args.entries:,} entries built in {build_cpu:.1f} CPU s ({build_wall:.1f} s): paid in "
          f"a child process at the first start and at every refresh_interval_secs")
    for case, (whole, roles) in pss.items():
        parts = ", ".join(f"{role} {size / 1024:.0f}" for role, size in roles.items())
        print(f"{case:<22} peak PSS MiB: tree {whole / 1024:.0f}; per process: {parts}")
    print("what was found: " + ", ".join(f"{k} {v:,}" for k, v in sorted(found.items())))
    shutil.rmtree(work, ignore_errors=True)


def build_directory_index(enrich: dict[str, object], path: Path) -> tuple[float, float]:
    """The identity index the agent would build from `enrich`, at `path`: (CPU s, wall s)."""
    from ucsiem.enrich.config import EnrichConfig
    from ucsiem.enrich.refresh import build_from_sources, index_fingerprint, number_normalizer

    cfg = EnrichConfig.model_validate(enrich)
    assert cfg.identity is not None
    cpu, wall = time.process_time(), time.monotonic()
    build_from_sources(cfg.identity, path, number_normalizer(cfg), index_fingerprint(cfg))
    return time.process_time() - cpu, time.monotonic() - wall


def with_index(state: Path, index: Path | None) -> None:
    """A fresh data_dir, holding the identity index when the run enriches (a fresh copy: young, not due)."""
    shutil.rmtree(state, ignore_errors=True)
    if index is not None:
        state.mkdir(parents=True)
        shutil.copyfile(index, state / index.name)


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (the mapped identity index, GeoIP files) split between their users."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(row.split()[1]) for row in fh if row.startswith("Pss:")), 0)
    except OSError:
        return 0


def peak_pss(cmd: list[str]) -> tuple[int, dict[str, int]]:
    """(peak PSS of the whole tree, peak PSS per process role), KiB. Roles: the agent, the processes that
    live about as long as it (parse workers, multiprocessing's helpers), short-lived children (the identity
    refresh)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_tree = samples = 0
    per_pid: dict[int, int] = {}
    seen: dict[int, int] = {}
    while proc.poll() is None:
        sizes = {pid: pss_kib(pid) for pid in tree(proc.pid)}
        samples += 1
        peak_tree = max(peak_tree, sum(sizes.values()))
        for pid, size in sizes.items():
            per_pid[pid] = max(per_pid.get(pid, 0), size)
            seen[pid] = seen.get(pid, 0) + 1
        time.sleep(0.1)
    roles: dict[str, int] = {"agent": per_pid.get(proc.pid, 0)}
    for pid, size in per_pid.items():
        if pid != proc.pid:
            role = "long-lived child (worker)" if seen[pid] >= samples // 2 else "short-lived child"
            roles[role] = max(roles.get(role, 0), size)
    return peak_tree, roles


def enrichment_counts(events: Path) -> dict[str, int]:
    counts = {"events": 0, "source.user.email": 0, "destination.user.email": 0, "uc.call.callee_country": 0}
    with events.open("rb") as fh:
        for raw in fh:
            event = json.loads(raw)
            counts["events"] += 1
            counts["source.user.email"] += "email" in (event.get("source", {}).get("user") or {})
            counts["destination.user.email"] += "email" in (event.get("destination", {}).get("user") or {})
            counts["uc.call.callee_country"] += "callee_country" in (event.get("uc", {}).get("call") or {})
    return counts


if __name__ == "__main__":
    main()
