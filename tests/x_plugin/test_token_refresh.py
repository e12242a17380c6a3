"""X OAuth 2.0 user tokens are renewed before they expire, once across replicas, and survive restarts.

The emulator's OAuth 2.0 tokens last two hours on the test clock and each refresh token
works once, as on X. Every desk here shares one database (SQLite or PostgreSQL).
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from socialdesk.core.extensions import Actor
from socialdesk.core.runtime.status_server import StatusServer
from socialdesk.core.ticket import ReplyStatus
from socialdesk.sandbox.x import XEmulator
from tests.x_plugin.conftest import poll, posts_sent

AGENT = Actor("U1")
OAUTH2 = {"user_access_token_env": "X_USER_ACCESS_TOKEN", "refresh_token_env": "X_REFRESH_TOKEN"}


@pytest.fixture
def oauth2_env(x: XEmulator, x_secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    grant = x.oauth2_grant("acme")
    for name in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(name)
    values = {"X_USER_ACCESS_TOKEN": grant.access_token, "X_REFRESH_TOKEN": grant.refresh_token,
              "X_CLIENT_ID": x.oauth2.client_id}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


async def answer(desk, x, author: str, text: str) -> int:  # type: ignore[no-untyped-def]
    """A new ticket from ``author`` with a queued reply; returns the reply id."""
    post = x.post_as(author, text)
    await poll(desk)
    (ticket,) = [t for t in await desk.service.queue(platform="x") if t.conversation_id == post["conversation_id"]]
    await desk.service.claim(ticket.id, AGENT)
    return (await desk.service.reply(ticket.id, AGENT, f"Thanks, {author}! About: {text.removeprefix('@acme ')}")).id


def unauthorized_posts(x: XEmulator) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in posts_sent(x) if r["status"] == 401]


async def test_renewed_once_across_replicas_and_a_restart_uses_the_newest(make_x_desk, x, clock, oauth2_env):
    first, second = await make_x_desk(**OAUTH2), await make_x_desk(**OAUTH2)
    reply = await answer(first, x, "dana", "@acme where is my parcel?")
    await first.outbox_runner().drain()
    sent = await first.service.get_reply(reply)
    assert sent.status == ReplyStatus.SENT, sent.error
    assert x.oauth2.refreshes == 1  # the first use renews the seeded pair: its expiry is then known

    clock.advance(hours=2)  # the access token has expired on X
    replies = [await answer(first, x, "dana", "@acme and my second parcel?"),
               await answer(first, x, "fox", "@acme my invoice is wrong")]
    # Both replicas' workers need a fresh token at the same moment: one refreshes, the other waits
    # for the row and uses what it got (a second refresh would present a spent refresh token).
    await asyncio.gather(first.outbox_runner().drain(), second.outbox_runner().drain())
    for reply_id in replies:
        sent = await first.service.get_reply(reply_id)
        assert sent.status == ReplyStatus.SENT, sent.error
    assert x.oauth2.refreshes == 2
    assert unauthorized_posts(x) == []

    # A restart reads the rotated pair from the database; the environment's refresh token is spent.
    restarted = await make_x_desk(**OAUTH2)
    reply = await answer(restarted, x, "fox", "@acme still waiting on the invoice")
    await restarted.outbox_runner().drain()
    assert (await restarted.service.get_reply(reply)).status == ReplyStatus.SENT
    assert x.oauth2.refreshes == 2 and unauthorized_posts(x) == []
    assert len(x.replies_by("acme")) == 4


async def test_a_refused_refresh_shows_on_the_reply_and_in_healthz(make_x_desk, x, clock, oauth2_env):
    desk = await make_x_desk(**OAUTH2)
    await desk.outbox_runner().drain()
    first = await answer(desk, x, "dana", "@acme hello?")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(first)).status == ReplyStatus.SENT
    x.oauth2.revoke_refresh_tokens()  # the brand removed the app; X refuses the next refresh
    clock.advance(hours=2)

    restarted = await make_x_desk(**OAUTH2)  # a restart: the brand is not asked again, it is remembered
    reply_id = await answer(restarted, x, "fox", "@acme are you there?")  # mentions still come in
    await restarted.outbox_runner().drain()
    reply = await restarted.service.get_reply(reply_id)
    assert reply.status == ReplyStatus.FAILED  # nothing was posted; the error is on the card
    assert reply.error.startswith("X posting credentials stopped working: X refused the refresh token "
                                  "(invalid_request: Value passed for the token was invalid.)")
    assert "X_REFRESH_TOKEN" in reply.error
    assert not [v for v in oauth2_env.values() if v in reply.error]
    assert len(posts_sent(x)) == 1
    desk = restarted

    status = StatusServer(desk, lambda: True, 0, host="127.0.0.1")
    await status.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{status.port}/healthz") as r:
            assert r.status == 200  # the replica still serves Slack and ingests
            health = await r.json()
    finally:
        await status.stop()
    assert health["status"] == "degraded"
    assert health["posting_credentials"]["x"].startswith("X refused the refresh token (invalid_request")


async def test_an_access_token_refused_early_is_renewed_and_the_reply_retried(make_x_desk, x, clock, oauth2_env):
    desk = await make_x_desk(**OAUTH2)
    first = await answer(desk, x, "dana", "@acme one")
    await desk.outbox_runner().drain()
    x.auth.revoke(x.brand["id"])  # X drops the access token before its time (the refresh token still works)
    reply_id = await answer(desk, x, "fox", "@acme two")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply_id)).status == ReplyStatus.PENDING  # 401: nothing posted, retried
    clock.advance(minutes=5)
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply_id)).status == ReplyStatus.SENT
    assert (await desk.service.get_reply(first)).status == ReplyStatus.SENT
    assert x.oauth2.refreshes == 2 and len(x.replies_by("acme")) == 2
