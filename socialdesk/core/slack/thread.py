"""Messages in a card's thread: follow-ups from the customer, replies sent, internal notes,
and notices about replies that failed."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from socialdesk.core.slack.card import CardMessage
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, link, one_line
from socialdesk.core.slack.timefmt import slack_date
from socialdesk.core.store.ticket_queries import AuthorSnapshot, MessageSnapshot

THREAD_EVENT_TYPE = "socialdesk_thread"
MAX_BODY_CHARS = 2900


def _metadata(ticket_id: int, **ids: int) -> dict[str, Any]:
    """What identifies a thread post, so a retried post can recognise an earlier attempt."""
    return {"event_type": THREAD_EVENT_TYPE, "event_payload": {"ticket_id": ticket_id, **ids}}


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def thread_message(message: MessageSnapshot, author: AuthorSnapshot | None) -> CardMessage:
    """One stored message as a thread reply under its ticket's card."""
    body = fit(message.text.strip() or "(no text)", MAX_BODY_CHARS)
    if message.direction == "note":
        # Plainly internal: a note is never shown to the customer, and must not look like a reply.
        heading = f"🔒 *Internal note* from <@{message.agent}> — not visible to the customer"
        blocks: list[Block] = [SectionBlock(text=_mrkdwn(heading)),
                               SectionBlock(text=PlainTextObject(text=body, emoji=False))]
        text = f"Internal note from <@{message.agent}>: {escape_mrkdwn(cut(one_line(message.text), 200))}"
    elif message.direction == "outbound":
        where = link(message.url, f"view it on {message.platform}") if message.url else "posted"
        heading = f"↩️ Reply sent by <@{message.agent}> on {escape_mrkdwn(message.platform)} · {where}"
        blocks = [SectionBlock(text=_mrkdwn(heading)), SectionBlock(text=PlainTextObject(text=body, emoji=False))]
        text = f"Reply sent by <@{message.agent}>: {escape_mrkdwn(cut(one_line(message.text), 200))}"
    else:
        who = escape_mrkdwn(cut(one_line(f"@{author.handle}"), 80)) if author else "the customer"
        heading = f"💬 Follow-up from *{who}*"
        context = [link(message.url, f"Open on {message.platform}") if message.url else escape_mrkdwn(message.platform),
                   slack_date(message.created_at)]
        blocks = [SectionBlock(text=_mrkdwn(heading)), SectionBlock(text=PlainTextObject(text=body, emoji=False)),
                  ContextBlock(elements=[_mrkdwn(" · ".join(context))])]
        text = escape_mrkdwn(cut(f"Follow-up from {one_line('@' + author.handle) if author else 'the customer'}: "
                               f"{one_line(message.text)}", 300))
    return CardMessage(text, blocks, _metadata(message.ticket_id, message_id=message.id))


def notice(ticket_id: int, job_id: int, text_mrkdwn: str) -> CardMessage:
    """A desk notice in the thread (the text is built by the desk, untrusted parts escaped)."""
    return CardMessage(cut(text_mrkdwn, 3000), [SectionBlock(text=_mrkdwn(cut(text_mrkdwn, 3000)))],
                       _metadata(ticket_id, notice_job=job_id))
