"""Agents' answers posted on Discord: once, as a reply to the customer's message, pinging nobody.

* The reply goes in the channel or thread of the customer's latest message, with
  ``reference=`` that message, so Discord shows it as a reply in place.
* ``allowed_mentions=AllowedMentions.none()``: ``@everyone``, roles and users written in an
  agent's text stay text.
* The nonce is derived from the reply, and discord.py sends it with ``enforce_nonce``:
  Discord answers a repeated send with the same nonce (for a few minutes) with the first
  message instead of posting again, so a retry — discord.py's own after a 5xx, or the
  outbox's — cannot post twice within that window.
* Errors are sorted by what they prove about the post (see :func:`classify`); after a
  server error the next attempt looks in the channel first, since the post may exist.
* Reconciling an uncertain reply reads the channel after the customer's message for our
  own message with that nonce, or replying to it with the same text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import aiohttp
import discord

from socialdesk.core.errors import DeskError
from socialdesk.core.platform import (
    AmbiguousPlatformError,
    PermanentPlatformError,
    PlatformError,
    ReconciledReply,
    ReplyRequest,
    SentReply,
    TransientPlatformError,
)
from socialdesk.core.secrets import redact
from socialdesk.plugins.discord.refs import MessageRef

if TYPE_CHECKING:
    from socialdesk.plugins.discord.runtime import DiscordRuntime

log = logging.getLogger(__name__)

NONCE_LENGTH = 25  # Discord's maximum
RECONCILE_SCAN_LIMIT = 1000  # messages read after the customer's message when looking for ours
RECONCILE_TIMEOUT_SECONDS = 120.0  # looking posts nothing: no hurry, but no hanging either


def reply_nonce(request: ReplyRequest) -> str:
    """Stable for one reply (same id, ticket, target and text), different for any other —
    also for a reply that reuses an id after the desk's database was reset."""
    digest = hashlib.sha256(
        f"{request.reply_id}|{request.ticket_id}|{request.in_reply_to_id}|{request.text}".encode()
    ).hexdigest()
    return ("sd" + digest)[:NONCE_LENGTH]


def _target(request: ReplyRequest) -> MessageRef:
    if not request.in_reply_to_id:
        raise PermanentPlatformError("this ticket has no Discord message to reply to")
    try:
        return MessageRef.parse(request.in_reply_to_id)
    except ValueError:
        raise PermanentPlatformError(f"not a Discord message id: {request.in_reply_to_id!r}") from None


def _discord_says(exc: discord.HTTPException) -> str:
    text = " ".join((exc.text or "").split()) or exc.response.reason or "no details"
    return redact(f"{exc.status} {text} (code {exc.code})")


def classify(exc: BaseException, timeout: float) -> PlatformError:
    """What a failed send proves: nothing posted (transient/permanent) or maybe posted (ambiguous)."""
    if isinstance(exc, discord.RateLimited):  # raised before the request is made
        return TransientPlatformError(f"Discord asks to wait {exc.retry_after:.0f} s (rate limit)",
                                      retry_after=exc.retry_after, status=429)
    if isinstance(exc, discord.Forbidden):
        return PermanentPlatformError(
            f"Discord refused the reply: {_discord_says(exc)}; the bot lacks access to this channel or "
            "the permission to send messages (or to reply: Read Message History) there")
    if isinstance(exc, discord.NotFound):
        return PermanentPlatformError(f"Discord refused the reply: {_discord_says(exc)}; the channel or "
                                      "thread is gone")
    if isinstance(exc, discord.DiscordServerError):
        return TransientPlatformError(f"Discord had a server error: {_discord_says(exc)}", status=exc.status)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return TransientPlatformError(f"Discord rate limit: {_discord_says(exc)}", status=429)
        if "message_reference" in (exc.text or ""):
            return PermanentPlatformError(f"the customer's message no longer exists on Discord: {_discord_says(exc)}")
        if 400 <= exc.status < 500:
            return PermanentPlatformError(f"Discord refused the reply: {_discord_says(exc)}")
        return TransientPlatformError(f"Discord answered {_discord_says(exc)}", status=exc.status)
    if isinstance(exc, aiohttp.ClientConnectorError):  # the connection was never made: nothing left
        return TransientPlatformError(f"could not connect to Discord: {type(exc).__name__}")
    if isinstance(exc, TimeoutError):
        return AmbiguousPlatformError(f"Discord did not answer within {timeout:g} s; the reply may have been posted")
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return AmbiguousPlatformError(
            f"the connection to Discord broke while sending ({type(exc).__name__}); the reply may have been posted")
    return AmbiguousPlatformError(f"unexpected error while sending to Discord: {type(exc).__name__}")


