"""How Discord messages and conversations are named in the desk's store.

Both names are the path of a Discord jump URL, ``guild/channel/message``:

* a message's external id is ``guild/channel/message`` — the channel it lives in (a thread
  is a channel), so a reply can be posted next to it without asking Discord where it is;
* a conversation id is ``guild/parent/root``: for a thread, its parent channel and the
  thread's id; for a channel message, the channel and the message that began the reply
  chain. A thread started from a message takes that message's id on Discord, so the
  message and the thread that grows from it are one conversation, one ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

JUMP_URL = "https://discord.com/channels/{}/{}/{}"


def _parse_three(value: str, what: str) -> tuple[int, int, int]:
    parts = value.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a Discord {what} id (guild/channel/message): {value!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


@dataclass(frozen=True, slots=True)
class MessageRef:
    guild_id: int
    channel_id: int
    message_id: int

    @property
    def external_id(self) -> str:
        return f"{self.guild_id}/{self.channel_id}/{self.message_id}"

    @property
    def url(self) -> str:
        return JUMP_URL.format(self.guild_id, self.channel_id, self.message_id)

    @classmethod
    def parse(cls, external_id: str) -> MessageRef:
        return cls(*_parse_three(external_id, "message"))


@dataclass(frozen=True, slots=True)
class ConversationRef:
    guild_id: int
    parent_id: int  # the channel (or forum) the conversation is in
    root_id: int  # the thread, or the first message of the reply chain

    @property
    def conversation_id(self) -> str:
        return f"{self.guild_id}/{self.parent_id}/{self.root_id}"

    @classmethod
    def parse(cls, conversation_id: str) -> ConversationRef:
        return cls(*_parse_three(conversation_id, "conversation"))
