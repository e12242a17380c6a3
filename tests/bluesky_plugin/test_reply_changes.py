"""A reply the desk posted on Bluesky can be deleted (once, through the outbox); it cannot be
edited, and the desk says so instead of trying."""

from __future__ import annotations

import pytest

from socialdesk.core.errors import IllegalTransition
from socialdesk.core.extensions import Actor
from socialdesk.core.reply_change import ChangeKind
from socialdesk.core.reply_corrections import ReplyCorrections
from socialdesk.core.ticket import ReplyStatus
from tests.bluesky_plugin.conftest import BRAND, DANA, calls, poll

AGENT = Actor("U1")


async def test_a_sent_reply_is_deleted_once_and_cannot_be_edited(desk, bsky):
    post = bsky.post_as(DANA, f"@{BRAND} my order never arrived")
    await poll(desk)
    (ticket,) = await desk.service.queue(platform="bluesky")
    reply = await desk.service.reply(ticket.id, AGENT, "Sorry! DM us the order number?")
    await desk.outbox_runner().drain()
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert len(bsky.replies_by(BRAND)) == 1 and post

    corrections = ReplyCorrections(desk)
    with pytest.raises(IllegalTransition, match="does not let the desk edit a reply it posted"):
        await corrections.request(reply.id, AGENT, ChangeKind.EDIT, "Sorry! Please DM us.")
    with pytest.raises(IllegalTransition, match="who wrote this reply, or an admin"):
        await corrections.request(reply.id, Actor("U2"), ChangeKind.DELETE)
    await corrections.request(reply.id, AGENT, ChangeKind.DELETE)
    with pytest.raises(IllegalTransition, match="already being edited or deleted"):
        await corrections.request(reply.id, AGENT, ChangeKind.DELETE)
    for _ in range(2):
        await desk.outbox_runner().drain()
    assert bsky.replies_by(BRAND) == []
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.DELETED
    assert len(calls(bsky, "com.atproto.repo.deleteRecord")) == 1
