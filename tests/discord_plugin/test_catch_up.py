"""Nothing lost across downtime, nothing ingested twice: gateway outages, restarts, failures."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.core.outbox.jobs import JobKind
from socialdesk.plugins.discord.backfill import watermark_key
from socialdesk.plugins.discord.feeds import channel_key
from tests.discord_plugin.conftest import DeskFactory
from tests.discord_plugin.desk_driver import DiscordDesk

OUTAGE_WAIT = 45.0  # discord.py backs off exponentially while the gateway refuses connections


@pytest.mark.parametrize("resumable", [True, False], ids=["resume", "identify"])
async def test_fifty_messages_posted_while_the_gateway_was_down_are_ingested_exactly_once(
        desk: DiscordDesk, resumable: bool) -> None:
    emulator, runtime = desk.emulator, desk.runtime
    channels = [emulator.channel_id("support"), emulator.channel_id("general")]
    before = emulator.post_message(channels[0], "bob", "acme, before the outage")
    await desk.until_inbound(1)
    passes = runtime.catch_up.passes
    read_before = runtime.catch_up.messages_read

    assert emulator.disconnect_gateway(resumable=resumable, hold=True) == 1
    posted = [emulator.post_message(channels[i % 2], "alice", f"order {i} is late", mentions_bot=True)
              for i in range(50)]
    emulator.restore_gateway()
    await desk.until_caught_up(OUTAGE_WAIT, passes=passes + 1)
    stored = await desk.until_inbound(51)
    await desk.drain()

    # Two channels are two feeds: across them the order of ingest is free.
    assert sorted(s.external_id.rsplit("/", 1)[1] for s in stored[1:]) == sorted(m["id"] for m in posted)
    assert stored[0].external_id.endswith(before["id"])
    assert len(await desk.tickets()) == 51
    assert len(await desk.jobs(JobKind.POST_CARD)) == 51
    # History was read for the outage whichever way the gateway came back...
    assert runtime.catch_up.messages_read - read_before >= 50
    sessions = emulator.gateway_sessions
    if resumable:  # ...and RESUME replayed the same 50 events: the overlap made no duplicate.
        assert [s.resumes for s in sessions] == [1] and emulator.hub.identifies == 1
    else:  # a new session replays nothing: history alone brought them in
        assert emulator.hub.identifies == 2 and all(s.resumes == 0 for s in sessions)
    newest = max(int(m["id"]) for m in posted if int(m["channel_id"]) == channels[1])
    assert await desk.cursor(channel_key(channels[1])) == str(newest)


async def test_forum_posts_and_follow_ups_written_while_away_are_read(desk: DiscordDesk) -> None:
    emulator, runtime = desk.emulator, desk.runtime
    forum = emulator.channel_id("help-forum")
    old_post = emulator.create_thread(forum, "Login broken", author_username="alice", content=desk.at_bot("help"))
    await desk.until_inbound(1)
    passes = runtime.catch_up.passes

    emulator.disconnect_gateway(resumable=False, hold=True)
    new_post = emulator.create_thread(forum, "Refund?", author_username="bob", content=desk.at_bot("refund please"))
    emulator.post_message(int(new_post["id"]), "bob", "order 77")  # follow-up in a thread new to the desk
    emulator.post_message(int(old_post["id"]), "alice", "still broken")  # follow-up, no mention
    emulator.create_thread(forum, "Cute cat", author_username="carol", content="not for the desk")
    emulator.restore_gateway()
    await desk.until_caught_up(OUTAGE_WAIT, passes=passes + 1)
    stored = await desk.until_inbound(4)

    assert sorted(s.text for s in stored[1:]) == ["@socialdesk-bot refund please", "order 77", "still broken"]
    by_text = {s.text: s.ticket_id for s in stored}
    assert by_text["still broken"] == stored[0].ticket_id
    assert by_text["order 77"] == by_text["@socialdesk-bot refund please"] != stored[0].ticket_id


async def test_a_restarted_desk_reads_what_was_posted_while_it_was_stopped(make_desk: DeskFactory) -> None:
    first = await make_desk()
    await first.start()
    emulator = first.emulator
    support, forum = emulator.channel_id("support"), emulator.channel_id("help-forum")
    emulator.post_message(support, "alice", "first question", mentions_bot=True)
    await first.until_inbound(1)
    await first.stop()

    for i in range(3):
        emulator.post_message(support, "alice", f"question {i}", mentions_bot=True)
    emulator.post_message(support, "bob", "chatter")
    emulator.create_thread(forum, "Broken zipper", author_username="bob", content=first.at_bot("zipper broke"))

    second = await make_desk()  # the same database: a restart
    await second.start()
    stored = await second.until_inbound(5)
    assert sorted(s.text.removeprefix("@socialdesk-bot ") for s in stored) == [
        "first question", "question 0", "question 1", "question 2", "zipper broke"]
    assert await second.cursor(channel_key(support)) == str(
        max(int(m["id"]) for m in emulator.messages(support)))
    assert await second.cursor(watermark_key(emulator.guild_id())) is not None


async def test_the_first_start_begins_now_and_backfill_limit_reads_further_back(make_desk: DeskFactory,
                                                                                emulator: Any) -> None:
    support = emulator.channel_id("support")
    older = [emulator.post_message(support, "alice", f"old {i}", mentions_bot=True) for i in range(7)]
    desk = await make_desk()
    await desk.start()
    assert await desk.inbound() == []  # a new desk does not dig up old mentions...
    assert await desk.cursor(channel_key(support)) == older[-1]["id"]  # ...but knows where "now" is
    await desk.stop()

    emulator.post_message(support, "alice", "new one", mentions_bot=True)
    reader = await make_desk(backfill_limit=5)  # the cursor exists now: it reads on from it
    await reader.start()
    [stored] = await reader.until_inbound(1)
    assert stored.text.endswith("new one")


async def test_backfill_limit_reads_the_newest_messages_of_a_channel_seen_for_the_first_time(
        make_desk: DeskFactory, emulator: Any) -> None:
    support = emulator.channel_id("support")
    for i in range(7):
        emulator.post_message(support, "alice", f"old {i}", mentions_bot=True)
    desk = await make_desk(backfill_limit=5)
    await desk.start()
    stored = await desk.until_inbound(5)
    assert [s.text.removeprefix("@socialdesk-bot ") for s in stored] == [f"old {i}" for i in range(2, 7)]


async def test_a_failed_ingest_is_caught_up_from_history(desk: DiscordDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    service = desk.app.service
    real = service.ingest_many
    failures = []

    async def flaky(mentions: Any, cursor: Any = None) -> Any:
        if mentions and not failures:
            failures.append(mentions)
            raise ConnectionError("database went away")
        return await real(mentions, cursor=cursor)

    monkeypatch.setattr(service, "ingest_many", flaky)
    emulator = desk.emulator
    lost = emulator.post_message(emulator.channel_id("support"), "alice", "are you there?", mentions_bot=True)
    [stored] = await desk.until_inbound(1)
    assert failures and stored.external_id.endswith(lost["id"])
    await desk.until_caught_up()
