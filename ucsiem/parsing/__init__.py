"""The public API of parser plugins: everything a plugin imports from ucsiem, it imports from here.

    from ucsiem.parsing import Framing, ParseContext, ParsedEvent, ParseError, ParserSpec, RawRecord

A plugin (built-in under `parsers/`, an entry point or a folder) imports `ucsiem.parsing` and nothing
else of ucsiem, and never another plugin: what two plugins share lives here. The names below are the
contract; the modules they come from may move. `tests/parsers/test_plugin_imports.py` enforces it on
every built-in and on the `ucsiem parsers new` template. The groups:

The contract (`contract.py`, `ucsiem.errors`)
    `ParserSpec` (the one thing a plugin exports, as `PARSER`), `Framing` (how the byte stream is cut
    into records), `RawRecord` (one framed record), `ParseContext` (timezone, reference time, options,
    header lines), `ParsedEvent` (the nested dict a parser returns), `ParseError(code, message)` and
    its codes (`ParseErrorCode`, `PARSE_ERROR_CODES`): what `parse` raises for a record it cannot read.

The event vocabulary (`ucsiem.schema.actions`)
    `ACTIONS` (the vendor-neutral `event.action` names and what they mean), `EventAction` (the same as
    a type), `CATEGORISATION`/`Categorisation` (the ECS category, type and default outcome of each
    action: take them from here instead of writing them by hand, so every parser agrees).

Field helpers (`helpers.py`)
    Pure, linear-time building blocks for hostile input: `canonical_ip`, `split_uri_user`, `split_upn`,
    `parse_kv_quoted`, `split_csv_line` (one CSV line as the csv module reads it, faster), `parse_iso_time`,
    `to_int`, `to_port` (a port, or the tag `BAD_PORT` when the value is not one), `prune` (drop empty
    values from an event), `present` and `add_group` (write an event group by group without empty values,
    instead of pruning it whole), and the syslog priority tables and normalisers `SYSLOG_FACILITIES`,
    `SYSLOG_SEVERITIES`, `syslog_facility`, `syslog_severity`, and `structured_data_end` (where RFC 5424
    structured data ends).

Classification (`kinds.py`)
    `Kind` (what a classifier returns: action, category, type, outcome, ECS kind), `kind(action, outcome,
    add_type=...)` (a Kind from `CATEGORISATION`, refined) and `kind_fields` (the `event` members it sets).
Syslog and SIP values (`syslog.py`, `sip.py`)
    `priority_fields` (a `<PRI>` as `log.syslog` members), `syslog_header_fields` (`log.syslog`,
    `observer.hostname`, `process` from the parts of an RFC 3164 header), `add_envelope_groups` (those groups
    and `log.level`/`log.logger` set on an event only when they have members), `sip_params` (`;`-separated,
    optionally quoted parameters) and `name_addr` (`"Bob" <sip:bob@example.com>;tag=1` -> URI and tag).
Time stamps (`stamps.py`)
    One rule for year-less syslog dates and ISO 8601: `with_year`, `bsd_time`, `iso_time`, `build_time`,
    `month_number`, `fraction_micro`, `utc_offset`, the patterns `ISO_STAMP`, `BSD_STAMP`, and `MONTHS`,
    `YEAR_SLACK` (the clock skew a year-less stamp may be ahead by). The module itself is exported as
    `stamps` for plugins that read better with `stamps.with_year(...)`.

JSON sources (`jsonrecords.py`, `jsonvalues.py`)
    `JSON_FRAMING` and `json_documents` turn NDJSON, arrays and API envelopes into objects;
    `jsonvalues` is exported as a module (`jsonvalues.text(obj, "key")`, `jsonvalues.sub`, `.objects`,
    `.integer`, `.number`, `.flag`, `.scalar`, `.strings`, `.utc_time`, `.zoned_time`, `.epoch_ms`,
    `.duration_seconds`, `.duration_ns`): typed reads where a field of the wrong type is absent.

SIP proxies of the SER family (`sipproxy/`)
    The Kamailio and OpenSIPS parsers are one code with two flavours: `parse_sip_proxy_line(record, ctx,
    flavour)` parses one line of either product, `XlogOptions` is their parser options model (the
    operator's own xlog event words and key names).

The agent itself imports this package too (plugin discovery is `ucsiem.parsing.registry`, not part of
this API); nothing here imports the pipeline, inputs or outputs, so importing it cannot cycle.
"""

from ucsiem.errors import PARSE_ERROR_CODES, ParseError, ParseErrorCode
from ucsiem.parsing import jsonvalues, stamps
from ucsiem.parsing.contract import Framing, ParseContext, ParsedEvent, ParserSpec, RawRecord
from ucsiem.parsing.helpers import (
    BAD_PORT,
    SYSLOG_FACILITIES,
    SYSLOG_SEVERITIES,
    add_group,
    canonical_ip,
    parse_iso_time,
    parse_kv_quoted,
    present,
    prune,
    split_csv_line,
    split_upn,
    split_uri_user,
    structured_data_end,
    syslog_facility,
    syslog_severity,
    to_int,
    to_port,
)
from ucsiem.parsing.jsonrecords import JSON_FRAMING, json_documents
from ucsiem.parsing.kinds import Kind, kind, kind_fields
from ucsiem.parsing.sip import name_addr, sip_params
from ucsiem.parsing.sipproxy import XlogOptions, parse_sip_proxy_line
from ucsiem.parsing.stamps import (
    BSD_STAMP,
    ISO_STAMP,
    MONTHS,
    YEAR_SLACK,
    bsd_time,
    build_time,
    fraction_micro,
    iso_time,
    month_number,
    utc_offset,
    with_year,
)
from ucsiem.parsing.syslog import add_envelope_groups, priority_fields, syslog_header_fields
from ucsiem.schema.actions import ACTIONS, CATEGORISATION, Categorisation, EventAction

__all__ = [  # noqa: RUF022 - grouped as in the docstring, sorted within each group
    # the contract
    "PARSE_ERROR_CODES",
    "Framing",
    "ParseContext",
    "ParseError",
    "ParseErrorCode",
    "ParsedEvent",
    "ParserSpec",
    "RawRecord",
    # the event vocabulary
    "ACTIONS",
    "CATEGORISATION",
    "Categorisation",
    "EventAction",
    # field helpers
    "BAD_PORT",
    "SYSLOG_FACILITIES",
    "SYSLOG_SEVERITIES",
    "add_group",
    "canonical_ip",
    "parse_iso_time",
    "parse_kv_quoted",
    "present",
    "prune",
    "split_csv_line",
    "split_upn",
    "split_uri_user",
    "structured_data_end",
    "syslog_facility",
    "syslog_severity",
    "to_int",
    "to_port",
    # classification
    "Kind",
    "kind",
    "kind_fields",
    # syslog and SIP values
    "add_envelope_groups",
    "name_addr",
    "priority_fields",
    "sip_params",
    "syslog_header_fields",
    # time stamps
    "BSD_STAMP",
    "ISO_STAMP",
    "MONTHS",
    "YEAR_SLACK",
    "bsd_time",
    "build_time",
    "fraction_micro",
    "iso_time",
    "month_number",
    "stamps",
    "utc_offset",
    "with_year",
    # JSON sources
    "JSON_FRAMING",
    "json_documents",
    "jsonvalues",
    # SIP proxies of the SER family
    "XlogOptions",
    "parse_sip_proxy_line",
]
