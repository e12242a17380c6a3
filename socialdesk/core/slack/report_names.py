"""Display names for ``socialdesk report``: asked of Slack (``users.info``) once per agent,
only when the slack plugin is enabled and its bot token is in the environment; otherwise
(or if Slack cannot answer) agents stay listed by id."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.config import AppConfig
from socialdesk.core.slack.display_names import DisplayNames
from socialdesk.core.slack.settings import PLUGIN_NAME, slack_settings

log = logging.getLogger(__name__)


async def report_names(config: AppConfig, agents: list[str],
                       environ: Mapping[str, str] | None = None) -> dict[str, str]:
    if not agents or PLUGIN_NAME not in config.enabled:
        return {}
    settings = slack_settings(config)
    token = (os.environ if environ is None else environ).get(settings.bot_token_env, "").strip()
    if not token:
        log.info("report lists agents by id: no bot token", extra={"variable": settings.bot_token_env})
        return {}
    client = AsyncWebClient(token=token, base_url=settings.api_url,
                            timeout=int(max(1, settings.request_timeout_seconds)))
    return await DisplayNames(client).names(agents)
