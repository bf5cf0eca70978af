"""Alarm names -> vendor-neutral actions. Names are Cisco's (System Error Messages / RTMT preconfigured
alerts, reference §3.4); the outcome is the one the alarm itself states, None when it does not."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    action: str
    outcome: str | None = None
    category: tuple[str, ...] = ()  # added to the action's default categories


ALARMS: dict[str, Kind] = {
    # Logins to the platform / administration interfaces and Extension Mobility Cross Cluster
    "AuthenticationFailed": Kind("admin-login", "failure"),
    "EMCCFailedInLocalCluster": Kind("user-login", "failure"),
    "EMCCFailedInRemoteCluster": Kind("user-login", "failure"),
    "InvalidCredentials": Kind("sip-auth", "failure"),
    # Endpoint registration churn
    "EndPointRegistered": Kind("sip-register", "success"),
    "DeviceRegistered": Kind("sip-register", "success"),
    "EndPointUnregistered": Kind("sip-unregister"),
    "DeviceUnregistered": Kind("sip-unregister"),
    "EndPointTransientConnection": Kind("sip-register", "failure"),
    "DeviceTransientConnection": Kind("sip-register", "failure"),
    # Calls
    "CallAttemptBlockedByPolicy": Kind("call-reject", "failure"),
    "MaliciousCallTrace": Kind("security-alert"),
    "CodeYellow": Kind("license-limit", "failure"),
    "CallProcessingNodeCpuPegging": Kind("license-limit", "failure"),  # RTMT alerts: CPU over threshold
    "CpuPegging": Kind("license-limit", "failure"),
    "SignalCongestionEntry": Kind("license-limit", "failure"),
    # Certificates
    "CertExpired": Kind("certificate", "failure"),
    "CertValidLessthanADay": Kind("certificate"),
    "CertValidityLessThanMonth": Kind("certificate"),
    # Services of the node
    "ServiceStartFailed": Kind("system-start", "failure"),
    "ServiceExceededMaxRestarts": Kind("system-start", "failure"),
    "ServiceFailed": Kind("system-stop", "failure"),
    "ServiceStopFailed": Kind("system-stop", "failure"),
    "CriticalServiceDown": Kind("system-stop", "failure"),
    # Directory data (IM and Presence)
    "DuplicateUserid": Kind("alarm-raise", None, ("iam",)),
    "RTMT_ALERT": Kind("alarm-raise"),
}

# Audit log EventType -> action (reference §3.3: GeneralConfigurationUpdate seen; UserLogging, UserAccess
# from Exabeam's conditions). Unknown event types are administrative actions.
AUDIT_EVENT_TYPES: dict[str, str] = {
    "UserLogging": "admin-login",
    "GeneralConfigurationUpdate": "config-change",
    "UserAccess": "admin-action",
}


def classify(name: str, severity: int) -> Kind:
    """The kind of an alarm; unknown ones are `alarm-raise` at warning or worse, else `diagnostic`."""
    kind = ALARMS.get(name)
    if kind is not None:
        return kind
    if name.startswith("Cert"):
        return Kind("certificate")
    return Kind("alarm-raise") if severity <= 4 else Kind("diagnostic")
