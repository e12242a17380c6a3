"""A reply the desk posted on Mastodon is edited in place (still addressed to the customer)
and deleted, each once, through the outbox."""

from __future__ import annotations

from socialdesk.core.extensions import Actor
from socialdesk.core.reply_change import ChangeKind
from socialdesk.core.reply_corrections import ReplyCorrections
from socialdesk.core.ticket import ReplyStatus
from tests.mastodon_plugin.conftest import DANA, catch_up_once

AGENT = Actor("U1")


def _calls(masto, method: str, status_id: str) -> list:  # type: ignore[no-untyped-def]
    return masto.recorder.of("mastodon", method=method, path=f"/api/v1/statuses/{status_id}")


async def test_a_sent_reply_is_edited_in_place_then_deleted(desk, masto):
    masto.post_as(DANA, "@acme my order never arrived")
    await catch_up_once(desk)
    (ticket,) = await desk.service.queue(platform="mastodon")
    reply = await desk.service.reply(ticket.id, AGENT, "Sorry! Which order?")
    await desk.outbox_runner().drain()
    (posted,) = masto.replies_by("acme")

    corrections = ReplyCorrections(desk)
    await corrections.request(reply.id, AGENT, ChangeKind.EDIT, "Sorry! Which order number was it?")
    for _ in range(2):
        await desk.outbox_runner().drain()
    edited = masto.status(posted["id"])
    assert edited is not None and edited["edited_at"] is not None
    assert "Which order number was it?" in edited["content"] and [m["acct"] for m in edited["mentions"]] == [DANA]
    stored = await desk.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.EDITED and stored.text == "Sorry! Which order number was it?"
    assert len(_calls(masto, "PUT", posted["id"])) == 1

    await corrections.request(reply.id, AGENT, ChangeKind.DELETE)
    for _ in range(2):
        await desk.outbox_runner().drain()
    assert masto.replies_by("acme") == []
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.DELETED
    assert len(_calls(masto, "DELETE", posted["id"])) == 1
