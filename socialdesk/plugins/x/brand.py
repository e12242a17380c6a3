"""The brand account the desk reads mentions of and answers as."""

from __future__ import annotations

from dataclasses import dataclass

WEB = "https://x.com"


@dataclass(frozen=True)
class BrandAccount:
    """Who the posting credentials belong to (GET /2/users/me)."""

    id: str
    username: str

    def post_url(self, post_id: str) -> str:
        return f"{WEB}/{self.username}/status/{post_id}"
