"""Two defects of the syslog input that the issue-10 tests found (both failed at 3351084, fixed since).

1. Refused TLS handshakes are counted per listener (`tls_failures`) and logged with the peer. asyncio's own
server-side handshake (`start_server(..., ssl=context)`) closed a failed connection before the connection
callback ran and logged nothing outside debug mode; the input now does the handshake itself (loop.start_tls).

2. An RFC 5424 message relayed by rsyslog from an RFC 3164 one is filed with one space after the tag, as
rsyslog files it: rsyslog keeps the space after `TAG:` in MSG (`probe: probe 2` -> MSG ` probe 2`) and
sends it as is in RFC 5424 (`RSYSLOG_SyslogProtocol23Format`, test_syslog_forwarders.py); its own file
template (`RSYSLOG_FileFormat`: `%syslogtag%%msg:::sp-if-no-1st-sp%%msg%`) adds a space only when MSG does
not start with one. The parser got `probe:  probe 2` (two spaces) before.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from tests.agenthelp import events, start, stop, wait_for
from tests.pipeline.syslogtls import HOST, Certs, make_certs, octet_counted
from tests.pipeline.test_syslog_tls import client_context, config, free_port, marker, refused, send_tls, stopped_stats


def test_refused_handshakes_are_counted_per_listener(tmp_path: Path) -> None:
    certs: Certs = make_certs(tmp_path / "tls")
    server_only, mutual = free_port(), free_port()
    proc = start(config(tmp_path, certs, server_only, mutual))
    wait_for(lambda: "Syslog listeners up" in (tmp_path / "agent.log").read_text(), timeout=60, what="the listeners")
    tls11 = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    refused(mutual, client_context(certs), octet_counted([marker("no-certificate")]))
    refused(mutual, client_context(certs, cert=(certs.rogue_chain, certs.rogue_key)), octet_counted([marker("rogue")]))
    refused(server_only, client_context(certs, versions=tls11), octet_counted([marker("tls11")]))
    send_tls(mutual, client_context(certs, cert=(certs.client_chain, certs.client_key)),
             octet_counted([marker("allowed")]))
    wait_for(lambda: len(events(tmp_path)) >= 1, timeout=60, what="the allowed sender's message")
    stop(proc)

    listeners = stopped_stats(tmp_path)["syslog"]["net"]
    assert listeners[f"tls://{HOST}:{mutual}"]["tls_failures"] == 2, listeners
    assert listeners[f"tls://{HOST}:{server_only}"]["tls_failures"] == 1, listeners
    assert listeners[f"tls://{HOST}:{mutual}"]["connections"] == 1, listeners


def test_rfc5424_from_an_rsyslog_relay_is_filed_with_one_space_after_the_tag() -> None:
    from datetime import UTC, datetime

    from ucsiem.inputs.syslog_message import parse_syslog

    sent = b"<134>1 2024-05-14T09:00:00+00:00 expc01 tvcs - - -  Event=\"Registration Requested\" Level=\"1\""
    msg = parse_syslog(sent, received=datetime(2024, 5, 14, tzinfo=UTC), peer=HOST)
    assert msg.line == '2024-05-14T09:00:00+00:00 expc01 tvcs: Event="Registration Requested" Level="1"'
