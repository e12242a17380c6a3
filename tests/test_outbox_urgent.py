"""Urgent workers: they take only P1 jobs, so a P1 is picked up while the other workers
are busy (pacing a batch of P4 cards through Slack's limit, say)."""

from __future__ import annotations

import asyncio

from socialdesk.core.config import ConfigError
from tests.store_queries import jobs
from tests.test_outbox_runner import Worker, desk_with, put


async def test_an_urgent_worker_takes_only_p1_jobs(make_app):
    worker = Worker()
    app = await desk_with(make_app, worker)
    for n, priority in [(1, 4), (2, 1), (3, 2), (4, 1)]:
        await put(app, n, priority)
    urgent = app.outbox_runner("urgent", urgent=True)
    assert (await urgent.drain()).done == 2
    assert worker.seen == [2, 4]
    assert sorted(j.payload["n"] for j in await jobs(app) if j.status == "pending") == [1, 3]
    await app.outbox_runner().drain()
    assert worker.seen == [2, 4, 3, 1]


class Holding(Worker):
    """Job 1 does not finish until ``release`` is set (a P4 waiting for Slack's pace)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.finished: list[int] = []

    async def perform(self, job, app) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(job.payload["n"])
        if job.payload["n"] == 1:
            await self.release.wait()
        self.finished.append(job.payload["n"])


async def test_a_p1_is_done_while_the_only_other_worker_is_busy(make_app):
    worker = Holding()
    app = await desk_with(make_app, worker)
    await put(app, 1, 4)
    stop = asyncio.Event()
    regular = asyncio.create_task(app.outbox_runner("regular").run_forever(stop))
    urgent = asyncio.create_task(app.outbox_runner("urgent", urgent=True).run_forever(stop))
    try:
        async with asyncio.timeout(60):  # a guard against hanging, not a measurement
            while worker.seen != [1]:
                await asyncio.sleep(0.01)
            await put(app, 2, 1)
            while 2 not in worker.finished:
                await asyncio.sleep(0.01)
        assert worker.finished == [2]  # the P1 was done while the P4 was still being performed
    finally:
        worker.release.set()
        stop.set()
        await asyncio.gather(regular, urgent)


def test_urgent_workers_are_configured_in_desk_outbox() -> None:
    from socialdesk.core.config import parse_config
    from socialdesk.core.plugin_catalog import discover_plugins

    catalog = discover_plugins()
    config = parse_config({"desk": {"outbox": {"urgent_workers": 2}}}, catalog)
    assert config.desk.outbox.urgent_workers == 2
    assert parse_config({}, catalog).desk.outbox.urgent_workers == 1
    try:
        parse_config({"desk": {"outbox": {"urgent_workers": -1}}}, catalog)
    except ConfigError as exc:
        assert any(line.startswith("plugins.toml: desk.outbox.urgent_workers:") for line in exc.lines()), exc.lines()
    else:
        raise AssertionError("a negative urgent_workers was accepted")
