"""The outbox runner: priorities, retries with backoff, visible failures, no double runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from socialdesk.core.outbox.jobs import JobFailed, JobStatus, RetryJob
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.hookspecs import hookimpl
from tests.store_queries import jobs


class Worker:
    """Performs ``probe`` jobs; behaviour scripted per job id."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.raises: dict[int, list[BaseException]] = {}
        self.pause = 0.0

    async def perform(self, job, app) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(job.payload["n"])
        if self.pause:
            await asyncio.sleep(self.pause)
        script = self.raises.get(job.payload["n"])
        if script:
            raise script.pop(0)

    @hookimpl
    def socialdesk_outbox_performers(self):  # type: ignore[no-untyped-def]
        return {"probe": self.perform}


async def desk_with(make_app, worker: Worker, raw: dict | None = None):
    return await make_app(raw, extra=[PluginEntry("probe", worker, "test", True)])


async def put(app, n: int, priority: int = 3, kind: str = "probe") -> None:
    async with app.database.transaction() as session:
        app.outbox.enqueue(session, kind, {"n": n}, now=app.clock(), priority=priority)


async def test_most_urgent_first_then_oldest(make_app):
    worker = Worker()
    app = await desk_with(make_app, worker)
    for n, priority in [(1, 4), (2, 4), (3, 1), (4, 2), (5, 1)]:
        await put(app, n, priority)
    await app.outbox_runner().drain()
    assert worker.seen == [3, 5, 4, 1, 2]


async def test_retry_with_backoff_then_success(make_app, clock):
    worker = Worker()
    worker.raises[1] = [RuntimeError("503 from Slack"), RetryJob("rate limited", delay=30)]
    app = await desk_with(make_app, worker)
    await put(app, 1)
    runner = app.outbox_runner()
    assert (await runner.run_once()).retried == 1
    job = (await jobs(app, "probe"))[0]
    assert job.status == JobStatus.PENDING and job.last_error == "RuntimeError: 503 from Slack"
    assert clock.now <= job.not_before <= clock.now + timedelta(seconds=1)  # first backoff: up to base
    clock.advance(seconds=2)
    assert (await runner.run_once()).retried == 1
    job = (await jobs(app, "probe"))[0]
    assert job.not_before >= clock.now + timedelta(seconds=30)  # Retry-After honoured
    assert (await runner.run_once()).done == 0  # not due yet
    clock.advance(seconds=31)
    assert (await runner.run_once()).done == 1
    job = (await jobs(app, "probe"))[0]
    assert job.status == JobStatus.DONE and job.attempts == 3 and job.last_error is None


async def test_permanent_failure_and_exhausted_attempts_are_marked_failed(make_app, clock):
    worker = Worker()
    worker.raises[1] = [JobFailed("channel_not_found")]
    worker.raises[2] = [RuntimeError("boom")] * 2
    app = await desk_with(make_app, worker, {"desk": {"outbox": {"max_attempts": 2}}})
    await put(app, 1)
    await put(app, 2)
    for _ in range(3):
        await app.outbox_runner().drain()
        clock.advance(minutes=10)
    by_n = {j.payload["n"]: j for j in await jobs(app, "probe")}
    assert by_n[1].status == JobStatus.FAILED and by_n[1].last_error == "channel_not_found"
    assert by_n[2].status == JobStatus.FAILED and by_n[2].last_error.startswith("gave up after 2 attempts")
    assert Counter(worker.seen) == {1: 1, 2: 2}


async def test_jobs_nobody_performs_wait(make_app):
    worker = Worker()
    app = await desk_with(make_app, worker)
    await put(app, 1, kind="someone_elses_kind")
    assert (await app.outbox_runner().drain()).done == 0
    assert (await jobs(app, "someone_elses_kind"))[0].status == JobStatus.PENDING


async def test_concurrent_workers_on_several_replicas_never_run_a_job_twice(make_app):
    worker = Worker()
    worker.pause = 0.002
    desks = [await desk_with(make_app, worker) for _ in range(3)]
    for n in range(120):
        await put(desks[0], n, priority=1 + n % 4)
    runners = [d.outbox_runner(f"r{i}-{k}") for i, d in enumerate(desks) for k in range(2)]
    await asyncio.gather(*(r.drain() for r in runners))
    assert sorted(worker.seen) == list(range(120))
    assert all(j.status == JobStatus.DONE for j in await jobs(desks[0], "probe"))


async def test_expired_lease_is_taken_over_and_the_late_worker_cannot_overwrite(make_app, clock):
    worker = Worker()
    app = await desk_with(make_app, worker)
    await put(app, 1)
    slow = app.outbox_runner("slow")
    taken = await slow.take()
    assert len(taken) == 1
    assert await app.outbox_runner("other").take() == []  # leased
    clock.advance(seconds=app.config.desk.outbox.lease_seconds + 1)
    fast = app.outbox_runner("fast")
    assert (await fast.drain()).done == 1
    # the slow worker wakes up and reports a failure: the job stays done
    job, token = taken[0]
    await slow._finish(job, token, JobStatus.FAILED, "late")
    assert (await jobs(app, "probe"))[0].status == JobStatus.DONE
