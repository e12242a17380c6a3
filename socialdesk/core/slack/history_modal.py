"""The History modal (the card's overflow, "History…"): a ticket's timeline and the
customer's other tickets.

The timeline is the ticket's audit trail — every state change, who made it and when, in
the desk's time zone — with the words of the messages, replies and notes the events point
at (masked as on the card), SLA notices and triage corrections. A modal holds at most 100
blocks, so the timeline is paged ("Older" / "Newer" buttons update the open modal); the
customer's other tickets (the same handle on any platform) are listed under the first page.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.slack.card import PRIORITY_MARKS
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, one_line
from socialdesk.core.slack.masking import masked
from socialdesk.core.slack.runtime import SlackRuntime
from socialdesk.core.store.ticket_queries import MessageSnapshot, TicketSummary

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.service import ReplySnapshot

log = logging.getLogger(__name__)

CALLBACK = "desk.history_modal"
PREVIOUS_PAGE = "desk.history_previous"  # value: JSON {"t": ticket id, "p": page}
NEXT_PAGE = "desk.history_next"
EVENTS_PER_PAGE = 40  # one section each, well inside the modal's 100 blocks with the rest
OTHER_TICKETS = 10
QUOTE_CHARS = 200

# How each audit event reads on the timeline.
LABELS: dict[str, str] = {
    EventKind.CREATED: "📥 Ticket opened",
    EventKind.MESSAGE_ADDED: "💬 The customer wrote again",
    EventKind.TRIAGED: "🏷 Triaged",
    EventKind.CLAIMED: "🙋 Claimed",
    EventKind.UNCLAIMED: "↩️ Unclaimed",
    EventKind.ASSIGNED: "👉 Assigned",
    EventKind.REPLY_QUEUED: "✍️ Reply written",
    EventKind.REPLY_SENT: "✅ Reply posted",
    EventKind.REPLY_FAILED: "⚠️ Reply failed",
    EventKind.REPLY_UNCERTAIN: "❓ Reply may not have been posted",
    EventKind.REPLY_RETRIED: "🔁 Reply resent",
    EventKind.REPLY_DISCARDED: "🗑 Reply discarded",
    EventKind.NOTE_ADDED: "📝 Internal note",
    EventKind.SNOOZED: "😴 Snoozed",
    EventKind.WOKEN: "⏰ Woke up",
    EventKind.CLOSED: "✅ Closed",
    EventKind.REOPENED: "🔓 Reopened",
    EventKind.MARKED_SPAM: "🚫 Marked as spam",
    EventKind.SLA_REMINDED: "⏱ SLA reminder",
    EventKind.SLA_BREACHED: "🚨 SLA breached",
    EventKind.PII_REVEALED: "👁 Personal data revealed",
    EventKind.CSAT_SENT: "📨 Satisfaction survey sent",
    EventKind.CSAT_ANSWERED: "⭐ Survey answered",
    EventKind.MESSAGES_REDACTED: "🧹 Customer text redacted (retention)",
    EventKind.TRIAGE_CORRECTED: "🎯 Triage corrected",
}


@dataclass(frozen=True, slots=True)
class HistoryPage:
    ticket_id: int
    page: int = 0

    def dumps(self) -> str:
        return json.dumps({"t": self.ticket_id, "p": self.page})

    @classmethod
    def loads(cls, raw: str | None) -> HistoryPage:
        data = json.loads(raw or "{}")
        return cls(int(data["t"]), max(0, int(data.get("p", 0))))


def local_time(moment: datetime, tz_name: str) -> str:
    """``2026-12-06 14:05 CET``: the desk's time zone, the same for every reader of an audit line."""
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M %Z")


def _who(actor: str) -> str:
    if actor == SYSTEM_ACTOR:
        return "the desk"
    if actor[:1] in ("U", "W") and actor.isalnum():
        return f"<@{actor}>"
    return escape_mrkdwn(cut(one_line(actor), 40))


def _quote(text: str) -> str:
    return "“" + fit(cut(one_line(text), QUOTE_CHARS), 1000, mrkdwn=True) + "”"


