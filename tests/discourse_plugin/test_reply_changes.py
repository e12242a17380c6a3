"""An answer the desk posted on Discourse is edited in place (PUT, with an edit reason) and
deleted (DELETE), each once, through the outbox."""

from __future__ import annotations

from socialdesk.core.reply_change import ChangeKind
from socialdesk.core.reply_corrections import ReplyCorrections
from socialdesk.core.ticket import ReplyStatus
from tests.discourse_plugin.conftest import AGENT
from tests.discourse_plugin.test_replies import claimed


async def test_an_answer_is_edited_in_place_then_deleted(desk, forum):
    ticket_id, _, _ = await claimed(desk, forum)
    reply = await desk.service.reply(ticket_id, AGENT, "Sorry Dana, it ships today.")
    await desk.outbox_runner().drain()
    (ours,) = forum.posts_by("acme_support")
    path = f"/posts/{ours.id}.json"
    corrections = ReplyCorrections(desk)

    await corrections.request(reply.id, AGENT, ChangeKind.EDIT, "Sorry Dana, it ships today by express.")
    for _ in range(2):
        await desk.outbox_runner().drain()
    assert ours.raw == "Sorry Dana, it ships today by express." and ours.version == 2
    (put,) = forum.recorder.of("discourse", method="PUT", path=path)
    assert put["body"]["post"]["edit_reason"]
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.EDITED

    await corrections.request(reply.id, AGENT, ChangeKind.DELETE)
    for _ in range(2):
        await desk.outbox_runner().drain()
    assert ours.deleted_at is not None
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.DELETED
    assert len(forum.recorder.of("discourse", method="DELETE", path=path)) == 1
