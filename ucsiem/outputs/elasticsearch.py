"""Elasticsearch output (elasticsearch-py, async): bulk `create` with `_id = event.id`.

Deterministic ids make re-sending harmless: a 409 means the event is already there and counts as
delivered, so a crash or a retry never makes a duplicate. Every bulk item is classified: 429 and 5xx
are retried (with the server's Retry-After), mapping and other 4xx errors become dead letters with
the reason, 401/403 pause the output. Events go to the data stream `logs-uc.<dataset>-<namespace>`,
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

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TlsError, TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from ucsiem.config import ElasticsearchOutputConfig, output_name, read_secret
from ucsiem.errors import OutputError
from ucsiem.outputs.base import Rejected, SendResult
from ucsiem.outputs.es_setup import IndexMode, install_templates, installed_mode
from ucsiem.outputs.routing import alert_version, is_alert
from ucsiem.outputs.tls import tls_context

log = logging.getLogger("ucsiem.output.elasticsearch")
RETRY_STATUS = {429, 500, 502, 503, 504}
MAPPING_ERRORS = {"mapper_parsing_exception", "document_parsing_exception", "illegal_argument_exception",
                  "strict_dynamic_mapping_exception"}
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:]')


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
        return OutputError(f"{name}: TLS with Elasticsearch failed: {exc.message} (the node's certificate must "
                           "come from tls.ca_file, or the system store without it, and name the host of hosts)",
                           retriable=True)
    if isinstance(exc, TransportConnectionError):
        return OutputError(f"{name}: cannot reach Elasticsearch: {exc.message}", retriable=True)
    if isinstance(exc, TransportError):
        return OutputError(f"{name}: Elasticsearch request failed: {exc.message}", retriable=True)
    return OutputError(f"{name}: Elasticsearch request failed: {exc}", retriable=True)


class ElasticsearchOutput:
    def __init__(self, cfg: ElasticsearchOutputConfig) -> None:
        self.cfg = cfg
        self.name = output_name(cfg)
        self._client: AsyncElasticsearch | None = None
        self.mode: IndexMode = "data_stream" if cfg.index_mode == "auto" else cfg.index_mode
        self._window = timedelta(days=cfg.index_date_window_days)
        self._warned = False

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
            raise request_error(self.name, exc) from None
        self._client = client
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
        name = f"logs-uc.{_BAD_INDEX_CHARS.sub('_', str(dataset or 'unknown').lower())}-{self.cfg.namespace}"
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

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        result = SendResult()
        chunk: list[int] = []
        size = 0
        lines: list[bytes] = []
        for i, doc in enumerate(docs):
            try:
                event = orjson.loads(doc)
            except orjson.JSONDecodeError:
                result.rejected.append(Rejected(i, "not_json", "the document is not JSON"))
                continue
            op, action = self.action_for(event if isinstance(event, dict) else {})
            line = orjson.dumps({op: action}) + b"\n" + doc + b"\n"
            if chunk and size + len(line) > self.cfg.max_bulk_bytes:
                await self._bulk(chunk, lines, result)
                chunk, lines, size = [], [], 0
            chunk.append(i)
            lines.append(line)
            size += len(line)
        if chunk:
            await self._bulk(chunk, lines, result)
        return result

    async def _bulk(self, indexes: list[int], lines: list[bytes], result: SendResult) -> None:
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
                await self._bulk(indexes[:half], lines[:half], result)
                await self._bulk(indexes[half:], lines[half:], result)
                return
            raise request_error(self.name, exc, from_events=True) from None
        except TransportError as exc:
            raise request_error(self.name, exc, from_events=True) from None
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
            if status in RETRY_STATUS or status in (401, 403):
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
