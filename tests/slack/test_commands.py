"""``/desk`` subcommands: what each does, and the usage line for input it cannot read."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from socialdesk.core.extensions import Actor, DeskSubcommand, SubcommandCall
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.slack.app import COMMAND_ACK_BUDGET_SECONDS
from socialdesk.core.slack.replays import RECEIVED_AT, ack_budget
from socialdesk.core.ticket import TicketStatus
from tests.slack.conftest import ALICE, BOB, CAROL, CHANNEL, Desk, desk_config, start_running, stop_running

USAGES = {
    "claim": "claim N [--takeover]", "unclaim": "unclaim N", "assign": "assign N @user",
    "reply": "reply N [--takeover] text", "note": "note N text", "snooze": "snooze N 30m|2h|tomorrow",
    "close": "close N [reason]", "reopen": "reopen N", "spam": "spam N", "macro": "macro list|show NAME|add NAME text|remove NAME",
    "stats": "stats [today|7d]", "history": "history @handle", "queue": "queue [platform|p1-p4]", "mine": "mine",
}
MALFORMED = [
    ("claim", "claim"), ("claim", "claim forty-two"), ("claim", "claim 42 now"), ("unclaim", "unclaim"),
    ("assign", "assign 42"), ("assign", "assign 42 bob"), ("reply", "reply 42"), ("reply", "reply"),
    ("note", "note 42"), ("snooze", "snooze 42"), ("snooze", "snooze 42 soonish"), ("snooze", "snooze 42 90d"),
    ("close", "close"), ("reopen", "reopen #x"), ("spam", "spam 1 2"), ("macro", "macro"), ("macro", "macro drop x"),
    ("stats", "stats forever"), ("history", "history"), ("history", "history two words"),
    ("queue", "queue nowhere"), ("mine", "mine please"),
]


@pytest.fixture
async def desk(start_desk) -> Desk:
    return await start_desk("http")


async def test_malformed_input_gets_that_subcommands_usage(desk: Desk) -> None:
    for name, text in MALFORMED:
        answer = await desk.command(text)
        assert answer.startswith(f"Usage: `/desk {USAGES[name]}`"), (text, answer)


async def test_help_and_unknown_subcommands(desk: Desk) -> None:
    overview = await desk.command("")
    assert overview == await desk.command("help")
    for usage in USAGES.values():
        assert f"`/desk {usage}`" in overview
    assert (await desk.command("help snooze")).startswith("Usage: `/desk snooze N 30m|2h|tomorrow`")
    unknown = await desk.command("frobnicate 42")
    assert unknown.startswith("Unknown subcommand `frobnicate`.") and "`/desk claim N [--takeover]`" in unknown


async def test_ticket_lifecycle_by_command(desk: Desk) -> None:
    tid = await desk.mention()
    card = await desk.card(tid)
    assert await desk.command(f"claim #{tid}") == f"You have #{tid} now."
    assert (await desk.command(f"claim {tid}", user=BOB)).startswith(
        f"#{tid} is claimed by <@{ALICE}>. To take it over: `/desk claim {tid} --takeover`")
    assert await desk.command(f"claim {tid} --takeover", user=BOB) == f"You have #{tid} now."
    assert await desk.command(f"assign {tid} <@{ALICE}|alice>", user=BOB) == f"#{tid} is now assigned to <@{ALICE}>."
    assert await desk.command(f"assign {tid} <@U0OUTSIDE1>") == "<@U0OUTSIDE1> is not a desk agent; assign it to an agent."
    assert await desk.command(f"note {tid} VIP, handle with care") == \
        f"Internal note added to #{tid} (in the card's thread)."
    snoozed = await desk.command(f"snooze {tid} 30m")
    assert snoozed.startswith(f"#{tid} is snoozed until <!date^")
    ticket = await desk.app.service.get_ticket(tid)
    assert ticket.status == TicketStatus.SNOOZED
    assert timedelta(minutes=29) < ticket.snoozed_until - desk.app.clock() <= timedelta(minutes=30)
    assert await desk.command(f"close {tid} duplicate of an earlier one") == f"#{tid} is closed."
    assert await desk.command(f"close {tid}") == f"#{tid} is already closed"
    assert await desk.command(f"reopen {tid}") == f"#{tid} is open again."
    assert await desk.command(f"unclaim {tid}") == f"You let go of #{tid}; it is back in the queue."
    assert await desk.command(f"spam {tid}") == f"#{tid} is marked as spam and closed."
    assert await desk.command("claim 9999") == "#9999 does not exist"
    await desk.settled()
    thread = desk.slack.thread(CHANNEL, card.ts)[1:]
    assert [m.text.split(":")[0] for m in thread] == [f"Internal note from <@{ALICE}>"]
    text = desk.card_text(desk.slack.message(CHANNEL, card.ts))
    assert f"Marked as spam by <@{ALICE}>" in text and "desk.reopen" in text


async def test_snooze_tomorrow_wakes_at_nine_in_the_desks_time_zone(start_desk) -> None:
    desk = await start_desk("http", desk={"timezone": "Europe/Berlin"})
    tid = await desk.mention()
    await desk.card(tid)
    await desk.command(f"snooze {tid} tomorrow")
    until = (await desk.app.service.get_ticket(tid)).snoozed_until
    local = until.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (9, 0)
    assert local.date() == (desk.app.clock().astimezone(ZoneInfo("Europe/Berlin")) + timedelta(days=1)).date()


async def test_queue_mine_history_and_stats(desk: Desk) -> None:
    first = await desk.mention("The site is down", handle="Loud_One")
    second = await desk.mention("Love the new release", handle="fan")
    third = await desk.mention("Still down??", handle="loud_one")
    for tid in (first, second, third):
        await desk.card(tid)
    queue = await desk.command("queue")
    assert queue.index(f"|#{first}>") < queue.index(f"|#{third}>") < queue.index(f"|#{second}>")  # P1s first
    assert f"|#{second}>" not in await desk.command("queue p1")
    assert f"|#{second}>" in await desk.command("queue testnet")
    assert await desk.command("mine") == "You hold no open tickets."
    await desk.command(f"claim {third}")
    mine = await desk.command("mine")
    assert f"|#{third}>" in mine and f"|#{first}>" not in mine
    history = await desk.command("history @LOUD_one")
    assert history.startswith("*Tickets from @\u2060LOUDˍone*, newest first")  # escaped: handles are untrusted
    assert history.index(f"|#{third}>") < history.index(f"|#{first}>")  # newest first
    assert await desk.command("history @nobody") == "No tickets from @\u2060nobody."
    await desk.command(f"reply {third} Fixed now, sorry!")
    await desk.command(f"close {second}", user=BOB)
    await desk.settled()
    stats = await desk.command("stats")
    assert "New tickets: 3" in stats and "Replies sent: 1" in stats and "Closed: 1 (and 0 spam)" in stats
    assert "In the queue now: 2 (1 unclaimed)" in stats
    assert "New tickets: 3" in await desk.command("stats 7d")


async def test_macros_by_command(desk: Desk) -> None:
    listing = await desk.command("macro list")
    assert "`refund`" in listing and "`thanks`" in listing
    assert (await desk.command("macro show refund")) == "*Macro `refund`*\nHi {handle}, refunds take 5-7 days."
    assert (await desk.command("macro show nope")).startswith("No macro named `nope`. Macros: `refund`, `thanks`")


class EchoPlugin:
    """A plugin with its own /desk subcommand (one for admins only)."""

    @hookimpl
    def socialdesk_desk_subcommands(self) -> list[DeskSubcommand]:
        async def echo(call: SubcommandCall, app: object) -> str:
            return f"echo {call.args} from {call.actor.user_id} in {call.channel_id}"

        def purge(call: SubcommandCall, app: object) -> str:
            return "purged"

        async def slow(call: SubcommandCall, app: object) -> str:
            await asyncio.sleep(float(call.args))
            return "slow done"

        return [DeskSubcommand("echo", "echo TEXT", "say it back", echo),
                DeskSubcommand("purge", "purge", "admins only", purge, admin_only=True),
                DeskSubcommand("slow", "slow SECONDS", "takes its time", slow)]


async def test_plugin_subcommands(start_desk, make_app) -> None:
    desk = await start_desk("http", start=False)
    # a second desk on the same database and emulator, with the plugin enabled
    config = desk_config(desk.slack, "http")
    config["plugins"]["echo"] = {"enabled": True}
    app = await make_app(config, extra=[PluginEntry("echo", EchoPlugin(), "test", True),
                                        PluginEntry("testnet", desk.platform, "test", True)], with_platform=False)
    echo_desk = Desk(app, desk.slack, desk.driver, desk.platform, "http")
    await start_running(echo_desk)
    try:
        assert await echo_desk.command("echo hello there") == f"echo hello there from {ALICE} in {CHANNEL}"
        assert (await echo_desk.command("purge")).startswith("Only desk admins can do that")
        assert await echo_desk.command("purge", user=CAROL) == "purged"
        assert "`/desk echo TEXT` — say it back" in await echo_desk.command("help")
        # Slower than Slack's deadline: acknowledged as still working, the outcome follows
        before = len(echo_desk.ephemerals(ALICE, interim=True))
        assert await echo_desk.command(f"slow {COMMAND_ACK_BUDGET_SECONDS + 0.5}") == "slow done"
        told = echo_desk.ephemerals(ALICE, interim=True)[before:]
        assert told[0].startswith("⏳ Still working on your /desk command") and told[1:] == ["slow done"]
    finally:
        await stop_running(echo_desk)


async def test_admins_act_on_tickets_others_hold(desk: Desk) -> None:
    tid = await desk.mention()
    await desk.card(tid)
    await desk.app.service.claim(tid, Actor(ALICE))
    assert await desk.command(f"close {tid}", user=BOB) == \
        f"#{tid} is claimed by <@{ALICE}>; only they or an admin can close it"
    assert await desk.command(f"close {tid}", user=CAROL) == f"#{tid} is closed."


async def test_the_ack_budget_counts_from_the_requests_arrival() -> None:
    # The replay check's write (before the listener) may wait on a busy database: what it
    # spent comes off the listener's budget, so the acknowledgement still beats Slack's 3 s.
    now = asyncio.get_running_loop().time()
    assert ack_budget({}, 2.0) == 2.0  # Socket Mode: no replay check, the whole budget
    assert 0.5 < ack_budget({RECEIVED_AT: now - 1.0}, 2.0) <= 1.0
    assert ack_budget({RECEIVED_AT: now - 5.0}, 2.0) == 0.1  # late already: answer at once
