"""Generate `ucsiem/schema/compiled.py`: the UCEvent models as msgspec Structs, for the hot path.

msgspec validates a nested dict several times faster than pydantic-core validates the same TypedDicts,
and a process that only validates through it never builds the pydantic schema (about 14 MiB a process).
The models stay the one source of truth: this writes their fields, types, bounds and `extra="forbid"` as
Struct classes, and `ucsiem mappings check` (and a test) fails when the committed file drifts from them.

What a Struct cannot say is left to the caller (`ucsiem.schema.fast`), which falls back to the models:
msgspec is strict where pydantic coerces ("5" for a port, 1 for a bool, bytes for text, a time as text),
so everything it accepts pydantic accepts with the same value, except the two after-validators, which the
generated `canonicalise` applies instead: it makes IP addresses canonical and times UTC in place, as
they do, and sends the event to the models when one cannot be (they then raise their error).
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from ucsiem.schema.actions import EventAction
from ucsiem.schema.event import IP, UCEvent, UtcTime
from ucsiem.schema.fast import without_none

COMPILED = Path(__file__).with_name("compiled.py")  # where `ucsiem mappings generate` writes it
FLOAT_MAX = sys.float_info.max  # allow_inf_nan=False: a finite float is within these (NaN is within none)
_IP_CHECK = typing.get_args(IP)[1]
_UTC_CHECK = typing.get_args(UtcTime)[1]

_HEAD = '''"""The UCEvent models as msgspec Structs (generated from `ucsiem/schema/event.py` by
`ucsiem mappings generate`; do not edit). See `ucsiem/schema/compile.py` for what they check and what
`canonicalise` leaves to the models."""

# ruff: noqa: E501, SIM102
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from ucsiem.parsing.helpers import canonical_ip
from ucsiem.schema.actions import EventAction

_OPTIONS = {"forbid_unknown_fields": True, "omit_defaults": True, "kw_only": True}


def _utc(value: datetime) -> datetime | None:
    if type(value) is not datetime:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None
'''


# what `canonicalise` fixes of a value: an IP, a list of IPs, a time; or a sub-model to look into
_Check = Literal["ip", "ips", "time"] | type[BaseModel]
# per kind: when a value needs the after-validator, and when what it makes (`c`) is refused by the models
# (a name per kind, for the type checker)
_FIXES = {
    "ip": ("(ip := canonical_ip(v)) != v", "ip is None", "ip"),
    "ips": ("any(canonical_ip(x) != x for x in v)", "None in (ips := [canonical_ip(x) for x in v])", "ips"),
    "time": ("type(v) is not datetime or v.tzinfo is not UTC", "(utc := _utc(v)) is None", "utc"),
}


class _Emitter:
    def __init__(self) -> None:
        self.classes: list[str] = []
        self.done: set[type[BaseModel]] = set()
        self.checks: dict[type[BaseModel], list[tuple[str, _Check]]] = {}

    def struct(self, model: type[BaseModel]) -> str:
        if model not in self.done:
            self.done.add(model)
            lines = [f"class {model.__name__}(msgspec.Struct, **_OPTIONS):"]
            checks: list[tuple[str, _Check]] = []
            for name, info in model.model_fields.items():
                key = info.alias or name
                annotation = without_none(info.annotation)  # None is absent: `X | None = None`
                rendered = self.type_of(annotation, info.metadata)
                if info.is_required():
                    lines.append(f"    {name}: {rendered} = msgspec.field(name={key!r})")
                else:
                    lines.append(f"    {name}: {rendered} | None = msgspec.field(default=None, name={key!r})")
                # pydantic moves a plain field's Annotated metadata into info.metadata: put it back
                checked = Annotated[annotation, *info.metadata] if info.metadata else annotation
                checks.extend((key, c) for c in self.leaf_checks(checked))
            self.checks[model] = checks
            self.classes.append("\n".join(lines))
        return model.__name__

    def type_of(self, annotation: Any, metadata: list[Any] | tuple[Any, ...] = ()) -> str:
        bounds: dict[str, float] = {}
        extra: list[Any] = list(metadata)
        while typing.get_origin(annotation) is Annotated:
            annotation, *more = typing.get_args(annotation)
            extra.extend(more)
        for item in extra:
            for side, value in _bounds(item):  # the tightest of the type's and the field's
                pick = max if side in ("ge", "gt") else min
                bounds[side] = pick(bounds.get(side, value), value)
            if not isinstance(item, (AfterValidator, BeforeValidator, FieldInfo)) and not _bounds(item):
                raise TypeError(f"the compiled schema cannot express {item!r}")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.struct(annotation)
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            return " | ".join(self.type_of(a) for a in typing.get_args(annotation))
        if origin is list:
            return f"list[{self.type_of(typing.get_args(annotation)[0])}]"
        if origin is dict:
            key, value = typing.get_args(annotation)
            return f"dict[{self.type_of(key)}, {self.type_of(value)}]"
        if origin is Literal:
            if annotation == EventAction:
                return "EventAction"
            return "Literal[" + ", ".join(repr(a) for a in typing.get_args(annotation)) + "]"
        if annotation is AwareDatetime:
            return "Annotated[datetime, msgspec.Meta(tz=True)]"
        if annotation is float:
            bounds.setdefault("ge" if "gt" not in bounds else "gt", -FLOAT_MAX)
            bounds.setdefault("le" if "lt" not in bounds else "lt", FLOAT_MAX)
        elif annotation not in (str, int, bool):
            raise TypeError(f"the compiled schema cannot express {annotation!r}")
        name: str = annotation.__name__
        if not bounds:
            return name
        meta = ", ".join(f"{k}={v!r}" for k, v in sorted(bounds.items()))
        return f"Annotated[{name}, msgspec.Meta({meta})]"

    def leaf_checks(self, annotation: Any) -> list[_Check]:
        """What `canonicalise` must look at below a field: its after-validated values, or a sub-model."""
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        if annotation == IP:
            return ["ip"]
        if annotation == UtcTime:
            return ["time"]
        if typing.get_origin(annotation) is list and typing.get_args(annotation)[0] == IP:
            return ["ips"]
        inner = typing.get_args(annotation)
        if typing.get_origin(annotation) is Annotated:
            if any(item in (_IP_CHECK, _UTC_CHECK) for item in inner[1:]):
                raise TypeError(f"an IP or time field the compiled schema does not know: {annotation!r}")
            return []
        if any(self.leaf_checks(a) for a in inner):
            raise TypeError(f"an IP, time or model inside {annotation!r}: `canonicalise` cannot reach it")
        return []

    def canonicalise(self, model: type[BaseModel], node: str, depth: int, out: list[str]) -> bool:
        """Lines fixing `node` (an object of `model`); False when nothing below needs it."""
        pad = "    " * depth
        wrote = False
        for key, check in self.checks[model]:
            if isinstance(check, str):
                needs, refused, fixed = _FIXES[check]
                out.append(f"{pad}if (v := {node}.get({key!r})) is not None and ({needs}):")
                out.append(f"{pad}    if {refused}:")
                out.append(f"{pad}        return False")
                out.append(f"{pad}    {node}[{key!r}] = {fixed}")
                wrote = True
            else:
                child = f"o{depth}"
                block: list[str] = []
                if self.canonicalise(check, child, depth + 1, block):
                    out.append(f"{pad}if ({child} := {node}.get({key!r})) is not None:")
                    out.extend(block)
                    wrote = True
        return wrote


def _bounds(item: Any) -> list[tuple[str, float]]:
    found = []
    for name in ("ge", "gt", "le", "lt"):
        value = getattr(item, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((name, value))
    if isinstance(item, FieldInfo):
        for inner in item.metadata:
            found.extend(_bounds(inner))
    return found


def render_compiled() -> str:
    """The source of `ucsiem/schema/compiled.py`."""
    emitter = _Emitter()
    emitter.struct(UCEvent)
    body: list[str] = []
    emitter.canonicalise(UCEvent, "event", 1, body)
    canonical = [
        "def canonicalise(event: dict) -> bool:  # type: ignore[type-arg]",
        '    """Make every IP address of a converted event canonical and every time UTC, in place, as the models\'',
        '    after-validators do; False when one cannot be (a bad address, a time out of range once in UTC, a',
        '    datetime subclass): the models then say why."""',
        *body,
        "    return True",
    ]
    return _HEAD + "\n\n" + "\n\n\n".join(emitter.classes) + "\n\n\n" + "\n".join(canonical) + "\n"
