"""The App Home tab, through the real Bolt app against the Slack sandbox: what it lists after
claims and breaches, Claim from a row, filters stored per agent, paging within 100 blocks,
and refreshes only for agents who opened it recently."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from socialdesk.core.extensions import Actor
from socialdesk.core.slack.home_publisher import HomePublisher
from socialdesk.core.slack.home_view import HomeActions
from socialdesk.core.slack.runtime import runtime_for as slack_runtime
from socialdesk.core.slack.takeover import TAKEOVER_ACTION
from socialdesk.core.store.models import AuditEvent, HomePreference, Ticket
from tests.slack.conftest import ALICE, BOB, ERIN, NO_STORMS, Desk, eventually

FAST_HOME = {"home": {"debounce_seconds": 0.05}}


def shown(desk: Desk, user: str) -> str:
    view = desk.slack.home(user)
    return json.dumps(view.blocks, ensure_ascii=False) if view else ""


def section_of(desk: Desk, user: str, key: str) -> list[int]:
    """Ticket ids listed in one section of ``user``'s Home (row block ids are ``key:id``)."""
    view = desk.slack.home(user)
    assert view is not None
    return [int(b["block_id"].split(":")[1]) for b in view.blocks
            if b["type"] == "section" and b.get("block_id", "").startswith(f"{key}:")]


async def opened(desk: Desk, user: str) -> Any:
    before = len(desk.slack.state.homes.publishes)
    assert (await desk.driver.open_home(user)).acked
    await eventually(lambda: len(desk.slack.state.homes.publishes) > before, message="home published")
    return desk.slack.home(user)


async def republished(desk: Desk, user: str, predicate: Any) -> Any:
    await eventually(lambda: desk.slack.home(user) is not None and predicate(), message="home refreshed")
    return desk.slack.home(user)


async def test_home_lists_mine_breaches_queue_and_claims_from_a_row(start_desk) -> None:
    desk = await start_desk("http", plugin=FAST_HOME, plugins=NO_STORMS)
    mine = await desk.mention("My parcel is late", handle="ann")
    late = await desk.mention("Nobody answers me", handle="ben")
    waiting = await desk.mention("How do I reset my password?", handle="cat")
    await desk.app.service.claim(mine, Actor(ALICE))
    now = desk.app.clock()
    async with desk.app.database.transaction() as session:  # the SLA plugin's deadline, run out
        await session.execute(update(Ticket).where(Ticket.id == late).values(first_response_due=now - timedelta(minutes=5)))
        await session.execute(update(Ticket).where(Ticket.id == waiting)
                              .values(first_response_due=now + timedelta(minutes=10)))
    for tid in (mine, late, waiting):
        await desk.card(tid)

    view = await opened(desk, ALICE)
    assert len(view.blocks) <= 100
    assert section_of(desk, ALICE, "mine") == [mine]
    assert section_of(desk, ALICE, "breached") == [late]
    assert section_of(desk, ALICE, "soon") == [waiting]
    assert sorted(section_of(desk, ALICE, "queue")) == sorted([late, waiting])
    text = shown(desk, ALICE)
    assert "SLA breached 5 min ago" in text and "No open incidents." in text
    ticket = await desk.app.service.get_ticket(waiting)
    card_link = f"archives/{ticket.card_channel}/p{ticket.card_ts.replace('.', '')}"
    open_card = next(e for b in view.blocks if b.get("block_id") == f"queue:{waiting}:act" for e in b["elements"]
                     if e["text"]["text"] == "Open card")
    assert card_link in open_card["url"]

    # Claim from the queue row: the same claim as the card's, and the Home shows it at once.
    assert (await desk.driver.click_in_view(view.id, HomeActions.CLAIM, block_id=f"queue:{waiting}:act")).acked
    await republished(desk, ALICE, lambda: waiting in section_of(desk, ALICE, "mine")
                      and f"You have #{waiting} now." in shown(desk, ALICE))
    assert (await desk.app.service.get_ticket(waiting)).assignee == ALICE
    async with desk.app.database.sessions() as session:
        kinds = list(await session.scalars(select(AuditEvent.kind).where(AuditEvent.ticket_id == waiting)))
    assert kinds.count("claimed") == 1

    # Someone else's change refreshes Alice's Home; the breached row now offers a confirmed takeover.
    await desk.app.service.claim(late, Actor(BOB))
    view = await republished(desk, ALICE, lambda: f"held by <@{BOB}>" in shown(desk, ALICE))
    row = next(b for b in view.blocks if b.get("block_id") == f"breached:{late}:act")
    take = next(e for e in row["elements"] if e["action_id"] == TAKEOVER_ACTION)
    assert take["confirm"]["confirm"]["text"] == "Take over" and f"<@{BOB}>" in take["confirm"]["text"]["text"]
    assert (await desk.driver.click_in_view(view.id, TAKEOVER_ACTION, block_id=f"breached:{late}:act")).acked
    await republished(desk, ALICE, lambda: late in section_of(desk, ALICE, "mine"))
    assert (await desk.app.service.get_ticket(late)).assignee == ALICE
    trail = await desk.app.service.audit_trail(late)
    assert [e.details.get("takeover") for e in trail if e.kind == "claimed"] == [False, True]


