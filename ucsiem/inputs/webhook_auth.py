"""Who sent a webhook: Zoom and Webex signatures, checked over the raw request body. Pure, no I/O.

Zoom (https://developers.zoom.us/docs/api/webhooks/ , "Verify webhook events" and "Validate your
webhook endpoint"; the 2022 change notice https://developers.zoom.us/changelog/platform/webhook-url-validation.md):

* every request carries `x-zm-request-timestamp` (Unix seconds) and
  `x-zm-signature: v0=<hex HMAC-SHA256(secret token, "v0:{timestamp}:{raw body}")>`;
* the endpoint is validated when it is configured and every 72 hours: the body is
  `{"event": "endpoint.url_validation", "payload": {"plainToken": "..."}}` and the answer is HTTP 200
  with `{"plainToken": "...", "encryptedToken": <hex HMAC-SHA256(secret token, plainToken)>}`. Zoom
  signs that request like any other, and it is only answered once its signature is good.

Webex (https://developer.webex.com/docs/receive-and-verify-webhooks , and the Webex developer blog
"Using a Webhook Secret"): a webhook registered with a `secret` is delivered with
`X-Spark-Signature: <hex HMAC-SHA1(secret, raw body)>`. Webex sends no time stamp, so there is no
replay window for Webex (deduplicate on the notification `id` downstream).

Every check returns a `WebhookVerdict`; expected failures are values with a reason a person can act
on, never exceptions. Signatures are compared in constant time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Provider = Literal["zoom", "webex"]
Reason = Literal[
    "ok",
    "missing_secret",  # no secret configured: nothing can be verified (a configuration error)
    "missing_header",  # a signature or time stamp header is absent
    "duplicate_header",  # the header appears twice with different values
    "malformed_signature",  # the header is not `v0=<64 hex>` (Zoom) / `<40 hex>` (Webex)
    "malformed_timestamp",  # x-zm-request-timestamp is not a number of seconds
    "stale_timestamp",  # older than the replay window (a replay, or a clock far behind)
    "future_timestamp",  # later than the replay window allows (a clock far ahead)
    "bad_signature",  # well-formed, but made with another secret or over other bytes
    "bad_challenge",  # a signed endpoint.url_validation without a usable plainToken
]

ZOOM_SIGNATURE = "x-zm-signature"
ZOOM_TIMESTAMP = "x-zm-request-timestamp"
WEBEX_SIGNATURE = "x-spark-signature"
DEFAULT_WINDOW_SECONDS = 300.0
ZOOM_VALIDATION_EVENT = "endpoint.url_validation"
_HEX = frozenset("0123456789abcdef")
_MAX_TOKEN = 1024  # a plainToken longer than this is not Zoom's (they are ~22 characters)

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class WebhookVerdict:
    """The outcome of checking one request."""

    ok: bool
    reason: Reason
    detail: str
    """One sentence for the log / the security event: what was wrong and what to check."""
    provider: Provider
    challenge_response: bytes | None = None
    """Zoom endpoint validation: the JSON body to answer with HTTP 200 (no events to spool)."""

    @property
    def is_challenge(self) -> bool:
        return self.challenge_response is not None


def verify_zoom(body: bytes, headers: Headers, secret: str | bytes, *, now: Callable[[], float] = time.time,
                window_seconds: float = DEFAULT_WINDOW_SECONDS) -> WebhookVerdict:
    """Check a Zoom delivery; a signed `endpoint.url_validation` comes back with its answer.

    `now` is the clock (Unix seconds, injectable for tests). The request time must lie within
    `window_seconds` of it, either way.
    """
    key = _key(secret)
    if not key:
        return _fail("zoom", "missing_secret", "no Zoom secret token is configured for this path; copy it from "
                     "the app's Feature page (Event Subscriptions) in the Zoom App Marketplace")
    found = _headers(headers, (ZOOM_SIGNATURE, ZOOM_TIMESTAMP))
    if isinstance(found, WebhookVerdict):
        return _as("zoom", found)
    signature, stamp = found[ZOOM_SIGNATURE], found[ZOOM_TIMESTAMP]
    if signature is None or stamp is None:
        missing = ZOOM_SIGNATURE if signature is None else ZOOM_TIMESTAMP
        return _fail("zoom", "missing_header", f"no {missing} header: not a signed Zoom delivery (or a proxy "
                     "stripped it)")
    digest = signature.strip()
    if not digest.startswith("v0=") or not _is_hex(digest[3:], 64):
        return _fail("zoom", "malformed_signature", f"{ZOOM_SIGNATURE} is not v0=<64 hex digits>: "
                     f"{_shown(signature)}")
    stamp = stamp.strip()
    if not (stamp.isascii() and stamp.isdecimal()) or len(stamp) > 16:
        return _fail("zoom", "malformed_timestamp", f"{ZOOM_TIMESTAMP} is not Unix seconds: {_shown(stamp)}")
    seconds = int(stamp)
    if seconds >= 10**12:  # milliseconds: not what Zoom documents, tolerated
        seconds //= 1000
    skew = now() - seconds
    if skew > window_seconds:
        return _fail("zoom", "stale_timestamp", f"request time is {skew:.0f} s old (window {window_seconds:.0f} s): "
                     "a replayed request, or this host's clock is wrong")
    if -skew > window_seconds:
        return _fail("zoom", "future_timestamp", f"request time is {-skew:.0f} s in the future (window "
                     f"{window_seconds:.0f} s): check this host's clock (NTP)")
    expected = zoom_signature(key, stamp, body)
    if not hmac.compare_digest(expected.encode(), ("v0=" + digest[3:].lower()).encode()):
        return _fail("zoom", "bad_signature", "x-zm-signature does not match: the secret token configured here "
                     "is not the app's, or the body was changed on the way")
    challenge = _zoom_challenge(key, body)
    if challenge is None:
        return WebhookVerdict(True, "ok", "signature valid", "zoom")
    if isinstance(challenge, str):
        return _fail("zoom", "bad_challenge", challenge)
    return WebhookVerdict(True, "ok", "signed endpoint validation answered", "zoom", challenge)


def verify_webex(body: bytes, headers: Headers, secret: str | bytes) -> WebhookVerdict:
    """Check a Webex delivery: `X-Spark-Signature` = hex HMAC-SHA1(secret, raw body)."""
    key = _key(secret)
    if not key:
        return _fail("webex", "missing_secret", "no Webex webhook secret is configured for this path; set the "
                     "`secret` given when the webhook was registered")
    found = _headers(headers, (WEBEX_SIGNATURE,))
    if isinstance(found, WebhookVerdict):
        return _as("webex", found)
    signature = found[WEBEX_SIGNATURE]
    if signature is None:
        return _fail("webex", "missing_header", "no X-Spark-Signature header: the webhook was registered without "
                     "a secret, or this is not Webex")
    digest = signature.strip()
    if not _is_hex(digest, 40):
        return _fail("webex", "malformed_signature", f"X-Spark-Signature is not 40 hex digits: {_shown(signature)}")
    expected = webex_signature(key, body)
    if not hmac.compare_digest(expected.encode(), digest.lower().encode()):
        return _fail("webex", "bad_signature", "X-Spark-Signature does not match: the secret configured here is "
                     "not the webhook's, or the body was changed on the way")
    return WebhookVerdict(True, "ok", "signature valid", "webex")


def zoom_signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`) (what Zoom sends; also for test senders)."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def zoom_challenge_answer(secret: str | bytes, plain_token: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation`: the token and hex HMAC-SHA256(secret, token)."""
    encrypted = hmac.new(_key(secret), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def webex_signature(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA1(secret, body), as Webex sends it in X-Spark-Signature."""
    return hmac.new(_key(secret), body, hashlib.sha1).hexdigest()


# -- internals -----------------------------------------------------------------------------------------


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else bytes(secret)


def _fail(provider: Provider, reason: Reason, detail: str) -> WebhookVerdict:
    return WebhookVerdict(False, reason, detail, provider)


def _as(provider: Provider, verdict: WebhookVerdict) -> WebhookVerdict:
    return WebhookVerdict(verdict.ok, verdict.reason, verdict.detail, provider)


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and set(text.lower()) <= _HEX


def _shown(value: str) -> str:
    return repr(value[:24] + ("..." if len(value) > 24 else ""))


def _headers(headers: Headers, names: tuple[str, ...]) -> dict[str, str | None] | WebhookVerdict:
    """The wanted headers, by case-insensitive name; a name given twice with different values is refused."""
    found: dict[str, str | None] = dict.fromkeys(names)
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        low = name.lower()
        if low not in found:
            continue
        previous = found[low]
        if previous is not None and previous != value:
            return _fail("zoom", "duplicate_header", f"{low} is sent twice with different values: refused rather "
                         "than guessing which one was signed")
        found[low] = value
    return found


def _zoom_challenge(key: bytes, body: bytes) -> bytes | str | None:
    """The answer to a validation request; None for any other event; a reason text for a broken one."""
    if ZOOM_VALIDATION_EVENT.encode() not in body:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: not a validation request (the caller answers bad JSON with 400)
    if not isinstance(doc, dict) or doc.get("event") != ZOOM_VALIDATION_EVENT:
        return None
    payload = doc.get("payload")
    token = payload.get("plainToken") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        return "endpoint.url_validation without a plainToken string in payload: cannot answer the challenge"
    return json.dumps(zoom_challenge_answer(key, token), separators=(",", ":")).encode()
