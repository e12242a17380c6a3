"""AT Protocol identifiers: DIDs, TIDs (record keys), CIDs and at:// URIs."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
COLLECTION_POST = "app.bsky.feed.post"


def did_for(handle: str) -> str:
    """A stable did:plc for a sandbox handle (24 base32 characters, as PLC DIDs are)."""
    digest = hashlib.sha256(f"sandbox:{handle}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def cid_for(value: Any) -> str:
    """A CIDv1 (dag-cbor, sha-256) shaped identifier of a record: same content, same CID."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).digest()
    # 0x01 version, 0x71 dag-cbor, 0x12 sha2-256, 0x20 length; multibase 'b' = base32 lower, no padding
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{COLLECTION_POST}/{rkey}"


def split_uri(uri: str) -> tuple[str, str, str] | None:
    """(repo, collection, rkey) of an at:// URI, or None when it is not one."""
    if not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


class TidClock:
    """TIDs: 53 bits of microseconds since the epoch and a 10-bit clock id, never repeating."""

    def __init__(self, clock_id: int = 7) -> None:
        self._last = 0
        self._clock_id = clock_id & 0x3FF
        self._lock = threading.Lock()

    def next(self, epoch_seconds: float) -> str:
        with self._lock:
            micros = max(int(epoch_seconds * 1_000_000), self._last + 1)
            self._last = micros
        value = (micros << 10) | self._clock_id
        chars = []
        for _ in range(13):
            chars.append(_TID_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))
