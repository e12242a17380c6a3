"""`socialdesk run` in-process: listeners, scheduler jobs and outbox workers on one loop."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.runtime.replica import SchemaOutOfDate, run_desk
from tests.conftest import mention


class Listener:
    """Feeds one mention when started; records its lifecycle and scheduler registration."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_start = False

    @hookimpl
    async def socialdesk_start_listeners(self, app) -> None:  # type: ignore[no-untyped-def]
        self.calls.append("start")
        if self.fail_start:
            raise RuntimeError("gateway refused the token")
        await app.service.ingest(mention("from-listener", text="the site is down"))

    @hookimpl
    async def socialdesk_stop_listeners(self) -> None:
        self.calls.append("stop")

    @hookimpl
    def socialdesk_register_jobs(self, scheduler, app) -> None:  # type: ignore[no-untyped-def]
        scheduler.add_job(self.tick, "interval", seconds=3600, id="listener.tick")
        self.calls.append("jobs")

    async def tick(self) -> None:
        self.calls.append("tick")


async def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def test_run_starts_everything_delivers_and_stops_cleanly(make_app, cards):
    listener = Listener()
    app = await make_app(extra=[PluginEntry("listener", listener, "test", True)])
    stop = asyncio.Event()
    task = asyncio.create_task(run_desk(app, stop))

    async def card_posted() -> bool:
        return any(kind == "post_card" for kind, _ in cards.done)

    await wait_for(card_posted)
    assert listener.calls[:2] == ["jobs", "start"]
    stop.set()
    await asyncio.wait_for(task, 20)
    assert listener.calls[-1] == "stop"


async def test_a_listener_that_fails_to_start_stops_the_desk_with_its_error(make_app):
    listener = Listener()
    listener.fail_start = True
    app = await make_app(extra=[PluginEntry("listener", listener, "test", True)])
    with pytest.raises(RuntimeError, match="gateway refused"):
        await asyncio.wait_for(run_desk(app, asyncio.Event()), 20)
    assert "stop" not in listener.calls  # it never started, so it is not stopped


async def test_run_refuses_an_old_schema(make_app, tmp_path):
    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.database import Database

    migrated = await make_app()
    stale = DeskApp(migrated.config, migrated.pm, Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"),
                    migrated.clock)
    with pytest.raises(SchemaOutOfDate, match="run `socialdesk db upgrade`"):
        await run_desk(stale, asyncio.Event())


async def test_core_sweeps_are_scheduled_with_the_plugins_jobs(make_app):
    from socialdesk.core.runtime.scheduler import build_scheduler

    listener = Listener()
    app = await make_app(extra=[PluginEntry("listener", listener, "test", True)])
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # snoozed tickets wake up, and replies that became uncertain mid-run are looked for again
    assert {"core.wake_snoozed", "core.reconcile_uncertain_replies", "listener.tick"} <= set(jobs)
    assert jobs["core.reconcile_uncertain_replies"].func == app.service.reconcile_uncertain_replies
