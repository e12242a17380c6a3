"""The record of handled Slack requests under a burst: each signed request acts once,
whichever replica it reaches, however many arrive together."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.slack.replays import HandledRequests
from socialdesk.core.store.models import HandledSlackRequest
from tests.conftest import AppFactory
from tests.slack.conftest import eventually
from tests.store_queries import count


async def test_a_burst_of_requests_each_acts_once(make_app: AppFactory) -> None:
    app = await make_app()
    handled = HandledRequests(app)
    signatures = [f"v0={n:064x}" for n in range(50)]
    firsts = await asyncio.gather(*(handled.first_time(s) for s in signatures + signatures[:5]))
    assert firsts == [True] * 50 + [False] * 5  # the five sent twice act once
    assert not await handled.first_time(signatures[7])

    async def all_recorded() -> bool:  # SQLite records them just after, off the request's path
        return await count(app, HandledSlackRequest) == 50

    await eventually(all_recorded)


async def test_replicas_racing_on_the_same_requests_act_once_between_them(make_app: AppFactory) -> None:
    first, second = await make_app(), await make_app()
    if first.database.dialect == "sqlite":
        pytest.skip("a SQLite desk is one process: there is no second replica to race")
    replicas = [HandledRequests(first), HandledRequests(second)]
    signatures = [f"v0={n:064x}" for n in range(40)]
    answers = await asyncio.gather(*(r.first_time(s) for s in signatures for r in replicas))
    acted = [answers[2 * n] + answers[2 * n + 1] for n in range(len(signatures))]
    assert acted == [1] * len(signatures)  # exactly one replica acted on each
    assert await count(first, HandledSlackRequest) == 40


async def test_a_replay_after_a_restart_inside_slacks_window_is_refused(make_app: AppFactory) -> None:
    app = await make_app()
    before = HandledRequests(app)
    assert await before.first_time("v0=" + "a" * 64)

    async def recorded() -> bool:  # on SQLite just after the request
        return await count(app, HandledSlackRequest) == 1

    await eventually(recorded)
    after_restart = HandledRequests(await make_app())  # a new process: an empty memory
    assert not await after_restart.first_time("v0=" + "a" * 64)
    assert await after_restart.first_time("v0=" + "b" * 64)
