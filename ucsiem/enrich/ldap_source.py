"""Read an LDAP / Active Directory identity source whole: every matching entry, mapped to identity fields.

Blocking I/O (ldap3's synchronous strategy, one connection per fetch): the agent calls fetch_ldap from a thread at
start and at every refresh, and keeps the last good copy when it raises.

Paging uses the Simple Paged Results control (RFC 2696), marked critical: a server that cannot page refuses the
search instead of quietly answering with the first `sizelimit` entries (AD's MaxPageSize of 1000, OpenLDAP's
`sizelimit`). Any error, including one after some pages, raises: a half-read directory would look like users
deleted. Values above AD's MaxValRange (memberOf of someone in 1500+ groups) come back as `memberOf;range=0-1499`;
ldap3 (auto_range, on by default) fetches the rest and merges them under the plain name.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import socket
import ssl
import time
import uuid
import warnings
from typing import Any
from urllib.parse import urlsplit

from ucsiem.enrich.config import LdapSourceConfig
from ucsiem.errors import EnrichmentError

with warnings.catch_warnings():
    # ldap3 2.9.1 (its latest release) imports pyasn1 names that pyasn1 0.6 deprecates (tagMap, typeMap).
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import ANONYMOUS, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import (
        LDAPCertificateError,
        LDAPException,
        LDAPInvalidDnError,
        LDAPInvalidFilterError,
        LDAPStartTLSError,
    )

log = logging.getLogger("ucsiem.enrich")

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
# Binary AD attributes with a standard text form; any other value that is not UTF-8 becomes hex.
GUID_ATTRIBUTES = frozenset({"objectguid", "msexchmailboxguid", "ms-ds-consistencyguid"})
SID_ATTRIBUTES = frozenset({"objectsid"})
# AD's bind diagnostic ("80090308: LdapErr: ..., data 52e, v4563"): the data code says why.
AD_BIND_REASONS = {
    "525": "no such user", "52e": "wrong password", "530": "not permitted to log on at this time",
    "531": "not permitted to log on from this workstation", "532": "password expired",
    "533": "account disabled", "701": "account expired", "773": "password must be changed",
    "775": "account locked out",
}

Record = dict[str, list[str]]


def fetch_ldap(cfg: LdapSourceConfig, password: str | None) -> list[Record]:
    """Every entry matching cfg.filter under cfg.base_dn, read with paged search, mapped through cfg.attributes.

    Each record maps every identity field that has a value to all its values as text, in the order of the
    field's attribute list, without duplicates. Raises EnrichmentError naming the source and the cause.
    """
    source = f"LDAP identity source {cfg.name()}"
    try:
        return _fetch(cfg, password)
    except _Failure as failure:
        raise EnrichmentError(f"{source}: {_scrub(str(failure), password)}") from None
    except Exception as exc:  # a fault inside ldap3: still this source's failure, so the last good copy stays
        raise EnrichmentError(f"{source}: the LDAP client failed ({type(exc).__name__}: "
                              f"{_scrub(str(exc), password)})") from None


def _scrub(message: str, password: str | None) -> str:
    """Belt and braces: no server or library text may carry the password into a log."""
    return message.replace(password, "***") if password and len(password) >= 4 else message


class _Failure(Exception):
    """A cause a person can act on, without the source's name (fetch_ldap adds it)."""


def _fetch(cfg: LdapSourceConfig, password: str | None) -> list[Record]:
    if cfg.bind_dn is not None and not password:
        # RFC 4513 5.1.2: a DN with an empty password is an unauthenticated bind, which servers may accept
        # as anonymous: that would read a different (or empty) directory without saying so.
        raise _Failure(f"the password for {cfg.bind_dn} is empty (password_file)")
    started = time.monotonic()
    conn = _connect(cfg, password)
    try:
        records = _search(cfg, conn)
    finally:
        with contextlib.suppress(LDAPException, OSError):  # the socket may be gone already
            conn.unbind()
    log.debug("%s: %d entries in %.1f s", cfg.name(), len(records), time.monotonic() - started)
    return records


# ---------------------------------------------------------------- connecting

