"""Leader election (PostgreSQL advisory lock) and what runs where among replicas of one desk.

The replicas here are desks in one process sharing one PostgreSQL schema (``make_app``
builds each call as a separate desk); tests/test_replicas.py does it with real processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text

from socialdesk.core.app import DeskApp
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.runtime.leadership import AdvisoryLock, Leadership, SoleProcess, elector_for, lock_key
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.runtime.replica import Replica
from tests.store_queries import jobs

POSTGRES_ONLY = pytest.mark.parametrize("database_url_and_kwargs", ["postgresql"], indirect=True)
FAST = {"retry_seconds": 0.1, "check_seconds": 0.1, "rejoin_seconds": 3.0}


async def eventually(predicate: Callable[[], Any], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


async def terminate(app: DeskApp, backend_pid: int | None) -> None:
    """What a DBA, a failover or a network cut does to the leader's lock session."""
    assert backend_pid is not None
    async with app.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})


class Role:
    """A plugin recording which hooks ran on its replica, and running one outbox job kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []
        self.performed: list[int] = []

    @property
    def listening(self) -> bool:
        return self.calls.count("start_listeners") > self.calls.count("stop_listeners")

    @hookimpl
    def socialdesk_start_services(self) -> None:
        self.calls.append("start_services")

    @hookimpl
    def socialdesk_stop_services(self) -> None:
        self.calls.append("stop_services")

    @hookimpl
    def socialdesk_start_listeners(self) -> None:
        self.calls.append("start_listeners")

    @hookimpl
    def socialdesk_stop_listeners(self) -> None:
        self.calls.append("stop_listeners")

    @hookimpl
    def socialdesk_register_jobs(self, scheduler: Any) -> None:
        self.calls.append("register_jobs")
        scheduler.add_job(self.tick, "interval", seconds=0.05, id="role.tick")

    async def tick(self) -> None:
        self.calls.append("tick")

    @hookimpl
    def socialdesk_outbox_performers(self) -> dict[str, Any]:
        return {"role.work": self.perform}

    async def perform(self, job: Any, app: DeskApp) -> None:
        self.performed.append(job.id)
        await asyncio.sleep(0.02)  # long enough for the other replica's worker to take the next


async def start(replica: Replica) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(replica.run(stop))
    await eventually(lambda: replica.running.is_set() or task.done())
    return stop, task


async def replica_of(make_app: Any, role: Role, **desk: Any) -> Replica:
    config = {"desk": {"outbox": {"poll_interval_seconds": 0.02, "batch_size": 1}, **desk}}
    app = await make_app(config, extra=[PluginEntry("role", role, "test", True)])
    return Replica(app, **FAST)


def test_the_lock_key_is_a_signed_64_bit_integer_named_after_the_schema() -> None:
    key = lock_key("socialdesk.leader:public")
    assert key == lock_key("socialdesk.leader:public") and -(2**63) <= key < 2**63
    assert key != lock_key("socialdesk.leader:tenant_b")  # another schema elects its own leader


async def test_sqlite_is_always_its_own_leader(make_app: Any, database_url_and_kwargs: Any) -> None:
    app = await make_app()
    elector = elector_for(app.database)
    if app.database.is_postgres:
        assert isinstance(elector, AdvisoryLock)
        return
    assert isinstance(elector, SoleProcess)
    assert await elector.try_acquire() and await elector.still_held()


@POSTGRES_ONLY
async def test_two_electors_one_wins_and_the_other_takes_over_when_its_session_dies(make_app: Any) -> None:
    first, second = await make_app(), await make_app()
    a, b = AdvisoryLock(first.database), AdvisoryLock(second.database)
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire()
        assert await a.still_held()
        assert a.key == b.key and a.backend_pid != b.backend_pid
        await terminate(second, a.backend_pid)
        assert not await a.still_held()  # the leader sees it at its next check
        assert await b.try_acquire()
        assert not await a.try_acquire()  # and cannot come back while the other leads
    finally:
        await a.release()
        await b.release()
    assert await a.try_acquire()  # released: free for anyone
    await a.release()


@POSTGRES_ONLY
async def test_release_frees_the_lock_at_once(make_app: Any) -> None:
    first, second = await make_app(), await make_app()
    a, b = AdvisoryLock(first.database), AdvisoryLock(second.database)
    assert await a.try_acquire()
    await a.release()
    assert await b.try_acquire()
    await b.release()


@POSTGRES_ONLY
async def test_desks_in_different_schemas_elect_separately(make_app: Any, database_url_and_kwargs: Any) -> None:
    from socialdesk.core.store.database import Database

    url, kwargs = database_url_and_kwargs
    app = await make_app()
    other = Database(url)  # the default search path: schema public, another desk
    a, b = AdvisoryLock(app.database), AdvisoryLock(other)
    try:
        assert await a.try_acquire() and await b.try_acquire()
        assert a.key != b.key
    finally:
        await a.release()
        await b.release()
        await other.dispose()


@POSTGRES_ONLY
async def test_a_demoted_leader_stops_its_duties_and_the_follower_starts_them(make_app: Any) -> None:
    first, second = await make_app(), await make_app()
    log: list[str] = []

    def duties(name: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
        async def elected() -> None:
            log.append(f"{name} elected")

        async def demoted() -> None:
            log.append(f"{name} demoted")

        return elected, demoted

    a_lock, b_lock = AdvisoryLock(first.database), AdvisoryLock(second.database)
    a = Leadership(a_lock, *duties("a"), **FAST)
    b = Leadership(b_lock, *duties("b"), **FAST)
    stop = asyncio.Event()
    runs = [asyncio.create_task(a.run(stop))]
    await eventually(lambda: a.is_leader)
    runs.append(asyncio.create_task(b.run(stop)))
    await asyncio.sleep(0.5)  # several retries: the follower stays a follower
    assert (a.is_leader, b.is_leader) == (True, False)

    await terminate(first, a_lock.backend_pid)
    await eventually(lambda: b.is_leader)
    await eventually(lambda: not a.is_leader)
    assert log[0] == "a elected" and log.count("a demoted") == 1 and log.count("b elected") == 1
    assert a.terms == 1 and b.terms == 1
    await asyncio.sleep(0.5)
    assert not a.is_leader  # the old leader retries, but the lock is taken
    stop.set()
    await asyncio.gather(*runs)
    await a.resign()
    await b.resign()
    assert log.count("b demoted") == 1


@POSTGRES_ONLY
async def test_listeners_and_scheduler_run_on_the_leader_services_and_outbox_everywhere(make_app: Any) -> None:
    roles = Role("one"), Role("two")
    replicas = [await replica_of(make_app, role) for role in roles]
    one, two = replicas
    stop_one, task_one = await start(one)
    await eventually(lambda: one.is_leader)
    stop_two, task_two = await start(two)
    await asyncio.sleep(0.5)
    try:
        assert one.is_leader and not two.is_leader
        assert roles[0].listening and not roles[1].listening
        assert "tick" in roles[0].calls and "tick" not in roles[1].calls  # the scheduler: leader only
        assert "register_jobs" not in roles[1].calls
        assert "start_services" in roles[0].calls and "start_services" in roles[1].calls  # everywhere
        assert one.metrics.registry.get_sample_value("socialdesk_leader") == 1.0
        assert two.metrics.registry.get_sample_value("socialdesk_leader") == 0.0

        # Both replicas' workers drain the one outbox (SKIP LOCKED keeps them apart).
        async with one.app.database.transaction() as session:
            for n in range(40):
                one.app.outbox.enqueue(session, "role.work", {"n": n}, now=one.app.clock(), priority=3)

        async def drained() -> bool:
            return all(j.status == JobStatus.DONE for j in await jobs(one.app) if j.kind == "role.work")

        await eventually(drained)
        assert roles[0].performed and roles[1].performed
        assert sorted(roles[0].performed + roles[1].performed) == sorted(
            j.id for j in await jobs(one.app) if j.kind == "role.work")  # each job once

        # The leader's lock session dies: it stops its listeners and scheduler, the other leads.
        await terminate(two.app, one.leadership._elector.backend_pid)  # type: ignore[attr-defined]
        await eventually(lambda: two.is_leader and roles[1].listening)
        await eventually(lambda: not one.is_leader)
        assert not roles[0].listening and roles[0].calls.count("stop_listeners") == 1
        ticks = roles[0].calls.count("tick")
        await asyncio.sleep(0.3)
        assert roles[0].calls.count("tick") == ticks  # its scheduler is gone
        assert "stop_services" not in roles[0].calls  # it still serves Slack and drains the outbox
    finally:
        stop_one.set()
        stop_two.set()
        await asyncio.gather(task_one, task_two)
    for role in roles:
        assert role.calls[-1] == "stop_services" and not role.listening


@POSTGRES_ONLY
async def test_a_leader_that_stops_hands_over_to_a_follower(make_app: Any) -> None:
    roles = Role("one"), Role("two")
    one, two = [await replica_of(make_app, role) for role in roles]
    stop_one, task_one = await start(one)
    await eventually(lambda: one.is_leader)
    stop_two, task_two = await start(two)
    try:
        stop_one.set()
        await task_one
        # Shut down in order: listeners stopped before the lock went, services last.
        calls = roles[0].calls
        assert calls.index("stop_listeners") < calls.index("stop_services")
        await eventually(lambda: two.is_leader and roles[1].listening)
    finally:
        stop_one.set()
        stop_two.set()
        await asyncio.gather(task_one, task_two)


async def test_a_single_replica_leads_on_either_store(make_app: Any) -> None:
    role = Role("only")
    replica = await replica_of(make_app, role)
    stop, task = await start(replica)
    try:
        await eventually(lambda: replica.is_leader and role.listening)
        assert role.calls[:3] == ["start_services", "register_jobs", "start_listeners"]
    finally:
        stop.set()
        await task
    assert role.calls[-2:] == ["stop_listeners", "stop_services"]
