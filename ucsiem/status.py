"""`ucsiem status`: a human summary of a running agent, read from its /metrics and /readyz endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from ucsiem.config import Config
from ucsiem.errors import UcsiemError
from ucsiem.sizes import format_size as _size

Labels = tuple[tuple[str, str], ...]


@dataclass
class Scrape:
    samples: dict[str, dict[Labels, float]] = field(default_factory=lambda: defaultdict(dict))

    def get(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for k, v in self.samples.get(name, {}).items() if wanted <= set(k))

    def rows(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(dict(k), v) for k, v in sorted(self.samples.get(name, {}).items())]

    def values(self, name: str, label: str) -> list[str]:
        return sorted({dict(k)[label] for k in self.samples.get(name, {}) if label in dict(k)})


def metrics_url(config: Config) -> str:
    metrics = config.agent.metrics
    if metrics is None:
        raise UcsiemError("agent.metrics is not set in the configuration: the agent serves no status endpoint "
                          "(add `metrics: {}` under agent: for 127.0.0.1:9464), or give --url")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(metrics.address, metrics.address)  # any address: ask loopback
    return f"http://{f'[{host}]' if ':' in host else host}:{metrics.port}"


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UcsiemError(f"cannot reach the agent at {url}: {reason} (is it running, with agent.metrics set?)"
                          ) from None


def scrape(base: str, timeout: float) -> tuple[Scrape, bool, list[str]]:
    """(the metrics, ready, the reasons it is not)."""
    status, body = _get(f"{base}/metrics", timeout)
    if status != 200:
        raise UcsiemError(f"{base}/metrics answered {status}")
    found = Scrape()
    for family in text_string_to_metric_families(body.decode("utf-8", "replace")):
        for sample in family.samples:
            found.samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    status, body = _get(f"{base}/readyz", timeout)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    reasons = [str(r) for r in answer.get("reasons", [])] if isinstance(answer, dict) else []
    if status != 200 and not reasons:
        reasons = [f"/readyz answered {status}"]
    return found, status == 200, reasons


def report(base: str, timeout: float = 5.0) -> tuple[bool, list[str]]:
    """(ready, the lines to print)."""
    m, ready, reasons = scrape(base, timeout)
    info = m.rows("ucsiem_agent_info")
    who = f"ucsiem {info[0][0].get('version', '?')} on {info[0][0].get('name', '?')}" if info else "ucsiem"
    uptime = _duration(m.get("ucsiem_agent_uptime_seconds"))
    lines = [f"{who} at {base}: {'READY' if ready else 'NOT READY'}, up {uptime}"]
    lines += [f"  not ready: {r}" for r in reasons]
    lines.append("inputs:")
    for row, read in m.rows("ucsiem_input_bytes_total"):
        inp = row["input"]
        lines.append(f"  {inp} ({row.get('type', '?')}): {_size(read)} read, "
                     f"{m.get('ucsiem_records_total', input=inp):,.0f} records, "
                     f"{m.get('ucsiem_events_total', input=inp):,.0f} events, "
                     f"{m.get('ucsiem_dead_letters_total', input=inp):,.0f} dead letters")
        for lag_row, lag in m.rows("ucsiem_file_lag_bytes"):
            if lag_row["input"] == inp and lag:
                secs = m.get("ucsiem_file_lag_seconds", input=inp, path=lag_row["path"])
                lines.append(f"    {lag_row['path']}: {_size(lag)} behind ({secs:.0f} s without progress)")
    lines.append("outputs:")
    for row, delivered in m.rows("ucsiem_output_delivered_total"):
        out = row["output"]
        state = "up" if m.get("ucsiem_output_up", output=out) else "PAUSED"
        extra = ""
        if (failures := m.get("ucsiem_output_auth_failures_total", output=out)):
            extra += f", {failures:,.0f} auth failures"
        if (dead := m.get("ucsiem_output_dead_letters_total", output=out)):
            extra += f", {dead:,.0f} refused (dead letters)"
        lines.append(f"  {out}: {state}, {delivered:,.0f} delivered, "
                     f"{m.get('ucsiem_output_queued_events', output=out):,.0f} queued "
                     f"({_size(m.get('ucsiem_output_queued_bytes', output=out))}), "
                     f"{m.get('ucsiem_output_retries_total', output=out):,.0f} retries{extra}")
    if m.samples.get("ucsiem_spool_bytes"):
        lines.append(f"spool: {_size(m.get('ucsiem_spool_bytes'))} of {_size(m.get('ucsiem_spool_max_bytes'))} "
                     f"({_size(m.get('ucsiem_spool_file_bytes'))} on disk)")
    codes: dict[str, float] = defaultdict(float)
    for row, n in m.rows("ucsiem_dead_letters_total"):
        codes[row["code"]] += n
    for row, n in m.rows("ucsiem_output_dead_letters_total"):
        codes[f"output_{row['code']}"] += n
    dead_text = ", ".join(f"{code} {n:,.0f}" for code, n in sorted(codes.items()) if n) or "none"
    lines.append(f"dead letters: {dead_text}")
    if "ucsiem_alerts_total" in m.samples:
        rules = [(row["rule"], n) for row, n in m.rows("ucsiem_alerts_total") if n]
        by_rule = ", ".join(f"{rule} {n:,.0f}" for rule, n in sorted(rules, key=lambda r: -r[1]))
        lines.append(f"alerts: {sum(n for _, n in rules):,.0f}" + (f" ({by_rule})" if by_rule else ""))
    if (restarts := m.get("ucsiem_worker_restarts_total")):
        lines.append(f"parse worker restarts: {restarts:,.0f}")
    return ready, lines



def _duration(secs: float) -> str:
    secs = int(secs)
    days, rest = divmod(secs, 86400)
    text = f"{rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text
