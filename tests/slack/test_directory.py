"""Names typed into the unescaped slash command ("@alice", "@desk-oncall"), found through
``users.list`` and ``usergroups.list`` on the Slack emulator: paged, cached, shared by
simultaneous askers, ambiguous names refused, Slack's 429 answered without a guess."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.errors import DeskError
from socialdesk.core.slack.directory import SlackDirectory
from socialdesk.sandbox.slack import RateLimits, SlackEmulator
from socialdesk.sandbox.slack.workspace import DEMO_USERS, SlackUser
from tests.slack.conftest import ALICE, BOB, CAROL, ERIN, NO_STORMS, Desk, Ticking

INSTANT = {"admin_cache_seconds": 0}

TWINS = [SlackUser("U0TWIN0001", "sam", "Sam One"), SlackUser("U0TWIN0002", "sam.two", "Sam One"),
         SlackUser("U0GONE0001", "gone", "Gone Person", deleted=True),
         SlackUser("U0BOT00001", "helper", "Helper Bot", is_bot=True)]
# Enough people for users.list to answer in several pages of 200.
CROWD = [SlackUser(f"U0CROWD{n:04d}", f"member{n}", f"Member {n}") for n in range(450)]


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(rate_limits=RateLimits.off(), users=[*DEMO_USERS, *TWINS, *CROWD]) as emulator:
        yield emulator


def listings(slack: SlackEmulator) -> int:
    return sum(1 for c in slack.api_calls if c.method == "users.list")


def directory(slack: SlackEmulator, clock: Ticking) -> SlackDirectory:
    return SlackDirectory(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url), ttl=60, clock=clock)


async def test_a_name_is_found_by_username_display_or_full_name_across_pages(slack: SlackEmulator) -> None:
    found = directory(slack, Ticking())
    assert await found.one_user("@alice") == ALICE
    assert await found.one_user("@Bob Responder") == BOB  # the full name, any case
    assert await found.one_user("member449") == "U0CROWD0449"  # on the third page
    assert listings(slack) == 3  # 454 active members and the bot, 200 a page, read once
    assert await found.users_named("@gone") == frozenset() and await found.users_named("@helper") == frozenset()


async def test_nobody_or_several_by_that_name_is_a_clear_refusal(slack: SlackEmulator) -> None:
    found = directory(slack, Ticking())
    # What was typed is echoed escaped: a word joiner after "@" keeps it from forming a mention.
    with pytest.raises(DeskError, match="^No person in this workspace is called @\u2060nobody:"):
        await found.one_user("@nobody")
    with pytest.raises(DeskError, match="^2 are called @\u2060Sam One \\(<@U0TWIN0001>, <@U0TWIN0002>\\)"):
        await found.one_user("@Sam One")
    with pytest.raises(DeskError) as refused:
        await found.one_user("@<!channel>")
    assert "<!channel>" not in str(refused.value)  # what was typed is echoed escaped
    assert await found.one_user_or_group("@desk-oncall") == "S0ONCALL1"  # a group's handle


async def test_the_listing_is_shared_cached_and_kept_while_slack_says_wait(slack: SlackEmulator) -> None:
    clock = Ticking()
    found = directory(slack, clock)
    answers = await asyncio.gather(*(found.one_user("@alice") for _ in range(20)))
    assert set(answers) == {ALICE} and listings(slack) == 3  # one read of the three pages for all twenty
    clock.now += 30
    await found.one_user("@bob")
    assert listings(slack) == 3  # still fresh
    clock.now += 31
    slack.faults.set(rate_limited=1.0, only_paths=("/api/users.list",), retry_after_seconds=30)
    assert await found.one_user("@bob") == BOB  # Slack says wait: the last listing meanwhile
    # With no listing at all, a wait longer than the directory's patience is no guess either.
    slack.faults.set(retry_after_seconds=3600)
    with pytest.raises(DeskError, match="Slack would not list its members just now"):
        await directory(slack, clock).one_user("@bob")


async def test_a_first_listing_waits_out_slacks_429s_and_goes_on_from_the_same_page(slack: SlackEmulator) -> None:
    slack.faults.set(rate_limited=0.5, seed=7, only_paths=("/api/users.list",), retry_after_seconds=1)
    found = directory(slack, Ticking())
    assert await found.one_user("@member449") == "U0CROWD0449"
    assert slack.faults.counts.get("rate_limited", 0) >= 1  # the seed refuses some calls
    # The calls Slack answered: the three pages once each, in order; a refused page was asked
    # again with its own cursor, never from the start.
    cursors = [c.text("cursor") for c in slack.api_calls if c.method == "users.list"]
    assert len(cursors) == 3 and cursors[0] is None and None not in cursors[1:]


async def test_assign_and_agents_take_a_typed_name(start_desk) -> None:
    desk: Desk = await start_desk("http", desk=INSTANT, plugins=NO_STORMS)
    tid = await desk.mention()
    await desk.card(tid)
    assert await desk.command(f"assign {tid} @bob") == f"#{tid} is now assigned to <@{BOB}>."
    assert (await desk.app.service.get_ticket(tid)).assignee == BOB
    assert (await desk.command(f"assign {tid} @nobody")).startswith("No person in this workspace is called @\u2060nobody")
    assert await desk.command(f"assign {tid} @erin") == f"<@{ERIN}> is not a desk agent; assign it to an agent."
    assert await desk.command("agents add @erin", user=CAROL) == f"<@{ERIN}> is now an agent."
    # Refused before anything is looked up: only admins change the lists.
    before = sum(1 for c in desk.slack.api_calls if c.method == "users.list")
    assert (await desk.command("agents add @dana", user=ALICE)).startswith("Only desk admins")
    assert sum(1 for c in desk.slack.api_calls if c.method == "users.list") == before
