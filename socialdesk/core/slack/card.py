"""The triage card: one Slack message per ticket, rebuilt from the store on every change.

Everything a stranger wrote (the message, names, handles, plugin field values, errors
from platforms) passes through :mod:`socialdesk.core.slack.escaping`; mrkdwn objects
that carry it are ``verbatim`` so Slack does not linkify names or mentions in it.
Mentions and date tokens on the card are the desk's own: the assignee (``<@U...>``)
and, for urgent tickets, the on-call user group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from socialdesk.core.extensions import CardField
from socialdesk.core.reply_change import ReplyCapabilities
from socialdesk.core.slack.reply_correction_card import CORRECTION_STATUSES, correction_blocks, correction_line
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, escape_text, fit, link, one_line
from socialdesk.core.slack.timefmt import duration, slack_date
from socialdesk.core.ticket import ENDED_STATUSES, ReplyStatus, TicketStatus
from socialdesk.core.store.ticket_queries import TicketDetails

CARD_EVENT_TYPE = "socialdesk_card"
PRIORITY_LABELS = {1: "P1 urgent", 2: "P2 high", 3: "P3 normal", 4: "P4 low"}
PRIORITY_MARKS = {1: "🔴", 2: "🟠", 3: "🟡", 4: "⚪"}
MAX_FIELDS_PER_SECTION = 10
MAX_FIELD_CHARS = 2000
MAX_SECTION_CHARS = 3000
# A plugin field with this label is the card's SLA line (the sla plugin's business-time clock),
# shown in place of the wall-clock countdown below rather than among the fields.
SLA_FIELD = "SLA"


class Actions:
    """action_ids on cards (values carry the ticket id, or the reply id for resend/discard)."""

    CLAIM = "desk.claim"
    REPLY = "desk.reply"
    NOTE = "desk.note"
    SNOOZE = "desk.snooze"
    CLOSE = "desk.close"
    REOPEN = "desk.reopen"
    MORE = "desk.more"  # overflow: "assign:42", "unclaim:42", "triage:42", "spam:42", "reopen:42", "history:42"
    RESEND = "desk.reply_resend"
    DISCARD = "desk.reply_discard"
    LINK = "desk.link"  # link buttons: Slack still sends a click, which is acknowledged
    REVEAL = "desk.reveal"  # value: the message id whose hidden personal data an agent asks to see


@dataclass(frozen=True, slots=True)
class CardMessage:
    text: str  # the notification text (escaped)
    blocks: list[Block]
    metadata: dict[str, Any]

    def blocks_json(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.blocks]


def priority_label(priority: int) -> str:
    return f"{PRIORITY_MARKS.get(priority, '')} {PRIORITY_LABELS.get(priority, f'P{priority}')}".strip()


def card_metadata(ticket_id: int) -> dict[str, Any]:
    """Attached to the card, so the desk can recognise its own card in a channel's history."""
    return {"event_type": CARD_EVENT_TYPE, "event_payload": {"ticket_id": ticket_id}}


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def _author_line(d: TicketDetails) -> str:
    a = d.author
    if a is None:
        return "*unknown author*"
    parts = [f"*{escape_mrkdwn(cut(one_line(a.display_name), 80))}*"] if a.display_name else []
    if a.handle:
        handle = cut(one_line(a.handle), 80)
        parts.append(link(a.profile_url, f"@{handle}") if a.profile_url else escape_mrkdwn(f"@{handle}"))
    if a.followers is not None:
        parts.append(f"{a.followers:,} followers")
    if a.verified:
        parts.append("verified")
    line = " · ".join(parts) or "*unknown author*"
    if d.earlier_tickets:
        plural = "s" if d.earlier_tickets != 1 else ""
        line += f"\n{d.earlier_tickets} earlier ticket{plural} from this author (the desk command's `history`)"
    return line


