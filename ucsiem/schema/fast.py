"""Hot-path validation: the UCEvent rules, applied to plain dicts.

Validating into model instances and dumping them with `exclude_none` walks every declared field of
every sub-model (about 150). Instead, an event is checked against the generated msgspec Structs of
`compiled.py` (the models' fields, types, bounds and `extra="forbid"`) and turned back into plain dicts
holding only the keys that were given, in the models' order; orjson then writes them. msgspec accepts
less than pydantic (it does not coerce "5" into a port) and has no after-validators, so an event it
refuses, or whose IP addresses or times are not canonical yet (`compiled.canonicalise`), is validated by
pydantic-core against TypedDicts mirroring the models (built at the first such event): it coerces or
canonicalises as the models do, or raises their `ValidationError`. The models stay the single source of
truth; tests check that both paths accept, reject and serialize the same events identically.
"""

from __future__ import annotations

import functools
import types
import typing
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NotRequired, Required

import msgspec
import orjson
from pydantic import ValidationError

from ucsiem.schema import compiled

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

_cache: dict[type[BaseModel], Any] = {}
_KEEP = (datetime,)  # datetimes stay objects both ways: no text is taken for a time, none is made


def _convert(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_dict_of(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_convert(a) for a in typing.get_args(annotation))]  # noqa: UP007
    if origin is list:
        return list[_convert(typing.get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


def without_none(annotation: Any) -> Any:
    """`X | None` -> `X`: an absent key is how a dict says None (see `validate_event`)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(annotation) if a is not type(None))
        return args[0] if len(args) == 1 else typing.Union[args]  # noqa: UP007
    return annotation


def typed_dict_of(model: type[BaseModel]) -> Any:
    """A TypedDict with the model's keys (aliases), types, constraints and `extra` policy."""
    from pydantic import ConfigDict
    from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

    if model in _cache:
        return _cache[model]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _convert(without_none(info.annotation))
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        fields[info.alias or name] = Required[annotation] if info.is_required() else NotRequired[annotation]
    make: Any = TypedDict  # called with computed fields: opaque to the type checker on purpose
    td = make(f"{model.__name__}Dict", fields)
    td.__pydantic_config__ = ConfigDict(extra=model.model_config.get("extra"),
                                        allow_inf_nan=model.model_config.get("allow_inf_nan", True))
    _cache[model] = td
    return td


@functools.cache
def _models() -> TypeAdapter[dict[str, Any]]:
    from pydantic import TypeAdapter

    from ucsiem.schema.event import UCEvent

    return TypeAdapter(typed_dict_of(UCEvent))


def validate_event(data: dict[str, Any]) -> dict[str, Any]:
    """Validate like `UCEvent.model_validate`; raises pydantic.ValidationError. Defaults are not filled.

    A None value means "absent", as in the models' `exclude_none` output. `data` may be modified.
    """
    try:
        valid: dict[str, Any] = msgspec.to_builtins(msgspec.convert(data, compiled.UCEvent, builtin_types=_KEEP),
                                                    builtin_types=_KEEP)
    except msgspec.ValidationError:
        return validate_with_models(data)
    if not compiled.canonicalise(valid):
        return validate_with_models(data)
    return valid


def validate_with_models(data: dict[str, Any]) -> dict[str, Any]:
    """`validate_event` through pydantic-core: what msgspec refused (coerced here, or refused again with the
    models' own errors) and what the after-validators must canonicalise.

    The TypedDicts do not accept None, so clean input (the usual case) costs no extra walk; input holding
    None is cleaned and validated again."""
    adapter = _models()
    try:
        return adapter.validate_python(data)
    except ValidationError:
        if not _drop_none(data):
            raise
        return adapter.validate_python(data)


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
