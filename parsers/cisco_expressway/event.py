"""Event assembly: the only place that writes the event (README.md has the mapping table).

The event is written with present values only, section by section, instead of a literal of every member
followed by `prune`: this is the hottest parser of the agent and a prune pass over the finished event
costs about as much as building it.
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import Kind, ParsedEvent, kind_fields, priority_fields, to_port

from .body import Body
from .header import Header
from .values import SERVICE_PROTOCOL, TRANSPORTS, small_int, socket_address

_REGISTRATION = frozenset(("sip-register", "sip-unregister"))


def assemble(header: Header, body: Body, found: Kind) -> ParsedEvent:
    action = found.action
    outcome = found.outcome
    name = body.name
    module = body.module
    reason = body.reason
    detail = body.detail
    vendor: dict[str, Any] = body.attrs  # what is left of the attributes is uc.vendor; mapped ones are taken out below
    source = body.source
    destination = body.destination

    network: dict[str, Any] = {}
    tls: dict[str, Any] = {}
    if protocol := body.protocol:
        low = protocol.lower()
        network["transport"] = TRANSPORTS.get(low, low)
        if low == "tls":
            tls["established"] = True
    if service := body.service:
        network["application"] = service
        if proto := SERVICE_PROTOCOL.get(service.lower()):
            network["protocol"] = proto
    elif module in ("network.sip", "network.h323"):
        network["protocol"] = module[8:]

    call: dict[str, Any] = {}
    if body.caller:
        call["caller"] = body.caller
        if body.caller_number:
            call["caller_number"] = body.caller_number
    if body.callee:
        call["callee"] = body.callee
        if body.callee_number:
            call["callee_number"] = body.callee_number
    if body.call_id:
        call["id"] = body.call_id
    if body.leg_id:
        call["leg_id"] = body.leg_id
    if body.authenticated is not None:
        call["authenticated"] = body.authenticated

    sip = body.sip
    registration: dict[str, Any] = {}
    is_registration = action in _REGISTRATION
    if body.aor:
        registration["aor"] = body.aor
    if contact := body.contact:
        if is_registration:
            registration["contact"] = contact
        else:
            sip["contact"] = contact
    extra: dict[str, Any] = {}
    duration = vendor.get("Duration", "")
    if duration and (seconds := small_int(duration, 999_999_999)) is not None:
        if is_registration:
            del vendor["Duration"]
            registration["expires"] = seconds
        elif action == "call-end":
            del vendor["Duration"]
            call["duration"] = float(seconds)
            extra["duration"] = seconds * 1_000_000_000
    if action == "call-end" and reason:
        call["disconnect_cause"] = reason

    tags = body.tags
    if action == "tls-handshake" or module == "developer.ssl":
        _tls(vendor, name, outcome, tls, source, destination, network, tags)
        if not reason:
            reason = vendor.pop("ssl_error_reason", "")

    if name:
        extra["code"] = name
    if reason:
        extra["reason"] = reason
    elif outcome == "failure" and detail:
        extra["reason"] = detail
    programs = header.tags
    process: dict[str, Any] | None = None
    if programs:
        first = programs[0]
        bracket = first.find("[")
        pid = first[bracket + 1:-1] if bracket > 0 else ""
        process = ({"name": first[:bracket], "pid": int(pid)} if pid.isascii() and pid.isdecimal()
                   else {"name": first})
        extra["provider"] = programs[-1].split("[", 1)[0]
    elif (node := vendor.get("Node", "")) and "@" in node:
        extra["provider"] = node.split("@", 1)[0]
    ev = kind_fields(found) | extra

    free = body.free
    message = f"{free} {detail}" if free and detail else free or detail
    observer: dict[str, Any] = {}
    if header.host:
        observer["hostname"] = header.host
    if body.observer_ip:
        observer["ip"] = [body.observer_ip]
    log: dict[str, Any] = {}
    if body.level:
        log["level"] = body.level
    if module:
        log["logger"] = module
    if header.pri is not None:
        log["syslog"] = priority_fields(header.pri)

    if "" in vendor.values():
        vendor = {k: v for k, v in vendor.items() if v}
    if body.dups:
        for key, values in body.dups.items():
            first_value = vendor.pop(key, None)
            vendor[key] = [first_value, *values] if first_value else values
    uc: dict[str, Any] = {"sip": sip, "call": call, "registration": registration, "vendor": vendor}
    event: dict[str, Any] = {
        "@timestamp": body.time,
        "event": ev,
        "message": message,
        "user": {"name": body.user} if body.user else None,
        "process": process,
        "source": source,
        "destination": destination,
        "network": network,
        "tls": tls,
        "observer": observer,
        "log": log,
        "uc": {k: v for k, v in uc.items() if v},
        "tags": tags,
    }
    if body.sipmsg is not None:
        _sip_message(event, body)
    elif body.more:
        event["message"] = f"{message}\n{body.more}" if message else body.more
    return {k: v for k, v in event.items() if v}  # sections are built without empty members


def _tls(vendor: dict[str, Any], name: str, outcome: str | None, tls: dict[str, Any],
         src: dict[str, Any], dst: dict[str, Any], network: dict[str, Any], tags: list[str]) -> None:
    """TLS details of a negotiation error or a developer.ssl line."""
    if outcome == "failure":
        tls["established"] = False
    elif outcome == "success":
        tls["established"] = True
    low = name.lower()
    inbound = low.startswith("inbound")
    if inbound or low.startswith("outbound"):
        network["direction"] = "inbound" if inbound else "outbound"
    common_name = vendor.pop("Common-name", "")
    if common_name:
        tls["client" if inbound else "server"] = {"x509": {"subject": {"common_name": [common_name]}}}
    # developer.ssl: localAddress/remoteAddress, bServer says which side the Expressway was
    local, remote = vendor.get("localAddress", ""), vendor.get("remoteAddress", "")
    if local and remote:
        server = vendor.get("bServer", "").lower()
        if server in ("true", "false"):
            peer, me = (src, dst) if server == "true" else (dst, src)
            for endpoint, value, key in ((peer, remote, "remoteAddress"), (me, local, "localAddress")):
                ip, port_text = socket_address(value)
                if ip is not None and not endpoint:
                    endpoint["ip"] = ip
                    if (port := to_port(port_text, tags)) is not None:
                        endpoint["port"] = port
                    del vendor[key]


def _sip_message(event: dict[str, Any], body: Body) -> None:
    """The SIP message after `SIPMSG:`: its values where the attributes left them unsaid."""
    found = body.sipmsg
    assert found is not None
    uc = event.setdefault("uc", {})
    sip = uc.setdefault("sip", {})
    for key, value in found.sip.items():
        sip.setdefault(key, value)
    if "user_agent" in sip:
        event["user_agent"] = {"original": sip["user_agent"]}
    transport = found.transport
    if transport and not event["network"].get("transport"):
        low = transport.lower()
        if low in TRANSPORTS:
            event["network"]["transport"] = TRANSPORTS[low]
            if low == "tls":
                event["tls"].setdefault("established", True)
    if sip.get("method") == "REGISTER" and "status_code" not in sip:
        reg = uc.setdefault("registration", {})
        if "to_uri" in sip:
            reg.setdefault("aor", sip["to_uri"])
        if "contact" in sip:
            reg.setdefault("contact", sip["contact"])
        if found.expires is not None:
            reg.setdefault("expires", found.expires)
    if not event["message"]:
        event["message"] = found.start
