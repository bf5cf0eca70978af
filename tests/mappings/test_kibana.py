"""mappings/kibana/ucsiem.ndjson must be exactly what ucsiem/schema/kibana.py generates, and hang together
as Kibana's import needs it: every reference resolves inside the file, every panel is on the dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ucsiem.schema.generate import check, generate
from ucsiem.schema.kibana import (
    DASHBOARD_TITLE,
    NDJSON,
    PANELS,
    AnyOf,
    Is,
    Not,
    es_query,
    kql,
)

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def shipped() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (MAPPINGS / NDJSON).read_text().splitlines()]


def test_committed_kibana_objects_match_the_definitions() -> None:
    drift = check(MAPPINGS)
    assert not drift, f"{drift}: run `ucsiem mappings generate` and commit the result"


def test_check_detects_drift(tmp_path: Path) -> None:
    generate(tmp_path)
    assert check(tmp_path) == []
    (tmp_path / NDJSON).write_text("{}\n")
    assert check(tmp_path) == [f"differs: {tmp_path / NDJSON}"]  # the dashboards are checked with the rest


def test_every_reference_resolves_within_the_file() -> None:
    objects = shipped()
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(ids) == len(set(ids)), "duplicate saved-object ids"
    for obj in objects:
        assert obj["coreMigrationVersion"].startswith("8.") and obj["typeMigrationVersion"].startswith("8.")
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} refers to a missing {ref}"
    assert [o["type"] for o in objects].count("index-pattern") == 2
    assert {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"} == {"logs-uc.*",
                                                                                          "ucsiem-alerts-*"}


def test_visualizations_name_their_data_view_and_query() -> None:
    by_id = {o["id"]: o for o in shipped()}
    for panel in PANELS:
        vis = by_id[panel.id]
        assert vis["type"] == "visualization"
        source = json.loads(vis["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["query"] == {"query": panel.kql, "language": "kuery"}
        assert source["indexRefName"] == "kibanaSavedObjectMeta.searchSourceJSON.index"
        assert vis["references"] == [{"id": panel.data_view.id, "type": "index-pattern",
                                      "name": "kibanaSavedObjectMeta.searchSourceJSON.index"}]
        state = json.loads(vis["attributes"]["visState"])
        assert state["title"] == vis["attributes"]["title"] == panel.title
        assert state["type"] in ("table", "pie", "histogram")
        assert state["aggs"][0]["type"] == "count" and state["aggs"][0]["schema"] == "metric"


def test_dashboard_holds_every_panel_once_without_overlap() -> None:
    dashboards = [o for o in shipped() if o["type"] == "dashboard"]
    assert len(dashboards) == 1
    dashboard = dashboards[0]
    assert dashboard["attributes"]["title"] == DASHBOARD_TITLE
    grid = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    assert [refs[f"{p['panelIndex']}:{p['panelRefName']}"] for p in grid] == [p.id for p in PANELS]
    cells: set[tuple[int, int]] = set()
    for p in grid:
        g = p["gridData"]
        assert g["x"] + g["w"] <= 48 and g["i"] == p["panelIndex"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, f"panel {p['panelIndex']} overlaps another"
        cells |= mine


def test_query_renderings() -> None:
    query = (Is("event.action", ("call-end", "call-reject")), Is("event.outcome", ("failure",)),
             AnyOf((Is("uc.call.callee_number_type", ("premium_rate",)), Is("uc.call.callee_international", (True,)))),
             Not(Is("event.kind", ("pipeline_error",))))
    assert kql(query) == ('event.action:("call-end" OR "call-reject") AND event.outcome:"failure" AND '
                          '(uc.call.callee_number_type:"premium_rate" OR uc.call.callee_international:true) AND '
                          'NOT event.kind:"pipeline_error"')
    assert es_query(query) == {"bool": {"filter": [
        {"terms": {"event.action": ["call-end", "call-reject"]}},
        {"term": {"event.outcome": "failure"}},
        {"bool": {"should": [{"term": {"uc.call.callee_number_type": "premium_rate"}},
                             {"term": {"uc.call.callee_international": True}}], "minimum_should_match": 1}},
        {"bool": {"must_not": [{"term": {"event.kind": "pipeline_error"}}]}},
    ]}}
    assert kql(()) == "" and es_query(()) == {"match_all": {}}
