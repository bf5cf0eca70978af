"""The shipped UC rule pack (rules/): it loads, every rule is documented, and every rule that raises alerts
is proven by cases of real parser output.

Cases live in `cases/<rule-file-stem>/`: `positive-<rule name>-<what>.ndjson` beside
`positive-<rule name>-<what>.expected.json` (every alert the whole pack raises over the file: rule name,
group-by values, final count), and `negative-<rule name>-<what>.ndjson`, over which the whole pack raises
nothing. Events are nested JSON as the agent ships them, made from the parsers' golden files with
timestamps, addresses, users and numbers varied (`test_case_events_have_parser_shapes` checks that each
still has the exact field set of a golden event of its parser and action). Each case runs through a fresh
`Detector` and `Correlator`, then `flush()`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from ucsiem.correlate import Correlator, Detector, RuleSet, load_rules
from ucsiem.correlate.alerts import TACTICS
from ucsiem.correlate.fields import getter
from ucsiem.enrich.config import PhoneConfig
from ucsiem.enrich.phone import PhoneEnricher
from ucsiem.goldens import flatten

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules"
CASES = Path(__file__).parent / "cases"
CASE_NAME = re.compile(r"^(positive|negative)-([a-z0-9_]+)-[a-z0-9-]+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Fields the enrichment stages add after parsing (phone, GeoIP): not in the golden files.
ENRICHED = re.compile(r"^(uc\.call\.(caller|callee)_(country|number_type|international)"
                      r"|(source|destination)\.(geo|as)\..*)$")
HOME_REGION = "GB"  # the phone enrichment's home region the toll-fraud cases were enriched with


def pack() -> RuleSet:
    return load_rules([PACK])


def read_events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def run(ruleset: RuleSet, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    alerts: list[dict[str, Any]] = []
    for event in events:
        alerts += correlator.feed(detector.detect(event))
    return alerts + correlator.flush()


def summarize(ruleset: RuleSet, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per alert id (its last emission carries the final running count), in first-emission order."""
    last: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        last[alert["event"]["id"]] = alert
    out = []
    for alert in last.values():
        meta = ruleset.find(alert["rule"]["id"])
        assert meta is not None
        names = alert["uc"]["alert"].get("group_by", [])
        group = {n: v for n in names if (v := getter(n)(alert)) is not None}
        out.append({"rule": meta.name, "group": group, "count": alert["uc"]["alert"]["count"]})
    return out


def _key(entry: dict[str, Any]) -> bytes:
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)


def case_files() -> list[Path]:
    return sorted(CASES.glob("*/*.ndjson"))