def _details(event: TicketEvent, said: str | None) -> str:
    d = event.details
    parts: list[str] = []
    kind = event.kind
    if kind == EventKind.CLAIMED and d.get("takeover"):
        parts.append("taken over")
    if kind in (EventKind.UNCLAIMED, EventKind.ASSIGNED) and d.get("previous"):
        parts.append(f"from <@{d['previous']}>")
    if kind == EventKind.ASSIGNED and d.get("assignee"):
        parts.append(f"to <@{d['assignee']}>")
    if kind in (EventKind.CREATED, EventKind.MESSAGE_ADDED, EventKind.TRIAGED) and d.get("priority"):
        parts.append(f"P{d['priority']}")
    if kind == EventKind.TRIAGE_CORRECTED:
        for field in ("priority", "category"):
            change = d.get(field)
            if isinstance(change, dict):
                parts.append(f"{field} {escape_mrkdwn(str(change.get('from')))} → {escape_mrkdwn(str(change.get('to')))}")
    if kind in (EventKind.SLA_REMINDED, EventKind.SLA_BREACHED) and d.get("timer"):
        parts.append(escape_mrkdwn(str(d["timer"]).replace("_", " ")))
    if kind == EventKind.CLOSED and d.get("reason"):
        parts.append(fit(cut(one_line(str(d["reason"])), 200), 600, mrkdwn=True))
    if kind == EventKind.CSAT_ANSWERED and d.get("score") is not None:
        parts.append(f"score {escape_mrkdwn(str(d['score']))}")
    if d.get("error"):
        parts.append(fit(cut(one_line(str(d["error"])), 200), 600, mrkdwn=True))
    if said is not None:
        parts.append(_quote(said))
    return " · ".join(parts)


def event_line(event: TicketEvent, tz_name: str, said: str | None = None) -> str:
    label = LABELS.get(event.kind, escape_mrkdwn(str(event.kind)))
    details = _details(event, said)
    return (f"*{label}*{' · ' + details if details else ''}\n"
            f"{_who(event.actor)} · {local_time(event.at, tz_name)}")


def other_ticket_line(s: TicketSummary, tz_name: str, permalink: str | None) -> str:
    t = s.ticket
    ref = f"<{permalink}|{t.ref}>" if permalink else t.ref
    said = _quote(s.opening.text) if s.opening else ""
    return (f"{PRIORITY_MARKS.get(t.priority, '')} {ref} · {escape_mrkdwn(t.platform)} · {t.status} · "
            f"{local_time(t.created_at, tz_name)} {said}")


def history_modal(*, ticket_ref: str, header: str, lines: list[str], total_events: int, page: HistoryPage,
                  others: list[str], more_others: bool, history_hint: str) -> View:
    """The modal: a header, one page of the timeline (newest last), paging, the other tickets."""
    pages = max(1, -(-total_events // EVENTS_PER_PAGE))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=cut(header, 3000),
                                                                verbatim=True)),
                           HeaderBlock(text=PlainTextObject(text="Timeline"))]
    if pages > 1:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Page {page.page + 1} of {pages} · {total_events} events, oldest first")]))
    blocks += [SectionBlock(text=MarkdownTextObject(text=cut(line, 3000), verbatim=True))
               for line in lines] or [SectionBlock(text=PlainTextObject(text="No events recorded yet."))]
    paging: list[Any] = []
    if page.page > 0:
        paging.append(ButtonElement(text="Previous page", action_id=PREVIOUS_PAGE,
                                    value=HistoryPage(page.ticket_id, page.page - 1).dumps()))
    if page.page + 1 < pages:
        paging.append(ButtonElement(text="Next page", action_id=NEXT_PAGE,
                                    value=HistoryPage(page.ticket_id, page.page + 1).dumps()))
    if paging:
        blocks.append(ActionsBlock(block_id="history_paging", elements=paging))
    if page.page == 0:
        blocks += [DividerBlock(), HeaderBlock(text=PlainTextObject(text="The customer's other tickets"))]
        if others:
            blocks += [SectionBlock(text=MarkdownTextObject(text=cut(line, 3000), verbatim=True))
                       for line in others]
        else:
            blocks.append(SectionBlock(text=PlainTextObject(text="None on any platform.")))
        if more_others:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"The newest {OTHER_TICKETS} are shown; {history_hint} lists more.")]))
    return View(type="modal", callback_id=CALLBACK, title=PlainTextObject(text=cut(f"History of {ticket_ref}", 24)),
                close=PlainTextObject(text="Close"), private_metadata=page.dumps(), blocks=blocks)


