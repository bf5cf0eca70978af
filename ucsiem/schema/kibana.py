"""Kibana saved objects for the "UC security overview" dashboard, generated from one definition per panel.

`PANELS` is the source of truth: each panel names its data view, its query (a small structured form
that renders both as the KQL Kibana stores and as the Elasticsearch query it stands for) and its
aggregations. `render()` writes them as the NDJSON of Kibana 8.x's saved-objects export (data views,
aggregation-based `visualization` objects with a `visState`, one `dashboard`), the format
`POST /api/saved_objects/_import` and Stack Management -> Saved objects -> Import take. The committed
`mappings/kibana/ucsiem.ndjson` must equal it (a test checks; `ucsiem mappings generate` rewrites it).

Only aggregation-based visualizations (`table`, `pie`, `histogram`) are used: their `visState` is a plain
list of Elasticsearch aggregations, which tests/integration/test_dashboards.py runs against a real node.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ucsiem.schema.generate import ALERTS_INDEX_PATTERN

NDJSON = "kibana/ucsiem.ndjson"  # relative to mappings/
CORE_MIGRATION_VERSION = "8.8.0"  # what Kibana 8.8+ exports write; older 8.x objects are migrated on import
TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "visualization": "8.5.0", "dashboard": "8.9.0"}
DASHBOARD_ID = "ucsiem-uc-security-overview"
DASHBOARD_TITLE = "UC security overview"
MISSING = "__missing__"  # the `missing` value Kibana's terms agg sends when missingBucket is on


@dataclass(frozen=True)
class DataView:
    id: str
    title: str  # the index pattern
    name: str


EVENTS = DataView("ucsiem-events", "logs-uc.*", "ucsiem events (logs-uc.*)")
ALERTS = DataView("ucsiem-alerts", ALERTS_INDEX_PATTERN, "ucsiem alerts (ucsiem-alerts-*)")
DATA_VIEWS = (EVENTS, ALERTS)


# -- queries: rendered as KQL (stored in Kibana) and as Elasticsearch query DSL (what it means) ----------


@dataclass(frozen=True)
class Is:
    """`field` equals one of `values` (a keyword or boolean field: an exact term)."""

    field: str
    values: tuple[str | bool, ...]


@dataclass(frozen=True)
class AnyOf:
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Not:
    clause: Clause


Clause = Is | AnyOf | Not


def _kql_value(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # a quoted phrase: exact on a keyword field, no wildcard or operator inside


def _kql_clause(clause: Clause) -> str:
    if isinstance(clause, Is):
        values = [_kql_value(v) for v in clause.values]
        return f"{clause.field}:{values[0]}" if len(values) == 1 else f"{clause.field}:({' OR '.join(values)})"
    if isinstance(clause, AnyOf):
        return "(" + " OR ".join(_kql_clause(c) for c in clause.clauses) + ")"
    return f"NOT {_kql_clause(clause.clause)}"


def kql(query: Sequence[Clause]) -> str:
    """The KQL of a conjunction of clauses. Operators are upper case: KQL takes them in any case, and
    the same text is then also valid Lucene `query_string` syntax with the same meaning (the tests use that
    to cross-check the KQL against the structured query)."""
    return " AND ".join(_kql_clause(c) for c in query)


def _es_clause(clause: Clause) -> dict[str, Any]:
    if isinstance(clause, Is):
        if len(clause.values) == 1:
            return {"term": {clause.field: clause.values[0]}}
        return {"terms": {clause.field: list(clause.values)}}
    if isinstance(clause, AnyOf):
        return {"bool": {"should": [_es_clause(c) for c in clause.clauses], "minimum_should_match": 1}}
    return {"bool": {"must_not": [_es_clause(clause.clause)]}}


def es_query(query: Sequence[Clause]) -> dict[str, Any]:
    if not query:
        return {"match_all": {}}
    return {"bool": {"filter": [_es_clause(c) for c in query]}}


def query_fields(query: Sequence[Clause]) -> list[str]:
    out: list[str] = []
    for clause in query:
        if isinstance(clause, Is):
            out.append(clause.field)
        elif isinstance(clause, AnyOf):
            out.extend(query_fields(clause.clauses))
        else:
            out.extend(query_fields([clause.clause]))
    return out


# -- aggregations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    field: str
    size: int
    label: str
    missing_bucket: bool = False  # a "Missing" bucket for events without the field (keyword fields only)
    # Each data stream (and each backing index) is its own shard, and a shard only returns its top
    # size * 1.5 + 10 terms: a source seen a little in many datasets would fall out of a top 10. Set in
    # the aggregation's "JSON input" (Advanced), which Kibana merges into the terms aggregation.
    shard_size: int = 500


@dataclass(frozen=True)
class DateHistogram:
    field: str = "@timestamp"
    interval: str = "auto"
    label: str = "Time"


@dataclass(frozen=True)
class Metric:
    type: Literal["cardinality", "sum"]
    field: str
    label: str


Bucket = Terms | DateHistogram
VisType = Literal["table", "pie", "histogram"]


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    description: str
    data_view: DataView
    query: tuple[Clause, ...]
    vis: VisType
    buckets: tuple[Bucket, ...]
    metrics: tuple[Metric, ...] = ()
    count_label: str = "Events"

    @property
    def kql(self) -> str:
        return kql(self.query)


CALL_ACTIONS: tuple[str | bool, ...] = ("call-attempt", "call-start", "call-end", "call-reject", "call-redirect")

PANELS: tuple[Panel, ...] = (
    Panel(
        id="ucsiem-auth-failures",
        title="Authentication failures by source and user",
        description="Failed logins, SIP digest challenges that failed and refused registrations "
                    "(event.category authentication, event.outcome failure), per source address and user.",
        data_view=EVENTS,
        query=(Is("event.category", ("authentication",)), Is("event.outcome", ("failure",))),
        vis="table",
        buckets=(Terms("source.ip", 10, "Source"), Terms("user.name", 5, "User", missing_bucket=True)),
        count_label="Failures",
    ),
    Panel(
        id="ucsiem-registrations",
        title="SIP registrations over time",
        description="REGISTER and de-registration events over time, stacked by outcome.",
        data_view=EVENTS,
        query=(Is("event.action", ("sip-register", "sip-unregister")),),
        vis="histogram",
        buckets=(DateHistogram(), Terms("event.outcome", 3, "Outcome", missing_bucket=True)),
        count_label="Registrations",
    ),
    Panel(
        id="ucsiem-calls-by-outcome",
        title="Calls by outcome",
        description="Call records that end a call (call-end, call-reject) by event.outcome.",
        data_view=EVENTS,
        query=(Is("event.action", ("call-end", "call-reject")),),
        vis="pie",
        buckets=(Terms("event.outcome", 5, "Outcome", missing_bucket=True),),
        count_label="Calls",
    ),
    Panel(
        id="ucsiem-calls-by-country",
        title="Calls by destination country",
        description="Call events by the country of the called number (enrich.phone), with the number "
                    "of distinct calls (uc.call.id).",
        data_view=EVENTS,
        query=(Is("event.action", CALL_ACTIONS),),
        vis="table",
        buckets=(Terms("uc.call.callee_country", 20, "Callee country"),),
        metrics=(Metric("cardinality", "uc.call.id", "Calls"),),
        count_label="Call events",
    ),
    Panel(
        id="ucsiem-toll-fraud",
        title="Toll-fraud candidates: premium-rate and international callees",
        description="Events whose called number is premium-rate or outside the home region "
                    "(enrich.phone home_region), by country and number type.",
        data_view=EVENTS,
        query=(AnyOf((Is("uc.call.callee_number_type", ("premium_rate",)),
                      Is("uc.call.callee_international", (True,)))),),
        vis="table",
        buckets=(Terms("uc.call.callee_country", 20, "Callee country"),
                 Terms("uc.call.callee_number_type", 5, "Number type", missing_bucket=True)),
        metrics=(Metric("cardinality", "uc.call.id", "Calls"),
                 Metric("cardinality", "uc.call.callee_number", "Numbers")),
    ),
    Panel(
        id="ucsiem-alerts-by-rule",
        title="Alerts by rule and level",
        description="Correlation alerts (one document per alert, its newest count) by rule and level.",
        data_view=ALERTS,
        query=(Is("event.dataset", ("ucsiem.alert",)),),
        vis="table",
        buckets=(Terms("rule.name", 20, "Rule"), Terms("uc.alert.level", 5, "Level")),
        metrics=(Metric("sum", "uc.alert.count", "Matched events"),),
        count_label="Alerts",
    ),
    Panel(
        id="ucsiem-alerts-by-level",
        title="Alerts by level",
        description="Correlation alerts by uc.alert.level.",
        data_view=ALERTS,
        query=(Is("event.dataset", ("ucsiem.alert",)),),
        vis="pie",
        buckets=(Terms("uc.alert.level", 5, "Level"),),
        count_label="Alerts",
    ),
    Panel(
        id="ucsiem-top-talkers",
        title="Top talkers (source.ip)",
        description="Source addresses with the most events, and in how many datasets they appear.",
        data_view=EVENTS,
        query=(Not(Is("event.kind", ("pipeline_error",))),),
        vis="table",
        buckets=(Terms("source.ip", 10, "Source"),),
        metrics=(Metric("cardinality", "event.dataset", "Datasets"),),
    ),
    Panel(
        id="ucsiem-dead-letters",
        title="Pipeline health: dead letters by error type",
        description="Records that could not be parsed or delivered (event.kind pipeline_error) by "
                    "error.type, stacked by dataset. Should stay near zero.",
        data_view=EVENTS,
        query=(Is("event.kind", ("pipeline_error",)),),
        vis="histogram",
        buckets=(Terms("error.type", 10, "Error type"), Terms("event.dataset", 10, "Dataset")),
        count_label="Dead letters",
    ),
    Panel(
        id="ucsiem-events-by-dataset",
        title="Pipeline health: events by dataset",
        description="Everything shipped, by dataset and event.kind (event, alert, metric, pipeline_error).",
        data_view=EVENTS,
        query=(),
        vis="table",
        buckets=(Terms("event.dataset", 50, "Dataset"), Terms("event.kind", 5, "Kind", missing_bucket=True)),
    ),
)


# -- rendering ----------------------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    """The JSON-in-a-string of Kibana's *JSON attributes (compact, key order as built)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def vis_aggs(panel: Panel) -> list[dict[str, Any]]:
    """The `visState.aggs` of a panel: the count (id 1), its metrics, then its buckets in nesting order."""
    aggs: list[dict[str, Any]] = [{"id": "1", "enabled": True, "type": "count", "params": {
        "emptyAsNull": False, "customLabel": panel.count_label}, "schema": "metric"}]
    for metric in panel.metrics:
        aggs.append({"id": str(len(aggs) + 1), "enabled": True, "type": metric.type,
                     "params": {"field": metric.field, "emptyAsNull": False, "customLabel": metric.label},
                     "schema": "metric"})
    for i, bucket in enumerate(panel.buckets):
        if panel.vis == "table":
            schema = "bucket"  # split rows
        elif panel.vis == "pie":
            schema = "segment"  # slices
        else:
            schema = "segment" if i == 0 else "group"  # x axis, then split series
        agg_id = str(len(aggs) + 1)
        if isinstance(bucket, DateHistogram):
            params: dict[str, Any] = {"field": bucket.field, "useNormalizedEsInterval": True,
                                      "scaleMetricValues": False, "interval": bucket.interval,
                                      "drop_partials": False, "min_doc_count": 1, "extended_bounds": {},
                                      "customLabel": bucket.label}
            aggs.append({"id": agg_id, "enabled": True, "type": "date_histogram", "params": params,
                         "schema": schema})
        else:
            params = {"field": bucket.field, "orderBy": "1", "order": "desc", "size": bucket.size,
                      "otherBucket": False, "otherBucketLabel": "Other",
                      "missingBucket": bucket.missing_bucket, "missingBucketLabel": "Missing",
                      "json": _dumps({"shard_size": bucket.shard_size}), "customLabel": bucket.label}
            aggs.append({"id": agg_id, "enabled": True, "type": "terms", "params": params, "schema": schema})
    return aggs


