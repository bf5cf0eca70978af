"""Loading a rule set: Sigma files parsed with pySigma, the two UC correlation types parsed here, and every
problem of every rule collected into one `RuleError`.

Nothing we cannot evaluate is let through: an unknown modifier or field, a keyword search, a correlation
type or condition we do not implement, a reference to a rule that does not exist all name the file and
the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sigma.collection import SigmaCollection
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationTimespan,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaRule, SigmaRuleBase

from ucsiem.correlate.errors import RuleError, RuleProblem
from ucsiem.correlate.fields import split_field
from ucsiem.correlate.match import LOGSOURCE_KEYS, UnsupportedRule, compile_rule, rule_problems

if TYPE_CHECKING:
    from sigma.policy import SigmaPolicy

SIGMA_TYPES = ("event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg")
UC_TYPES = ("first_seen", "baseline_spike", "impossible_travel")
VALUE_TYPES = ("value_count", "value_sum", "value_avg")
LEVELS = ("informational", "low", "medium", "high", "critical")

# Copied into every hit of every rule: what an alert shows besides the group-by values.
CONTEXT_FIELDS = ("source.ip", "destination.ip", "user.name", "user.target.name", "source.user.name",
                  "destination.user.name", "related.ip", "related.user", "related.hosts", "event.action",
                  "event.outcome", "event.dataset", "observer.hostname", "log.offset")


def seconds(spec: str) -> float:
    """A Sigma time span (`30s`, `5m`, `1h`, `7d`...) in seconds; ValueError naming it when bad."""
    try:
        return float(SigmaCorrelationTimespan(spec).seconds)
    except SigmaError as e:
        raise ValueError(str(e)) from None


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What an alert says about its rule (ECS rule.*, threat.*, severity)."""

    key: str  # the Sigma id: rule.id, the alert id's seed
    title: str
    name: str | None
    path: str
    ruleset: str
    description: str | None = None
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    license: str | None = None
    level: str | None = None
    version: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """One line of `ucsiem rules list`."""

    id: str
    title: str
    type: str  # "detection" or the correlation type
    level: str | None
    source: str
    name: str | None = None


@dataclass(slots=True)
class DetectionRule:
    meta: RuleMeta
    sigma: SigmaRule
    suppression_secs: float | None  # None: the engine's default for single-event alerts
    suppression_group_by: tuple[str, ...] | None
    generates: bool = True  # raises single-event alerts (no correlation without `generate` consumes it)


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    meta: RuleMeta
    type: str
    rules: tuple[str, ...]  # keys of the detection rules it counts, in the rule's order (temporal_ordered)
    group_by: tuple[str, ...]  # where the group values go in the alert (schema field names)
    group_fields: dict[str, tuple[str, ...]]  # detection key -> the fields holding the group values in its events
    timespan: float
    op: str | None = None  # gt, gte, lt, lte, eq, neq (Sigma types)
    threshold: float | None = None
    value_field: str | None = None
    generate: bool = False
    suppression_secs: float = 0.0
    learning_secs: float = 0.0  # first_seen, baseline_spike
    baseline_secs: float = 0.0  # baseline_spike: span of the moving average
    factor: float = 0.0  # baseline_spike
    minimum: float = 0.0  # baseline_spike; impossible_travel: the distance in km (threshold: the speed in km/h)
    new_groups: Literal["learn", "alert"] = "learn"  # first_seen: the first value of a never-seen group


@dataclass
class RuleSet:
    detections: dict[str, DetectionRule]
    correlations: list[CorrelationRule]
    paths: tuple[Path, ...] = ()
    hit_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def summaries(self) -> list[RuleSummary]:
        out = [RuleSummary(d.meta.key, d.meta.title, "detection", d.meta.level, d.meta.path, d.meta.name)
               for d in self.detections.values()]
        out += [RuleSummary(c.meta.key, c.meta.title, c.type, c.meta.level, c.meta.path, c.meta.name)
                for c in self.correlations]
        return out

    def find(self, key: str) -> RuleMeta | None:
        if key in self.detections:
            return self.detections[key].meta
        return next((c.meta for c in self.correlations if c.meta.key == key), None)


# ---- the two UC types and the suppression block, in the same YAML style ----

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


def _span(v: Any) -> Any:
    if not isinstance(v, str):
        raise ValueError("must be a time span like 30s, 5m, 1h, 7d")
    seconds(v)
    return v


