"""Mentions in, against the Discord emulator with the real discord.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import discord

from socialdesk.core.ticket import TicketStatus
from socialdesk.plugins.discord.refs import ConversationRef, MessageRef
from socialdesk.sandbox.discord import COMMUNITY, PARTNERS, DiscordEmulator
from tests.discord_plugin.conftest import DeskFactory, EmulatorFactory
from tests.discord_plugin.desk_driver import DiscordDesk
from tests.sandbox.discord_loopback import WAIT, eventually


async def test_mentions_of_the_bot_and_keywords_become_tickets_with_cards(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    guild, support, general = emulator.guild_id(), emulator.channel_id("support"), emulator.channel_id("general")
    asked = emulator.post_message(support, "alice", "my order never arrived", mentions_bot=True)
    emulator.post_message(general, "bob", "just chatting about lunch")  # no mention, no keyword
    keyword = emulator.post_message(general, "bob", "Is ACME down for anyone else?")
    emulator.post_message(general, "bob", "acmeville is a nice town")  # not the whole word
    stored = {s.text: s for s in await desk.until_inbound(2)}  # two channels: either may come first
    await desk.drain()

    assert sorted(stored) == ["@socialdesk-bot my order never arrived", "Is ACME down for anyone else?"]
    first = stored["@socialdesk-bot my order never arrived"]
    assert first.external_id == MessageRef(guild, support, int(asked["id"])).external_id
    assert first.conversation_id == ConversationRef(guild, support, int(asked["id"])).conversation_id
    assert first.url == f"https://discord.com/channels/{guild}/{support}/{asked['id']}"
    assert stored["Is ACME down for anyone else?"].external_id.endswith(f"/{general}/{keyword['id']}")
    tickets = await desk.tickets()
    assert len(tickets) == 2 and {t.platform for t in tickets} == {"discord"}
    assert all(t.status == TicketStatus.OPEN and t.card_ts for t in tickets)
    assert [kind for kind, _ in desk.cards.done].count("post_card") == 2


async def test_attachments_and_embeds_are_summarised_for_the_card(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    emulator.post_message(
        emulator.channel_id("support"), "alice", "the invoice is wrong", mentions_bot=True,
        attachments=[{"filename": "invoice.pdf", "data": b"%PDF-1.7 " + b"x" * 2000, "content_type": "application/pdf"}],
        embeds=[{"title": "Order #1234", "description": "Shipped   to\nBerlin", "url": "https://shop.example/o/1234"}],
    )
    [stored] = await desk.until_inbound(1)
    pdf, embed = stored.attachments
    assert pdf.startswith("invoice.pdf (application/pdf, 2.0 KB): http://127.0.0.1:")
    assert embed == "embed: Order #1234 — Shipped to Berlin — https://shop.example/o/1234"


async def test_follow_ups_in_a_forum_post_join_its_ticket(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    post = emulator.create_thread(emulator.channel_id("help-forum"), "Where is my order?", author_username="alice",
                                  content=desk.at_bot("ordered 3 weeks ago"))
    thread = int(post["id"])
    emulator.post_message(thread, "alice", "it was order 1234")  # no mention: a follow-up
    emulator.post_message(thread, "bob", "same here!")  # someone else in the thread: still this conversation
    stored = await desk.until_inbound(3)
    await desk.drain()

    assert len({s.ticket_id for s in stored}) == 1
    assert {s.conversation_id for s in stored} == {
        ConversationRef(emulator.guild_id(), emulator.channel_id("help-forum"), thread).conversation_id}
    assert [kind for kind, _ in desk.cards.done].count("post_card") == 1
    assert [kind for kind, _ in desk.cards.done].count("post_to_card_thread") == 2


async def test_a_thread_started_from_a_mention_continues_its_ticket(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    support = emulator.channel_id("support")
    asked = emulator.post_message(support, "alice", "my parcel is damaged", mentions_bot=True)
    await desk.until_inbound(1)
    thread = emulator.create_thread(support, "Damaged parcel", message_id=int(asked["id"]))
    emulator.post_message(int(thread["id"]), "alice", "here is a photo")
    stored = await desk.until_inbound(2)
    assert stored[0].ticket_id == stored[1].ticket_id
    assert stored[1].external_id.split("/")[1] == thread["id"]  # stored where it was written: the thread


async def test_replies_follow_the_chain_back_to_the_ticket(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    support = emulator.channel_id("support")
    asked = emulator.post_message(support, "alice", "refund please", mentions_bot=True)
    # Bob answers Alice (pinging her, not the bot); Alice answers Bob: both join her ticket.
    bob = emulator.post_message(support, "bob", "did you try the form?", reply_to=int(asked["id"]))
    alice = emulator.post_message(support, "alice", "yes, it fails", reply_to=int(bob["id"]))
    emulator.post_message(support, "carol", "unrelated question")  # not a reply, no mention
    stored = await desk.until_inbound(3)
    assert len({s.ticket_id for s in stored}) == 1
    assert stored[2].in_reply_to_id.endswith(f"/{support}/{bob['id']}")
    assert stored[2].external_id.endswith(f"/{alice['id']}")


async def test_bots_and_the_desks_own_messages_are_ignored(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    support = emulator.channel_id("support")
    emulator.add_user("helperbot", "Helper", bot=True, guild_ids=[emulator.guild_id()])
    emulator.post_message(support, "helperbot", "acme status: all good", mentions_bot=True)
    client = desk.runtime.client
    assert client is not None
    own = await asyncio.wait_for(client.get_partial_messageable(support).send(desk.at_bot("acme hello from me")), WAIT)
    marker = emulator.post_message(support, "alice", "acme help", mentions_bot=True)
    [stored] = await desk.until_inbound(1)  # the customer's message, which came last
    assert stored.external_id.endswith(f"/{marker['id']}")
    assert own.id < int(marker["id"])


async def test_only_the_configured_guilds_and_channels_are_watched(make_desk: DeskFactory,
                                                                     emulator: DiscordEmulator) -> None:
    desk = await make_desk(guilds=[emulator.guild_id(COMMUNITY)], channels=[emulator.channel_id("support")])
    await desk.start()
    emulator.post_message(emulator.channel_id("general"), "alice", "not watched here", mentions_bot=True)
    emulator.post_message(emulator.channel_id("partners"), "carol", "nor here", mentions_bot=True)
    emulator.post_message(emulator.channel_id("support"), "alice", "watched", mentions_bot=True)
    [stored] = await desk.until_inbound(1)
    assert stored.text.endswith("watched")


async def test_auto_sharded_client_when_configured(make_emulator: EmulatorFactory, make_desk: DeskFactory) -> None:
    # max_concurrency 2: both shards may IDENTIFY at once (the pacer follows Discord's buckets).
    emulator = await make_emulator(recommended_shards=2, max_concurrency=2)
    desk = await make_desk(on=emulator, sharded=True)
    await desk.start()
    client = desk.runtime.client
    assert isinstance(client, discord.AutoShardedClient) and client.shard_count == 2
    community, partners = emulator.guild_id(COMMUNITY), emulator.guild_id(PARTNERS)
    emulator.post_message(emulator.channel_id("support"), "alice", "from the community", mentions_bot=True)
    emulator.post_message(emulator.channel_id("partners"), "carol", "from a partner", mentions_bot=True)
    stored = await desk.until_inbound(2)
    assert {int(s.external_id.split("/")[0]) for s in stored} == {community, partners}
    assert sorted(s.shard for s in emulator.gateway_sessions) == [(0, 2), (1, 2)]
    await eventually(lambda: all(s.connected for s in emulator.gateway_sessions), what="both shards connected")
