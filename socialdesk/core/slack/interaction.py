"""What every Slack listener of the desk does first: who is this, may they, and how to answer.

Listeners acknowledge Slack at once and then do the work (Bolt runs the rest of the
listener after ``ack()`` returns the HTTP response or the Socket Mode ack). Answers to a
person go back ephemerally through the interaction's response_url.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from socialdesk.core.extensions import Actor
from socialdesk.core.slack.permissions import REFUSAL
from socialdesk.core.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)


def user_of(body: dict[str, Any]) -> str:
    """The Slack user behind a command (``user_id``) or an interaction (``user.id``)."""
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or "")


MAX_ID_DIGITS = 12


def id_in(value: Any) -> int | None:
    """The ticket, reply or incident id a button or menu option carries; ``None`` if the
    value is not one (not digits, or longer than any id)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None


def channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id") \
        or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None


async def tell(respond: AsyncRespond | None, text: str, **extra: Any) -> None:
    """An ephemeral answer to the person who acted (no-op without a response_url)."""
    if respond is None or respond.response_url is None:
        return
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False, **extra)
    except Exception as exc:  # the action happened; a lost confirmation must not look like a failure
        log.warning("could not answer through response_url", extra={"error": type(exc).__name__})


async def actor_or_refuse(rt: SlackRuntime, body: dict[str, Any], respond: AsyncRespond | None) -> Actor | None:
    """The desk actor, or ``None`` after telling a non-agent they may not (nothing changes)."""
    actor = await rt.permissions.actor(user_of(body))
    if actor is None:
        log.info("refused a non-agent", extra={"user": user_of(body), "type": body.get("type") or "command"})
        await tell(respond, REFUSAL)
    return actor


async def tell_privately(rt: SlackRuntime, channel: str | None, actor: Actor, text: str) -> None:
    """A modal has no response_url: an ephemeral message in the card's channel instead."""
    if channel is None:
        return
    try:
        await rt.client.chat_postEphemeral(channel=channel, user=actor.user_id, text=text)
    except (SlackApiError, OSError, TimeoutError) as exc:
        log.warning("could not tell the agent privately", extra={"error": type(exc).__name__})
