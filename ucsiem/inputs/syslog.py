"""The syslog input: UDP, TCP and TLS listeners -> one message each -> a route -> batches for the parsers.

The event loop only frames messages (`syslog_framing.py`), routes and batches them. The parse workers
turn each into the line a syslog daemon would have filed (`syslog_record.py`, with `syslog_message.py`:
PRI, 3164/5424 header and the deviations real appliances send), which is what the parsers read, so a
message sent over the network gives the same event as the line read from a file; the PRI, the header
and the peer land in `log.syslog.*`, `observer.ip`, `log.source.address`. A route (`syslog_config.py`)
picks the parser, by listener and peer, and by host and app name read with a scan of the header only
when a route asks for them; a message nobody claims becomes a dead letter (`unrouted.py`).

Nothing is dropped here: TCP and TLS connections are read only as fast as the pipeline takes batches
(`emit` blocks when it is full, the socket buffers fill, the sender is slowed); UDP datagrams are taken
as they come (what the kernel drops under overload it counts in /proc/net/udp, not us). Counters per
listener and peer: received, routed per stream, unrouted, truncated.

Network data cannot be read again: use the spool (`spool.enabled`) so that a batch is on disk before it
is acknowledged; without it, what is in flight when the agent is killed is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import functools
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ucsiem.inputs.file import Batch
from ucsiem.inputs.framing import Frame
from ucsiem.inputs.syslog_config import UNROUTED, SyslogInputConfig, SyslogListenerConfig, SyslogRouteConfig
from ucsiem.inputs.syslog_framing import SyslogStreamDecoder
from ucsiem.inputs.syslog_message import route_names
from ucsiem.inputs.syslog_record import TRUNCATED, SyslogBatch

log = logging.getLogger("ucsiem.inputs.syslog")
Emit = Callable[[Batch], Awaitable[None]]
READ_BYTES = 262_144
MAX_UDP_BATCHES_WAITING = 64
MAX_ROUTE_CACHE = 4096  # (listener, peer) pairs whose candidate routes are kept; past it the cache starts over


@dataclass
class PeerCounts:
    received: int = 0
    truncated: int = 0
    unrouted: int = 0
    dropped: int = 0  # UDP only, when the pipeline cannot keep up (see MAX_UDP_BATCHES_WAITING)
    bytes: int = 0


@dataclass
class ListenerStats:
    peers: dict[str, PeerCounts] = field(default_factory=dict)
    connections: int = 0
    refused_connections: int = 0
    tls_failures: int = 0

    def peer(self, address: str) -> PeerCounts:
        counts = self.peers.get(address)
        if counts is None:
            counts = self.peers[address] = PeerCounts()
        return counts


class _Route:
    def __init__(self, cfg: SyslogRouteConfig, stream: str) -> None:
        self.stream = stream
        self.networks = [ipaddress.ip_network(n, strict=False) for n in cfg.peers]
        self.hostnames = [p.lower() for p in cfg.hostnames]
        self.app_names = cfg.app_names
        self.listeners = set(cfg.listeners)
        self.needs_names = bool(self.hostnames or self.app_names)

    def claims_peer(self, listener: int, peer: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        """The conditions on where the message came from (the same for every message of a peer)."""
        if self.listeners and listener not in self.listeners:
            return False
        return not (self.networks and (peer is None or not any(peer in n for n in self.networks)))

    def claims_names(self, hostname: str | None, app_name: str | None) -> bool:
        """The conditions on the message's header."""
        host = (hostname or "").lower()
        if self.hostnames and not any(fnmatch.fnmatchcase(host, p) for p in self.hostnames):
            return False
        app = app_name or ""
        return not (self.app_names and not any(fnmatch.fnmatchcase(app, p) for p in self.app_names))


@dataclass
class _Pending:
    """Messages of one stream (route) from one source (a connection, or a UDP peer) waiting to be sent."""

    stream: str
    source_key: str
    path: str
    peer_ip: str
    frames: list[Frame] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    received: list[float] = field(default_factory=list)
    since: float = 0.0


