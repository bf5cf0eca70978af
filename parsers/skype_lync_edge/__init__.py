"""Microsoft Skype for Business / Lync Server Edge: SIPStack trace records exported by CLS, OCSLogger or Snooper."""

from ucsiem.parsing import Framing, ParserSpec

from .header import FIRST_LINE_PATTERN
from .parser import parse

PARSER = ParserSpec(
    id="skype_lync_edge",
    version="1.0.0",
    description="Skype for Business / Lync Server (Edge) SIPStack traces as text (CLS Search-CsClsLogging, "
                "OCSLogger/TraceFmt, Snooper): multi-line protocol records (each SIP message with its "
                "direction, peer, headers and ms-diagnostics) and diagnostic records (Result-Code "
                "failures: routing refusals, certificate mismatches, TLS errors).",
    vendor="Microsoft",
    product="Skype for Business Server",
    observer_type="proxy",
    dataset="microsoft.sfb_sipstack",
    framing=Framing(kind="multiline", first_line_pattern=FIRST_LINE_PATTERN, max_lines=1000,
                    max_bytes=262_144, flush_timeout_secs=2.0),
    parse=parse,
)
