"""The plugin inside `socialdesk run`: its scheduled pollers, listeners and replies on one loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import yarl
from aiohttp import web

from socialdesk.core.extensions import Actor
from socialdesk.core.runtime.replica import run_desk
from socialdesk.core.runtime.scheduler import build_scheduler
from tests.test_runtime import wait_for
from tests.x_plugin.conftest import poll


async def test_pollers_are_scheduled_at_the_configured_interval(make_x_desk):
    desk = await make_x_desk(poll_interval=45, search_query="acme")
    scheduler = build_scheduler(desk)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["x.poll_mentions"].trigger.interval == timedelta(seconds=45)
    assert jobs["x.poll_search"].trigger.interval == timedelta(seconds=45)
    only_mentions = build_scheduler(await make_x_desk())
    assert "x.poll_search" not in {job.id for job in only_mentions.get_jobs()}


async def test_a_running_desk_polls_at_start_and_answers(make_x_desk, x, cards):
    desk = await make_x_desk(poll_interval=3600)  # only the start-up poll runs during the test
    question = x.post_as("dana", "@acme is the outage over?")
    stop = asyncio.Event()
    task = asyncio.create_task(run_desk(desk, stop))
    try:
        async def card_posted() -> bool:
            return any(kind == "post_card" for kind, _ in cards.done)

        await wait_for(card_posted)
        (ticket,) = await desk.service.queue(platform="x")
        await desk.service.reply(ticket.id, Actor("U1"), "Yes, everything is back to normal.")

        async def answered() -> bool:
            return len(x.replies_by("acme")) == 1

        await wait_for(answered)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    (posted,) = x.replies_by("acme")
    assert posted["referenced_tweets"] == [{"type": "replied_to", "id": question["id"]}]


class PrefixProxy:
    """A forwarding proxy under a path prefix, as a company egress proxy might be."""

    def __init__(self, upstream: str, prefix: str = "/x-api") -> None:
        self.upstream, self.prefix, self.forwarded = upstream, prefix, 0

    async def forward(self, request: web.Request) -> web.Response:
        self.forwarded += 1
        path = request.rel_url.raw_path.removeprefix(self.prefix)
        query = f"?{request.rel_url.raw_query_string}" if request.rel_url.raw_query_string else ""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as session, session.request(
                request.method, yarl.URL(self.upstream + path + query, encoded=True), headers=headers,
                data=await request.read()) as answer:
            passed = {k: v for k, v in answer.headers.items() if k.lower().startswith(("x-rate-limit", "content-type"))}
            return web.Response(status=answer.status, body=await answer.read(), headers=passed)


async def test_requests_go_through_a_proxy_under_a_path_prefix(make_x_desk, x):
    proxy = PrefixProxy(x.base_url)
    app = web.Application()
    app.router.add_route("*", "/x-api/{tail:.*}", proxy.forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        desk = await make_x_desk(api_base=f"http://127.0.0.1:{port}/x-api")
        x.post_as("dana", "@acme via the proxy?")
        assert (await poll(desk)).new == 1
        (ticket,) = await desk.service.queue(platform="x")
        await desk.service.reply(ticket.id, Actor("U1"), "Yes, signed and delivered.")
        await desk.outbox_runner().drain()
        assert len(x.replies_by("acme")) == 1  # the OAuth 1.0a signature held through the proxy
        assert proxy.forwarded >= 3  # users/me, mentions, the post
    finally:
        await runner.cleanup()
