"""SLA clocks end to end on both databases, with a controlled clock.

Team in Paris, hours 09:00-17:00 Monday to Friday, Monday 9 November 2026 a holiday.
Unless a test says otherwise every priority gets 4 h to the first response and 16 h to
resolution, in business time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from socialdesk.core.app import DeskApp
from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.store.models import AuditEvent, OutboxJob, SlaTimer, Ticket
from socialdesk.core.ticket import TicketStatus
from socialdesk.plugins.sla.plugin import policy_for, sweep
from tests.conftest import FakeClock, mention

PARIS = ZoneInfo("Europe/Paris")
ONCALL = "S0ONCALL1"
AGENT = Actor("U0AGENT01")
SAME = {"first_response": "4h", "resolution": "16h"}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def config(**sla: object) -> dict:
    return {"desk": {"timezone": "Europe/Paris", "oncall_group": ONCALL},
            "plugins": {"sla": {"targets": {p: SAME for p in "1234"}, "holidays": ["2026-11-09"], **sla}}}


async def timers(app: DeskApp, ticket_id: int) -> dict[str, SlaTimer]:
    async with app.database.sessions() as session:
        rows = await session.scalars(select(SlaTimer).where(SlaTimer.ticket_id == ticket_id))
        return {r.kind: r for r in rows}


async def notices(app: DeskApp, ticket_id: int | None = None) -> list[OutboxJob]:
    query = select(OutboxJob).where(OutboxJob.kind == "slack_notice").order_by(OutboxJob.id)
    if ticket_id is not None:
        query = query.where(OutboxJob.ticket_id == ticket_id)
    async with app.database.sessions() as session:
        return list(await session.scalars(query))


async def audit(app: DeskApp, kind: str) -> list[AuditEvent]:
    async with app.database.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


async def at(app: DeskApp, clock: FakeClock, moment: datetime, sweeps: int = 1) -> None:
    """Move the clock to ``moment`` and let the sweep run (several times: it must not matter)."""
    clock.now = moment
    for _ in range(sweeps):
        await sweep(app)


async def test_friday_afternoon_holiday_monday_reminds_and_breaches_once(make_app, clock) -> None:
    app = await make_app(config())
    clock.now = paris(2026, 11, 6, 16, 0)  # Friday
    tid = (await app.service.ingest(mention())).ticket_id
    fr = (await timers(app, tid))["first_response"]
    assert (fr.due_at, fr.remind_at) == (paris(2026, 11, 10, 12, 0), paris(2026, 11, 10, 11, 0))  # Tuesday
    rs = (await timers(app, tid))["resolution"]
    assert (rs.due_at, rs.remind_at) == (paris(2026, 11, 11, 16, 0), paris(2026, 11, 11, 12, 0))  # Wednesday
    ticket = await app.service.get_ticket(tid)
    assert (ticket.first_response_due, ticket.resolution_due) == (fr.due_at, rs.due_at)

    for moment in (paris(2026, 11, 6, 16, 59), paris(2026, 11, 7, 12, 0), paris(2026, 11, 9, 10, 0),
                   paris(2026, 11, 10, 10, 59, 59)):
        await at(app, clock, moment)
    assert await notices(app) == []

    await at(app, clock, paris(2026, 11, 10, 11, 0), sweeps=3)
    [reminder] = await notices(app)
    assert reminder.dedupe_key == f"sla_reminder:{fr.id}"
    assert "⏳ 75% of the first-response time used" in reminder.payload["text"]
    assert "1 h of business time left" in reminder.payload["text"] and ONCALL not in reminder.payload["text"]
    assert [e.details["timer"] for e in await audit(app, "sla_reminded")] == ["first_response"]

    await at(app, clock, paris(2026, 11, 10, 11, 59, 59))
    assert len(await notices(app)) == 1
    await at(app, clock, paris(2026, 11, 10, 12, 0), sweeps=3)
    await app.service.note(tid, AGENT, "looking")  # an event settles the ticket too: still once
    await at(app, clock, paris(2026, 11, 10, 15, 0), sweeps=2)
    texts = [n.payload["text"] for n in await notices(app)]
    assert len(texts) == 2 and "🚨 SLA breached: the first response to" in texts[1]
    assert sum(f"<!subteam^{ONCALL}>" in t for t in texts) == 1
    [breach] = await audit(app, "sla_breached")
    assert breach.details == {"timer": "first_response", "due_at": fr.due_at.isoformat(), "announced": True}
    assert (await timers(app, tid))["first_response"].breached_at == paris(2026, 11, 10, 12, 0)
    async with app.database.sessions() as session:
        assert (await session.get(Ticket, tid)).sla_breached_at == paris(2026, 11, 10, 12, 0)
    # the card was refreshed with the breach flag on it
    fields = await app.hooks.card_fields(await app.service.get_ticket(tid))
    shown = {f.label: f.value for f in fields}
    assert shown["SLA"].startswith("🚨 SLA breached · First response overdue by 3 h of business time")
    assert shown["SLA breached"] == "first response (due Tue 10 Nov 12:00 CET)"


async def test_two_desks_sweeping_at_once_announce_each_thing_once(make_app, clock) -> None:
    first, second = await make_app(config()), await make_app(config())
    clock.now = paris(2026, 11, 6, 16, 0)
    ids = [(await first.service.ingest(mention())).ticket_id for _ in range(6)]
    clock.now = paris(2026, 11, 10, 11, 30)  # reminders due
    await asyncio.gather(*(sweep(app) for app in (first, second, first, second)))
    clock.now = paris(2026, 11, 11, 16, 30)  # both breaches due (and the resolution reminder)
    await asyncio.gather(*(sweep(app) for app in (first, second, first, second)))
    keys = [n.dedupe_key for n in await notices(first)]
    assert len(keys) == len(set(keys)) == 6 * 3  # first-response reminder and breach, resolution breach
    assert len(await audit(first, "sla_breached")) == 12 and len(await audit(first, "sla_reminded")) == 6
    for tid in ids:
        assert {k: (t.reminded_at is not None, t.breached_at is not None) for k, t in (await timers(first, tid)).items()} \
            == {"first_response": (True, True), "resolution": (False, True)}


async def test_paused_while_snoozed_and_waiting_moves_the_deadline_by_the_paused_business_time(
        make_app, clock) -> None:
    app = await make_app(config())
    cal = policy_for(app).business
    clock.now = paris(2026, 11, 10, 9, 0)  # Tuesday
    tid = (await app.service.ingest(mention(conversation_id="conv-pause"))).ticket_id
    before = await timers(app, tid)
    assert before["first_response"].due_at == paris(2026, 11, 10, 13, 0)

    clock.now = paris(2026, 11, 10, 10, 0)
    await app.service.snooze(tid, AGENT, paris(2026, 11, 11, 10, 0))
    paused = await timers(app, tid)
    assert paused["first_response"].paused_at == paris(2026, 11, 10, 10, 0)
    fields = {f.label: f.value for f in await app.hooks.card_fields(await app.service.get_ticket(tid))}
    assert fields["SLA"] == ("First response paused while snoozed, 3 h of business time left"
                            " · resolution paused while snoozed, 15 h of business time left")
    await at(app, clock, paris(2026, 11, 10, 16, 0))  # past the old due time: paused, nothing fires
    assert await notices(app) == []

    clock.now = paris(2026, 11, 11, 10, 0)
    assert await app.service.wake_due() == [tid]
    after = await timers(app, tid)
    snoozed_for = cal.between(paris(2026, 11, 10, 10, 0), paris(2026, 11, 11, 10, 0))
    assert snoozed_for == 8 * 3600
    for kind in ("first_response", "resolution"):
        assert after[kind].paused_at is None
        assert cal.between(before[kind].due_at, after[kind].due_at) == snoozed_for
        assert cal.between(before[kind].remind_at, after[kind].remind_at) == snoozed_for
    assert after["first_response"].due_at == paris(2026, 11, 11, 13, 0)
    assert (await app.service.get_ticket(tid)).first_response_due == after["first_response"].due_at

    # Replied at 11:00: the first response is met; the resolution clock waits on the customer.
    clock.now = paris(2026, 11, 11, 11, 0)
    await app.service.reply(tid, AGENT, "On its way!")
    await app.outbox_runner().drain()
    ticket = await app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.WAITING
    waiting = await timers(app, tid)
    assert waiting["first_response"].met_at == paris(2026, 11, 11, 11, 0)
    assert waiting["resolution"].paused_at == paris(2026, 11, 11, 11, 0)
    clock.now = paris(2026, 11, 12, 15, 30)  # the customer answers the next afternoon
    await app.service.ingest(mention(conversation_id="conv-pause", text="still nothing"))
    resumed = await timers(app, tid)
    waited = cal.between(paris(2026, 11, 11, 11, 0), paris(2026, 11, 12, 15, 30))
    assert waited == 6 * 3600 + 6.5 * 3600
    assert cal.between(waiting["resolution"].due_at, resumed["resolution"].due_at) == waited
    assert resumed["first_response"].due_at == after["first_response"].due_at  # met: untouched


async def test_met_clocks_never_fire(make_app, clock) -> None:
    app = await make_app(config())
    clock.now = paris(2026, 11, 10, 9, 0)
    answered = (await app.service.ingest(mention())).ticket_id
    closed = (await app.service.ingest(mention())).ticket_id
    spam = (await app.service.ingest(mention())).ticket_id
    clock.now = paris(2026, 11, 10, 9, 30)
    await app.service.reply(answered, AGENT, "Hello!", close_after=True)
    await app.outbox_runner().drain()
    await app.service.close(closed, AGENT, "duplicate")
    await app.service.mark_spam(spam, AGENT)
    for days in range(0, 10):
        await at(app, clock, paris(2026, 11, 10, 17, 0) + timedelta(days=days), sweeps=2)
    assert await notices(app) == [] and await audit(app, "sla_breached") == []
    for tid in (answered, closed, spam):
        assert all(t.met_at == paris(2026, 11, 10, 9, 30) and t.breached_at is None
                   for t in (await timers(app, tid)).values())
    shown = {f.label: f.value for f in await app.hooks.card_fields(await app.service.get_ticket(closed))}
    assert shown == {"SLA": "Closed without a reply · resolved after 30 min of business time"}


async def test_a_p1_runs_round_the_clock(make_app, clock) -> None:
    app = await make_app(config(targets={"1": {"first_response": "1h", "resolution": "8h", "calendar": "24x7"}}))
    clock.now = paris(2026, 11, 7, 3, 0)  # Saturday night
    tid = (await app.service.ingest(mention(text="the site is down"))).ticket_id
    assert (await app.service.get_ticket(tid)).priority == 1
    fr = (await timers(app, tid))["first_response"]
    assert (fr.remind_at, fr.due_at) == (paris(2026, 11, 7, 3, 45), paris(2026, 11, 7, 4, 0))
    await at(app, clock, paris(2026, 11, 7, 3, 44, 59))
    assert await notices(app) == []
    await at(app, clock, paris(2026, 11, 7, 3, 45), sweeps=2)
    await at(app, clock, paris(2026, 11, 7, 4, 0), sweeps=2)
    texts = [n.payload["text"] for n in await notices(app)]
    assert len(texts) == 2 and "15 min left" in texts[0] and f"<!subteam^{ONCALL}>" in texts[1]
    assert (await timers(app, tid))["resolution"].due_at == paris(2026, 11, 7, 11, 0)


async def test_a_follow_up_that_raises_priority_keeps_the_time_used(make_app, clock) -> None:
    app = await make_app(config(targets={"1": {"first_response": "1h", "resolution": "8h", "calendar": "24x7"},
                                         "3": SAME}, breach_mentions_oncall=False))
    clock.now = paris(2026, 11, 6, 16, 0)
    tid = (await app.service.ingest(mention(conversation_id="conv-up", text="my parcel is late"))).ticket_id
    assert (await app.service.get_ticket(tid)).priority == 3
    clock.now = paris(2026, 11, 6, 16, 15)  # 15 min used; as a P1, 45 min are left, round the clock
    await app.service.ingest(mention(conversation_id="conv-up", text="now the whole site is down"))
    assert (await app.service.get_ticket(tid)).priority == 1
    fr = (await timers(app, tid))["first_response"]
    assert (fr.target_seconds, fr.due_at, fr.remind_at) == (3600, paris(2026, 11, 6, 17, 0), paris(2026, 11, 6, 16, 45))
    assert (await app.service.get_ticket(tid)).first_response_due == fr.due_at
    await at(app, clock, paris(2026, 11, 6, 17, 0))
    texts = [n.payload["text"] for n in await notices(app)]
    assert len(texts) == 1 and "SLA breached" in texts[0] and "subteam" not in texts[0]  # reminder overtaken


async def test_an_agents_priority_correction_replans_the_clocks(make_app, clock) -> None:
    app = await make_app(config(targets={"1": {"first_response": "1h", "resolution": "8h", "calendar": "24x7"},
                                         "3": SAME}))
    clock.now = paris(2026, 11, 6, 16, 0)
    tid = (await app.service.ingest(mention(text="my parcel is late"))).ticket_id
    assert (await app.service.get_ticket(tid)).priority == 3
    clock.now = paris(2026, 11, 6, 16, 15)  # 15 min used; as a P1, 45 min are left, round the clock
    await app.service.correct_triage(tid, AGENT, priority=1)
    await app.service.observers_done()
    fr = (await timers(app, tid))["first_response"]
    assert (fr.target_seconds, fr.due_at, fr.remind_at) == (3600, paris(2026, 11, 6, 17, 0), paris(2026, 11, 6, 16, 45))
    ticket = await app.service.get_ticket(tid)
    assert (ticket.first_response_due, ticket.resolution_due) == (fr.due_at, (await timers(app, tid))["resolution"].due_at)


async def test_reopen_runs_on_from_where_the_clock_stopped(make_app, clock) -> None:
    app = await make_app(config())
    cal = policy_for(app).business
    clock.now = paris(2026, 11, 10, 9, 0)
    tid = (await app.service.ingest(mention())).ticket_id
    clock.now = paris(2026, 11, 10, 10, 0)
    await app.service.close(tid, AGENT)
    stopped = await timers(app, tid)
    clock.now = paris(2026, 11, 12, 14, 0)
    await app.service.reopen(tid, AGENT)
    running = await timers(app, tid)
    closed_for = cal.between(paris(2026, 11, 10, 10, 0), paris(2026, 11, 12, 14, 0))
    for kind in ("first_response", "resolution"):
        assert running[kind].met_at is None and running[kind].paused_at is None
        assert cal.between(stopped[kind].due_at, running[kind].due_at) == closed_for
    assert running["first_response"].due_at == paris(2026, 11, 12, 17, 0)  # 3 h were left


async def test_the_sweep_creates_missing_clocks_and_catches_up(make_app, clock) -> None:
    app = await make_app(config())
    clock.now = paris(2026, 11, 10, 9, 0)
    tid = (await app.service.ingest(mention())).ticket_id
    async with app.database.transaction() as session:  # as if the desk died before the observer ran
        for row in (await timers(app, tid)).values():
            await session.delete(await session.get(SlaTimer, row.id))
    await at(app, clock, paris(2026, 11, 10, 14, 0))  # the sweep: created, and due already
    fr = (await timers(app, tid))["first_response"]
    assert fr.started_at == paris(2026, 11, 10, 9, 0) and fr.breached_at == paris(2026, 11, 10, 14, 0)
    assert fr.reminded_at is None  # the breach overtook the reminder: no "75%" after 100%
    assert len(await notices(app)) == 1


async def test_auto_closed_tickets_get_no_clock(make_app, clock) -> None:
    app = await make_app(config())
    tid = (await app.service.ingest(mention())).ticket_id
    await app.service.close(tid, AGENT)
    async with app.database.transaction() as session:
        for row in (await timers(app, tid)).values():
            await session.delete(await session.get(SlaTimer, row.id))
    await at(app, clock, clock.now + timedelta(days=5))
    assert await timers(app, tid) == {}  # closed before any clock started: none is made up


async def test_clocks_start_in_the_ingest_transaction_for_every_new_ticket_of_a_batch(make_app, clock) -> None:
    app = await make_app(config())
    clock.now = paris(2026, 11, 6, 16, 0)
    results = await app.service.ingest_many([mention(text=f"my order {n} never arrived") for n in range(5)])
    # The SLA observer ignores "created" events: the clocks were written with the tickets.
    assert len(await audit(app, "created")) == 5
    for result in results:
        clocks = await timers(app, result.ticket_id)
        assert set(clocks) == {"first_response", "resolution"}
        assert clocks["first_response"].started_at == clock.now
        assert clocks["first_response"].due_at == paris(2026, 11, 10, 12, 0)
        ticket = await app.service.get_ticket(result.ticket_id)
        assert ticket.first_response_due == clocks["first_response"].due_at
    assert await sweep(app) == {"tickets": 0, "created": 0, "reminded": 0, "breached": 0}  # nothing left to fix


async def test_no_clocks_with_the_sla_plugin_off(make_app) -> None:
    app = await make_app({"plugins": {"sla": {"enabled": False}}})
    tid = (await app.service.ingest(mention())).ticket_id
    assert await timers(app, tid) == {}
    assert (await app.service.get_ticket(tid)).first_response_due is None


class DueSeenByObservers:
    """An observer that runs before the SLA plugin's: what the clocks say when the
    follow-up's event is published, i.e. what the ingest transaction committed."""

    def __init__(self) -> None:
        self.seen: list[datetime] = []

    @hookimpl(tryfirst=True)
    async def socialdesk_ticket_event(self, event, app) -> None:
        if event.kind is EventKind.MESSAGE_ADDED:
            self.seen.append((await timers(app, event.ticket_id))["first_response"].due_at)


async def test_a_follow_up_that_raises_the_priority_commits_its_clocks_with_it(make_app, clock) -> None:
    observer = DueSeenByObservers()
    app = await make_app(config(targets={"1": {"first_response": "1h", "resolution": "8h", "calendar": "24x7"},
                                         "3": SAME}, breach_mentions_oncall=False),
                         extra=[PluginEntry("due_seen", observer, "test", True)])
    clock.now = paris(2026, 11, 6, 16, 0)
    tid = (await app.service.ingest(mention(conversation_id="conv-tx", text="my parcel is late"))).ticket_id
    clock.now = paris(2026, 11, 6, 16, 15)
    await app.service.ingest(mention(conversation_id="conv-tx", text="now the whole site is down"))
    # No second transaction needed: the first observer already reads the P1 deadline.
    assert observer.seen == [paris(2026, 11, 6, 17, 0)]
    assert (await app.service.get_ticket(tid)).first_response_due == paris(2026, 11, 6, 17, 0)