def _connect(cfg: LdapSourceConfig, password: str | None) -> Connection:
    parts = urlsplit(cfg.url)
    host = parts.hostname or ""
    use_ssl = parts.scheme.lower() == "ldaps"
    try:
        port = parts.port or (636 if use_ssl else 389)
    except ValueError:
        raise _Failure(f"{cfg.url} has no valid port") from None
    if not host:
        raise _Failure(f"{cfg.url} names no host")
    tls = None
    if use_ssl or cfg.start_tls:
        # ldap3 checks the name itself after the handshake (its context has check_hostname off); '*' among
        # valid_names accepts any name, which is what check_hostname: false asks for.
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(cfg.tls.ca_file) if cfg.tls.ca_file else None,
                  valid_names=None if cfg.tls.check_hostname else ["*"],
                  sni=None if _is_ip(host) else host)
    server = Server(host, port=port, use_ssl=use_ssl, tls=tls, get_info=NONE, connect_timeout=cfg.timeout_secs)
    conn = Connection(
        server, user=cfg.bind_dn, password=password, authentication=SIMPLE if cfg.bind_dn else ANONYMOUS,
        read_only=True, auto_referrals=False, raise_exceptions=False, return_empty_attributes=False,
        # ldap3 packs the receive timeout as whole seconds (SO_RCVTIMEO): a float would make open() fail.
        receive_timeout=max(1, math.ceil(cfg.timeout_secs)))
    where = f"{parts.scheme.lower()}://{parts.netloc}"
    try:
        conn.open(read_server_info=False)
    except LDAPException as exc:
        what = f"TLS with {where} failed" if _is_tls_failure(exc) else f"cannot reach {where}"
        raise _Failure(f"{what}: {_network_cause(exc, host, cfg)}") from None
    try:
        if cfg.start_tls and not use_ssl:
            try:
                started = conn.start_tls(read_server_info=False)
            except LDAPException as exc:
                raise _Failure(f"StartTLS with {where} failed: {_network_cause(exc, host, cfg)}") from None
            if not started:  # never go on to send the password in clear
                raise _Failure(f"StartTLS with {where} failed: {conn.last_error or 'not started'}")
        try:
            bound = conn.bind(read_server_info=False)
        except LDAPException as exc:
            raise _Failure(f"cannot bind to {where}: {_network_cause(exc, host, cfg)}") from None
        if not bound:
            raise _Failure(_bind_refused(cfg, conn.result or {}))
    except BaseException:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()
        raise
    return conn


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _is_tls_failure(exc: BaseException) -> bool:
    history = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], list) else []
    return isinstance(exc, (ssl.SSLError, LDAPCertificateError)) or any(
        isinstance(each, (ssl.SSLError, LDAPCertificateError)) for each, _address in history)


def _network_cause(exc: BaseException, host: str, cfg: LdapSourceConfig) -> str:
    """What went wrong opening the connection or its TLS layer, in words (ldap3 keeps the original type)."""
    # Several addresses tried (a name with IPv4 and IPv6): ldap3 lists one exception per address.
    history = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], list) else None
    if history:
        causes = [_network_cause(each, host, cfg) for each, _address in history if isinstance(each, BaseException)]
        return "; ".join(dict.fromkeys(causes)) or str(exc)
    text = str(exc)
    if isinstance(exc, LDAPCertificateError):
        return (f"the server's certificate is not valid for {host} (name mismatch: {host} must be among its "
                "subjectAltName entries; connect by a name it holds, or set tls.check_hostname: false)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        match = re.search(r"certificate verify failed: ([^(]+)", text)
        reason = match.group(1).strip() if match else text
        trust = f"tls.ca_file ({cfg.tls.ca_file})" if cfg.tls.ca_file else "the system's CA store (tls.ca_file unset)"
        return (f"the server's certificate is not trusted ({reason}): {trust} must hold the CA that issued it")
    if isinstance(exc, ssl.SSLError):
        match = re.search(r"\[SSL: ([A-Z_]+)\] ([^(]+)", text)
        reason = f"{match.group(2).strip()}, {match.group(1)}" if match else _strip_prefix(text)
        return f"TLS handshake failed ({reason}); does the server speak TLS on this port?"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host} ({_strip_prefix(text)})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {cfg.timeout_secs:g} s"
    if isinstance(exc, LDAPStartTLSError):
        return f"{_strip_prefix(text)} (does the server offer StartTLS on this port?)"
    if text == "invalid server address":  # ldap3: the name resolved to no address
        return f"cannot resolve {host}"
    return _strip_prefix(text)


def _strip_prefix(text: str) -> str:
    """ldap3's 'socket connection error while opening: [Errno 111] Connection refused' -> 'Connection refused'."""
    text = re.sub(r"^(socket [a-z ]+ error[a-z ]*|wrap socket error|startTLS failed)\s*[:-]\s*", "", text)
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text).strip()


def _bind_refused(cfg: LdapSourceConfig, result: dict[str, Any]) -> str:
    description = str(result.get("description") or "refused")
    message = str(result.get("message") or "").strip()
    detail = description
    if code := re.search(r"\bdata ([0-9a-f]{3,4})\b", message):
        detail += f": {AD_BIND_REASONS.get(code.group(1), 'AD reason code ' + code.group(1))}"
    elif message:
        detail += f": {message}"
    who = cfg.bind_dn or "anonymous"
    hint = ""
    if description in ("strongerAuthRequired", "confidentialityRequired"):
        hint = "; the server wants an encrypted connection: use ldaps:// or start_tls: true"
    elif description == "invalidCredentials":
        hint = "; check bind_dn and the password in password_file"
    return f"the directory refused the bind of {who} ({detail}){hint}"


# ---------------------------------------------------------------- searching

