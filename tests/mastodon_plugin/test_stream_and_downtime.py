"""The user stream while connected, catch-up on every (re)connect: nothing lost across downtime."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from socialdesk.core.store.models import Message
from socialdesk.plugins.mastodon import user_stream
from socialdesk.plugins.mastodon.catch_up import cursor_key
from socialdesk.plugins.mastodon.plugin import socialdesk_start_listeners, socialdesk_stop_listeners
from socialdesk.plugins.mastodon.runtime import runtime_for
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME
from tests.mastodon_plugin.conftest import DANA, eventually, notification_requests


@pytest.fixture(autouse=True)
def quick_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_stream, "FIRST_RECONNECT_PAUSE", 0.05)


async def inbound_ids(desk) -> list[str]:  # type: ignore[no-untyped-def]
    async with desk.database.sessions() as session:
        rows = await session.scalars(select(Message.external_id).where(
            Message.platform == "mastodon", Message.direction == "inbound"))
        return list(rows)


async def inbound_count(desk) -> int:  # type: ignore[no-untyped-def]
    async with desk.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message).where(
            Message.platform == "mastodon", Message.direction == "inbound")) or 0)


async def test_a_mention_arrives_through_the_stream_without_a_poll(desk, masto):
    await socialdesk_start_listeners(desk)
    try:
        await eventually(lambda: runtime_for(desk).stream.connections == 1, "the stream connected and caught up")
        polls = len(notification_requests(masto))
        assert polls == 1  # the catch-up that follows the connection
        status = masto.post_as(DANA, "@acme is the shop open on sundays?")
        await eventually(lambda: inbound_ids(desk), "the streamed mention was stored")
        assert await inbound_ids(desk) == [status["id"]]
        assert len(notification_requests(masto)) == polls  # the stream brought it, no request
    finally:
        await socialdesk_stop_listeners(desk)
    await eventually(lambda: masto.open_streams == 0, "the desk closed its stream")


async def test_mentions_while_the_stream_is_down_arrive_by_catch_up_on_reconnect(desk, masto):
    await socialdesk_start_listeners(desk)
    try:
        stream = runtime_for(desk).stream
        await eventually(lambda: stream.connections == 1, "the stream connected")
        masto.hub.refusing = True  # the streaming server goes away...
        masto.drop_streams()
        await eventually(lambda: masto.open_streams == 0, "the stream dropped")
        missed = [masto.post_as(DANA, f"@acme while you were away {n}")["id"] for n in range(3)]
        assert await inbound_ids(desk) == []  # nobody heard them
        masto.hub.refusing = False  # ...and comes back
        await eventually(lambda: stream.connections == 2, "the stream reconnected")
        await eventually(lambda: _has(desk, missed), "the catch-up after reconnecting stored them")
        assert sorted(await inbound_ids(desk)) == sorted(missed)
    finally:
        await socialdesk_stop_listeners(desk)


async def _has(desk, ids: list[str]) -> bool:  # type: ignore[no-untyped-def]
    return set(ids) <= set(await inbound_ids(desk))


@pytest.mark.parametrize("streaming", [True, False])
async def test_fifty_mentions_while_the_desk_is_stopped_are_ingested_once_after_restart(
        make_masto_desk, masto, streaming):
    first = await make_masto_desk(streaming=streaming)
    masto.post_as(DANA, "@acme before the outage")
    await socialdesk_start_listeners(first)
    if not streaming:  # without the stream, the scheduled catch-up job runs at start-up
        await runtime_for(first).catch_up.poll()
    await eventually(lambda: inbound_count(first), "the first mention was stored")
    await socialdesk_stop_listeners(first)  # the desk stops

    arrived = [masto.post_as(DANA if n % 2 else "fox", f"@acme question {n} about order {1000 + n}")["id"]
               for n in range(50)]

    before = len(masto.recorder.records)
    restarted = await make_masto_desk(streaming=streaming)
    await socialdesk_start_listeners(restarted)
    try:
        if not streaming:
            await runtime_for(restarted).catch_up.poll()
        await eventually(lambda: _count_is(restarted, 51), "all 51 mentions stored", rounds=1500)
        stored = await inbound_ids(restarted)
        assert len(stored) == len(set(stored)) == 51 and set(arrived) <= set(stored)
        cursor = json.loads(await restarted.cursors.get(PLUGIN_NAME, cursor_key(masto.brand["id"])))
        assert cursor == {"min_id": masto.instance.notifications[-1].id}
        # Nothing is asked twice: each catch-up after the restart starts from the committed cursor.
        after = [r for r in notification_requests(masto) if r["query"].get("min_id")]
        assert len({r["query"]["min_id"] for r in after}) == len(after)
        spent = [r for r in masto.recorder.records[before:] if r["emulator"] == "mastodon"]
        pages = [r for r in spent if r["path"] == "/api/v1/notifications"]
        assert len(pages) == 2  # 50 waiting mentions, 40 a page: two requests bring them all
        print(f"mastodon catch-up after downtime (streaming={streaming}): 50 mentions in {len(pages)} "
              f"notification pages, {len(spent)} requests in all ({', '.join(sorted({r['path'] for r in spent}))})")
    finally:
        await socialdesk_stop_listeners(restarted)


async def _count_is(desk, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await inbound_count(desk) == expected
