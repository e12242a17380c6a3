"""Where the bot listens (guilds, channels, their threads) and what makes a message a mention.

A message counts when it mentions the bot (the bot user, or the role Discord gives the bot,
which people pick from the @ menu just as often) or contains a configured keyword as a whole
word. Follow-ups without either are decided by the feed (see ``followed``). Bots, webhooks,
system messages (joins, pins, "started a thread") and the desk's own messages never count.
"""

from __future__ import annotations

import re

import discord

from socialdesk.plugins.discord.settings import DiscordSettings

# Channels whose messages (or whose threads' messages) a support desk reads by default.
WATCHED_KINDS = (discord.TextChannel, discord.ForumChannel)
_CONVERSATION_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def keyword_pattern(keywords: list[str]) -> re.Pattern[str] | None:
    if not keywords:
        return None
    alternatives = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


class Watch:
    def __init__(self, settings: DiscordSettings) -> None:
        self.guilds = frozenset(settings.guilds)
        self.channels = frozenset(settings.channels)
        self.listen_to_mentions = settings.listen_to_mentions
        self._keywords = keyword_pattern(settings.keywords)

    # -- where ------------------------------------------------------------------------------

    def watches_guild(self, guild_id: int) -> bool:
        return not self.guilds or guild_id in self.guilds

    def watches(self, channel: object, guild_id: int) -> bool:
        """A channel, or a thread through its parent."""
        if not self.watches_guild(guild_id):
            return False
        if isinstance(channel, discord.Thread):
            # Threads only grow under text, announcement and forum channels.
            return not self.channels or channel.parent_id in self.channels
        if self.channels:
            return getattr(channel, "id", None) in self.channels
        return isinstance(channel, WATCHED_KINDS)

    def parents_in(self, guild: discord.Guild) -> list[discord.abc.GuildChannel]:
        """The guild's watched channels (text and forum), from the gateway's cache."""
        if not self.watches_guild(guild.id):
            return []
        return [c for c in guild.channels if self.watches(c, guild.id)
                and isinstance(c, (discord.TextChannel, discord.ForumChannel, discord.VoiceChannel))]

    # -- what ----------------------------------------------------------------------------------

    @staticmethod
    def is_noise(message: discord.Message, me: discord.abc.User | None) -> bool:
        """Never a customer: bots (the desk itself included), webhooks, system messages."""
        if message.author.bot or message.webhook_id is not None:
            return True
        if me is not None and message.author.id == me.id:
            return True
        return message.type not in _CONVERSATION_TYPES

    def trigger(self, message: discord.Message, me: discord.abc.User | None) -> str | None:
        """``"mention"`` or ``"keyword"`` when the message is about the brand, else None."""
        if self.listen_to_mentions and me is not None and self._mentions_bot(message, me):
            return "mention"
        if self._keywords is not None and self._keywords.search(message.content):
            return "keyword"
        return None

    @staticmethod
    def _mentions_bot(message: discord.Message, me: discord.abc.User) -> bool:
        if any(user.id == me.id for user in message.mentions):
            return True
        guild = message.guild
        own_role = guild.self_role if guild is not None and guild.me is not None else None
        return own_role is not None and own_role.id in message.raw_role_mentions