async def test_a_lost_claim_from_the_home_is_told_at_its_top(start_desk) -> None:
    desk = await start_desk("http", plugin=FAST_HOME, plugins=NO_STORMS)
    tid = await desk.mention()
    await desk.card(tid)
    view = await opened(desk, ALICE)
    await desk.app.service.claim(tid, Actor(BOB))  # Bob was quicker; Alice's Home is not refreshed yet
    assert (await desk.driver.click_in_view(view.id, HomeActions.CLAIM, block_id=f"queue:{tid}:act")).acked
    await republished(desk, ALICE, lambda: f"#{tid} is claimed by <@{BOB}>" in shown(desk, ALICE))
    assert (await desk.app.service.get_ticket(tid)).assignee == BOB


async def test_filters_are_stored_per_agent_and_pages_keep_within_100_blocks(start_desk) -> None:
    desk = await start_desk("http", plugin={"home": {"debounce_seconds": 0.05, "rows_per_page": 40}},
                            plugins=NO_STORMS)
    urgent = await desk.mention("URGENT: the site is down and I cannot log in", handle="urgent")
    tickets = [await desk.mention(f"question number {n} about my invoice", handle=f"c{n}") for n in range(60)]
    async with desk.app.database.transaction() as session:
        await session.execute(update(Ticket).where(Ticket.id == urgent).values(priority=1))
        await session.execute(update(Ticket).where(Ticket.id.in_(tickets)).values(priority=3))
    view = await opened(desk, ALICE)
    assert len(view.blocks) <= 100
    pages = [json.dumps(view.blocks)]
    listed = set(section_of(desk, ALICE, "queue"))
    while any(e.get("action_id") == HomeActions.NEXT_PAGE for b in view.blocks if b["type"] == "actions"
              for e in b["elements"]):
        before = view.hash
        assert (await desk.driver.click_in_view(view.id, HomeActions.NEXT_PAGE, block_id="home_paging")).acked
        view = await republished(desk, ALICE, lambda: desk.slack.home(ALICE).hash != before)
        assert len(view.blocks) <= 100
        pages.append(json.dumps(view.blocks))
        listed |= set(section_of(desk, ALICE, "queue"))
    assert len(pages) >= 2 and listed == {urgent, *tickets}

    # Priority filter: stored for Alice only, and applied to what her Home lists.
    assert (await desk.driver.pick_in_view(view.id, HomeActions.PRIORITY, "1")).acked
    view = await republished(desk, ALICE, lambda: section_of(desk, ALICE, "queue") == [urgent])
    assert "P1 only" in shown(desk, ALICE)
    async with desk.app.database.sessions() as session:
        stored = await session.get(HomePreference, ALICE)
        assert stored is not None and (stored.platform, stored.priority) == (None, 1)
        assert await session.get(HomePreference, BOB) is None
    await opened(desk, ALICE)  # reopening keeps the filter
    assert section_of(desk, ALICE, "queue") == [urgent]
    await opened(desk, BOB)
    assert len(section_of(desk, BOB, "queue")) > 1
    # Platform filter: a platform the desk does not have is not an option; "testnet" is.
    assert (await desk.driver.pick_in_view(view.id, HomeActions.PLATFORM, "testnet")).acked
    await republished(desk, ALICE, lambda: "testnet, P1 only" in shown(desk, ALICE))