def _message_blocks(d: TicketDetails, preview_chars: int) -> list[Block]:
    platform = escape_mrkdwn(d.ticket.platform)
    opening = d.opening
    if opening is None:
        return [SectionBlock(text=PlainTextObject(text="(no message text)", emoji=False))]
    raw = opening.text.strip() or "(no text)"
    shortened = len(raw) > preview_chars
    # plain_text: Slack formats nothing in it; escaped as well, so no reading of it can ping.
    body = fit(cut(raw, preview_chars), MAX_SECTION_CHARS)
    blocks: list[Block] = [SectionBlock(text=PlainTextObject(text=body, emoji=False))]
    context = [link(opening.url, f"Open on {d.ticket.platform}") if opening.url else f"on {platform}",
               f"posted {slack_date(opening.created_at)}"]
    if shortened:
        context.append(f"shortened: {len(raw):,} characters in all"
                       + (f", {link(opening.url, 'read it there')}" if opening.url else ""))
    if not opening.public:
        context.append("*private message*")
    blocks.append(ContextBlock(elements=[_mrkdwn(" · ".join(context))]))
    return blocks


def reveal_block(message_id: int) -> ActionsBlock:
    """Under a message whose personal data is hidden: an agent may see it, ephemerally and audited."""
    return ActionsBlock(block_id=f"reveal:{message_id}", elements=[
        ButtonElement(text="Reveal personal data", action_id=Actions.REVEAL, value=str(message_id))])


def _fields(d: TicketDetails, extra: list[CardField]) -> list[Block]:
    t = d.ticket
    why = "; ".join(t.priority_reasons) if t.priority_reasons else "no rule matched; default priority"
    pairs: list[tuple[str, str]] = [
        ("Priority", PRIORITY_LABELS.get(t.priority, f"P{t.priority}")),
        ("Category", t.category),
        ("Sentiment", t.sentiment or "unknown"),
        ("Language", t.language or "unknown"),
        ("Tags", ", ".join(t.tags) if t.tags else "none"),
        (f"Why P{t.priority}", why),
    ]
    if t.spam_suspected:
        pairs.append(("Spam?", "triage suspects spam"))
    pairs += [(f.label, f.value) for f in extra]
    fields = [_mrkdwn(f"*{escape_mrkdwn(cut(one_line(label), 60))}*\n"
                      + fit(value, MAX_FIELD_CHARS - 80, mrkdwn=True))
              for label, value in pairs]
    return [SectionBlock(fields=fields[i:i + MAX_FIELDS_PER_SECTION])
            for i in range(0, len(fields), MAX_FIELDS_PER_SECTION)]


def sla_line(d: TicketDetails, now: datetime, clock: str | None = None) -> str:
    """The SLA line: ``clock`` (plain text from the SLA plugin) if given, else wall-clock time."""
    if clock is not None:
        return f"⏱ {fit(one_line(clock), 1500, mrkdwn=True)}"
    t = d.ticket
    if t.first_response_at is not None:
        line = f"First response after {duration((t.first_response_at - t.created_at).total_seconds())}"
    elif t.status in ENDED_STATUSES:
        line = "Closed without a reply"
    elif t.first_response_due is not None:
        left = (t.first_response_due - now).total_seconds()
        when = slack_date(t.first_response_due, with_date=False)
        line = (f"First response due in {duration(left)} (by {when})" if left >= 0
                else f"*First response overdue by {duration(-left)}* (was due {when})")
        if t.status == TicketStatus.SNOOZED:
            line += " · paused while snoozed"
    else:
        line = f"Waiting {duration((now - t.created_at).total_seconds())} (no SLA set)"
    if t.resolution_due is not None and t.status not in ENDED_STATUSES:
        left = (t.resolution_due - now).total_seconds()
        line += (f" · resolution due in {duration(left)}" if left >= 0
                 else f" · resolution overdue by {duration(-left)}")
    return f"⏱ {line}"


