"""The Kibana dashboard's panels (mappings/kibana/ucsiem.ndjson) proven against the real Elasticsearch node.

No Kibana runs here. What Kibana would send for each panel is rebuilt from the shipped saved object
itself: its data view, the KQL of its `searchSourceJSON` and the aggregations of its `visState`. Then:

1. every field a panel names (query, buckets, metrics) exists in the generated templates (the component
   template behind the events' index template, and behind the alerts template), with an aggregatable type
   wherever it is aggregated;
2. the real agent (`ucsiem run --once`) ships the bundled sample logs of every built-in parser, with phone
   enrichment (home_region US) and the shipped rule pack, to the node of `scripts/services.sh start es`
   through its Elasticsearch output (templates installed by the output) and to a file; each panel's query
   and aggregation runs on the node and its buckets must equal what the same panel computes in Python over
   the file output's events (and be non-empty: the samples hold data for every panel). A few top buckets are
   also computed by hand from the events.

The run uses its own namespace (`logs-uc.*-<ns>`, `ucsiem-alerts-<ns>`) and deletes what it wrote.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.agenthelp import run_once
from tests.integration.eshelp import (
    ES_URL,
    cleanup,
    count,
    flat_mapping,
    new_namespace,
    pattern,
    reachable,
    read,
    refresh,
    request,
    resolve,
    summary,
)
from ucsiem.cli import shipped_rules
from ucsiem.outputs.routing import is_alert
from ucsiem.parsing.registry import load_registry
from ucsiem.schema.kibana import (
    ALERTS,
    EVENTS,
    MISSING,
    NDJSON,
    PANELS,
    AnyOf,
    Clause,
    Is,
    Panel,
    es_query,
    query_fields,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "mappings" / "elasticsearch"
AGGREGATABLE = {"keyword", "ip", "long", "integer", "short", "byte", "float", "double", "date", "boolean"}
OUTPUT = "elasticsearch:es"
AUTO_INTERVAL = "1d"  # what `interval: auto` stands for here: Kibana picks it from the time picker's range


# -- the shipped saved objects -------------------------------------------------------------------------------


def saved_objects() -> dict[str, dict[str, Any]]:
    objects = [json.loads(line) for line in (ROOT / "mappings" / NDJSON).read_text().splitlines()]
    return {o["id"]: o for o in objects}


@dataclass
class Shipped:
    """One visualization as Kibana would run it: data view pattern, KQL and visState aggs."""

    panel: Panel
    data_view_id: str
    data_view_title: str
    kql: str
    aggs: list[dict[str, Any]]

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [a for a in self.aggs if a["schema"] == "metric"]

    @property
    def buckets(self) -> list[dict[str, Any]]:
        return [a for a in self.aggs if a["schema"] != "metric"]


def shipped_panels() -> list[Shipped]:
    objects = saved_objects()
    out = []
    for panel in PANELS:
        vis = objects[panel.id]
        ref = next(r for r in vis["references"] if r["name"] == "kibanaSavedObjectMeta.searchSourceJSON.index")
        source = json.loads(vis["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["query"]["language"] == "kuery" and source["filter"] == []
        state = json.loads(vis["attributes"]["visState"])
        assert all(a["enabled"] for a in state["aggs"])
        out.append(Shipped(panel, ref["id"], objects[ref["id"]]["attributes"]["title"],
                           source["query"]["query"], state["aggs"]))
    return out


def template_fields() -> dict[str, dict[str, str]]:
    """data view id -> flattened field types of the template that covers its indices."""
    component = json.loads((TEMPLATES / "component-template-ucsiem-schema.json").read_text())
    by_name = {"ucsiem-schema": flat_mapping(component["template"]["mappings"]["properties"])}
    out = {}
    for view, template in ((EVENTS, "index-template-ucsiem.json"), (ALERTS, "index-template-ucsiem-alerts.json")):
        body = json.loads((TEMPLATES / template).read_text())
        # the data view's pattern must take the names the template is for (and nothing needs more)
        assert any(fnmatch.fnmatchcase(p.replace("*", "x"), view.title) for p in body["index_patterns"]), \
            (view.title, body["index_patterns"])
        fields: dict[str, str] = {}
        for name in body["composed_of"]:
            fields.update(by_name[name])
        fields.update(flat_mapping(body.get("template", {}).get("mappings", {}).get("properties", {})))
        out[view.id] = fields
    return out


def kql_fields(text: str) -> set[str]:
    """Field names in the KQL of a panel (`name:` before a value)."""
    return set(re.findall(r"([A-Za-z_@][\w.@]*)\s*:", text))


# -- 1. fields ---------------------------------------------------------------------------------------------


def test_every_panel_field_exists_in_the_templates_and_is_aggregatable_where_aggregated() -> None:
    fields = template_fields()
    checked = 0
    for shipped in shipped_panels():
        known = fields[shipped.data_view_id]
        named = kql_fields(shipped.kql)
        assert named == set(query_fields(shipped.panel.query)), shipped.panel.id
        for name in named:
            assert name in known, f"{shipped.panel.id}: query field {name} is not in the template"
            checked += 1
        for agg in shipped.aggs:
            name = agg["params"].get("field")
            if agg["type"] == "count":
                continue
            assert name in known, f"{shipped.panel.id}: {agg['type']} on {name}, which the template lacks"
            assert known[name] in AGGREGATABLE, f"{shipped.panel.id}: {agg['type']} on {name} ({known[name]})"
            if agg["type"] == "date_histogram":
                assert known[name] == "date"
            if agg["type"] == "sum":
                assert known[name] in ("long", "integer", "float", "double")
            if agg["type"] == "terms" and agg["params"]["missingBucket"]:
                # Kibana's missing bucket is `missing: "__missing__"`: only a keyword can hold it
                assert known[name] == "keyword", f"{shipped.panel.id}: missing bucket on a {known[name]}"
            checked += 1
    assert checked >= 30


# -- 2. the sample events on the real node ---------------------------------------------------------------------


@dataclass
class Loaded:
    namespace: str
    events: list[dict[str, Any]]  # what the events data view holds (the data streams)
    alerts: list[dict[str, Any]]  # what the alerts index holds: the newest version of each alert

    def target(self, data_view_id: str) -> str:
        return pattern(self.namespace) if data_view_id == EVENTS.id else f"ucsiem-alerts-{self.namespace}"

    def docs(self, data_view_id: str) -> list[dict[str, Any]]:
        return self.events if data_view_id == EVENTS.id else self.alerts


def agent_config(tmp: Path, namespace: str) -> Path:
    """`ucsiem demo`'s inputs (every built-in parser's sample logs) to a file and to Elasticsearch."""
    inputs = []
    for loaded in load_registry(entry_point_plugins=False).all():
        if loaded.folder is None or not (loaded.folder / "tests").is_dir():
            continue
        inputs.append({"id": loaded.spec.id, "parser": loaded.spec.id, "timezone": "UTC",
                       "paths": [str(loaded.folder / "tests" / "*.log")]})
    assert len(inputs) >= 15
    config = {
        "agent": {"data_dir": str(tmp / "state"), "name": "ucsiem-dashboards", "stats_interval_secs": 0},
        "inputs": inputs,
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")},
                    {"type": "elasticsearch", "id": "es", "hosts": [ES_URL], "namespace": namespace,
                     "request_timeout_secs": 30}],
        "pipeline": {"workers": 0},
        "correlation": {"rules": [str(shipped_rules())]},
        "enrich": {"phone": {"home_region": "US"}},
    }
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    problem = reachable()
    if problem is not None:
        pytest.fail(f"no Elasticsearch at {ES_URL} ({problem}): run `bash scripts/services.sh start es` first")
    tmp = tmp_path_factory.mktemp("dashboards")
    namespace = new_namespace("dash")
    try:
        result = run_once(agent_config(tmp, namespace), timeout=300)
        assert result.returncode == 0, result.stderr[-5000:]
        out = summary(result.stderr)["outputs"]
        written = [orjson.loads(line) for line in (tmp / "out" / "events.ndjson").read_bytes().splitlines()]
        assert out[OUTPUT]["dead_letters"] == {} and out[OUTPUT]["delivered"] == len(written), out
        # one document per event.id, as Elasticsearch keeps them (_id = event.id): two sample files of one input
        # whose first lines are equal share a generation key, so the same line at the same offset is one event
        # (kamailio's xlog_operator*.log)
        events = list({e["event"]["id"]: e for e in reversed(written) if not is_alert(e)}.values())[::-1]
        newest: dict[str, dict[str, Any]] = {}
        for alert in filter(is_alert, written):
            old = newest.get(alert["event"]["id"])
            if old is None or alert["uc"]["alert"].get("count", 1) >= old["uc"]["alert"].get("count", 1):
                newest[alert["event"]["id"]] = alert
        state = Loaded(namespace, events, list(newest.values()))
        refresh(f"{state.target(EVENTS.id)},{state.target(ALERTS.id)}")
        assert count(state.target(EVENTS.id)) == len(events) > 500
        assert count(state.target(ALERTS.id)) == len(state.alerts) > 0
        yield state
    finally:
        cleanup(namespace)
        request("DELETE", f"/ucsiem-alerts-{namespace}", ok=(404,))


# -- what Kibana sends, rebuilt from the saved object -------------------------------------------------------


def es_aggs(shipped: Shipped) -> dict[str, Any]:
    """The visState's aggregations as Elasticsearch aggregations: bucket aggs nested in their order, the
    metrics (other than the count, which is each bucket's doc_count) under the innermost one."""
    metrics = {a["id"]: {a["type"]: {"field": a["params"]["field"]}} for a in shipped.metrics if a["type"] != "count"}
    inner: dict[str, Any] = metrics
    for agg in reversed(shipped.buckets):
        params = agg["params"]
        if agg["type"] == "terms":
            assert params["orderBy"] == "1" and params["order"] == "desc" and not params["otherBucket"]
            body: dict[str, Any] = {"field": params["field"], "size": params["size"], "order": {"_count": "desc"}}
            if params["missingBucket"]:
                body["missing"] = MISSING
            body.update(json.loads(params.get("json") or "{}"))  # the "JSON input", merged as Kibana does
            spec: dict[str, Any] = {"terms": body}
        else:
            assert agg["type"] == "date_histogram" and params["interval"] == "auto"
            spec = {"date_histogram": {"field": params["field"], "calendar_interval": AUTO_INTERVAL,
                                       "min_doc_count": params["min_doc_count"]}}
        if inner:
            spec["aggs"] = inner
        inner = {agg["id"]: spec}
    return inner


def kql_as_es(text: str) -> dict[str, Any]:
    """The panel's KQL as Elasticsearch runs it. The shipped KQL uses quoted values and upper-case
    operators only, which `query_string` reads with the same meaning (exact terms on keyword fields)."""
    return {"query_string": {"query": text}} if text else {"match_all": {}}


def search(target: str, query: dict[str, Any], aggs: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": query}
    if aggs:
        body["aggs"] = aggs
    answer: dict[str, Any] = read("POST", f"/{target}/_search", body)
    return answer


# -- the same panel in Python, over the events the file output got ----------------------------------------


def values(doc: dict[str, Any], path: str) -> list[Any]:
    node: Any = doc
    for part in path.split(".") if path != "@timestamp" else [path]:
        if not isinstance(node, dict) or part not in node:
            return []
        node = node[part]
    if node is None:
        return []
    return list(node) if isinstance(node, list) else [node]


def matches(doc: dict[str, Any], clause: Clause) -> bool:
    if isinstance(clause, Is):
        return any(v == w and type(v) is type(w) for v in values(doc, clause.field) for w in clause.values)
    if isinstance(clause, AnyOf):
        return any(matches(doc, c) for c in clause.clauses)
    return not matches(doc, clause.clause)


def bucket_keys(doc: dict[str, Any], agg: dict[str, Any]) -> list[Any]:
    found = values(doc, agg["params"]["field"])
    if agg["type"] == "date_histogram":
        return [datetime.fromisoformat(v).astimezone(UTC).strftime("%Y-%m-%d") for v in found]
    if not found and agg["params"]["missingBucket"]:
        return [MISSING]
    return [("true" if v else "false") if isinstance(v, bool) else v for v in found]


def metric_value(docs: list[dict[str, Any]], agg: dict[str, Any]) -> float:
    field = agg["params"]["field"]
    if agg["type"] == "cardinality":
        return len({str(v) for d in docs for v in values(d, field)})
    return float(sum(v for d in docs for v in values(d, field)))


def expected_level(docs: list[dict[str, Any]], buckets: list[dict[str, Any]], metrics: list[dict[str, Any]]
                   ) -> dict[Any, tuple[int, dict[str, float], Any]]:
    """key -> (doc count, metrics, the next level) of the first bucket agg, over every key (no size cut)."""
    agg = buckets[0]
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        for key in dict.fromkeys(bucket_keys(doc, agg)):
            groups[key].append(doc)
    out: dict[Any, tuple[int, dict[str, float], Any]] = {}
    for key, members in groups.items():
        inner = expected_level(members, buckets[1:], metrics) if len(buckets) > 1 else None
        mets = {m["id"]: metric_value(members, m) for m in metrics if m["type"] != "count"} if inner is None else {}
        out[key] = (len(members), mets, inner)
    return out


def es_key(bucket: dict[str, Any], agg: dict[str, Any]) -> Any:
    if agg["type"] == "date_histogram":
        return datetime.fromtimestamp(bucket["key"] / 1000, UTC).strftime("%Y-%m-%d")
    return bucket.get("key_as_string", bucket["key"])  # a boolean's key is 1/0, its key_as_string true/false


def compare(where: str, answer: dict[str, Any], expected: dict[Any, tuple[int, dict[str, float], Any]],
            buckets: list[dict[str, Any]], metrics: list[dict[str, Any]]) -> int:
    """Assert one level of buckets equals the Python figures: every returned bucket's count and metrics,
    and that what the size cut left out is no bigger than the smallest bucket kept. Returns buckets seen."""
    agg = buckets[0]
    got = answer[agg["id"]]["buckets"]
    size = agg["params"].get("size", len(expected))
    assert len(got) == min(size, len(expected)), f"{where}: {len(got)} buckets, expected {len(expected)}"
    seen = 0
    for bucket in got:
        key = es_key(bucket, agg)
        assert key in expected, f"{where}: bucket {key!r} not in the events"
        n, mets, inner = expected[key]
        assert bucket["doc_count"] == n, f"{where}[{key}]: {bucket['doc_count']} != {n}"
        for metric_id, value in mets.items():
            assert bucket[metric_id]["value"] == value, f"{where}[{key}].{metric_id}"
        seen += 1
        if inner is not None:
            seen += compare(f"{where}[{key}]", bucket, inner, buckets[1:], metrics)
    if agg["type"] == "terms" and got:
        kept = {es_key(b, agg) for b in got}
        floor = min(b["doc_count"] for b in got)
        assert all(n <= floor for k, (n, _, _) in expected.items() if k not in kept), f"{where}: top {size} wrong"
        counts = [b["doc_count"] for b in got]
        assert counts == sorted(counts, reverse=True), f"{where}: not ordered by count"
    return seen


# -- 2. run every panel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("panel_id", [p.id for p in PANELS])
def test_panel_buckets_on_the_node_equal_the_events(loaded: Loaded, panel_id: str) -> None:
    shipped = next(s for s in shipped_panels() if s.panel.id == panel_id)
    target = loaded.target(shipped.data_view_id)
    # the data view's pattern takes the names the output wrote
    names = [i["name"] for i in resolve(target).get("indices", []) if not i["name"].startswith(".ds-")]
    names += [s["name"] for s in resolve(target).get("data_streams", [])]
    assert names and all(fnmatch.fnmatchcase(n, shipped.data_view_title) for n in names), names

    docs = [d for d in loaded.docs(shipped.data_view_id) if all(matches(d, c) for c in shipped.panel.query)]
    assert docs, f"{panel_id}: the samples hold nothing for this panel"
    answer = search(target, kql_as_es(shipped.kql), es_aggs(shipped))
    # the KQL as stored and the structured query it was rendered from select the same documents
    assert answer["hits"]["total"]["value"] == len(docs) == \
        search(target, es_query(shipped.panel.query))["hits"]["total"]["value"]
    expected = expected_level(docs, shipped.buckets, shipped.metrics)
    seen = compare(panel_id, answer["aggregations"], expected, shipped.buckets, shipped.metrics)
    assert seen >= 1 and answer["aggregations"][shipped.buckets[0]["id"]]["buckets"], f"{panel_id}: no buckets"


# -- top buckets by hand, without the panel machinery -----------------------------------------------------------


def top(answer: dict[str, Any], agg_id: str) -> tuple[Any, int]:
    bucket = answer["aggregations"][agg_id]["buckets"][0]
    return bucket["key"], bucket["doc_count"]


def test_top_talker_auth_failure_source_toll_country_and_dead_letter_type(loaded: Loaded) -> None:
    panels = {s.panel.id: s for s in shipped_panels()}
    events = loaded.events

    def on_node(panel_id: str) -> tuple[Any, int]:
        shipped = panels[panel_id]
        answer = search(loaded.target(shipped.data_view_id), kql_as_es(shipped.kql), es_aggs(shipped))
        return top(answer, shipped.buckets[0]["id"])

    def agrees(panel_id: str, counter: Counter[Any]) -> tuple[Any, int]:
        """The node's top bucket has the highest count in the events; on a tie it is one of the tied keys
        (Elasticsearch breaks ties by key order)."""
        key, n = on_node(panel_id)
        assert counter, panel_id
        highest = max(counter.values())
        assert n == highest and counter[key] == highest, (panel_id, key, n, counter.most_common(3))
        return key, n

    auth = Counter(e["source"]["ip"] for e in events
                   if "authentication" in e.get("event", {}).get("category", [])
                   and e["event"].get("outcome") == "failure" and e.get("source", {}).get("ip"))
    toll = Counter(e["uc"]["call"]["callee_country"] for e in events
                   if (e.get("uc", {}).get("call", {}).get("callee_international") is True
                       or e.get("uc", {}).get("call", {}).get("callee_number_type") == "premium_rate")
                   and e["uc"]["call"].get("callee_country"))
    dead = Counter(e["error"]["type"] for e in events if e["event"].get("kind") == "pipeline_error")
    talkers = Counter(e["source"]["ip"] for e in events
                      if e["event"].get("kind") != "pipeline_error" and e.get("source", {}).get("ip"))
    rules = Counter(a["rule"]["name"] for a in loaded.alerts)

    figures = {panel_id: agrees(panel_id, counter) for panel_id, counter in (
        ("ucsiem-auth-failures", auth), ("ucsiem-toll-fraud", toll), ("ucsiem-dead-letters", dead),
        ("ucsiem-top-talkers", talkers), ("ucsiem-alerts-by-rule", rules))}
    print(json.dumps(figures))
