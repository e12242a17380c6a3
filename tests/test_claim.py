"""Claim is one conditional UPDATE: of any number of simultaneous claims, one wins."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.errors import ClaimedByOther, IllegalTransition, TicketNotFound
from socialdesk.core.extensions import Actor
from tests.conftest import mention
from tests.store_queries import audit_kinds


async def test_fifty_concurrent_claims_one_winner(make_app):
    desks = [await make_app() for _ in range(3)]  # three replicas on one database
    ticket_id = (await desks[0].service.ingest(mention("hot"))).ticket_id
    agents = [f"U{n:04d}" for n in range(50)]

    async def attempt(n: int, agent: str):
        try:
            return await desks[n % 3].service.claim(ticket_id, Actor(agent))
        except ClaimedByOther as exc:
            return exc

    outcomes = await asyncio.gather(*(attempt(n, a) for n, a in enumerate(agents)))
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, ClaimedByOther)]
    assert len(winners) == 1 and len(losers) == 49
    winner = winners[0].assignee
    assert {l.assignee for l in losers} == {winner}
    assert all(str(l) == f"#{ticket_id} is claimed by <@{winner}>" for l in losers)
    ticket = await desks[0].service.get_ticket(ticket_id)
    assert ticket.assignee == winner
    assert (await audit_kinds(desks[0], ticket_id)).count("claimed") == 1


async def test_claiming_your_own_ticket_again_says_so(app):
    tid = (await app.service.ingest(mention())).ticket_id
    await app.service.claim(tid, Actor("U1"))
    with pytest.raises(IllegalTransition, match="already yours"):
        await app.service.claim(tid, Actor("U1"))


async def test_takeover_is_explicit(app):
    tid = (await app.service.ingest(mention())).ticket_id
    await app.service.claim(tid, Actor("U1"))
    with pytest.raises(ClaimedByOther):
        await app.service.claim(tid, Actor("U2"))
    ticket = await app.service.claim(tid, Actor("U2"), takeover=True)
    assert ticket.assignee == "U2"
    trail = await app.service.audit_trail(tid)
    assert [e.details.get("takeover") for e in trail if e.kind == "claimed"] == [False, True]


async def test_closed_ticket_cannot_be_claimed(app):
    tid = (await app.service.ingest(mention())).ticket_id
    await app.service.close(tid, Actor("U1"))
    with pytest.raises(IllegalTransition, match=f"#{tid} is closed"):
        await app.service.claim(tid, Actor("U2"))


async def test_unknown_ticket(app):
    with pytest.raises(TicketNotFound, match="#999 does not exist"):
        await app.service.claim(999, Actor("U1"))
