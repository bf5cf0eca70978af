"""Prometheus metrics, liveness and readiness of the running agent: /metrics, /healthz, /readyz.

The collector keeps no counters of its own: every scrape reads the agent's existing stats (the
`Stats` of agent.py, each sender's `OutputStats`, the feed's depth, the readers' positions, the
correlation stage, the network inputs' counters), in the event loop thread, so nothing is read half
updated. Only the output latency histogram is observed as it happens (`delivery.Latency`).

The HTTP server runs in the agent's own event loop: an answer from /healthz proves the loop is alive.
/readyz answers 503 with the reasons (JSON) while an output is not connected or is failing (paused:
nothing delivered since its last error), while the spool is nearly full, or while the agent drains.
Counters start again from zero when the agent reloads (SIGHUP): Prometheus' rate() handles that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ucsiem import __version__
from ucsiem.inputs.file import FileInput
from ucsiem.inputs.syslog import SyslogInput
from ucsiem.pipeline.delivery import LATENCY_BUCKETS

if TYPE_CHECKING:
    from aiohttp import web

    from ucsiem.agent import Agent
    from ucsiem.config import MetricsConfig
    from ucsiem.inputs.webhook import WebhookInput

log = logging.getLogger("ucsiem.metrics")
SPOOL_FULL = 0.95  # readiness fails when the spool holds this share of spool.max_bytes (inputs about to wait)


class AgentCollector(Collector):
    """Reads the agent's stats at scrape time."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def collect(self) -> Iterator[Metric]:
        yield from self._agent()
        yield from self._streams()
        yield from self._inputs()
        yield from self._files()
        yield from self._outputs()
        yield from self._queues()
        yield from self._correlation()
        yield from self._enrichment()

    def _agent(self) -> Iterable[Metric]:
        agent = self.agent
        info = GaugeMetricFamily("ucsiem_agent_info", "The agent's version and name (always 1).",
                                 labels=["version", "name"])
        info.add_metric([__version__, agent.config.agent.name], 1)
        yield info
        yield GaugeMetricFamily("ucsiem_agent_uptime_seconds", "Seconds since this agent (configuration) started.",
                                value=time.monotonic() - agent.stats.started)
        yield GaugeMetricFamily("ucsiem_ready", "1 when /readyz answers 200 (outputs connected and delivering, "
                                "spool not full, not draining).", value=0 if readiness(agent) else 1)
        yield GaugeMetricFamily("ucsiem_workers", "Parse worker processes (0: parsing in the agent process).",
                                value=agent.pool.workers)
        yield CounterMetricFamily("ucsiem_worker_restarts", "Times the parse worker pool was replaced after a "
                                  "worker died (its batches parsed again).", value=agent.pool.replacements)
        yield CounterMetricFamily("ucsiem_batches", "Batches parsed and handed to the outputs.",
                                  value=agent.stats.batches)

    def _streams(self) -> Iterable[Metric]:
        """Per parse stream (a file input, or a route of a network input) and its parser."""
        agent = self.agent
        parser = {t.id: t.parser for t in agent.config.parse_targets()}
        owner = {stream: inp.cfg.id for inp in agent.inputs for stream in _streams_of(inp)}
        labels = ["input", "stream", "parser"]
        records = CounterMetricFamily("ucsiem_records", "Records read and parsed.", labels=labels)
        events = CounterMetricFamily("ucsiem_events", "Events the parser made from them (dead letters apart).",
                                     labels=labels)
        skipped = CounterMetricFamily("ucsiem_skipped_records", "Records the parser skipped on purpose "
                                      "(headers, comments).", labels=labels)
        dead = CounterMetricFamily("ucsiem_dead_letters", "Records that became pipeline_error events, by code "
                                   "(parse errors, parser bugs, schema violations).", labels=[*labels, "code"])
        for stream, counters in sorted(agent.stats.streams.items()):
            key = [owner.get(stream, stream), stream, parser.get(stream, "")]
            records.add_metric(key, counters.records)
            events.add_metric(key, counters.events)
            skipped.add_metric(key, counters.skipped)
            for code, n in sorted(counters.errors.items()):
                dead.add_metric([*key, code], n)
        yield from (records, events, skipped, dead)
        yield CounterMetricFamily("ucsiem_detection_errors", "Events a detection rule raised on (shipped all the "
                                  "same).", value=agent.stats.counters.detection_errors)

    def _inputs(self) -> Iterable[Metric]:
        agent = self.agent
        read = CounterMetricFamily("ucsiem_input_bytes", "Bytes read by each input.", labels=["input", "type"])
        for inp in agent.inputs:
            read.add_metric([inp.cfg.id, inp.cfg.type], inp.bytes_read)
        yield read
        listener = ["input", "listener"]
        conns = CounterMetricFamily("ucsiem_syslog_connections", "TCP/TLS connections accepted.", labels=listener)
        refused = CounterMetricFamily("ucsiem_syslog_refused_connections", "Connections refused (peers not "
                                      "allowed, too many).", labels=listener)
        tls = CounterMetricFamily("ucsiem_syslog_tls_failures", "TLS handshakes that failed (authentication "
                                  "failures of syslog peers).", labels=listener)
        messages = CounterMetricFamily("ucsiem_syslog_messages", "Syslog messages by what became of them "
                                       "(received, truncated, unrouted, dropped).", labels=[*listener, "result"])
        for inp in agent.inputs:
            if not isinstance(inp, SyslogInput):
                continue
            for lc, stats in zip(inp.cfg.listeners, inp.stats, strict=True):
                key = [inp.cfg.id, f"{lc.protocol}://{lc.address}:{lc.port}"]
                conns.add_metric(key, stats.connections)
                refused.add_metric(key, stats.refused_connections)
                tls.add_metric(key, stats.tls_failures)
                for result in ("received", "truncated", "unrouted", "dropped"):
                    messages.add_metric([*key, result], sum(getattr(c, result) for c in stats.peers.values()))
        yield from (conns, refused, tls, messages)
        path = ["input", "path"]
        requests = CounterMetricFamily("ucsiem_webhook_requests", "Webhook requests by answer (accepted, challenge, "
                                       "too_large, bad_json, timeout, dropped, busy).", labels=[*path, "result"])
        auth = CounterMetricFamily("ucsiem_webhook_auth_failures", "Webhook requests refused with 401, by reason "
                                   "(missing_header, bad_signature, stale_timestamp...).", labels=[*path, "reason"])
        other = CounterMetricFamily("ucsiem_webhook_refused", "Webhook requests refused for other reasons "
                                    "(method, encoding, read_timeout...).", labels=[*path, "reason"])
        handshakes = CounterMetricFamily("ucsiem_webhook_tls_failures", "TLS handshakes with the webhook listener that "
                                         "failed (untrusted or missing certificates, plain HTTP, scanners).",
                                         labels=["input"])
        for inp in agent.stats.webhook:
            for route in inp.routes:
                key = [inp.cfg.id, route.cfg.path]
                peers = list(route.peers.values())
                for result, attr in (("accepted", "accepted"), ("challenge", "challenges"),
                                     ("too_large", "too_large"), ("bad_json", "bad_json"), ("timeout", "timeouts"),
                                     ("dropped", "dropped"), ("busy", "busy")):
                    requests.add_metric([*key, result], sum(getattr(c, attr) for c in peers))
                for family, attr in ((auth, "rejected"), (other, "refused")):
                    by_reason: dict[str, int] = {}
                    for c in peers:
                        for reason, n in getattr(c, attr).items():
                            by_reason[reason] = by_reason.get(reason, 0) + n
                    for reason, n in sorted(by_reason.items()):
                        family.add_metric([*key, reason], n)
            requests.add_metric([inp.cfg.id, "(unknown path)", "not_found"], sum(inp.unknown_paths.values()))
            handshakes.add_metric([inp.cfg.id], sum(inp.tls_failures.values()))
        yield from (requests, auth, other, handshakes)

    def _files(self) -> Iterable[Metric]:
        """Per open file: how far delivery is behind its end."""
        lag = GaugeMetricFamily("ucsiem_file_lag_bytes", "File size minus the delivered (acknowledged) position.",
                                labels=["input", "path"])
        secs = GaugeMetricFamily("ucsiem_file_lag_seconds", "0 when every byte of the file is delivered; else "
                                 "seconds since its delivered position last moved.", labels=["input", "path"])
        files = GaugeMetricFamily("ucsiem_files_open", "Files each file input holds open.", labels=["input"])
        now = time.time()
        for inp in self.agent.inputs:
            if not isinstance(inp, FileInput):
                continue
            behind: dict[str, tuple[int, float]] = {}
            for reader in list(inp.readers.values()):
                try:
                    size = os.fstat(reader.fd).st_size if reader.fd is not None else os.stat(reader.path).st_size
                except OSError:
                    continue
                ahead = max(0, size - reader.entry.offset)
                waited = max(0.0, now - reader.entry.updated) if ahead else 0.0
                old = behind.get(reader.path, (0, 0.0))  # a rotated file and its successor share a name a moment
                behind[reader.path] = (old[0] + ahead, max(old[1], waited))
            for path, (n, waited) in sorted(behind.items()):
                lag.add_metric([inp.cfg.id, path], n)
                secs.add_metric([inp.cfg.id, path], round(waited, 3))
            files.add_metric([inp.cfg.id], sum(1 for r in inp.readers.values() if r.fd is not None))
        yield from (lag, secs, files)

    def _outputs(self) -> Iterable[Metric]:
        out = ["output"]
        families = {
            "delivered": CounterMetricFamily("ucsiem_output_delivered", "Documents the destination acknowledged "
                                             "(duplicates included).", labels=out),
            "duplicates": CounterMetricFamily("ucsiem_output_duplicates", "Documents already at the destination "
                                              "(Elasticsearch 409: delivered before).", labels=out),
            "retries": CounterMetricFamily("ucsiem_output_retries", "Send attempts that failed or were asked to "
                                           "retry, and stalls of a client that retries by itself.", labels=out),
            "retried_documents": CounterMetricFamily("ucsiem_output_retried_documents", "Documents sent again.",
                                                     labels=out),
            "auth_failures": CounterMetricFamily("ucsiem_output_auth_failures", "Times the destination refused "
                                                 "the credentials or permissions (the output pauses).", labels=out),
            "dead_letters_local": CounterMetricFamily("ucsiem_output_dead_letters_local", "Dead letters the "
                                                      "output refused too, kept in dead-letters.ndjson.", labels=out),
        }
        dead = CounterMetricFamily("ucsiem_output_dead_letters", "Documents the destination refused for good, by "
                                   "code (sent as pipeline_error events instead).", labels=[*out, "code"])
        up = GaugeMetricFamily("ucsiem_output_up", "1: connected and delivering; 0: not connected yet, or failing "
                               "since its last error (paused).", labels=out)
        failing = GaugeMetricFamily("ucsiem_output_failing_seconds", "Seconds since the output last failed "
                                    "without delivering since (0: delivering).", labels=out)
        latency = HistogramMetricFamily("ucsiem_output_send_seconds", "Time one send call took (a batch, until "
                                        "the destination acknowledged it or failed).", labels=out)
        now = time.monotonic()
        for sender in self.agent.senders:
            stats, name = sender.stats, [sender.output.name]
            for attr, family in families.items():
                family.add_metric(name, getattr(stats, attr))
            for code, n in sorted(stats.dead_letters.items()):
                dead.add_metric([*name, code], n)
            up.add_metric(name, 1 if sender.started.is_set() and stats.failing_since is None else 0)
            failing.add_metric(name, round(now - stats.failing_since, 3) if stats.failing_since is not None else 0)
            cumulative, buckets = 0, []
            for le, n in zip([*(repr(b) for b in LATENCY_BUCKETS), "+Inf"], stats.latency.counts, strict=True):
                cumulative += n
                buckets.append((le, float(cumulative)))
            latency.add_metric(name, buckets, stats.latency.total)
        yield from (*families.values(), dead, up, failing, latency)

    def _queues(self) -> Iterable[Metric]:
        agent = self.agent
        yield GaugeMetricFamily("ucsiem_parse_queue_batches", "Batches read and waiting for (or in) the parse "
                                "workers.", value=agent._queue.qsize())
        yield GaugeMetricFamily("ucsiem_parse_queue_capacity", "Bound of that queue (pipeline.max_batches_in_flight).",
                                value=agent._queue.maxsize)
        depth = agent.feed.depth()
        for what in ("batches", "events", "bytes"):
            family = GaugeMetricFamily(f"ucsiem_output_queued_{what}", f"{what.capitalize()} waiting for each output "
                                       "(in memory, or in the spool).", labels=["output"])
            for name, d in sorted(depth.items()):
                family.add_metric([name], d[what])
            yield family
        spool = agent.spool
        if spool is None:
            return
        yield GaugeMetricFamily("ucsiem_spool_bytes", "Event bytes the spool holds (bounded by spool.max_bytes).",
                                value=spool_bytes(agent))
        yield GaugeMetricFamily("ucsiem_spool_max_bytes", "spool.max_bytes.", value=agent.config.spool.max_bytes)
        yield GaugeMetricFamily("ucsiem_spool_batches", "Batches the spool holds.",
                                value=max((d["batches"] for d in depth.values()), default=0))
        yield GaugeMetricFamily("ucsiem_spool_file_bytes", "Size of the spool file and its write-ahead log on disk.",
                                value=spool.file_bytes())
        yield CounterMetricFamily("ucsiem_spool_dropped_events", "Events dropped because the spool was full "
                                  "(when_full: drop_newest).", value=spool.dropped_events)
        yield CounterMetricFamily("ucsiem_spool_damaged_batches", "Spooled batches that failed authentication "
                                  "(quarantined).", value=spool.damaged_batches)

    def _correlation(self) -> Iterable[Metric]:
        stage = self.agent.correlation
        if stage is None:
            return
        alerts = CounterMetricFamily("ucsiem_alerts", "Alert documents made per rule (an alert whose count grows is "
                                     "sent again and counted again).", labels=["rule_id", "rule"])
        for (rule_id, rule), n in sorted(stage.by_rule.items()):
            alerts.add_metric([rule_id, rule], n)
        yield alerts
        yield CounterMetricFamily("ucsiem_alert_errors", "Alerts that did not fit the schema (not sent; a bug).",
                                  value=stage.alert_errors)
        stats = stage.correlator.stats()
        for key, help_text in (("hits", "Detection hits fed to the correlator."),
                               ("late", "Hits older than the watermark (too late for their window)."),
                               ("duplicates", "Hits of events seen before (read again after a restart).")):
            yield CounterMetricFamily(f"ucsiem_correlation_{key}", help_text, value=stats.get(key, 0))
        yield GaugeMetricFamily("ucsiem_correlation_groups", "Open correlation groups.", value=stats["groups"])
        yield GaugeMetricFamily("ucsiem_correlation_memory_bytes", "Estimated memory of the correlation state.",
                                value=stats["memory_bytes"])

    def _enrichment(self) -> Iterable[Metric]:
        agent = self.agent
        if agent.stats.counters.enrichment:
            family = CounterMetricFamily("ucsiem_enrichment", "Enrichment lookups by result (found, not found, "
                                         "tags added).", labels=["result"])
            for name, n in sorted(agent.stats.counters.enrichment.items()):
                family.add_metric([name], n)
            yield family
        identity = agent.stats.identity
        if identity is not None:
            yield CounterMetricFamily("ucsiem_identity_refreshes", "Identity index rebuilds.",
                                      value=identity.refreshes)
            failures = CounterMetricFamily("ucsiem_identity_refresh_failures", "Identity source reads that failed.",
                                           labels=["source"])
            for source, n in sorted(identity.failures.items()):
                failures.add_metric([source], n)
            entries = GaugeMetricFamily("ucsiem_identity_entries", "Entries per identity source in the index.",
                                        labels=["source"])
            for source, n in sorted(identity.entries.items()):
                entries.add_metric([source], n)
            yield from (failures, entries)


