"""Elasticsearch output (elasticsearch-py, async): bulk `create` with `_id = event.id`.

Deterministic ids make re-sending harmless: a 409 means the event is already there and counts as
delivered, so a crash or a retry never makes a duplicate. Every bulk item is classified: 429 and 5xx
are retried (with the server's Retry-After), mapping and other 4xx errors become dead letters with
the reason, 401/403 pause the output: a whole request refused, or documents refused one by one (an index
write block, `cluster_block_exception`, or an index privilege missing). A pause is logged as an ERROR that
says what to fix (for a block: which index, which block, and the request that lifts it); only the refused
documents are sent again, every 10 s, until they go in. Events go to the data stream `logs-uc.<dataset>-<namespace>`,
or to the daily index `logs-uc.<dataset>-<namespace>-YYYY.MM.DD` where data streams are off.

Hostile input: a log line chooses its own date, so the day of a daily index is clamped to a window
around event.ingested (year 1 or 9999 would create indices no template covers). The node's reasons
for refusing a document quote the document's values; what we log and put in dead letters keeps only
the error type and the field name.

Correlation alerts (`event.kind: alert`, `event.dataset: ucsiem.alert`) are sent again with the same
event.id as their running count grows and when their window closes, so `create` would keep the first
version. They go to a plain index (`alerts_index`, default `ucsiem-alerts-<namespace>`) with the bulk
`index` op and external versioning: `version = uc.alert.count`, `version_type = external_gte`. A newer
count replaces the document, a re-sent one rewrites it, an older one (a retry that lost a race, a replay)
answers 409 version conflict, which means a newer version is there: delivered, like any 409.

TLS: the SSLContext is ours, not elastic-transport's, which turns the name check off for IP hosts and
adds `ca_file` to the system roots. Ours trusts only `tls.ca_file` when it is given, and checks the
node's name or IP against the certificate unless `tls.check_hostname: false`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError, TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from ucsiem.config_common import read_secret
from ucsiem.errors import OutputError
from ucsiem.outputs.base import SERVER_SEND_EVENTS, OutputDefaults, Rejected, SendResult
from ucsiem.outputs.es_setup import IndexMode, install_templates, installed_mode
from ucsiem.outputs.registry import ElasticsearchOutputConfig
from ucsiem.outputs.routing import RoutingView, alert_version, is_alert
from ucsiem.outputs.tls import tls_context

log = logging.getLogger("ucsiem.output.elasticsearch")
RETRY_STATUS = {429, 500, 502, 503, 504}
MAPPING_ERRORS = {"mapper_parsing_exception", "document_parsing_exception", "illegal_argument_exception",
                  "strict_dynamic_mapping_exception"}
# what `action_for` reads of a document (its id, index and, for an alert, version): all a send decodes of it
ACTION_FIELDS = ("event.id", "event.dataset", "event.kind", "event.ingested", "@timestamp", "uc.alert.count")
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:]')
PROBE_TIMEOUT_SECS = 5.0
# "index [logs-uc.x-default] blocked by: [FORBIDDEN/8/index write (api)];" (an index's blocks) or
# "blocked by: [FORBIDDEN/6/cluster read-only (api)];" (the cluster's)
_BLOCKED = re.compile(r"(?:index \[([^\[\]\s]{1,255})\] )?blocked by: \[([^\[\]]{1,500})\]")
# the setting behind each block that an operator sets (and lifts) through the API
_BLOCK_SETTINGS = (("index read-only / allow delete", "index.blocks.read_only_allow_delete"),
                   ("index read-only", "index.blocks.read_only"), ("index write", "index.blocks.write"),
                   ("cluster read-only / allow delete", "cluster.blocks.read_only_allow_delete"),
                   ("cluster read-only", "cluster.blocks.read_only"))


def make_client(cfg: ElasticsearchOutputConfig) -> AsyncElasticsearch:
    options: dict[str, Any] = {"request_timeout": cfg.request_timeout_secs, "max_retries": 0,
                               "retry_on_timeout": False, "http_compress": False}
    if cfg.username is not None:
        options["basic_auth"] = (cfg.username, read_secret(cfg.password, cfg.password_file) or "")
    api_key = read_secret(cfg.api_key, cfg.api_key_file)
    if api_key:
        options["api_key"] = api_key
    if urlsplit(cfg.hosts[0]).scheme == "https":  # the config refuses a mix of http and https hosts
        options["ssl_context"] = tls_context(cfg.tls)
    return AsyncElasticsearch(cfg.hosts, **options)


def display_url(url: str) -> str:
    """A node URL fit for logs: any user:password@ taken out (the config refuses them; this is a second guard)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def request_error(name: str, exc: Exception, *, from_events: bool = False) -> OutputError:
    """A whole request failed: say what, and whether waiting helps.

    `from_events`: the request carried events, so the node's reason may quote them: keep type and field only."""
    if isinstance(exc, ApiError):
        status = exc.meta.status
        retry_after = _retry_after(exc.meta.headers.get("retry-after"))
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error")
        if isinstance(error, dict):
            detail = _safe_describe(error) if from_events and status not in (401, 403) else _describe(error)
        else:
            detail = f"{exc.message}"[:200] if not from_events else "(no error details)"
        if status in (401, 403):
            return OutputError(f"{name}: Elasticsearch answered {status} {detail}: check the user/API key "
                               "and its privileges (create_doc, auto_configure on logs-uc.*; index, "
                               "create_index on the alerts index)",
                               retriable=True, auth=True)
        return OutputError(f"{name}: Elasticsearch answered {status}: {detail}",
                           retriable=status in RETRY_STATUS, retry_after=retry_after)
    if isinstance(exc, TlsError):
        return OutputError(f"{name}: TLS with Elasticsearch failed: {transport_message(exc)} (the node's "
                           "certificate must come from tls.ca_file, or the system store without it, and name the "
                           "host of hosts)", retriable=True)
    if isinstance(exc, TransportConnectionError):
        return OutputError(f"{name}: cannot reach Elasticsearch: {transport_message(exc)}", retriable=True)
    if isinstance(exc, TransportError):
        return OutputError(f"{name}: Elasticsearch request failed: {transport_message(exc)}", retriable=True)
    return OutputError(f"{name}: Elasticsearch request failed: {transport_message(exc)}", retriable=True)


