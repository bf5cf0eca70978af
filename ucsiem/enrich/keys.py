"""Identity keys: the forms under which a person is found, normalised so a directory's values and an event's
values meet (a SIP URI with parameters and a display name, a tel: URI, `0049 30 …`, `+49 (30) …` and
`030 …`, `EXAMPLE\\alice`, an extension, a device address).

A key is `<kind>:<value>`; kinds: `user`, `email`, `sip`, `ext`, `e164`, `ip`, `mac`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ucsiem.parsing.helpers import canonical_ip, split_uri_user

NumberNormalizer = Callable[[str], "str | None"]

_ADDRESS = re.compile(r"^[0-9A-Fa-f][0-9A-Fa-f:.-]*$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_DIAL = re.compile(r"^\+?[0-9][0-9 ()./-]{0,40}$")
_DIAL_CHARS = 41
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$", re.IGNORECASE)
MAX_EXTENSION_DIGITS = 7
MAC_DIGITS = 12
MAX_LOOKUP_CHARS = 512  # longer values are no identity (and are not remembered per worker)


def uri_parts(value: str) -> tuple[str, str | None]:
    """(user, lower-case host) of a SIP/SIPS/tel URI or a bare user@host (the parsers' own reading of
    URIs); host is None for tel: and bare values."""
    user, host = split_uri_user(value)
    return user or "", host.lower() if host else None


def mac_key(value: str) -> str | None:
    text = value.strip()
    if not _MAC.match(text):
        return None
    digits = re.sub(r"[:-]", "", text).lower()
    return "mac:" + ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def number_keys(text: str, normalize: NumberNormalizer | None) -> list[str]:
    """An extension and/or an E.164 number from something dialled."""
    if text[:1] == "+" and _E164.match(text):  # already E.164 (what the phone enricher writes): no parsing needed
        return ["e164:" + text]
    if len(text) <= _DIAL_CHARS and text.isdigit() and text.isascii():  # plain digits: the usual extension
        digits = text
    elif not _DIAL.match(text):
        return []
    else:
        digits = re.sub(r"[^0-9]", "", text)
    keys = []
    if not text.startswith("+") and len(digits) <= MAX_EXTENSION_DIGITS:
        keys.append("ext:" + digits)
    e164 = normalize(text) if normalize is not None else ("+" + digits if text.startswith("+") else None)
    if e164:
        keys.append("e164:" + e164)
    return keys


def phone_keys(number: str, normalize: NumberNormalizer | None) -> list[str]:
    """Keys of a directory phone number, written plainly or as a tel:/sip: URI."""
    return number_keys(uri_parts(number)[0] if number[:4].lower() in ("tel:", "sip:") else number, normalize)


# The two shapes most event values have, read at once (what `_keys_of` finds for them after its general steps):
# a SIP/SIPS URI `sip:user@host` without parameters, port or display name, and an E.164 number.
_PLAIN_SIP = re.compile(r"(?i:sips?):([^@;?<>:\s]+)@([^@;?<>:\s]+)")


def value_keys(value: str, normalize: NumberNormalizer | None = None) -> list[str]:
    """Every key an event value may be found under, most specific first."""
    if value[:1] == "+" and _E164.fullmatch(value):
        return ["e164:" + value]
    if value.isdigit() and value.isascii() and len(value) != MAC_DIGITS and len(value) <= MAX_LOOKUP_CHARS:
        return number_keys(value, normalize) or ["user:" + value]  # `_keys_of`'s reading of plain digits
    if len(value) <= MAX_LOOKUP_CHARS and (sip := _PLAIN_SIP.fullmatch(value)) is not None:
        user, host = sip.groups()
        address = f"{user.lower()}@{host.lower()}"
        return [f"sip:{address}", f"email:{address}", *number_keys(user, normalize)]
    return _keys_of(value, normalize)


def _keys_of(value: str, normalize: NumberNormalizer | None) -> list[str]:
    text = value.strip()
    if not text or len(text) > MAX_LOOKUP_CHARS:
        return []
    if text.isdigit() and text.isascii() and len(text) != MAC_DIGITS:  # no address (a MAC may be 12 digits)
        return number_keys(text, normalize) or ["user:" + text]
    if _ADDRESS.match(text):  # only what can be an address goes to the parsers
        if (ip := canonical_ip(text)) is not None:
            return ["ip:" + ip]
        if (mac := mac_key(text)) is not None:
            return [mac]
    lowered = text.lower()
    if lowered.startswith(("sip:", "sips:", "tel:")) or "<" in text:
        user, host = uri_parts(text)
        keys = number_keys(user, normalize)
        if host is not None:  # never the bare user part: sip:bob@evil.example is not our bob
            keys = [f"sip:{user.lower()}@{host}", f"email:{user.lower()}@{host}", *keys]
        return keys
    if "@" in text:
        return [f"email:{lowered}", f"sip:{lowered}"]
    if (numbers := number_keys(text, normalize)):
        return numbers
    if "\\" in text:  # DOMAIN\user
        text = text.rsplit("\\", 1)[1]
    return ["user:" + text.lower()] if text else []


def identity_keys(fields: dict[str, list[str]], normalize: NumberNormalizer | None = None) -> list[str]:
    """Keys of one directory entry, from its identity fields (see IDENTITY_FIELDS)."""
    keys: list[str] = []
    for name in fields.get("name", ()):
        if "\\" in name:
            name = name.rsplit("\\", 1)[1]
        keys.append("user:" + name.strip().lower())
    for email in fields.get("email", ()):
        keys.append("email:" + email.strip().lower())
    for uri in fields.get("sip_uri", ()):
        user, host = uri_parts(uri)
        if host is not None:
            keys.append(f"sip:{user.lower()}@{host}")
        keys.extend(number_keys(user, normalize))
    for extension in fields.get("extension", ()):
        keys.extend(k for k in number_keys(extension, normalize) if k.startswith("ext:"))
    for number in fields.get("phone_numbers", ()):
        keys.extend(phone_keys(number, normalize))
    for address in fields.get("ips", ()):
        if (ip := canonical_ip(address.strip())) is not None:
            keys.append("ip:" + ip)
    for address in fields.get("macs", ()):
        if (mac := mac_key(address)) is not None:
            keys.append(mac)
    return list(dict.fromkeys(k for k in keys if len(k.split(":", 1)[1]) > 0))


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