class SyslogInput:
    def __init__(self, cfg: SyslogInputConfig) -> None:
        self.cfg = cfg
        self.routes = [_Route(r, cfg.stream_id(r.name)) for r in cfg.routes]
        # per (listener, peer): the routes its messages may take, in order (the peer conditions decided once)
        self._candidates: dict[tuple[int, str], list[_Route]] = {}
        self.fallback = cfg.stream_id(UNROUTED)  # default_parser's stream, or the dead-letter one
        self.streams = [r.stream for r in self.routes] + [self.fallback]
        self.stats = [ListenerStats() for _ in cfg.listeners]
        self.bytes_read = 0
        self.acked = 0
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._seq = 0
        self._emit: Emit | None = None
        self._stopping = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: list[asyncio.DatagramTransport] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._udp_sends: set[asyncio.Task[None]] = set()
        self._handshakes: set[asyncio.Task[None]] = set()
        self.ready = asyncio.Event()  # every listener is bound

    # -- lifecycle (the agent's input protocol) ---------------------------------------------------

    async def run(self, emit: Emit) -> None:
        self._emit = emit
        loop = asyncio.get_running_loop()
        try:
            for index, listener in enumerate(self.cfg.listeners):
                await self._listen(loop, index, listener)
            log.info("Syslog listeners up.", extra={"input": self.cfg.id, "listeners": [
                f"{lc.protocol}://{lc.address}:{lc.port}" for lc in self.cfg.listeners]})
            self.ready.set()
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.cfg.batch_max_wait_secs / 2)
                await self._flush(older_than=self.cfg.batch_max_wait_secs)
        finally:
            for server in self._servers:
                server.close()
            for transport in self._transports:
                transport.close()
            for task in [*self._connections, *self._handshakes]:
                task.cancel()
            await asyncio.gather(*self._connections, *self._handshakes, return_exceptions=True)
            await asyncio.gather(*self._udp_sends, return_exceptions=True)
            await self._flush(older_than=None)

    def stop(self) -> None:
        self._stopping.set()

    def ack(self, batch: Batch) -> None:
        self.acked += len(batch.frames)

    def dropped(self, batch: Batch) -> None:
        """The spool dropped the batch (`when_full: drop_newest`, counted there): a sender cannot be told."""

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for lc, stats in zip(self.cfg.listeners, self.stats, strict=True):
            out[f"{lc.protocol}://{lc.address}:{lc.port}"] = {
                "connections": stats.connections, "refused_connections": stats.refused_connections,
                "tls_failures": stats.tls_failures,
                "peers": {peer: vars(c) for peer, c in sorted(stats.peers.items())}}
        return out

    # -- listeners --------------------------------------------------------------------------------

    async def _listen(self, loop: asyncio.AbstractEventLoop, index: int, lc: SyslogListenerConfig) -> None:
        if lc.protocol == "udp":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self, index), local_addr=(lc.address, lc.port), reuse_port=False)
            self._transports.append(transport)
            _grow_receive_buffer(transport.get_extra_info("socket"), lc)
            return
        if lc.protocol == "tls":
            # The handshake is ours, not the server's: a refused sender is counted and logged (asyncio's own
            # server-side handshake drops it silently), and reading waits until the handshake has begun.
            context = _server_context(lc)
            server = await loop.create_server(lambda: _TlsAccept(self, index, lc, context), lc.address, lc.port)
            self._servers.append(server)
            return

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._tracked(index, lc, reader, writer)

        server = await asyncio.start_server(connected, lc.address, lc.port, limit=READ_BYTES)
        self._servers.append(server)

    async def _tracked(self, index: int, lc: SyslogListenerConfig, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._connection(index, lc, reader, writer)
        finally:
            self._connections.discard(task)

    async def _handshake(self, index: int, lc: SyslogListenerConfig, context: ssl.SSLContext,
                         transport: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        peer_ip, peer_port = _peer(transport.get_extra_info("peername"))
        reader = asyncio.StreamReader(limit=READ_BYTES)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            secure = await loop.start_tls(transport, protocol, context, server_side=True, ssl_handshake_timeout=10)
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError: a refused or broken handshake
            self.stats[index].tls_failures += 1
            log.warning("A syslog sender failed the TLS handshake; nothing was read from it.",
                        extra={"input": self.cfg.id, "peer": f"{peer_ip}:{peer_port}", "error": str(exc)})
            transport.abort()
            return
        if secure is None:
            transport.abort()
            return
        protocol.connection_made(secure)
        writer = asyncio.StreamWriter(secure, protocol, reader, loop)
        await self._tracked(index, lc, reader, writer)

    async def _connection(self, index: int, lc: SyslogListenerConfig, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        stats = self.stats[index]
        peer_ip, peer_port = _peer(writer.get_extra_info("peername"))
        if len(self._connections) > lc.max_connections:
            stats.refused_connections += 1
            writer.close()
            return
        stats.connections += 1
        # one source per connection: its byte offsets make the event ids
        source_key = f"{self.cfg.id}:{lc.protocol}:{lc.port}:{peer_ip}:{peer_port}:{time.time_ns()}"
        decoder = SyslogStreamDecoder(self.cfg.max_message_bytes)
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(READ_BYTES), lc.idle_timeout_secs)
                except TimeoutError:
                    break
                if not data:
                    break
                self.bytes_read += len(data)
                stats.peer(peer_ip).bytes += len(data)
                received = time.time()  # one read: one receive time for its messages
                stream = self._peer_stream(index, peer_ip)  # routed once per read unless a route reads headers
                frames = decoder.feed(data)
                if stream is not None:  # the whole read at once, a batch at a time
                    at = 0
                    while at < len(frames):
                        at, full = self._add_read(index, lc, peer_ip, peer_port, source_key, frames, at, received,
                                                  stream)
                        if full is not None:
                            await self._send(full)  # blocks while the pipeline is full: this connection waits
                    continue
                for frame in frames:  # no coroutine per message: only a full batch waits
                    full = self._add(index, lc, peer_ip, peer_port, source_key, frame.start, frame.data, frame.flags,
                                     received)
                    if full is not None:
                        await self._send(full)  # blocks while the pipeline is full: this connection is read no further
            tail = decoder.close()
            if tail is not None:
                await self._take(index, lc, peer_ip, peer_port, source_key, tail.start, tail.data, tail.flags)
        except (ConnectionError, ssl.SSLError) as exc:
            log.warning("A syslog connection failed.", extra={"peer": f"{peer_ip}:{peer_port}", "error": str(exc)})
        finally:
            writer.close()

    def datagram(self, index: int, data: bytes, addr: Any) -> None:
        """One UDP datagram: one message (several if the sender octet-counted them, rare)."""
        peer_ip, peer_port = _peer(addr)
        self.bytes_read += len(data)
        stats = self.stats[index].peer(peer_ip)
        stats.bytes += len(data)
        source_key = f"{self.cfg.id}:udp:{self.cfg.listeners[index].port}:{peer_ip}"
        self._seq += 1
        full = self._add(index, self.cfg.listeners[index], peer_ip, peer_port, source_key, self._seq, data, (),
                         time.time())
        if full is None:
            return
        if len(self._udp_sends) >= MAX_UDP_BATCHES_WAITING:
            # UDP cannot be slowed down: beyond this the pipeline is not keeping up, and memory would grow
            # without bound. Dropped, counted per peer and logged (the kernel's own drops are in /proc/net/udp).
            stats.dropped += len(full.frames)
            log.warning("Syslog over UDP: the pipeline is not keeping up; a batch of messages was dropped.",
                        extra={"input": self.cfg.id, "peer": peer_ip, "messages": len(full.frames)})
            return
        task = asyncio.get_running_loop().create_task(self._send(full))
        self._udp_sends.add(task)
        task.add_done_callback(self._udp_sends.discard)

    # -- messages -> batches ----------------------------------------------------------------------

    async def _take(self, index: int, lc: SyslogListenerConfig, peer_ip: str, peer_port: int, source_key: str,
                    offset: int, data: bytes, flags: tuple[str, ...]) -> None:
        full = self._add(index, lc, peer_ip, peer_port, source_key, offset, data, flags, time.time())
        if full is not None:
            await self._send(full)  # blocks while the pipeline is full: this connection is read no further

    def _add(self, index: int, lc: SyslogListenerConfig, peer_ip: str, peer_port: int, source_key: str,
             offset: int, data: bytes, flags: tuple[str, ...], received: float) -> _Pending | None:
        """Route, count and batch one message as received (`received`: time.time() then): its header is
        parsed by the parse workers. The full batch it completes, if any."""
        stream = self._route(index, peer_ip, data)
        frame = Frame(offset, offset + len(data), data, flags)
        return self._add_read(index, lc, peer_ip, peer_port, source_key, [frame], 0, received, stream)[1]

    def _add_read(self, index: int, lc: SyslogListenerConfig, peer_ip: str, peer_port: int, source_key: str,
                  frames: list[Frame], at: int, received: float, stream: str) -> tuple[int, _Pending | None]:
        """Count and batch `frames[at:]`, messages of one read (`received`) on route `stream`, up to the end
        or a full batch: (where the next call starts, the full batch to send before it). The TCP loop hands
        it a whole read when the route is the peer's (per message, this was a third of what the loop spent
        on a syslog line); `_add` one message it routed by its header."""
        counts = self.stats[index].peer(peer_ip)
        key = (stream, source_key)
        pending = self._pending.get(key)
        if pending is None:
            path = f"{lc.protocol}://{lc.address}:{lc.port} from {peer_ip}:{peer_port}"
            pending = self._pending[key] = _Pending(stream, source_key, path, peer_ip, since=time.monotonic())
        take = min(len(frames) - at, self.cfg.batch_max_records - len(pending.frames))
        taken = frames[at:at + take]
        counts.received += take
        if stream == self.fallback and self.cfg.default_parser is None:
            counts.unrouted += take
        # cut by the framing, or to be cut by parse_syslog in the worker (a datagram longer than the limit)
        limit = self.cfg.max_message_bytes
        counts.truncated += sum(1 for frame in taken if TRUNCATED in frame.flags or len(frame.data) > limit)
        pending.frames += taken
        pending.ports += [peer_port] * take
        pending.received += [received] * take
        if len(pending.frames) >= self.cfg.batch_max_records:
            return at + take, self._pending.pop(key)
        return at + take, None

    def _route(self, index: int, peer_ip: str, data: bytes) -> str:
        """The first route whose conditions all hold; the header is scanned only when such a route asks."""
        names: tuple[str | None, str | None] | None = None
        for route in self._routes_of(index, peer_ip):
            if route.needs_names:
                if names is None:
                    names = route_names(data, self.cfg.max_message_bytes)
                if not route.claims_names(*names):
                    continue
            return route.stream
        return self.fallback

    def _peer_stream(self, index: int, peer_ip: str) -> str | None:
        """`_route` of every message from this peer on this listener, when it does not depend on the message
        (no route before the one that claims the peer reads the header); None when it does."""
        for route in self._routes_of(index, peer_ip):
            return None if route.needs_names else route.stream
        return self.fallback

    def _routes_of(self, index: int, peer_ip: str) -> list[_Route]:
        candidates = self._candidates.get((index, peer_ip))
        if candidates is None:
            if len(self._candidates) >= MAX_ROUTE_CACHE:  # many UDP senders (or spoofed ones): bounded
                self._candidates.clear()
            peer = _address(peer_ip)
            candidates = self._candidates[(index, peer_ip)] = [r for r in self.routes if r.claims_peer(index, peer)]
        return candidates

    async def _flush(self, older_than: float | None) -> None:
        async with self._flush_lock:
            now = time.monotonic()
            due = [key for key, p in self._pending.items() if older_than is None or now - p.since >= older_than]
            for key in due:
                pending = self._pending.pop(key, None)
                if pending is not None:
                    await self._send(pending)

    async def _send(self, pending: _Pending) -> None:
        assert self._emit is not None
        self._seq += 1
        parse = SyslogBatch(pending.peer_ip, pending.ports, pending.received, self.cfg.timezone,
                            self.cfg.max_message_bytes)
        batch = Batch(pending.stream, pending.stream, self._seq, pending.source_key, pending.path, pending.frames,
                      {}, datetime.now(UTC), syslog=parse)
        await self._emit(batch)


@functools.lru_cache(maxsize=4096)
def _address(peer_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The peer as an address, once per peer (not per message)."""
    try:
        return ipaddress.ip_address(peer_ip)
    except ValueError:
        return None


def _peer(address: Any) -> tuple[str, int]:
    if isinstance(address, tuple) and len(address) >= 2:
        return str(ipaddress.ip_address(address[0])), int(address[1])
    return "unknown", 0


def _server_context(lc: SyslogListenerConfig) -> ssl.SSLContext:
    assert lc.tls is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3 if lc.tls.min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(lc.tls.cert_file, lc.tls.key_file)
    if lc.tls.client_ca_file is not None:
        context.load_verify_locations(lc.tls.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class _TlsAccept(asyncio.Protocol):
    """A TLS listener's raw connection: reading paused at once (the ClientHello stays in the socket for the
    handshake), then `SyslogInput._handshake` takes it over."""

    def __init__(self, owner: SyslogInput, index: int, lc: SyslogListenerConfig, context: ssl.SSLContext) -> None:
        self.owner, self.index, self.lc, self.context = owner, index, lc, context

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        task = asyncio.get_running_loop().create_task(
            self.owner._handshake(self.index, self.lc, self.context, transport))
        self.owner._handshakes.add(task)
        task.add_done_callback(self.owner._handshakes.discard)


def _grow_receive_buffer(sock: socket.socket | None, lc: SyslogListenerConfig) -> None:
    """UDP cannot be slowed down: a burst waits in the kernel's receive buffer, whose default (~200 KiB) holds
    about a thousand messages. Ask for more; the kernel caps it at net.core.rmem_max (logged)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, lc.receive_buffer_bytes)
    got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # Linux reports twice what it holds
    if got < lc.receive_buffer_bytes:
        log.warning("The UDP receive buffer is smaller than asked; raise net.core.rmem_max to keep bursts.",
                    extra={"listener": f"udp://{lc.address}:{lc.port}", "asked": lc.receive_buffer_bytes,
                           "got": got})


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, owner: SyslogInput, index: int) -> None:
        self.owner = owner
        self.index = index

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner.datagram(self.index, data, addr)