# aiohttp's "Cannot connect to host h:9200 ssl:default [...]" names its TLS argument, even for http://
# (ssl:default) or as an object's address (ssl:<ssl.SSLContext object at 0x...>): noise to a reader.
_AIOHTTP_SSL = re.compile(r" ssl:(?:<[^>]*>|\S+?)(?= \[|$)")


def transport_message(exc: Exception) -> str:
    """The message of a transport-level failure as a person should read it (aiohttp's ssl:... removed)."""
    message = exc.message if isinstance(exc, TransportError) else str(exc)
    return _AIOHTTP_SSL.sub("", str(message))


def refused_advice(error: dict[str, Any]) -> str:
    """What a person must do about a document refused with 401/403: lift the block, or grant the privilege.

    The node's reason for these quotes index names, blocks, users and privileges, never the document."""
    if error.get("type") != "cluster_block_exception":
        return (f"{_describe(error)[:1000]}: grant the user/API key the privileges (create_doc, auto_configure "
                "on logs-uc.*; index, create_index on the alerts index)")
    found = _BLOCKED.search(str(error.get("reason", "")))
    if found is None:
        return f"{_describe(error)[:1000]}: a block refuses writes; see GET _cluster/settings and <index>/_settings"
    index, blocks = found.group(1), found.group(2)
    # each block is "FORBIDDEN/8/index write (api)": its description names the setting behind it
    described = {b.strip().split("/", 2)[-1].removesuffix(" (api)").strip() for b in blocks.split(",")}
    settings = [setting for text, setting in _BLOCK_SETTINGS if text in described]
    index_lifts = [f'"{s}": false' for s in settings if s.startswith("index.")]
    cluster_lifts = [f'"{s}": false' for s in settings if s.startswith("cluster.")]
    where = f"index [{index}]" if index else "the cluster"
    lifts = []
    if index_lifts and index:
        lifts.append(f"PUT {index}/_settings {{{', '.join(index_lifts)}}}")
    if cluster_lifts:
        lifts.append(f'PUT _cluster/settings {{"persistent": {{{", ".join(cluster_lifts)}}}}}')
    if not lifts:
        shown = f"GET {index}/_settings" if index else "GET _cluster/settings"
        return f"{where} is blocked for writes ({blocks}): find the block with {shown} and lift it"
    return (f"{where} is blocked for writes ({blocks}), an operator's or the node's action: once it may be "
            f"written again, lift the block with {' and '.join(lifts)}")


class PausedError(OutputError):
    """Documents of a batch refused with 401/403, each on its own: the output pauses (auth=True).

    `partial` is what became of the whole batch: the refused documents are in `partial.retry`, the others are
    delivered or rejected already, so the sender sends only the refused ones again."""

    def __init__(self, message: str, partial: SendResult) -> None:
        super().__init__(message, retriable=True, auth=True)
        self.partial = partial


