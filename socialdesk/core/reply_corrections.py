"""Correcting a sent reply: an agent's Edit or Delete, written once and performed once.

The same rules as sending. Asking is one transaction: the reply moves from ``sent`` (or
``edited``) to ``changing`` by a conditional update — so two clicks, two agents or two
replicas start at most one change — with a ``reply_changes`` row, its audit event and a
``change_reply`` outbox job. The job (:mod:`socialdesk.core.reply_change_delivery`) marks
the change ``performing`` before the platform request leaves; an attempt that finds it
``performing`` (the last one died, or lost the platform's answer) looks at the post first.

Only the reply's author or an admin may correct it. On platforms that cannot edit in place
(X), an edit deletes the reply and queues a new reply with the new text, which the outbox
sends with the usual exactly-once rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.errors import DeskError, IllegalTransition, ReplyRejected
from socialdesk.core.events import SYSTEM_ACTOR, EventKind
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.reply_change import ChangeKind, ChangeStatus, ReplyCapabilities, ReplyChangeRequest
from socialdesk.core.slack.delivery import NOTICE_KIND  # performed by the Slack plugin
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, one_line
from socialdesk.core.store.models import Message, Reply, ReplyChange, Ticket
from socialdesk.core.store.tickets import ChangeLog, load_ticket, snapshot
from socialdesk.core.ticket import ReplyStatus

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

CORRECTABLE = (ReplyStatus.SENT, ReplyStatus.EDITED)


@dataclass(frozen=True, slots=True)
class ChangeSnapshot:
    id: int
    reply_id: int
    ticket_id: int
    kind: str
    text: str | None
    actor: str
    status: str
    error: str | None
    replacement_reply_id: int | None


def _snapshot(c: ReplyChange) -> ChangeSnapshot:
    return ChangeSnapshot(c.id, c.reply_id, c.ticket_id, c.kind, c.text, c.actor, c.status, c.error,
                          c.replacement_reply_id)


def refusal(capabilities: ReplyCapabilities, kind: ChangeKind) -> str | None:
    """Why ``kind`` cannot be done on this platform, in the agent's words; None if it can."""
    platform = capabilities.platform
    if kind == ChangeKind.DELETE and not capabilities.can_delete:
        return f"{platform} does not let the desk delete a reply it posted"
    if kind == ChangeKind.EDIT and not capabilities.editable:
        deleting = " (it can only be deleted)" if capabilities.can_delete else ""
        return f"{platform} does not let the desk edit a reply it posted{deleting}"
    return None


