"""The message after the framing: a system message `%FACILITY-SEVERITY-MNEMONIC: text`, read field by
field for the families with a security meaning (`admin.py`, `voice.py`, `cdr.py`), or, after an IOS time
stamp, debug / VoIP trace / event trace output. A line with neither is not IOS output: ParseError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ucsiem.parsing import ParseError

from .admin import read_acl, read_config, read_logged_command, read_logout, read_sec_login, read_ssh, read_tty_expired
from .cdr import read_call_history, read_feature_history
from .header import Header
from .values import PROTOCOL, SHOWN
from .voice import (
    read_gatekeeper,
    read_ivr_resource,
    read_sip_cac,
    read_sip_registration,
    read_stream_service,
    read_voice_iec,
)

_PART = re.compile(r"[A-Z0-9_]{1,64}")
_DEBUG_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31}): ")
_TRACE_ID = re.compile(r"[^/\s]{1,40}")
MAX_MNEMONIC = 160
MAX_TRACE_PATH = 128


@dataclass(slots=True)
class Body:
    """What the message says, as typed values; `family` names the reader that read it (classify.py maps
    it and `status` to a Kind)."""

    message: str
    family: str = "diagnostic"
    facility: str | None = None  # None: debug output
    severity: int | None = None
    mnemonic: str = ""
    provider: str | None = None
    status: str | None = None  # the result the message states, in the family's own words
    toll_fraud: bool = False
    logger: str | None = None
    protocol: str | None = None
    transport: str | None = None
    reason: str | None = None
    user: str | None = None
    command_line: str | None = None
    source_ip: str | None = None
    source_address: str | None = None
    source_port: int | None = None
    destination_ip: str | None = None
    destination_domain: str | None = None
    destination_address: str | None = None
    destination_port: int | None = None
    call_id: str | None = None
    leg_id: str | None = None
    disconnect_cause: str | None = None
    setup_time: datetime | None = None
    connect_time: datetime | None = None
    end_time: datetime | None = None
    duration: float | None = None
    q850: int | None = None
    sip_status: int | None = None
    vendor: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


def read_body(header: Header, tz: tzinfo) -> Body:
    """The message of a line whose framing `header` has cut; ParseError when it is not IOS output."""
    text = header.body
    if text.startswith("%"):
        found = split_mnemonic(text)
        if found is None:
            raise ParseError("no_match", f"not a %FACILITY-SEVERITY-MNEMONIC message: {header.line[:SHOWN]!r}")
        facility, severity, mnemonic, message = found
        if not message:
            raise ParseError("truncated", f"system message without text: {header.line[:SHOWN]!r}")
        body = Body(message, facility=facility, severity=severity, mnemonic=mnemonic, provider=facility,
                    protocol=PROTOCOL.get(facility))
        family = family_of(facility, mnemonic, message)
        if family is not None:
            body.family = family
            READERS[family](body, tz)
        return body
    if header.timestamp is not None or header.uptime is not None:
        return read_debug(text)
    raise ParseError("no_match", f"neither an IOS system message (%FAC-SEV-MNEMONIC) nor time-stamped "
                     f"IOS debug output: {header.line[:SHOWN]!r}")


def split_mnemonic(body: str) -> tuple[str, int, str, str] | None:
    """`%SEC_LOGIN-4-LOGIN_FAILED: text` -> ("SEC_LOGIN", 4, "LOGIN_FAILED", "text"); None if malformed.
    (str methods, not a regex: facility parts and the severity digit would overlap in a pattern.)"""
    colon = body.find(":", 1, MAX_MNEMONIC)
    if colon < 0:
        return None
    parts = body[1:colon].split("-")
    if len(parts) < 3 or len(parts[-2]) != 1 or parts[-2] not in "01234567":
        return None
    if not all(_PART.fullmatch(p) for p in parts):
        return None
    return "-".join(parts[:-2]), int(parts[-2]), parts[-1], body[colon + 1:].strip()


def family_of(facility: str, mnemonic: str, text: str) -> str | None:
    """The family of a system message read field by field; None: any other message (`diagnostic`)."""
    if facility == "SEC_LOGIN":
        return "sec_login"
    if facility == "SYS" and mnemonic in ("CONFIG_I", "CONFIG_P"):
        return "config"
    if facility == "PARSER" and mnemonic == "CFGLOG_LOGGEDCMD":
        return "logged_command"
    if facility == "SYS" and mnemonic == "LOGOUT":
        return "logout"
    if facility == "SYS" and mnemonic == "TTY_EXPIRE_TIMER":
        return "tty_expired"
    if facility == "SSH":
        return "ssh"
    if facility == "SEC" and mnemonic.startswith("IPACCESSLOG"):
        return "acl"
    if facility == "VOICE_IEC":
        return "voice_iec"
    if facility == "SIP":
        if mnemonic == "REG_INTERNAL":
            return "sip_registration"
        if mnemonic.endswith("CAC") and text.startswith("Call rejected"):
            return "sip_cac"
        if mnemonic == "STREAM_SERVICE":
            return "stream_service"
        return None
    if facility == "IVR" and mnemonic.startswith("LOW_") and mnemonic.endswith("_RESOURCE"):
        return "ivr_resource"
    if facility == "CCH323" and "REGSTR" in mnemonic:
        return "gatekeeper"
    if facility == "DIALPEER_DB" and mnemonic == "ADDPEER_MEM_THRESHOLD":
        return "dialpeer_memory"
    if facility == "VOIPAAA" and mnemonic == "VOIP_CALL_HISTORY":
        return "call_history"
    if facility == "VOIPAAA" and mnemonic == "VOIP_FEAT_HISTORY":
        return "feature_history"
    return None


def read_debug(text: str) -> Body:
    """Debug output: `//<callID>/<GUID>/<path>: text` (ccsip debug, CUBE VoIP Trace), `TAG: text`
    (CUBE_ET event trace), or plain text."""
    body = Body(text, provider="debug")
    if text.startswith("//"):
        parts = text[2:].split("/", 2)
        if len(parts) == 3 and all(_TRACE_ID.fullmatch(p) for p in parts[:2]):
            call_id, guid, rest = parts
            path, sep, message = rest.partition(": ")
            if not sep and rest.endswith(":"):  # `//-1/<guid>/SIP/Msg/ccsipDisplayMsg:` heads a dump
                path, sep, message = rest[:-1], ":", ""
            if sep and path and len(path) <= MAX_TRACE_PATH:
                body.logger = path
                body.message = message.strip() or text
                if path.startswith("CUBE_VT/"):
                    body.provider = "voip_trace"
            if call_id.isdecimal():
                body.leg_id = call_id
            body.vendor["guid"] = guid
    elif (m := _DEBUG_TAG.match(text)) is not None:
        body.logger = m.group(1)
        if m.group(1) == "CUBE_ET":
            body.provider = "event_trace"
        body.message = text[m.end():].strip() or text
    return body


def _dialpeer_memory(body: Body, tz: tzinfo) -> None:
    """DIALPEER_DB-3-ADDPEER_MEM_THRESHOLD: the text is the reason."""
    body.reason = body.message


READERS: dict[str, Callable[[Body, tzinfo], None]] = {
    "sec_login": read_sec_login,
    "config": read_config,
    "logged_command": read_logged_command,
    "logout": read_logout,
    "tty_expired": read_tty_expired,
    "ssh": read_ssh,
    "acl": read_acl,
    "voice_iec": read_voice_iec,
    "sip_registration": read_sip_registration,
    "sip_cac": read_sip_cac,
    "stream_service": read_stream_service,
    "ivr_resource": read_ivr_resource,
    "gatekeeper": read_gatekeeper,
    "dialpeer_memory": _dialpeer_memory,
    "call_history": read_call_history,
    "feature_history": read_feature_history,
}
