"""Alerts as schema events: what an alert in progress holds, its deterministic id, and its JSON form.

An alert is opened when a rule's condition is met for a group and stays open for the suppression window:
repeats in that window add to its running count and are re-emitted with the same id (when the count has
doubled since the last emission, and once more when the window closes), so a SIEM keeps one document per
rule, group and window. The id hashes the rule id, the group values and the window's start (event time),
so a replay after a crash makes the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ucsiem.correlate.fields import iso_time
from ucsiem.correlate.rules import RuleMeta

SEVERITY = {"informational": 21, "low": 47, "medium": 73, "high": 99, "critical": 100}

# MITRE ATT&CK Enterprise tactics, for `attack.<tactic>` tags (techniques come as `attack.t1110[.001]`).
TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"), "resource_development": ("TA0042", "Resource Development"),
    "initial_access": ("TA0001", "Initial Access"), "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"), "privilege_escalation": ("TA0004", "Privilege Escalation"),
    "defense_evasion": ("TA0005", "Defense Evasion"), "credential_access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"), "lateral_movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"), "command_and_control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"), "impact": ("TA0040", "Impact"),
}

RELATED = (("ip", ("related.ip", "source.ip", "destination.ip")),
           ("user", ("related.user", "user.name", "user.target.name", "source.user.name", "destination.user.name")),
           ("hosts", ("related.hosts", "observer.hostname")))
MAX_RELATED = 50


def alert_id(rule_key: str, group: Any, start: float) -> str:
    seed = orjson.dumps([rule_key, group, round(start * 1_000_000)])
    return hashlib.blake2b(seed, digest_size=16).hexdigest()


@dataclass(slots=True)
class AlertState:
    """An open alert: the part of a group's state that outlives the window that raised it."""

    id: str
    opened: float  # event time the condition was met (@timestamp of the alert)
    until: float  # end of the suppression window
    first: float  # first contributing event time (event.start)
    last: float  # last contributing event time (event.end)
    count: int = 0
    value: float | None = None
    threshold: float | None = None
    baseline: float | None = None
    emitted: int = 0  # count when last emitted
    event_ids: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    related: dict[str, list[str]] = field(default_factory=dict)

    def add(self, ts: float, event_id: str | None, fields: dict[str, Any], max_ids: int, n: int = 1) -> None:
        self.count += n
        self.first, self.last = min(self.first, ts), max(self.last, ts)
        if event_id is not None and len(self.event_ids) < max_ids and event_id not in self.event_ids:
            self.event_ids.append(event_id)
        for name, sources in RELATED:
            bucket = self.related.setdefault(name, [])
            for src in sources:
                v = fields.get(src)
                for item in v if isinstance(v, list) else (v,):
                    if isinstance(item, str) and item not in bucket and len(bucket) < MAX_RELATED:
                        bucket.append(item)

    def add_value(self, value: Any, max_values: int) -> None:
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        if len(self.values) < max_values and text not in self.values:
            self.values.append(text)

    def to_json(self) -> list[Any]:
        return [self.id, self.opened, self.until, self.first, self.last, self.count, self.value, self.threshold,
                self.baseline, self.emitted, self.event_ids, self.values, self.related]

    @classmethod
    def from_json(cls, data: list[Any]) -> AlertState:
        return cls(*data)


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = list(value) if isinstance(value, tuple) else value


def threat(tags: tuple[str, ...]) -> dict[str, Any] | None:
    tactic_ids: list[str] = []
    tactic_names: list[str] = []
    techniques: list[str] = []
    subs: list[str] = []
    for tag in tags:
        ns, _, name = tag.lower().partition(".")
        if ns != "attack":
            continue
        name = name.replace("-", "_")  # Sigma writes tactics with hyphens (attack.credential-access)
        if name in TACTICS:
            tactic_ids.append(TACTICS[name][0])
            tactic_names.append(TACTICS[name][1])
        elif name.startswith("t") and name[1:5].isdigit():
            tid = name.upper()
            (subs if "." in tid else techniques).append(tid)
    for sub in subs:  # a sub-technique implies its technique
        if sub.split(".")[0] not in techniques:
            techniques.append(sub.split(".")[0])
    if not (tactic_ids or techniques):
        return None
    out: dict[str, Any] = {"framework": "MITRE ATT&CK"}
    if tactic_ids:
        out["tactic"] = {"id": tactic_ids, "name": tactic_names,
                         "reference": [f"https://attack.mitre.org/tactics/{t}/" for t in tactic_ids]}
    if techniques:
        out["technique"] = {"id": techniques,
                            "reference": [f"https://attack.mitre.org/techniques/{t}/" for t in techniques]}
        if subs:
            out["technique"]["subtechnique"] = {
                "id": subs, "reference": [f"https://attack.mitre.org/techniques/{s.replace('.', '/')}/" for s in subs]}
    return out


def render(meta: RuleMeta, kind: str, group_by: tuple[str, ...], group: tuple[Any, ...], state: AlertState,
           context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The alert event (a dict that validates as UCEvent)."""
    level = meta.level or "medium"
    rule: dict[str, Any] = {"id": meta.key, "uuid": meta.key, "name": meta.title, "ruleset": meta.ruleset}
    for key, value in (("description", meta.description), ("category", meta.category), ("version", meta.version),
                       ("license", meta.license), ("reference", list(meta.references) or None),
                       ("author", list(meta.authors) or None)):
        if value is not None:
            rule[key] = value
    alert: dict[str, Any] = {"level": level, "correlation": kind, "count": state.count}
    for key, number in (("value", state.value), ("threshold", state.threshold), ("baseline", state.baseline)):
        if number is not None:
            alert[key] = float(number)
    if group_by:
        alert["group_by"] = list(group_by)
    if state.values:
        alert["values"] = list(state.values)
    if state.event_ids:
        alert["event_ids"] = list(state.event_ids)
    alert["suppressed_until"] = iso_time(state.until)
    where = ", ".join(f"{n}={v}" for n, v in zip(group_by, group, strict=True) if v is not None)
    doc: dict[str, Any] = {
        "@timestamp": iso_time(state.opened),
        "message": f"{meta.title}: {state.count} event(s)" + (f" for {where}" if where else ""),
        "event": {"kind": "alert", "category": ["intrusion_detection"], "type": ["indicator"], "id": state.id,
                  "severity": SEVERITY.get(level, 73), "start": iso_time(state.first), "end": iso_time(state.last),
                  "module": "ucsiem", "dataset": "ucsiem.alert"},
        "rule": rule,
        "uc": {"alert": alert},
    }
    for name, value in (context or {}).items():
        _set(doc, name, value)
    for name, value in zip(group_by, group, strict=True):
        if value is not None:
            _set(doc, name, value)
    related = {k: v for k, v in state.related.items() if v}
    if related:
        doc["related"] = related
    t = threat(meta.tags)
    if t:
        doc["threat"] = t
    return doc
