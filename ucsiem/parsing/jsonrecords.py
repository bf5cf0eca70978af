"""JSON sources (cloud audit APIs, webhooks): one document per line, or the arrays and envelopes APIs return.

A webhook receiver or an export script writes NDJSON; a saved API page is an array (`[{...}, {...}]`),
an envelope (`{"value": [...]}` from Microsoft Graph, `{"items": [...]}` from Webex), and may be
pretty-printed over many lines. `JSON_FRAMING` cuts pretty-printed documents at lines that open a
top-level value in column 0, so NDJSON stays one record per line; `json_documents` turns one record
into the list of objects it holds.
"""

from __future__ import annotations

from typing import Any

import orjson

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import Framing

# A record starts at a line opening a top-level object or array; indented lines and closing
# brackets continue it. Large API pages are allowed, with a bound.
JSON_FRAMING = Framing(kind="multiline", first_line_pattern=r"[\[{]", max_lines=200_000,
                       max_bytes=16 * 1_048_576, flush_timeout_secs=1.0)


def json_documents(text: str, *, envelopes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The JSON objects in one record: an object, an array of objects, or an object whose only list
    under one of `envelopes` holds them (`{"value": [...], "@odata.nextLink": ...}`).

    Raises ParseError: `no_match` when the record is not JSON, `truncated` when it ends early,
    `bad_field` when it holds something else than objects.
    """
    body = text.strip()
    if not body:
        return []
    if body[0] not in "[{":
        raise ParseError("no_match", f"not a JSON object or array: {body[:64]!r}")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _unterminated(body):
            raise ParseError("truncated", f"JSON ends before its closing bracket ({exc})") from exc
        raise ParseError("no_match", f"not valid JSON: {exc}") from exc
    if isinstance(value, dict):
        for key in envelopes:
            inner = value.get(key)
            if isinstance(inner, list):
                value = inner
                break
        else:
            return [value]
    if not isinstance(value, list):  # pragma: no cover - orjson returns dict or list for [ and {
        raise ParseError("bad_field", "JSON record is neither an object nor an array")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ParseError("bad_field", f"JSON array item {index} is a {type(item).__name__}, not an object")
    return value


def _unterminated(body: str) -> bool:
    """True when the brackets opened outside strings are not all closed: a cut document."""
    depth = 0
    in_string = escaped = False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth > 0 or in_string
