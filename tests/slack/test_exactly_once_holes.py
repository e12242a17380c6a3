"""Holes in "never lost, never twice" found by a hostile operator (issue 13), each driven
through the real Slack clients against the sandbox."""

from __future__ import annotations

import pytest

from tests.slack.conftest import NO_STORMS, Desk

EMOJI_TEXT = "😀" * 1512  # 1,512 characters, 3,024 UTF-16 units: Slack's count


async def test_a_card_with_emoji_fits_slacks_utf16_limits_and_its_fallback_is_escaped(start_desk) -> None:
    desk: Desk = await start_desk("http", plugin={"message_preview_chars": 2900}, plugins=NO_STORMS)
    ticket = await desk.mention("*bold* _it_ ~gone~ `code` " + EMOJI_TEXT)
    card = await desk.card(ticket)  # refused as too long if counted in code points
    customer_part = card.text.split(": ", 1)[1]
    assert not set("*_~`") & set(customer_part), card.text  # the top-level text is mrkdwn too
    await desk.settled()
