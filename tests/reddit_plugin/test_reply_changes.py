"""A comment the desk posted on Reddit can be deleted, once, through the outbox."""

from __future__ import annotations

from socialdesk.core.reply_change import ChangeKind
from socialdesk.core.reply_corrections import ReplyCorrections
from socialdesk.core.ticket import ReplyStatus
from tests.reddit_plugin.conftest import AGENT
from tests.reddit_plugin.test_replies import claimed


async def test_a_sent_comment_is_deleted_once(desk, reddit):
    ticket_id, _, _ = await claimed(desk, reddit)
    reply = await desk.service.reply(ticket_id, AGENT, "It ships today.")
    await desk.outbox_runner().drain()
    (ours,) = reddit.comments_by("acme_support")
    await ReplyCorrections(desk).request(reply.id, AGENT, ChangeKind.DELETE)
    for _ in range(2):
        await desk.outbox_runner().drain()
    assert ours.deleted
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.DELETED
    deletes = [r for r in reddit.recorder.of("reddit", method="POST") if r["path"].startswith("/api/del")]
    assert len(deletes) == 1