def _vis_params(panel: Panel) -> dict[str, Any]:
    if panel.vis == "table":
        return {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": False,
                "totalFunc": "sum", "percentageCol": "", "showToolbar": True, "autoFitRowToContent": False}
    if panel.vis == "pie":
        return {"type": "pie", "addTooltip": True, "legendDisplay": "show", "legendPosition": "right",
                "nestedLegend": False, "truncateLegend": True, "maxLegendLines": 1, "distinctColors": False,
                "isDonut": True, "emptySizeRatio": 0.3, "palette": {"type": "palette", "name": "default"},
                "labels": {"show": True, "last_level": True, "values": True, "valuesFormat": "value",
                           "percentDecimals": 2, "truncate": 100, "position": "default"}}
    return {
        "type": "histogram", "grid": {"categoryLines": False},
        "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": True,
                          "style": {}, "scale": {"type": "linear"},
                          "labels": {"show": True, "filter": True, "truncate": 100}, "title": {}}],
        "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left",
                       "show": True, "style": {}, "scale": {"type": "linear", "mode": "normal"},
                       "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                       "title": {"text": panel.count_label}}],
        "seriesParams": [{"show": True, "type": "histogram", "mode": "stacked",
                          "data": {"label": panel.count_label, "id": "1"}, "valueAxis": "ValueAxis-1",
                          "drawLinesBetweenPoints": True, "lineWidth": 2, "showCircles": True}],
        "addTooltip": True, "addLegend": True, "legendPosition": "right", "times": [], "addTimeMarker": False,
        "labels": {"show": False},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
        "palette": {"type": "palette", "name": "kibana_palette"}, "isVislibVis": True,
        "detailedTooltip": True, "legendSize": "auto",
    }


