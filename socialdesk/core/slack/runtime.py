"""One desk's Slack state: clients, pacing, permissions and the running listener.

Built-in plugins are modules (one object for every desk in the process), so the state of
each desk lives here, keyed weakly by its DeskApp: two desks in one process (tests,
benchmarks) share nothing, and a desk that is gone takes its Slack state with it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.admin.lists import admin_lists
from socialdesk.core.errors import DeskError
from socialdesk.core.per_desk import PerDesk
from socialdesk.core.slack.display_names import DisplayNames
from socialdesk.core.slack.directory import SlackDirectory
from socialdesk.core.slack.pacing import Pacer
from socialdesk.core.slack.permissions import Permissions
from socialdesk.core.slack.settings import PLUGIN_NAME, SlackSettings, slack_settings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.slack.runner import SlackListener

log = logging.getLogger(__name__)
NAME_CACHE_SECONDS = 600.0
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")

# Slack counts posts as they arrive. When the loop is busy a post leaves a few ms after
# its slot, so two posts one slot apart can arrive less than a second apart, and Slack
# refuses the second (429, then a second's block for the channel: a P1 card behind it
# waited 4 s in a storm). Slots are spaced this much wider than the configured rate.
ARRIVAL_MARGIN = 0.05


class SlackRuntime:
    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.settings: SlackSettings = slack_settings(app.config)
        self._bot_token: SecretStr = app.config.secret(self.settings.bot_token_env,
                                                      f"plugins.{PLUGIN_NAME}.bot_token_env")
        # Card delivery decides itself what may be retried: slack_sdk's default handler
        # re-sends on a dropped connection, which could post a card twice.
        self.delivery_client = self._client(retry_handlers=[])
        # Interactive calls (modals, user groups, names) keep slack_sdk's connection retries.
        self.client = self._client()
        rate = self.settings.rate
        self.pacer = Pacer(rate.per_channel_per_second / (1 + ARRIVAL_MARGIN), rate.burst)
        self.permissions = Permissions(app.config.desk, self.client, self.settings.permission_cache_seconds,
                                       members=admin_lists(app).members.lists)
        self.listener: SlackListener | None = None
        self.names = DisplayNames(self.client, ttl=NAME_CACHE_SECONDS)  # bounded, rate-limit aware
        self.directory = SlackDirectory(self.client, ttl=NAME_CACHE_SECONDS)  # "@alice" typed in a command
        self._team_url: str | None = None

    def _client(self, **kwargs: object) -> AsyncWebClient:
        return AsyncWebClient(token=self._bot_token.get_secret_value(), base_url=self.settings.api_url,
                              timeout=int(max(1, self.settings.request_timeout_seconds)), **kwargs)  # type: ignore[arg-type]

    @property
    def bot_token(self) -> str:
        return self._bot_token.get_secret_value()

    def secret(self, env_key: str) -> str:
        """A secret named by ``[plugins.slack] <env_key>`` (the app token, the signing secret)."""
        env_name = getattr(self.settings, env_key)
        return self.app.config.secret(env_name, f"plugins.{PLUGIN_NAME}.{env_key}").get_secret_value()

    async def macros(self) -> dict[str, str]:
        """``plugins.slack.macros`` with those added or removed by admins (``/desk macro add|remove``)."""
        return await admin_lists(self.app).macros.effective(self.settings.macros)

    async def agent_name(self, user_id: str) -> str:
        """How an agent signs a public reply: their Slack display name (or real name)."""
        return await self.names.name(user_id) or "the support team"

    async def check_token(self) -> None:
        """Ask Slack who the bot is (auth.test) before serving: a wrong token is a start-up
        error naming the variable, not a failure on the first click. Slack being briefly
        unreachable is only logged; the outbox retries."""
        try:
            answer = await self.client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type"):
                raise DeskError(
                    f"Slack refused the bot token in {self.settings.bot_token_env} (named by "
                    f"plugins.{PLUGIN_NAME}.bot_token_env): {error}; it must be the app's Bot User OAuth "
                    "Token (xoxb-...)") from None
            log.warning("auth.test failed at start-up", extra={"error": error})
            return
        except (OSError, TimeoutError) as exc:
            log.warning("Slack is not reachable at start-up", extra={"api_url": self.settings.api_url,
                                                                    "error": type(exc).__name__})
            return
        self._team_url = str(answer.get("url") or "") or None
        log.info("slack bot identified", extra={"team": answer.get("team"), "bot_user": answer.get("user_id")})

    async def plain_mentions(self, text: str) -> str:
        """``<@U123>`` as ``@Name``: for places where Slack shows text as typed (modal errors)."""
        for user_id in dict.fromkeys(_MENTION.findall(text)):
            text = text.replace(f"<@{user_id}>", "@" + await self.agent_name(user_id))
        return text

    async def permalink(self, channel: str | None, ts: str | None) -> str | None:
        """A link to a message, built from the workspace URL (one auth.test per desk)."""
        if not channel or not ts:
            return None
        if self._team_url is None:
            try:
                self._team_url = str((await self.client.auth_test())["url"])
            except (SlackApiError, OSError, TimeoutError, KeyError):
                return None
        base = self._team_url if self._team_url.endswith("/") else self._team_url + "/"
        return f"{base}archives/{channel}/p{ts.replace('.', '')}"


# The Slack state of an app, made on first use (it reads the bot token then).
runtime_for: PerDesk[SlackRuntime] = PerDesk(SlackRuntime)
existing_runtime = runtime_for.existing
