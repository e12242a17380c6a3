"""``[plugins.reddit]``: validated at start-up; secrets only by the names of their variables.

Credentials: a *script* app posts as its own account (``username_env`` and
``password_env``, the default); a *web* app uses a refresh token obtained once through
the OAuth flow (set ``refresh_token_env``; ``username`` then names the account for the
User-Agent and for recognising our own comments).
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "reddit"
PLATFORM = "reddit"
MAX_COMMENT_LENGTH = 10_000
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")
# Reddit's required form: <platform>:<app ID>:<version string> (by /u/<reddit username>)
USER_AGENT = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+ \(by /u/[A-Za-z0-9_-]{3,20}\)$")


class RedditSettings(StrictModel):
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    client_id_env: EnvVarName = "REDDIT_CLIENT_ID"
    client_secret_env: EnvVarName = "REDDIT_CLIENT_SECRET"
    username_env: EnvVarName = "REDDIT_USERNAME"
    password_env: EnvVarName = "REDDIT_PASSWORD"
    refresh_token_env: EnvVarName | None = None  # a web app's token; instead of username/password
    username: str | None = None  # the account, for a web app (a script app reads it from username_env)
    app_id: str = "socialdesk"
    app_version: str = "1.0"
    developer: str | None = None  # /u/<developer> in the User-Agent; the account when unset
    subreddits: list[str] = []
    keywords: list[str] = []
    inbox: bool = True
    poll_interval: int = 60
    request_timeout_seconds: float = 16.0

    @field_validator("oauth_url", "reddit_url")
    @classmethod
    def _check_urls(cls, value: str) -> str:
        return checked_url(value, "https://oauth.reddit.com", allow_path=False)

    @field_validator("subreddits")
    @classmethod
    def _check_subreddits(cls, value: list[str]) -> list[str]:
        names = [name.strip().removeprefix("r/").removeprefix("/r/") for name in value]
        for name in names:
            if not _SUBREDDIT.match(name):
                raise ValueError(f"{name!r} is not a subreddit name; write it without r/, e.g. 'acme'")
        return names

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, value: list[str]) -> list[str]:
        keywords = [k.strip() for k in value if k.strip()]
        if len(keywords) != len(value):
            raise ValueError("has an empty keyword; remove it")
        return keywords

    @field_validator("username", "developer")
    @classmethod
    def _check_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("/u/").removeprefix("u/")
        if not _USERNAME.match(value):
            raise ValueError(f"must be a Reddit username (3-20 letters, digits, '-' or '_'), got {value!r}")
        return value

    @field_validator("app_id", "app_version")
    @classmethod
    def _check_agent_part(cls, value: str) -> str:
        if not value or re.search(r"[:\s()]", value):
            raise ValueError(f"must have no spaces, colons or brackets: it goes into the User-Agent (got {value!r})")
        return value

    @field_validator("poll_interval")
    @classmethod
    def _check_interval(cls, value: int) -> int:
        if not 30 <= value <= 86_400:
            raise ValueError(f"must be from 30 to 86400 seconds (got {value}); Reddit allows about 100 requests "
                             "a minute per client")
        return value

    @model_validator(mode="after")
    def _streams(self) -> RedditSettings:
        if self.subreddits and not self.keywords:
            raise ValueError("subreddits are watched for keywords: add keywords = [\"acme\", ...], or remove "
                             "subreddits to read the inbox only")
        if not self.subreddits and not self.inbox:
            raise ValueError("nothing to read: set inbox = true or list subreddits and keywords")
        if self.refresh_token_env is not None and self.username is None:
            raise ValueError("a web app (refresh_token_env) needs username = \"<the account>\"")
        return self

    def user_agent(self, account: str) -> str:
        return f"python:{self.app_id}:{self.app_version} (by /u/{self.developer or account})"
