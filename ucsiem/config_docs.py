"""The configuration reference in README.md, generated from the config models (`ucsiem docs generate`) and
drift-checked (`ucsiem docs check`, and a test), as `mappings/` is from the event schema.

Each table sits between `<!-- config-reference:begin NAME -->` and `<!-- config-reference:end NAME -->` in
README.md; the prose and examples around them are written by hand. A row is one key (nested keys dotted,
list items `[]`), its default and the Field description of the model (the value choices of a Literal are
added). Edit the models, then run `ucsiem docs generate`: the README tables are never edited by hand.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

BEGIN = "<!-- config-reference:begin {name} -->"
END = "<!-- config-reference:end {name} -->"
NOTE = ("<!-- generated from the config models by `ucsiem docs generate`: edit the Field descriptions, not this "
        "table -->")
_BLOCK = re.compile(r"<!-- config-reference:begin (?P<name>[a-z0-9_-]+) -->\n(?P<body>.*?)"
                    r"<!-- config-reference:end (?P=name) -->", re.S)


@dataclass(frozen=True)
class Row:
    key: str
    default: str
    meaning: str


def _strip(tp: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` -> X (a union of several types stays a union)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return typing.Union[tuple(args)]  # noqa: UP007 (built from a tuple of types)
            tp = args[0]
        else:
            return tp


def _models(tp: Any) -> list[type[BaseModel]]:
    """The config models a (stripped) annotation holds: one, or the members of a union of models."""
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        found = [m for arg in typing.get_args(tp) for m in _models(arg)]
        return found if len(found) == len(typing.get_args(tp)) else []
    return []


def _literal_choices(tp: Any) -> list[Any] | None:
    tp = _strip(tp)
    return list(typing.get_args(tp)) if typing.get_origin(tp) is typing.Literal else None


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def _default(info: FieldInfo) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "doc_default" in extra:
        return str(extra["doc_default"])
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return ""  # a section of its own: its keys have their defaults
        if isinstance(value, dict) and len(json.dumps(value, default=str)) > 60:
            return f"a built-in map ({len(value)} keys)"
        return f"`{_value(value)}`"
    if info.default is PydanticUndefined:
        return "required"
    if info.default is None:
        return "none"
    if isinstance(info.default, SecretStr):
        return "(secret)"
    return f"`{_value(info.default)}`"


def _doc(model: type[BaseModel]) -> str:
    """The first paragraph of a model's docstring (said of a key that holds the model and has no description)."""
    return " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())


def _meaning(info: FieldInfo, *, only: str = "", holds: type[BaseModel] | None = None) -> str:
    text = " ".join((info.description or (_doc(holds) if holds is not None else "")).split())
    choices = _literal_choices(info.annotation)
    if choices is not None and len(choices) > 1:
        text += f" One of {', '.join(f'`{_value(c)}`' for c in choices)}."
    if only:
        text = f"({only}) {text}"
    return text.strip()


def rows(model: type[BaseModel], prefix: str = "", *, skip: tuple[str, ...] = (),
         seen: tuple[type[BaseModel], ...] = ()) -> list[Row]:
    """One row per key of `model`, nested models flattened below the key that holds them."""
    out: list[Row] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        key = f"{prefix}{name}"
        inner = _strip(info.annotation)
        item = inner
        if typing.get_origin(inner) is list:
            item = typing.get_args(inner)[0]
            key += "[]"
        models = [m for m in _models(item) if m not in seen]
        out.append(Row(f"`{key}`", _default(info), _meaning(info, holds=models[0] if len(models) == 1 else None)))
        if len(models) == 1:
            out += rows(models[0], f"{key}.", seen=(*seen, model))
        elif models:
            out += _union_rows(models, f"{key}.", (*seen, model))
    return out


def _union_rows(models: list[type[BaseModel]], prefix: str, seen: tuple[type[BaseModel], ...]) -> list[Row]:
    """The keys of a union of models (`type` picks one): each once, marked with the types that have it."""
    kinds = {m: _literal_choices(m.model_fields["type"].annotation) or [m.__name__] if "type" in m.model_fields
             else [m.__name__] for m in models}
    order: list[str] = []
    owners: dict[str, list[type[BaseModel]]] = {}
    for m in models:
        for name in m.model_fields:
            if name not in owners:
                order.append(name)
                owners[name] = []
            owners[name].append(m)
    out: list[Row] = []
    for name in order:
        first = owners[name][0]
        info = first.model_fields[name]
        if name == "type":
            choices = [c for m in models for c in kinds[m]]
            text = " ".join((info.description or "").split())
            out.append(Row(f"`{prefix}type`", "required",
                           f"{text} One of {', '.join(f'`{c}`' for c in choices)}.".strip()))
            continue
        only = "" if len(owners[name]) == len(models) else \
            "type " + ", ".join(str(c) for m in owners[name] for c in kinds[m])
        key = f"{prefix}{name}"
        inner = _strip(info.annotation)
        if typing.get_origin(inner) is list:
            inner = typing.get_args(inner)[0]
            key += "[]"
        nested = [m for m in _models(inner) if m not in seen]
        out.append(Row(f"`{key}`", _default(info), _meaning(info, only=only,
                                                             holds=nested[0] if len(nested) == 1 else None)))
        if len(nested) == 1:
            out += rows(nested[0], f"{key}.", seen=(*seen, first))
    return out


