"""Voice messages: internal error codes, call admission control, SIP trunk and H.323 registration.

Texts as Cisco documents them (CUBE configuration guide chapters "Call Admission Control" and
"VoIP Trace", CME guide "Toll Fraud Prevention"):

    %VOICE_IEC-3-GW: <layer>: Internal Error (Toll fraud call rejected): IEC=1.1.228.3.31.0 on callID 3 GUID=<hex>
    %VOICE_IEC-3-GW: CCAPI: Internal Error (Call spike threshold): IEC=1.1.181.1.29.0 on callID 3
    %SIP-3-MEMCAC: Call rejected due to CAC based on Memory usage, sent response 503
    %SIP-3-MAXCONNCAC: Call rejected due to CAC based on maximum number of connections on dial-peer 1, sent response 503
    %IVR-3-LOW_CPU_RESOURCE: IVR: System experiencing high cpu utilization (97/100). Call (callID=2) is rejected.
    %SIP-3-REG_INTERNAL: Registration failed. Tenant=200;Number=...;registrar=dns:...;addr=192.0.2.1;port=5060;connid=3
    %CCH323-2-GTWY_REGSTR_FAILED: Gateway gw1 failed to register with Gatekeeper gk1 even after 2 retries
    %SIP-3-STREAM_SERVICE:  50 TCP connection failures
    %DIALPEER_DB-3-ADDPEER_MEM_THRESHOLD: Addition of dial-peers limited by available memory
"""

from __future__ import annotations

import re
from typing import Any

from ucsiem.parsing import ParsedEvent, canonical_ip

from .kinds import apply

_IEC = re.compile(r"IEC=(\d{1,5}(?:\.\d{1,5}){5}) on callID (\d{1,12}) ?(?:GUID=([0-9A-Fa-f]{1,64}))?")
_RESPONSE = re.compile(r"sent response (\d{3})")
_DIAL_PEER = re.compile(r"dial-peer (\d{1,10})")
_GATEKEEPER = re.compile(r"Gateway (\S{1,128}) failed to register with Gatekeeper (\S{1,128}) "
                         r"even after (\d{1,6}) retries")
_IVR_CALL = re.compile(r"\. Call \(callID=(\d{1,12})\) is rejected\.?")
_CALL_REJECT_TYPES = ("connection", "denied")
# IEC texts of calls refused for lack of resources (CUBE CAC chapter)
_RESOURCE_IEC = frozenset(("low memory", "cpu high"))
TOLL_FRAUD_TEXT = "toll fraud call rejected"
TOLL_FRAUD_IEC = ("228", "3", "31")  # category.subsystem.error of TOLL_FRAUD_CALL_BLOCK (CME guide)


def _call(event: ParsedEvent) -> dict[str, Any]:
    call: dict[str, Any] = event.setdefault("uc", {}).setdefault("call", {})
    return call


def voice_iec(text: str, event: ParsedEvent, vendor: dict[str, Any], tags: list[str]) -> None:
    """`<layer>: Internal Error (<text>): IEC=<v.e.c.s.e.d> on callID <n>[ GUID=<hex>]`."""
    colon = text.find(": Internal Error (")
    close = text.find("): IEC=", colon + 1) if colon >= 0 else -1
    if colon < 0 or close < 0:
        apply(event, "diagnostic")
        return
    layer = text[:colon].strip()
    error = text[colon + 18:close].strip()
    vendor["iec_layer"] = layer
    m = _IEC.match(text, close + 3)
    parts: list[str] = []
    if m is not None:
        vendor["iec"] = m.group(1)
        parts = m.group(1).split(".")
        _call(event)["leg_id"] = m.group(2)
        guid = m.group(3)
        if guid and guid.strip("0"):
            _call(event)["id"] = guid.upper()
    low = error.lower()
    if low == TOLL_FRAUD_TEXT or tuple(parts[2:5]) == TOLL_FRAUD_IEC:
        # the caller's address is not in the trusted list (`ip address trusted list`)
        apply(event, "call-reject", types=_CALL_REJECT_TYPES, extra_categories=("intrusion_detection",), reason=error)
        tags.append("toll_fraud")
    elif low == "call spike threshold":
        apply(event, "flood-block", reason=error, extra_categories=("session",))
    elif low in _RESOURCE_IEC:
        apply(event, "call-reject", types=_CALL_REJECT_TYPES, reason=error)
    else:
        apply(event, "call-end", "failure", reason=error)
    if error:
        _call(event)["disconnect_cause"] = error


