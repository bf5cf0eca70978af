"""Reader of the accounting records (CDRs): local CDR CSV rows by documented position, and RADIUS
`Attribute="value"` records by attribute name; both give the attributes by their RADIUS names.

Positions (Oracle SBC Accounting Guide, appendix "Local CDR ... Record" tables; the same in the
S-C6.4 field maps and the 9.0/10.1 tables for these positions): 1-11 are common; Start and Interim
rows go on with setup/connect time, interfaces, realms and the first forward media flow (12-31); Stop
rows add terminate cause, session time, disconnect time and cause first (12-17), then the same (18-35).
Positions after those depend on the release and on `cdr-output-inclusive`, so they are not read; the
same attributes are read by name from the self-describing form.
"""

from __future__ import annotations

import csv
from typing import Final

from ucsiem.parsing import ParseError, split_csv_line

SHOWN = 64
_COMMON: Final = ("Acct-Status-Type", "NAS-IP-Address", "NAS-Port", "Acct-Session-Id",
                  "Acme-Session-Ingress-CallId", "Acme-Session-Egress-CallId", "Acme-Session-Protocol-Type",
                  "Acme-Session-Forked-Call-Id", "Acme-Session-Generic-Id", "Calling-Station-Id",
                  "Called-Station-Id")
_IFACES: Final = ("Acme-Egress-Network-Interface-Id", "Acme-Egress-Vlan-Tag-Value",
                  "Acme-Ingress-Network-Interface-Id", "Acme-Ingress-Vlan-Tag-Value",
                  "Acme-Session-Egress-Realm", "Acme-Session-Ingress-Realm")
_FLOW: Final = ("Acme-FlowID_FS1_F", "Acme-FlowType_FS1_F", "Acme-Flow-In-Realm_FS1_F",
                "Acme-Flow-In-Src-Addr_FS1_F", "Acme-Flow-In-Src-Port_FS1_F", "Acme-Flow-In-Dst-Addr_FS1_F",
                "Acme-Flow-In-Dst-Port_FS1_F", "Acme-Flow-Out-Realm_FS1_F", "Acme-Flow-Out-Src-Addr_FS1_F",
                "Acme-Flow-Out-Src-Port_FS1_F", "Acme-Flow-Out-Dst-Addr_FS1_F", "Acme-Flow-Out-Dst-Port_FS1_F")
START_COLUMNS: Final = (*_COMMON, "h323-setup-time", "h323-connect-time", *_IFACES, *_FLOW)
STOP_COLUMNS: Final = (*_COMMON, "Acct-Terminate-Cause", "Acct-Session-Time", "h323-setup-time",
                       "h323-connect-time", "h323-disconnect-time", "h323-disconnect-cause", *_IFACES, *_FLOW)
LAYOUTS: Final = {"1": START_COLUMNS, "2": STOP_COLUMNS, "3": START_COLUMNS}
STATUS_NAMES: Final = {"start": "1", "stop": "2", "interim-update": "3", "interim": "3"}
RECORD_NAMES: Final = {"1": "Start", "2": "Stop", "3": "Interim"}  # event.code


def is_csv_row(text: str) -> bool:
    head = text[:4].lstrip('"')
    return head[:1] in ("1", "2", "3") and head[1:2] in (",", '"')


def read_csv(text: str) -> dict[str, str]:
    try:
        values = split_csv_line(text)
    except csv.Error as exc:
        raise ParseError("bad_field", f"CDR row is not valid CSV: {str(exc)[:SHOWN]}") from None
    layout = LAYOUTS.get(values[0].strip())
    if layout is None:
        raise ParseError("unsupported_variant", f"unknown Acct-Status-Type {values[0][:16]!r}")
    if len(values) < len(_COMMON):
        raise ParseError("truncated", f"CDR row has {len(values)} fields, at least {len(_COMMON)} expected")
    return {name: value.strip() for name, value in zip(layout, values, strict=False)}


_KEY_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
MAX_KEY = 128


def scan_attributes(text: str) -> dict[str, str]:
    """`Name="value",Name2="v"` -> dict; the first occurrence of a name wins, `\\"` escapes a quote.

    A str-method scanner, linear on any input: each `="` is located once and the name before it is
    read backwards at most MAX_KEY characters (a regex `[chars]+="` is quadratic on a long run of
    name characters without `="`)."""
    out: dict[str, str] = {}
    pos = 0
    while (eq := text.find('="', pos)) >= 0:
        start = eq
        while start > 0 and eq - start < MAX_KEY and text[start - 1] in _KEY_CHARS:
            start -= 1
        key = text[start:eq]
        i = eq + 2
        chunks: list[str] = []
        while True:
            close = text.find('"', i)
            if close < 0:
                return out  # unterminated value: the record ends here
            backslashes = 0
            while close - backslashes - 1 >= i and text[close - backslashes - 1] == "\\":
                backslashes += 1
            chunks.append(text[i:close])
            i = close + 1
            if backslashes % 2 == 0:
                break
            chunks.append('"')
        if key and key not in out:
            out[key] = "".join(chunks).strip()
        pos = i
    return out


def read_named(text: str) -> dict[str, str]:
    attrs = scan_attributes(text)
    status = attrs.get("Acct-Status-Type", "")
    status = STATUS_NAMES.get(status.lower(), status)
    if status not in RECORD_NAMES:
        raise ParseError("unsupported_variant", f"unknown Acct-Status-Type {status[:16]!r}")
    attrs["Acct-Status-Type"] = status
    return attrs
