"""What the Slack side added to the core: read models on the desk service, the card
posting marks, and outbox deferrals that do not use up attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from socialdesk.core.extensions import Actor
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.outbox.jobs import JobKind, JobStatus, RetryJob
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.ticket import ReplyStatus
from tests.conftest import mention
from tests.store_queries import Ticket, jobs

AGENT = Actor("U1")


async def test_ticket_details_for_the_card(app) -> None:
    first = await app.service.ingest(mention("d1", handle="jo", author_id="jo-1"))
    await app.service.ingest(mention("d2", conversation_id="conv-d1", author_id="jo-1", handle="jo",
                                     text="any news?"))
    await app.service.ingest(mention("d3", author_id="jo-1", handle="jo"))  # another ticket, same author
    tid = first.ticket_id
    await app.service.note(tid, AGENT, "VIP")
    await app.service.reply(tid, AGENT, "On it")
    await app.service.close(tid, Actor("U2", is_admin=True), "done")
    d = await app.service.ticket_details(tid)
    assert (d.author.handle, d.opening.text, d.inbound_count, d.note_count) == ("jo", "My order never arrived", 2, 1)
    assert (d.latest_reply.text, d.latest_reply.status, d.closed_by, d.earlier_tickets) == \
        ("On it", ReplyStatus.PENDING, "U2", 1)
    messages = await app.service.messages_of(tid)
    assert [m.direction for m in messages] == ["inbound", "inbound", "note"]
    assert (await app.service.get_message(messages[1].id)).text == "any news?"
    assert await app.service.get_message(10**6) is None
    assert (await app.service.get_author(d.author.id)).external_id == "jo-1"


async def test_history_and_summaries(app) -> None:
    a = (await app.service.ingest(mention("h1", handle="Big_Fan", author_id="f1", text="first"))).ticket_id
    b = (await app.service.ingest(mention("h2", handle="big_fan", author_id="f1", text="second"))).ticket_id
    await app.service.ingest(mention("h3", handle="someone", author_id="s1"))
    found = await app.service.history_of("@BIG_FAN")
    assert [s.ticket.id for s in found] == [b, a]  # newest first, any case, @ optional
    assert [s.opening.text for s in found] == ["second", "first"]
    assert await app.service.history_of("big_fan", platform="x") == []
    summaries = await app.service.summaries(await app.service.queue())
    assert {s.author.handle for s in summaries} == {"big_fan", "someone"}


async def test_stats(app, clock) -> None:
    since = clock() - timedelta(minutes=1)
    fast = (await app.service.ingest(mention("s1"))).ticket_id
    slow = (await app.service.ingest(mention("s2"))).ticket_id
    waiting = (await app.service.ingest(mention("s3"))).ticket_id
    async with app.database.transaction() as session:  # an SLA plugin's due times
        await session.execute(update(Ticket).values(first_response_due=clock() + timedelta(minutes=10)))
    clock.advance(minutes=2)
    await app.service.reply(fast, AGENT, "quick")
    await app.outbox_runner().drain()
    clock.advance(minutes=18)
    await app.service.reply(slow, AGENT, "late")
    await app.outbox_runner().drain()
    await app.service.mark_spam(waiting, AGENT)
    s = await app.service.stats(since)
    assert (s.created, s.replies_sent, s.closed, s.spam, s.active, s.unclaimed) == (3, 2, 0, 1, 2, 0)
    assert s.first_response_breaches == 1  # the late reply; spam never needed an answer
    # the median of the two answered tickets' waits (2 and 20 minutes on this live clock);
    # the spam, never answered, is not counted as a wait
    answered = [await app.service.get_ticket(fast), await app.service.get_ticket(slow)]
    waits = [(t.first_response_at - t.created_at).total_seconds() for t in answered]
    assert 120 <= waits[0] < 1200 <= waits[1]
    assert s.first_response_median_seconds == pytest.approx((waits[0] + waits[1]) / 2)
    later = await app.service.stats(clock())  # nothing created since now
    assert (later.created, later.replies_sent, later.first_response_median_seconds) == (0, 0, None)


async def test_card_post_marks(app) -> None:
    tid = (await app.service.ingest(mention())).ticket_id
    assert await app.service.begin_card_post(tid, "C1")
    marked = await app.service.get_ticket(tid)
    assert (marked.card_channel, marked.card_ts) == ("C1", None)
    await app.service.abandon_card_post(tid)
    assert (await app.service.get_ticket(tid)).card_channel is None
    await app.service.begin_card_post(tid, "C1")
    assert await app.service.set_card(tid, "C1", "111.222")
    assert not await app.service.begin_card_post(tid, "C2")  # posted: the mark cannot move it
    await app.service.abandon_card_post(tid)
    assert (await app.service.get_ticket(tid)).card_channel == "C1"


async def test_latest_job_and_more_urgent_due(app) -> None:
    low = (await app.service.ingest(mention(text="love it, thanks"))).ticket_id
    state = await app.service.latest_job(low, JobKind.POST_CARD)
    assert state is not None and state.status == JobStatus.PENDING and state.attempts == 0
    assert await app.service.latest_job(low, JobKind.UPDATE_CARD) is None
    kinds = [JobKind.POST_CARD.value]
    assert not await app.service.more_urgent_due(kinds, 4)
    await app.service.ingest(mention(text="site is down"))
    assert await app.service.more_urgent_due(kinds, 4) and not await app.service.more_urgent_due(kinds, 1)


class Deferring:
    def __init__(self) -> None:
        self.runs = 0

    async def perform(self, job, app) -> None:  # type: ignore[no-untyped-def]
        self.runs += 1
        if self.runs <= 5:
            raise RetryJob("waiting for a rate limit slot", 30.0, counts=False)

    @hookimpl
    def socialdesk_outbox_performers(self):  # type: ignore[no-untyped-def]
        return {"probe": self.perform}


async def test_a_deferral_gives_the_attempt_back_and_waits_exactly(make_app, clock) -> None:
    worker = Deferring()
    app = await make_app({"desk": {"outbox": {"max_attempts": 2}}},
                         extra=[PluginEntry("probe", worker, "test", True)])
    async with app.database.transaction() as session:
        app.outbox.enqueue(session, "probe", {}, now=clock(), priority=3)
    runner = app.outbox_runner()
    for _ in range(5):  # more deferrals than max_attempts allows failures
        taken_at = clock()
        assert (await runner.run_once()).retried == 1
        [job] = await jobs(app, "probe")
        assert job.status == JobStatus.PENDING and job.attempts == 0
        assert job.not_before - taken_at >= timedelta(seconds=30) and job.last_error == "waiting for a rate limit slot"
        clock.advance(seconds=31)
    assert (await runner.run_once()).done == 1
    [job] = await jobs(app, "probe")
    assert job.status == JobStatus.DONE and job.attempts == 1
