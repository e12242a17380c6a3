"""Correcting a reply the bot posted on Discord: edit in place (PATCH), delete (DELETE).

Discord lets a bot edit and delete its own messages, so both are offered. The edit keeps
``allowed_mentions`` empty, as the send did: an edited text pings nobody either. Errors are
sorted by :func:`socialdesk.plugins.discord.replies.classify` (the same question: could it
have happened?). A message already gone counts as deleted.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from functools import partial
from typing import TYPE_CHECKING

import discord

from socialdesk.core.platform import PermanentPlatformError
from socialdesk.core.reply_change import PostState, ReplyCapabilities, ReplyChangeRequest, ReplyChanger
from socialdesk.plugins.discord.refs import MessageRef
from socialdesk.plugins.discord.replies import _before_sending, classify
from socialdesk.plugins.discord.settings import PLATFORM

if TYPE_CHECKING:
    from socialdesk.plugins.discord.runtime import DiscordRuntime

CAPABILITIES = ReplyCapabilities(PLATFORM, can_edit=True, can_delete=True)


def _post(request: ReplyChangeRequest) -> MessageRef:
    try:
        return MessageRef.parse(request.platform_id)
    except ValueError:
        raise PermanentPlatformError(f"not a Discord message id: {request.platform_id!r}") from None


async def _client(stack: AsyncExitStack, runtime: DiscordRuntime) -> discord.Client:
    try:
        return await stack.enter_async_context(runtime.rest())
    except Exception as exc:
        raise _before_sending(exc) from None


def _message(client: discord.Client, post: MessageRef) -> discord.PartialMessage:
    """Our posted reply, addressed without fetching it (one request less per change)."""
    return client.get_partial_messageable(post.channel_id, guild_id=post.guild_id).get_partial_message(post.message_id)


async def edit_reply(runtime: DiscordRuntime, request: ReplyChangeRequest) -> bool:
    post = _post(request)
    timeout = runtime.settings.request_timeout_seconds
    async with AsyncExitStack() as stack:
        client = await _client(stack, runtime)
        message = _message(client, post)
        try:
            await asyncio.wait_for(message.edit(content=request.text or "",
                                                allowed_mentions=discord.AllowedMentions.none()), timeout)
        except discord.NotFound:
            raise PermanentPlatformError("the reply is no longer on Discord (deleted), so it cannot be edited") \
                from None
        except Exception as exc:
            raise classify(exc, timeout) from None
    return True


async def delete_reply(runtime: DiscordRuntime, request: ReplyChangeRequest) -> bool:
    post = _post(request)
    timeout = runtime.settings.request_timeout_seconds
    async with AsyncExitStack() as stack:
        client = await _client(stack, runtime)
        message = _message(client, post)
        try:
            await asyncio.wait_for(message.delete(), timeout)
        except discord.NotFound:
            return True  # already gone: what was asked for
        except Exception as exc:
            raise classify(exc, timeout) from None
    return True


async def post_state(runtime: DiscordRuntime, request: ReplyChangeRequest) -> PostState:
    post = _post(request)
    async with runtime.rest() as client:
        channel = client.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        try:
            message = await asyncio.wait_for(channel.fetch_message(post.message_id),
                                             runtime.settings.request_timeout_seconds)
        except discord.NotFound:
            return PostState(exists=False)
    return PostState(exists=True, text=message.content)


def changer(runtime: DiscordRuntime) -> ReplyChanger:
    return ReplyChanger(CAPABILITIES, post_state=partial(post_state, runtime),
                        edit=partial(edit_reply, runtime), delete=partial(delete_reply, runtime))
