"""The Bolt app: ``/desk``, card clicks and modal submissions, wired to the desk.

``process_before_response`` stays off: Bolt answers Slack as soon as a listener calls
``ack()`` and lets the listener finish afterwards, so the 3-second deadline only covers
what happens before ``ack()``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from socialdesk.core.slack import (actions, history_modal, home_tab, incident_actions, past_answer_actions,
                                   reply_correction_actions, reply_counter_actions, reveal, submissions, takeover)
from socialdesk.core.slack.commands import CommandSet
from socialdesk.core.slack.authorization import DeskAuthorize
from socialdesk.core.slack.interaction import actor_or_refuse, channel_of, tell
from socialdesk.core.slack.replays import ack_budget, refuse_replays
from socialdesk.core.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)
BOLT_LOGGER = "socialdesk.slack.bolt"
# Slack waits 3 seconds for the acknowledgement; what runs longer answers later.
COMMAND_ACK_BUDGET_SECONDS = 2.0
STILL_WORKING = ("⏳ Still working on your {command} command; the outcome follows here. If nothing follows "
                 "within a minute, the desk restarted before saving it: check the card before trying again.")


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
        # After Bolt verified the signature, before anything acts: the same signed bytes twice act once.
        before_authorize=refuse_replays(app),
        # The bot's identity comes from the runtime's auth.test, retried; a 429 on it must not
        # turn a command into "install this app" (Bolt's own single-team check would).
        authorize=DeskAuthorize(rt),
    )
    commands = CommandSet(app, rt.settings.command)

    @bolt.command(rt.settings.command)
    async def desk_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                           context: dict[str, Any]) -> None:
        # The acknowledgement follows the commit: the answer (written once the change is
        # stored) goes out as the ack itself. Only a command slower than Slack's deadline is
        # acknowledged first, saying so; its outcome follows through response_url.
        async def run() -> str | None:
            actor = await actor_or_refuse(rt, body, respond)
            if actor is None:
                return None
            return await commands.run(app, rt, actor, str(body.get("text") or ""), channel_of(body))

        work = asyncio.ensure_future(run())
        done, _ = await asyncio.wait({work}, timeout=ack_budget(context, COMMAND_ACK_BUDGET_SECONDS))
        if done:
            answer = work.result()
            await ack(text=answer, response_type="ephemeral") if answer else await ack()
            return
        await ack(text=STILL_WORKING.format(command=rt.settings.command), response_type="ephemeral")
        answer = await work
        if answer:
            await tell(respond, answer)

    actions.register(bolt, app, rt)
    incident_actions.register(bolt, app, rt)
    reveal.register(bolt, app, rt)
    submissions.register(bolt, app, rt)
    takeover.register(bolt, app, rt)
    history_modal.register(bolt, app, rt)
    home_tab.register(bolt, app, rt)
    past_answer_actions.register(bolt, app, rt)
    reply_counter_actions.register(bolt, app, rt)
    reply_correction_actions.register(bolt, app, rt)
    app.hooks.slack_listeners(bolt)  # plugins' own listeners (the drafts buttons in the reply form)

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Never the body itself: it may carry a response_url (a credential) and customer text.
        log.error("slack listener failed", exc_info=error,
                  extra={"type": body.get("type") or body.get("command"), "user": (body.get("user") or {}).get("id")
                         or body.get("user_id")})

    return bolt