def status_line(d: TicketDetails) -> str:
    t = d.ticket
    holder = f"<@{t.assignee}>" if t.assignee else None
    if t.status == TicketStatus.SPAM:
        line = f"🚫 Marked as spam by <@{d.closed_by}>" if d.closed_by else "🚫 Marked as spam"
    elif t.status == TicketStatus.CLOSED:
        line = f"✅ Closed by <@{d.closed_by}>" if d.closed_by else "✅ Closed"
        if t.closed_at:
            line += f" {slack_date(t.closed_at)}"
        if t.close_reason:
            line += f" — {fit(one_line(t.close_reason), 300, mrkdwn=True)}"
    elif t.status == TicketStatus.SNOOZED and t.snoozed_until:
        line = f"😴 Snoozed until {slack_date(t.snoozed_until)}" + (f" · held by {holder}" if holder else "")
    elif t.status == TicketStatus.WAITING:
        line = "💬 Replied — waiting for the customer" + (f" · held by {holder}" if holder else "")
    elif holder:
        line = f"🙋 Claimed by {holder}"
    else:
        line = "🟢 Open — unclaimed"
    return line


def reply_line(d: TicketDetails) -> str | None:
    r = d.latest_reply
    if r is None:
        return None
    said = fit(cut(one_line(r.text), 200), 1200, mrkdwn=True)
    if r.status == ReplyStatus.SENT:
        shown = link(r.platform_url, "view it") if r.platform_url else "posted"
        return f"↩️ <@{r.agent}> replied: “{said}” · {shown}"
    if r.status in (ReplyStatus.PENDING, ReplyStatus.SENDING):
        return f"⏳ <@{r.agent}>'s reply is being sent: “{said}”"
    if r.status == ReplyStatus.FAILED:
        error = fit(one_line(r.error or "unknown error"), 500, mrkdwn=True)
        return (f"⚠️ *<@{r.agent}>'s reply failed:* {error}\nNothing was posted and the ticket stays open: "
                f"resend it, or discard it and reply again. “{said}”")
    if r.status == ReplyStatus.UNCERTAIN:
        error = fit(one_line(r.error or "no answer from the platform"), 500, mrkdwn=True)
        return (f"❓ *<@{r.agent}>'s reply may or may not have been posted* ({error}). Check on "
                f"{escape_mrkdwn(d.ticket.platform)} first, then resend or discard it. “{said}”")
    if r.status in CORRECTION_STATUSES:
        return correction_line(r, d.ticket.platform)
    return None  # discarded: nothing to say


def _thread_line(d: TicketDetails) -> str | None:
    follow_ups = max(0, d.inbound_count - 1)
    parts = []
    if follow_ups:
        parts.append(f"{follow_ups} follow-up{'s' if follow_ups != 1 else ''}")
    if d.note_count:
        parts.append(f"{d.note_count} internal note{'s' if d.note_count != 1 else ''}")
    return f"🧵 {' and '.join(parts)} in the thread" if parts else None


