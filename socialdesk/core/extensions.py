"""Small value types that plugins return from declaration hooks (cards, commands, jobs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.outbox.jobs import OutboxJobSnapshot


@dataclass(frozen=True, slots=True)
class CardField:
    """One labelled line a plugin adds to a ticket's triage card (``value`` is plain text)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class TextSpan:
    """A range of a customer's text to hide on cards: ``text[start:end]`` is a ``label``."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class OnlineCheck:
    """What ``socialdesk check --online`` learnt from a platform with the configured credentials.

    ``seen`` lines describe what the credentials can reach ("account @acme (id 42)",
    "guild Acme Community: #support, #help-forum"); ``problems`` are what must be fixed
    ("the MESSAGE_CONTENT intent is not enabled: turn it on in the Developer Portal").
    """

    platform: str
    seen: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on the desk: a Slack user id, and whether they are a desk admin."""

    user_id: str
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class SubcommandCall:
    """A parsed ``/desk <name> <args>`` invocation handed to a plugin's subcommand."""

    name: str
    args: str
    actor: Actor
    channel_id: str | None = None


SubcommandHandler = Callable[[SubcommandCall, "DeskApp"], Awaitable[str] | str]


@dataclass(frozen=True, slots=True)
class DeskSubcommand:
    """An extra ``/desk`` subcommand. The handler returns the (ephemeral) text to show."""

    name: str
    usage: str
    summary: str
    handler: SubcommandHandler
    admin_only: bool = False


JobPerformer = Callable[["OutboxJobSnapshot", "DeskApp"], Awaitable[Any]]
