#!/usr/bin/env python3
"""What the shipped rule pack costs end to end (not a test).

    python -m bench.rules_bench [--kind expressway|audiocodes] [--lines 300000] [--rounds 3] [--workers auto]

Runs `ucsiem run --once` on a corpus of the shared generator into the file output, without and with
`correlation: {rules: [rules/]}` (every rule of the pack: detection in the parse workers, correlation in
the agent), in alternation, and prints lines/s of whole runs (start-up, where every process loads the pack,
counted) and steady lines/s (from 10 % to 90 % of the lines out: what a running agent sustains), CPU seconds
and peak RSS of the process tree for each, the cost in percent, and the alerts the pack raised.
`bench/correlate_bench.py` measures the detector and the correlator alone on synthetic events.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.run_bench import REPO, STEADY_FROM, STEADY_TO, Measured, corpus, measure_steady

PARSERS = {"expressway": "cisco_expressway", "audiocodes": "audiocodes_sbc"}
GENERATOR_KINDS = {"expressway": "expressway", "audiocodes": "sbc"}  # the shared generator's names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=sorted(PARSERS), default="expressway")
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="auto")
    args = ap.parse_args()
    log = corpus(GENERATOR_KINDS[args.kind], args.lines)
    work = Path(tempfile.mkdtemp(prefix="ucsiem-rules-bench-"))
    workers = args.workers if args.workers == "auto" else int(args.workers)
    cases = {"without rules": {}, "with the rule pack": {"correlation": {"rules": [str(REPO / "rules")]}}}
    results: dict[str, list[Measured]] = {case: [] for case in cases}
    seen: dict[str, object] = {}
    for _ in range(args.rounds):
        for case, extra in cases.items():
            state, out = work / "state", work / "out"
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            config = work / "config.yml"
            config.write_text(json.dumps({
                "agent": {"data_dir": str(state), "stats_interval_secs": 0},
                "inputs": [{"id": "bench", "paths": [str(log)], "parser": PARSERS[args.kind], "timezone": "UTC"}],
                "outputs": [{"type": "file", "path": str(out / "events.ndjson"), "max_bytes": 1 << 40}],
                "pipeline": {"workers": workers}, **extra}))
            command = [sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)]
            results[case].append(measure_steady(command, out / "events.ndjson", args.lines))
            if extra:
                seen = pack_stats(out / "events.ndjson")
    print(f"corpus: {log} ({args.lines:,} lines, {args.kind}); workers={args.workers}; rounds={args.rounds}")
    print(f"{'case':<20} {'lines/s (median, min-max)':<30} {'steady lines/s (median, min-max)':<34} {'CPU s':>7} "
          f"{'CPU-µs/line':>12} {'peak RSS MiB (tree)':>20}")
    rates, steadies = {}, {}
    for case, runs in results.items():
        per_run = [args.lines / run.wall for run in runs]
        steady = [run.steady for run in runs if run.steady]
        rates[case] = statistics.median(per_run)
        steadies[case] = statistics.median(steady) if steady else None
        steady_text = f"{steadies[case]:>9,.0f} ({min(steady):,.0f}-{max(steady):,.0f})" if steady else f"{'-':>9}"
        cpu = statistics.median(run.cpu for run in runs)
        print(f"{case:<20} {rates[case]:>9,.0f} ({min(per_run):,.0f}-{max(per_run):,.0f}){'':<6} {steady_text:<34} "
              f"{cpu:>7.1f} {cpu / args.lines * 1e6:>12.1f} {max(run.peak_kib for run in runs) / 1024:>20.0f}")
    print(f"the rule pack costs {1 - rates['with the rule pack'] / rates['without rules']:.1%} of end-to-end "
          "throughput (whole runs: start-up, with the pack loaded in every process, counted)")
    with_pack, without = steadies["with the rule pack"], steadies["without rules"]
    if with_pack and without:
        print(f"the rule pack costs {1 - with_pack / without:.1%} of the steady throughput (from {STEADY_FROM:.0%} to "
              f"{STEADY_TO:.0%} of the lines out)")
    print("what the pack saw: " + json.dumps(seen))
    shutil.rmtree(work, ignore_errors=True)


def pack_stats(events: Path) -> dict[str, object]:
    """Alerts by rule name in the output (the last version of each alert id)."""
    alerts: dict[str, str] = {}
    with events.open("rb") as fh:
        for raw in fh:
            if b'"ucsiem.alert"' in raw:
                doc = json.loads(raw)
                if doc["event"].get("dataset") == "ucsiem.alert":
                    alerts[doc["event"]["id"]] = doc["rule"]["name"]
    by_rule: dict[str, int] = {}
    for name in alerts.values():
        by_rule[name] = by_rule.get(name, 0) + 1
    return {"alerts": len(alerts), "by_rule": by_rule}


if __name__ == "__main__":
    main()
