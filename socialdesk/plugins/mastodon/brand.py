"""The brand account the desk reads mentions of and answers as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BrandAccount:
    """Who the access token belongs to (GET /api/v1/accounts/verify_credentials)."""

    id: str
    username: str
    acct: str
    url: str
