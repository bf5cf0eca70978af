"""The webhook input: an HTTPS endpoint (aiohttp's server) receiving Zoom and Webex event deliveries.

Per path: the signature is checked over the raw body (`webhook_auth.py`: Zoom `x-zm-signature` with its
replay window and `endpoint.url_validation` challenge, Webex `X-Spark-Signature`), then the body becomes
one record on the path's parse stream (`<input id>.<path name>`). A delivery is answered 200 only once
its batch is stored: committed to the spool, or (without the spool) delivered by every output; when that
takes longer than `ack_timeout_secs` the answer is 503 and the sender retries later (Zoom and Webex both
do). A retried body is the same record and gives the same `event.id` (the stream and body make it), so
a copy stored by the first attempt can be recognised downstream.

| case | answer | recorded |
|---|---|---|
| signed and stored | 200 | the events of the body |
| Zoom `endpoint.url_validation`, signed | 200 + `{plainToken, encryptedToken}` | counted (`challenges`) |
| signature missing, malformed, wrong; Zoom time stale or ahead | 401 | an event about the sender (`<id>._rejected`) |
| signed body that is not JSON | 400 | a dead letter with the body on `<id>._rejected` |
| body over `max_body_bytes` | 413 | counted (`too_large`) |
| not stored within `ack_timeout_secs` | 503 | counted (`timeouts`); a queued batch is still stored later |
| dropped by a full spool (`when_full: drop_newest`) | 503 | counted (`dropped`) |
| more than `max_concurrent_requests` at once | 503 | counted (`busy`) |
| body not sent within `read_timeout_secs` | 408 | counted |
| not POST / a compressed body / an unknown path | 405 / 415 / 404 | counted |
| a TLS handshake that fails (certificate not trusted, none under mutual TLS) | none | `tls_failures`, logged |

Counters per path and peer are in the agent's stats (`webhook`). Network data cannot be read again:
enable the spool, or a delivery answered 200 (delivered) is safe but one refused with 503 waits in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from ucsiem import secrets
from ucsiem.errors import ConfigError
from ucsiem.inputs.file import Batch
from ucsiem.inputs.framing import Frame
from ucsiem.inputs.webhook_auth import WebhookVerdict, verify_webex, verify_zoom
from ucsiem.inputs.webhook_config import REJECTED, WebhookInputConfig, WebhookPathConfig
from ucsiem.inputs.webhook_sender import DETAIL_HEADER, KIND_HEADER, sender_record

log = logging.getLogger("ucsiem.inputs.webhook")
http_log = logging.getLogger("ucsiem.inputs.webhook.http")  # aiohttp's server: malformed requests and the like
Emit = Callable[[Batch], Awaitable[None]]
READ_BYTES = 65_536
MAX_PEERS = 10_000  # per path; beyond, new peers are counted together under "other" (bounded memory)
LOG_EVERY_SECS = 60.0  # a refusal is logged once a minute per path, peer and reason (counted every time)
_AUTH_FAILURES = frozenset({"missing_header", "duplicate_header", "malformed_signature", "malformed_timestamp",
                            "stale_timestamp", "future_timestamp", "bad_signature"})


@dataclass
class PeerCounts:
    accepted: int = 0
    challenges: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # 401s by verdict reason
    too_large: int = 0
    bad_json: int = 0
    timeouts: int = 0  # 503: not stored in time
    dropped: int = 0  # 503: the spool was full and dropped the delivery (when_full: drop_newest)
    busy: int = 0  # 503: too many requests at once
    refused: dict[str, int] = field(default_factory=dict)  # other refusals: method, encoding, read_timeout...
    bytes: int = 0

    def summary(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if v}


class _Route:
    def __init__(self, cfg: WebhookPathConfig, stream: str, secret: bytes | None) -> None:
        self.cfg = cfg
        self.stream = stream
        self.secret = secret
        self.peers: dict[str, PeerCounts] = {}
        # deliveries of one path share a source: the body alone makes the event ids (a retry repeats them)
        self.source_key = f"webhook:{stream}"

    def counts(self, peer: str) -> PeerCounts:
        counts = self.peers.get(peer)
        if counts is None:
            if len(self.peers) >= MAX_PEERS:
                peer = "other"
                counts = self.peers.get(peer)
            if counts is None:
                counts = self.peers[peer] = PeerCounts()
        return counts

    def verify(self, body: bytes, headers: list[tuple[str, str]]) -> WebhookVerdict | None:
        """None: this path checks no signature (provider none)."""
        if self.cfg.provider == "zoom":
            return verify_zoom(body, headers, self.secret or b"", window_seconds=self.cfg.window_secs)
        if self.cfg.provider == "webex":
            return verify_webex(body, headers, self.secret or b"")
        return None


class _TooLarge(Exception):
    pass


class WebhookInput:
    def __init__(self, cfg: WebhookInputConfig) -> None:
        self.cfg = cfg
        self.routes = [_Route(p, cfg.stream_id(p.stream_name), _secret(cfg, j, p)) for j, p in enumerate(cfg.paths)]
        self.rejected_stream = cfg.stream_id(REJECTED)
        self.streams = [r.stream for r in self.routes] + [self.rejected_stream]
        self.unknown_paths: dict[str, int] = {}  # peer -> requests to a path no route serves
        self.tls_failures: dict[str, int] = {}  # peer -> TLS handshakes that failed (nothing was read)
        self._handshakes: set[asyncio.Task[None]] = set()
        self.bytes_read = 0
        self.acked = 0
        self._seq = 0
        self._emit: Emit | None = None
        self._waiting: dict[int, asyncio.Future[bool]] = {}  # by batch seq: True stored, False dropped
        self._active = 0
        self._logged: dict[tuple[str, str, str], float] = {}
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()  # listening
        scheme = "http" if cfg.tls is None else "https"
        self.url = f"{scheme}://{_host(cfg.address)}:{cfg.port}"

    # -- lifecycle (the agent's input protocol) ---------------------------------------------------

    async def run(self, emit: Emit) -> None:
        self._emit = emit
        app = web.Application()
        for route in self.routes:
            app.router.add_route("*", route.cfg.path, _bound(self._request, route))
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, auto_decompress=False,
                               keepalive_timeout=75.0, max_line_size=8190, max_field_size=8190, logger=http_log,
                               shutdown_timeout=self.cfg.read_timeout_secs + self.cfg.ack_timeout_secs)
        await runner.setup()
        try:
            context = _server_context(self.cfg)
            site: web.BaseSite = (web.TCPSite(runner, self.cfg.address, self.cfg.port) if context is None
                                  else _TlsSite(runner, self, context))
            await site.start()
            log.info("Webhook receiver up.", extra={"input": self.cfg.id, "url": self.url,
                                                   "paths": [r.cfg.path for r in self.routes]})
            for warning in self.cfg.security_warnings():
                log.warning("Webhook input %s: %s", self.cfg.id, warning)
            self.ready.set()
            await self._stopping.wait()
        finally:
            # no new connections; requests in progress finish (their batches are stored, or they get 503)
            for task in self._handshakes:
                task.cancel()
            await asyncio.gather(*self._handshakes, return_exceptions=True)
            await runner.cleanup()

    def stop(self) -> None:
        self._stopping.set()

    def ack(self, batch: Batch) -> None:
        self.acked += len(batch.frames)
        self._answer(batch, stored=True)

    def dropped(self, batch: Batch) -> None:
        """The spool was full and dropped the batch (`when_full: drop_newest`); called before `ack`."""
        self._answer(batch, stored=False)

    def _answer(self, batch: Batch, *, stored: bool) -> None:
        waiting = self._waiting.pop(batch.seq, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(stored)

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {r.cfg.path: {peer: c.summary() for peer, c in sorted(r.peers.items())}
                                  for r in self.routes}
        if self.unknown_paths:
            out["unknown_paths"] = dict(sorted(self.unknown_paths.items()))
        if self.tls_failures:
            out["tls_failures"] = dict(sorted(self.tls_failures.items()))
        return out

    # -- TLS --------------------------------------------------------------------------------------

    async def _handshake(self, server: web.Server, context: ssl.SSLContext, transport: asyncio.Transport) -> None:
        """The server side of one TLS handshake, then the connection is aiohttp's. Done here, not by asyncio's
        server, because that one drops a failed handshake without a word: a sender whose certificate checks
        fail, or a scanner, would go unseen (the syslog TLS listener does the same, `tls_failures`)."""
        loop = asyncio.get_running_loop()
        peer_ip, _ = _address(transport.get_extra_info("peername"))
        handler = server()
        try:
            # a handshake not done within read_timeout_secs is refused like a body that does not come
            secure = await loop.start_tls(transport, handler, context, server_side=True,
                                          ssl_handshake_timeout=self.cfg.read_timeout_secs)
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError: a refused or broken handshake
            if peer_ip in self.tls_failures or len(self.tls_failures) < MAX_PEERS:
                self.tls_failures[peer_ip] = self.tls_failures.get(peer_ip, 0) + 1
            self._note_tls(peer_ip, str(exc) or type(exc).__name__)
            transport.abort()
            return
        if secure is None:
            transport.abort()
            return
        handler.connection_made(secure)

    def _note_tls(self, peer: str, error: str) -> None:
        """Log a failed handshake, once a minute per peer (each one is counted)."""
        now = time.monotonic()
        key = ("(tls)", peer, "tls_failure")
        if now - self._logged.get(key, -LOG_EVERY_SECS) < LOG_EVERY_SECS:
            return
        if len(self._logged) >= MAX_PEERS:
            self._logged.clear()
        self._logged[key] = now
        log.warning("A webhook sender failed the TLS handshake; nothing was read from it.",
                    extra={"input": self.cfg.id, "peer": peer, "error": error[:200],
                           "tls_failures": self.tls_failures.get(peer, 0)})

    # -- requests ---------------------------------------------------------------------------------

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        peer, _ = _peer(request)
        if peer in self.unknown_paths or len(self.unknown_paths) < MAX_PEERS:
            self.unknown_paths[peer] = self.unknown_paths.get(peer, 0) + 1
        return _text(404, "no webhook here")

    async def _request(self, route: _Route, request: web.Request) -> web.StreamResponse:
        peer_ip, peer_port = _peer(request)
        counts = route.counts(peer_ip)
        if request.method != "POST":
            _bump(counts.refused, "method")
            return _text(405, "POST only", {"Allow": "POST"})
        if self._active >= self.cfg.max_concurrent_requests:
            counts.busy += 1
            self._note(route, peer_ip, "busy", "too many requests at once: answered 503")
            return _text(503, "busy", {"Retry-After": "5"})
        self._active += 1
        try:
            return await self._delivery(route, request, peer_ip, peer_port, counts)
        except Exception as exc:  # a bug must cost one request, never the listener
            log.exception("Webhook request failed.", extra={"input": self.cfg.id, "path": route.cfg.path,
                                                            "peer": peer_ip, "error": repr(exc)})
            _bump(counts.refused, "internal_error")
            return _text(500, "internal error")
        finally:
            self._active -= 1

    async def _delivery(self, route: _Route, request: web.Request, peer_ip: str, peer_port: int,
                        counts: PeerCounts) -> web.StreamResponse:
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            _bump(counts.refused, "encoding")
            return _text(415, "compressed bodies are not accepted")
        limit = self.cfg.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return self._too_large(route, peer_ip, counts, request.content_length)
        try:
            async with asyncio.timeout(self.cfg.read_timeout_secs):
                body = await _read(request, limit)
        except _TooLarge:
            return self._too_large(route, peer_ip, counts, None)
        except TimeoutError:
            _bump(counts.refused, "read_timeout")
            self._note(route, peer_ip, "read_timeout", f"body not sent within {self.cfg.read_timeout_secs} s")
            return _text(408, "body not received in time")
        self.bytes_read += len(body)
        counts.bytes += len(body)
        verdict = route.verify(body, list(request.headers.items()))
        if verdict is not None and not verdict.ok:
            return await self._refused(route, request, peer_ip, peer_port, counts, verdict, len(body))
        if verdict is not None and verdict.challenge_response is not None:
            counts.challenges += 1
            return web.Response(status=200, body=verdict.challenge_response, content_type="application/json")
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            counts.bad_json += 1
            detail = str(exc)[:200]
            self._note(route, peer_ip, "bad_json", detail)
            await self._send(self.rejected_stream, f"webhook:{self.rejected_stream}:bad_json", route, peer_ip,
                             peer_port, body, {KIND_HEADER: "bad_json", DETAIL_HEADER: detail})
            return _text(400, "the body is not JSON")
        seq = self._send_seq()
        waiting: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = waiting
        try:
            async with asyncio.timeout(self.cfg.ack_timeout_secs):
                # cancelled by the timeout while the pipeline is full: the batch was not queued at all
                await self._send(route.stream, route.source_key, route, peer_ip, peer_port, body, {}, seq=seq)
                stored = await waiting
        except TimeoutError:
            counts.timeouts += 1
            self._note(route, peer_ip, "timeout", f"not stored within {self.cfg.ack_timeout_secs} s: answered 503 "
                       "(is an output down without the spool, or the spool full?)")
            return _text(503, "not stored in time; retry", {"Retry-After": "30"})
        finally:
            self._waiting.pop(seq, None)
        if not stored:  # 200 only once the events are in the spool: this one never will be, so the sender retries
            counts.dropped += 1
            self._note(route, peer_ip, "dropped", "the spool is full and drops new batches (when_full: drop_newest): "
                       "answered 503")
            return _text(503, "not stored (spool full); retry", {"Retry-After": "30"})
        counts.accepted += 1
        return web.Response(status=200, text="ok")

    async def _refused(self, route: _Route, request: web.Request, peer_ip: str, peer_port: int, counts: PeerCounts,
                       verdict: WebhookVerdict, size: int) -> web.StreamResponse:
        _bump(counts.rejected, verdict.reason)
        self._note(route, peer_ip, verdict.reason, verdict.detail)
        if verdict.reason not in _AUTH_FAILURES:  # missing_secret, bad_challenge: not the sender's identity
            return _text(500 if verdict.reason == "missing_secret" else 400, verdict.reason)
        record = sender_record(time=datetime.now(UTC), provider=verdict.provider, reason=verdict.reason,
                               detail=verdict.detail, path=route.cfg.path, peer_ip=peer_ip, peer_port=peer_port,
                               status=401, body_bytes=size, user_agent=request.headers.get("User-Agent"))
        # awaited: while the pipeline is full, a flood of forgeries is slowed down with everything else
        await self._send(self.rejected_stream, f"webhook:{self.rejected_stream}", route, peer_ip, peer_port, record,
                         {KIND_HEADER: "authentication"})
        return _text(401, verdict.reason)

    def _too_large(self, route: _Route, peer_ip: str, counts: PeerCounts, declared: int | None) -> web.Response:
        counts.too_large += 1
        size = f"{declared} bytes" if declared is not None else "more"
        self._note(route, peer_ip, "too_large", f"{size} posted, max_body_bytes is {self.cfg.max_body_bytes}")
        return _text(413, f"body over {self.cfg.max_body_bytes} bytes", {"Connection": "close"})

    # -- batches ----------------------------------------------------------------------------------

    def _send_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _send(self, stream: str, source_key: str, route: _Route, peer_ip: str, peer_port: int, data: bytes,
                    headers: dict[str, str], seq: int | None = None) -> None:
        assert self._emit is not None
        where = f"{self.url}{route.cfg.path} from {_host(peer_ip)}:{peer_port}"
        fields: dict[str, Any] = {"log": {"source": {"address": f"{_host(peer_ip)}:{peer_port}"}}}
        if stream == self.rejected_stream and peer_ip != "unknown":
            fields["source"] = {"ip": peer_ip, "port": peer_port}
        batch = Batch(stream, stream, seq if seq is not None else self._send_seq(), source_key, where,
                      [Frame(0, len(data), data)], headers, datetime.now(UTC), {0: fields})
        await self._emit(batch)

    def _note(self, route: _Route, peer: str, reason: str, detail: str) -> None:
        """Log a refusal, once a minute per path, peer and reason (each one is counted)."""
        now = time.monotonic()
        key = (route.cfg.path, peer, reason)
        if now - self._logged.get(key, -LOG_EVERY_SECS) < LOG_EVERY_SECS:
            return
        if len(self._logged) >= MAX_PEERS:
            self._logged.clear()
        self._logged[key] = now
        log.warning("A webhook delivery was refused.", extra={"input": self.cfg.id, "path": route.cfg.path,
                                                              "peer": peer, "reason": reason, "detail": detail})


class _QuietHttpErrors(logging.Filter):
    """What aiohttp logs about a request it could not read (bad HTTP, a header over the limit) comes from
    the peer, not from a fault here: one warning line without the traceback, at most once a minute."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -LOG_EVERY_SECS

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None:
            return True
        now = time.monotonic()
        if now - self._last < LOG_EVERY_SECS:
            return False
        self._last = now
        error = record.exc_info[1]
        record.msg, record.args = "A malformed HTTP request was refused (more are not logged for a minute).", ()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        record.error = str(error)[:200]
        return True


