"""The committed mappings/ must be exactly what the schema generates (ECS-style drift check)."""

from __future__ import annotations

from pathlib import Path

import orjson

from ucsiem.schema.generate import check, generate, render

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def test_committed_mappings_match_the_schema() -> None:
    drift = check(MAPPINGS)
    assert not drift, f"{drift}: run `ucsiem mappings generate` and commit the result"


def test_check_detects_drift(tmp_path: Path) -> None:
    generate(tmp_path)
    assert check(tmp_path) == []
    (tmp_path / "fields.md").write_text("edited by hand\n")
    assert check(tmp_path) == [f"differs: {tmp_path / 'fields.md'}"]


def test_es_types_of_key_fields() -> None:
    component = orjson.loads(render()["elasticsearch/component-template-ucsiem-schema.json"])
    props = component["template"]["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"
    assert props["source"]["properties"]["ip"]["type"] == "ip"
    assert props["related"]["properties"]["ip"]["type"] == "ip"
    assert props["uc"]["properties"]["vendor"]["type"] == "flattened"
    assert props["uc"]["properties"]["sip"]["properties"]["status_code"]["type"] == "long"
    assert props["uc"]["properties"]["media"]["properties"]["mos"]["type"] == "float"
    assert props["event"]["properties"]["action"]["type"] == "keyword"
