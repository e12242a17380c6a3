"""Slack's request signing (v0): HMAC-SHA256 over ``v0:{timestamp}:{body}`` with the signing secret.

Apps (Bolt included) reject a request whose signature does not match or whose
timestamp is more than five minutes away from their clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time

VERSION = "v0"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature(secret, stamp, body)}
