"""Field numbers (1-based, as Ribbon's "CDR Field Descriptions" count them) of the fields this parser maps.

The positions differ per record type. They come from Ribbon's field reference (the "CDR to VSA
Mapping" page numbers the ATTEMPT fields 2-20 the same way) and a published SBC 5000 field list, and
were checked value by value against the three real records in `shared/samples/ribbon_sonus_sbc/`
(GCID, Calling Name, Ingress/Egress Trunk Group, signalling addresses all land on plausible values).
Only the fields named here are read; every other position is left alone.
"""

from __future__ import annotations

from typing import Final

# Name -> field number. Names are snake_case forms of Ribbon's field names.
START: Final[dict[str, int]] = {
    "gateway_name": 2, "accounting_id": 3, "start_ticks": 4, "node_time_zone": 5,
    "start_date": 6, "start_time": 7, "ticks_to_service_established": 10,
    "service_delivered": 11, "call_direction": 12, "service_provider": 13,
    "calling_number": 15, "called_number": 16, "route_label": 24, "route_attempt_number": 25,
    "route_selected": 26, "egress_local_signaling_ip": 27, "egress_remote_signaling_ip": 28,
    "ingress_trunk_group": 29, "ingress_pvsd": 42, "dialed_number": 50, "egress_trunk_group": 54,
    "egress_pvsd": 55, "gcid": 65, "calling_name": 87,
    "ingress_local_signaling_ip": 102, "ingress_remote_signaling_ip": 103,
}

STOP: Final[dict[str, int]] = {
    "gateway_name": 2, "accounting_id": 3, "start_ticks": 4, "node_time_zone": 5,
    "start_date": 6, "start_time": 7, "ticks_to_service_established": 10,
    "disconnect_date": 11, "disconnect_time": 12, "call_service_duration": 14,
    "call_disconnect_reason": 15, "service_delivered": 16, "call_direction": 17, "service_provider": 18,
    "calling_number": 20, "called_number": 21, "route_label": 29, "route_attempt_number": 30,
    "route_selected": 31, "egress_local_signaling_ip": 32, "egress_remote_signaling_ip": 33,
    "ingress_trunk_group": 34, "ingress_audio_packets_sent": 40, "ingress_audio_packets_received": 42,
    "ingress_pvsd": 52, "dialed_number": 60, "disconnect_initiator": 64,
    "ingress_packets_lost": 65, "ingress_jitter": 66, "egress_trunk_group": 68, "egress_pvsd": 69,
    "ingress_codec": 79, "egress_codec": 80, "gcid": 82, "calling_name": 106,
    "reason_sent_to_ingress": 121, "reason_sent_to_egress": 122,
    "ingress_local_signaling_ip": 125, "ingress_remote_signaling_ip": 126,
}

ATTEMPT: Final[dict[str, int]] = {
    "gateway_name": 2, "accounting_id": 3, "start_ticks": 4, "node_time_zone": 5,
    "start_date": 6, "start_time": 7, "disconnect_time": 10, "call_disconnect_reason": 12,
    "service_delivered": 13, "call_direction": 14, "service_provider": 15,
    "calling_number": 17, "called_number": 18, "route_label": 26, "route_attempt_number": 27,
    "route_selected": 28, "egress_local_signaling_ip": 29, "egress_remote_signaling_ip": 30,
    "ingress_trunk_group": 31, "ingress_pvsd": 45, "dialed_number": 53, "disconnect_initiator": 57,
    "egress_trunk_group": 58, "egress_pvsd": 59, "gcid": 72, "calling_name": 97,
    "disconnect_date": 105, "reason_sent_to_ingress": 111, "reason_sent_to_egress": 112,
    "ingress_local_signaling_ip": 115, "ingress_remote_signaling_ip": 116,
}

LAYOUTS: Final[dict[str, dict[str, int]]] = {"START": START, "STOP": STOP, "ATTEMPT": ATTEMPT}

# Record types Ribbon documents whose field positions this parser does not map: kept as diagnostics.
UNMAPPED_TYPES: Final[frozenset[str]] = frozenset({"INTERMEDIATE", "EVENT", "REBOOT", "SWITCHOVER"})

# Disconnect Initiator values (Ribbon CDR Field Descriptions).
DISCONNECT_INITIATOR: Final[dict[str, str]] = {
    "0": "internal", "1": "calling_party", "2": "called_party", "3": "internal_early",
    "4": "calling_party_early",
}

# Call Disconnect Reason: Q.850 cause values with Ribbon's names ("Call Termination Reason Codes").
REASONS: Final[dict[int, str]] = {
    1: "UNALLOCATED NUMBER", 2: "NO ROUTE TO SPECIFIED NETWORK", 3: "NO ROUTE TO DESTINATION",
    6: "CHANNEL UNACCEPTABLE", 16: "NORMAL ROUTE CLEARING", 17: "USER BUSY", 18: "NO USER RESPONDING",
    19: "NO ANSWER FROM USER", 20: "SUBSCRIBER ABSENT", 21: "CALL REJECTED", 22: "NUMBER CHANGED",
    27: "DESTINATION OUT OF ORDER", 28: "INVALID NUMBER FORMAT", 29: "FACILITY REJECTED",
    31: "NORMAL UNSPECIFIED", 34: "NO CIRCUIT AVAILABLE", 38: "NETWORK OUT OF ORDER",
    41: "TEMPORARY FAILURE", 42: "SWITCHING EQUIPMENT CONGESTION", 44: "REQUESTED CIRCUIT NOT AVAILABLE",
    47: "RESOURCE UNAVAILABLE UNSPECIFIED", 50: "REQUESTED FACILITY NOT SUBSCRIBED",
    55: "INCOMING CALL BARRED CUG", 57: "BEARER CAPABILITY NOT AUTHORIZED",
    58: "BEARER CAPABILITY PRESENTLY NOT AVAILABLE", 63: "SERVICE OR OPTION NOT AVAILABLE UNSPECIFIED",
    65: "BEARER CAPABILITY NOT IMPLEMENTED", 79: "SERVICE OR OPTION NOT IMPLEMENTED UNSPECIFIED",
    88: "INCOMPATIBLE DESTINATION", 95: "INVALID MESSAGE UNSPECIFIED", 102: "RECOVERY ON TIMER EXPIRY",
    111: "PROTOCOL ERROR UNSPECIFIED", 127: "INTERWORKING UNSPECIFIED",
    128: "RESOURCES ALLOCATION FAILURE", 150: "CPC_DISC_NO_PSX_ROUTES", 159: "CPC_DISC_REASON_FORBIDDEN",
    176: "CPC_DISC_TG_AUTH_FAIL", 177: "CPC_DISC_TG_AUTH_FAIL_401_407",
}
