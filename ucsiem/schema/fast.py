"""Hot-path validation: the UCEvent rules, applied to plain dicts.

Validating into model instances and dumping them with `exclude_none` walks every declared field of
every sub-model (about 150), so it cost about half of the per-event budget. This mirrors each model
as a TypedDict with the same field types, constraints and validators (`extra="forbid"` kept), which
pydantic-core validates into plain dicts holding only the keys that were given; orjson then writes
them. The models stay the single source of truth: the TypedDicts are derived from them at import,
and a test checks that both paths accept, reject and serialize the same events identically.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, NotRequired, Required

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from ucsiem.schema.event import UCEvent

_cache: dict[type[BaseModel], Any] = {}


def _convert(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_dict_of(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_convert(a) for a in typing.get_args(annotation))]  # noqa: UP007
    if origin is list:
        return list[_convert(typing.get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


def _without_none(annotation: Any) -> Any:
    """`X | None` -> `X`: an absent key is how a dict says None (see `validate_event`)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(annotation) if a is not type(None))
        return args[0] if len(args) == 1 else typing.Union[args]  # noqa: UP007
    return annotation


def typed_dict_of(model: type[BaseModel]) -> Any:
    """A TypedDict with the model's keys (aliases), types, constraints and `extra` policy."""
    if model in _cache:
        return _cache[model]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _convert(_without_none(info.annotation))
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        fields[info.alias or name] = Required[annotation] if info.is_required() else NotRequired[annotation]
    make: Any = TypedDict  # called with computed fields: opaque to the type checker on purpose
    td = make(f"{model.__name__}Dict", fields)
    td.__pydantic_config__ = ConfigDict(extra=model.model_config.get("extra"),
                                        allow_inf_nan=model.model_config.get("allow_inf_nan", True))
    _cache[model] = td
    return td


_EVENT = TypeAdapter(typed_dict_of(UCEvent))


def validate_event(data: dict[str, Any]) -> dict[str, Any]:
    """Validate like `UCEvent.model_validate`; raises pydantic.ValidationError. Defaults are not filled.

    A None value means "absent", as in the models' `exclude_none` output. The TypedDicts do not accept
    None, so clean input (the usual case) costs no extra walk; input holding None is cleaned and
    validated again. `data` may be modified.
    """
    try:
        result: dict[str, Any] = _EVENT.validate_python(data)
    except ValidationError:
        if not _drop_none(data):
            raise
        result = _EVENT.validate_python(data)
    return result


def _drop_none(node: dict[str, Any]) -> bool:
    """Remove None values at any depth; True if any was removed."""
    absent = [k for k, v in node.items() if v is None]
    for key in absent:
        del node[key]
    changed = bool(absent)
    for value in node.values():
        if type(value) is dict:
            changed = _drop_none(value) or changed
    return changed


def dump_event(event: dict[str, Any]) -> bytes:
    """JSON of a validated event, byte-identical to `UCEvent.to_json()` for the same input."""
    return orjson.dumps(event, option=orjson.OPT_UTC_Z)
