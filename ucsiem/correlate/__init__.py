"""Correlation: Sigma detection and correlation rules evaluated on the event stream, in event time (issue 9).

Two halves, so parsing workers can do the stateless part:

- `Detector` (stateless, built from the rule files in each worker): `detect(event) -> list[Hit]`. Each
  Sigma detection compiles once to a Python predicate (`match.py`); a `Hit` carries the ids of the rules
  matched, the event time, the event id and only the fields correlation and alerts need.
- `Correlator` (stateful, one per agent): `feed(hits)`, `advance(watermark)`, `tick()` (live, injected
  clock), `flush()` -> alert events (dicts that validate as `UCEvent`); `stats()`, `snapshot()`, `restore()`.

Rules are Sigma 2 YAML (`---`-separated documents, any number of files), parsed with pySigma. Field names
are the schema's dotted names (`source.ip`, `uc.call.callee_country`; `uc.vendor.<key>`, `labels.<key>`).
`logsource` maps to the pipeline's fields: `product` = `event.module` (`cisco`, `kamailio`, `audiocodes`...),
`service` = `event.dataset` (`cisco.expressway`, or just `expressway`), `category` = one of
`event.category` (`authentication`, `network`...). A detection rule that no correlation consumes raises
single-event alerts; one consumed by a correlation without `generate: true` does not (Sigma semantics).

Correlation types: Sigma's `event_count`, `value_count`, `value_sum`, `value_avg`, `temporal`,
`temporal_ordered` (see `windows.py` for how windows slide or close), and three of ours, in the same style::

    title: SIP registration from a new country for the user
    id: 7d5f...                       # every rule needs an id (rule.id, and the alert ids' seed)
    level: medium
    correlation:
      type: first_seen                # Elastic's "new terms"
      rules: [sip_register_ok]        # names or ids of detection rules
      group-by: [user.name]
      field: source.geo.country_iso_code   # one field or a list (their combination is the value)
      timespan: 30d                   # history: a value unseen this long is new again
      learning: 7d                    # no alert during the first 7 days of event time (default 0)
      new-groups: learn               # a never-seen user's first value is learned (default), or: alert

    title: Call volume spike per trunk
    id: 9a0b...
    correlation:
      type: baseline_spike
      rules: [call_attempt]
      group-by: [uc.call.trunk]
      timespan: 1m                    # the window measured (aligned on the epoch)
      baseline: 1h                    # span of the moving average of previous windows
      learning: 1d                    # history a group needs before it may alert (default: baseline)
      field: uc.call.duration         # optional: sum this field instead of counting events
      condition: {factor: 3, min: 20} # alert when window > 3 x baseline and window >= 20

    title: Impossible travel between sign-ins of one user
    id: 5c1e...
    correlation:
      type: impossible_travel
      rules: [sign_in_ok]
      group-by: [user.name]
      field: source.geo.location      # the default: a geo point from the GeoIP enrichment
      timespan: 24h                   # how long a place is compared with the next sign-ins
      condition: {speed_kmh: 900, min_km: 500}   # faster than an airliner, over more than GeoIP's error

Suppression (ours, a top-level key of any rule): one alert per rule, group and window, then a running
count under the same id::

    suppression: {timespan: 1h, group-by: [source.ip]}   # group-by: single-event rules only

Defaults: a correlation suppresses for its own timespan (first_seen: every new value is its own alert);
single-event rules use `CorrelationConfig.single_suppression_secs` and `single_group_by`.

Alerts: `event.kind: alert`, `event.severity` from the Sigma level (informational 21, low 47, medium 73,
high 99, critical 100; level in `uc.alert.level`), ECS `rule.*`, `threat.*` from `attack.*` tags, the
group-by values in their own fields, `event.start`/`event.end` the contributing events' times, and
`uc.alert.*`: count, value, threshold, baseline, sample of values, contributing `event_ids` (bounded).
"""

import importlib
from typing import TYPE_CHECKING, Any

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.correlate.errors import RuleError, RuleProblem

if TYPE_CHECKING:
    from ucsiem.correlate.correlator import Correlator
    from ucsiem.correlate.detector import Detector, Hit
    from ucsiem.correlate.rules import RuleSet, RuleSummary, load_rules

__all__ = ["CorrelationConfig", "Correlator", "Detector", "Hit", "RuleError", "RuleProblem", "RuleSet",
           "RuleSummary", "load_rules"]

# pySigma takes ~0.2 s to import: the agent's config names CorrelationConfig, and only configs with rules pay.
_LAZY = {"Correlator": "correlator", "Detector": "detector", "Hit": "detector", "RuleSet": "rules",
         "RuleSummary": "rules", "load_rules": "rules"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"ucsiem.correlate.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ucsiem.correlate' has no attribute {name!r}")
