"""The incident card: one Slack message for a whole storm, rebuilt from the store on every change.

It shows the storm's representative text (masked, then escaped: a stranger wrote it), the
spike (mentions, distinct people, a per-minute sparkline, first and last seen), the first
affected conversations with links, the progress of the bulk reply, and the buttons
"Reply to all" and "Close all".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from socialdesk.core.incidents.service import ACTIVE, IncidentView, Spike
from socialdesk.core.slack.card import CardMessage, priority_label
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, escape_text, fit, link, one_line
from socialdesk.core.slack.timefmt import slack_date
from socialdesk.core.ticket import ENDED_STATUSES

INCIDENT_EVENT_TYPE = "socialdesk_incident_card"
SPARKS = "▁▂▃▄▅▆▇█"
TITLE_CHARS = 600
MAX_SECTION_CHARS = 3000


class IncidentActions:
    """action_ids on incident cards (values carry the incident id)."""

    REPLY_ALL = "desk.incident_reply_all"
    CLOSE_ALL = "desk.incident_close_all"


def incident_metadata(incident_id: int) -> dict[str, Any]:
    """Lets the desk recognise its own incident card in the channel's history."""
    return {"event_type": INCIDENT_EVENT_TYPE, "event_payload": {"incident_id": incident_id}}


def sparkline(counts: tuple[int, ...]) -> str:
    """One character per minute, its height relative to the busiest minute."""
    if not counts:
        return ""
    top = max(counts) or 1
    return "".join(" " if c == 0 else SPARKS[min(len(SPARKS) - 1, (c * len(SPARKS) - 1) // top)] for c in counts)


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def spike_line(spike: Spike) -> str:
    if not spike.mentions or spike.first_seen is None or spike.last_seen is None:
        return "No mentions yet"
    people = "person" if spike.authors == 1 else "people"
    line = f"*{spike.mentions:,}* mentions from *{spike.authors:,}* {people}"
    line += f" · first {slack_date(spike.first_seen)} · last {slack_date(spike.last_seen)}"
    if spike.per_minute:
        line += f"\nPer minute (last {len(spike.per_minute)} min, peak {max(spike.per_minute)}): `{sparkline(spike.per_minute)}`"
    return line


def _conversations(view: IncidentView) -> str:
    lines = []
    for summary in view.first:
        t = summary.ticket
        who = escape_mrkdwn(cut(one_line(f"@{summary.author.handle}"), 60)) if summary.author else "someone"
        where = link(summary.opening.url, f"open on {t.platform}") if summary.opening and summary.opening.url \
            else escape_mrkdwn(t.platform)
        state = "" if t.status not in ENDED_STATUSES else f" · {t.status}"
        lines.append(f"• {t.ref} {who} · {where}{state}")
    more = view.tickets - len(view.first)
    if more > 0:
        lines.append(f"…and {more:,} more")
    return "\n".join(lines) or "none yet"


def progress_line(view: IncidentView) -> str | None:
    p = view.progress
    if not p.total:
        return None
    line = f"↩️ Replies: *{p.sent:,}* sent · *{p.pending:,}* pending · *{p.failed:,}* failed or uncertain"
    if p.failed:
        line += " (see the tickets' cards or `/desk queue`)"
    return line


def build_incident_card(view: IncidentView, *, masked_title: str, now: datetime) -> CardMessage:
    """``masked_title``: the storm's text with personal data already hidden (not yet escaped)."""
    i = view.incident
    platforms = ", ".join(view.platforms) or "?"
    header = f"🌩 Storm · incident #{i.id} · {escape_text(platforms)}"
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(header, 150), emoji=True))]
    blocks.append(SectionBlock(text=_mrkdwn(
        f"{priority_label(view.priority)} · *{view.tickets:,}* conversations with near-identical mentions, "
        f"*{view.active_tickets:,}* still open")))
    # plain_text, escaped too: a stranger's words can neither format nor ping.
    blocks.append(SectionBlock(text=PlainTextObject(text=fit(cut(masked_title, TITLE_CHARS), MAX_SECTION_CHARS),
                                                    emoji=False)))
    blocks.append(SectionBlock(text=_mrkdwn(cut(spike_line(view.spike), MAX_SECTION_CHARS))))
    blocks.append(SectionBlock(text=_mrkdwn(cut("*Affected conversations*\n" + _conversations(view),
                                                MAX_SECTION_CHARS))))
    status = ["🟢 Active" if i.status == ACTIVE else "✅ Closed"]
    progress = progress_line(view)
    if progress:
        status.append(progress)
    blocks.append(SectionBlock(text=_mrkdwn("\n".join(status))))
    hint = ("Reply to all answers every open conversation once, personalised with {name} or {handle}, "
            "at the platform's pace · ") if view.active_tickets else ""
    blocks.append(ContextBlock(elements=[_mrkdwn(f"{hint}updated {slack_date(now)}")]))
    if view.active_tickets:
        value = str(i.id)
        blocks.append(ActionsBlock(block_id=f"incident:{i.id}", elements=[
            ButtonElement(text="Reply to all", action_id=IncidentActions.REPLY_ALL, value=value, style="primary"),
            ButtonElement(text="Close all", action_id=IncidentActions.CLOSE_ALL, value=value, confirm=ConfirmObject(
                title="Close every ticket?", text=f"Close the {view.active_tickets:,} open tickets of incident "
                                                  f"#{i.id}? Nothing is posted to the customers.",
                confirm="Close all", deny="Cancel")),
        ]))
    said = escape_text(cut(one_line(masked_title), 150))
    text = f"[storm] incident #{i.id}: {view.tickets:,} conversations on {escape_text(platforms)}: {said}"
    return CardMessage(text, blocks, incident_metadata(i.id))