def _streams_of(inp: FileInput | SyslogInput | WebhookInput) -> list[str]:
    return [inp.cfg.id] if isinstance(inp, FileInput) else list(inp.streams)


def spool_bytes(agent: Agent) -> int:
    """What the spool holds: the batches the slowest output has not delivered."""
    return max((d["bytes"] for d in agent.feed.depth().values()), default=0) if agent.spool is not None else 0


def readiness(agent: Agent) -> list[str]:
    """Why the agent is not ready (empty: ready)."""
    reasons = []
    if agent._stop.is_set():
        reasons.append("stopping: delivering what is in flight, reading nothing new")
    now = time.monotonic()
    for sender in agent.senders:
        stats = sender.stats
        error = f": {stats.last_error}" if stats.last_error else ""
        if not sender.started.is_set():
            reasons.append(f"output {sender.output.name}: not connected{error}")
        elif stats.failing_since is not None:
            reasons.append(f"output {sender.output.name}: paused, nothing delivered for "
                           f"{now - stats.failing_since:.0f} s{error}")
    if agent.spool is not None:
        held, bound = spool_bytes(agent), agent.config.spool.max_bytes
        if held >= SPOOL_FULL * bound:
            reasons.append(f"spool full: {held} of {bound} bytes (spool.max_bytes); inputs are held back")
    return reasons


