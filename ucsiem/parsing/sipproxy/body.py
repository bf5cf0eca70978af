"""The product's payload: its own prefix (level, module, code location, function), then the message.

`read_kamailio`, `read_opensips` and `read_kamailio_json` read the prefix into a `Body`; the message
readers (`modmsg.py`: module and core messages, default-script lines; `xlogkv.py`: xlog key=value
payloads) then fill its value sections with what the message says, and name the message family or the
event the operator's line states, which `classify.py` turns into a `Kind`.

Kamailio (core/dprint.h, `LOG_FX`): `"%s: %.*s%s%s%s"` = level name, `log_prefix` value, location, function:

    ERROR: <core> [core/tcp_read.c:1505]: tcp_read_req(): error reading - c: 0x... r: 0x... (-1)
    WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip 192.0.2.7, node=0x7f...
    NOTICE: <script>: text of an xlog() call           (xlog: prefix "<script>: ", no function)
    ERROR: {1 102 INVITE a84b4c76e66710@pc33} <script>: ...   log_prefix="{$mt $hdr(CSeq) $ci} " (docs)
    ERROR: tls: ...   / ERROR: <core>: ...            a build without debug info (NO_DEBUG): no location

Level names: ALERT, BUG, CRITICAL, "" (L_CRIT: the line starts with ": "), ERROR, WARNING, NOTICE, INFO,
DEBUG.

OpenSIPS (dprint.h, `LOG_PREFIX`): `LEVEL:module:function: message` without blanks
(`ERROR:core:fix_actions: fixing failed ...`); `LM_GEN1` messages (pike, xlog) carry no prefix at all,
and `xlog("$xlog_level ...")` writes `ERROR: text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

KAMAILIO_LEVELS = frozenset(("ALERT", "BUG", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"))
OPENSIPS_LEVELS = frozenset(("ALERT", "BUG", "CRITICAL", "CRIT", "ERROR", "WARNING", "NOTICE", "INFO", "DBG",
                             "DEBUG"))
ERROR_LEVELS = frozenset(("alert", "bug", "critical", "crit", "error"))

_KAM_LEVEL = re.compile(r"([A-Z]{3,8}): ")
_KAM_MODULE = re.compile(r"(<[a-z_]{1,16}>|[A-Za-z0-9_]{1,64})(?: \[([^\[\]\s]{1,256}):(\d{1,7})\])?: ")
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,127})\(\): ")
_OSIPS_FULL = re.compile(r"([A-Z]{3,8}):([A-Za-z0-9_]{1,64}):([A-Za-z0-9_]{1,128}):(?: |$)")
_OSIPS_LEVEL = re.compile(r"([A-Z]{3,8}): ")
PREFIX_SCAN = 512  # how far a custom log_prefix may reach before the module name


@dataclass(slots=True)
class Body:
    # the product's prefix
    level: str | None = None  # lower case, as written ("error", "dbg"); "critical" for Kamailio's L_CRIT
    module: str = ""  # "core", "script", "pike", "tls"... ("" when the line does not say)
    file: str | None = None
    line: int | None = None
    function: str | None = None
    log_prefix: str | None = None
    message: str = ""
    structured: bool = False  # the product's prefix was recognised (level and module/function)
    process_no: int | None = None  # JSON log engine: "idx"
    pid: int | None = None  # JSON log engine: "pid"
    call_id: str | None = None  # JSON log engine with the `c` flag: "callid"
    # what the message says, by the schema section it belongs to (filled by modmsg.py and xlogkv.py)
    code: str | None = None  # the operator's event word or `event=` value
    reason: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    destination: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    sip: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    registration: dict[str, Any] = field(default_factory=dict)
    tls: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    vendor: dict[str, Any] = field(default_factory=dict)
    user_agent: str | None = None
    version: str | None = None
    duration: float | None = None  # seconds
    direction: str | None = None  # network.direction
    # what the message is, for classify.py
    family: str | None = None  # a module or script message family (classify.FAMILIES)
    action: str | None = None  # the action an xlog line states (event word, `event=`), of the vocabulary
    outcome: str | None = None  # the outcome it states (`outcome=`, its event word, its SIP status)
    auth_module: bool = False  # an auth module's message that says nothing more specific
    tags: list[str] = field(default_factory=list)  # bad_port

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS


def _kam_module(text: str, pos: int, body: Body) -> int | None:
    """Module (and location) at `pos`; index after it, or None when there is none."""
    m = _KAM_MODULE.match(text, pos)
    if m is None:
        return None
    name, file, line = m.groups()
    if file is None and not name.startswith("<") and not (name.islower() or name.isdecimal()):
        return None  # "Numbering1: ..." is script text, not a module of a build without debug info
    body.module = name.strip("<>")
    if file is not None:
        body.file, body.line = file, int(line)
    return m.end()


def read_kamailio(text: str) -> Body:
    body = Body()
    pos = 0
    n = len(text)
    while pos < n and text[pos] == " ":
        pos += 1
    if text.startswith(": ", pos):  # L_CRIT has an empty level name
        body.level = "critical"
        pos += 2
    elif (m := _KAM_LEVEL.match(text, pos)) is not None and m.group(1) in KAMAILIO_LEVELS:
        body.level = m.group(1).lower()
        pos = m.end()
    after = _kam_module(text, pos, body)
    if after is None and text.startswith("{", pos):
        close = text.find("} ", pos, pos + PREFIX_SCAN)
        if close > 0 and (after := _kam_module(text, close + 2, body)) is not None:
            body.log_prefix = text[pos:close + 1]
    if after is None and body.level is not None:
        # another log_prefix: look for the module markers Kamailio always writes after it
        for marker in (" <script>: ", " <core> ["):
            at = text.find(marker, pos, pos + PREFIX_SCAN)
            if at > pos and (after := _kam_module(text, at + 1, body)) is not None:
                body.log_prefix = text[pos:at]
                break
    if after is not None:
        pos = after
        body.structured = True
        if body.module != "script" and (m := _FUNCTION.match(text, pos)) is not None:
            body.function = m.group(1)
            pos = m.end()
    body.message = text[pos:].strip()
    return body


def read_opensips(text: str) -> Body:
    body = Body()
    pos = 0
    while text.startswith(" ", pos):
        pos += 1
    m = _OSIPS_FULL.match(text, pos)
    if m is not None and m.group(1) in OPENSIPS_LEVELS:
        body.level = m.group(1).lower()
        body.module = m.group(2)
        body.function = m.group(3)
        body.structured = True
        pos = m.end()
    elif (m := _OSIPS_LEVEL.match(text, pos)) is not None and m.group(1) in OPENSIPS_LEVELS:
        body.level = m.group(1).lower()  # xlog("$xlog_level ...")
        pos = m.end()
    body.message = text[pos:].strip()
    return body


def _str(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else None


def _int(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 31 else None


def read_kamailio_json(text: str) -> Body | None:
    """Kamailio's JSON log engine (`--log-engine=json`, `log_engine_type="json"`), one document a line:

        { "idx": 1, "pid": 18239, "level": "DEBUG", "module": "maxfwd", "file": "mf_funcs.c", "line": 74,
          "function": "is_maxfwd_present", "logprefix": "{1 1 OPTIONS 715678756@192.0.2.20} ",
          "message": "value = 70 " }

    None when the text is not such a document (the CEE variant, flag `U`, is not read).
    """
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("message"), str) or "level" not in doc:
        return None
    body = Body(structured=True)
    level = _str(doc, "level")
    if level:
        body.level = level.strip().lower()[:16] or None
    module = _str(doc, "module") or ""
    body.module = module.strip("<>")[:64]
    body.file = _str(doc, "file")
    body.line = _int(doc, "line")
    body.function = _str(doc, "function") or None
    prefix = (_str(doc, "logprefix") or "").strip()
    body.log_prefix = prefix or None
    body.message = str(doc["message"]).strip()
    body.process_no = _int(doc, "idx")
    body.pid = _int(doc, "pid")
    body.call_id = _str(doc, "callid") or None
    return body


def read_log_prefix(body: Body) -> None:
    """`{$mt $hdr(CSeq) $ci}` (the log_prefix of the Kamailio docs): `{1 102 INVITE <call-id> ...}`; the SIP
    values only where the message named none."""
    if not body.log_prefix:
        return
    prefix = body.log_prefix
    body.vendor["log_prefix"] = prefix
    parts = prefix.strip("{} ").split(" ", 4)
    if len(parts) >= 4 and parts[0] in ("1", "2") and parts[1].isdecimal() and parts[2].isalpha() \
            and parts[2].isupper():
        sip = body.sip
        sip.setdefault("cseq", f"{parts[1]} {parts[2]}")
        sip.setdefault("method", parts[2])
        sip.setdefault("call_id", parts[3])
