"""The syslog input's split of the work: the event loop counts, routes and batches messages as received; the
parse workers (`run_batch` with the batch's `SyslogBatch`) turn each into the filed line and the network's
fields. Together they must give what parsing each message in the loop gave: the same route, counters, line,
fields and receive time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ucsiem.config import Config
from ucsiem.inputs.file import Batch
from ucsiem.inputs.syslog import SyslogInput
from ucsiem.inputs.syslog_config import SyslogInputConfig
from ucsiem.inputs.syslog_message import parse_syslog
from ucsiem.inputs.syslog_record import syslog_fields
from ucsiem.pipeline.pool import WorkerSetup, prepare
from ucsiem.pipeline.work import BatchJob, run_batch

EXPRESSWAY = (b'<134>2024-03-05T10:15:02.100+01:00 exp01 tvcs: UTCTime="2024-03-05 09:15:02,100" '
              b'Module="network.sip" Level="INFO" Event="Call Attempted" Src-ip="192.0.2.10"')
KAMAILIO = b"<131>Mar  5 10:15:03 proxy1 kamailio[2001]: ERROR: <core> [core/tcp_main.c:4829]: x"
NO_TIME = b"<189>sshd[77]: Accepted publickey for root"  # no time: the line carries the receive time


def syslog_config(max_bytes: int = 1024) -> dict[str, Any]:
    return {"type": "syslog", "id": "net", "timezone": "Europe/Berlin", "max_message_bytes": max_bytes,
            "listeners": [{"protocol": "udp", "address": "127.0.0.1", "port": 5514},
                          {"protocol": "tcp", "address": "127.0.0.1", "port": 5514}],
            "routes": [{"name": "from-lab", "parser": "cisco_expressway", "peers": ["198.51.100.0/24"]},
                       {"name": "expressway", "parser": "cisco_expressway", "hostnames": ["EXP*"]},
                       {"name": "kamailio", "parser": "kamailio", "app_names": ["kamailio"]}]}


def batches_of(inp: SyslogInput, messages: list[tuple[int, str, int, bytes]]) -> list[Batch]:
    out: list[Batch] = []

    async def emit(batch: Batch) -> None:
        out.append(batch)

    async def feed() -> None:
        inp._emit = emit
        for offset, (listener, peer, port, data) in enumerate(messages):
            key = f"net:{peer}"
            full = inp._add(listener, inp.cfg.listeners[listener], peer, port, key, offset, data, (), time.time())
            assert full is None
        await inp._flush(older_than=None)

    asyncio.run(feed())
    return out


def test_loop_routes_and_counts_and_workers_parse_as_the_loop_did() -> None:
    cfg = SyslogInputConfig.model_validate(syslog_config())
    inp = SyslogInput(cfg)
    overlong = b"<134>Mar  5 10:15:04 gw1 app: " + b"x" * 2000  # a datagram over max_message_bytes
    messages = [(0, "192.0.2.1", 40001, EXPRESSWAY), (1, "192.0.2.1", 40002, KAMAILIO),
                (0, "192.0.2.1", 40003, NO_TIME), (0, "198.51.100.7", 40004, KAMAILIO),
                (0, "192.0.2.1", 40005, overlong)]
    before = time.time()
    batches = batches_of(inp, messages)
    after = time.time()

    # routes: peers before names, names read from the header (host case-insensitive), the rest unrouted
    by_stream = {b.input_id: [f.data for f in b.frames] for b in batches}
    assert by_stream == {"net.expressway": [EXPRESSWAY], "net.kamailio": [KAMAILIO],
                         "net.from-lab": [KAMAILIO], "net.unrouted": [NO_TIME, overlong]}
    counts = inp.stats[0].peers["192.0.2.1"]
    assert (counts.received, counts.unrouted, counts.truncated) == (3, 2, 1)
    assert inp.stats[1].peers["192.0.2.1"].received == 1 and inp.stats[0].peers["198.51.100.7"].received == 1

    # the workers: the line and fields parse_syslog gives, the peer's port per message, the receive time kept
    full = Config.model_validate({"inputs": [syslog_config()], "outputs": [{"type": "stdout"}]})
    prepared = prepare(WorkerSetup([], [t.model_dump() for t in full.parse_targets()], None, None))
    [unrouted] = [b for b in batches if b.input_id == "net.unrouted"]
    assert unrouted.syslog is not None
    received = unrouted.syslog.received
    assert all(before <= t <= after for t in received)
    normalizer, ctx = prepared[unrouted.input_id]
    job = BatchJob.of(unrouted.input_id, unrouted.source_key, unrouted.path, unrouted.frames, {},
                      unrouted.reference_time, datetime.now(UTC), syslog=unrouted.syslog)
    events = [orjson.loads(doc) for doc in run_batch(normalizer, ctx, job).docs]
    assert len(events) == 2
    for event, data, port, at in zip(events, [NO_TIME, overlong], [40003, 40005], received, strict=True):
        msg = parse_syslog(data, received=datetime.fromtimestamp(at, UTC), peer="192.0.2.1",
                           tz=ZoneInfo("Europe/Berlin"), max_bytes=1024)
        assert event["event"]["original"] == msg.line  # for NO_TIME: the receive time, as the loop saw it
        wanted = syslog_fields(msg, "192.0.2.1", port)
        assert event["log"]["source"] == wanted["log"]["source"] and event["observer"]["ip"] == ["192.0.2.1"]
        assert event["log"]["syslog"] == wanted["log"]["syslog"]
    assert "syslog_no_timestamp" in events[0]["tags"]
    assert events[1]["log"]["flags"] == ["truncated"] and "flags" not in events[0]["log"]


def test_a_peer_routed_once_per_read_goes_where_each_message_would() -> None:
    """The TCP loop routes a read's messages once when no route before the peer's reads headers; when one
    does (hostnames, app names), each message is routed by its own header."""
    with_names = SyslogInput(SyslogInputConfig.model_validate(syslog_config()))
    assert with_names._peer_stream(1, "198.51.100.7") == "net.from-lab"  # the peer route comes first
    assert with_names._peer_stream(1, "192.0.2.1") is None  # the hostname route must read each header
    peers_only = {**syslog_config(), "routes": [{"name": "from-lab", "parser": "cisco_expressway",
                                                 "peers": ["198.51.100.0/24"]}], "default_parser": "kamailio"}
    inp = SyslogInput(SyslogInputConfig.model_validate(peers_only))
    for peer in ("198.51.100.7", "192.0.2.1"):
        stream = inp._peer_stream(1, peer)
        assert stream is not None
        assert all(inp._route(1, peer, data) == stream for data in (EXPRESSWAY, KAMAILIO, NO_TIME, b"", b"junk"))
    assert inp._peer_stream(1, "192.0.2.1") == inp.fallback


def test_a_read_is_batched_at_once_as_message_by_message() -> None:
    """`_add_read` (the TCP loop, a whole read whose route is the peer's) gives the batches, counters and
    pending messages that `_add` gives one message at a time: across reads, batch boundaries and cut
    messages, for a routed peer and for one no route claims."""
    from ucsiem.inputs.framing import Frame

    base = {**syslog_config(), "batch_max_records": 3,
            "routes": [{"name": "from-lab", "parser": "cisco_expressway", "peers": ["198.51.100.0/24"]}]}
    reads = [[Frame(i * 100, i * 100 + 70, b"<13>m%d" % i, ("truncated",) if i % 4 == 1 else ())
              for i in range(n, n + k)] for n, k in ((0, 1), (1, 5), (6, 2), (8, 3), (11, 7))]
    for peer in ("198.51.100.7", "192.0.2.1"):
        by_read, by_message = SyslogInput(SyslogInputConfig.model_validate(base)), \
            SyslogInput(SyslogInputConfig.model_validate(base))
        lc = by_read.cfg.listeners[1]
        stream = by_read._peer_stream(1, peer)
        assert stream is not None
        sent_read: list[Any] = []
        sent_message: list[Any] = []
        for n, frames in enumerate(reads):
            received = 1000.0 + n
            at = 0
            while at < len(frames):
                at, full = by_read._add_read(1, lc, peer, 40000, "net:x", frames, at, received, stream)
                sent_read.append(full)
            for frame in frames:
                sent_message.append(by_message._add(1, lc, peer, 40000, "net:x", frame.start, frame.data, frame.flags,
                                                    received))

        def shape(pending: Any) -> Any:
            return (pending.stream, pending.source_key, pending.path, pending.peer_ip,
                    [(f.start, f.data, f.flags) for f in pending.frames], pending.ports, pending.received)

        full_read = [shape(p) for p in sent_read if p is not None]
        assert full_read == [shape(p) for p in sent_message if p is not None]
        assert len(full_read) == 6 and all(len(batch[4]) == 3 for batch in full_read)
        assert [shape(p) for p in by_read._pending.values()] == [shape(p) for p in by_message._pending.values()]
        assert by_read.stats[1].peers[peer] == by_message.stats[1].peers[peer]
        counts = by_read.stats[1].peers[peer]
        assert (counts.received, counts.truncated) == (18, 5)
        assert counts.unrouted == (0 if peer == "198.51.100.7" else 18)
