"""Lync / Skype for Business Server Windows events (the "Lync Server" event log) from a Windows collector.

A record is one JSON document (NDJSON line, or a pretty-printed document / array framed by
`JSON_FRAMING`); each object in it is one Windows event read by `collectors.py`, classified by
provider and id in `events.py`. Events of other providers are kept as `diagnostic` events tagged
`not_lync_provider` (a collector subscribed to more than the Lync log should not lose them).
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import ParseContext, ParsedEvent, ParseError, RawRecord, json_documents, prune

from .collectors import WinEvent, read
from .events import UNKNOWN, classify, extract, lync_component

__all__ = ["parse"]

MAX_REASON = 512


def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
    try:
        return [_event(read(doc, ctx.timezone)) for doc in json_documents(record.text)]
    except OverflowError:  # a time next to year 1 or 9999 once moved to UTC
        raise ParseError("bad_timestamp", "time out of the representable range") from None


def _event(win: WinEvent) -> ParsedEvent:
    component = lync_component(win.provider, win.channel)
    kind = classify(component, win.event_id) if component is not None else UNKNOWN
    ev: dict[str, Any] = {"kind": kind.kind, "action": kind.action, "category": list(kind.category),
                          "type": list(kind.type), "outcome": kind.outcome, "code": str(win.event_id),
                          "provider": win.provider, "created": win.created}
    first_line = win.message.split("\n", 1)[0].strip()
    if kind is not UNKNOWN:
        ev["reason"] = (first_line or kind.meaning)[:MAX_REASON]
    vendor: dict[str, Any] = {"collector": win.collector, "channel": win.channel, "record_id": win.record_id}
    for key, value in win.data.items():
        vendor[f"data_{key}"] = value
    event: ParsedEvent = {
        "@timestamp": win.timestamp,
        "message": win.message,
        "event": ev,
        "log": {"level": win.level},
        "observer": {"hostname": win.computer},
        "process": {"pid": win.pid},
    }
    if component is None:
        event["tags"] = ["not_lync_provider"]
    else:
        found = extract(win.message)
        if found.certificate_subject:
            vendor["certificate_subject"] = found.certificate_subject
        if found.partner_edges:
            vendor["partner_edges"] = found.partner_edges
            vendor["partner_domains"] = found.partner_domains
        if kind.action == "flood-block" and found.certificate_subject:
            # the rate-limited partner is the one sending: its edge is the first name of its certificate
            event["source"] = {"domain": found.certificate_subject[0].lower()}
        if kind.action == "tls-handshake" and found.certificate_subject:
            # outgoing connection: the certificate is the remote server's
            event["tls"] = {"established": False,
                            "server": {"x509": {"subject": {"common_name": found.certificate_subject[:1]}}}}
    event["uc"] = {"vendor": vendor}
    return prune(event)
