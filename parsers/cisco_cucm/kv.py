"""The CiscoLog TAGS list `%[key=value][key=value]...: description` after the mnemonic.

Keys and values may carry blanks (`[ UserID =administrator]`, `[ Reason=HTTP 404 Error ]`); the audit log
writes `App ID`/`Cluster ID`/`Node ID` where alarms write `AppID`/`ClusterID`/`NodeID`, so keys are
compared without blanks. An RTMT alert's `AlertDetail` embeds another syslog line with its own brackets:
its value runs to the `][AppID=` after its last `#012` line break (or to the end of a cut line).
"""

from __future__ import annotations

MAX_PAIRS = 200
_NESTED = {"AlertDetail": "][AppID="}


def canonical_key(key: str) -> str:
    return key.replace(" ", "")


def scan_tags(text: str, start: int) -> tuple[dict[str, str], str, bool]:
    """(pairs, description, complete) for the text after the mnemonic; `complete` is False when the
    list was cut (no closing bracket or no `:` before the description)."""
    pairs: dict[str, str] = {}
    n = len(text)
    pos = start
    while pos < n and text[pos] == " ":
        pos += 1
    if not text.startswith("%[", pos):
        return pairs, text[pos:].strip(), True
    pos += 1
    complete = True
    while pos < n and text[pos] == "[" and len(pairs) < MAX_PAIRS:
        close = text.find("]", pos)
        key, sep, _ = text[pos + 1:close if close >= 0 else n].partition("=")
        key = canonical_key(key.strip())
        if sep and key in _NESTED:
            # the embedded line ends at the alert's last `#012` line break; the alert's own tags follow
            close = text.find(_NESTED[key], max(pos, text.rfind("#012", pos)))
        if close < 0:
            close, complete = n, False
        inner = text[pos + 1:close]
        key, sep, value = inner.partition("=")
        key = canonical_key(key.strip())
        if key and key not in pairs:
            pairs[key] = value.strip() if sep else ""
        pos = close + 1
        while pos < n and text[pos] == " " and pos + 1 < n and text[pos + 1] == "[":
            pos += 1
    rest = text[pos:]
    if rest.startswith(":"):
        return pairs, rest[1:].strip(), complete
    return pairs, rest.strip(), False


# The alert of older (CCM_RTMT) releases has no tag list, only labelled text (Observium's syslog test, OBS-335):
#   RTMT Alert Name:DBChangeNotifyFailure Detail: DBChangeNotify queue delay over 2 minutes. ... on node
#   CallManager. App ID:Cisco AMC Service Cluster ID: Node ID:CallManager
_RTMT_NAME = "RTMT Alert Name:"
_RTMT_TAIL = ((" Node ID:", "NodeID"), (" Cluster ID:", "ClusterID"), (" App ID:", "AppID"))


def scan_rtmt_text(description: str) -> dict[str, str] | None:
    """The labelled parts of an older RTMT alert as the tags of the current form (`AlertName`, `AlertDetail`,
    `AppID`, `ClusterID`, `NodeID`); None when the text is not one. The trailing labels are found from the
    right, so a detail that itself says `App ID:` stays whole."""
    if not description.startswith(_RTMT_NAME):
        return None
    rest = description[len(_RTMT_NAME):]
    name, sep, detail = rest.partition(" Detail:")
    name = name.strip()
    if not name or " " in name:
        return None
    pairs: dict[str, str] = {"AlertName": name}
    if not sep:
        return pairs
    tail: dict[str, str] = {}
    for label, key in _RTMT_TAIL:
        at = detail.rfind(label)
        if at < 0:
            break
        tail[key] = detail[at + len(label):].strip()
        detail = detail[:at]
    pairs["AlertDetail"] = detail.strip()
    pairs.update((k, v) for k, v in reversed(tail.items()))
    return pairs