class SuppressionSpec(_Strict):
    """`suppression:` on a rule: one alert per group per `timespan`, with a running count."""

    timespan: str
    group_by: list[str] | None = Field(None, alias="group-by")
    _span = field_validator("timespan")(classmethod(lambda cls, v: _span(v)))
    _list = field_validator("group_by", mode="before")(classmethod(lambda cls, v: _as_list(v)))


class FirstSeenSpec(_Strict):
    type: Literal["first_seen"]
    rules: list[str]
    group_by: list[str] = Field(default_factory=list, alias="group-by")
    field: list[str] = Field(min_length=1)
    timespan: str = Field(description="History: a value not seen for this long is new again.")
    learning: str | None = Field(None, description="Event time after the rule's first event with no alert.")
    new_groups: Literal["learn", "alert"] = Field("learn", alias="new-groups")
    generate: bool = False
    _lists = field_validator("rules", "group_by", "field", mode="before")(classmethod(lambda cls, v: _as_list(v)))
    _spans = field_validator("timespan", "learning")(classmethod(lambda cls, v: v if v is None else _span(v)))


class SpikeCondition(_Strict):
    factor: float = Field(gt=1, description="Alert when the window's value exceeds factor x baseline...")
    min: float = Field(0, ge=0, description="...and is at least this much.")


class SpikeSpec(_Strict):
    type: Literal["baseline_spike"]
    rules: list[str]
    group_by: list[str] = Field(default_factory=list, alias="group-by")
    field: str | None = Field(None, description="Sum this field instead of counting events.")
    timespan: str = Field(description="The window whose value is compared (tumbling, aligned on the epoch).")
    baseline: str = Field(description="Span of the moving average the baseline is.")
    learning: str | None = Field(None, description="History a group needs before it can alert (default: baseline).")
    condition: SpikeCondition
    generate: bool = False
    _lists = field_validator("rules", "group_by", mode="before")(classmethod(lambda cls, v: _as_list(v)))
    _spans = field_validator("timespan", "baseline", "learning")(
        classmethod(lambda cls, v: v if v is None else _span(v)))


class TravelCondition(_Strict):
    speed_kmh: float = Field(gt=0, description="Alert when the user would have moved faster than this...")
    min_km: float = Field(0, ge=0, description="...over at least this distance (GeoIP city error is tens of km).")


class TravelSpec(_Strict):
    type: Literal["impossible_travel"]
    rules: list[str]
    group_by: list[str] = Field(default_factory=list, alias="group-by")
    field: str = Field("source.geo.location", description="The geo point ({lat, lon}) of each event.")
    timespan: str = Field(description="How long a sign-in's place is compared with the next ones.")
    condition: TravelCondition
    generate: bool = False
    _lists = field_validator("rules", "group_by", mode="before")(classmethod(lambda cls, v: _as_list(v)))
    _spans = field_validator("timespan")(classmethod(lambda cls, v: _span(v)))


UCSpec = FirstSeenSpec | SpikeSpec | TravelSpec
_UC_SPECS: dict[str, type[FirstSeenSpec] | type[SpikeSpec] | type[TravelSpec]] = {
    "first_seen": FirstSeenSpec, "baseline_spike": SpikeSpec, "impossible_travel": TravelSpec}