def _rule_docs() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(PACK.rglob("*.yml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                yield path, doc


def alerting_rules(ruleset: RuleSet) -> dict[str, str]:
    """Rule name -> file stem of every rule that raises alerts (correlations, detections none consumes)."""
    out = {c.meta.name or c.meta.key: Path(c.meta.path).stem for c in ruleset.correlations}
    out.update({d.meta.name or d.meta.key: Path(d.meta.path).stem for d in ruleset.detections.values() if d.generates})
    return out


# ---- the pack itself ----

def test_pack_loads_and_every_rule_is_documented() -> None:
    ruleset = pack()
    assert len(ruleset.correlations) >= 10
    names: set[str] = set()
    for path, doc in _rule_docs():
        where = f"{path.name}: {doc.get('name')}"
        assert UUID.match(str(doc.get("id"))), where
        assert doc.get("name") and doc["name"] not in names, where
        names.add(doc["name"])
        for key in ("title", "description", "references", "level", "tags", "falsepositives"):
            assert doc.get(key), f"{where}: no {key}"
        assert doc.get("author") == "ucsiem", where
        tags = doc["tags"]
        assert any(re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t) for t in tags), f"{where}: no ATT&CK technique"
        assert any(t.startswith("attack.") and t[7:].replace("-", "_") in TACTICS for t in tags), \
            f"{where}: no ATT&CK tactic"


def test_alerting_rules_have_their_threshold_in_the_description() -> None:
    ruleset = pack()
    for corr in ruleset.correlations:
        text = corr.meta.description or ""
        if corr.threshold is not None and corr.type not in ("temporal_ordered",):
            assert f"{corr.threshold:g}" in text, f"{corr.meta.name}: threshold {corr.threshold:g} not described"


def test_every_alerting_rule_has_a_positive_and_a_negative_case() -> None:
    ruleset = pack()
    rules = alerting_rules(ruleset)
    seen: dict[str, set[str]] = {name: set() for name in rules}
    for path in case_files():
        m = CASE_NAME.match(path.stem)
        assert m, f"{path}: name it positive-<rule name>-<what>.ndjson or negative-<rule name>-<what>.ndjson"
        kind, name = m.group(1), m.group(2)
        assert name in rules, f"{path}: no alerting rule named {name!r} in the pack"
        assert rules[name] == path.parent.name, f"{path}: rule {name!r} is in {rules[name]}.yml"
        seen[name].add(kind)
        expected = path.with_name(path.stem + ".expected.json")
        assert expected.is_file() == (kind == "positive"), f"{path}: positive cases (only) need {expected.name}"
    missing = {name: sorted({"positive", "negative"} - kinds) for name, kinds in seen.items() if len(kinds) < 2}
    assert not missing, f"rules without cases: {missing}"


@pytest.mark.parametrize("case", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(case: Path) -> None:
    ruleset = pack()
    got = summarize(ruleset, run(ruleset, read_events(case)))
    if case.name.startswith("negative-"):
        assert got == [], f"{case.name}: expected no alert"
        return
    expected = orjson.loads(case.with_name(case.stem + ".expected.json").read_bytes())
    assert sorted(map(_key, got)) == sorted(map(_key, expected)), orjson.dumps(got, option=orjson.OPT_INDENT_2).decode()
    name = CASE_NAME.match(case.stem).group(2)  # type: ignore[union-attr]
    assert any(e["rule"] == name for e in expected), f"{case.name}: {name} raises no alert in its own case"


# ---- the cases are real parser output ----

def _golden_shapes() -> dict[tuple[Any, Any], list[frozenset[str]]]:
    shapes: dict[tuple[Any, Any], list[frozenset[str]]] = {}
    for path in sorted((ROOT / "parsers").glob("*/tests/*-expected.json")):
        for event in orjson.loads(path.read_bytes()):
            key = (event.get("event.dataset"), event.get("event.action"))
            shapes.setdefault(key, []).append(frozenset(k for k in event if not ENRICHED.match(k)))
    return shapes


def test_case_events_have_parser_shapes() -> None:
    shapes = _golden_shapes()
    for path in case_files():
        for n, event in enumerate(read_events(path), 1):
            flat = flatten(event)
            assert isinstance(flat.pop("event.id", None), str), f"{path.name}:{n}: no event.id"
            key = (flat.get("event.dataset"), flat.get("event.action"))
            fields = frozenset(k for k in flat if not ENRICHED.match(k))
            assert fields in shapes.get(key, []), \
                f"{path.name}:{n}: no golden {key} event has the fields {sorted(fields)}"


def test_case_phone_fields_are_what_the_enrichment_writes() -> None:
    enricher = PhoneEnricher(PhoneConfig(home_region=HOME_REGION))
    checked = 0
    for path in case_files():
        for event in read_events(path):
            call = event.get("uc", {}).get("call", {})
            if not any(k.startswith(("callee_", "caller_")) and k not in ("callee_number", "caller_number")
                       for k in call):
                continue
            bare = copy.deepcopy(event)
            for k in list(bare["uc"]["call"]):
                if re.fullmatch(r"(caller|callee)_(country|number_type|international)", k):
                    del bare["uc"]["call"][k]
            enricher.enrich(bare)
            assert bare == event, path.name
            checked += 1
    assert checked > 0