def _buttons(d: TicketDetails) -> list[Block]:
    t = d.ticket
    value = str(t.id)
    if t.status in ENDED_STATUSES:
        elements: list[Any] = [
            ButtonElement(text="Reopen", action_id=Actions.REOPEN, value=value, style="primary"),
            ButtonElement(text="Note", action_id=Actions.NOTE, value=value),
            OverflowMenuElement(action_id=Actions.MORE, options=[Option(text="History…", value=f"history:{t.id}")]),
        ]
    else:
        more = [Option(text="Assign…", value=f"assign:{t.id}")]
        if t.assignee:
            more.append(Option(text="Unclaim", value=f"unclaim:{t.id}"))
        more.append(Option(text="Correct triage…", value=f"triage:{t.id}"))  # priority/category: a label to learn from
        more.append(Option(text="Mark as spam", value=f"spam:{t.id}"))
        more.append(Option(text="History…", value=f"history:{t.id}"))  # timeline and the customer's other tickets
        elements = [
            ButtonElement(text="Claim", action_id=Actions.CLAIM, value=value,
                          style=None if t.assignee else "primary"),
            ButtonElement(text="Reply", action_id=Actions.REPLY, value=value),
            ButtonElement(text="Note", action_id=Actions.NOTE, value=value),
            ButtonElement(text="Snooze", action_id=Actions.SNOOZE, value=value),
            ButtonElement(text="Close", action_id=Actions.CLOSE, value=value),
            OverflowMenuElement(action_id=Actions.MORE, options=more),
        ]
    blocks: list[Block] = [ActionsBlock(block_id=f"card:{t.id}", elements=elements)]
    r = d.latest_reply
    if r is not None and r.status in (ReplyStatus.FAILED, ReplyStatus.UNCERTAIN) and t.status not in ENDED_STATUSES:
        blocks.append(ActionsBlock(block_id=f"reply:{r.id}", elements=[
            ButtonElement(text="Resend reply", action_id=Actions.RESEND, value=str(r.id), style="danger"
                          if r.status == ReplyStatus.UNCERTAIN else "primary"),
            ButtonElement(text="Discard reply", action_id=Actions.DISCARD, value=str(r.id)),
        ]))
    return blocks


def notification_text(d: TicketDetails, oncall_group: str | None) -> str:
    t = d.ticket
    # The top-level text is mrkdwn too (notifications, clients without blocks): no styling.
    who = escape_mrkdwn(cut(f"@{one_line(d.author.handle)}", 60)) if d.author else "someone"
    said = escape_mrkdwn(cut(one_line(d.opening.text), 200)) if d.opening else ""
    text = f"[P{t.priority}] {escape_text(t.platform)} {t.ref} from {who}: {said}"
    return f"<!subteam^{oncall_group}> {text}" if oncall_group else text


def build_card(d: TicketDetails, *, fields: list[CardField], now: datetime, preview_chars: int,
               oncall_group: str | None, revealable: bool = False,
               reply_capabilities: ReplyCapabilities | None = None, media_blocks: Sequence[Block] = ()) -> CardMessage:
    """``d`` as shown (its text already masked); ``revealable`` when the opening message had
    personal data hidden, which adds the Reveal button under it. ``reply_capabilities``: what
    the platform lets agents do to the sent reply (Edit/Delete under it); ``media_blocks``:
    the opening message's attachments, shown under it."""
    t = d.ticket
    header = f"{PRIORITY_MARKS.get(t.priority, '')} P{t.priority} · {escape_text(t.platform)} · {t.ref}".strip()
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(header, 150), emoji=True))]
    if oncall_group:
        blocks.append(SectionBlock(text=_mrkdwn(f"<!subteam^{oncall_group}> {priority_label(t.priority)}: "
                                                 "someone please pick this up")))
    blocks.append(SectionBlock(text=_mrkdwn(_author_line(d))))
    blocks += _message_blocks(d, preview_chars)
    blocks += media_blocks
    if revealable and d.opening is not None:
        blocks.append(reveal_block(d.opening.id))
    clock = next((f.value for f in fields if f.label == SLA_FIELD), None)
    blocks += _fields(d, [f for f in fields if f.label != SLA_FIELD])
    blocks.append(ContextBlock(elements=[_mrkdwn(sla_line(d, now, clock))]))
    status = [status_line(d)]
    for extra in (reply_line(d), _thread_line(d)):
        if extra:
            status.append(extra)
    blocks.append(SectionBlock(text=_mrkdwn(cut("\n".join(status), MAX_SECTION_CHARS))))
    blocks += _buttons(d)
    if reply_capabilities is not None:
        blocks += correction_blocks(t, d.latest_reply, reply_capabilities)
    return CardMessage(notification_text(d, oncall_group), blocks, card_metadata(t.id))
