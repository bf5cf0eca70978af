"""Loading rule sets (issue 9): files and directories, summaries, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ucsiem.correlate import RuleError, load_rules

GOOD = """title: failed registration
id: 22222222-2222-4222-8222-000000000001
name: reg_failed
level: low
logsource: {product: kamailio}
detection:
  sel: {event.action: sip-register, event.outcome: failure}
  condition: sel
---
title: brute force
id: 22222222-2222-4222-8222-000000000002
level: high
correlation:
  type: event_count
  rules: reg_failed
  group-by: source.ip
  timespan: 5m
  condition: {gte: 8}
"""


def test_files_and_directories_and_summaries(tmp_path: Path) -> None:
    (tmp_path / "pack" / "sub").mkdir(parents=True)
    (tmp_path / "pack" / "sub" / "a.yaml").write_text(GOOD)
    (tmp_path / "pack" / "notes.txt").write_text("not a rule")
    rs = load_rules([tmp_path / "pack"])
    summary = {(s.title, s.type, s.level) for s in rs.summaries()}
    assert summary == {("failed registration", "detection", "low"), ("brute force", "event_count", "high")}
    assert all(s.source.endswith("a.yaml") for s in rs.summaries())
    assert not rs.detections["22222222-2222-4222-8222-000000000001"].generates  # consumed by the correlation


def test_rules_reference_across_files(tmp_path: Path) -> None:
    det, corr = GOOD.split("---\n")
    (tmp_path / "det.yml").write_text(det)
    (tmp_path / "corr.yml").write_text(corr)
    rs = load_rules([tmp_path])
    assert rs.correlations[0].rules == ("22222222-2222-4222-8222-000000000001",)


BAD = """title: unknown field
id: 33333333-3333-4333-8333-000000000001
logsource: {product: kamailio}
detection:
  sel: {source.address_ip: 192.0.2.1}
  condition: sel
---
title: unknown modifier
id: 33333333-3333-4333-8333-000000000002
logsource: {product: kamailio}
detection:
  sel: {user.name|sounds_like: bob}
  condition: sel
---
title: unsupported modifier
id: 33333333-3333-4333-8333-000000000003
logsource: {product: kamailio}
detection:
  sel: {user.name|wide: bob}
  condition: sel
---
title: keyword search
id: 33333333-3333-4333-8333-000000000004
logsource: {product: kamailio}
detection:
  keywords: [scanner]
  condition: keywords
---
title: dangling correlation
id: 33333333-3333-4333-8333-000000000005
correlation:
  type: event_count
  rules: no_such_rule
  group-by: source.ip
  timespan: 5m
  condition: {gte: 3}
---
title: percentile
id: 33333333-3333-4333-8333-000000000006
correlation:
  type: value_percentile
  rules: 33333333-3333-4333-8333-000000000007
  timespan: 5m
  condition: {gte: 3, field: uc.call.duration, percentile: 95}
---
title: fine detection
id: 33333333-3333-4333-8333-000000000007
logsource: {product: kamailio}
detection:
  sel: {event.action: call-end}
  condition: sel
---
title: bad group-by
id: 33333333-3333-4333-8333-000000000008
correlation:
  type: value_count
  rules: 33333333-3333-4333-8333-000000000007
  group-by: [source.ipaddr]
  timespan: 5m
  condition: {gte: 3, field: destination.nope}
---
title: no id
logsource: {product: kamailio}
detection:
  sel: {event.action: call-end}
  condition: sel
---
title: bad spike
id: 33333333-3333-4333-8333-000000000009
correlation:
  type: baseline_spike
  rules: 33333333-3333-4333-8333-000000000007
  timespan: 1m
  baseline: 1h
  condition: {factor: 0.5}
---
title: bad logsource
id: 33333333-3333-4333-8333-000000000010
logsource: {product: kamailio, vendor: x}
detection:
  sel: {event.action: call-end}
  condition: sel
"""


def test_every_problem_is_collected_with_file_and_rule(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(BAD)
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path, tmp_path / "missing.yml"])
    problems = info.value.problems
    by_rule = {(Path(p.path).name, (p.rule or "").split(" (")[0]): p.message for p in problems}
    text = str(info.value)
    expected = {
        ("bad.yml", "unknown field"): "source.address_ip",
        ("bad.yml", "unknown modifier"): "sounds_like",
        ("bad.yml", "unsupported modifier"): "wide",
        ("bad.yml", "keyword search"): "keyword",
        ("bad.yml", "dangling correlation"): "no_such_rule",
        ("bad.yml", "percentile"): "percentile",
        ("bad.yml", "no id"): "id",
        ("bad.yml", "bad spike"): "factor",
        ("bad.yml", "bad logsource"): "vendor",
    }
    for key, needle in expected.items():
        assert key in by_rule, f"{key} not reported in:\n{text}"
        assert needle in by_rule[key], (key, by_rule[key])
    group_msgs = [p.message for p in problems if (p.rule or "").startswith("bad group-by")]
    assert any("source.ipaddr" in m for m in group_msgs) and any("destination.nope" in m for m in group_msgs)
    assert any(Path(p.path).name == "broken.yml" and p.rule is None for p in problems)
    assert any(Path(p.path).name == "missing.yml" for p in problems)
    assert not any("fine detection" in (p.rule or "") for p in problems)


def test_duplicate_ids_and_unsupported_constructs(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD.split("---\n")[0] + """---
action: global
title: x
---
title: extended
id: 44444444-4444-4444-8444-000000000001
correlation:
  type: temporal
  rules: [reg_failed, x]
  timespan: 5m
  condition: reg_failed and not x
""")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    text = str(info.value)
    assert "already used" in text
    assert "collection actions" in text
    assert "extended" in text


def test_uc_types_validate_their_fields(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(GOOD.split("---\n")[0] + """---
title: new country
id: 55555555-5555-4555-8555-000000000001
correlation:
  type: first_seen
  rules: reg_failed
  group-by: user.name
  field: source.geo.country
  timespan: 30x
  surprise: 1
""")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    text = str(info.value)
    assert "timespan" in text and "surprise" in text


@pytest.mark.parametrize(("pattern", "needle"), [
    (r"^(a+)+$", "backtrack catastrophically"),  # nested quantifiers: exponential on 'aaaa...!'
    (r"(\w+\s?)*;", "backtrack catastrophically"),
])
def test_a_rule_regex_that_a_log_line_could_stall_is_refused(tmp_path: Path, pattern: str, needle: str) -> None:
    (tmp_path / "re.yml").write_text(f"""title: slow regex
id: 55555555-5555-4555-8555-000000000001
level: low
logsource: {{product: kamailio}}
detection:
  sel: {{user_agent.original|re: '{pattern}'}}
  condition: sel
""")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    [problem] = info.value.problems
    assert problem.rule is not None and problem.rule.startswith("slow regex")
    assert needle in problem.message and "user_agent.original" in problem.message


def test_a_linear_rule_regex_loads(tmp_path: Path) -> None:
    (tmp_path / "re.yml").write_text("""title: scanner
id: 55555555-5555-4555-8555-000000000002
level: low
logsource: {product: kamailio}
detection:
  sel: {user_agent.original|re: '^(friendly-scanner|sipvicious|sipcli/v[0-9.]+)'}
  condition: sel
""")
    assert "55555555-5555-4555-8555-000000000002" in load_rules([tmp_path]).detections
