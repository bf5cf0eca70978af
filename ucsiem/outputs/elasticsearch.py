"""Elasticsearch output (elasticsearch-py, async): bulk `create` with `_id = event.id`.

Deterministic ids make re-sending harmless: a 409 means the event is already there and counts as
delivered, so a crash or a retry never makes a duplicate. Every bulk item is classified: 429 and 5xx
are retried (with the server's Retry-After), mapping and other 4xx errors become dead letters with
the reason, 401/403 pause the output. Events go to the data stream `logs-uc.<dataset>-<namespace>`,
or to the daily index `logs-uc.<dataset>-<namespace>-YYYY.MM.DD` where data streams are off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from ucsiem.config import ElasticsearchOutputConfig, output_name, read_secret
from ucsiem.errors import OutputError
from ucsiem.outputs.base import Rejected, SendResult
from ucsiem.outputs.es_setup import IndexMode, install_templates, installed_mode

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
    if cfg.tls is not None:
        options["verify_certs"] = True
        options["ssl_show_warn"] = False
        if cfg.tls.ca_file is not None:
            options["ca_certs"] = str(cfg.tls.ca_file)
        if cfg.tls.cert_file is not None:
            options["client_cert"] = str(cfg.tls.cert_file)
            options["client_key"] = str(cfg.tls.key_file)
        if not cfg.tls.check_hostname:
            options["ssl_assert_hostname"] = False
    return AsyncElasticsearch(cfg.hosts, **options)


def request_error(name: str, exc: Exception) -> OutputError:
    """A whole request failed: say what, and whether waiting helps."""
    if isinstance(exc, ApiError):
        status = exc.meta.status
        retry_after = _retry_after(exc.meta.headers.get("retry-after"))
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = _describe(body["error"]) if isinstance(body.get("error"), dict) else str(exc.message)
        if status in (401, 403):
            return OutputError(f"{name}: Elasticsearch answered {status} {detail}: check the user/API key "
                               "and its privileges (create_doc, auto_configure on logs-uc.*)",
                               retriable=True, auth=True)
        return OutputError(f"{name}: Elasticsearch answered {status}: {detail}",
                           retriable=status in RETRY_STATUS, retry_after=retry_after)
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

    async def start(self) -> None:
        try:
            client = make_client(self.cfg)
        except (OSError, ValueError) as exc:
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
        log.info("Connected to Elasticsearch.", extra={"output": self.name, "hosts": self.cfg.hosts,
                                                       "index_mode": self.mode})

    def index_for(self, event: dict[str, Any]) -> str:
        ev = event.get("event")
        dataset = ev.get("dataset") if isinstance(ev, dict) else None
        name = f"logs-uc.{_BAD_INDEX_CHARS.sub('_', str(dataset or 'unknown').lower())}-{self.cfg.namespace}"
        if self.mode == "index":
            stamp = str(event.get("@timestamp") or "")
            day = stamp[:10].replace("-", ".") if len(stamp) >= 10 else "undated"
            name = f"{name}-{day}"
        return name

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
            ev = event.get("event") if isinstance(event, dict) else None
            action: dict[str, Any] = {"_index": self.index_for(event)}
            if isinstance(ev, dict) and isinstance(ev.get("id"), str):
                action["_id"] = ev["id"]
            line = orjson.dumps({"create": action}) + b"\n" + doc + b"\n"
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
            raise request_error(self.name, exc) from None
        except TransportError as exc:
            raise request_error(self.name, exc) from None
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
            if status == 409:
                result.duplicates += 1
                continue
            error = outcome.get("error") or {}
            reason = _describe(error)
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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Elasticsearch; our own backoff applies
