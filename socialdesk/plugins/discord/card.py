"""What a Discord ticket's card says about where the conversation is (server, channel, thread).

Names come from the gateway's cache; without it (a replica without the gateway) the ids.
The attachments and embeds are on the messages themselves (``Mention.attachments``).
"""

from __future__ import annotations

import discord

from socialdesk.core.extensions import CardField
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.plugins.discord.refs import ConversationRef
from socialdesk.plugins.discord.settings import PLATFORM


def where(conversation: ConversationRef, client: discord.Client | None) -> str:
    guild = client.get_guild(conversation.guild_id) if client is not None else None
    if guild is None:
        return f"channel {conversation.parent_id} in server {conversation.guild_id}"
    parent = guild.get_channel(conversation.parent_id)
    parent_name = f"#{parent.name}" if parent is not None else f"channel {conversation.parent_id}"
    thread = guild.get_thread(conversation.root_id)
    if thread is not None:
        return f"thread “{thread.name}” in {parent_name} · {guild.name}"
    return f"{parent_name} · {guild.name}"


def card_fields(ticket: TicketSnapshot, client: discord.Client | None) -> list[CardField] | None:
    if ticket.platform != PLATFORM:
        return None
    try:
        conversation = ConversationRef.parse(ticket.conversation_id)
    except ValueError:
        return None
    return [CardField("Discord", where(conversation, client))]
