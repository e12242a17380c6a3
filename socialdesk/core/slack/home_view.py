"""The App Home tab's view, built from what the store says (no Slack calls here).

Sections: the agent's own tickets, SLA clocks about to breach or breached, the unclaimed
queue by priority and open incidents. Each ticket row is a section (what it is) and an
actions block (Claim or a confirmed Take over, and Open card, a link to the card). A Home
view holds at most 100 blocks, so rows are paged ("Next page" / "Previous page"); the
platform and priority filters are static selects at the top.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from socialdesk.core.slack.card import PRIORITY_MARKS, Actions
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, one_line
from socialdesk.core.slack.takeover import takeover_button
from socialdesk.core.slack.timefmt import duration, slack_date
from socialdesk.core.store.home_queries import HomeFilters, OpenIncident, deadline
from socialdesk.core.store.ticket_queries import TicketSummary

CALLBACK = "desk.home"
MAX_BLOCKS = 100
FIXED_BLOCKS = 7  # header, context, filters, notice, divider, page line, paging


class HomeActions:
    CLAIM = "desk.home_claim"  # value: ticket id
    PLATFORM = "desk.home_platform"  # static select; "all" or a platform
    PRIORITY = "desk.home_priority"  # static select; "all" or 1-4
    PREVIOUS_PAGE = "desk.home_page_previous"  # value: the page to show
    NEXT_PAGE = "desk.home_page_next"
    REFRESH = "desk.home_refresh"


ALL = "all"


@dataclass(frozen=True, slots=True)
class HomeRow:
    summary: TicketSummary
    permalink: str | None
    holder_name: str | None = None  # the holder's display name, for the takeover dialog


@dataclass(frozen=True, slots=True)
class HomeSection:
    key: str
    title: str
    rows: list[HomeRow] = field(default_factory=list)
    empty: str = "Nothing here."
    incidents: list[tuple[OpenIncident, str | None]] = field(default_factory=list)  # (incident, permalink)


@dataclass(frozen=True, slots=True)
class HomeContent:
    user_id: str
    filters: HomeFilters
    platforms: list[str]
    sections: list[HomeSection]
    now: datetime
    page: int = 0
    notice: str | None = None


def _row_text(row: HomeRow, user_id: str, now: datetime) -> str:
    t, author, opening = row.summary.ticket, row.summary.author, row.summary.opening
    ref = f"<{row.permalink}|{t.ref}>" if row.permalink else t.ref
    who = escape_mrkdwn(cut(one_line("@" + author.handle), 40)) if author else "someone"
    said = fit(cut(one_line(opening.text), 90), 700, mrkdwn=True) if opening else ""
    if t.assignee == user_id:
        holder = "yours"
    elif t.assignee:
        holder = f"held by <@{t.assignee}>"
    else:
        holder = "unclaimed"
    parts = [f"{PRIORITY_MARKS.get(t.priority, '')} *P{t.priority}* {ref} · {escape_mrkdwn(t.platform)} · {who}: “{said}”",
             f"{t.status}, {holder} · {duration((now - t.created_at).total_seconds())} old"]
    due = deadline(t)
    if due is not None:
        left = (due - now).total_seconds()
        parts[-1] += (f" · SLA due in {duration(left)} (by {slack_date(due, with_date=False)})" if left >= 0
                      else f" · *SLA breached {duration(-left)} ago*")
    return cut("\n".join(parts), 3000)


def _row_blocks(section: str, row: HomeRow, user_id: str, now: datetime) -> list[Block]:
    t = row.summary.ticket
    blocks: list[Block] = [SectionBlock(block_id=f"{section}:{t.id}",
                                        text=MarkdownTextObject(text=_row_text(row, user_id, now), verbatim=True))]
    buttons: list[Any] = []
    if t.assignee is None:
        buttons.append(ButtonElement(text="Claim", action_id=HomeActions.CLAIM, value=str(t.id), style="primary"))
    elif t.assignee != user_id:
        buttons.append(takeover_button(t.id, t.assignee, row.holder_name or t.assignee))
    if row.permalink:
        buttons.append(ButtonElement(text="Open card", action_id=Actions.LINK, url=row.permalink, value=str(t.id)))
    if buttons:
        blocks.append(ActionsBlock(block_id=f"{section}:{t.id}:act", elements=buttons))
    return blocks


def _incident_block(incident: OpenIncident, permalink: str | None) -> Block:
    title = fit(cut(one_line(incident.title), 120), 800, mrkdwn=True)
    ref = f"<{permalink}|incident {incident.id}>" if permalink else f"incident {incident.id}"
    plural = "s" if incident.active_tickets != 1 else ""
    return SectionBlock(block_id=f"incident:{incident.id}", text=MarkdownTextObject(verbatim=True, text=(
        f"🌩 {ref}: “{title}” · {incident.active_tickets} open ticket{plural} · since "
        f"{slack_date(incident.first_seen)}")))


def _pages(content: HomeContent, rows_per_page: int) -> list[list[Block]]:
    """Every section's blocks, split into pages within the view's block limit."""
    budget = MAX_BLOCKS - FIXED_BLOCKS
    pages: list[list[Block]] = [[]]
    rows_on_page = 0

    def room(blocks: int, rows: int) -> bool:
        return len(pages[-1]) + blocks <= budget and rows_on_page + rows <= rows_per_page

    for section in content.sections:
        heading: Block = HeaderBlock(block_id=f"h:{section.key}:{len(pages)}", text=PlainTextObject(text=cut(section.title, 150)))
        entries: list[tuple[list[Block], int]] = [
            (_row_blocks(section.key, row, content.user_id, content.now), 1) for row in section.rows]
        entries += [([_incident_block(i, link)], 1) for i, link in section.incidents]
        if not entries:
            entries = [([ContextBlock(block_id=f"empty:{section.key}",
                                      elements=[PlainTextObject(text=section.empty)])], 0)]
        if not room(1 + len(entries[0][0]), entries[0][1]):
            pages.append([])
            rows_on_page = 0
        pages[-1].append(heading)
        for blocks, rows in entries:
            if not room(len(blocks), rows):
                pages.append([HeaderBlock(block_id=f"h:{section.key}:{len(pages)}",
                                          text=PlainTextObject(text=cut(f"{section.title} (continued)", 150)))])
                rows_on_page = 0
            pages[-1].extend(blocks)
            rows_on_page += rows
    return pages


def _select(action_id: str, placeholder: str, options: list[Option], chosen: str) -> StaticSelectElement:
    initial = next((o for o in options if o.value == chosen), options[0])
    return StaticSelectElement(action_id=action_id, placeholder=placeholder, options=options, initial_option=initial)


def _filters(content: HomeContent) -> ActionsBlock:
    platforms = [Option(text="All platforms", value=ALL)] + [Option(text=cut(p, 75), value=p)
                                                             for p in content.platforms[:99]]
    priorities = [Option(text="All priorities", value=ALL)] + [Option(text=f"P{p} only", value=str(p))
                                                               for p in range(1, 5)]
    return ActionsBlock(block_id="home_filters", elements=[
        _select(HomeActions.PLATFORM, "Platform", platforms, content.filters.platform or ALL),
        _select(HomeActions.PRIORITY, "Priority", priorities,
                str(content.filters.priority) if content.filters.priority else ALL),
        ButtonElement(text="Refresh", action_id=HomeActions.REFRESH, value="refresh"),
    ])


def home_view(content: HomeContent, rows_per_page: int) -> View:
    pages = _pages(content, rows_per_page)
    page = max(0, min(content.page, len(pages) - 1))
    scope = [content.filters.platform or "all platforms",
             f"P{content.filters.priority} only" if content.filters.priority else "all priorities"]
    blocks: list[Block] = [
        HeaderBlock(block_id="home_title", text=PlainTextObject(text="Support desk")),
        ContextBlock(block_id="home_updated", elements=[MarkdownTextObject(
            text=f"Updated {slack_date(content.now)} · showing {escape_mrkdwn(', '.join(scope))}")]),
        _filters(content),
    ]
    if content.notice:
        blocks.append(SectionBlock(block_id="home_notice", text=MarkdownTextObject(text=cut(content.notice, 3000))))
    blocks.append(DividerBlock(block_id="home_top"))
    blocks += pages[page]
    if len(pages) > 1:
        blocks.append(ContextBlock(block_id="home_page_line", elements=[PlainTextObject(
            text=f"Page {page + 1} of {len(pages)}")]))
        paging: list[Any] = []
        if page > 0:
            paging.append(ButtonElement(text="Previous page", action_id=HomeActions.PREVIOUS_PAGE,
                                        value=str(page - 1)))
        if page + 1 < len(pages):
            paging.append(ButtonElement(text="Next page", action_id=HomeActions.NEXT_PAGE, value=str(page + 1)))
        blocks.append(ActionsBlock(block_id="home_paging", elements=paging))
    return View(type="home", callback_id=CALLBACK, blocks=blocks,
                private_metadata=json.dumps({"page": page}))
