"""The parse stream of refused webhook deliveries (`<input id>._rejected`): events about the sender.

A delivery whose signature does not verify (forged, replayed, stale, unsigned) is answered 401 and becomes
a security event about who sent it (category authentication, outcome failure, `source.ip` the peer,
`event.code` the verdict and `event.reason` its explanation), so the detection rules see it like any other
failed authentication. A signed body that is not JSON is answered 400 and becomes a dead letter holding
the body. The webhook input writes the records (`sender_record`), and says which of the two a batch holds
in its header `KIND_HEADER`; this internal parser turns them into events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord

SENDER_PARSER = "webhook_rejected"
KIND_HEADER = "webhook_rejected"
DETAIL_HEADER = "webhook_detail"
Kind = Literal["authentication", "bad_json"]
MAX_SHOWN = 512  # of what the sender chose (User-Agent): enough to recognise it, not to flood


def sender_record(*, time: datetime, provider: str, reason: str, detail: str, path: str, peer_ip: str,
                  peer_port: int, status: int, body_bytes: int, user_agent: str | None) -> bytes:
    """The record of one refused delivery (JSON; made here, read by `_parse`)."""
    doc: dict[str, Any] = {"time": time.isoformat(), "provider": provider, "reason": reason, "detail": detail,
                           "path": path, "peer_ip": peer_ip, "peer_port": peer_port, "status": status,
                           "bytes": body_bytes}
    if user_agent:
        doc["user_agent"] = user_agent[:MAX_SHOWN]
    return orjson.dumps(doc)


def _parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    if ctx.headers.get(KIND_HEADER) == "bad_json":
        raise ParseError("no_match", f"the body posted to {record.path} is not JSON "
                                     f"({ctx.headers.get(DETAIL_HEADER, 'invalid')}); it was answered 400")
    try:
        doc = orjson.loads(record.text)
        time = datetime.fromisoformat(doc["time"])
        provider, reason, detail = str(doc["provider"]), str(doc["reason"]), str(doc["detail"])
        path, ip, port, status = str(doc["path"]), str(doc["peer_ip"]), int(doc["peer_port"]), int(doc["status"])
        size = int(doc["bytes"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError("no_match", f"not a refused-delivery record: {type(exc).__name__}") from None
    source: dict[str, Any] = {"address": ip}
    if ip != "unknown":
        source["ip"] = ip
    if 0 < port < 65536:
        source["port"] = port
    event: ParsedEvent = {
        "@timestamp": time,
        "message": f"webhook delivery to {path} refused ({provider}, {reason}) from {ip}: {detail}",
        "event": {"kind": "event", "category": ["authentication"], "type": ["start"], "action": "security-alert",
                  "outcome": "failure", "code": reason, "reason": detail, "provider": provider},
        "source": source,
        "url": {"path": path},
        "network": {"transport": "tcp", "protocol": "http"},
        "http": {"request": {"method": "POST", "bytes": size}, "response": {"status_code": status}},
    }
    if isinstance(doc.get("user_agent"), str) and doc["user_agent"]:
        event["user_agent"] = {"original": doc["user_agent"]}
    return [event]


SENDER_SPEC = ParserSpec(
    id=SENDER_PARSER, version="1", description="Webhook deliveries refused by the receiver (sender events).",
    vendor="ucsiem", product="ucsiem", observer_type="log-receiver", dataset="ucsiem.webhook", parse=_parse)
