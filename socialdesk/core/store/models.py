"""The store's tables (SQLAlchemy 2 declarative). Schema changes go through Alembic."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    literal_column,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from socialdesk.core.store.lossless_text import LosslessJSON, LosslessString, LosslessText
from socialdesk.core.ticket import ACTIVE_STATUSES, POSTED_REPLY_STATUSES

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

_ACTIVE_SQL = "status IN (" + ", ".join(f"'{s}'" for s in ACTIVE_STATUSES) + ")"


def is_active(status: Any) -> ColumnElement[bool]:
    """``status IN ('open', ...)`` with the statuses written as literals, not bound: only
    then can SQLite (and PostgreSQL's generic plans) prove the partial indexes' WHERE."""
    return status.in_([literal_column(f"'{s}'") for s in ACTIVE_STATUSES])  # type: ignore[no-any-return]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, whatever the database keeps (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_authors_platform_external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(LosslessString(200))
    handle: Mapped[str] = mapped_column(LosslessString(200))
    display_name: Mapped[str | None] = mapped_column(LosslessString(200))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    profile_url: Mapped[str | None] = mapped_column(LosslessString(500))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # One active ticket per conversation: a follow-up joins it instead of making a card.
        Index(
            "uq_tickets_active_conversation",
            "platform",
            "conversation_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_tickets_status_priority", "status", "priority"),
        Index("ix_tickets_snoozed_until", "snoozed_until"),
        # The queue (most urgent, oldest first) and an agent's `mine`, read in index order
        # and cut at the listing's limit instead of sorting every active ticket.
        Index("ix_tickets_active_queue", "priority", "created_at", "id",
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_tickets_active_assignee", "assignee", "priority", "created_at", "id",
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_tickets_author_created", "author_id", "created_at", "id"),  # history, newest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # the short human id: #42
    platform: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(LosslessString(200))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(default=list)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None]
    language: Mapped[str | None] = mapped_column(String(16))
    spam_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_reasons: Mapped[list[str]] = mapped_column(default=list)
    suggested_macro: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(LosslessString(500))
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_message_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A storm's tickets share one incident card instead of a card each.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    sla_breached_at: Mapped[datetime | None]


# `/desk history @handle` matches handles in any case.
Index("ix_authors_handle_lower", func.lower(Author.handle))


class Incident(Base):
    """A storm: near-identical mentions from many people, shown on one card."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("storm_key", name="uq_incidents_storm_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    storm_key: Mapped[str] = mapped_column(LosslessString(200))  # stable id the storm plugin chose
    title: Mapped[str] = mapped_column(LosslessString(500))  # a representative text, bounded
    status: Mapped[str] = mapped_column(String(16))  # active | closed
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Exactly-once ingest: the platform's id is unique. Notes have no external id
        # (NULLs are distinct on both databases).
        UniqueConstraint("platform", "external_id", name="uq_messages_platform_external_id"),
        Index("ix_messages_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(LosslessString(200))
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound | note
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    agent: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(LosslessText)
    url: Mapped[str | None] = mapped_column(LosslessString(500))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    in_reply_to_id: Mapped[str | None] = mapped_column(LosslessString(200))
    attachments: Mapped[list[str]] = mapped_column(LosslessJSON, default=list)
    # What the customer attached (socialdesk.core.attachments.Attachment as dicts); NULL: none.
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(LosslessJSON)
    created_at: Mapped[datetime]  # when it was written on the platform
    received_at: Mapped[datetime]  # when the desk stored it


class Reply(Base):
    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_ticket_id", "ticket_id"), Index("ix_replies_status", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    in_reply_to_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    text: Mapped[str] = mapped_column(LosslessText)
    agent: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    close_after: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_id: Mapped[str | None] = mapped_column(String(200))
    platform_url: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(LosslessText)
    created_at: Mapped[datetime]
    sending_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ReplyChange(Base):
    """An edit or delete of a sent reply, asked for by an agent and performed once by the outbox.

    ``status``: pending -> performing (the platform request may be on its way) -> done | failed.
    A job that finds ``performing`` looks at the platform before acting again. An X "edit"
    (delete, then a new reply) names the new reply in ``replacement_reply_id``.
    """

    __tablename__ = "reply_changes"
    __table_args__ = (Index("ix_reply_changes_reply_id", "reply_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # edit | delete
    text: Mapped[str | None] = mapped_column(LosslessText)  # the new text of an edit
    actor: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(LosslessText)
    replacement_reply_id: Mapped[int | None] = mapped_column(ForeignKey("replies.id"))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


def is_counted_answer() -> ColumnElement[bool]:
    """A reply that reached the platform, for counting answers: an X edit's repost is left
    out, since the reply it replaced (now ``edited``) already counts for that answer."""
    return and_(Reply.status.in_(POSTED_REPLY_STATUSES),
                ~exists().where(ReplyChange.replacement_reply_id == Reply.id))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_ticket_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(LosslessJSON, default=dict)


class OutboxJob(Base):
    __tablename__ = "outbox_jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_jobs_dedupe_key"),
        Index("ix_outbox_jobs_due", "status", "priority", "not_before"),
        Index("ix_outbox_jobs_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(LosslessJSON, default=dict)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    priority: Mapped[int] = mapped_column(Integer)  # lower runs first
    status: Mapped[str] = mapped_column(String(16))  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(LosslessText)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Cursor(Base):
    __tablename__ = "cursors"

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(LosslessText)
    updated_at: Mapped[datetime]


class PushDelivery(Base):
    """One push (webhook) delivery accepted from a source: a second one with the same id is a replay.

    Written after the delivery's mentions are committed (ingest is idempotent, so a retry in
    between stores nothing twice); rows older than the replay window are pruned.
    """

    __tablename__ = "push_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_push_deliveries_source_delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)


class SlaTimer(Base):
    """One SLA clock of a ticket (first response or resolution), in business time.

    ``due_at``/``remind_at`` move later while the clock is paused (snoozed, waiting on
    the customer); ``reminded_at``/``breached_at`` are set in the same transaction as the
    outbox job that announces them, so a reminder or breach is never announced twice.
    """

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_sla_timers_ticket_id_kind"),
        Index("ix_sla_timers_due_at", "due_at"),
        Index("ix_sla_timers_remind_at", "remind_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # first_response | resolution
    target_seconds: Mapped[int] = mapped_column(Integer)  # business seconds
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]


class CsatSurvey(Base):
    """A one-question satisfaction survey sent after a ticket closed, and its answer."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        UniqueConstraint("ticket_id", name="uq_csat_surveys_ticket_id"),
        Index("ix_csat_surveys_conversation", "platform", "conversation_id"),
        Index("ix_csat_surveys_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    platform: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(LosslessString(200))
    author_external_id: Mapped[str | None] = mapped_column(LosslessString(200))
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | answered | expired | failed
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(Integer)
    answer_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    comment: Mapped[str | None] = mapped_column(LosslessText)


class HandledSlackRequest(Base):
    """A signed Slack request already acted on: the same bytes sent again are a replay.

    Kept in the database so that every replica behind the load balancer sees it; rows
    outlive Slack's 5-minute signature window and are then deleted.
    """

    __tablename__ = "handled_slack_requests"
    __table_args__ = (Index("ix_handled_slack_requests_expires_at", "expires_at"),)

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)  # X-Slack-Signature (v0=hex)
    handled_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PlatformCredential(Base):
    """A platform's expiring, rotating user token (X OAuth 2.0), shared by every replica.

    The newest access and refresh tokens live here, not in the environment: a refresh
    token works once, so every replica and every restart must use the one the last refresh
    returned. ``generation`` counts refreshes; ``failure`` is set when the refresh token was
    refused (an admin must authorise again), and shown in ``/healthz`` and on reply errors.
    """

    __tablename__ = "platform_credentials"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)  # "posting"
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class TriageModelRow(Base):
    """A desk's own triage model (``socialdesk triage train --from-desk``): plain arrays in
    ``data`` (the ``.npz`` bytes of :mod:`socialdesk.plugins.triage.model_file`). At most one
    row is ``live``; the ones it replaced are ``retired`` (kept for rollback); a candidate
    that did not beat the live model is ``rejected``."""

    __tablename__ = "triage_models"
    __table_args__ = (Index("ix_triage_models_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PastAnswerVector(Base):
    """One sent answer of a closed ticket, as the ``suggestions`` plugin indexes it: the
    TF-IDF term counts of what the customer wrote, in the ticket's language.

    Written once per reply (unique) when its ticket is closed; every replica reads the
    rows it has not seen into its in-memory index, so the database stays the only truth.
    Whether a row may still be suggested (reply edited or deleted, ticket reopened, a low
    CSAT) is decided when it is looked up, from the replies, tickets and surveys tables.
    """

    __tablename__ = "past_answer_vectors"
    __table_args__ = (
        UniqueConstraint("reply_id", name="uq_past_answer_vectors_reply_id"),
        Index("ix_past_answer_vectors_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    language: Mapped[str | None] = mapped_column(String(16))
    terms: Mapped[dict[str, Any]] = mapped_column(LosslessJSON, default=dict)  # term -> count
    indexed_at: Mapped[datetime]


class BlockedAuthorRow(Base):
    """An author blocked with ``/desk block @handle [platform]``: their mentions are filed
    closed as spam, like ``plugins.noise.blocked_authors`` (which stays the starting list).
    ``platform`` is ``*`` for every platform; ``who`` is the handle without ``@`` or the
    platform's user id, case-folded."""

    __tablename__ = "blocked_authors"
    __table_args__ = (UniqueConstraint("platform", "who", name="uq_blocked_authors_platform_who"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(LosslessString(200))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]


class DeskMacroRow(Base):
    """A macro added or removed with ``/desk macro add|remove``, over ``plugins.slack.macros``:
    ``text`` replaces the configured macro of that name; ``None`` removes it."""

    __tablename__ = "desk_macros"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str | None] = mapped_column(LosslessText)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime]


class DeskMemberRow(Base):
    """Who may act, added with ``/desk agents add|remove`` on top of ``desk.agents``/``desk.admins``
    and their groups: ``subject`` is a Slack user (U…/W…) or user group (S…) id, ``role``
    ``agent`` or ``admin``; ``removed`` hides a configured entry."""

    __tablename__ = "desk_members"

    subject: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime]


class HomePreference(Base):
    """One agent's App Home: the filters they picked, the page they are on (a refresh from
    any replica shows the same page), and when they last opened it (only recent openers
    get refreshes)."""

    __tablename__ = "home_preferences"
    __table_args__ = (Index("ix_home_preferences_opened_at", "opened_at"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int | None] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    opened_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
