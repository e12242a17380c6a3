"""The brand account the desk reads notifications of and answers as."""

from __future__ import annotations

from dataclasses import dataclass

WEB = "https://bsky.app"


def post_web_url(author: str, uri: str) -> str:
    """bsky.app's address of the post ``uri`` (at://<did>/app.bsky.feed.post/<rkey>) by ``author``."""
    return f"{WEB}/profile/{author}/post/{uri.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class BrandAccount:
    did: str
    handle: str
    display_name: str | None = None
    followers: int | None = None

    def post_url(self, uri: str) -> str:
        return post_web_url(self.handle, uri)