def _before_sending(exc: BaseException) -> PlatformError:
    """Errors while logging in: nothing was sent yet."""
    if isinstance(exc, discord.LoginFailure):
        return PermanentPlatformError("Discord refused the bot token (401); reset it in the Developer Portal "
                                      "and restart the desk")
    if isinstance(exc, DeskError):  # a missing environment variable, conflicting endpoints
        return PermanentPlatformError(str(exc))
    if isinstance(exc, discord.HTTPException):
        return TransientPlatformError(f"could not log in to Discord: {_discord_says(exc)}")
    return TransientPlatformError(f"could not reach Discord: {type(exc).__name__}")


def _sent(target: MessageRef, message_id: int) -> SentReply:
    ref = MessageRef(target.guild_id, target.channel_id, message_id)
    return SentReply(platform_id=ref.external_id, url=ref.url)


async def find_posted(client: discord.Client, target: MessageRef, request: ReplyRequest) -> discord.Message | None:
    """Our own message after the customer's: with this reply's nonce, or replying with its text.

    Discord does not return nonces in history for every message, so the reference and the
    text are the fallback (two identical answers to one message would be taken for one).
    """
    me = client.user
    if me is None:
        return None
    nonce = reply_nonce(request)
    channel = client.get_partial_messageable(target.channel_id, guild_id=target.guild_id)
    after = discord.Object(id=target.message_id)
    async for message in channel.history(limit=RECONCILE_SCAN_LIMIT, after=after, oldest_first=True):
        if message.author.id != me.id:
            continue
        if message.nonce is not None and str(message.nonce) == nonce:
            return message
        replied_to = message.reference.message_id if message.reference else None
        if replied_to == target.message_id and message.content == request.text:
            return message
    return None


async def send_reply(runtime: DiscordRuntime, request: ReplyRequest) -> SentReply:
    target = _target(request)
    timeout = runtime.settings.request_timeout_seconds
    async with AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(runtime.rest())
        except Exception as exc:
            raise _before_sending(exc) from None
        try:
            if request.reply_id in runtime.look_before_sending:
                earlier = await asyncio.wait_for(find_posted(client, target, request), RECONCILE_TIMEOUT_SECONDS)
                if earlier is not None:
                    log.info("discord reply found posted by an earlier attempt", extra={"reply_id": request.reply_id})
                    runtime.look_before_sending.discard(request.reply_id)
                    return _sent(target, earlier.id)
            channel = client.get_partial_messageable(target.channel_id, guild_id=target.guild_id)
            reference = discord.MessageReference(message_id=target.message_id, channel_id=target.channel_id,
                                                 guild_id=target.guild_id, fail_if_not_exists=True)
            message = await asyncio.wait_for(
                channel.send(request.text, reference=reference, allowed_mentions=discord.AllowedMentions.none(),
                             nonce=reply_nonce(request)),
                timeout,
            )
        except Exception as exc:
            error = classify(exc, timeout)
            if isinstance(exc, discord.DiscordServerError):
                runtime.look_before_sending.add(request.reply_id)
            raise error from None
    runtime.look_before_sending.discard(request.reply_id)
    # Our reply is part of the conversation: a customer answering it joins the ticket.
    runtime.conversations.remember(message.id, request.conversation_id)
    runtime.followed.add(request.conversation_id)
    return _sent(target, message.id)


async def reconcile_reply(runtime: DiscordRuntime, request: ReplyRequest) -> ReconciledReply | None:
    try:
        target = _target(request)
    except PlatformError:
        return ReconciledReply(found=False)  # there was nowhere to post it
    try:
        async with runtime.rest() as client:
            found = await asyncio.wait_for(find_posted(client, target, request), RECONCILE_TIMEOUT_SECONDS)
    except Exception as exc:
        # Could not look: say nothing, so the reply stays uncertain for an agent.
        log.warning("could not look on Discord for an uncertain reply",
                    extra={"reply_id": request.reply_id, "error": redact(f"{type(exc).__name__}: {exc}")})
        return None
    if found is None:
        return ReconciledReply(found=False)
    runtime.conversations.remember(found.id, request.conversation_id)
    return ReconciledReply(found=True, sent=_sent(target, found.id))
