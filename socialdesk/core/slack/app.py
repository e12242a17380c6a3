"""The Bolt app: ``/desk``, card clicks and modal submissions, wired to the desk.

``process_before_response`` stays off: Bolt answers Slack as soon as a listener calls
``ack()`` and lets the listener finish afterwards, so the 3-second deadline only covers
what happens before ``ack()``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from socialdesk.core.slack import actions, incident_actions, reveal, submissions
from socialdesk.core.slack.commands import CommandSet
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, tell
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
BOLT_LOGGER = "socialdesk.slack.bolt"


class _ClientOverToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that the client
    given wins over it; the desk always gives the client (the variable plugins.toml names)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _ClientOverToken) for f in logger.filters):
        logger.addFilter(_ClientOverToken())
    return logger


def build_bolt_app(app: DeskApp, rt: SlackRuntime) -> AsyncApp:
    http = rt.settings.mode == "http"
    bolt = AsyncApp(
        client=rt.client,
        # HTTP requests are signed by Slack and verified by Bolt; Socket Mode needs no secret.
        signing_secret=rt.secret("signing_secret_env") if http else "",
        request_verification_enabled=http,
        process_before_response=False,
        logger=_bolt_logger(),
        name="socialdesk",
    )
    commands = CommandSet(app, rt.settings.command)

    @bolt.command(rt.settings.command)
    async def desk_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = await actor_or_refuse(rt, body, respond)
        if actor is None:
            return
        answer = await commands.run(app, rt, actor, str(body.get("text") or ""), channel_of(body))
        await tell(respond, answer)

    actions.register(bolt, app, rt)
    incident_actions.register(bolt, app, rt)
    reveal.register(bolt, app, rt)
    submissions.register(bolt, app, rt)

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Never the body itself: it may carry a response_url (a credential) and customer text.
        log.error("slack listener failed", exc_info=error,
                  extra={"type": body.get("type") or body.get("command"), "user": (body.get("user") or {}).get("id")
                         or body.get("user_id")})

    return bolt
