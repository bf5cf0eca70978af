"""Value tables the steps share: the manuals' event abbreviations, transport names."""

from __future__ import annotations

# Table "Syslog Error Name Descriptions" of the user's manuals (Mediant 500L/1000/1000B/4000 SBC, 7.x).
ERROR_NAMES: dict[str, str] = {
    "AA": "Invalid Accumulated Packets Counter", "AC": "Invalid Channel ID", "AL": "Invalid Header Length",
    "AO": "Invalid Codec Type", "AP": "Unknown Aggregation Payload Type", "AR": "Invalid Routing Flag Received",
    "AT": "Simple Aggregation Packets Lost", "CC": "Command Checksum Error", "CE": "Invalid Cell Coder Code",
    "CS": "Command Sequence Error", "ES": "8 sec Timeout Before Disconnect", "HO": "Host Received Overrun",
    "IA": "Invalid AMR Payload", "IC": "Invalid CID Error", "IG": "Invalid G723 Code",
    "IP": "Invalid payload length", "IR": "Invalid RTCP Packet", "IS": "Invalid SID Length",
    "LC": "Transmitter Received Illegal Command", "LF": "Lost Fax Frames In High Speed Mode",
    "LM": "Lost Modem Frames In High Speed Mode", "MI": "Misalignment Error", "MR": "Modem Relay Is Not Supported",
    "OR": "DSP JB Overrun", "PH": "Packet Header Error", "PL": "RTP Packet Loss",
    "RB": "Counts the number of BFI Frames Received From The Host", "RD": "No Available Release Descriptor",
    "RO": "RTP Reorder", "RP": "Unknown RTP Payload Type", "RS": "RTP SSRC Error",
    "UF": "Unrecognized Fax Relay Command",
}

# SIP trace transports -> network.transport (TLS rides on TCP; the word itself is kept in uc.vendor)
TRACE_TRANSPORTS = {"UDP": "udp", "TCP": "tcp", "TLS": "tcp", "SCTP": "sctp"}
