"""Operation -> a `Kind`, from the shared CATEGORISATION table.

Operation names: Microsoft Purview "Search the audit log for events in Microsoft Teams" (Teams
activities table), the Office 365 Management Activity API schema (Azure AD STS logon, Exchange), and
the Elastic o365 fixtures. An operation not listed here is a `diagnostic` event with the operation in
`event.code`: it is kept, not lost, and can be promoted here when it matters. The outcome is the
record's ResultStatus where it says one, else the operation's; an Azure AD sign-in fails when it has a
LogonError (its ResultStatus is about the HTTP exchange).
"""

from __future__ import annotations

from ucsiem.parsing import Kind, kind

from .body import AAD_LOGONS, Body

_LOGIN = kind("user-login", "success")
LOGINS = {
    "TeamsSessionStarted": _LOGIN,  # sign-in to a Teams client
    "UserLoggedIn": _LOGIN,  # Azure AD STS (RecordType 15)
    "UserLoginFailed": kind("user-login", "failure"),
    "MailboxLogin": _LOGIN,  # Exchange mailbox audit
}
_CREATED = kind("config-change", type=("creation",))
_DELETED = kind("config-change", type=("deletion",))
_CHANGED = kind("config-change")
CONFIG = {
    **{op: _CREATED for op in (
        "TeamCreated", "ChannelAdded", "AppInstalled", "AppPublishedToCatalog", "BotAddedToTeam",
        "ConnectorAdded", "TabAdded", "SensitivityLabelApplied", "SharingRestored")},
    **{op: _DELETED for op in (
        "TeamDeleted", "ChannelDeleted", "AppUninstalled", "AppDeletedFromCatalog", "DeletedAllOrganizationApps",
        "BotRemovedFromTeam", "ConnectorRemoved", "TabRemoved", "SensitivityLabelRemoved", "TerminatedSharing")},
    **{op: _CHANGED for op in (
        "TeamSettingChanged", "ChannelSettingChanged", "TeamsTenantSettingChanged", "TeamsAdminAction",
        "AppUpgraded", "AppUpdatedInCatalog", "ConnectorUpdated", "TabUpdated", "SensitivityLabelChanged")},
}
# Team, channel and group-chat membership: the members are the targets (`Members`).
_MEMBERSHIP = kind("account-change", type=("group", "change"))
MEMBERSHIP = {op: _MEMBERSHIP for op in ("MemberAdded", "MemberRemoved", "MemberRoleChanged")}
_CHAT = {what: kind("chat-message", "success", type=(what,)) for what in ("creation", "change", "deletion", "access")}
CHAT = {
    **{op: _CHAT["creation"] for op in ("MessageSent", "MessageCreatedHasLink", "ChatCreated")},
    **{op: _CHAT["change"] for op in ("MessageUpdated", "MessageEditedHasLink", "ChatUpdated")},
    "MessageDeleted": _CHAT["deletion"],
    # Reads and exports through Microsoft Graph (logged only for API access): who pulled which messages.
    **{op: _CHAT["access"] for op in ("MessageRead", "MessagesListed", "MessagesExported", "ChatRetrieved",
                                      "MessageHostedContentRead", "MessageHostedContentsListed")},
}
MEETINGS = {
    "MeetingDetail": kind("conference-end", "success"),
    "MeetingParticipantDetail": kind("conference-join", "success"),
}
OPERATIONS: dict[str, Kind] = {**LOGINS, **CONFIG, **MEMBERSHIP, **CHAT, **MEETINGS}
DIAGNOSTIC = kind("diagnostic")

# ResultStatus values (schema: Succeeded, PartiallySucceeded, Failed; Exchange admin: True/False;
# Azure AD: Success/Failure are seen too).
RESULT_OUTCOME = {"succeeded": "success", "success": "success", "true": "success",
                  "failed": "failure", "failure": "failure", "false": "failure",
                  "partiallysucceeded": "unknown"}
# every Kind with each outcome a record can give it, built once
_WITH_OUTCOME: dict[tuple[Kind, str], Kind] = {
    (found, outcome): found._replace(outcome=outcome)
    for found in (*OPERATIONS.values(), DIAGNOSTIC) for outcome in ("success", "failure", "unknown")
}


def classify(body: Body) -> Kind:
    found = OPERATIONS.get(body.operation, DIAGNOSTIC)
    outcome = RESULT_OUTCOME.get((body.status or "").lower()) if body.operation not in AAD_LOGONS else None
    if body.sign_in and body.logon_error:
        outcome = "failure"
    return _WITH_OUTCOME[(found, outcome)] if outcome else found