def sip_cac(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SIP-3-*CAC: `Call rejected due to CAC based on <what>[ on dial-peer <n>], sent response <code>`."""
    event["network"] = {"protocol": "sip"}
    reason = text.split(", sent response ", 1)[0].strip()
    apply(event, "call-reject", types=_CALL_REJECT_TYPES, reason=reason)
    if (m := _RESPONSE.search(text, max(0, len(text) - 40))) is not None:
        event.setdefault("uc", {})["sip"] = {"status_code": int(m.group(1))}
    if (m := _DIAL_PEER.search(text)) is not None:
        vendor["dial_peer"] = int(m.group(1))


def ivr_low_resource(text: str, event: ParsedEvent) -> None:
    """IVR-3-LOW_*_RESOURCE: `IVR: <condition>. Call (callID=<n>) is rejected.`"""
    m = _IVR_CALL.search(text)
    if m is None:
        apply(event, "license-limit")
        return
    reason = text[:m.start()].removeprefix("IVR:").strip()
    apply(event, "call-reject", types=_CALL_REJECT_TYPES, reason=reason)
    _call(event)["leg_id"] = m.group(1)


def sip_registration(text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """SIP-3-REG_INTERNAL: `Registration Success.|Registration failed. k=v;k=v...` (CUBE registering to a trunk)."""
    event["network"] = {"protocol": "sip"}
    status, _, rest = text.partition(". ")
    word = status.removeprefix("Registration").strip().lower()
    outcome = "success" if word == "success" else "failure" if word.startswith("fail") else None
    apply(event, "sip-register", outcome,
          types=("protocol", "allowed") if outcome == "success" else ("protocol", "denied") if outcome else None)
    pairs: dict[str, str] = {}
    for item in rest.split(";")[:32]:
        key, eq, value = item.partition("=")
        if eq and key.strip():
            pairs.setdefault(key.strip(), value.strip())
    destination: dict[str, Any] = {}
    registrar = pairs.pop("registrar", "")
    if registrar:
        host = registrar.split(":", 1)[1] if registrar.startswith(("dns:", "ipv4:", "ipv6:")) else registrar
        if (ip := canonical_ip(host)) is not None:
            destination["ip"] = ip
        else:
            destination["domain"] = host
        destination["address"] = registrar
    addr = pairs.pop("addr", "")
    if addr and (ip := canonical_ip(addr)) is not None:
        destination["ip"] = ip
    elif addr:
        vendor["addr"] = addr
    port = pairs.pop("port", "")
    if port.isdecimal() and int(port) <= 65535:
        destination["port"] = int(port)
    elif port:
        vendor["port"] = port
    if destination:
        event["destination"] = destination
    if number := pairs.pop("Number", ""):
        event["user"] = {"name": number}
    for key, value in pairs.items():
        vendor[key] = value


def gatekeeper_registration(mnemonic: str, text: str, event: ParsedEvent, vendor: dict[str, Any]) -> None:
    """CCH323-2-GTWY_REGSTR_FAILED (H.323 RRQ to a gatekeeper)."""
    event["network"] = {"protocol": "h323"}
    apply(event, "sip-register", "failure" if "FAIL" in mnemonic else None,
          types=("protocol", "denied") if "FAIL" in mnemonic else None)
    m = _GATEKEEPER.match(text)
    if m is None:
        return
    vendor["gateway"] = m.group(1)
    event["destination"] = {"address": m.group(2)}
    vendor["retries"] = int(m.group(3))


def stream_service(text: str, event: ParsedEvent) -> None:
    """SIP-3-STREAM_SERVICE: media forking (WebSocket stream service) connection alarms."""
    if "failure" in text.lower():
        apply(event, "service-failure", reason=text.strip())
    else:
        apply(event, "connection", types=("connection", "info"), reason=text.strip())
