"""What the core and platform plugins exchange about correcting a sent reply (edit, delete)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    EDIT = "edit"
    DELETE = "delete"


class ChangeStatus(StrEnum):
    PENDING = "pending"  # written, its outbox job not yet run
    PERFORMING = "performing"  # the platform request may be on its way: look before acting again
    DONE = "done"
    FAILED = "failed"  # the platform refused; the reply is as it was


@dataclass(frozen=True, slots=True)
class ReplyCapabilities:
    """What a platform lets the desk do to a reply it posted.

    ``edit_is_delete_and_repost``: the platform cannot edit a post (X); an edit deletes the
    reply and posts the new text as a new reply, which agents confirm knowing it.
    """

    platform: str
    can_edit: bool = False
    can_delete: bool = False
    edit_is_delete_and_repost: bool = False

    @property
    def editable(self) -> bool:
        return self.can_edit or (self.edit_is_delete_and_repost and self.can_delete)


@dataclass(frozen=True, slots=True)
class ReplyChangeRequest:
    """One edit (``text`` is the new text) or delete of the post ``platform_id``."""

    change_id: int
    reply_id: int
    ticket_id: int
    platform: str
    conversation_id: str
    platform_id: str
    kind: ChangeKind
    text: str | None = None


@dataclass(frozen=True, slots=True)
class PostState:
    """The answer of ``socialdesk_reply_post_state``: is the post there, and what does it say?"""

    exists: bool
    text: str | None = None
