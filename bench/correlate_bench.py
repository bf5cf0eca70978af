#!/usr/bin/env python3
"""What rule evaluation costs (not a test): events/s of the Detector and of the Correlator, separately.

    python bench/correlate_bench.py [--events 300000] [--rules 25] [--rounds 3]

Writes a synthetic pack of `--rules` rules (detections of SIP registration, auth, calls, admin logins,
scanner user agents, and event_count / value_count / temporal_ordered / first_seen / baseline_spike
correlations over them) and a synthetic stream in which most events are ordinary (call, media, messages)
and a few percent match (all call attempts feed the volume-spike rule). Prints the best of `--rounds`
for each half on one core.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ucsiem.correlate import CorrelationConfig, Correlator, Detector, Hit, load_rules

ACTIONS = ["sip-register", "sip-auth", "call-attempt", "call-start", "call-end", "media-end", "sip-message",
           "admin-login", "config-change", "dialog-start"]
WEIGHTS = [6, 3, 12, 10, 10, 20, 30, 1, 1, 7]


def pack(n: int) -> str:
    """Detections first, then correlations over them; n rules in all."""
    docs: list[str] = []
    detections = [
        ("reg_fail", "event.action: sip-register\n    event.outcome: failure"),
        ("reg_ok", "event.action: sip-register\n    event.outcome: success"),
        ("auth_fail", "event.action: sip-auth\n    event.outcome: failure"),
        ("admin_fail", "event.action: admin-login\n    event.outcome: failure"),
        ("admin_ok", "event.action: admin-login\n    event.outcome: success"),
        ("config", "event.action: config-change"),
        ("premium", "event.action: [call-attempt, call-start]\n    uc.call.callee_number_type: premium_rate"),
        ("intl", "event.action: call-attempt\n    uc.call.callee_international: true"),
        ("call", "event.action: call-attempt"),
        ("scanner", "event.action: [sip-register, sip-message]\n    user_agent.original|contains: [sipvicious, "
                    "friendly-scanner, sipcli]"),
        ("short_call", "event.action: call-end\n    uc.call.duration|lt: 3"),
        ("bad_mos", "event.action: media-end\n    uc.media.mos|lt: 2.5"),
        ("internal", "event.action: sip-register\n    source.ip|cidr: [10.0.0.0/8, 192.168.0.0/16]"),
    ]
    for i, (name, sel) in enumerate(detections):
        docs.append(f"title: {name}\nid: 00000000-0000-4000-8000-{i:012d}\nname: {name}\nlevel: medium\n"
                    f"logsource: {{product: kamailio}}\ndetection:\n  sel:\n    {sel}\n  condition: sel\n")
    corr = [
        "type: event_count\n  rules: reg_fail\n  group-by: source.ip\n  timespan: 5m\n  condition: {gte: 10}",
        "type: event_count\n  rules: [auth_fail, reg_fail]\n  group-by: source.ip\n  timespan: 1m\n"
        "  condition: {gte: 30}",
        "type: value_count\n  rules: reg_fail\n  group-by: source.ip\n  timespan: 10m\n"
        "  condition: {gte: 10, field: user.name}",
        "type: event_count\n  rules: admin_fail\n  group-by: user.name\n  timespan: 10m\n  condition: {gte: 5}",
        "type: temporal_ordered\n  rules: [admin_fail, config]\n  group-by: source.ip\n  timespan: 30m",
        "type: temporal_ordered\n  rules: [reg_fail, reg_ok]\n  group-by: user.name\n  timespan: 10m",
        "type: event_count\n  rules: premium\n  group-by: user.name\n  timespan: 1h\n  condition: {gte: 3}",
        "type: value_count\n  rules: intl\n  group-by: user.name\n  timespan: 1h\n"
        "  condition: {gte: 5, field: uc.call.callee_country}",
        "type: first_seen\n  rules: reg_ok\n  group-by: user.name\n  field: source.geo.country_iso_code\n"
        "  timespan: 30d\n  learning: 1h",
        "type: baseline_spike\n  rules: call\n  group-by: uc.call.trunk\n  timespan: 1m\n  baseline: 1h\n"
        "  condition: {factor: 3, min: 50}",
        "type: event_count\n  rules: short_call\n  group-by: uc.call.trunk\n  timespan: 10m\n  condition: {gte: 50}",
        "type: value_sum\n  rules: intl\n  group-by: user.name\n  timespan: 1h\n"
        "  condition: {gt: 3600, field: uc.call.duration}",
    ]
    for j in range(max(0, n - len(detections))):
        docs.append(f"title: correlation {j}\nid: 00000000-0000-4000-9000-{j:012d}\nlevel: high\n"
                    f"correlation:\n  {corr[j % len(corr)]}\n")
    return "---\n".join(docs)


def events(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        action = rng.choices(ACTIONS, WEIGHTS)[0]
        ev: dict[str, Any] = {
            "@timestamp": (t0 + timedelta(milliseconds=i * 5)).isoformat().replace("+00:00", "Z"),
            "event": {"action": action, "outcome": "failure" if rng.random() < 0.03 else "success",
                      "module": "kamailio", "dataset": "kamailio.log", "id": f"ev{i}"},
            "source": {"ip": f"198.51.{rng.randint(0, 20)}.{rng.randint(1, 254)}",
                       "geo": {"country_iso_code": "FR" if rng.random() < 0.001 else "DE"}},
            "user": {"name": f"{rng.randint(1000, 3000)}"},
            "user_agent": {"original": rng.choice(["Yealink SIP-T46S", "PolycomVVX", "friendly-scanner"]
                                                  if rng.random() < 0.01 else ["Yealink SIP-T46S", "Cisco-CP8865"])},
            "related": {"ip": ["198.51.100.1"], "user": ["1001"]},
        }
        if action.startswith("call"):
            ev["uc"] = {"call": {"trunk": f"trunk{rng.randint(1, 5)}", "duration": rng.uniform(0, 600),
                                 "callee_international": rng.random() < 0.1, "callee_country": rng.choice(["GB", "CU"]),
                                 "callee_number_type": "premium_rate" if rng.random() < 0.002 else "fixed_line"}}
        elif action == "media-end":
            ev["uc"] = {"media": {"mos": 2.0 if rng.random() < 0.005 else rng.uniform(3.5, 4.5)}}
        out.append(ev)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--rules", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pack.yml"
        path.write_text(pack(args.rules))
        rules = load_rules([path])
    config = CorrelationConfig()
    stream = events(args.events)
    print(f"{len(rules.detections)} detections + {len(rules.correlations)} correlations, {len(stream)} events")
    best_detect, best_correlate = 0.0, 0.0
    for _ in range(args.rounds):
        detector = Detector(rules, config)
        start = time.perf_counter()
        hits: list[Hit] = []
        for ev in stream:
            hits += detector.detect(ev)
        best_detect = max(best_detect, len(stream) / (time.perf_counter() - start))
        correlator = Correlator(rules, config)
        start = time.perf_counter()
        alerts = correlator.feed(hits) + correlator.flush()
        best_correlate = max(best_correlate, len(hits) / (time.perf_counter() - start))
    stats = correlator.stats()
    print(f"detector:   {best_detect:12,.0f} events/s  ({len(hits)} hits, {len(hits) / len(stream):.1%} of events)")
    print(f"correlator: {best_correlate:12,.0f} hits/s    ({len(alerts)} alert documents, {stats['groups']} groups, "
          f"~{stats['memory_bytes'] / 1e6:.1f} MB)")
    print(f"together:   {1 / (1 / best_detect + len(hits) / len(stream) / best_correlate):12,.0f} events/s")


if __name__ == "__main__":
    main()