class ReplyCorrections:
    """Edit and delete of sent replies: the state machine, with no Slack or platform code."""

    def __init__(self, app: DeskApp) -> None:
        self._app = app
        self._db = app.database

    # --- asking ------------------------------------------------------------------------------

    async def request(self, reply_id: int, actor: Actor, kind: ChangeKind, text: str | None = None) -> ChangeSnapshot:
        app = self._app
        async with self._db.sessions() as session:
            reply = await session.get(Reply, reply_id)
            if reply is None:
                raise DeskError(f"reply {reply_id} does not exist")
            ticket = await load_ticket(session, reply.ticket_id)
        if reply.agent != actor.user_id and not actor.is_admin:
            raise IllegalTransition(f"only <@{reply.agent}>, who wrote this reply, or an admin can "
                                    f"{kind.value} it")
        why_not = refusal(app.hooks.reply_capabilities(ticket.platform), kind)
        if why_not:
            raise IllegalTransition(why_not)
        if kind == ChangeKind.EDIT:
            text = (text or "").strip()
            if text == reply.text.strip():
                raise DeskError("the new text is the same as the reply's; nothing to change")
            problems = await app.hooks.validate_reply(snapshot(ticket), text)
            if problems:
                raise ReplyRejected(ticket.id, problems)
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = app.clock()
            moved = await session.execute(
                update(Reply).where(Reply.id == reply_id, Reply.status.in_(CORRECTABLE))
                .values(status=ReplyStatus.CHANGING).returning(Reply.ticket_id))
            if moved.first() is None:
                current = await session.scalar(select(Reply.status).where(Reply.id == reply_id))
                raise IllegalTransition(self._not_correctable(reply_id, str(current)))
            change = ReplyChange(reply_id=reply_id, ticket_id=ticket.id, kind=kind.value, text=text,
                                 actor=actor.user_id, status=ChangeStatus.PENDING, created_at=now)
            session.add(change)
            await session.flush()
            event = EventKind.REPLY_EDIT_REQUESTED if kind == ChangeKind.EDIT else EventKind.REPLY_DELETE_REQUESTED
            changes.record(session, event, ticket.id, actor.user_id, now, reply_id=reply_id, change_id=change.id,
                           **({"text": text} if text is not None else {}))
            app.outbox.enqueue(session, JobKind.CHANGE_REPLY, {"change_id": change.id}, now=now,
                               priority=ticket.priority, ticket_id=ticket.id, dedupe_key=f"change_reply:{change.id}")
            await self._refresh_card(session, ticket.id, now)
            view = _snapshot(change)
        await app.service.publish(changes.events)
        return view

    @staticmethod
    def _not_correctable(reply_id: int, status: str) -> str:
        if status == ReplyStatus.CHANGING:
            return f"reply {reply_id} is already being edited or deleted; wait for that to finish"
        if status == ReplyStatus.DELETED:
            return f"reply {reply_id} was deleted"
        return f"reply {reply_id} is {status}; only a sent reply can be edited or deleted"

    # --- performing (the outbox job) ------------------------------------------------------------

    async def begin(self, change_id: int) -> tuple[ReplyChangeRequest, bool] | None:
        """Mark the change ``performing`` and say what to do, and whether this is the first
        attempt (False: an earlier one may have reached the platform). None when finished."""
        async with self._db.transaction() as session:
            change = await session.get(ReplyChange, change_id, with_for_update=True)
            if change is None or change.status in (ChangeStatus.DONE, ChangeStatus.FAILED):
                return None
            first = change.status == ChangeStatus.PENDING
            change.status, change.started_at = ChangeStatus.PERFORMING, self._app.clock()
            reply = await session.get(Reply, change.reply_id)
            ticket = await load_ticket(session, change.ticket_id)
            assert reply is not None
            request = ReplyChangeRequest(change_id=change.id, reply_id=reply.id, ticket_id=ticket.id,
                                         platform=ticket.platform, conversation_id=ticket.conversation_id,
                                         platform_id=str(reply.platform_id or ""), kind=ChangeKind(change.kind),
                                         text=change.text)
            return request, first

    async def release(self, change_id: int, error: str) -> None:
        """Nothing reached the platform (a transient refusal): the next attempt acts afresh."""
        async with self._db.transaction() as session:
            await session.execute(update(ReplyChange).where(ReplyChange.id == change_id,
                                                            ReplyChange.status == ChangeStatus.PERFORMING)
                                  .values(status=ChangeStatus.PENDING, error=error))

    async def finish(self, change_id: int, *, repost: bool = False) -> ChangeSnapshot | None:
        """The platform did it. ``repost``: the old post is deleted and the new text goes out as
        a new reply (X's "edit")."""
        app = self._app
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = app.clock()
            moved = await session.execute(
                update(ReplyChange).where(ReplyChange.id == change_id, ReplyChange.status == ChangeStatus.PERFORMING)
                .values(status=ChangeStatus.DONE, finished_at=now, error=None).returning(ReplyChange.id))
            if moved.first() is None:
                return None
            change = await session.get(ReplyChange, change_id)
            reply = await session.get(Reply, change.reply_id) if change else None
            assert change is not None and reply is not None
            ticket = await load_ticket(session, change.ticket_id, lock=True)
            details: dict[str, object] = {"reply_id": reply.id, "change_id": change.id}
            if change.kind == ChangeKind.DELETE:
                reply.status = ReplyStatus.DELETED
                changes.record(session, EventKind.REPLY_DELETED, ticket.id, change.actor, now, **details)
                self._thread_notice(session, ticket, change, now, f"deleted the reply {_quoted(reply.text)} "
                                                                  f"from {escape_mrkdwn(ticket.platform)}.")
            elif repost:
                reply.status = ReplyStatus.EDITED
                replacement = Reply(ticket_id=ticket.id, in_reply_to_message_id=reply.in_reply_to_message_id,
                                    text=change.text or "", agent=change.actor, status=ReplyStatus.PENDING,
                                    close_after=False, created_at=now)
                session.add(replacement)
                await session.flush()
                change.replacement_reply_id = replacement.id
                app.outbox.enqueue(session, JobKind.SEND_REPLY, {"reply_id": replacement.id}, now=now,
                                   priority=ticket.priority, ticket_id=ticket.id,
                                   dedupe_key=f"send_reply:{replacement.id}")
                changes.record(session, EventKind.REPLY_EDITED, ticket.id, change.actor, now, previous=reply.text,
                               text=change.text, replacement_reply_id=replacement.id, **details)
                self._thread_notice(session, ticket, change, now, f"deleted the reply {_quoted(reply.text)} "
                                    f"from {escape_mrkdwn(ticket.platform)}; the new text follows here as a new reply.")
            else:
                previous, reply.text, reply.status = reply.text, change.text or "", ReplyStatus.EDITED
                await session.execute(update(Message).where(
                    Message.ticket_id == ticket.id, Message.direction == "outbound",
                    Message.external_id == reply.platform_id).values(text=reply.text))
                changes.record(session, EventKind.REPLY_EDITED, ticket.id, change.actor, now, previous=previous,
                               text=reply.text, **details)
                self._thread_notice(session, ticket, change, now, f"edited the reply {_quoted(previous)} on "
                                    f"{escape_mrkdwn(ticket.platform)}. It now reads:\n>{_quoted_block(reply.text)}")
            await self._refresh_card(session, ticket.id, now)
            view = _snapshot(change)
        await app.service.publish(changes.events)
        return view

    async def fail(self, change_id: int, error: str) -> ChangeSnapshot | None:
        """The platform refused (or it could not be confirmed): the reply is as it was."""
        app = self._app
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = app.clock()
            moved = await session.execute(
                update(ReplyChange).where(ReplyChange.id == change_id,
                                          ReplyChange.status.in_((ChangeStatus.PENDING, ChangeStatus.PERFORMING)))
                .values(status=ChangeStatus.FAILED, finished_at=now, error=error).returning(ReplyChange.id))
            if moved.first() is None:
                return None
            change = await session.get(ReplyChange, change_id)
            assert change is not None
            edited_before = await session.scalar(select(ReplyChange.id).where(
                ReplyChange.reply_id == change.reply_id, ReplyChange.kind == ChangeKind.EDIT,
                ReplyChange.status == ChangeStatus.DONE).limit(1))
            await session.execute(update(Reply).where(Reply.id == change.reply_id,
                                                      Reply.status == ReplyStatus.CHANGING)
                                  .values(status=ReplyStatus.EDITED if edited_before else ReplyStatus.SENT,
                                          error=f"{change.kind} failed: {error}"))
            changes.record(session, EventKind.REPLY_CHANGE_FAILED, change.ticket_id, SYSTEM_ACTOR, now,
                           reply_id=change.reply_id, change_id=change.id, kind=change.kind, error=error)
            await self._refresh_card(session, change.ticket_id, now)
            view = _snapshot(change)
        await app.service.publish(changes.events)
        return view

    # --- reads ---------------------------------------------------------------------------------

    async def get(self, change_id: int) -> ChangeSnapshot | None:
        async with self._db.sessions() as session:
            change = await session.get(ReplyChange, change_id)
            return _snapshot(change) if change else None

    async def changes_of(self, reply_id: int) -> list[ChangeSnapshot]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(ReplyChange).where(ReplyChange.reply_id == reply_id)
                                         .order_by(ReplyChange.id))
            return [_snapshot(c) for c in rows]

    def _thread_notice(self, session: AsyncSession, ticket: Ticket, change: ReplyChange, now: datetime,
                       what: str) -> None:
        """A line in the card's thread, where the reply's copy still shows what was first
        sent; written with the change's outcome, once per change."""
        self._app.outbox.enqueue(session, NOTICE_KIND, {"ticket_id": ticket.id, "text": f"<@{change.actor}> {what}"},
                                 now=now, priority=ticket.priority, ticket_id=ticket.id,
                                 dedupe_key=f"reply_change_notice:{change.id}")

    async def _refresh_card(self, session: AsyncSession, ticket_id: int, now: datetime) -> None:
        ticket = await load_ticket(session, ticket_id)
        ticket.updated_at, ticket.version = now, ticket.version + 1
        await self._app.outbox.enqueue_card_update(session, ticket_id, now=now, priority=ticket.priority)


def _quoted(text: str) -> str:
    """A reply's text in a notice's sentence: one line, at most 80 characters, escaped."""
    return f"“{escape_mrkdwn(cut(one_line(text), 80))}”"


def _quoted_block(text: str) -> str:
    """A reply's new text as a quote block in a notice: escaped, each line quoted."""
    return "\n>".join(escape_mrkdwn(cut(text, 2500)).split("\n"))
