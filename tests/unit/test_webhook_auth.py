"""ucsiem.inputs.webhook_auth: Zoom and Webex signatures, known answers computed here independently."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ucsiem.inputs.webhook_auth import (
    verify_webex,
    verify_zoom,
    webex_signature,
    zoom_challenge_answer,
    zoom_signature,
)

SECRET = "z9Y8x7W6v5U4t3S2r1Q0"  # a Zoom-style secret token (made up)
NOW = 1_710_072_000.0  # 2024-03-10T12:00:00Z
BODY = (b'{"event":"meeting.started","event_ts":1710071999000,"payload":{"account_id":"AbC",'
        b'"object":{"id":"85012345678","uuid":"4444AAAiAAAAAiAiAiiAii==","topic":"Weekly"}}}')


def clock() -> float:
    return NOW


def zoom_headers(body: bytes = BODY, stamp: str = "1710072000", secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}", "content-type": "application/json"}


# -- Zoom -----------------------------------------------------------------------------------------------


def test_zoom_known_answer() -> None:
    verdict = verify_zoom(BODY, zoom_headers(), SECRET, now=clock)
    assert (verdict.ok, verdict.reason, verdict.provider, verdict.is_challenge) == (True, "ok", "zoom", False)
    expected = "v0=" + hmac.new(SECRET.encode(), b"v0:1710072000:" + BODY, hashlib.sha256).hexdigest()
    assert zoom_signature(SECRET, "1710072000", BODY) == expected
    assert zoom_signature(SECRET.encode(), "1710072000", BODY) == expected


def test_fixed_vectors_computed_with_openssl() -> None:
    # printf 'v0:1:{}' | openssl dgst -sha256 -hmac secret  /  printf abc | openssl dgst -sha256 -hmac secret
    assert zoom_signature("secret", "1", b"{}") == "v0=72947d217adec3a1867ba95783f65b308b2419ed224a5751b0b81e0b9a8c6851"
    assert zoom_challenge_answer("secret", "abc")["encryptedToken"] == (
        "9946dad4e00e913fc8be8e5d3f7e110a4a9e832f83fb09c345285d78638d8a0e")
    # printf '{}' | openssl dgst -sha1 -hmac somesupersecretphrase
    assert webex_signature("somesupersecretphrase", b"{}") == "0c104fa6e4ee681f78dd96a5af97e9e01837115e"


def test_zoom_header_names_are_case_insensitive_and_pairs_work() -> None:
    headers = {k.upper(): v for k, v in zoom_headers().items()}
    assert verify_zoom(BODY, headers, SECRET, now=clock).ok
    assert verify_zoom(BODY, list(zoom_headers().items()), SECRET, now=clock).ok
    upper_hex = {**zoom_headers(), "x-zm-signature": zoom_headers()["x-zm-signature"].upper().replace("V0=", "v0=")}
    assert verify_zoom(BODY, upper_hex, SECRET, now=clock).ok


@pytest.mark.parametrize(("change", "reason"), [
    ("other secret", "bad_signature"),
    ("body changed", "bad_signature"),
    ("timestamp changed", "bad_signature"),
    ("no signature", "missing_header"),
    ("no timestamp", "missing_header"),
    ("sha1 signature", "malformed_signature"),
    ("no v0", "malformed_signature"),
    ("not hex", "malformed_signature"),
    ("timestamp text", "malformed_timestamp"),
    ("timestamp negative", "malformed_timestamp"),
])
def test_zoom_forged_and_broken(change: str, reason: str) -> None:
    body, headers = BODY, zoom_headers()
    sig = headers["x-zm-signature"]
    if change == "other secret":
        headers = zoom_headers(secret="guessed")
    elif change == "body changed":
        body = BODY.replace(b"Weekly", b"Wekly!")
    elif change == "timestamp changed":
        headers["x-zm-request-timestamp"] = "1710071999"
    elif change == "no signature":
        del headers["x-zm-signature"]
    elif change == "no timestamp":
        del headers["x-zm-request-timestamp"]
    elif change == "sha1 signature":
        headers["x-zm-signature"] = "v0=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    elif change == "no v0":
        headers["x-zm-signature"] = sig[3:]
    elif change == "not hex":
        headers["x-zm-signature"] = "v0=" + "g" * 64
    elif change == "timestamp text":
        headers["x-zm-request-timestamp"] = "Sun, 10 Mar 2024 12:00:00 GMT"
    elif change == "timestamp negative":
        headers["x-zm-request-timestamp"] = "-1710072000"
    verdict = verify_zoom(body, headers, SECRET, now=clock)
    assert (verdict.ok, verdict.reason, verdict.challenge_response) == (False, reason, None)
    assert verdict.detail  # something a person can act on


def test_zoom_replay_window() -> None:
    for age, reason in ((300, "ok"), (301, "stale_timestamp"), (-300, "ok"), (-301, "future_timestamp"),
                        (86400, "stale_timestamp")):
        stamp = str(int(NOW) - age)
        verdict = verify_zoom(BODY, zoom_headers(stamp=stamp), SECRET, now=clock)
        assert verdict.reason == reason, age
    # a narrower window, and the timestamp checked before the signature (a replay is named as such)
    stale = zoom_headers(stamp=str(int(NOW) - 61))
    assert verify_zoom(BODY, stale, SECRET, now=clock, window_seconds=60).reason == "stale_timestamp"
    assert "old" in verify_zoom(BODY, stale, SECRET, now=clock, window_seconds=60).detail


def test_zoom_millisecond_timestamp_tolerated() -> None:
    stamp = str(int(NOW * 1000))
    assert verify_zoom(BODY, zoom_headers(stamp=stamp), SECRET, now=clock).ok


def test_zoom_duplicate_header_with_different_values_is_refused() -> None:
    pairs = [*zoom_headers().items(), ("X-Zm-Signature", "v0=" + "0" * 64)]
    verdict = verify_zoom(BODY, pairs, SECRET, now=clock)
    assert (verdict.ok, verdict.reason, verdict.provider) == (False, "duplicate_header", "zoom")
    same = [*zoom_headers().items(), ("X-ZM-SIGNATURE", zoom_headers()["x-zm-signature"])]
    assert verify_zoom(BODY, same, SECRET, now=clock).ok


def test_zoom_missing_secret_is_a_configuration_error() -> None:
    verdict = verify_zoom(BODY, zoom_headers(), "", now=clock)
    assert (verdict.ok, verdict.reason) == (False, "missing_secret")


def test_zoom_url_validation_challenge() -> None:
    body = (b'{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,'
            b'"event":"endpoint.url_validation"}')
    verdict = verify_zoom(body, zoom_headers(body), SECRET, now=clock)
    assert (verdict.ok, verdict.reason, verdict.is_challenge) == (True, "ok", True)
    assert verdict.challenge_response is not None
    answer = json.loads(verdict.challenge_response)
    token_mac = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": token_mac}
    assert zoom_challenge_answer(SECRET, "qgg8vlvZRS6UYooatFL8Aw") == answer


def test_zoom_challenge_is_only_answered_when_signed() -> None:
    body = b'{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}'
    unsigned = verify_zoom(body, {}, SECRET, now=clock)
    assert (unsigned.ok, unsigned.reason, unsigned.challenge_response) == (False, "missing_header", None)
    forged = verify_zoom(body, zoom_headers(body, secret="guessed"), SECRET, now=clock)
    assert (forged.reason, forged.challenge_response) == ("bad_signature", None)


@pytest.mark.parametrize("body", [
    b'{"event":"endpoint.url_validation","payload":{}}',
    b'{"event":"endpoint.url_validation","payload":{"plainToken":42}}',
    b'{"event":"endpoint.url_validation","payload":"x"}',
    b'{"event":"endpoint.url_validation","payload":{"plainToken":""}}',
])
def test_zoom_broken_challenge(body: bytes) -> None:
    verdict = verify_zoom(body, zoom_headers(body), SECRET, now=clock)
    assert (verdict.ok, verdict.reason, verdict.challenge_response) == (False, "bad_challenge", None)


def test_zoom_event_mentioning_the_validation_name_is_not_a_challenge() -> None:
    for body in (b'{"event":"meeting.started","payload":{"topic":"endpoint.url_validation"}}',
                 b"not json endpoint.url_validation", b"[1, 2, 3] endpoint.url_validation"):
        verdict = verify_zoom(body, zoom_headers(body), SECRET, now=clock)
        assert (verdict.ok, verdict.is_challenge) == (True, False)


# -- Webex ------------------------------------------------------------------------------------------------

WEBEX_SECRET = "somesupersecretphrase"  # the Webex blog's example secret
WEBEX_BODY = (b'{"id":"Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjRlNjA1NjA","name":"Meetings","resource":"meetings",'
              b'"event":"ended","orgId":"OTZhYmMy","data":{"id":"abc123"}}')


def webex_headers(body: bytes = WEBEX_BODY, secret: str = WEBEX_SECRET) -> dict[str, str]:
    return {"X-Spark-Signature": hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


def test_webex_known_answer() -> None:
    verdict = verify_webex(WEBEX_BODY, webex_headers(), WEBEX_SECRET)
    assert (verdict.ok, verdict.reason, verdict.provider) == (True, "ok", "webex")
    assert webex_signature(WEBEX_SECRET, WEBEX_BODY) == webex_headers()["X-Spark-Signature"]
    assert verify_webex(WEBEX_BODY, {"x-spark-signature": webex_headers()["X-Spark-Signature"].upper()},
                        WEBEX_SECRET.encode()).ok


@pytest.mark.parametrize(("headers", "body", "reason"), [
    ({"X-Spark-Signature": hmac.new(b"guessed", WEBEX_BODY, hashlib.sha1).hexdigest()}, WEBEX_BODY, "bad_signature"),
    (None, WEBEX_BODY + b" ", "bad_signature"),
    ({}, WEBEX_BODY, "missing_header"),
    ({"X-Spark-Signature": hmac.new(WEBEX_SECRET.encode(), WEBEX_BODY, hashlib.sha256).hexdigest()}, WEBEX_BODY,
     "malformed_signature"),
    ({"X-Spark-Signature": "sha1=" + "0" * 40}, WEBEX_BODY, "malformed_signature"),
    ({"X-Spark-Signature": "é" * 40}, WEBEX_BODY, "malformed_signature"),
])
def test_webex_forged_and_broken(headers: dict[str, str] | None, body: bytes, reason: str) -> None:
    verdict = verify_webex(body, webex_headers() if headers is None else headers, WEBEX_SECRET)
    assert (verdict.ok, verdict.reason, verdict.provider) == (False, reason, "webex")
    assert verdict.detail


def test_webex_duplicate_and_missing_secret() -> None:
    pairs = [("X-Spark-Signature", webex_headers()["X-Spark-Signature"]), ("x-spark-signature", "0" * 40)]
    assert verify_webex(WEBEX_BODY, pairs, WEBEX_SECRET).reason == "duplicate_header"
    assert verify_webex(WEBEX_BODY, pairs, WEBEX_SECRET).provider == "webex"
    assert verify_webex(WEBEX_BODY, webex_headers(), b"").reason == "missing_secret"
