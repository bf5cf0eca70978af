"""Operation -> `event.action` and ECS categorisation.

Operation names: Microsoft Purview "Search the audit log for events in Microsoft Teams" (Teams
activities table), the Office 365 Management Activity API schema (Azure AD STS logon, Exchange), and
the Elastic o365 fixtures. An operation not listed here is a `diagnostic` event with the operation in
`event.code`: it is kept, not lost, and can be promoted here when it matters.
"""

from __future__ import annotations

from typing import NamedTuple


class Mapping(NamedTuple):
    action: str
    category: tuple[str, ...]
    type: tuple[str, ...]
    outcome: str | None  # when ResultStatus says nothing


_AUTH = ("authentication",)
_CONFIG = ("configuration",)

LOGINS = {
    "TeamsSessionStarted": Mapping("user-login", _AUTH, ("start",), "success"),  # sign-in to a Teams client
    "UserLoggedIn": Mapping("user-login", _AUTH, ("start",), "success"),  # Azure AD STS (RecordType 15)
    "UserLoginFailed": Mapping("user-login", _AUTH, ("start",), "failure"),
    "MailboxLogin": Mapping("user-login", _AUTH, ("start",), "success"),  # Exchange mailbox audit
}


def _config(kind: str) -> Mapping:
    return Mapping("config-change", _CONFIG, (kind,), "success")


CONFIG = {
    **{op: _config("creation") for op in (
        "TeamCreated", "ChannelAdded", "AppInstalled", "AppPublishedToCatalog", "BotAddedToTeam",
        "ConnectorAdded", "TabAdded", "SensitivityLabelApplied", "SharingRestored")},
    **{op: _config("deletion") for op in (
        "TeamDeleted", "ChannelDeleted", "AppUninstalled", "AppDeletedFromCatalog", "DeletedAllOrganizationApps",
        "BotRemovedFromTeam", "ConnectorRemoved", "TabRemoved", "SensitivityLabelRemoved", "TerminatedSharing")},
    **{op: _config("change") for op in (
        "TeamSettingChanged", "ChannelSettingChanged", "TeamsTenantSettingChanged", "TeamsAdminAction",
        "AppUpgraded", "AppUpdatedInCatalog", "ConnectorUpdated", "TabUpdated", "SensitivityLabelChanged")},
}

# Team, channel and group-chat membership: the members are the targets (`Members`).
MEMBERSHIP = {op: Mapping("account-change", ("iam",), ("group", "change"), "success")
              for op in ("MemberAdded", "MemberRemoved", "MemberRoleChanged")}


def _chat(kind: str) -> Mapping:
    return Mapping("chat-message", ("network",), (kind,), "success")


CHAT = {
    **{op: _chat("creation") for op in ("MessageSent", "MessageCreatedHasLink", "ChatCreated")},
    **{op: _chat("change") for op in ("MessageUpdated", "MessageEditedHasLink", "ChatUpdated")},
    "MessageDeleted": _chat("deletion"),
    # Reads and exports through Microsoft Graph (logged only for API access): who pulled which messages.
    **{op: _chat("access") for op in ("MessageRead", "MessagesListed", "MessagesExported", "ChatRetrieved",
                                      "MessageHostedContentRead", "MessageHostedContentsListed")},
}

MEETINGS = {
    "MeetingDetail": Mapping("conference-end", ("session",), ("end",), "success"),
    "MeetingParticipantDetail": Mapping("conference-join", ("session",), ("start",), "success"),
}

OPERATIONS: dict[str, Mapping] = {**LOGINS, **CONFIG, **MEMBERSHIP, **CHAT, **MEETINGS}
DIAGNOSTIC = Mapping("diagnostic", (), ("info",), None)

# ResultStatus values (schema: Succeeded, PartiallySucceeded, Failed; Exchange admin: True/False;
# Azure AD: Success/Failure are seen too).
RESULT_OUTCOME = {"succeeded": "success", "success": "success", "true": "success",
                  "failed": "failure", "failure": "failure", "false": "failure",
                  "partiallysucceeded": "unknown"}


def mapping(operation: str) -> Mapping:
    return OPERATIONS.get(operation, DIAGNOSTIC)
