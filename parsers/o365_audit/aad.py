"""Azure AD sign-ins in the unified audit log (RecordType 15, AzureActiveDirectoryStsLogon).

`ResultStatus` of an STS logon says whether the HTTP exchange worked, not the sign-in: the schema
says to read `LogonError` (empty or absent when the sign-in succeeded). `ExtendedProperties` and
`DeviceProperties` are `[{"Name", "Value"}]` lists (UserAgent, RequestType, ResultStatusDetail, OS...).
"""

from __future__ import annotations

from typing import Any

from ucsiem.parsing import jsonvalues

from .values import name_value_pairs


def sign_in(record: dict[str, Any], event: dict[str, Any], vendor: dict[str, Any]) -> None:
    error = jsonvalues.text(record, "LogonError")
    if error:
        event["event"]["outcome"] = "failure"
        event["event"]["reason"] = error
    extended = name_value_pairs(record, "ExtendedProperties", "Name", "Value")
    for name, value in extended.items():
        vendor[f"ExtendedProperties.{name}"] = value
    for name, value in name_value_pairs(record, "DeviceProperties", "Name", "Value").items():
        vendor[f"DeviceProperties.{name}"] = value
    if agent := extended.get("UserAgent"):
        event["user_agent"] = {"original": agent}
    for key in ("Actor", "Target"):
        ids = [i for item in jsonvalues.objects(record, key, 32) if (i := jsonvalues.text(item, "ID"))]
        if ids:
            vendor[key] = ids
