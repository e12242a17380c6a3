"""Answers out: once, as a reply in the customer's thread or channel, pinging nobody;
refusals before anything leaves; failures visible; uncertain sends never repeated."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from aiohttp import web

from socialdesk.core.errors import ReplyRejected
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind, JobStatus
from socialdesk.core.platform import ReplyRequest
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from socialdesk.plugins.discord.refs import MessageRef
from socialdesk.plugins.discord.replies import reply_nonce
from socialdesk.sandbox.discord import DiscordEmulator
from socialdesk.sandbox.discord.errors import json_response
from socialdesk.sandbox.faults import FaultPlan
from tests.conftest import FakeClock
from tests.discord_plugin.conftest import DeskFactory, EmulatorFactory
from tests.discord_plugin.desk_driver import DiscordDesk
from tests.sandbox.discord_loopback import eventually

AGENT = Actor("U0AGENT1")


class LockedChannelEmulator(DiscordEmulator):
    """Discord where the bot lacks access to some channels (the emulator has no permission
    overwrites, so the 403 Discord answers there is added in front of its routes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked: set[int] = set()

    def setup(self, app: web.Application) -> None:
        @web.middleware
        async def missing_access(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.method == "POST" and any(request.path == f"/api/v10/channels/{c}/messages" for c in self.locked):
                return json_response({"message": "Missing Access", "code": 50001}, 403)
            return await handler(request)

        app.middlewares.append(missing_access)
        super().setup(app)


async def _ticket_for(desk: DiscordDesk, channel: int, text: str = "my order never arrived") -> tuple[int, dict]:
    before = len(await desk.inbound())
    asked = desk.emulator.post_message(channel, "alice", text, mentions_bot=True)
    stored = await desk.until_inbound(before + 1)
    return stored[-1].ticket_id, asked


async def test_a_reply_appears_once_as_a_reply_to_the_customer_in_the_channel(desk: DiscordDesk,
                                                                               make_desk: DeskFactory) -> None:
    emulator = desk.emulator
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    ticket_id, asked = await _ticket_for(desk, support)
    reply = await desk.app.service.reply(ticket_id, AGENT, "Sorry! We're on it.")
    await desk.drain()
    await desk.drain()
    replica = await make_desk()  # another replica's outbox finds nothing left to send
    await replica.drain()

    [posted] = desk.bot_messages(support)
    assert posted["content"] == "Sorry! We're on it."
    assert posted["message_reference"]["message_id"] == asked["id"]
    assert len(desk.posts(support)) == 1
    stored = await desk.app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.SENT
    assert stored.platform_id == MessageRef(guild, support, int(posted["id"])).external_id
    assert stored.platform_url == f"https://discord.com/channels/{guild}/{support}/{posted['id']}"
    assert (await desk.app.service.get_ticket(ticket_id)).status == TicketStatus.WAITING

    # The customer answers our answer: it joins the ticket, and our own message was never a mention.
    emulator.post_message(support, "alice", "thanks, order 1234", reply_to=int(posted["id"]))
    inbound = await desk.until_inbound(2)
    assert {s.ticket_id for s in inbound} == {ticket_id}
    assert (await desk.app.service.get_ticket(ticket_id)).status == TicketStatus.OPEN


async def test_a_reply_in_a_thread_answers_the_latest_message_there(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    post = emulator.create_thread(emulator.channel_id("help-forum"), "Broken zipper", author_username="alice",
                                  content=desk.at_bot("my zipper broke"))
    thread = int(post["id"])
    latest = emulator.post_message(thread, "alice", "it is the blue jacket")
    stored = await desk.until_inbound(2)
    await desk.app.service.reply(stored[0].ticket_id, AGENT, "We'll send a new one.")
    await desk.drain()

    [posted] = desk.bot_messages(thread)
    assert posted["message_reference"]["message_id"] == latest["id"]
    assert posted["message_reference"]["channel_id"] == str(thread)
    assert desk.all_message_posts() == desk.posts(thread)  # nothing went to the forum or elsewhere


async def test_everyone_in_an_agents_reply_pings_nobody(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    role = emulator.add_role(guild, "Staff", mentionable=True)
    ticket_id, _ = await _ticket_for(desk, support)
    alice = emulator.user_id("alice")
    await desk.app.service.reply(ticket_id, AGENT, f"@everyone @here <@{alice}> <@&{role}> fixed!")
    await desk.drain()

    [request] = desk.posts(support)
    assert request["body"]["allowed_mentions"] == {"parse": []}
    [posted] = desk.bot_messages(support)
    assert posted["content"].startswith("@everyone @here")
    assert (posted["mention_everyone"], posted["mentions"], posted["mention_roles"]) == (False, [], [])


@pytest.mark.parametrize("reply_rules", [True, False], ids=["with-reply-rules", "plugin-alone"])
async def test_a_2001_character_reply_is_refused_before_any_request(make_desk: DeskFactory, reply_rules: bool) -> None:
    desk = await make_desk(config={"plugins": {"reply_rules": {"enabled": reply_rules}}})
    await desk.start()
    support = desk.emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    with pytest.raises(ReplyRejected) as refused:
        await desk.app.service.reply(ticket_id, AGENT, "x" * 2001)
    message = str(refused.value)
    assert message.count("2000 characters at most on discord, this reply has 2001") == 1
    await desk.drain()
    assert await desk.replies() == [] and await desk.jobs(JobKind.SEND_REPLY) == []
    assert desk.all_message_posts() == []
    assert (await desk.app.hooks.reply_limits("discord")).max_length == 2000

    await desk.app.service.reply(ticket_id, AGENT, "y" * 2000)  # the limit itself is fine
    await desk.drain()
    assert len(desk.bot_messages(support)) == 1


async def test_missing_access_marks_the_reply_failed_and_the_ticket_stays_open(
        make_emulator: EmulatorFactory, make_desk: DeskFactory) -> None:
    emulator = await make_emulator(cls=LockedChannelEmulator)
    desk = await make_desk(on=emulator)
    await desk.start()
    support = emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    emulator.locked.add(support)
    reply = await desk.app.service.reply(ticket_id, AGENT, "On it")
    await desk.drain()

    stored = await desk.app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED
    assert "403" in stored.error and "Missing Access" in stored.error and "code 50001" in stored.error
    assert (await desk.app.service.get_ticket(ticket_id)).status == TicketStatus.OPEN
    [job] = await desk.jobs(JobKind.SEND_REPLY)
    assert job.status == JobStatus.FAILED
    assert [p["status"] for p in desk.posts(support)] == [403]  # tried once, not retried
    assert desk.bot_messages(support) == []


async def test_a_deleted_customer_message_fails_the_reply_visibly(make_emulator: EmulatorFactory,
                                                                 make_desk: DeskFactory) -> None:
    emulator = await make_emulator(max_messages_per_channel=10)  # older messages are forgotten, as if deleted
    desk = await make_desk(on=emulator)
    await desk.start()
    support = emulator.channel_id("support")
    ticket_id, asked = await _ticket_for(desk, support)
    for i in range(12):
        emulator.post_message(support, "bob", f"chatter {i}")
    assert all(m["id"] != asked["id"] for m in emulator.messages(support))
    reply = await desk.app.service.reply(ticket_id, AGENT, "Here to help")
    await desk.drain()

    stored = await desk.app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.FAILED and "no longer exists" in stored.error
    assert (await desk.app.service.get_ticket(ticket_id)).status == TicketStatus.OPEN
    assert [p["status"] for p in desk.posts(support)] == [400]


async def test_an_ambiguous_send_is_never_repeated_and_reconcile_finds_it(make_emulator: EmulatorFactory,
                                                                          make_desk: DeskFactory) -> None:
    emulator = await make_emulator(faults=FaultPlan())
    desk = await make_desk(on=emulator, request_timeout_seconds=0.5)
    await desk.start()
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    # Discord takes longer than the desk waits, then posts anyway: the answer is lost, not the post.
    emulator.faults.set(slow=1.0, slow_seconds=1.5, only_paths=(f"/api/v10/channels/{support}/messages",))
    reply = await desk.app.service.reply(ticket_id, AGENT, "We are looking into it")
    await desk.drain()
    emulator.faults.clear()

    stored = await desk.app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.UNCERTAIN and "may have been posted" in stored.error
    [posted] = await eventually(lambda: desk.bot_messages(support), what="the slow reply to land")
    await desk.drain()
    assert len(desk.posts(support)) == 1  # never sent again on its own
    assert (await desk.app.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN

    await desk.stop()  # at start-up uncertain replies are reconciled before the gateway is up: REST only
    assert await desk.app.service.reconcile_uncertain_replies() == {reply.id: True}
    settled = await desk.app.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT
    assert settled.platform_id == MessageRef(guild, support, int(posted["id"])).external_id
    assert len(desk.bot_messages(support)) == 1 and len(desk.posts(support)) == 1


async def test_reconcile_says_not_found_when_nothing_was_posted(desk: DiscordDesk) -> None:
    support = desk.emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    reply = await desk.app.service.reply(ticket_id, AGENT, "Never left")
    await desk.app.service.begin_sending(reply.id)
    await desk.app.service.record_uncertain(reply.id, "the desk stopped while this reply was being sent")
    assert await desk.app.service.reconcile_uncertain_replies() == {reply.id: False}
    assert (await desk.app.service.get_reply(reply.id)).status == ReplyStatus.UNCERTAIN


async def test_a_long_rate_limit_gives_the_reply_back_to_the_outbox(make_emulator: EmulatorFactory,
                                                                    make_desk: DeskFactory, clock: FakeClock) -> None:
    emulator = await make_emulator(faults=FaultPlan())
    desk = await make_desk(on=emulator)
    await desk.start()
    support = emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    emulator.faults.set(rate_limited=1.0, retry_after_seconds=120,
                        only_paths=(f"/api/v10/channels/{support}/messages",))
    reply = await desk.app.service.reply(ticket_id, AGENT, "Thanks for waiting")
    await desk.drain()
    assert (await desk.app.service.get_reply(reply.id)).status == ReplyStatus.PENDING
    [job] = await desk.jobs(JobKind.SEND_REPLY)
    assert job.status == JobStatus.PENDING and job.not_before >= clock() + timedelta(seconds=119)

    emulator.faults.clear()
    clock.advance(seconds=121)
    await desk.drain()
    assert (await desk.app.service.get_reply(reply.id)).status == ReplyStatus.SENT
    assert [p["status"] for p in desk.posts(support)] == [429, 200]
    assert len(desk.bot_messages(support)) == 1


async def test_a_replica_without_the_gateway_sends_over_rest(desk: DiscordDesk, make_desk: DeskFactory) -> None:
    support = desk.emulator.channel_id("support")
    ticket_id, asked = await _ticket_for(desk, support)
    replica = await make_desk()  # same database, listeners never started
    await replica.app.service.reply(ticket_id, AGENT, "Answered from another replica")
    await replica.drain()
    [posted] = desk.bot_messages(support)
    assert posted["message_reference"]["message_id"] == asked["id"]
    assert replica.runtime.client is None


async def test_an_agents_resend_of_an_uncertain_reply_cannot_post_twice(make_emulator: EmulatorFactory,
                                                                        make_desk: DeskFactory) -> None:
    emulator = await make_emulator(faults=FaultPlan())
    desk = await make_desk(on=emulator, request_timeout_seconds=0.5)
    await desk.start()
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    emulator.faults.set(slow=1.0, slow_seconds=1.5, only_paths=(f"/api/v10/channels/{support}/messages",))
    reply = await desk.app.service.reply(ticket_id, AGENT, "Refund issued")
    await desk.drain()
    emulator.faults.clear()
    [posted] = await eventually(lambda: desk.bot_messages(support), what="the slow reply to land")

    # The agent does not wait for reconciliation and sends it again: same reply, same nonce,
    # and Discord answers with the message it already has.
    await desk.app.service.retry_reply(reply.id, AGENT)
    await desk.drain()
    first, again = desk.posts(support)
    assert first["body"]["nonce"] == again["body"]["nonce"] == reply_nonce_of(await desk.app.service.get_reply(reply.id),
                                                                              ticket_id, posted)
    assert first["body"]["enforce_nonce"] is True
    assert [m["id"] for m in desk.bot_messages(support)] == [posted["id"]]
    settled = await desk.app.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT
    assert settled.platform_id == MessageRef(guild, support, int(posted["id"])).external_id


def reply_nonce_of(reply: Any, ticket_id: int, posted: dict[str, Any]) -> str:
    reference = posted["message_reference"]
    in_reply_to = MessageRef(int(reference["guild_id"]), int(reference["channel_id"]),
                             int(reference["message_id"])).external_id
    return reply_nonce(ReplyRequest(reply_id=reply.id, ticket_id=ticket_id, platform="discord",
                                    conversation_id="", in_reply_to_id=in_reply_to, text=reply.text, agent=reply.agent))


async def test_after_a_server_error_the_retry_looks_before_sending_again(
        desk: DiscordDesk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    support = desk.emulator.channel_id("support")
    ticket_id, _ = await _ticket_for(desk, support)
    real_send = discord.PartialMessageable.send
    answers: list[str] = []

    async def posted_then_500(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Discord stored the message, then the answer was a 500 (the emulator cannot do this).
        await real_send(self, *args, **kwargs)
        answers.append("500")
        raise discord.DiscordServerError(SimpleNamespace(status=500, reason="Internal Server Error"),
                                         {"message": "500: Internal Server Error", "code": 0})

    monkeypatch.setattr(discord.PartialMessageable, "send", posted_then_500)
    reply = await desk.app.service.reply(ticket_id, AGENT, "Your refund is on its way")
    await desk.drain()
    monkeypatch.setattr(discord.PartialMessageable, "send", real_send)
    waiting = await desk.app.service.get_reply(reply.id)
    assert answers == ["500"] and waiting.status == ReplyStatus.PENDING  # nothing proves it was posted...

    clock.advance(seconds=600)
    await desk.drain()  # ...so it is retried, but the retry looks first and finds it
    [posted] = desk.bot_messages(support)
    assert len(desk.posts(support)) == 1
    settled = await desk.app.service.get_reply(reply.id)
    assert settled.status == ReplyStatus.SENT and settled.platform_id.endswith(f"/{posted['id']}")
