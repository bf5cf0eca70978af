"""`key=value` payloads written by the operator's `xlog()` lines, scanned generically.

    xlog("L_NOTICE", "event=sip-register outcome=failure src_ip=$si src_port=$sp user=$fU method=$rm
          code=401 reason=Unauthorized call_id=$ci\n");

Values run to the next blank, or are quoted (`reason="Not Found"`, `'...'`, backslash escapes in double
quotes); an unterminated quote runs to the end of the line. Keys are matched case-insensitively with `-`
read as `_`. Values Kamailio prints for unset variables (`<null>`) and empty ones are dropped.

The scanner looks at every character once (an unterminated quote ends the scan), so it is linear on
any input. A message counts as a payload when it has an `event`/`action` key, or when it is made only
of pairs (at least two).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ucsiem.parsing.helpers import to_port

from .body import Body
from .values import NULLS, VOCABULARY, set_ip, set_transport, uri_user

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]{0,63})=")
_DQ = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
_SQ = re.compile(r"'([^']*)'")
_BARE = re.compile(r"[^ \t]*")
_BLANKS = re.compile(r"[ \t]*")
_ESCAPE = re.compile(r"\\(.)")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}:?")
MAX_PAIRS = 256

_SUCCESS = frozenset(("success", "succeeded", "ok", "accepted", "allowed", "allow", "authorized", "passed", "true"))
_FAILURE = frozenset(("failure", "fail", "failed", "error", "denied", "deny", "rejected", "reject", "refused",
                      "blocked", "unauthorized", "forbidden", "false"))


def scan(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(pairs in order, free-text words) of a message."""
    pairs: list[tuple[str, str]] = []
    free: list[str] = []
    pos = 0
    n = len(text)
    while pos < n and len(pairs) < MAX_PAIRS:
        blanks = _BLANKS.match(text, pos)
        pos = blanks.end() if blanks is not None else pos
        if pos >= n:
            break
        m = _KEY.match(text, pos)
        if m is None:
            word = _BARE.match(text, pos)
            end = word.end() if word is not None and word.end() > pos else pos + 1
            free.append(text[pos:end])
            pos = end
            continue
        key = m.group(1)
        at = m.end()
        quote = text[at:at + 1]
        if quote == '"':
            q = _DQ.match(text, at)
            if q is None:  # unterminated: the rest of the line is the value
                pairs.append((key, text[at + 1:]))
                break
            value = q.group(1)
            pairs.append((key, _ESCAPE.sub(r"\1", value) if "\\" in value else value))
            pos = q.end()
        elif quote == "'":
            q = _SQ.match(text, at)
            if q is None:
                pairs.append((key, text[at + 1:]))
                break
            pairs.append((key, q.group(1)))
            pos = q.end()
        else:
            v = _BARE.match(text, at)
            end = v.end() if v is not None else at
            pairs.append((key, text[at:end]))
            pos = end
    return pairs, free


def norm_key(key: str) -> str:
    return key.lower().replace("-", "_")


_norm = norm_key


def is_payload(pairs: list[tuple[str, str]], free: list[str]) -> bool:
    for k, _ in pairs:  # a loop: `any` of a generator left unfinished throws GeneratorExit into it
        if _norm(k) in ("event", "action"):
            return True
    return not free and len(pairs) >= 2


def leading_word(text: str, pairs: list[tuple[str, str]], free: list[str]) -> str | None:
    """`AUTH_FAILED method=REGISTER src_ip=...`: the one word before the pairs, when the rest is only pairs
    and there is no `event`/`action` key (that one names the event itself)."""
    if len(free) != 1 or not pairs or not _WORD.fullmatch(free[0]) or not text.lstrip().startswith(free[0]):
        return None
    if any(_norm(k) in ("event", "action") for k, _ in pairs):
        return None
    return free[0]


def outcome_word(value: str) -> str:
    low = value.strip().lower()
    if low in _SUCCESS:
        return "success"
    if low in _FAILURE:
        return "failure"
    return "unknown"


def action_word(value: str) -> str | None:
    word = value.strip().lower().replace("_", "-")
    return word if word in VOCABULARY else None


# key -> handler(draft, original key, value); value already trimmed and not a null marker
Handler = Callable[[Body, str, str], None]


