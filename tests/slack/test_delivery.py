"""Cards through the outbox: Slack's rate limits and Retry-After, most urgent first,
never lost and never doubled, routed per platform and priority."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.mention import Author, Mention
from socialdesk.core.outbox.jobs import JobKind, JobStatus, RetryJob
from socialdesk.core.slack import delivery
from socialdesk.core.slack.card import CARD_EVENT_TYPE
from socialdesk.core.slack.runtime import runtime_for
from socialdesk.sandbox.slack import DEMO_CHANNELS, RateLimits, SlackChannel
from tests.platform_double import PLATFORM
from tests.slack.conftest import ALICE, CHANNEL, ESCALATIONS, NO_STORMS, ONCALL, Desk, eventually, start_running
from tests.store_queries import OutboxJob, jobs
from tests.test_metrics import sample


def burst(prefix: str, n: int, text: str = "just a question") -> list[Mention]:
    at = datetime(2026, 11, 2, 8, 59, tzinfo=timezone.utc)
    return [Mention(platform=PLATFORM, external_id=f"{prefix}{i}", conversation_id=f"{prefix}-conv-{i}",
                    author=Author(PLATFORM, f"{prefix}a{i}", f"{prefix}user{i}"), text=text, created_at=at,
                    url=f"https://testnet.example/p/{prefix}{i}")
            for i in range(n)]


def card_tickets(desk: Desk, channel: str = CHANNEL) -> list[int]:
    """Ticket ids of the cards in the channel, in the order Slack received them."""
    return [m.metadata["event_payload"]["ticket_id"] for m in desk.slack.timeline(channel)
            if m.metadata and m.metadata.get("event_type") == CARD_EVENT_TYPE]


async def post_jobs(desk: Desk) -> list[OutboxJob]:
    return await jobs(desk.app, JobKind.POST_CARD)


async def test_a_burst_loses_no_card_and_p1_overtakes_the_p4_queue(start_desk) -> None:
    # Slack allows 40 cards a second here; 100 arrive at once (well over 10x), then urgent ones mid-way.
    desk = await start_desk("http", rate_limits=RateLimits(post_message_per_second=40, post_message_burst=3),
                            plugin={"rate": {"per_channel_per_second": 36, "burst": 3}}, plugins=NO_STORMS)
    low = await desk.app.service.ingest_many(burst("low", 100, "thanks, love the app"))  # praise: P4
    assert {(await desk.app.service.get_ticket(r.ticket_id)).priority for r in low} == {4}
    await eventually(lambda: len(card_tickets(desk)) >= 20)
    posted_before = len(card_tickets(desk))
    urgent = await desk.app.service.ingest_many(burst("high", 3, "the site is down, checkout broken"))
    urgent_ids = {r.ticket_id for r in urgent}
    assert {(await desk.app.service.get_ticket(t)).priority for t in urgent_ids} == {1}

    await eventually(lambda: len(card_tickets(desk)) == 103, timeout=30)
    await desk.settled()
    order = card_tickets(desk)
    assert sorted(order) == sorted([r.ticket_id for r in low] + list(urgent_ids))  # each card once
    positions = [order.index(t) for t in urgent_ids]
    assert max(positions) < posted_before + 10, (posted_before, positions)  # not behind the queue...
    assert len(order) - max(positions) - 1 >= 50  # ...which was still long
    for t in urgent_ids:
        card = desk.slack.message(CHANNEL, (await desk.app.service.get_ticket(t)).card_ts or "")
        assert card is not None and card.text.startswith(f"<!subteam^{ONCALL}>")
    done = await post_jobs(desk)
    assert all(j.status == JobStatus.DONE for j in done)
    assert max(j.attempts for j in done) == 1  # waiting for the rate limit is not a failed attempt


async def test_retry_after_is_honoured_and_nothing_is_lost(start_desk) -> None:
    # The desk paces itself far faster than Slack allows, so Slack's 429s do the pacing. Slack
    # is set slow enough (3 a second) that even a desk on a busy machine runs into it.
    desk = await start_desk("http", rate_limits=RateLimits(post_message_per_second=3, post_message_burst=3),
                            plugin={"rate": {"per_channel_per_second": 100, "burst": 50}})
    await desk.app.service.ingest_many(burst("m", 30))
    await eventually(lambda: len(card_tickets(desk)) == 30, timeout=90)
    await desk.settled()
    assert desk.slack.rate_limited > 0 and len(set(card_tickets(desk))) == 30
    # /metrics counts each 429 the desk got
    assert sample(desk.app, "socialdesk_platform_rate_limited_total", platform="slack") == sum(r["status"] == 429 for r in desk.slack.recorder.of("slack", path="/api/chat.postMessage"))
    posts = [r for r in desk.slack.recorder.of("slack", path="/api/chat.postMessage")]
    for n, record in enumerate(posts):
        if record["status"] == 429:  # Retry-After is whole seconds, at least 1
            later = [p["time"] for p in posts[n + 1:]]
            assert not later or min(later) >= record["time"] + 0.95, "posted during a Retry-After"
    assert all(j.status == JobStatus.DONE and j.attempts == 1 for j in await post_jobs(desk))


async def test_a_card_whose_answer_was_lost_is_not_posted_twice(start_desk) -> None:
    desk = await start_desk("http", plugin={"request_timeout_seconds": 1})
    plan = desk.slack.faults
    plan.set(slow=1.0, slow_seconds=1.5, only_paths=("/api/chat.postMessage",))  # answered after the client gave up
    tid = await desk.mention()
    await eventually(lambda: plan.counts.get("slow") == 1)
    plan.clear()
    await desk.card(tid, timeout=20)
    await desk.settled(timeout=20)
    assert card_tickets(desk) == [tid]
    history = [c for c in desk.slack.api_calls if c.method == "conversations.history"]
    assert len(history) == 1  # the retry looked for the card first, and found it
    # /metrics counts the call that got no answer (it may have happened), as for the platforms
    assert sample(desk.app, "socialdesk_platform_api_errors_total", platform="slack", kind="ambiguous") == 1.0


async def test_a_thread_post_whose_answer_was_lost_is_not_posted_twice(start_desk) -> None:
    desk = await start_desk("http", plugin={"request_timeout_seconds": 1})
    tid = await desk.mention()
    card = await desk.card(tid)
    await desk.settled()
    plan = desk.slack.faults
    plan.set(slow=1.0, slow_seconds=1.5, only_paths=("/api/chat.postMessage",))
    await desk.app.service.note(tid, Actor(ALICE), "call them back tomorrow")
    await eventually(lambda: plan.counts.get("slow") == 1)
    plan.clear()
    await desk.settled(timeout=20)
    thread = desk.slack.thread(CHANNEL, card.ts)[1:]
    assert [m.text for m in thread] == [f"Internal note from <@{ALICE}>: call them back tomorrow"]
    assert [c.method for c in desk.slack.api_calls].count("conversations.replies") == 1


async def test_a_crash_between_posting_and_recording_the_card_does_not_double_it(start_desk, monkeypatch) -> None:
    desk = await start_desk("http")
    real = desk.app.service.set_card
    crashes = [RuntimeError("the desk died here")]

    async def set_card_once(ticket_id: int, channel: str, ts: str) -> bool:
        if crashes:
            raise crashes.pop()
        return await real(ticket_id, channel, ts)

    monkeypatch.setattr(desk.app.service, "set_card", set_card_once)
    tid = await desk.mention()
    await desk.card(tid)
    await desk.settled()
    assert card_tickets(desk) == [tid]
    [job] = await post_jobs(desk)
    assert job.status == JobStatus.DONE and job.attempts == 2


async def test_without_history_search_a_dropped_request_still_gives_one_card(start_desk) -> None:
    # The emulator has no conversations.history: the desk cannot look, and posts again.
    desk = await start_desk("http", history=False, plugin={"request_timeout_seconds": 1})
    plan = desk.slack.faults
    plan.set(dropped=1.0, only_paths=("/api/chat.postMessage",))  # connection closed, nothing posted
    tid = await desk.mention()
    await eventually(lambda: plan.counts.get("dropped") == 1)
    plan.clear()
    await desk.card(tid, timeout=30)
    assert card_tickets(desk) == [tid]


async def test_update_waits_for_the_card_or_leaves_it_to_the_post(start_desk) -> None:
    desk = await start_desk("http", start=False)
    tid = await desk.mention()
    await desk.app.service.claim(tid, Actor(ALICE))  # the card is not posted yet
    [update_job] = await jobs(desk.app, JobKind.UPDATE_CARD)
    snapshot = await _snapshot(desk, update_job.id)
    # the post has not rendered yet: it will show the claim, so the update has nothing to do
    assert await delivery.update_card(snapshot, desk.app) is None
    assert desk.slack.api_calls == []
    # the post is running (rendered, its answer not back): the update waits for the card
    async with desk.app.database.transaction() as session:
        await session.execute(update(OutboxJob).where(OutboxJob.kind == JobKind.POST_CARD)
                              .values(status=JobStatus.RUNNING))
    with pytest.raises(RetryJob) as waited:
        await delivery.update_card(snapshot, desk.app)
    assert waited.value.counts is False and "waiting for the card of" in str(waited.value)
    async with desk.app.database.transaction() as session:
        await session.execute(update(OutboxJob).where(OutboxJob.kind == JobKind.UPDATE_CARD)
                              .values(status=JobStatus.DONE))
        await session.execute(update(OutboxJob).where(OutboxJob.kind == JobKind.POST_CARD)
                              .values(status=JobStatus.PENDING))
    await start_running(desk)
    card = await desk.card(tid)
    await desk.settled()
    assert f"Claimed by <@{ALICE}>" in desk.card_text(card) and card.history == []


async def _snapshot(desk: Desk, job_id: int):  # type: ignore[no-untyped-def]
    from socialdesk.core.outbox.jobs import OutboxJobSnapshot

    async with desk.app.database.sessions() as session:
        return OutboxJobSnapshot.of(await session.get(OutboxJob, job_id))


async def test_cards_are_routed_and_p1_pages_the_on_call_group(start_desk) -> None:
    desk = await start_desk("http", desk={"routes": [{"priorities": [1], "channel": ESCALATIONS}]})
    urgent = await desk.mention("We got hacked, my account is compromised")
    calm = await desk.mention("love it, thanks")
    urgent_card, calm_card = await desk.card(urgent), await desk.card(calm)
    assert urgent_card.channel == ESCALATIONS and calm_card.channel == CHANNEL
    assert urgent_card.text.startswith(f"<!subteam^{ONCALL}> [P1]")
    assert f"<!subteam^{ONCALL}>" in desk.card_text(urgent_card)
    assert "subteam" not in calm_card.text + desk.card_text(calm_card)
    # a card stays where it was posted, and follow-ups go to its thread
    conversation = (await desk.app.service.get_ticket(urgent)).conversation_id
    follow = Mention(platform=PLATFORM, external_id="f1", conversation_id=conversation,
                     author=Author(PLATFORM, "u1", "customer"), text="still hacked!!",
                     created_at=datetime.now(timezone.utc))
    await desk.app.service.ingest(follow)
    await desk.settled()
    thread = desk.slack.thread(ESCALATIONS, urgent_card.ts)[1:]
    assert len(thread) == 1 and "still hacked!!" in str(thread[0].blocks)
    assert "1 follow-up in the thread" in desk.card_text(desk.slack.message(ESCALATIONS, urgent_card.ts))


async def test_a_follow_up_that_makes_a_ticket_urgent_pages_on_call_once(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention("question about my invoice layout")
    card = await desk.card(tid)
    conversation = (await desk.app.service.get_ticket(tid)).conversation_id
    for n, text in enumerate(["now the whole site is down!", "still down"]):
        await desk.app.service.ingest(Mention(
            platform=PLATFORM, external_id=f"esc{n}", conversation_id=conversation,
            author=Author(PLATFORM, "u1", "customer"), text=text, created_at=datetime.now(timezone.utc)))
    await desk.settled()
    assert (await desk.app.service.get_ticket(tid)).priority == 1
    pages = [m for m in desk.slack.thread(CHANNEL, card.ts)[1:] if f"<!subteam^{ONCALL}>" in m.text]
    assert len(pages) == 1 and pages[0].text.startswith(f"<!subteam^{ONCALL}> #{tid} is now P1 after a follow-up")


async def test_a_channel_slack_refuses_fails_visibly(start_desk) -> None:
    channels = (*DEMO_CHANNELS, SlackChannel("C0ARCHIVE1", "old-desk", is_archived=True))
    desk = await start_desk("http", channels=channels, desk={"channel": "C0ARCHIVE1"})
    tid = await desk.mention()
    await desk.settled()
    [job] = await post_jobs(desk)
    assert job.status == JobStatus.FAILED and "is_archived" in (job.last_error or "")
    ticket = await desk.app.service.get_ticket(tid)
    assert ticket.card_ts is None and ticket.card_channel is None


async def test_start_refuses_a_config_where_cards_have_nowhere_to_go(start_desk) -> None:
    desk = await start_desk("http", desk={"channel": None, "routes": [{"platform": "x", "channel": CHANNEL}]},
                            start=False)
    with pytest.raises(DeskError, match="desk.channel is not set"):
        await desk.app.hooks.start_services()


async def test_the_pacer_spreads_reservations_and_honours_retry_after() -> None:
    from socialdesk.core.slack.pacing import Pacer

    now = [100.0]
    pacer = Pacer(per_second=2.0, burst=2, clock=lambda: now[0])
    waits = [pacer.reserve("c", max_wait=10).wait for _ in range(4)]
    assert waits == [0.0, 0.0, 0.5, 1.0]
    assert not pacer.reserve("c", max_wait=1.0).granted  # 1.5 s away: nothing taken
    pacer.blocked("c", 5)
    slot = pacer.reserve("c", max_wait=10)
    assert slot.granted and slot.wait >= 5
    assert pacer.reserve("other", max_wait=0).wait == 0.0
    now[0] += 100
    assert pacer.reserve("c", max_wait=0).wait == 0.0  # refilled once the block is over


async def test_the_desk_spaces_its_posts_wider_than_slacks_rate(start_desk) -> None:
    # A post that leaves a few ms after its slot must not arrive inside the next one's second:
    # once the burst is spent, the desk's slots for a channel are 5% more than a second apart.
    desk: Desk = await start_desk("http", plugin={"rate": {"per_channel_per_second": 1.0, "burst": 3}})
    pacer = runtime_for(desk.app).pacer
    waits = [pacer.reserve("chat.postMessage:C0SPACING", max_wait=60).wait for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst Slack allows
    gaps = [later - earlier for earlier, later in zip(waits[2:], waits[3:])]
    assert all(1.049 < gap < 1.051 for gap in gaps), gaps


async def test_a_slack_nobody_can_reach_is_retried_and_counted(start_desk) -> None:
    desk = await start_desk("http", start=False)
    rt = runtime_for(desk.app)
    with socket.socket() as closed:  # a port with nothing listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    rt.delivery_client.base_url = f"http://127.0.0.1:{port}/api/"
    with pytest.raises(RetryJob) as retried:
        await delivery._call(rt, "chat.postMessage", "post a note", "chat_postMessage", channel=CHANNEL, text="hi")
    assert str(retried.value) == "cannot reach Slack to post a note" and retried.value.counts
    assert sample(desk.app, "socialdesk_platform_api_errors_total", platform="slack", kind="transient") == 1.0
