"""A fault-injecting HTTP/1.1 reverse proxy for the Elasticsearch tests (asyncio, in a background thread).

It listens on a free 127.0.0.1 port and forwards every request verbatim to the real node: the request
line, the header bytes and the body (by Content-Length, or chunked, passed through as is), then relays the
node's answer the same way. Client connections are kept alive as long as both sides allow it, each with
its own kept-alive connection to the node, so a client that reuses connections behaves as it would
against the node itself.

At run time a test can tell it to answer requests to one path (`/_bulk` by default, also `/<index>/_bulk`)
itself instead of forwarding them, for the next N such requests and/or for T seconds from the first
answer it gives:

* a whole-request error: 429 (with `Retry-After`), 401/403 (security errors as Elasticsearch words
  them), 503, any other status; the body is drained, the connection stays open;
* or, with `items=True`, a `200` bulk answer whose every item failed with that status (how a node
  refuses documents under indexing pressure: `errors: true`, `es_rejected_execution_exception`).

It counts what it did per outcome (`forwarded`, `injected:429`, `items:429`, `upstream_error`) and keeps a
timeline of requests (`hits`), so a test can check how often and how far apart the client retried.

Not supported (Elasticsearch clients do not need them): `Expect: 100-continue`, TLS, HTTP/2.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024
NO_BODY_STATUS = {204, 304}

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Hit:
    """One request the proxy saw: when (time.monotonic()), what, and what it did with it."""

    at: float
    method: str
    path: str
    outcome: str


@dataclass
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None

    def close(self) -> None:
        self.client.close()
        if self.upstream is not None:
            self.upstream.close()


@dataclass
class _Fault:
    status: int
    path: str
    remaining: int | None  # answers left; None: no limit
    seconds: float | None  # how long after the first answer; None: no limit
    retry_after: str | None
    items: bool
    first: float | None = None


class FaultProxy:
    """`with FaultProxy("http://127.0.0.1:19200") as proxy: ... proxy.url ... proxy.inject(429, count=5)`."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"plain http://host:port upstreams only, not {upstream!r}")
        self.upstream_host: str = parts.hostname
        self.upstream_port: int = parts.port or 80
        self.port = 0
        self._lock = threading.Lock()
        self._fault: _Fault | None = None
        self._outcomes: Counter[str] = Counter()
        self._hits: list[Hit] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], _Connection] = {}

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- control (any thread) ---------------------------------------------------------------------

    def inject(self, status: int, *, count: int | None = None, seconds: float | None = None,
               path: str = "/_bulk", retry_after: str | None = None, items: bool = False) -> None:
        """Answer requests to `path` with `status` instead of forwarding them: the next `count` of them,
        and/or for `seconds` from the first such answer (at least one is answered). 429 answers carry
        `Retry-After: 1` unless `retry_after` says otherwise; `items` fails every bulk item instead."""
        if count is None and seconds is None:
            raise ValueError("give count, seconds or both")
        if retry_after is None and status == 429:
            retry_after = "1"
        with self._lock:
            self._fault = _Fault(status, path, count, seconds, retry_after, items)

    def clear(self) -> None:
        with self._lock:
            self._fault = None

    @property
    def injecting(self) -> bool:
        with self._lock:
            return self._fault is not None

    def outcomes(self) -> Counter[str]:
        with self._lock:
            return Counter(self._outcomes)

    def hits(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self._hits if path is None or _matches(h.path, path)]

    # -- the server (loop thread) -----------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        """Stop listening, close every connection (each handler then ends by itself: cancelling one would
        upset Python 3.11's asyncio.start_server callback) and wait for them."""
        if self._server is not None:
            self._server.close()
        for conn in self._connections.values():
            conn.close()
        if self._connections:
            _, stuck = await asyncio.wait(list(self._connections), timeout=5)
            for task in stuck:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = self._connections[task] = _Connection(writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                method, target, version, headers = _parse_request_head(head)
                body = await _read_body(reader, headers)
                path = urlsplit(target).path
                fault = self._take(path)
                if fault is not None:
                    outcome = f"{'items' if fault.items else 'injected'}:{fault.status}"
                    self._record(method, path, outcome)
                    writer.write(_fault_answer(fault, target, body, headers))
                    await writer.drain()
                else:
                    try:
                        upstream, keep = await self._forward(conn, upstream, head + body, method)
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        self._record(method, path, "upstream_error")
                        writer.write(_answer(502, {"error": f"faultproxy: upstream failed: {exc!r}"}, []))
                        await writer.drain()
                        return
                    self._record(method, path, "forwarded")
                    if not keep:
                        return
                if version == "HTTP/1.0" or _header(headers, "connection").lower() == "close":
                    return
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return  # the client went away or spoke something we do not: drop the connection
        finally:
            for w in (conn.client, conn.upstream):
                if w is not None:
                    w.close()
                    with contextlib.suppress(Exception):
                        await w.wait_closed()
            del self._connections[task]

    async def _forward(self, conn: _Connection, upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
                       request: bytes, method: str
                       ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, bool]:
        """Send one request to the node and relay its answer; returns the upstream connection (None once
        closed) and whether the client connection may stay open. A kept-alive upstream connection the node
        closed meanwhile is replaced once, before anything was relayed."""
        for attempt in (1, 2):
            if upstream is None:
                upstream = await asyncio.open_connection(self.upstream_host, self.upstream_port,
                                                         limit=MAX_HEAD_BYTES)
                conn.upstream = upstream[1]
            up_reader, up_writer = upstream
            try:
                up_writer.write(request)
                await up_writer.drain()
                head = await _read_head(up_reader)
                if head is None:
                    raise ConnectionResetError("the node closed the connection")
            except (OSError, asyncio.IncompleteReadError):
                up_writer.close()
                upstream = None
                if attempt == 2:
                    raise
                continue
            while True:
                status, headers = _parse_response_head(head)
                body, until_close = await _read_response_body(up_reader, headers, method, status)
                conn.client.write(head + body)
                await conn.client.drain()
                if 100 <= status < 200:  # 100 Continue and friends: the real answer follows
                    next_head = await _read_head(up_reader)
                    if next_head is None:
                        raise ConnectionResetError("the node closed the connection after a 1xx")
                    head = next_head
                    continue
                if until_close or _header(headers, "connection").lower() == "close":
                    up_writer.close()
                    return None, False
                return upstream, True
        raise AssertionError("unreachable")

    def _take(self, path: str) -> _Fault | None:
        """The fault to answer this request with, if any (counts it down; forgets it once spent)."""
        with self._lock:
            fault = self._fault
            if fault is None or not _matches(path, fault.path):
                return None
            now = time.monotonic()
            expired = (fault.remaining is not None and fault.remaining <= 0) or (
                fault.seconds is not None and fault.first is not None and now - fault.first >= fault.seconds)
            if expired:
                self._fault = None
                return None
            if fault.first is None:
                fault.first = now
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._fault = None
            return fault

    def _record(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self._outcomes[outcome] += 1
            self._hits.append(Hit(time.monotonic(), method, path, outcome))


# -- HTTP/1.1 framing -----------------------------------------------------------------------------------


def _matches(path: str, wanted: str) -> bool:
    return path == wanted or path.endswith(wanted if wanted.startswith("/") else "/" + wanted)


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The start line and headers, through the blank line; None at a clean end of stream."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise


def _parse_headers(lines: list[str]) -> Headers:
    headers: Headers = []
    for line in lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line!r}")
        headers.append((name.strip().lower(), value.strip()))
    return headers


def _parse_request_head(head: bytes) -> tuple[str, str, str, Headers]:
    start, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = start.split(" ", 2)
    return method, target, version, _parse_headers(lines)


def _parse_response_head(head: bytes) -> tuple[int, Headers]:
    start, *lines = head.decode("latin-1").split("\r\n")
    return int(start.split(" ", 2)[1]), _parse_headers(lines)


def _header(headers: Headers, name: str) -> str:
    return next((v for n, v in headers if n == name), "")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body exactly as sent (sizes, extensions, trailers), to pass on unchanged."""
    raw = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        raw += size_line
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                raw += trailer
            raw += b"\r\n"
            return bytes(raw)
        raw += await reader.readexactly(size + 2)


def _dechunk(raw: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end].split(b";", 1)[0].strip(), 16)
        if size == 0:
            return bytes(out)
        out += raw[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


async def _read_body(reader: asyncio.StreamReader, headers: Headers) -> bytes:
    if "chunked" in _header(headers, "transfer-encoding").lower():
        return await _read_chunked(reader)
    length = _header(headers, "content-length")
    return await reader.readexactly(int(length)) if length else b""


async def _read_response_body(reader: asyncio.StreamReader, headers: Headers, method: str,
                              status: int) -> tuple[bytes, bool]:
    """(the body as sent, whether it ran until the node closed the connection)."""
    if method == "HEAD" or status in NO_BODY_STATUS or 100 <= status < 200:
        return b"", False
    if "chunked" in _header(headers, "transfer-encoding").lower():
        return await _read_chunked(reader), False
    length = _header(headers, "content-length")
    if length:
        return await reader.readexactly(int(length)), False
    return await reader.read(), True


# -- answers in Elasticsearch's words ----------------------------------------------------------------------


def _error(kind: str, reason: str, status: int, **extra: Any) -> dict[str, Any]:
    cause = {"type": kind, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def _whole_request_error(status: int, target: str) -> tuple[dict[str, Any], Headers]:
    if status == 429:
        return _error("es_rejected_execution_exception",
                      "rejected execution of coordinating operation [coordinating_and_primary_bytes=52428800, "
                      "replica_bytes=0, all_bytes=52428800, coordinating_operation_bytes=1048576, "
                      "max_coordinating_and_primary_bytes=53687091]", 429), []
    if status == 401:
        challenge = ['Basic realm="security" charset="UTF-8"', "ApiKey"]
        return (_error("security_exception", f"unable to authenticate user [ucsiem] for REST request [{target}]",
                       401, header={"WWW-Authenticate": challenge}),
                [("WWW-Authenticate", challenge[0]), ("WWW-Authenticate", challenge[1])])
    if status == 403:
        return _error("security_exception", "action [indices:data/write/bulk] is unauthorized for user [ucsiem] "
                      "with effective roles [ucsiem_writer], this action is granted by the cluster privileges "
                      "[all]", 403), []
    if status == 503:
        return _error("cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/2/no master];", 503), []
    return _error("status_exception", f"injected by faultproxy ({status})", status), []


def _item_error(status: int) -> dict[str, Any]:
    if status == 429:
        return {"type": "es_rejected_execution_exception",
                "reason": "rejected execution of primary operation [coordinating_and_primary_bytes=52428800, "
                          "replica_bytes=0, all_bytes=52428800, primary_operation_bytes=1048576, "
                          "max_coordinating_and_primary_bytes=53687091]"}
    if status == 503:
        return {"type": "unavailable_shards_exception",
                "reason": "[logs][0] primary shard is not active Timeout: [1m]"}
    return {"type": "status_exception", "reason": f"injected by faultproxy ({status})"}


def _bulk_items_answer(status: int, body: bytes) -> dict[str, Any]:
    """A 200 bulk answer failing every action of the request body with `status`."""
    items: list[dict[str, Any]] = []
    lines = iter(body.split(b"\n"))
    for raw in lines:
        if not raw.strip():
            continue
        action = json.loads(raw)
        op, meta = next(iter(action.items()))
        if op != "delete":
            next(lines, None)  # the document
        items.append({op: {"_index": meta.get("_index", ""), "_id": meta.get("_id"), "status": status,
                           "error": _item_error(status)}})
    return {"errors": True, "took": 0, "items": items}


def _answer(status: int, payload: dict[str, Any], extra: Headers) -> bytes:
    body = json.dumps(payload).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Injected"
    headers: Headers = [("X-elastic-product", "Elasticsearch"), ("content-type", "application/json"),
                        *extra, ("content-length", str(len(body)))]
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def _fault_answer(fault: _Fault, target: str, body: bytes, headers: Headers) -> bytes:
    if fault.items:
        if "chunked" in _header(headers, "transfer-encoding").lower():
            body = _dechunk(body)
        return _answer(200, _bulk_items_answer(fault.status, body), [])
    payload, extra = _whole_request_error(fault.status, target)
    if fault.retry_after is not None:
        extra = [*extra, ("Retry-After", fault.retry_after)]
    return _answer(fault.status, payload, extra)
