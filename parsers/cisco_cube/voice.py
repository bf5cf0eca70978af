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

Readers: each fills the `Body` of one family from the message text.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import TYPE_CHECKING

from ucsiem.parsing import canonical_ip, to_port

if TYPE_CHECKING:
    from .body import Body

_IEC = re.compile(r"IEC=(\d{1,5}(?:\.\d{1,5}){5}) on callID (\d{1,12}) ?(?:GUID=([0-9A-Fa-f]{1,64}))?")
_RESPONSE = re.compile(r"sent response (\d{3})")
_DIAL_PEER = re.compile(r"dial-peer (\d{1,10})")
_GATEKEEPER = re.compile(r"Gateway (\S{1,128}) failed to register with Gatekeeper (\S{1,128}) "
                         r"even after (\d{1,6}) retries")
_IVR_CALL = re.compile(r"\. Call \(callID=(\d{1,12})\) is rejected\.?")
TOLL_FRAUD_TEXT = "toll fraud call rejected"
TOLL_FRAUD_IEC = ("228", "3", "31")  # category.subsystem.error of TOLL_FRAUD_CALL_BLOCK (CME guide)


def read_voice_iec(body: Body, tz: tzinfo) -> None:
    """`<layer>: Internal Error (<text>): IEC=<v.e.c.s.e.d> on callID <n>[ GUID=<hex>]`; `status` is the
    error text in lower case (None when the line is not of this shape)."""
    text = body.message
    colon = text.find(": Internal Error (")
    close = text.find("): IEC=", colon + 1) if colon >= 0 else -1
    if colon < 0 or close < 0:
        return
    error = text[colon + 18:close].strip()
    body.vendor["iec_layer"] = text[:colon].strip()
    m = _IEC.match(text, close + 3)
    parts: list[str] = []
    if m is not None:
        body.vendor["iec"] = m.group(1)
        parts = m.group(1).split(".")
        body.leg_id = m.group(2)
        guid = m.group(3)
        if guid and guid.strip("0"):
            body.call_id = guid.upper()
    body.status = error.lower()
    if body.status == TOLL_FRAUD_TEXT or tuple(parts[2:5]) == TOLL_FRAUD_IEC:
        # the caller's address is not in the trusted list (`ip address trusted list`)
        body.toll_fraud = True
        body.tags.append("toll_fraud")
    body.reason = error or None
    body.disconnect_cause = error or None


def read_sip_cac(body: Body, tz: tzinfo) -> None:
    """SIP-3-*CAC: `Call rejected due to CAC based on <what>[ on dial-peer <n>], sent response <code>`."""
    text = body.message
    body.protocol = "sip"
    body.reason = text.split(", sent response ", 1)[0].strip()
    if (m := _RESPONSE.search(text, max(0, len(text) - 40))) is not None:
        body.sip_status = int(m.group(1))
    if (m := _DIAL_PEER.search(text)) is not None:
        body.vendor["dial_peer"] = int(m.group(1))


def read_ivr_resource(body: Body, tz: tzinfo) -> None:
    """IVR-3-LOW_*_RESOURCE: `IVR: <condition>. Call (callID=<n>) is rejected.`; `status` rejected."""
    text = body.message
    m = _IVR_CALL.search(text)
    if m is None:
        return
    body.status = "rejected"
    body.reason = text[:m.start()].removeprefix("IVR:").strip()
    body.leg_id = m.group(1)


def read_sip_registration(body: Body, tz: tzinfo) -> None:
    """SIP-3-REG_INTERNAL: `Registration Success.|Registration failed. k=v;k=v...` (CUBE registering to a
    trunk); `status` success|failure when the line says so."""
    body.protocol = "sip"
    status, _, rest = body.message.partition(". ")
    word = status.removeprefix("Registration").strip().lower()
    body.status = "success" if word == "success" else "failure" if word.startswith("fail") else None
    pairs: dict[str, str] = {}
    for item in rest.split(";")[:32]:
        key, eq, value = item.partition("=")
        if eq and key.strip():
            pairs.setdefault(key.strip(), value.strip())
    vendor = body.vendor
    registrar = pairs.pop("registrar", "")
    if registrar:
        host = registrar.split(":", 1)[1] if registrar.startswith(("dns:", "ipv4:", "ipv6:")) else registrar
        if (ip := canonical_ip(host)) is not None:
            body.destination_ip = ip
        else:
            body.destination_domain = host
        body.destination_address = registrar
    addr = pairs.pop("addr", "")
    if addr and (ip := canonical_ip(addr)) is not None:
        body.destination_ip = ip
    elif addr:
        vendor["addr"] = addr
    body.destination_port = to_port(pairs.pop("port", None), body.tags)
    body.user = pairs.pop("Number", "") or None
    for key, value in pairs.items():
        vendor[key] = value


def read_gatekeeper(body: Body, tz: tzinfo) -> None:
    """CCH323-2-GTWY_REGSTR_FAILED (H.323 RRQ to a gatekeeper); `status` failure for a *FAIL* mnemonic."""
    body.protocol = "h323"
    if "FAIL" in body.mnemonic:
        body.status = "failure"
    m = _GATEKEEPER.match(body.message)
    if m is None:
        return
    body.vendor["gateway"] = m.group(1)
    body.destination_address = m.group(2)
    body.vendor["retries"] = int(m.group(3))


def read_stream_service(body: Body, tz: tzinfo) -> None:
    """SIP-3-STREAM_SERVICE: media forking (WebSocket stream service) connection alarms; `status` failure
    when the text says so."""
    text = body.message
    if "failure" in text.lower():
        body.status = "failure"
    body.reason = text.strip()