def make_registry(agent: Agent) -> CollectorRegistry:
    """A registry of this agent only (not the process-wide default: a reload makes a new agent)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AgentCollector(agent))
    registry.register(ProcessMetrics())
    return registry


class ProcessMetrics(Collector):
    """The standard process_* metrics from what the hardened unit leaves readable. prometheus-client's own
    ProcessCollector needs /proc/stat (the boot time), which ProcSubset=pid hides: it then reports nothing."""

    started = time.time()  # this module is imported as the agent starts

    def collect(self) -> Iterator[Metric]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        yield CounterMetricFamily("process_cpu_seconds", "User and system CPU seconds of the agent process.",
                                  value=usage.ru_utime + usage.ru_stime)
        yield GaugeMetricFamily("process_start_time_seconds", "When the agent process started (epoch seconds).",
                                value=self.started)
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open("/proc/self/statm") as fh:
                pages = fh.read().split()
            page = os.sysconf("SC_PAGE_SIZE")
            yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                    value=int(pages[0]) * page)
            yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory size in bytes.",
                                    value=int(pages[1]) * page)
        with contextlib.suppress(OSError):
            fds = len(os.listdir("/proc/self/fd"))
            yield GaugeMetricFamily("process_open_fds", "Open file descriptors.", value=fds)


def make_app(agent: Agent) -> web.Application:
    from aiohttp import web

    registry = make_registry(agent)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "uptime_secs": round(time.monotonic() - agent.stats.started, 3)})

    async def readyz(_: web.Request) -> web.Response:
        reasons = readiness(agent)
        if reasons:
            return web.json_response({"ready": False, "reasons": reasons}, status=503)
        return web.json_response({"ready": True})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def serve(agent: Agent, cfg: MetricsConfig) -> None:
    """The endpoints, until cancelled. A port that cannot be bound is an ERROR, not a stop: the agent's job
    is the logs."""
    from aiohttp import web

    runner = web.AppRunner(make_app(agent), handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, cfg.address, cfg.port).start()
        except OSError as exc:
            log.error("Metrics and health endpoints cannot listen; the agent runs without them.",
                      extra={"address": cfg.address, "port": cfg.port, "error": exc.strerror or str(exc)})
            return
        log.info("Metrics and health endpoints listening.",
                 extra={"url": f"http://{_host(cfg.address)}:{cfg.port}/metrics"})
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def observe(agent: Agent) -> None:
    """The agent's observability task: the endpoints when configured, the progress line of `run --once` on a
    terminal. Runs until cancelled."""
    from ucsiem.progress import Progress, follow

    jobs = []
    if agent.config.agent.metrics is not None:
        jobs.append(serve(agent, agent.config.agent.metrics))
    if agent.once:
        progress = Progress(sys.stderr)
        if progress.enabled:
            jobs.append(follow(agent, progress))
    if jobs:
        await asyncio.gather(*jobs)


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
