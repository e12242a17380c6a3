"""``[plugins.slack]``: how the desk talks to Slack. Secrets are named, never written here."""

from __future__ import annotations

import dataclasses
import re
import types
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from socialdesk.core.config import AppConfig, StrictModel
from socialdesk.core.config_types import EnvVarName, Priority
from socialdesk.core.errors import DeskError
from socialdesk.core.slack.home_settings import HomeSettings

PLUGIN_NAME = "slack"
DEFAULT_API_URL = "https://slack.com/api/"
MACRO_VARIABLES = ("author", "handle", "agent", "ticket", "platform")
_MACRO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_VARIABLE = re.compile(r"\{([^{}]*)\}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_MACRO_CHARS = 3000


class HttpSettings(StrictModel):
    """Where the HTTP-mode endpoint listens (Slack's request URL points here)."""

    host: str = "0.0.0.0"
    port: int = Field(3000, ge=0, le=65535)  # 0: any free port (tests)
    path: str = "/slack/events"

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError(f"must be an absolute URL path such as /slack/events (got {value!r})")
        return value


class RateSettings(StrictModel):
    """The desk's own pacing of chat.postMessage per channel, below Slack's limit.

    Slack allows about one message per second per channel with short bursts; pacing
    ourselves keeps 429s rare, and a Retry-After from Slack always wins.
    """

    per_channel_per_second: float = Field(1.0, gt=0, le=100)
    burst: int = Field(3, ge=1, le=50)
    # A card job waits this long in its worker at most; longer waits go back to the outbox.
    max_inline_wait_seconds: float = Field(2.0, ge=0, le=30)


class SlackSettings(StrictModel):
    mode: Literal["socket", "http"] = "socket"
    bot_token_env: EnvVarName = "SLACK_BOT_TOKEN"
    app_token_env: EnvVarName = "SLACK_APP_TOKEN"  # Socket Mode only
    signing_secret_env: EnvVarName = "SLACK_SIGNING_SECRET"  # HTTP mode only
    api_url: str = DEFAULT_API_URL
    http: HttpSettings = HttpSettings()
    rate: RateSettings = RateSettings()
    command: str = "/desk"
    macros: dict[str, str] = {}
    oncall_priorities: list[Priority] = [1]  # cards of these priorities mention desk.oncall_group
    message_preview_chars: int = Field(1200, ge=100, le=2900)
    request_timeout_seconds: float = Field(10.0, gt=0, le=120)
    permission_cache_seconds: float = Field(60.0, ge=0, le=3600)
    home: HomeSettings = HomeSettings()  # the App Home tab

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_API_URL} (got {value!r})")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            # The bot token travels with every call: plain HTTP only to a local sandbox.
            raise ValueError(f"must use https unless it points at this machine (got {value!r})")
        return value if value.endswith("/") else value + "/"

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError(f"must be a slash command such as /desk (got {value!r})")
        return value

    @field_validator("macros")
    @classmethod
    def _macros(cls, macros: dict[str, str]) -> dict[str, str]:
        for name, text in macros.items():
            if not _MACRO_NAME.match(name):
                raise ValueError(f"macro name {name!r} must be lowercase letters, digits, - or _ (at most 40)")
            if not text.strip():
                raise ValueError(f"macro {name!r} is empty")
            if len(text) > MAX_MACRO_CHARS:
                raise ValueError(f"macro {name!r} is longer than {MAX_MACRO_CHARS} characters")
            unknown = sorted({v for v in _VARIABLE.findall(text) if v not in MACRO_VARIABLES})
            if unknown:
                known = ", ".join("{" + v + "}" for v in MACRO_VARIABLES)
                raise ValueError(f"macro {name!r} uses unknown variable(s) "
                                 f"{', '.join('{' + v + '}' for v in unknown)}; known: {known}")
        return macros


def slack_settings(config: AppConfig) -> SlackSettings:
    settings = config.settings(PLUGIN_NAME)
    return settings if isinstance(settings, SlackSettings) else SlackSettings()


def with_run_overrides(config: AppConfig, *, http: bool, port: int | None) -> AppConfig:
    """``socialdesk run --http [--port N]``: HTTP mode (and its port) for this run only."""
    if not http and port is None:
        return config
    if port is not None and not http:
        raise DeskError("--port only applies with --http (Socket Mode listens on no port)")
    if PLUGIN_NAME not in config.enabled:
        raise DeskError(f"--http runs the Slack app in HTTP mode, but the {PLUGIN_NAME} plugin is not enabled: "
                        f"add [plugins.{PLUGIN_NAME}] with enabled = true to {config.file}")
    current = slack_settings(config)
    http_settings = current.http if port is None else current.http.model_copy(update={"port": port})
    updated = current.model_copy(update={"mode": "http", "http": http_settings})
    plugin_settings = types.MappingProxyType({**config.plugin_settings, PLUGIN_NAME: updated})
    return dataclasses.replace(config, plugin_settings=plugin_settings)
