#!/usr/bin/env python3
"""Throughput and memory of every built-in parser on its own golden lines (not a test).

    python bench/parsers_bench.py [--lines 100000] [--rounds 3] [--only asterisk,zoom]

For each parser, its golden case files (the `*-fail.log` ones left out) are concatenated and repeated
until the corpus holds at least `--lines` lines, then `ucsiem parse --parser <id>` runs over it (one
process: framing, parse, normalize, validate, serialize; stdout to /dev/null). Prints a Markdown table
of input lines/s and MB/s (median of the rounds) and the peak RSS, ready for the README. The corpora
mix every event family of a source in the proportions of its golden files, so the figures compare
parsers' costs, not real traffic mixes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run_bench import DATA, measure
from ucsiem.goldens import find_cases
from ucsiem.parsing.registry import load_registry


def corpus(parser_id: str, cases: list[Path], lines: int) -> tuple[Path, int, int]:
    """(path, lines, bytes) of a corpus of at least `lines` lines made of the golden cases."""
    chunk = b"".join(c.read_bytes().rstrip(b"\n") + b"\n" for c in cases)
    per_chunk = chunk.count(b"\n")
    repeats = max(1, -(-lines // per_chunk))
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"parser-{parser_id}.log"
    path.write_bytes(chunk * repeats)
    return path, per_chunk * repeats, len(chunk) * repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated parser ids")
    args = ap.parse_args()
    wanted = {x for x in args.only.split(",") if x}

    rows = []
    for loaded in load_registry(entry_point_plugins=False).all():
        spec = loaded.spec
        if (wanted and spec.id not in wanted) or loaded.folder is None:
            continue
        cases = [c for c in find_cases(loaded.folder) if not c.name.endswith("-fail.log")]
        if not cases:
            continue
        path, n_lines, n_bytes = corpus(spec.id, cases, args.lines)
        runs = [measure([sys.executable, "-m", "ucsiem", "parse", "--parser", spec.id, str(path)])
                for _ in range(args.rounds)]
        wall = statistics.median(r[0] for r in runs)
        peak = max(r[2] for r in runs)
        rows.append((spec.id, n_lines, n_lines / wall, n_bytes / wall / 1e6, peak / 1024))
        print(f"{spec.id}: {n_lines / wall:,.0f} lines/s", file=sys.stderr)

    print("| parser | corpus lines | lines/s | MB/s | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for parser_id, n_lines, lps, mbps, rss in rows:
        print(f"| `{parser_id}` | {n_lines:,} | {lps:,.0f} | {mbps:.1f} | {rss:.0f} MiB |")


if __name__ == "__main__":
    main()
