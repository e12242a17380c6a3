"""Outbox leases never run out under a live worker, and a worker that lost one is fenced off."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.outbox.runner import ensure_lease
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.store.models import OutboxJob
from tests.store_queries import jobs

LEASE = 5.0  # the shortest lease the settings allow; renewed every third of it


class Blocking:
    """Performs ``probe`` jobs: each waits for ``release``, then (if still leased) acts."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[int] = []
        self.acted: list[int] = []

    async def perform(self, job, app) -> None:  # type: ignore[no-untyped-def]
        self.started.append(job.payload["n"])
        await self.release.wait()
        ensure_lease(f"act on job {job.payload['n']}")
        self.acted.append(job.payload["n"])

    @hookimpl
    def socialdesk_outbox_performers(self):  # type: ignore[no-untyped-def]
        return {"probe": self.perform}


async def desk_with(make_app, worker: Blocking):  # type: ignore[no-untyped-def]
    return await make_app({"desk": {"outbox": {"lease_seconds": LEASE}}},
                          extra=[PluginEntry("probe", worker, "test", True)])


async def put(app, n: int) -> None:  # type: ignore[no-untyped-def]
    async with app.database.transaction() as session:
        app.outbox.enqueue(session, "probe", {"n": n}, now=app.clock(), priority=3)


async def wait_for(predicate, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


async def test_a_job_slower_than_its_lease_is_never_taken_by_a_second_worker(make_app, clock):
    worker = Blocking()
    app = await desk_with(make_app, worker)
    await put(app, 1)
    first = asyncio.create_task(app.outbox_runner("first").run_once())
    await wait_for(lambda: asyncio.sleep(0, bool(worker.started)), "the job to start")
    for _ in range(3):  # three whole leases pass while the job runs
        taken_at = clock()
        clock.advance(seconds=LEASE - 1)

        async def renewed() -> bool:
            (job,) = await jobs(app, "probe")
            return job.locked_until is not None and job.locked_until > taken_at + timedelta(seconds=LEASE)

        await wait_for(renewed, "the heartbeat to renew the lease")
        clock.advance(seconds=2)  # past the lease as first taken
        assert await app.outbox_runner("second").take() == []
    worker.release.set()
    assert (await first).done == 1
    assert worker.acted == [1]
    assert [j.status for j in await jobs(app, "probe")] == [JobStatus.DONE]


async def test_a_worker_whose_lease_was_taken_over_does_not_act(make_app, clock):
    worker = Blocking()
    app = await desk_with(make_app, worker)
    await put(app, 1)
    first = asyncio.create_task(app.outbox_runner("first").run_once())
    await wait_for(lambda: asyncio.sleep(0, bool(worker.started)), "the job to start")
    async with app.database.transaction() as session:  # as if the worker had stalled past its lease
        await session.execute(update(OutboxJob).values(locked_by="other:token"))
    (job,) = await jobs(app, "probe")
    await asyncio.sleep(LEASE / 3 * 2)  # the heartbeat runs and finds the token gone
    worker.release.set()
    await first
    assert worker.acted == []  # fenced off: the new holder acts, not this worker
    (job,) = await jobs(app, "probe")
    assert (job.status, job.locked_by) == (JobStatus.RUNNING, "other:token")