async def _said_by_event(app: DeskApp, events: list[TicketEvent], messages: dict[int, MessageSnapshot],
                         replies: dict[int, ReplySnapshot]) -> list[str | None]:
    said: list[str | None] = []
    for e in events:
        message_id, reply_id = e.details.get("message_id"), e.details.get("reply_id")
        if isinstance(message_id, int) and message_id in messages:
            message = messages[message_id]
            # Customer text is shown masked, as on the card; agents' own notes as written.
            said.append(await masked(app, message.text) if message.direction == "inbound" else message.text)
        elif isinstance(reply_id, int) and reply_id in replies and e.kind in (
                EventKind.REPLY_QUEUED, EventKind.REPLY_SENT, EventKind.REPLY_DISCARDED):
            said.append(replies[reply_id].text)
        else:
            said.append(None)
    return said


async def build_history_view(app: DeskApp, rt: SlackRuntime, ticket_id: int, page: int = 0) -> View:
    tz_name = app.config.desk.timezone
    details = await app.service.ticket_details(ticket_id)
    ticket = details.ticket
    events = await app.service.audit_trail(ticket_id)
    total = len(events)
    pages = max(1, -(-total // EVENTS_PER_PAGE))
    where = HistoryPage(ticket_id, min(page, pages - 1))
    shown = events[where.page * EVENTS_PER_PAGE:(where.page + 1) * EVENTS_PER_PAGE]
    messages = {m.id: m for m in await app.service.messages_of(ticket_id)}
    replies = {r.id: r for r in await app.service.replies_of(ticket_id)}
    said = await _said_by_event(app, shown, messages, replies)
    lines = [event_line(e, tz_name, s) for e, s in zip(shown, said, strict=True)]
    who = f"@{one_line(details.author.handle)}" if details.author else "an unknown author"
    holder = f"held by <@{ticket.assignee}>" if ticket.assignee else "unclaimed"
    header = (f"*{ticket.ref}* on {escape_mrkdwn(ticket.platform)} from *{escape_mrkdwn(cut(who, 80))}* · "
              f"{ticket.status}, {holder} · times in {escape_mrkdwn(tz_name)}")
    others: list[str] = []
    more = False
    if details.author is not None and where.page == 0:
        found = [s for s in await app.service.history_of(details.author.handle, limit=OTHER_TICKETS + 2)
                 if s.ticket.id != ticket_id]
        more = len(found) > OTHER_TICKETS
        for s in found[:OTHER_TICKETS]:
            if s.opening is not None:
                s = TicketSummary(s.ticket, s.author, MessageSnapshot(
                    s.opening.id, s.opening.ticket_id, s.opening.platform, s.opening.external_id,
                    s.opening.direction, s.opening.author_id, s.opening.agent, await masked(app, s.opening.text),
                    s.opening.url, s.opening.public, s.opening.created_at))
            others.append(other_ticket_line(s, tz_name, await rt.permalink(s.ticket.card_channel, s.ticket.card_ts)))
    handle = details.author.handle if details.author else ""
    return history_modal(ticket_ref=ticket.ref, header=header, lines=lines, total_events=total, page=where,
                         others=others, more_others=more,
                         history_hint=f"`{rt.settings.command} history @{escape_mrkdwn(cut(one_line(handle), 60))}`")


def register(bolt: AsyncApp, app: DeskApp, rt: SlackRuntime) -> None:
    @bolt.action(re.compile("^(" + re.escape(PREVIOUS_PAGE) + "|" + re.escape(NEXT_PAGE) + ")$"))
    async def page_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if await rt.permissions.actor(str(body["user"]["id"])) is None:
            return  # only agents open a History; a stranger's click changes nothing
        view = body.get("view") or {}
        try:
            wanted = HistoryPage.loads(str(body["actions"][0].get("value") or ""))
        except (ValueError, KeyError, TypeError):
            return
        updated = await build_history_view(app, rt, wanted.ticket_id, wanted.page)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
        except SlackApiError as exc:  # closed meanwhile, or a newer page already shown
            log.info("history page not shown", extra={"error": exc.response.get("error")})