def _event(d: Body, key: str, value: str) -> None:
    d.code = value
    action = action_word(value)
    if action is not None:
        d.action = action


def _outcome(d: Body, key: str, value: str) -> None:
    d.outcome = outcome_word(value)


def _endpoint_ip(side: str) -> Handler:
    def handler(d: Body, key: str, value: str) -> None:
        set_ip(getattr(d, side), value)
    return handler


def _endpoint_port(side: str) -> Handler:
    def handler(d: Body, key: str, value: str) -> None:
        p = to_port(value, d.tags)
        if p is None:  # not a port: tagged bad_port, the value kept as written
            d.vendor[key] = value
        else:
            getattr(d, side)["port"] = p
    return handler


def _endpoint_user(side: str, part: str) -> Handler:
    def handler(d: Body, key: str, value: str) -> None:
        getattr(d, side).setdefault("user", {})[part] = value
    return handler


def _user(d: Body, key: str, value: str) -> None:
    d.user["name"] = value


def _from_user(d: Body, key: str, value: str) -> None:
    d.source.setdefault("user", {})["name"] = value


def _domain(d: Body, key: str, value: str) -> None:
    d.user["domain"] = value


def _sip(field: str) -> Handler:
    def handler(d: Body, key: str, value: str) -> None:
        d.sip[field] = value
    return handler


def _method(d: Body, key: str, value: str) -> None:
    d.sip["method"] = value.upper()


def _code(d: Body, key: str, value: str) -> None:
    if value.isascii() and value.isdecimal() and len(value) <= 3:
        d.sip["status_code"] = int(value)
    else:
        d.vendor[key] = value


def _reason(d: Body, key: str, value: str) -> None:
    d.reason = value


def _cause(d: Body, key: str, value: str) -> None:
    d.call["disconnect_cause"] = value


def _ua(d: Body, key: str, value: str) -> None:
    d.sip["user_agent"] = value
    d.user_agent = value


def _transport(d: Body, key: str, value: str) -> None:
    set_transport(d.network, d.vendor, value)


def _aor(d: Body, key: str, value: str) -> None:
    d.registration["aor"] = value


def _expires(d: Body, key: str, value: str) -> None:
    if value.isascii() and value.isdecimal() and len(value) <= 9:
        d.registration["expires"] = int(value)
    else:
        d.vendor[key] = value


def _duration(d: Body, key: str, value: str) -> None:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if 0 <= seconds < 10_000_000:  # also rejects nan and inf
        d.duration = seconds
    else:
        d.vendor[key] = value


def _call(field: str) -> Handler:
    def handler(d: Body, key: str, value: str) -> None:
        d.call[field] = value
    return handler


def _direction(d: Body, key: str, value: str) -> None:
    low = value.lower()
    if low in ("inbound", "outbound", "internal"):
        d.call["direction"] = low
    else:
        d.vendor[key] = value


KEYS: dict[str, Handler] = {
    "event": _event, "action": _event,
    "outcome": _outcome, "result": _outcome,
    "src_ip": _endpoint_ip("source"), "source_ip": _endpoint_ip("source"),
    "src_port": _endpoint_port("source"), "source_port": _endpoint_port("source"),
    "dst_ip": _endpoint_ip("destination"), "destination_ip": _endpoint_ip("destination"),
    "dst_port": _endpoint_port("destination"), "destination_port": _endpoint_port("destination"),
    "user": _user, "username": _user, "auth_user": _user,
    "from_user": _from_user, "from_domain": _endpoint_user("source", "domain"),
    "to_user": _endpoint_user("destination", "name"), "to_domain": _endpoint_user("destination", "domain"),
    "domain": _domain, "realm": _domain,
    "from": _sip("from_uri"), "from_uri": _sip("from_uri"),
    "to": _sip("to_uri"), "to_uri": _sip("to_uri"),
    "ruri": _sip("request_uri"), "r_uri": _sip("request_uri"), "request_uri": _sip("request_uri"),
    "contact": _sip("contact"), "cseq": _sip("cseq"),
    "call_id": _sip("call_id"), "callid": _sip("call_id"),
    "method": _method,
    "code": _code, "status": _code, "status_code": _code,
    "reason": _reason, "reason_phrase": _reason,
    "cause": _cause, "disconnect_cause": _cause,
    "ua": _ua, "user_agent": _ua,
    "transport": _transport, "proto": _transport,
    "aor": _aor, "expires": _expires, "duration": _duration,
    "caller": _call("caller"), "callee": _call("callee"), "direction": _direction,
    # names operators commonly use, after Kamailio's pseudo-variables ($si $sp $au $fu $tu $ru $ci $rm $ua)
    "srcip": _endpoint_ip("source"), "si": _endpoint_ip("source"), "ip": _endpoint_ip("source"),
    "sp": _endpoint_port("source"), "srcport": _endpoint_port("source"),
    "au": _user, "authuser": _user,
    "fu": _sip("from_uri"), "tu": _sip("to_uri"), "ru": _sip("request_uri"),
    "ci": _sip("call_id"), "rm": _method,
}

