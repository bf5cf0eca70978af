"""Generate `mappings/` from the schema models: field reference, Elasticsearch templates, JSON Schema.

The committed files must equal what this writes (`ucsiem mappings check`, and a test), so the
documentation and the index mappings can never drift from what the agent emits.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import AwareDatetime
from pydantic.fields import FieldInfo

from ucsiem.schema.actions import ACTIONS
from ucsiem.schema.event import UCEvent, field_paths

INDEX_PATTERN = "logs-uc.*-*"
ALERTS_INDEX_PATTERN = "ucsiem-alerts-*"  # plain indices: alerts are updated in place (data streams only create)
COMPONENT_NAME = "ucsiem-schema"


def es_type(info: FieldInfo) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "es" in extra:
        return str(extra["es"])
    for meta in info.metadata:
        meta_extra = getattr(meta, "json_schema_extra", None)
        if isinstance(meta_extra, dict) and "es" in meta_extra:
            return str(meta_extra["es"])
    return _python_es_type(info.annotation)


def _python_es_type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        # a bare list[...] or an Annotated[...] member carries the real type
        for arg in args:
            extra = _annotated_es(arg)
            if extra:
                return extra
        return _python_es_type(args[0]) if len(args) == 1 else "keyword"
    if origin is typing.Annotated:
        return _annotated_es(annotation) or _python_es_type(typing.get_args(annotation)[0])
    if origin is list:
        return _python_es_type(typing.get_args(annotation)[0])
    if origin is dict:
        return "flattened"
    if origin is typing.Literal:
        return "keyword"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "long"
    if annotation is float:
        return "float"
    if annotation is AwareDatetime or (isinstance(annotation, type) and issubclass(annotation, datetime)):
        return "date"
    return "keyword"


def _annotated_es(annotation: Any) -> str | None:
    for meta in getattr(annotation, "__metadata__", ()):
        extra = getattr(meta, "json_schema_extra", None)
        if isinstance(extra, dict) and "es" in extra:
            return str(extra["es"])
    return _annotated_es(typing.get_args(annotation)[0]) if typing.get_origin(annotation) is typing.Annotated \
        and typing.get_args(annotation) else None


def es_properties() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for dotted, info in field_paths():
        node = props
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {"properties": {}})["properties"]
        kind = es_type(info)
        mapping: dict[str, Any] = {"type": kind}
        if kind == "keyword":
            mapping["ignore_above"] = 1024
        node[parts[-1]] = mapping
    return props


def render() -> dict[str, bytes]:
    """Relative path -> exact file content."""
    opts = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    component = {
        "template": {"mappings": {"dynamic": False, "date_detection": False, "properties": es_properties()}},
        "_meta": {"description": "ucsiem common event schema (generated; do not edit)", "managed_by": "ucsiem"},
    }
    index_template = {
        "index_patterns": [INDEX_PATTERN],
        "data_stream": {},
        "composed_of": [COMPONENT_NAME],
        "priority": 200,
        "template": {"settings": {"index": {"mapping": {"total_fields": {"limit": 2000}}}}},
        "_meta": {"description": "ucsiem UC events (generated; do not edit)", "managed_by": "ucsiem"},
    }
    alerts_template = {
        "index_patterns": [ALERTS_INDEX_PATTERN],
        "composed_of": [COMPONENT_NAME],
        "priority": 200,
        "template": {"settings": {"index": {"mapping": {"total_fields": {"limit": 2000}}}}},
        "_meta": {"description": "ucsiem correlation alerts, one document per alert id updated in place "
                                 "(generated; do not edit)", "managed_by": "ucsiem"},
    }
    from ucsiem.schema import kibana  # it reads this module's index names

    schema = UCEvent.model_json_schema(by_alias=True, mode="serialization")
    return {
        "fields.md": _fields_md().encode(),
        f"elasticsearch/component-template-{COMPONENT_NAME}.json": orjson.dumps(component, option=opts) + b"\n",
        "elasticsearch/index-template-ucsiem.json": orjson.dumps(index_template, option=opts) + b"\n",
        "elasticsearch/index-template-ucsiem-alerts.json": orjson.dumps(alerts_template, option=opts) + b"\n",
        "event.schema.json": orjson.dumps(schema, option=opts) + b"\n",
        **kibana.render(),  # the dashboards, on the fields defined above
    }


def _fields_md() -> str:
    lines = [
        "# ucsiem event fields",
        "",
        "Generated from `ucsiem/schema/event.py` by `ucsiem mappings generate`; do not edit by hand.",
        "Events are nested ECS JSON; names below are dotted paths. Fields under `uc.*` are ucsiem's",
        "extension for what ECS has no field for. `uc.vendor` is a `flattened` object of vendor fields.",
        "",
        "| field | type | description |",
        "|---|---|---|",
    ]
    for dotted, info in field_paths():
        desc = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{dotted}` | {es_type(info)} | {desc} |")
    lines += ["", "## `event.action` vocabulary", "",
              "One vocabulary for every parser; success or failure is `event.outcome`, the vendor's own",
              "event name is `event.code`.", "", "| action | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in ACTIONS.items()]
    return "\n".join(lines) + "\n"


def generate(out: Path) -> list[Path]:
    written = []
    for rel, content in render().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def check(out: Path) -> list[str]:
    drift = []
    for rel, content in render().items():
        path = out / rel
        if not path.is_file():
            drift.append(f"missing: {path}")
        elif path.read_bytes() != content:
            drift.append(f"differs: {path}")
    return drift