class ElasticsearchOutput(OutputDefaults):
    send_max_events = SERVER_SEND_EVENTS

    def __init__(self, cfg: ElasticsearchOutputConfig) -> None:
        self.cfg = cfg
        self.name = cfg.output_name()
        self._client: AsyncElasticsearch | None = None
        self.mode: IndexMode = "data_stream" if cfg.index_mode == "auto" else cfg.index_mode
        self._window = timedelta(days=cfg.index_date_window_days)
        self._view = RoutingView(ACTION_FIELDS)
        self._warned = False
        self.unreachable = False  # the last failure was "cannot connect": the sender probes while it waits

    async def start(self) -> None:
        if not self._warned:  # once per run, at the first start: loud, but not at every reconnect
            self._warned = True
            if problems := self.cfg.security_warnings():
                log.warning("Output is not private: its traffic can be read or redirected on the network.",
                            extra={"output": self.name, "problems": problems,
                                   "allow_insecure": self.cfg.allow_insecure})
        try:
            client = make_client(self.cfg)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise OutputError(f"{self.name}: bad TLS or credential settings: {exc}", retriable=False) from None
        try:
            await client.cluster.health()
            if self.cfg.manage_templates:
                self.mode = await install_templates(client, self.cfg.index_mode)
            elif self.cfg.index_mode == "auto":
                self.mode = await installed_mode(client)
        except (ApiError, TransportError) as exc:
            await client.close()
            self.unreachable = _unreachable(exc)
            raise request_error(self.name, exc) from None
        self._client = client
        self.unreachable = False
        log.info("Connected to Elasticsearch.", extra={"output": self.name,
                                                       "hosts": [display_url(h) for h in self.cfg.hosts],
                                                       "index_mode": self.mode})

    def action_for(self, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The bulk operation and its metadata for one event: ("create", {...}) or, for an alert, ("index", {...}).

        An alert without a usable count (or without an id) is created, never overwriting what is there."""
        ev = event.get("event")
        event_id = ev.get("id") if isinstance(ev, dict) else None
        if not is_alert(event):
            action: dict[str, Any] = {"_index": self.index_for(event)}
            if isinstance(event_id, str):
                action["_id"] = event_id
            return "create", action
        action = {"_index": self.cfg.alerts_target}
        if not isinstance(event_id, str):
            return "create", action
        action["_id"] = event_id
        version = alert_version(event)
        if version is None:
            return "create", action
        action.update(version=version, version_type="external_gte")
        return "index", action

    def index_for(self, event: dict[str, Any]) -> str:
        ev = event.get("event")
        dataset = ev.get("dataset") if isinstance(ev, dict) else None
        if not isinstance(dataset, str) or not dataset:  # the schema makes it text; a document of ours has no other
            dataset = "unknown"
        name = f"logs-uc.{_BAD_INDEX_CHARS.sub('_', dataset.lower())}-{self.cfg.namespace}"
        if self.mode == "index":
            name = f"{name}-{self.index_day(event):%Y.%m.%d}"
        return name

    def index_day(self, event: dict[str, Any]) -> datetime:
        """The event's UTC day, or its ingest day when the event's own date is missing or out of the window.

        A log line sets @timestamp; ingest time is ours. Clamping keeps every name inside the daily template's
        patterns and the number of indices bounded, whatever dates the lines claim."""
        ev = event.get("event")
        ingested = _utc(ev.get("ingested") if isinstance(ev, dict) else None) or datetime.now(UTC)
        stamp = _utc(event.get("@timestamp"))
        if stamp is None or abs(stamp - ingested) > self._window:
            return ingested
        return stamp

    async def probe(self) -> bool:
        """Cheap and quick: does the node answer again? (GET _cluster/health; any answer but 502-504 counts)"""
        client = self._client
        try:
            if client is None:
                client = make_client(self.cfg)
            async with asyncio.timeout(PROBE_TIMEOUT_SECS):
                await client.options(request_timeout=PROBE_TIMEOUT_SECS).cluster.health()
            return True
        except ApiError as exc:
            return exc.meta.status not in (502, 503, 504)
        except (TransportError, OSError, ValueError, TimeoutError):
            return False
        finally:
            if client is not None and client is not self._client:
                await client.close()

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        result = SendResult()
        refused: list[str] = []  # why documents were refused with 401/403 (one advice per kind)
        chunk: list[int] = []
        size = 0
        lines: list[bytes] = []
        for i, doc in enumerate(docs):
            try:
                event = self._view.read(doc)
            except orjson.JSONDecodeError:
                result.rejected.append(Rejected(i, "not_json", "the document is not JSON"))
                continue
            op, action = self.action_for(event if isinstance(event, dict) else {})
            line = orjson.dumps({op: action}) + b"\n" + doc + b"\n"
            if chunk and size + len(line) > self.cfg.max_bulk_bytes:
                await self._bulk(chunk, lines, result, refused)
                chunk, lines, size = [], [], 0
            chunk.append(i)
            lines.append(line)
            size += len(line)
        if chunk:
            await self._bulk(chunk, lines, result, refused)
        if refused:
            raise PausedError(f"{self.name}: Elasticsearch refused {len(result.retry)} document(s) with "
                              f"403/401: {'; '.join(refused)}", result)
        return result

    async def _bulk(self, indexes: list[int], lines: list[bytes], result: SendResult, refused: list[str]) -> None:
        if self._client is None:
            raise OutputError(f"{self.name}: not connected", retriable=True)
        try:
            response = await self._client.perform_request(
                "POST", "/_bulk", body=b"".join(lines),
                headers={"content-type": "application/x-ndjson", "accept": "application/json"})
        except ApiError as exc:
            if exc.meta.status == 413:  # larger than the node's http.max_content_length
                if len(indexes) == 1:
                    result.rejected.append(Rejected(indexes[0], "too_large", f"413 {exc.message}"))
                    return
                half = len(indexes) // 2
                await self._bulk(indexes[:half], lines[:half], result, refused)
                await self._bulk(indexes[half:], lines[half:], result, refused)
                return
            raise request_error(self.name, exc, from_events=True) from None
        except TransportError as exc:
            self.unreachable = _unreachable(exc)
            raise request_error(self.name, exc, from_events=True) from None
        self.unreachable = False
        items = response.body.get("items", [])
        if len(items) != len(indexes):
            raise OutputError(f"{self.name}: bulk answer has {len(items)} items for {len(indexes)} documents",
                              retriable=True)
        if not response.body.get("errors"):
            return
        for index, item in zip(indexes, items, strict=True):
            outcome = next(iter(item.values()))
            status = int(outcome.get("status", 0))
            if status < 300:
                continue
            if status == 409:  # create: the event is there; an alert: this version or a newer one is there
                result.duplicates += 1
                continue
            error = outcome.get("error") or {}
            reason = _safe_describe(error)  # logged and put in the dead letter: no event values
            if status in (401, 403):  # a write block or a missing privilege: pause, say what to do
                result.retry.append(index)
                advice = refused_advice(error if isinstance(error, dict) else {})
                if advice not in refused and len(refused) < 5:
                    refused.append(advice)
                continue
            if status in RETRY_STATUS:
                result.retry.append(index)
                result.retry_reason = f"{status}: {reason}"
                continue
            code = "mapping" if error.get("type") in MAPPING_ERRORS else f"http_{status}"
            result.rejected.append(Rejected(index, code, f"{status} {reason}"))

    def sync(self) -> None:
        return None  # a bulk item's 201 means the node wrote it to its translog

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _unreachable(exc: Exception) -> bool:
    """The node could not be reached (refused, reset, timed out): waiting for it is all that can be done."""
    return isinstance(exc, (TransportConnectionError, ConnectionTimeout)) and not isinstance(exc, TlsError)


def _describe(error: dict[str, Any]) -> str:
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text


_SAFE_WORD = re.compile(r"[A-Za-z0-9_]{1,100}")
# Where the node names the field in its reason: "failed to parse field [labels.seq] of type [byte] in document
# with id '…'. Preview of field's value: '300'" or "dynamic introduction of [foo] within [_doc]". Only the
# field name and mapping type are kept; the value (and anything else the reason quotes) is not.
_FIELD_IN_REASON = re.compile(r"(?:field|introduction of) \[([A-Za-z0-9_.@-]{1,200})\](?: of type \[([a-z_]{1,50})\])?")


def _safe_describe(error: dict[str, Any]) -> str:
    """An item's error as type, field and cause type: what the node said, minus the event's values."""
    kind = str(error.get("type", "error"))
    text = kind if _SAFE_WORD.fullmatch(kind) else "error"
    found = None
    cause: Any = error
    while isinstance(cause, dict) and found is None:  # the field may be named by the error or by its cause
        found = _FIELD_IN_REASON.search(str(cause.get("reason", "")))
        cause = cause.get("caused_by")
    if found is not None:
        text += f" on field [{found.group(1)}]" + (f" of type [{found.group(2)}]" if found.group(2) else "")
    cause = error.get("caused_by")
    if isinstance(cause, dict) and _SAFE_WORD.fullmatch(str(cause.get("type", ""))):
        text += f" (caused by {cause['type']})"
    return text


def _utc(value: Any) -> datetime | None:
    """An ISO-8601 text as an aware UTC datetime; None when it is not one (or falls off the calendar in UTC)."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Elasticsearch; our own backoff applies
