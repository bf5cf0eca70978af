"""Alarm names and audit event types -> vendor-neutral actions, and the parameter names the steps read.

Names are Cisco's (System Error Messages / RTMT preconfigured alerts, reference §3.4); the outcome is the
one the alarm itself states, None when it does not. `classify.py` builds its Kinds from these tables;
`body.py` reads them to know which RTMT alerts are logins (their embedded alarm names the user)."""

from __future__ import annotations

# alarm name -> (action, outcome, categories added to the action's defaults)
ALARMS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    # Logins to the platform / administration interfaces and Extension Mobility Cross Cluster
    "AuthenticationFailed": ("admin-login", "failure", ()),
    "EMCCFailedInLocalCluster": ("user-login", "failure", ()),
    "EMCCFailedInRemoteCluster": ("user-login", "failure", ()),
    "InvalidCredentials": ("sip-auth", "failure", ()),
    # Endpoint registration churn
    "EndPointRegistered": ("sip-register", "success", ()),
    "DeviceRegistered": ("sip-register", "success", ()),
    "EndPointUnregistered": ("sip-unregister", None, ()),
    "DeviceUnregistered": ("sip-unregister", None, ()),
    "EndPointTransientConnection": ("sip-register", "failure", ()),
    "DeviceTransientConnection": ("sip-register", "failure", ()),
    # Calls
    "CallAttemptBlockedByPolicy": ("call-reject", "failure", ()),
    "MaliciousCallTrace": ("security-alert", None, ()),
    "CodeYellow": ("license-limit", "failure", ()),
    "CallProcessingNodeCpuPegging": ("license-limit", "failure", ()),  # RTMT alerts: CPU over threshold
    "CpuPegging": ("license-limit", "failure", ()),
    "SignalCongestionEntry": ("license-limit", "failure", ()),
    # Certificates
    "CertExpired": ("certificate", "failure", ()),
    "CertValidLessthanADay": ("certificate", None, ()),
    "CertValidityLessThanMonth": ("certificate", None, ()),
    # Services of the node
    "ServiceStartFailed": ("system-start", "failure", ()),
    "ServiceExceededMaxRestarts": ("system-start", "failure", ()),
    "ServiceFailed": ("system-stop", "failure", ()),
    "ServiceStopFailed": ("system-stop", "failure", ()),
    "CriticalServiceDown": ("system-stop", "failure", ()),
    # Directory data (IM and Presence)
    "DuplicateUserid": ("alarm-raise", None, ("iam",)),
    "RTMT_ALERT": ("alarm-raise", None, ()),
}

# Audit log EventType -> action (reference §3.3: GeneralConfigurationUpdate seen; UserLogging, UserAccess
# from Exabeam's conditions). Unknown event types are administrative actions.
AUDIT_EVENT_TYPES: dict[str, str] = {
    "UserLogging": "admin-login",
    "GeneralConfigurationUpdate": "config-change",
    "UserAccess": "admin-action",
}
AUDIT_OUTCOMES = {"success": "success", "failure": "failure", "failed": "failure"}

LOGIN_ACTIONS = frozenset(("admin-login", "user-login", "sip-auth"))
# RTMT alerts named after a login alarm: their embedded alarm names the user and address
LOGIN_ALERTS = frozenset(name for name, (action, _, _) in ALARMS.items() if action in LOGIN_ACTIONS)

# Parameters that name the user, the remote address, the device; the first one present wins.
# (`Login UserID`, `Login IP Address/Hostname`: the AuthenticationFailed alarm's parameters, keys compared
# without blanks)
USER_KEYS = ("UserID", "UserId", "User", "UserName", "LoginUserID")
ADDRESS_KEYS = ("ClientAddress", "IPAddress", "IPv4Address", "IPV4Address", "IPv6Address", "IPV6Address",
                "LoginIPAddress/Hostname")
