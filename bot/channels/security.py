"""Request authentication: Slack's v0 signatures and shared-token checks, all constant-time."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

SLACK_WINDOW_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12
_TOKEN_PREFIX = "token "


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``v0=`` signature Slack sends for ``body`` at ``timestamp`` (what tests and benchmarks sign with)."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.digest(secret.encode("utf-8"), base, "sha256").hex()


def _is_timestamp(value: bytes) -> bool:
    """1 to 12 ASCII digits."""
    return 0 < len(value) <= MAX_TIMESTAMP_DIGITS and value.isdigit()


def _as_bytes(value: str) -> bytes:
    """Header text back to the bytes that arrived (ASGI servers decode headers as latin-1)."""
    return value.encode("latin-1", errors="replace")


class SlackVerifier:
    """Checks ``X-Slack-Signature`` against a signing secret, with an injectable clock."""

    def __init__(self, secret: str, clock: Callable[[], float],
                 window: int = SLACK_WINDOW_SECONDS) -> None:
        # Keyed once: each request copies this state instead of looking up SHA-256 and hashing the key.
        self._keyed = hmac.new(secret.encode("utf-8"), digestmod="sha256")
        self._clock = clock
        self._window = window

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> bool:
        """True only for a well-formed, fresh, matching signature; never raises on bad input."""
        return self.verify_raw(None if timestamp is None else _as_bytes(timestamp),
                               None if signature is None else _as_bytes(signature), body)

    def verify_raw(self, timestamp: bytes | None, signature: bytes | None, body: bytes) -> bool:
        """``verify`` for header values as the bytes that arrived (a plain ASGI route has no decoding)."""
        if not timestamp or not signature or not _is_timestamp(timestamp):
            return False
        if abs(self._clock() - int(timestamp)) > self._window:
            return False
        mac = self._keyed.copy()
        mac.update(b"v0:" + timestamp + b":" + body)
        return hmac.compare_digest(b"v0=" + mac.hexdigest().encode("ascii"), signature)

    def verify_headers(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Verify using the request's headers (looked up case-insensitively by the mapping)."""
        return self.verify(headers.get("x-slack-request-timestamp"),
                           headers.get("x-slack-signature"), body)


def token_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a shared token; a missing token never matches."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", errors="replace"))


def token_in(expected: tuple[str, ...], given: str | None) -> bool:
    """True when ``given`` equals one of ``expected``; every candidate is compared (constant time)."""
    matched = False
    for token in expected:
        matched |= token_matches(token, given)
    return matched


def split_tokens(value: str) -> tuple[str, ...]:
    """Several integration tokens from one variable, separated by commas."""
    return tuple(t.strip() for t in value.split(",") if t.strip())


def bearer_token(authorization: str | None) -> str | None:
    """The ``<t>`` of an ``Authorization: Token <t>`` header, or None."""
    if not authorization or not authorization.lower().startswith(_TOKEN_PREFIX):
        return None
    return authorization[len(_TOKEN_PREFIX):].strip() or None
