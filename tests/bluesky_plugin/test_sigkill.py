"""A desk process SIGKILLed between Bluesky's answer and the desk's record: the reply is
found in the thread after restart, recorded once, and never posted a second time."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from socialdesk.core.extensions import Actor
from socialdesk.core.ticket import ReplyStatus
from tests.bluesky_plugin.conftest import BRAND, DANA, poll, records_created

AGENT = Actor("U1")
WORKER = Path(__file__).with_name("sigkill_worker.py")


async def test_sigkill_between_send_and_record_posts_once(make_bsky_desk, bsky, database_url_and_kwargs,
                                                           bsky_secrets):
    desk = await make_bsky_desk()
    question = bsky.post_as(DANA, f"@{BRAND} where is my refund?")
    await poll(desk)
    (ticket,) = await desk.service.queue(platform="bluesky")
    await desk.service.claim(ticket.id, AGENT)
    reply = await desk.service.reply(ticket.id, AGENT, "It left today, 3-5 days.")

    url, kwargs = database_url_and_kwargs
    settings = json.dumps({"url": url, "kwargs": kwargs, "service": bsky.base_url, "now": desk.clock().isoformat()})
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), settings, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **bsky_secrets}, cwd=str(Path(__file__).parents[2]))
    out, err = await process.communicate()
    assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
    posted = json.loads(out.decode().splitlines()[-1])["posted"]
    assert [p["uri"] for p in bsky.replies_by(BRAND)] == [posted]
    assert (await desk.service.get_reply(reply.id)).status == ReplyStatus.SENDING  # never recorded

    restarted = await make_bsky_desk()
    desk.clock.advance(seconds=restarted.config.desk.outbox.lease_seconds + 1)  # the dead worker's lease ends
    await restarted.outbox_runner("survivor").drain()
    assert (await restarted.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN  # not resent
    assert await restarted.service.reconcile_uncertain_replies() == {reply.id: True}
    settled = await restarted.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT and settled.platform_id == posted
    await restarted.outbox_runner().drain()
    (only,) = bsky.replies_by(BRAND)
    assert only["uri"] == posted and only["record"]["reply"]["parent"]["uri"] == question["uri"]
    assert len(records_created(bsky)) == 1
