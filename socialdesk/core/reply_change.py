"""What the core and platform plugins exchange about correcting a sent reply (edit, delete)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
    """How a posted reply is now: is the post there, and what does it say?"""

    exists: bool
    text: str | None = None


ChangeAction = Callable[[ReplyChangeRequest], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class ReplyChanger:
    """How one platform corrects the replies the desk posted there (``socialdesk_reply_changer``).

    ``edit`` replaces the text in place (only with ``capabilities.can_edit``); ``delete``
    removes the post, a post already gone counting as deleted; each returns ``True`` once
    done and raises the ``PlatformError`` kinds of ``socialdesk_send_reply``. ``post_state``
    looks at the post before an edit or delete that may already have happened is repeated;
    it raises when the platform cannot be asked now.
    """

    capabilities: ReplyCapabilities
    post_state: Callable[[ReplyChangeRequest], Awaitable[PostState]] | None = None
    edit: ChangeAction | None = None
    delete: ChangeAction | None = None
