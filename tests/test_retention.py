"""Retention: old finished outbox jobs deleted in bounded batches; old closed tickets redacted."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.plugins import retention
from tests.conftest import mention
from tests.store_queries import Message, OutboxJob, Reply, audit_kinds, count

AGENT = Actor("U1")


async def closed_with_reply(app, n: int) -> int:
    tid = (await app.service.ingest(mention(f"r{n}", text=f"my order {n} is lost"))).ticket_id
    await app.service.reply(tid, AGENT, f"answer {n}")
    await app.outbox_runner().drain()
    await app.service.close(tid, AGENT)
    await app.outbox_runner().drain()
    return tid


async def texts(app, tid):
    async with app.database.sessions() as session:
        return list((await session.scalars(select(Message.text).where(Message.ticket_id == tid))).all())


async def test_retention_is_on_by_default_and_deletes_only_old_finished_jobs(app, clock):
    assert "retention" in app.config.enabled
    await closed_with_reply(app, 1)
    finished = await count(app, OutboxJob, OutboxJob.status.in_((JobStatus.DONE, JobStatus.FAILED)))
    assert finished > 0
    tid = (await app.service.ingest(mention("fresh"))).ticket_id  # its post_card job is pending
    clock.advance(days=14)
    assert (await retention.clean_up(app))["outbox_jobs_deleted"] == 0  # not older than 14 days yet
    clock.advance(seconds=1)
    report = await retention.clean_up(app)
    assert report == {"outbox_jobs_deleted": finished}
    assert await count(app, OutboxJob) == 1
    [pending] = (await app.service.latest_job(tid, "post_card"),)
    assert pending.status == JobStatus.PENDING


async def test_deletes_in_bounded_batches(make_app, clock):
    app = await make_app({"plugins": {"retention": {"batch_size": 2, "max_batches": 2}}})
    for n in range(3):
        await closed_with_reply(app, n)
    total = await count(app, OutboxJob)
    clock.advance(days=15)
    assert (await retention.clean_up(app))["outbox_jobs_deleted"] == 4  # 2 batches of 2 per run
    assert await count(app, OutboxJob) == total - 4
    while (await retention.clean_up(app))["outbox_jobs_deleted"]:
        pass
    assert await count(app, OutboxJob) == 0


async def test_redaction_is_off_by_default(app, clock):
    tid = await closed_with_reply(app, 1)
    clock.advance(days=400)
    assert "tickets_redacted" not in await retention.clean_up(app)
    assert await texts(app, tid) == ["my order 1 is lost", "answer 1"]


async def test_old_closed_tickets_are_redacted_once_and_active_ones_never(make_app, clock):
    app = await make_app({"plugins": {"retention": {"redact_messages_after_days": 30}}})
    old = await closed_with_reply(app, 1)
    reopened = await closed_with_reply(app, 2)
    active = (await app.service.ingest(mention("active", text="still waiting"))).ticket_id
    clock.advance(days=29)
    assert (await retention.clean_up(app))["tickets_redacted"] == 0
    await app.service.reopen(reopened, AGENT)
    clock.advance(days=1, seconds=1)
    assert (await retention.clean_up(app))["tickets_redacted"] == 1
    assert await texts(app, old) == ["[removed after 30 days]"] * 2
    async with app.database.sessions() as session:
        assert await session.scalar(select(Reply.text).where(Reply.ticket_id == old)) == "[removed after 30 days]"
    assert (await audit_kinds(app, old))[-1] == "messages_redacted"
    assert await texts(app, reopened) == ["my order 2 is lost", "answer 2"]
    assert await texts(app, active) == ["still waiting"]
    assert (await retention.clean_up(app))["tickets_redacted"] == 0  # done once
    assert (await audit_kinds(app, old)).count("messages_redacted") == 1


async def test_bad_settings_name_the_key(make_app):
    import pytest

    from socialdesk.core.config import ConfigError
    with pytest.raises(ConfigError, match=r"plugins.retention.outbox_days"):
        await make_app({"plugins": {"retention": {"outbox_days": 0}}})