def _search(cfg: LdapSourceConfig, conn: Connection) -> list[Record]:
    wanted = list(dict.fromkeys(attr for attrs in cfg.attributes.values() for attr in attrs))
    records: list[Record] = []
    cookie: bytes | None = None
    pages = 0
    while True:
        try:
            conn.search(cfg.base_dn, cfg.filter, search_scope=SUBTREE, attributes=wanted or ["1.1"],
                        paged_size=cfg.page_size, paged_criticality=True, paged_cookie=cookie)
        except LDAPInvalidFilterError as exc:
            raise _Failure(f"invalid filter {cfg.filter!r}: {exc}") from None
        except LDAPInvalidDnError as exc:
            raise _Failure(f"invalid base_dn {cfg.base_dn!r}: {exc}") from None
        except LDAPException as exc:
            raise _Failure(f"the directory stopped answering after {len(records)} entries ({pages} pages): "
                           f"{_network_cause(exc, '', cfg)}") from None
        result: dict[str, Any] = conn.result or {}
        if result.get("result") != 0:
            raise _Failure(_search_failed(cfg, result, len(records)))
        pages += 1
        for response in conn.response or []:
            # searchResRef (AD's continuation references to other partitions) are skipped; so are entries
            # with none of the mapped attributes, which no lookup could find.
            if response.get("type") == "searchResEntry" and (
                    record := map_entry(cfg.attributes, response["raw_attributes"])):
                records.append(record)
        control = (result.get("controls") or {}).get(PAGED_RESULTS_OID)
        if control is None:
            # paged_criticality makes a server without paging fail the search instead; this is a broken answer.
            raise _Failure("the directory answered a paged search without the paged results control")
        cookie = control["value"]["cookie"]
        if not cookie:
            return records


def _search_failed(cfg: LdapSourceConfig, result: dict[str, Any], read: int) -> str:
    description = str(result.get("description") or result.get("result"))
    message = str(result.get("message") or "").strip()
    said = f"{description}: {message}" if message else description
    after = f" after {read} entries" if read else ""
    if description == "noSuchObject":
        matched = str(result.get("dn") or "")
        closest = f"; the closest existing entry is {matched}" if matched else ""
        return f"base_dn {cfg.base_dn} does not exist in the directory ({said}){closest}"
    if description == "invalidDNSyntax":
        return f"base_dn {cfg.base_dn!r} is not a valid DN ({said})"
    if description == "referral":
        where = ", ".join(result.get("referrals") or []) or "another server"
        return f"base_dn {cfg.base_dn} is not held by this server (referral to {where}): point url at that server"
    if description == "sizeLimitExceeded":
        return (f"the directory stopped the search at a size limit{after} ({said}): raise the server's limit on "
                f"paged searches for {cfg.bind_dn or 'anonymous'} (OpenLDAP: size.prtotal in a `limits` line) "
                "or narrow the filter")
    if description == "timeLimitExceeded":
        return f"the directory stopped the search at a time limit{after} ({said})"
    if description == "unavailableCriticalExtension":
        return f"the directory cannot do paged searches ({said})"
    if description == "protocolError" and "filter" in message.lower():
        return f"the directory rejected the filter {cfg.filter!r} ({said})"
    if description == "insufficientAccessRights":
        return f"{cfg.bind_dn or 'anonymous'} may not search {cfg.base_dn} ({said})"
    return f"the search of {cfg.base_dn} with {cfg.filter!r} failed{after} ({said})"


# ---------------------------------------------------------------- mapping

def map_entry(attribute_map: dict[str, list[str]], raw: dict[str, list[bytes]]) -> Record:
    """One entry's raw attribute values -> identity field -> text values (fields without values left out).

    Attribute names match without regard to case (servers answer in their schema's spelling).
    """
    by_name: dict[str, list[bytes]] = {}
    for name, values in raw.items():
        by_name.setdefault(name.lower(), []).extend(values)
    record: Record = {}
    for field, attributes in attribute_map.items():
        texts: dict[str, None] = {}  # ordered set
        for attribute in attributes:
            lower = attribute.lower()
            for value in by_name.get(lower, ()):
                if text := value_text(lower, value):
                    texts[text] = None
        if texts:
            record[field] = list(texts)
    return record


def value_text(attribute: str, value: bytes) -> str:
    """An attribute value as text: GUIDs and SIDs in AD's form, UTF-8 as is, other bytes as hex."""
    if attribute in GUID_ATTRIBUTES and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))  # AD stores GUIDs with the first three fields little-endian
    if attribute in SID_ATTRIBUTES and (sid := _sid_text(value)):
        return sid
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex()


def _sid_text(value: bytes) -> str | None:
    """S-1-5-21-...: revision, count, 48-bit big-endian authority, then `count` 32-bit little-endian parts."""
    if len(value) < 8 or len(value) != 8 + 4 * value[1]:
        return None
    authority = int.from_bytes(value[2:8], "big")
    parts = [int.from_bytes(value[8 + 4 * i:12 + 4 * i], "little") for i in range(value[1])]
    return "-".join(["S", str(value[0]), str(authority), *map(str, parts)])