def _pydantic_messages(e: ValidationError) -> list[str]:
    return [f"correlation.{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]


# ---- loading ----

@dataclass
class _Doc:
    """One parsed document before cross-checks."""

    path: str
    label: str
    base: SigmaRuleBase | None = None  # SigmaRule, SigmaCorrelationRule or UCCorrelation


def _files(paths: Iterable[str | Path], problems: list[RuleProblem]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file())
        elif p.is_file():
            out.append(p)
        else:
            problems.append(RuleProblem(str(p), None, "no such file or directory"))
    return out


def _label(doc: dict[str, Any], index: int) -> str:
    title, rid = doc.get("title"), doc.get("id")
    if title and rid:
        return f"{title} ({rid})"
    return str(title or rid or f"document {index}")


def load_rules(paths: Sequence[str | Path]) -> RuleSet:
    """Every rule of the given files and directories (`*.yml`, `*.yaml`, recursively); RuleError lists
    every problem found."""
    problems: list[RuleProblem] = []
    docs: list[_Doc] = []
    files = _files(paths, problems)
    for path in files:
        docs += _read_file(path, problems)
    ruleset = _assemble(docs, problems)
    if problems:
        raise RuleError(problems)
    ruleset.paths = tuple(Path(p) for p in paths)
    return ruleset


# libyaml's safe loader when PyYAML was built with it (its wheels are): the pure-Python one took 80 % of
# loading the pack, which every parse worker and the agent do at start (a test holds the two equal on the pack)
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_file(path: Path, problems: list[RuleProblem]) -> list[_Doc]:
    try:
        raw_docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        problems.append(RuleProblem(str(path), None, f"cannot read: {e}"))
        return []
    out: list[_Doc] = []
    location = SigmaRuleLocation(path)
    for index, raw in enumerate(raw_docs, 1):
        if raw is None:  # empty document (a trailing ---)
            continue
        if not isinstance(raw, dict):
            problems.append(RuleProblem(str(path), f"document {index}", "a rule must be a YAML mapping"))
            continue
        doc = _Doc(str(path), _label(raw, index))
        errors = _parse_doc(raw, location, doc)
        problems += [RuleProblem(doc.path, doc.label, m) for m in errors]
        if not errors:
            out.append(doc)
    return out


def _parse_doc(raw: dict[str, Any], location: SigmaRuleLocation, doc: _Doc) -> list[str]:
    if "action" in raw:
        return ["collection actions (global, reset, repeat) are not supported: write whole rules"]
    if "filter" in raw:
        return ["Sigma filters are not supported"]
    corr = raw.get("correlation")
    if isinstance(corr, dict) and corr.get("type") in UC_TYPES:
        return _parse_uc(raw, location, doc)
    try:
        collection = SigmaCollection.from_dicts([raw], collect_errors=True, source=location, resolve_references=False)
    except SigmaError as e:
        return [_sigma_message(e)]
    messages = [_sigma_message(e) for e in collection.errors]
    if not messages and collection.rules:
        doc.base = collection.rules[0]
    return messages


def _sigma_message(e: SigmaError) -> str:
    return str(e.args[0]) if e.args else type(e).__name__


@dataclass
class UCCorrelation(SigmaRuleBase):
    """A document of one of our types (UC_TYPES): Sigma's metadata, parsed by pySigma, and our `correlation:`."""

    spec: UCSpec | None = None

    @classmethod
    def from_dict(cls, rule: dict[str, Any], collect_errors: bool = False,
                  policy: SigmaPolicy | None = None, source: SigmaRuleLocation | None = None) -> UCCorrelation:
        meta_only = {k: v for k, v in rule.items() if k != "correlation"}
        kwargs, errors = cls.from_dict_common_params(meta_only, True, source, policy=policy)
        corr = rule.get("correlation") or {}
        spec: UCSpec | None = None
        messages: list[str] = []
        try:
            spec = _UC_SPECS.get(str(corr.get("type")), SpikeSpec).model_validate(corr)
        except ValidationError as e:
            messages = _pydantic_messages(e)
        errors += [SigmaError(m, source=source) for m in messages]
        kwargs["errors"] = errors
        return cls(spec=spec, **kwargs)


def _parse_uc(raw: dict[str, Any], location: SigmaRuleLocation, doc: _Doc) -> list[str]:
    rule = UCCorrelation.from_dict(raw, True, source=location)
    if rule.errors:
        return [_sigma_message(e) for e in rule.errors]
    doc.base = rule
    return []


def _meta(base: SigmaRuleBase, path: str, category: str | None) -> RuleMeta:
    custom = base.custom_attributes
    version = custom.get("version")
    when: dt.date | None = base.modified or base.date
    return RuleMeta(
        key=str(base.id), title=base.title, name=base.name, path=path, ruleset=Path(path).stem,
        description=base.description, references=tuple(base.references), tags=tuple(str(t) for t in base.tags),
        authors=tuple(a.strip() for a in (base.author or "").split(",") if a.strip()), license=base.license,
        level=base.level.name.lower() if base.level else None,
        version=str(version) if version is not None else (when.isoformat() if when else None),
        category=category)


def _suppression(base: SigmaRuleBase) -> tuple[SuppressionSpec | None, list[str]]:
    raw = base.custom_attributes.get("suppression")
    if raw is None:
        return None, []
    try:
        spec = SuppressionSpec.model_validate(raw)
    except ValidationError as e:
        return None, [f"suppression.{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()]
    bad = [f"suppression.group-by: unknown field {f!r}" for f in spec.group_by or [] if split_field(f) is None]
    return spec, bad


def _assemble(docs: list[_Doc], problems: list[RuleProblem]) -> RuleSet:
    detections: dict[str, DetectionRule] = {}
    correlation_docs: list[_Doc] = []
    by_ref: dict[str, str] = {}  # name or id -> key
    keys_seen: dict[str, str] = {}

    def problem(doc: _Doc, message: str) -> None:
        problems.append(RuleProblem(doc.path, doc.label, message))

    for doc in docs:
        base = doc.base
        assert base is not None
        if base.id is None:
            problem(doc, "a rule needs an `id` (a UUID): alerts and their ids are keyed by it")
            continue
        key = str(base.id)
        if key in keys_seen:
            problem(doc, f"id {key} is already used by a rule in {keys_seen[key]}")
            continue
        keys_seen[key] = doc.path
        for ref in (key, base.name):
            if ref is not None:
                if ref in by_ref and by_ref[ref] != key:
                    problem(doc, f"name {ref!r} is used by two rules")
                by_ref[ref] = key
        if isinstance(base, SigmaRule):
            rule = _detection(doc, base, problem)
            if rule is not None:
                detections[key] = rule
        else:
            correlation_docs.append(doc)

    correlations = [c for c in (_correlation(doc, by_ref, detections, problem) for doc in correlation_docs)
                    if c is not None]
    for corr in correlations:
        if not corr.generate:
            for key in corr.rules:
                detections[key].generates = False
    ruleset = RuleSet(detections, correlations)
    ruleset.hit_fields = _hit_fields(ruleset)
    return ruleset


def _detection(doc: _Doc, base: SigmaRule, problem: Any) -> DetectionRule | None:
    messages = rule_problems(base)
    custom = base.logsource.custom_attributes or {}
    messages += [f"logsource: {k!r} is not supported (only {sorted(LOGSOURCE_KEYS)})" for k in custom]
    spec, bad = _suppression(base)
    messages += bad
    if not messages:
        try:
            compile_rule(base)  # compiles again in the detector; here to report what cannot be compiled
        except (UnsupportedRule, SigmaError, ValueError) as e:
            messages.append(str(e))
    for m in messages:
        problem(doc, m)
    if messages:
        return None
    group = tuple(spec.group_by) if spec and spec.group_by is not None else None
    return DetectionRule(_meta(base, doc.path, base.logsource.category), base,
                         seconds(spec.timespan) if spec else None, group)


def _correlation(doc: _Doc, by_ref: dict[str, str], detections: dict[str, DetectionRule],
                 problem: Any) -> CorrelationRule | None:
    base = doc.base
    assert base is not None
    errors: list[str] = []
    uc = base.spec if isinstance(base, UCCorrelation) else None
    aliases: dict[str, dict[str, str]] = {}
    ctype: str
    if uc is not None:
        ctype, refs, group_by = uc.type, uc.rules, list(uc.group_by)
        timespan_secs = seconds(uc.timespan)
    else:
        assert isinstance(base, SigmaCorrelationRule)
        ctype = base.type.name.lower()
        refs = [r.reference for r in base.rules or []]
        group_by = list(base.group_by or [])
        timespan_secs = float(base.timespan.seconds)
        aliases = {alias: {ref.reference: f for ref, f in a.mapping.items()}
                   for alias, a in base.aliases.aliases.items()}
        if ctype not in SIGMA_TYPES:
            errors.append(f"correlation type {ctype!r} is not supported "
                          f"(supported: {', '.join(SIGMA_TYPES + UC_TYPES)})")
    keys: list[str] = []
    for ref in refs:
        key = by_ref.get(ref)
        if key is None:
            errors.append(f"references unknown rule {ref!r}")
        elif key not in detections:
            errors.append(f"references {ref!r}, which is a correlation or a rule with problems: "
                          "correlations of correlations are not supported")
        else:
            keys.append(key)
    if not refs:
        errors.append("a correlation needs `rules`")
    group_fields: dict[str, list[str]] = {k: [] for k in keys}
    out_names: list[str] = []
    for name in group_by:
        alias = aliases.get(name)
        if alias is None:
            if split_field(name) is None:
                errors.append(f"group-by: unknown field {name!r}")
            for k in keys:
                group_fields[k].append(name)
            out_names.append(name)
            continue
        resolved = {by_ref.get(r): f for r, f in alias.items()}
        for f in alias.values():
            if split_field(f) is None:
                errors.append(f"aliases.{name}: unknown field {f!r}")
        for k in keys:
            if k not in resolved:
                errors.append(f"aliases.{name}: no field for rule {detections[k].meta.title!r}")
            else:
                group_fields[k].append(resolved[k])
        out_names.append(name if split_field(name) is not None else (resolved.get(keys[0]) if keys else name) or name)
    params: dict[str, Any] = {}
    if uc is None:
        assert isinstance(base, SigmaCorrelationRule)
        errors += _sigma_condition(base, ctype, len(refs), params)
        params["generate"] = base.generate
    else:
        errors += _uc_params(uc, params)
    if params.get("value_field") and split_field(params["value_field"]) is None:
        errors.append(f"condition field: unknown field {params['value_field']!r}")
    spec, bad = _suppression(base)
    errors += bad
    if spec and spec.group_by is not None:
        errors.append("suppression.group-by: a correlation's alerts are grouped by its own group-by")
    for m in errors:
        problem(doc, m)
    if errors:
        return None
    category = ctype
    return CorrelationRule(
        meta=_meta(base, doc.path, category), type=ctype, rules=tuple(keys), group_by=tuple(out_names),
        group_fields={k: tuple(v) for k, v in group_fields.items()}, timespan=timespan_secs,
        suppression_secs=seconds(spec.timespan) if spec else timespan_secs, **params)


def _sigma_condition(rule: SigmaCorrelationRule, ctype: str, n_rules: int, params: dict[str, Any]) -> list[str]:
    cond = rule.condition
    if not isinstance(cond, SigmaCorrelationCondition):
        return ["extended (boolean) correlation conditions are not supported"]
    errors: list[str] = []
    params["op"] = cond.op.name.lower()
    params["threshold"] = float(cond.count)
    if cond.percentile is not None:
        errors.append("condition percentile is not supported")
    if ctype in VALUE_TYPES:
        if not isinstance(cond.fieldref, str):
            errors.append("condition field must be one field name")
        else:
            params["value_field"] = cond.fieldref
    elif cond.fieldref is not None:
        errors.append(f"condition field is not used by {ctype}")
    if rule.type is SigmaCorrelationType.TEMPORAL_ORDERED and (params["op"], cond.count) != ("gte", n_rules):
        errors.append("temporal_ordered supports only its default condition (every rule, in order)")
    if ctype in ("temporal", "temporal_ordered") and len(set(rule.rules or [])) < 2:
        errors.append(f"{ctype} needs at least two rules")
    return errors


def _uc_params(uc: UCSpec, params: dict[str, Any]) -> list[str]:
    params["generate"] = uc.generate
    if isinstance(uc, TravelSpec):
        params["value_field"] = uc.field
        params["threshold"] = uc.condition.speed_kmh
        params["minimum"] = uc.condition.min_km
        if split_field(uc.field) is None:
            return [f"correlation.field: unknown field {uc.field!r}"]
        return []
    if isinstance(uc, FirstSeenSpec):
        bad = [f for f in uc.field if split_field(f) is None]
        params["value_field"] = ",".join(uc.field)
        params["learning_secs"] = seconds(uc.learning) if uc.learning else 0.0
        params["new_groups"] = uc.new_groups
        return [f"correlation.field: unknown field {f!r}" for f in bad]
    params["value_field"] = uc.field
    params["baseline_secs"] = seconds(uc.baseline)
    params["learning_secs"] = seconds(uc.learning) if uc.learning else params["baseline_secs"]
    params["factor"] = uc.condition.factor
    params["minimum"] = uc.condition.min
    params["threshold"] = uc.condition.min
    if params["baseline_secs"] < seconds(uc.timespan):
        return ["correlation.baseline: must be at least one timespan"]
    return []


def value_fields(corr: CorrelationRule) -> tuple[str, ...]:
    """The fields whose values a correlation measures (first_seen may combine several)."""
    if not corr.value_field:
        return ()
    return tuple(corr.value_field.split(",")) if corr.type == "first_seen" else (corr.value_field,)


def _hit_fields(ruleset: RuleSet) -> dict[str, tuple[str, ...]]:
    wanted: dict[str, dict[str, None]] = {k: dict.fromkeys(CONTEXT_FIELDS) for k in ruleset.detections}
    for corr in ruleset.correlations:
        for key in corr.rules:
            wanted[key].update(dict.fromkeys(corr.group_fields[key]))
            wanted[key].update(dict.fromkeys(value_fields(corr)))
    for key, rule in ruleset.detections.items():
        if rule.suppression_group_by:
            wanted[key].update(dict.fromkeys(rule.suppression_group_by))
    return {k: tuple(v) for k, v in wanted.items()}