http_log.addFilter(_QuietHttpErrors())


class _TlsSite(web.BaseSite):
    """aiohttp's TCP site with the TLS handshake done by `WebhookInput._handshake` (which counts failures)."""

    def __init__(self, runner: web.AppRunner, owner: WebhookInput, context: ssl.SSLContext) -> None:
        super().__init__(runner)
        self._owner = owner
        self._context = context

    @property
    def name(self) -> str:
        return self._owner.url

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        owner, context = self._owner, self._context
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _TlsAccept(owner, server, context), owner.cfg.address, owner.cfg.port)


class _TlsAccept(asyncio.Protocol):
    """A raw connection to the TLS port: reading paused at once (the ClientHello stays in the socket for the
    handshake), then `WebhookInput._handshake` takes it over."""

    def __init__(self, owner: WebhookInput, server: web.Server, context: ssl.SSLContext) -> None:
        self.owner, self.server, self.context = owner, server, context

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        task = asyncio.get_running_loop().create_task(self.owner._handshake(self.server, self.context, transport))
        self.owner._handshakes.add(task)
        task.add_done_callback(self.owner._handshakes.discard)


def _bound(handler: Callable[[_Route, web.Request], Awaitable[web.StreamResponse]],
           route: _Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(route, request)

    return handle


async def _read(request: web.Request, limit: int) -> bytes:
    body = bytearray()
    while True:
        chunk = await request.content.read(READ_BYTES)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise _TooLarge


def _bump(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def _peer(request: web.Request) -> tuple[str, int]:
    transport = request.transport
    return _address(transport.get_extra_info("peername") if transport is not None else None)


def _address(address: Any) -> tuple[str, int]:
    if isinstance(address, tuple) and len(address) >= 2:
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(address[0])), int(address[1])
    return "unknown", 0


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _secret(cfg: WebhookInputConfig, index: int, path: WebhookPathConfig) -> bytes | None:
    if path.secret_file is None:
        return None
    key = f"inputs {cfg.id!r}: paths[{index}].secret_file"
    secret = secrets.read_secret(path.secret_file, key).strip()
    if not secret:
        raise ConfigError("configuration", [f"{key}: {path.secret_file} is empty; put the {path.provider} secret "
                                            "in it"])
    return secret


def _server_context(cfg: WebhookInputConfig) -> ssl.SSLContext | None:
    if cfg.tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3 if cfg.tls.min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cfg.tls.cert_file, cfg.tls.key_file)
    context.set_alpn_protocols(["http/1.1"])
    if cfg.tls.client_ca_file is not None:
        context.load_verify_locations(cfg.tls.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
