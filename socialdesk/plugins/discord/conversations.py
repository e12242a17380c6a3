"""Which conversation (and so which ticket) a Discord message belongs to.

The rules, in order:

1. A message in a thread (forum posts are threads) belongs to the thread: ``guild/parent/thread``.
2. A reply (``message_reference`` to a message in the same channel) belongs to the
   conversation of the message it replies to, so a customer answering our answer (or
   someone answering the customer) joins the ticket. Followed up the chain, that is the
   message the chain began with.
3. Any other message in a channel begins its own conversation: ``guild/channel/message``.
   A thread later started from it gets the same id on Discord, so rule 1 agrees with it.

Walking a reply chain needs the messages it passes through. Discord includes the replied-to
message in a reply (one level), every message seen is remembered (bounded), and beyond that
messages are fetched, at most :data:`MAX_CHAIN_DEPTH` of them. A chain that is longer, or
broken by a deleted message, is rooted at the deepest message reached: a conversation may
then split in two tickets, never merge two customers' tickets.
"""

from __future__ import annotations

from collections import OrderedDict

import discord

from socialdesk.plugins.discord.refs import ConversationRef

MAX_CHAIN_DEPTH = 25
REMEMBERED_MESSAGES = 20_000


def is_reply(message: discord.Message) -> bool:
    ref = message.reference
    return (message.type is discord.MessageType.reply and ref is not None and ref.message_id is not None
            and ref.channel_id == message.channel.id)


def parent_and_root(channel: discord.abc.GuildChannel | discord.Thread | discord.abc.Messageable,
                    message_id: int) -> tuple[int, int]:
    """(parent channel, root) of a message that begins a conversation in ``channel``."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id, channel.id
    return channel.id, message_id  # type: ignore[attr-defined]


class ConversationResolver:
    def __init__(self, capacity: int = REMEMBERED_MESSAGES) -> None:
        self._known: OrderedDict[int, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, message_id: int, conversation_id: str) -> None:
        self._known[message_id] = conversation_id
        self._known.move_to_end(message_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def known(self, message_id: int) -> str | None:
        return self._known.get(message_id)

    async def conversation_of(self, message: discord.Message, guild_id: int) -> str:
        conversation = self.known(message.id)
        if conversation is None:
            conversation = await self._resolve(message, guild_id)
            self.remember(message.id, conversation)
        return conversation

    async def _resolve(self, message: discord.Message, guild_id: int) -> str:
        channel = message.channel
        if isinstance(channel, discord.Thread) or not is_reply(message):
            parent, root = parent_and_root(channel, message.id)
            return ConversationRef(guild_id, parent, root).conversation_id
        return await self._root_of_chain(message, guild_id)

    async def _root_of_chain(self, message: discord.Message, guild_id: int) -> str:
        channel = message.channel
        reference = message.reference
        assert reference is not None and reference.message_id is not None
        target_id: int = reference.message_id
        resolved = reference.resolved
        passed: list[int] = []
        conversation: str | None = None
        for _ in range(MAX_CHAIN_DEPTH):
            conversation = self.known(target_id)
            if conversation is not None:
                break
            passed.append(target_id)
            if isinstance(resolved, discord.Message):
                target: discord.Message | None = resolved
            elif isinstance(resolved, discord.DeletedReferencedMessage):
                target = None  # Discord told us it is gone: no need to ask again
            else:
                target = await _fetch(channel, target_id)
            if target is None or not is_reply(target):
                break
            assert target.reference is not None and target.reference.message_id is not None
            target_id, resolved = target.reference.message_id, target.reference.resolved
        if conversation is None:
            conversation = ConversationRef(guild_id, channel.id, target_id).conversation_id
        for message_id in passed:  # the next reply into this chain needs no fetch
            self.remember(message_id, conversation)
        return conversation


async def _fetch(channel: discord.abc.Messageable, message_id: int) -> discord.Message | None:
    """The message, or None when it is gone or we may not read it (the chain ends there).

    Other errors (network, 5xx) propagate: the caller retries later rather than guess.
    """
    try:
        return await channel.fetch_message(message_id)
    except (discord.NotFound, discord.Forbidden):
        return None
