"""Replies: validated before anything is written, sent at most once, failures visible."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.core.errors import ClaimedByOther, ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind, JobStatus
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from tests.conftest import mention
from tests.store_queries import AuditEvent, OutboxJob, Reply, audit_kinds, count, jobs

AGENT = Actor("U1")


async def claimed_ticket(app, external_id: str = "c1") -> int:
    tid = (await app.service.ingest(mention(external_id))).ticket_id
    await app.service.claim(tid, AGENT)
    return tid


async def test_reply_is_posted_once_in_the_customers_thread(app, platform):
    tid = await claimed_ticket(app, "cust-1")
    reply = await app.service.reply(tid, AGENT, "  We're on it!  ")
    await app.outbox_runner().drain()
    await app.outbox_runner().drain()
    assert len(platform.posted) == 1
    sent = platform.posted[0]
    assert (sent.text, sent.in_reply_to_id, sent.conversation_id) == ("We're on it!", "cust-1", "conv-cust-1")
    stored = await app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_url.startswith("https://testnet.example/p/")
    ticket = await app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.WAITING and ticket.first_response_at is not None
    assert (await audit_kinds(app, tid))[-2:] == ["reply_queued", "reply_sent"]


async def test_close_after_sending(app):
    tid = await claimed_ticket(app)
    await app.service.reply(tid, AGENT, "Fixed now, closing.", close_after=True)
    assert (await app.service.get_ticket(tid)).status == TicketStatus.OPEN  # not before it is sent
    await app.outbox_runner().drain()
    ticket = await app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "closed after reply"


async def test_too_long_reply_refused_before_anything_is_written(app, platform):
    tid = await claimed_ticket(app)
    with pytest.raises(ReplyRejected, match="280 characters at most on testnet, this reply has 281"):
        await app.service.reply(tid, AGENT, "x" * 281)
    assert await count(app, Reply) == 0
    assert await jobs(app, JobKind.SEND_REPLY) == []
    assert platform.posted == []


async def test_failure_between_reply_and_its_job_leaves_neither(app, monkeypatch, platform):
    tid = await claimed_ticket(app)
    real_enqueue = app.outbox.enqueue

    def enqueue_then_crash(session, kind, *args, **kwargs):
        if kind == JobKind.SEND_REPLY:
            raise RuntimeError("injected crash before the send job is written")
        return real_enqueue(session, kind, *args, **kwargs)

    monkeypatch.setattr(app.outbox, "enqueue", enqueue_then_crash)
    audit_before = await count(app, AuditEvent)
    with pytest.raises(RuntimeError, match="injected"):
        await app.service.reply(tid, AGENT, "hello")
    assert await count(app, Reply) == 0
    assert await count(app, OutboxJob, OutboxJob.kind == JobKind.SEND_REPLY) == 0
    assert await count(app, AuditEvent) == audit_before
    await app.outbox_runner().drain()
    assert platform.posted == []


async def test_reply_on_someone_elses_ticket_needs_takeover(app):
    tid = await claimed_ticket(app)
    with pytest.raises(ClaimedByOther, match="take it over to reply"):
        await app.service.reply(tid, Actor("U2"), "hi")
    await app.service.reply(tid, Actor("U2"), "hi", takeover=True)
    assert (await app.service.get_ticket(tid)).assignee == "U2"
    await app.service.reply(tid, Actor("U9", is_admin=True), "admin here")  # admins need no takeover
    assert (await app.service.get_ticket(tid)).assignee == "U2"


async def test_ambiguous_failure_is_never_resent(app, platform, clock):
    tid = await claimed_ticket(app)
    platform.post_then_fail.append(AmbiguousPlatformError("read timeout after the request was sent"))
    reply = await app.service.reply(tid, AGENT, "one answer only")
    stats = await app.outbox_runner().drain()
    assert stats.failed == 1
    assert len(platform.posted) == 1
    stored = await app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.UNCERTAIN and "timeout" in stored.error
    clock.advance(days=1)
    await app.outbox_runner().drain()
    assert len(platform.posted) == 1
    job = (await jobs(app, JobKind.SEND_REPLY))[0]
    assert job.status == JobStatus.FAILED and "may have been posted" in job.last_error
    assert (await app.service.get_ticket(tid)).status == TicketStatus.OPEN  # still needs the agent
    assert "reply_uncertain" in await audit_kinds(app, tid)


async def test_unexpected_exception_counts_as_ambiguous(app, platform):
    tid = await claimed_ticket(app)
    platform.post_then_fail.append(ConnectionResetError("peer reset"))
    reply = await app.service.reply(tid, AGENT, "hello")
    await app.outbox_runner().drain()
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    await app.outbox_runner().drain()
    assert len(platform.posted) == 1


async def test_crash_while_sending_is_not_resent_after_restart(make_app, platform, clock):
    first = await make_app()
    tid = await claimed_ticket(first)
    reply = await first.service.reply(tid, AGENT, "hello")
    runner = first.outbox_runner("doomed")
    (job, _token), = [t for t in await runner.take() if t[0].kind == JobKind.SEND_REPLY]
    # The worker marks the reply as sending and dies before it hears back.
    assert not isinstance(await first.service.begin_sending(reply.id), str)
    clock.advance(seconds=first.config.desk.outbox.lease_seconds + 1)
    restarted = await make_app()
    await restarted.outbox_runner("survivor").drain()
    assert platform.posted == []
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN
    # At start-up the platform is asked whether it was posted; here it was not.
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: False}
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN


async def test_reconcile_finds_a_reply_that_was_posted(app, platform):
    tid = await claimed_ticket(app)
    platform.post_then_fail.append(AmbiguousPlatformError("timeout"))
    reply = await app.service.reply(tid, AGENT, "hello")
    await app.outbox_runner().drain()
    assert await app.service.reconcile_uncertain_replies() == {reply.id: True}
    stored = await app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT and stored.platform_id == "found-0"
    assert len(platform.posted) == 1


async def test_agent_resolves_an_uncertain_reply(app, platform):
    tid = await claimed_ticket(app)
    platform.post_then_fail.append(AmbiguousPlatformError("timeout"))
    first = await app.service.reply(tid, AGENT, "first")
    await app.outbox_runner().drain()
    await app.service.discard_reply(first.id, AGENT)
    assert (await app.service.get_reply(first.id)).status == ReplyStatus.DISCARDED
    platform.script.append(AmbiguousPlatformError("timeout before posting"))
    second = await app.service.reply(tid, AGENT, "second")
    await app.outbox_runner().drain()
    assert (await app.service.get_reply(second.id)).status == ReplyStatus.UNCERTAIN
    await app.service.retry_reply(second.id, AGENT)  # the agent checked: not posted, send again
    await app.outbox_runner().drain()
    assert (await app.service.get_reply(second.id)).status == ReplyStatus.SENT
    assert [p.text for p in platform.posted] == ["first", "second"]


async def test_permanent_failure_shows_and_ticket_stays_open(app, platform):
    tid = await claimed_ticket(app)
    platform.script.append(PermanentPlatformError("the post was deleted"))
    reply = await app.service.reply(tid, AGENT, "hello")
    await app.outbox_runner().drain()
    stored = await app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and stored.error == "the post was deleted"
    assert (await app.service.get_ticket(tid)).status == TicketStatus.OPEN
    assert "reply_failed" in await audit_kinds(app, tid)
    assert platform.posted == []


async def test_transient_failure_is_retried_after_the_platforms_delay(app, platform, clock):
    tid = await claimed_ticket(app)
    platform.script.append(TransientPlatformError("429 Too Many Requests", retry_after=60))
    reply = await app.service.reply(tid, AGENT, "hello")
    stats = await app.outbox_runner().drain()
    assert stats.retried == 1 and platform.posted == []
    job = (await jobs(app, JobKind.SEND_REPLY))[0]
    assert job.not_before >= clock.now + timedelta(seconds=60)
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    clock.advance(seconds=61)
    await app.outbox_runner().drain()
    assert len(platform.posted) == 1
    assert (await app.service.get_reply(reply.id)).status == ReplyStatus.SENT


async def test_transient_failures_until_attempts_run_out_fail_visibly(make_app, platform, clock):
    app = await make_app({"desk": {"outbox": {"max_attempts": 3, "backoff_max_seconds": 1}}})
    tid = await claimed_ticket(app)
    platform.script.extend(TransientPlatformError("503") for _ in range(3))
    reply = await app.service.reply(tid, AGENT, "hello")
    for _ in range(3):
        await app.outbox_runner().drain()
        clock.advance(seconds=5)
    stored = await app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and "gave up after 3 attempts" in stored.error
    assert platform.posted == []


async def test_reply_on_platform_without_plugin_is_refused(make_app):
    app = await make_app(with_platform=False)
    tid = (await app.service.ingest(mention())).ticket_id
    with pytest.raises(ReplyRejected, match="no enabled plugin handles the 'testnet' platform"):
        await app.service.reply(tid, AGENT, "hello")
