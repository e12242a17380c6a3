from socialdesk.core.extensions import Actor
from socialdesk.core.ingest import IngestOutcome
from tests.conftest import mention


async def test_ingest_claim_reply_roundtrip(app, platform):
    result = await app.service.ingest(mention("a1"))
    assert result.outcome == IngestOutcome.CREATED
    ticket = await app.service.claim(result.ticket_id, Actor("U1"))
    assert ticket.assignee == "U1"
    reply = await app.service.reply(result.ticket_id, Actor("U1"), "Sorry! Sending a new one.")
    stats = await app.outbox_runner().drain()
    assert stats.done >= 1
    assert [p.text for p in platform.posted] == ["Sorry! Sending a new one."]
    assert (await app.service.get_reply(reply.id)).status == "sent"