async def test_only_recent_openers_are_refreshed_and_strangers_are_refused(start_desk, clock) -> None:
    desk = await start_desk("http", plugin={"home": {"debounce_seconds": 0.05, "recent_minutes": 30}},
                            plugins=NO_STORMS)
    first = await desk.mention("first")
    await desk.card(first)
    await opened(desk, ALICE)
    assert section_of(desk, ALICE, "queue") == [first]
    await desk.app.service.claim(first, Actor(BOB))
    await republished(desk, ALICE, lambda: section_of(desk, ALICE, "queue") == [])
    assert desk.slack.home(BOB) is None  # Bob never opened his Home: nothing is published for him

    clock.advance(minutes=31)  # Alice has not looked for half an hour
    publishes = len(desk.slack.state.homes.publishes)
    second = await desk.mention("second")
    await desk.app.service.claim(second, Actor(BOB))
    await desk.card(second)
    await desk.settled()
    await opened(desk, BOB)  # a publish for Bob shows the listener ran after those changes
    assert [u for u, _ in desk.slack.state.homes.publishes[publishes:]] == [BOB]

    view = await opened(desk, ERIN)
    assert "Only desk agents can do that" in json.dumps(view.blocks)
    assert "home_filters" not in json.dumps(view.blocks)


async def test_a_burst_of_changes_is_one_refresh_per_agent(start_desk) -> None:
    desk = await start_desk("http", plugin={"home": {"debounce_seconds": 3}}, plugins=NO_STORMS)
    tickets = [await desk.mention(f"burst {n}", handle=f"b{n}") for n in range(10)]
    await opened(desk, ALICE)
    before = len(desk.slack.state.homes.publishes)
    for tid in tickets:  # ten changes, each a ticket event
        await desk.app.service.claim(tid, Actor(BOB))
    await republished(desk, ALICE, lambda: section_of(desk, ALICE, "queue") == [])
    refreshes = [u for u, _ in desk.slack.state.homes.publishes[before:]]
    assert set(refreshes) == {ALICE} and len(refreshes) < len(tickets) // 2  # debounced, not one per change


async def test_the_page_an_agent_turned_to_is_kept_for_every_replica(start_desk) -> None:
    desk = await start_desk("http", plugin={"home": {"debounce_seconds": 0.05, "rows_per_page": 5}},
                            plugins=NO_STORMS)
    tickets = [await desk.mention(f"question number {n} about my invoice", handle=f"c{n}") for n in range(12)]
    async with desk.app.database.transaction() as session:
        await session.execute(update(Ticket).where(Ticket.id.in_(tickets)).values(priority=3))
    view = await opened(desk, ALICE)
    first = section_of(desk, ALICE, "queue")
    before = view.hash
    assert (await desk.driver.click_in_view(view.id, HomeActions.NEXT_PAGE, block_id="home_paging")).acked
    view = await republished(desk, ALICE, lambda: desk.slack.home(ALICE).hash != before)
    second = section_of(desk, ALICE, "queue")
    assert second and not set(second) & set(first)
    # Another replica (nothing of Alice's in its memory) refreshes her Home after a change there.
    other_replica = HomePublisher(desk.app, slack_runtime(desk.app))
    assert await other_replica.publish(ALICE)
    assert section_of(desk, ALICE, "queue") == second
    # A new filter starts at its first page, on every replica.
    assert (await desk.driver.pick_in_view(view.id, HomeActions.PRIORITY, "3")).acked
    await republished(desk, ALICE, lambda: section_of(desk, ALICE, "queue") == first)
    async with desk.app.database.sessions() as session:
        stored = await session.get(HomePreference, ALICE)
        assert stored is not None and (stored.priority, stored.page) == (3, 0)
    assert await other_replica.publish(ALICE)
    assert section_of(desk, ALICE, "queue") == first
