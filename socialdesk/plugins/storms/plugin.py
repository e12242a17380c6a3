"""Default plugin ``storms``: near-identical mentions from many people become one incident.

Triage asks the desk's :class:`~socialdesk.plugins.storms.index.StormIndex` about every new
mention. Once ``min_authors`` different people wrote near-identical texts (MinHash
similarity of at least ``similarity``) within ``window``, the verdict carries a
``storm_key``: ingest files the ticket under that incident (one incident card instead of
a card per mention) and links the tickets of the earlier cluster members
(``storm_members``), which were opened before the storm was recognised.

The index lives in memory, one per desk, and is rebuilt from the store on first use:
the inbound messages of the last window (with the storm key of their ticket's incident)
and the titles of incidents active within the window, so a restart mid-storm files the
next mention under the incident that exists rather than opening a second one.

Replicas: only the leader runs listeners, so one process triages mentions and holds the
index. Were two processes to triage the same storm at once, each would declare it from
its own index; the storm key is derived from the founding mention, so they agree
whenever they saw the same first mention, and the unique ``incidents.storm_key`` makes
any one key a single incident whatever the race.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from pydantic import Field, field_validator
from sqlalchemy import Connection, func, select

from socialdesk.core.config import StrictModel
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import CardField
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.mention import Mention
from socialdesk.core.store.models import Author, Incident, Message, Ticket
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.triage import TriageContribution
from socialdesk.plugins.storms.index import StormIndex

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

PLUGIN_NAME = "storms"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600}
# Reply and close events change what an incident card shows (bulk reply progress).
_REFRESHING_EVENTS = frozenset({EventKind.REPLY_SENT, EventKind.REPLY_FAILED, EventKind.REPLY_UNCERTAIN,
                                EventKind.REPLY_DISCARDED, EventKind.CLOSED, EventKind.REOPENED})


def parse_window(value: str) -> timedelta:
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"must be a duration such as \"90s\", \"10m\" or \"1h\" (got {value!r})")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class StormSettings(StrictModel):
    window: str = Field("10m", description="how far apart the mentions of one storm may be")
    similarity: float = Field(0.6, gt=0.0, le=1.0, description="estimated Jaccard similarity of word shingles")
    min_authors: int = Field(3, ge=2, description="different people before a storm is declared")
    max_entries: int = Field(20_000, ge=100, description="mentions remembered at most")
    shingle_words: int = Field(2, ge=1, le=5, description="words per shingle")
    min_words: int = Field(4, ge=1, description="shorter texts never start or join a storm")

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        seconds = parse_window(value).total_seconds()
        if not 10 <= seconds <= 24 * 3600:
            raise ValueError(f"must be between 10s and 24h (got {value!r})")
        return value


class _DeskStorms:
    """One desk's index, built from the store the first time it is needed."""

    def __init__(self, settings: StormSettings) -> None:
        self.index = StormIndex(parse_window(settings.window), settings.similarity, settings.min_authors,
                                settings.max_entries, settings.shingle_words, settings.min_words)
        self.loaded = False
        self.loading = asyncio.Lock()


_desks: WeakKeyDictionary[DeskApp, _DeskStorms] = WeakKeyDictionary()


async def storms_of(app: DeskApp) -> _DeskStorms:
    state = _desks.get(app)
    if state is None:
        state = _desks[app] = _DeskStorms(app.settings(PLUGIN_NAME))
    if not state.loaded:
        async with state.loading:
            if not state.loaded:
                await app.database.run_read(lambda connection: _rebuild(connection, state.index))
                state.loaded = True
    return state


def _rebuild(connection: Connection, index: StormIndex) -> None:
    """Recent inbound messages (and active incidents' titles) back into the index.

    "Recent" is measured from the newest stored mention, not from now: after downtime the
    pollers read what was missed, and those mentions belong with the ones before it.
    """
    newest = connection.execute(select(func.max(Message.created_at)).where(Message.direction == "inbound")).scalar()
    if newest is None:
        return
    horizon = newest - index.window
    incidents = connection.execute(
        select(Incident.id, Incident.storm_key, Incident.title, Incident.last_seen)
        .where(Incident.status == "active", Incident.last_seen >= horizon)
    ).all()
    for incident in incidents:
        platform = incident.storm_key.split(":")[1] if incident.storm_key.count(":") >= 2 else ""
        index.remember_title(incident.storm_key, incident.title)
        index.add((platform, f"\x00incident:{incident.id}"), "", None, incident.last_seen, incident.title,
                  incident.storm_key)
    rows = connection.execute(
        select(Message.platform, Message.external_id, Message.text, Message.created_at, Ticket.conversation_id,
               Author.external_id.label("author"), Incident.storm_key)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .outerjoin(Author, Author.id == Message.author_id)
        .outerjoin(Incident, Incident.id == Ticket.incident_id)
        .where(Message.direction == "inbound", Message.created_at >= horizon, Message.external_id.is_not(None))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(index.max_entries)
    ).all()
    for row in reversed(rows):  # oldest first, as they came
        index.add((row.platform, row.external_id), row.conversation_id, row.author, row.created_at, row.text,
                  row.storm_key)


@hookimpl
def socialdesk_settings_model() -> type[StormSettings]:
    return StormSettings


@hookimpl
async def socialdesk_triage(mention: Mention, app: DeskApp) -> TriageContribution | None:
    state = await storms_of(app)
    verdict = state.index.add((mention.platform, mention.external_id), mention.conversation_id,
                              mention.author.external_id, mention.created_at, mention.text)
    if verdict.storm_key is None:
        return None
    return TriageContribution(storm_key=verdict.storm_key, storm_title=verdict.title,
                              storm_members=verdict.members, reasons=("part of a storm of near-identical mentions",))


@hookimpl
async def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    """A ticket linked to an incident says so on its own card."""
    incident = await app.incidents.of_ticket(ticket.id)
    if incident is None:
        return None
    return [CardField("Incident", f"part of incident #{incident.id} (a storm of near-identical mentions; "
                                  "answer them all from the incident card)")]


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    """Replies sent or failed, tickets closed: the incident card's counts change."""
    if event.kind in _REFRESHING_EVENTS:
        await app.incidents.refresh_card_of_ticket(event.ticket_id)
