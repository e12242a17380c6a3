"""Only agents (by user id or user group) and admins may act; anyone else is refused
ephemerally, for every command and every button, and nothing changes."""

from __future__ import annotations

import asyncio

from socialdesk.core.extensions import Actor
from socialdesk.core.platform import PermanentPlatformError
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.runtime import runtime_for
from tests.slack.conftest import ALICE, BOB, CAROL, CHANNEL, ERIN, ONCALL, RACERS, Desk, eventually
from tests.store_queries import AuditEvent, OutboxJob, Reply, count

COMMANDS = ["", "help", "queue", "mine", "claim {t}", "unclaim {t}", "assign {t} <@U0AGENT002>", "reply {t} hi",
            "note {t} psst", "snooze {t} 2h", "close {t}", "reopen {c}", "spam {t}", "macro list",
            "macro show thanks", "stats", "history @customer", "no-such-thing"]


async def snapshot(desk: Desk) -> tuple[int, int, int, list[tuple[str, int]]]:
    cards = [(m.ts, len(m.history)) for m in desk.slack.timeline(CHANNEL)]
    return (await count(desk.app, AuditEvent), await count(desk.app, Reply), await count(desk.app, OutboxJob), cards)


async def test_a_non_agent_is_refused_for_every_command_and_button(start_desk) -> None:
    desk = await start_desk("http")
    held = await desk.mention("held by Alice")
    closed = await desk.mention("closed one")
    failed = await desk.mention("its reply failed")
    await desk.app.service.claim(held, Actor(ALICE))
    await desk.app.service.close(closed, Actor(ALICE))
    desk.platform.script.append(PermanentPlatformError("status is a duplicate"))
    await desk.app.service.reply(failed, Actor(ALICE), "Hello!")
    for tid in (held, closed, failed):
        await desk.card(tid)
    await desk.settled()
    failed_reply = (await desk.app.service.replies_of(failed))[0].id
    before = await snapshot(desk)

    for text in COMMANDS:
        delivery = await desk.driver.slash_command("/desk", text.format(t=held, c=closed), user=ERIN, channel=CHANNEL)
        assert delivery.acked
    clicks = [(held, Actions.CLAIM), (held, Actions.REPLY), (held, Actions.NOTE), (held, Actions.SNOOZE),
              (held, Actions.CLOSE), (closed, Actions.REOPEN), (closed, Actions.NOTE),
              (failed, Actions.RESEND), (failed, Actions.DISCARD)]
    for tid, action in clicks:
        await desk.click(tid, action, user=ERIN)
    overflow = [f"assign:{held}", f"unclaim:{held}", f"triage:{held}", f"spam:{held}"]
    for value in overflow:
        await desk.choose_in_overflow(held, value, user=ERIN)
    expected = len(COMMANDS) + len(clicks) + len(overflow)
    answers = await desk.told(ERIN, expected)
    assert len(answers) == expected
    assert all(a.startswith("Only desk agents can do that") for a in answers), answers
    await asyncio.sleep(0.3)
    assert await snapshot(desk) == before
    assert [v for v in desk.slack.views if v.user == ERIN] == []
    assert (await desk.app.service.get_reply(failed_reply)).status == "failed"


async def test_agents_by_user_group_and_the_group_lookup_is_cached(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    for user in RACERS[:5]:
        await desk.command("mine", user=user)
    lookups = [c for c in desk.slack.api_calls if c.method == "usergroups.users.list"]
    assert len(lookups) == 1  # five agents, one call: Slack allows ~20 a minute
    runtime_for(desk.app).permissions.forget()
    assert (await desk.command("mine", user=RACERS[0])) == "You hold no open tickets."
    assert len([c for c in desk.slack.api_calls if c.method == "usergroups.users.list"]) == 2


async def test_admins_by_group_may_act_on_tickets_others_hold(start_desk) -> None:
    desk = await start_desk("http", desk={"admins": [], "admin_groups": [ONCALL], "agents": [ALICE, CAROL]})
    tid = await desk.mention()
    await desk.card(tid)
    await desk.app.service.claim(tid, Actor(CAROL))
    # Alice is an agent here, and in the on-call group: so an admin
    answer = await desk.command(f"unclaim {tid}", user=ALICE)
    assert answer == f"You let go of #{tid}; it is back in the queue."
    await desk.app.service.claim(tid, Actor(ALICE))
    refused = await desk.command(f"unclaim {tid}", user=CAROL)  # Carol is only an agent now
    assert refused == f"#{tid} is claimed by <@{ALICE}>; only they or an admin can unclaim it"
    # Bob is not in desk.agents, but the on-call group makes him an admin, and admins may act
    assert await desk.command("mine", user=BOB) == "You hold no open tickets."


async def test_a_failed_group_lookup_refuses_rather_than_allows(start_desk) -> None:
    desk = await start_desk("http")
    tid = await desk.mention()
    await desk.card(tid)
    desk.slack.faults.set(server_error=1.0, only_paths=("/api/usergroups.users.list",))
    await desk.click(tid, Actions.CLAIM, user=RACERS[0])
    await eventually(lambda: desk.ephemerals(RACERS[0]))
    assert desk.ephemerals(RACERS[0])[0].startswith("Only desk agents")
    assert (await desk.app.service.get_ticket(tid)).assignee is None
