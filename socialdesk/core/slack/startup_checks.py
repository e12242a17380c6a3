"""What stops the Slack plugin from starting, found without connecting to Slack.

``socialdesk check`` and ``socialdesk run`` both ask (``socialdesk_startup_problems``), so a
desk with nowhere to post cards, or without the token its mode needs, is refused the same
way by both, one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.core.secrets import MissingSecret
from socialdesk.core.slack.routing import unrouted_problem
from socialdesk.core.slack.settings import PLUGIN_NAME, slack_settings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


def needed_secrets(app: DeskApp) -> tuple[str, ...]:
    """The settings keys naming the variables this mode reads: the bot token, and the app-level
    token (Socket Mode) or the signing secret (HTTP mode)."""
    mode_secret = "app_token_env" if slack_settings(app.config).mode == "socket" else "signing_secret_env"
    return ("bot_token_env", mode_secret)


def startup_problems(app: DeskApp) -> list[str]:
    problems: list[str] = []
    unrouted = unrouted_problem(app.config.desk)
    if unrouted:
        problems.append(unrouted)
    settings = slack_settings(app.config)
    for key in needed_secrets(app):
        try:
            app.config.secret(getattr(settings, key), f"plugins.{PLUGIN_NAME}.{key}")
        except MissingSecret as exc:
            problems.append(str(exc))
    return problems
