"""Holes in "never lost, never twice" found by a hostile operator (issue 13), each driven
through the real Slack clients against the sandbox."""

from __future__ import annotations

import pytest

from socialdesk.core.slack.card import CARD_EVENT_TYPE
from tests.slack.conftest import CHANNEL, NO_STORMS, Desk

EMOJI_TEXT = "😀" * 1512  # 1,512 characters, 3,024 UTF-16 units: Slack's count


async def test_a_card_with_emoji_fits_slacks_utf16_limits_and_its_fallback_is_escaped(start_desk) -> None:
    desk: Desk = await start_desk("http", plugin={"message_preview_chars": 2900}, plugins=NO_STORMS)
    ticket = await desk.mention("*bold* _it_ ~gone~ `code` " + EMOJI_TEXT)
    card = await desk.card(ticket)  # refused as too long if counted in code points
    customer_part = card.text.split(": ", 1)[1]
    assert not set("*_~`") & set(customer_part), card.text  # the top-level text is mrkdwn too
    await desk.settled()


async def test_a_slow_slack_never_lets_a_second_worker_post_the_card_again(start_desk) -> None:
    # Two workers, the shortest lease, and Slack taking longer than the lease to post
    # (under the request timeout): the lease is renewed while the post is in flight.
    desk: Desk = await start_desk(
        "http", plugins=NO_STORMS, plugin={"request_timeout_seconds": 20},
        desk={"outbox": {"workers": 2, "lease_seconds": 5, "poll_interval_seconds": 0.05, "batch_size": 1}})
    desk.slack.faults.set(slow=1.0, slow_seconds=8, only_paths=("/api/chat.postMessage",))
    # One card: the other worker is idle when the lease would run out, and takes the job.
    tickets = [await desk.mention("a slow card")]
    await desk.card(tickets[0], timeout=60)
    desk.slack.faults.clear()
    await desk.settled(timeout=30)
    posted = [m.metadata["event_payload"]["ticket_id"] for m in desk.slack.timeline(CHANNEL)
              if m.metadata and m.metadata.get("event_type") == CARD_EVENT_TYPE]
    assert sorted(posted) == sorted(tickets)  # one card each, none twice
