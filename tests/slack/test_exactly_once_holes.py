"""Holes in "never lost, never twice" found by a hostile operator (issue 13), each driven
through the real Slack clients against the sandbox."""

from __future__ import annotations

import io
import json
import logging
import re
from urllib.parse import quote, urlencode

import aiohttp

from socialdesk.core.logging_setup import JsonFormatter
from socialdesk.core.slack.card import CARD_EVENT_TYPE
from socialdesk.core.store.models import HandledSlackRequest, Reply
from socialdesk.sandbox.slack import payloads, signed_headers
from tests.slack.conftest import ALICE, CHANNEL, NO_STORMS, Desk, start_running
from tests.store_queries import count

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


async def test_desk_reply_is_acknowledged_only_once_it_is_stored(start_desk) -> None:
    desk: Desk = await start_desk("http", plugins=NO_STORMS)
    ticket = await desk.mention("where is my parcel?")
    await desk.card(ticket)
    delivery = await desk.driver.slash_command("/desk", f"reply {ticket} It ships today", user=ALICE, channel=CHANNEL)
    assert delivery.acked
    # The acknowledgement itself is the confirmation, written after the commit: a crash
    # before it leaves Slack showing the agent an error, never a silent success.
    assert "on its way" in json.dumps(delivery.body), delivery.body
    assert await count(desk.app, Reply, Reply.ticket_id == ticket) == 1


async def test_a_replayed_signed_request_is_answered_without_acting(start_desk) -> None:
    desk: Desk = await start_desk("http", plugins=NO_STORMS)
    ticket = await desk.mention("where is my parcel?")
    await desk.card(ticket)
    state = desk.slack.state
    channel = state.resolve_channel(CHANNEL, for_posting=False)
    payload = payloads.slash_command(
        state, command="/desk", text=f"reply {ticket} It ships today", user_id=ALICE, channel=channel,
        response_url=desk.slack.response_urls.issue(state, "commands", channel=channel.id, user=ALICE),
        trigger=state.issue_trigger(ALICE))
    body = urlencode(payload).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(desk.slack.signing_secret, body)}
    answers = []
    async with aiohttp.ClientSession() as session:
        for _ in range(3):  # Slack's request once, then the same signed bytes twice more
            async with session.post(desk.driver.request_url, data=body, headers=headers) as answer:
                answers.append((answer.status, await answer.text()))
    assert [status for status, _ in answers] == [200, 200, 200]
    assert "on its way" in answers[0][1] and answers[1][1] == answers[2][1] == ""
    await desk.settled()
    assert await count(desk.app, Reply, Reply.ticket_id == ticket) == 1
    assert [r.text for r in desk.platform.posted] == ["It ships today"]
    assert await count(desk.app, HandledSlackRequest) == 1


async def test_a_rate_limited_auth_test_never_drops_a_command(start_desk) -> None:
    desk: Desk = await start_desk("http", plugins=NO_STORMS, start=False)
    desk.slack.faults.set(rate_limited=1.0, only_paths=("/api/auth.test",))
    await start_running(desk)
    ticket = await desk.mention("where is my parcel?")
    await desk.card(ticket)
    answer = await desk.command(f"reply {ticket} It ships today")
    assert "on its way" in answer and "install" not in answer.lower()
    assert desk.slack.faults.counts.get("rate_limited", 0) >= 1  # Slack did answer 429 to auth.test


async def test_library_logs_of_a_rejected_request_carry_no_secret(start_desk, caplog) -> None:
    desk: Desk = await start_desk("http", plugins=NO_STORMS)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())  # the desk's own log format, as configure_logging installs it
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        delivery = await desk.driver.slash_command("/desk", "reply 1 hello", user=ALICE, channel=CHANNEL,
                                                   bad_signature=True)
    finally:
        logging.getLogger().removeHandler(handler)
    assert delivery.status == 401
    logged = lines.getvalue()
    assert "Invalid request signature" in logged  # slack-bolt did log the request...
    response_url = delivery.payload["response_url"]
    key = response_url.rsplit("/", 1)[1]
    for secret in (desk.slack.state.credentials.verification_token, key, quote(response_url, safe="")):
        assert secret not in logged  # ...without what could act as the desk
    assert not re.search(r"v0=[0-9a-f]{16}", logged)
