"""Ingest files a storm's tickets under one incident, in the mention's own transaction."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.incidents.links import POST_INCIDENT_CARD, UPDATE_INCIDENT_CARD
from socialdesk.core.store.models import AuditEvent, Incident, OutboxJob
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.plugins.storms import plugin as storms
from tests.conftest import mention
from tests.storms.conftest import complaint
from tests.store_queries import Ticket, audit_kinds, count, jobs


async def incident_of(app, ticket_id: int) -> int | None:  # type: ignore[no-untyped-def]
    async with app.database.sessions() as session:
        return await session.scalar(select(Ticket.incident_id).where(Ticket.id == ticket_id))


async def test_the_third_person_makes_a_storm_and_the_first_two_are_linked(app) -> None:
    first = await app.service.ingest(complaint(1))
    second = await app.service.ingest(complaint(2))
    assert await incident_of(app, first.ticket_id) is None
    await app.outbox_runner().drain()  # their cards are up (the recorder stands in for Slack)
    third = await app.service.ingest(complaint(3))
    incident_id = await incident_of(app, third.ticket_id)
    assert incident_id is not None
    assert await incident_of(app, first.ticket_id) == incident_id
    assert await incident_of(app, second.ticket_id) == incident_id
    # the first two had their own cards posted before the storm; the third has none
    posts = await jobs(app, JobKind.POST_CARD)
    assert sorted(j.ticket_id for j in posts) == [first.ticket_id, second.ticket_id]
    # their cards are refreshed to show the link; the incident card is queued once
    updated = {j.ticket_id for j in await jobs(app, JobKind.UPDATE_CARD)}
    assert {first.ticket_id, second.ticket_id} <= updated
    incident_posts = await jobs(app, POST_INCIDENT_CARD)
    assert [j.payload for j in incident_posts] == [{"incident_id": incident_id}]
    assert incident_posts[0].dedupe_key == f"incident_card:{incident_id}"
    assert "triaged" in await audit_kinds(app, first.ticket_id)

    for n in range(4, 12):
        result = await app.service.ingest(complaint(n))
        assert await incident_of(app, result.ticket_id) == incident_id
    assert await count(app, Incident) == 1
    assert len(await jobs(app, POST_INCIDENT_CARD)) == 1
    assert len(await jobs(app, JobKind.POST_CARD)) == 2
    # refreshes are coalesced: one waits at a time
    waiting = [j for j in await jobs(app, UPDATE_INCIDENT_CARD) if j.status == "pending"]
    assert len(waiting) == 1
    incident = await app.incidents.get(incident_id)
    assert incident.storm_key == "storm:testnet:storm-1" and incident.status == "active"
    assert incident.title.startswith("@acme my order 40001 never arrived")


async def test_early_cards_nobody_has_seen_yet_are_withdrawn(app) -> None:
    first = await app.service.ingest(complaint(1))
    second = await app.service.ingest(complaint(2))
    assert len(await jobs(app, JobKind.POST_CARD)) == 2  # queued, not yet posted
    third = await app.service.ingest(complaint(3))
    incident_id = await incident_of(app, third.ticket_id)
    assert incident_id is not None and await incident_of(app, first.ticket_id) == incident_id
    # the incident card lists all three: no card of their own, nothing to refresh
    assert await jobs(app, JobKind.POST_CARD) == []
    assert await jobs(app, JobKind.UPDATE_CARD) == []
    assert len(await jobs(app, POST_INCIDENT_CARD)) == 1
    async with app.database.sessions() as session:
        details = (await session.scalars(select(AuditEvent.details).where(
            AuditEvent.ticket_id == second.ticket_id, AuditEvent.kind == "triaged"))).one()
    assert details["own_card"] == "withdrawn" and details["incident_id"] == incident_id


async def test_a_card_post_already_tried_is_never_withdrawn(app) -> None:
    first = await app.service.ingest(complaint(1))
    await app.service.ingest(complaint(2))
    # The first card's post was sent and its answer lost: it may be in Slack, so it stays
    # (its next attempt looks for it before posting again).
    await app.service.begin_card_post(first.ticket_id, "CDESK")
    async with app.database.transaction() as session:
        job = (await session.scalars(select(OutboxJob).where(OutboxJob.ticket_id == first.ticket_id))).one()
        job.attempts = 1
    await app.service.ingest(complaint(3))
    assert [j.ticket_id for j in await jobs(app, JobKind.POST_CARD)] == [first.ticket_id]
    assert [j.ticket_id for j in await jobs(app, JobKind.UPDATE_CARD)] == [first.ticket_id]


async def test_a_batch_holding_the_whole_storm_links_it_in_one_transaction(app) -> None:
    results = await app.service.ingest_many([complaint(n) for n in range(1, 21)])
    incidents = {await incident_of(app, r.ticket_id) for r in results}
    assert len(incidents) == 1 and None not in incidents
    assert len(await jobs(app, JobKind.POST_CARD)) == 0  # the two before the third were never written
    assert len(await jobs(app, POST_INCIDENT_CARD)) == 1


async def test_a_follow_up_on_an_incident_ticket_refreshes_the_incident_card(app, cards) -> None:
    for n in range(1, 4):
        third = await app.service.ingest(complaint(n))
    incident_id = await incident_of(app, third.ticket_id)
    await app.outbox_runner().drain()  # the recorder stands in for Slack; incident jobs wait
    before = len(await jobs(app, UPDATE_INCIDENT_CARD))
    conversation = f"conv-{complaint(3).external_id}"
    follow_up = await app.service.ingest(mention("storm-3b", conversation_id=conversation, author_id="a3",
                                                 text="any news?"))
    assert follow_up.ticket_id == third.ticket_id
    assert await incident_of(app, follow_up.ticket_id) == incident_id
    assert len(await jobs(app, UPDATE_INCIDENT_CARD)) >= before
    assert [j for j in await jobs(app, UPDATE_INCIDENT_CARD) if j.status == "pending"]


async def test_restart_mid_storm_lands_in_the_same_incident(make_app) -> None:
    first = await make_app()
    for n in range(1, 5):
        await first.service.ingest(complaint(n))
    # a new process: its index is rebuilt from the store on first use
    second = await make_app()
    result = await second.service.ingest(complaint(5))
    incident_id = await incident_of(second, result.ticket_id)
    assert incident_id == await incident_of(second, (await second.service.ingest(complaint(1))).ticket_id)
    assert await count(second, Incident) == 1
    assert len(await jobs(second, POST_INCIDENT_CARD)) == 1
    state = await storms.storms_of(second)
    assert len(state.index) == 6  # four rebuilt mentions, the incident's title, the new one


async def test_restart_before_the_storm_counts_the_earlier_authors(make_app) -> None:
    first = await make_app()
    a = await first.service.ingest(complaint(1))
    b = await first.service.ingest(complaint(2))
    second = await make_app()
    c = await second.service.ingest(complaint(3))
    incident_id = await incident_of(second, c.ticket_id)
    assert incident_id is not None
    assert await incident_of(second, a.ticket_id) == incident_id == await incident_of(second, b.ticket_id)


async def test_one_author_repeating_opens_tickets_with_cards_and_no_incident(app) -> None:
    for n in range(1, 6):
        await app.service.ingest(complaint(n, author="same-person"))
    assert await count(app, Incident) == 0
    assert len(await jobs(app, JobKind.POST_CARD)) == 5