def _saved(kind: str, obj_id: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"attributes": attributes, "coreMigrationVersion": CORE_MIGRATION_VERSION, "id": obj_id,
            "managed": False, "references": references, "type": kind,
            "typeMigrationVersion": TYPE_MIGRATION_VERSION[kind]}


def data_view_object(view: DataView) -> dict[str, Any]:
    return _saved("index-pattern", view.id, {
        "allowHidden": False, "fieldAttrs": "{}", "fieldFormatMap": "{}", "fields": "[]", "name": view.name,
        "runtimeFieldMap": "{}", "sourceFilters": "[]", "timeFieldName": "@timestamp", "title": view.title,
    }, [])


def visualization_object(panel: Panel) -> dict[str, Any]:
    search_source = {"query": {"query": panel.kql, "language": "kuery"}, "filter": [],
                     "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    vis_state = {"title": panel.title, "type": panel.vis, "aggs": vis_aggs(panel), "params": _vis_params(panel)}
    return _saved("visualization", panel.id, {
        "description": panel.description,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _dumps(search_source)},
        "title": panel.title, "uiStateJSON": "{}", "version": 1, "visState": _dumps(vis_state),
    }, [{"id": panel.data_view.id, "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
         "type": "index-pattern"}])


def dashboard_object(panels: Sequence[Panel] = PANELS) -> dict[str, Any]:
    grid: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    for i, panel in enumerate(panels):
        index = f"p{i + 1}"
        grid.append({"type": "visualization",
                     "gridData": {"x": 24 * (i % 2), "y": 15 * (i // 2), "w": 24, "h": 15, "i": index},
                     "panelIndex": index, "embeddableConfig": {"enhancements": {}}, "title": panel.title,
                     "panelRefName": f"panel_{index}"})
        references.append({"id": panel.id, "name": f"{index}:panel_{index}", "type": "visualization"})
    return _saved("dashboard", DASHBOARD_ID, {
        "description": "ucsiem: authentication failures, registrations, calls and toll-fraud candidates, "
                       "correlation alerts, top talkers and pipeline health (generated; see the README).",
        "kibanaSavedObjectMeta": {"searchSourceJSON": _dumps({"query": {"query": "", "language": "kuery"},
                                                              "filter": []})},
        "optionsJSON": _dumps({"useMargins": True, "syncColors": False, "syncCursor": True,
                               "syncTooltips": False, "hidePanelTitles": False}),
        "panelsJSON": _dumps(grid), "timeRestore": False, "title": DASHBOARD_TITLE, "version": 1,
    }, references)


def saved_objects() -> list[dict[str, Any]]:
    """Referenced objects first, as Kibana's export writes them."""
    return [*(data_view_object(v) for v in DATA_VIEWS), *(visualization_object(p) for p in PANELS),
            dashboard_object()]


def render() -> dict[str, bytes]:
    """Relative path (under mappings/) -> exact file content."""
    lines = [json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False) for obj in saved_objects()]
    return {NDJSON: ("\n".join(lines) + "\n").encode()}
