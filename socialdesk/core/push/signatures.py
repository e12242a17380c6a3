"""HMAC signatures of pushed requests, compared in constant time.

Two schemes are used by the push platforms:

* Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``): the
  signed content is ``{id}.{timestamp}.{body}``, the key the base64 bytes after ``whsec_``,
  the header a space-separated list of ``v1,<base64 HMAC-SHA256>``.
* Discourse (``X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the raw body>``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 16  # the spec asks 24-64 random bytes from producers; refuse only the absurd
MAX_SECRET_BYTES = 64


class SecretFormatError(ValueError):
    """A webhook secret that is not ``whsec_`` + base64 of 16 to 64 bytes."""


def standard_secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_<base64>``)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError("is not base64 after the whsec_ prefix") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise SecretFormatError(f"decodes to {len(key)} bytes; use 24 to 64 random bytes")
    return key


def standard_signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message: ``v1,<base64>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_signature_valid(key: bytes, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any ``v1`` signature in ``header`` signs this message. Each candidate is compared
    in constant time, and all candidates are compared, so timing tells nothing."""
    expected = standard_signature(key, message_id, timestamp, body).encode()
    valid = False
    for candidate in header.split(" "):
        if candidate.startswith("v1,"):
            valid |= hmac.compare_digest(expected, candidate.encode())
    return valid


def discourse_signature(secret: str, body: bytes) -> str:
    """The ``X-Discourse-Event-Signature`` value: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def discourse_signature_valid(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(discourse_signature(secret, body).encode(), header.strip().lower().encode())
