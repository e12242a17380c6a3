"""What the core and platform plugins exchange about replies: limits, requests, outcomes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplyLimits:
    """A platform's reply limits, shown to agents and enforced before anything is sent."""

    platform: str
    max_length: int
    unit: str = "characters"  # e.g. "weighted characters" on X


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """Everything a platform plugin needs to post one reply, in the customer's thread."""

    reply_id: int
    ticket_id: int
    platform: str
    conversation_id: str
    in_reply_to_id: str | None  # the platform id of the customer message answered
    text: str
    agent: str


@dataclass(frozen=True, slots=True)
class SurveyRequest:
    """A satisfaction survey to send after ``ticket_id`` closed (see ``socialdesk_send_survey``)."""

    survey_id: int
    ticket_id: int
    platform: str
    conversation_id: str
    author_external_id: str | None
    in_reply_to_id: str | None  # the customer's last message, for platforms that reply in thread
    text: str


@dataclass(frozen=True, slots=True)
class SentReply:
    """What the platform answered when the reply was posted."""

    platform_id: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ReconciledReply:
    """The answer of ``socialdesk_reconcile_reply``: was an uncertain reply posted after all?"""

    found: bool
    sent: SentReply | None = None


class PlatformError(Exception):
    """Base of the errors a platform plugin raises from ``socialdesk_send_reply``.

    Messages are shown to agents on the card: never put tokens in them.
    """


class TransientPlatformError(PlatformError):
    """Nothing was posted and trying again later may work (429, 5xx before processing).

    ``status`` is the platform's HTTP status when it answered one (429 for a rate limit):
    the desk's metrics count rate limits apart from other failures.
    """

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentPlatformError(PlatformError):
    """Nothing was posted and trying again will not help (deleted post, forbidden, invalid)."""


class AmbiguousPlatformError(PlatformError):
    """The request may have been posted (timeout after it left). Never re-sent automatically."""