# schema field -> handler, for the `keys` parser option (options.py)
TARGETS: dict[str, Handler] = {
    "event.action": _event, "event.outcome": _outcome, "event.reason": _reason, "event.duration": _duration,
    "source.ip": _endpoint_ip("source"), "source.port": _endpoint_port("source"),
    "destination.ip": _endpoint_ip("destination"), "destination.port": _endpoint_port("destination"),
    "user.name": _user, "user.domain": _domain,
    "source.user.name": _from_user, "source.user.domain": _endpoint_user("source", "domain"),
    "destination.user.name": _endpoint_user("destination", "name"),
    "destination.user.domain": _endpoint_user("destination", "domain"),
    "uc.sip.from_uri": _sip("from_uri"), "uc.sip.to_uri": _sip("to_uri"),
    "uc.sip.request_uri": _sip("request_uri"), "uc.sip.contact": _sip("contact"), "uc.sip.cseq": _sip("cseq"),
    "uc.sip.call_id": _sip("call_id"), "uc.sip.method": _method, "uc.sip.status_code": _code,
    "uc.sip.user_agent": _ua, "user_agent.original": _ua,
    "uc.call.disconnect_cause": _cause, "uc.call.caller": _call("caller"), "uc.call.callee": _call("callee"),
    "uc.call.direction": _direction, "network.transport": _transport,
    "uc.registration.aor": _aor, "uc.registration.expires": _expires,
}


def apply(d: Body, pairs: list[tuple[str, str]], handlers: dict[str, Handler] | None = None) -> None:
    """Map the recognised keys (`handlers`: the built-in table, or the one the parser options extend);
    everything else goes to `uc.vendor` under the key as written."""
    keys = KEYS if handlers is None else handlers
    seen: set[str] = set()
    for key, raw in pairs:
        value = raw.strip()
        if value.lower() in NULLS:
            continue
        norm = _norm(key)
        handler = keys.get(norm)
        if norm in seen or handler is None:
            previous = d.vendor.get(key)
            if previous is None:
                d.vendor[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                d.vendor[key] = [str(previous), value]
            continue
        seen.add(norm)
        handler(d, key, value)
    _complete(d)


def _complete(d: Body) -> None:
    """Fields implied by others: outcome from the SIP code, users from URIs, the causes of the call events
    and the bindings of the registrations the line states. The SIP Call-ID stays `uc.sip.call_id`: it is
    not copied to `uc.call.id` (parsers/README.md, "Call ids")."""
    sip = d.sip
    code: int | None = sip.get("status_code")
    if code is not None and d.reason:
        sip["reason_phrase"] = d.reason  # the reason phrase of that SIP status
    if d.outcome is None and code is not None:
        if 200 <= code < 300:
            d.outcome = "success"
        elif code >= 300 and code not in (401, 407):  # a challenge alone is not a failure
            d.outcome = "failure"
    if "from_uri" in sip:
        uri_user(d.source, sip["from_uri"])
    if "to_uri" in sip:
        uri_user(d.destination, sip["to_uri"])
    if "name" not in d.user and (name := d.source.get("user", {}).get("name")):
        d.user["name"] = name
    if d.reason and d.action in ("call-end", "call-reject"):
        d.call.setdefault("disconnect_cause", d.reason)
    if d.action in ("sip-register", "sip-unregister"):
        if "contact" in sip:
            d.registration.setdefault("contact", sip["contact"])
        if "to_uri" in sip:
            d.registration.setdefault("aor", sip["to_uri"])
