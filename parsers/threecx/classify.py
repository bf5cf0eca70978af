"""3CX message families to a `Kind` (category, type and default outcome from the shared `CATEGORISATION`,
refined where 3CX says more). Pure."""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import (
    AUTH_FAILED,
    EMERGENCY_CALL,
    LINE_REGISTERED,
    REGISTERED,
    SERVICE_STARTED,
    SERVICE_STOP,
    TRUNK_STATUS,
    UNREGISTERED,
    Body,
)

REGISTER_OK = kind("sip-register", "success", add_type=("allowed",))
KINDS: dict[str, Kind] = {
    REGISTERED: REGISTER_OK,
    UNREGISTERED: kind("sip-unregister", "success", add_type=("end",)),
    LINE_REGISTERED: REGISTER_OK,  # the PBX's own trunk registration
    SERVICE_STARTED: kind("system-start"),
    SERVICE_STOP: kind("system-stop"),
    EMERGENCY_CALL: kind("call-attempt"),
    TRUNK_STATUS: kind("diagnostic"),
}
# CM102001: a failed REGISTER is a registration refused for its credentials; any other request a SIP
# authentication failure
REGISTER_DENIED = kind("sip-register", "failure", category=("authentication", "network"), add_type=("denied",))
AUTH_DENIED = kind("sip-auth", "failure", add_type=("denied",))


def classify(body: Body) -> Kind:
    if body.family == AUTH_FAILED:
        return REGISTER_DENIED if body.method == "REGISTER" else AUTH_DENIED
    return KINDS[body.family]
