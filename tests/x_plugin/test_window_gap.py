"""X serves only the newest 800 mentions: a bigger storm between two polls is filled from
recent search, and what cannot be filled is reported (metric, log, desk channel notice)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from socialdesk.core.store.models import Message
from socialdesk.plugins.x.timeline_cursor import TimelineCursor
from tests.test_metrics import sample
from tests.x_plugin.conftest import brand_id, poll

STORM = 1_000  # well over the window


async def stored_ids(app) -> set[str]:  # type: ignore[no-untyped-def]
    async with app.database.sessions() as session:
        return set((await session.scalars(select(Message.external_id))).all())


def storm(x, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [x.post_as("fox" if i % 2 else "dana", f"@acme storm post {i}: checkout is broken")["id"]
            for i in range(n)]


async def test_a_storm_beyond_the_800_mention_window_is_filled_from_recent_search(desk, x, clock, cards):
    first = x.post_as("dana", "@acme before the storm")["id"]
    assert (await poll(desk)).new == 1
    clock.advance(seconds=30)
    posted = storm(x, STORM)
    clock.advance(seconds=30)

    report = await poll(desk)
    assert report.caught_up and report.gaps_open == 0 and report.gaps_unfilled == 0
    assert await stored_ids(desk) == {first, *posted}  # nothing lost beyond the window
    searches = x.recorder.of("x", method="GET", path="/2/tweets/search/recent")
    assert searches and all(s["query"]["query"] == "@acme" for s in searches)
    cursor = TimelineCursor.loads(await desk.cursors.get("x", f"mentions:{brand_id(x)}"))
    assert cursor is not None and cursor.gaps == ()
    assert not [p for kind, p in cards.done if kind == "slack_channel_notice"]

    clock.advance(seconds=60)
    later = x.post_as("fox", "@acme after the storm")["id"]
    assert (await poll(desk)).new == 1 and later in await stored_ids(desk)


async def test_a_gap_search_cannot_reach_is_reported_with_its_time_range(desk, x, clock, cards, caplog):
    x.post_as("dana", "@acme before a long outage")
    assert (await poll(desk)).new == 1
    clock.advance(days=8)  # the desk was down longer than recent search remembers
    posted = storm(x, 850)
    caplog.set_level(logging.WARNING)

    report = await poll(desk)
    assert report.gaps_unfilled == 1 and report.gaps_open == 0
    assert len(await stored_ids(desk)) == 1 + 800  # the window, and no more can be had
    assert sample(desk, "socialdesk_mention_gaps_total", platform="x") == 1.0
    assert any("may be missing" in r.getMessage() for r in caplog.records)
    await desk.outbox_runner().drain()
    (notice,) = [p for kind, p in cards.done if kind == "slack_channel_notice"]
    assert "may be missing" in notice["text"] and "2026-11-02" in notice["text"]  # from: the last poll
    assert posted[-800] in await stored_ids(desk) and posted[-801] not in await stored_ids(desk)

    again = await poll(desk)  # said once, not at every poll
    assert again.gaps_unfilled == 0
    await desk.outbox_runner().drain()
    assert len([p for kind, p in cards.done if kind == "slack_channel_notice"]) == 1
