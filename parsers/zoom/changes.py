"""What an `*.updated` / `*.settings_updated` event changed: `object` (new values) against `old_object`.

Zoom sends the changed fields in `object` and their previous values in `old_object` (both may carry
extra context such as `id` or `date_time`). A field counts as changed when `old_object` has it with
another value; inside a nested object that `old_object` also has (`settings`), a field only the new
side has counts too. The result feeds `uc.vendor.changed` and the message, so a security-setting
downgrade (`settings.meeting_authentication: true -> false`) is visible without reading the body.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_CHANGES = 32
MAX_DEPTH = 3
MAX_SHOWN = 80  # characters of a value shown in the message
_CONTEXT_KEYS = frozenset(("id", "uuid"))


def changed_fields(new: dict[str, Any], old: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted path, old value, new value) of every changed field, at most MAX_CHANGES."""
    out: list[tuple[str, Any, Any]] = []
    _walk(new, old, "", 0, False, out)
    return out


def _walk(new: dict[str, Any], old: dict[str, Any], prefix: str, depth: int, nested: bool,
          out: list[tuple[str, Any, Any]]) -> None:
    for key, value in new.items():
        if len(out) >= MAX_CHANGES:
            return
        if not prefix and key in _CONTEXT_KEYS:
            continue
        path = f"{prefix}{key}"
        if key not in old:
            if nested:
                out.append((path, None, value))
            continue
        before = old[key]
        if isinstance(value, dict) and isinstance(before, dict) and depth < MAX_DEPTH:
            _walk(value, before, path + ".", depth + 1, True, out)
        elif _differs(value, before):
            out.append((path, before, value))


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except RecursionError:  # hostile nesting (orjson allows ~1000 levels): treat as changed
        return True


def shown(value: Any) -> str:
    """A value as JSON text, cut for the message (`true`, `"NotZoom"`, `null`)."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # orjson refuses very deep nesting (JSONEncodeError is a TypeError)
        text = "<nested>"
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def describe(changes: list[tuple[str, Any, Any]]) -> str:
    return "; ".join(f"{path}: {shown(old)} -> {shown(new)}" for path, old, new in changes)