def table(found: list[Row]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| key | default | meaning |", "|---|---|---|"]
    lines += [f"| {cell(r.key)} | {cell(r.default)} | {cell(r.meaning)} |" for r in found]
    return "\n".join(lines) + "\n"


def _outputs() -> str:
    from ucsiem.outputs.registry import OUTPUTS

    parts = []
    for spec in OUTPUTS:
        found = rows(spec.config, skip=("type",))
        body = table(found) if found else "No keys.\n"
        parts.append(f"#### `type: {spec.type}`\n\n{spec.summary[0].upper()}{spec.summary[1:]}.\n\n{body}")
    return "\n".join(parts)


def _sections() -> dict[str, Callable[[], str]]:
    from ucsiem.config import AgentConfig, FileInputConfig, PipelineConfig, SpoolConfig
    from ucsiem.correlate.config import CorrelationConfig
    from ucsiem.correlate.scaleout_config import ScaleoutConfig
    from ucsiem.enrich.config import EnrichConfig
    from ucsiem.inputs.syslog_config import SyslogInputConfig
    from ucsiem.inputs.webhook_config import WebhookInputConfig

    return {
        "agent": lambda: table(rows(AgentConfig)),
        "inputs-file": lambda: table(rows(FileInputConfig, skip=("type",))),
        "inputs-syslog": lambda: table(rows(SyslogInputConfig, skip=("type",))),
        "inputs-webhook": lambda: table(rows(WebhookInputConfig, skip=("type",))),
        "outputs": _outputs,
        "spool": lambda: table(rows(SpoolConfig)),
        "pipeline": lambda: table(rows(PipelineConfig)),
        "correlation": lambda: table(rows(CorrelationConfig)),
        "enrich": lambda: table(rows(EnrichConfig)),
        # `ucsiem correlate --config`: its own file; `correlation:` is the agent's section, documented above
        "correlate-service": lambda: table([*rows(ScaleoutConfig, skip=("correlation",)), Row(
            "`correlation`", _default(ScaleoutConfig.model_fields["correlation"]),
            "The rules and limits: exactly the agent's `correlation:` section (its table above).")]),
    }


def render() -> dict[str, str]:
    """Every generated block: name -> its Markdown (without the markers)."""
    return {name: make() for name, make in _sections().items()}


def _block(name: str, body: str) -> str:
    return f"{BEGIN.format(name=name)}\n{NOTE}\n\n{body}{END.format(name=name)}"


def update(text: str) -> tuple[str, list[str]]:
    """README text with every block regenerated, and the problems found (a block missing or unknown)."""
    blocks = render()
    present = [m.group("name") for m in _BLOCK.finditer(text)]
    problems = [f"README.md: no block {BEGIN.format(name=n)} ... {END.format(name=n)} (add the markers where the "
                f"{n} reference goes)" for n in blocks if n not in present]
    problems += [f"README.md: unknown config-reference block {n!r} (known: {', '.join(blocks)})"
                 for n in present if n not in blocks]
    new = _BLOCK.sub(lambda m: _block(m.group("name"), blocks[m.group("name")]) if m.group("name") in blocks
                     else m.group(0), text)
    return new, problems


def generate(readme: Path) -> list[str]:
    """Rewrite the blocks in `readme`; returns the problems (blocks without markers)."""
    text = readme.read_text()
    new, problems = update(text)
    if new != text:
        readme.write_text(new)
    return problems


def check(readme: Path) -> list[str]:
    """What differs between `readme` and the models (empty: up to date)."""
    text = readme.read_text()
    new, problems = update(text)
    if new != text:
        old_blocks = {m.group("name"): m.group(0) for m in _BLOCK.finditer(text)}
        for m in _BLOCK.finditer(new):
            if old_blocks.get(m.group("name")) != m.group(0):
                problems.append(f"README.md: the {m.group('name')} configuration reference is stale: run "
                                "`ucsiem docs generate`")
    return problems
