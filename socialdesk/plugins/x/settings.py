"""``[plugins.x]``: validated once at start-up; every message says what is wrong and the fix.

Secrets are never here, only the NAMES of the environment variables that hold them.
Reading uses the app's bearer token; posting uses exactly one of OAuth 1.0a user
context (four variables, the default) or an OAuth 2.0 user access token (one variable:
setting ``user_access_token_env`` chooses it). Every name has a default, so a desk
that does not use X validates without a ``[plugins.x]`` table.
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName, LookbackMinutes, RequestTimeoutSeconds
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "x"
DEFAULT_API_BASE = "https://api.twitter.com"
MIN_POLL_INTERVAL = 15
MAX_POLL_INTERVAL = 86_400
MAX_QUERY_LENGTH = 4096  # X's ceiling; smaller access levels allow 512 (X answers 400 then)
OAUTH1_KEYS = ("consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env")



class XSettings(StrictModel):
    api_base: str = DEFAULT_API_BASE
    bearer_token_env: EnvVarName = "X_BEARER_TOKEN"
    consumer_key_env: EnvVarName = "X_CONSUMER_KEY"
    consumer_secret_env: EnvVarName = "X_CONSUMER_SECRET"
    access_token_env: EnvVarName = "X_ACCESS_TOKEN"
    access_token_secret_env: EnvVarName = "X_ACCESS_TOKEN_SECRET"
    user_access_token_env: EnvVarName | None = None  # set it to post with an OAuth 2.0 user token instead
    # OAuth 2.0 only: renew the two-hour user token with this refresh token (kept in the database
    # after the first use, since each refresh rotates it), as the app with this client id.
    refresh_token_env: EnvVarName | None = None
    client_id_env: EnvVarName = "X_CLIENT_ID"
    client_secret_env: EnvVarName | None = None  # confidential clients only
    poll_interval: int = 60
    search_query: str | None = None
    max_results: int = 100
    first_poll_lookback_minutes: LookbackMinutes = 60
    request_timeout_seconds: RequestTimeoutSeconds = 30.0

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        # Every request carries a token: plain http only to this machine (the sandbox).
        return checked_url(value, DEFAULT_API_BASE, allow_query=False)

    @field_validator("poll_interval")
    @classmethod
    def _check_poll_interval(cls, value: int) -> int:
        if value < MIN_POLL_INTERVAL:
            raise ValueError(f"must be at least {MIN_POLL_INTERVAL} seconds (got {value})")
        if value > MAX_POLL_INTERVAL:
            raise ValueError(f"must be at most {MAX_POLL_INTERVAL} seconds, one day (got {value})")
        return value

    @field_validator("search_query")
    @classmethod
    def _check_search_query(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("is empty; remove the key to poll mentions only, or write a query such as '\"acme\" -is:retweet'")
        if len(value) > MAX_QUERY_LENGTH:
            raise ValueError(f"is {len(value)} characters; X accepts {MAX_QUERY_LENGTH} at most")
        return value

    @field_validator("max_results")
    @classmethod
    def _check_max_results(cls, value: int) -> int:
        if not 10 <= value <= 100:
            raise ValueError(f"must be from 10 to 100 posts per page (got {value})")
        return value

    @model_validator(mode="after")
    def _one_posting_method(self) -> XSettings:
        # The OAuth 1.0a names have defaults; naming any of them *and* an OAuth 2.0 user
        # token leaves two ways of posting, and the desk will not guess which one is meant.
        named = [key for key in OAUTH1_KEYS if key in self.model_fields_set]
        if named and self.user_access_token_env is not None:
            raise ValueError(
                f"name one way of posting, not both: remove {', '.join(named)} to post with the OAuth 2.0 "
                "user token, or remove user_access_token_env to post with OAuth 1.0a"
            )
        return self

    @model_validator(mode="after")
    def _refresh_needs_oauth2(self) -> XSettings:
        if self.refresh_token_env is not None and self.user_access_token_env is None:
            raise ValueError("refresh_token_env renews an OAuth 2.0 user token: set user_access_token_env too "
                             "(OAuth 1.0a tokens do not expire and need no refresh)")
        return self

    @property
    def refreshes(self) -> bool:
        """Whether the OAuth 2.0 user token is renewed with a refresh token."""
        return self.refresh_token_env is not None

    @property
    def posting_method(self) -> Literal["oauth1", "oauth2"]:
        return "oauth2" if self.user_access_token_env is not None else "oauth1"

    def secret_keys(self) -> tuple[str, ...]:
        """The keys naming the environment variables the desk reads: the bearer token and
        the posting method's credentials."""
        if self.posting_method == "oauth2":
            refresh = ("refresh_token_env", "client_id_env") if self.refreshes else ()
            confidential = ("client_secret_env",) if self.refreshes and self.client_secret_env else ()
            return ("bearer_token_env", "user_access_token_env", *refresh, *confidential)
        return ("bearer_token_env", *OAUTH1_KEYS)
