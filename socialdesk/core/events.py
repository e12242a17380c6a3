"""Ticket lifecycle events: written to the audit table and offered to observer plugins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    CREATED = "created"
    MESSAGE_ADDED = "message_added"  # a follow-up joined the ticket
    TRIAGED = "triaged"
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    ASSIGNED = "assigned"
    REPLY_QUEUED = "reply_queued"
    REPLY_SENT = "reply_sent"
    REPLY_FAILED = "reply_failed"
    REPLY_UNCERTAIN = "reply_uncertain"
    REPLY_RETRIED = "reply_retried"
    REPLY_DISCARDED = "reply_discarded"
    REPLY_EDIT_REQUESTED = "reply_edit_requested"  # details: reply_id, change_id, text
    REPLY_DELETE_REQUESTED = "reply_delete_requested"  # details: reply_id, change_id
    REPLY_EDITED = "reply_edited"  # details: reply_id, change_id, previous, text, replacement_reply_id (X)
    REPLY_DELETED = "reply_deleted"  # details: reply_id, change_id
    REPLY_CHANGE_FAILED = "reply_change_failed"  # details: reply_id, change_id, kind, error
    NOTE_ADDED = "note_added"
    SNOOZED = "snoozed"
    WOKEN = "woken"
    CLOSED = "closed"
    REOPENED = "reopened"
    MARKED_SPAM = "marked_spam"
    SLA_REMINDED = "sla_reminded"  # details: timer (first_response | resolution), due_at
    SLA_BREACHED = "sla_breached"  # details: timer, due_at, announced (False: stopped late, nothing posted)
    PII_REVEALED = "pii_revealed"  # an agent was shown a message's hidden personal data
    CSAT_SENT = "csat_sent"  # a satisfaction survey went to the customer
    CSAT_ANSWERED = "csat_answered"  # the customer answered it (score, comment)
    MESSAGES_REDACTED = "messages_redacted"  # retention replaced old customer text
    TRIAGE_CORRECTED = "triage_corrected"  # an agent set priority and/or category: details priority/category {from, to}


SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One state change. ``actor`` is a Slack user id, or ``system`` for the desk itself."""

    kind: EventKind
    ticket_id: int
    actor: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)
