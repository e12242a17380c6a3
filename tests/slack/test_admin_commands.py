"""Admin commands kept in the database: ``/desk block|unblock``, ``macro add|remove`` and
``agents [add|remove]`` — refused to non-admins, usage for malformed input, audited, merged
with plugins.toml, seen by every replica."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.admin.lists import admin_lists
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks
from socialdesk.core.slack.permissions import ADMIN_REFUSAL
from socialdesk.core.store.models import AuditEvent, Ticket
from socialdesk.core.ticket import TicketStatus
from tests.conftest import mention
from tests.slack.conftest import ALICE, BOB, CAROL, ERIN, NO_STORMS, Desk

INSTANT = {"admin_cache_seconds": 0}


async def admin_audit(desk: Desk) -> list[tuple[str, str, dict]]:
    async with desk.app.database.sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(AuditEvent.ticket_id.is_(None)).order_by(AuditEvent.id))
        return [(r.kind, r.actor, dict(r.details)) for r in rows]


async def test_non_admins_are_refused_and_malformed_input_gets_usage(start_desk) -> None:
    desk = await start_desk("http")
    for text in ("block @spammer", "unblock @spammer", "macro add hi Hello!", "macro remove thanks",
                 "agents add <@U0OUTSIDE1>", "agents remove <@U0AGENT002>", "block list"):
        assert await desk.command(text, user=ALICE) == ADMIN_REFUSAL, text
    assert (await desk.command("block @spammer", user=ERIN)).startswith("Only desk agents can do that")
    assert await admin_audit(desk) == []
    for text, usage in (("block", "block @handle [platform]|list"), ("block @a b c", "block @handle [platform]|list"),
                        ("unblock", "unblock @handle [platform]"),
                        ("macro add onlyname", "macro list|show NAME|add NAME text|remove NAME"),
                        ("macro remove", "macro list|show NAME|add NAME text|remove NAME"),
                        ("agents add", "agents [add|remove @user|@group [admin]]"),
                        ("agents add bob", "agents [add|remove @user|@group [admin]]"),
                        ("agents add <@U0AGENT002> boss", "agents [add|remove @user|@group [admin]]")):
        assert (await desk.command(text, user=CAROL)).startswith(f"Usage: `/desk {usage}`"), text
    assert (await desk.command("block @x nowhere", user=CAROL)).startswith("No platform `nowhere` is enabled")
    assert await admin_audit(desk) == []


async def test_a_blocked_author_is_filed_closed_without_a_card_until_unblocked(start_desk) -> None:
    desk = await start_desk("http", desk=INSTANT, plugins=NO_STORMS)
    answer = await desk.command("block @Spammer42 testnet", user=CAROL)
    assert answer.startswith("Blocked @\u2060spammer42 on testnet")
    assert await desk.command("block @spammer42 testnet", user=CAROL) == "@\u2060spammer42 on testnet is already blocked."
    assert "@\u2060spammer42 on testnet" in await desk.command("block list", user=CAROL)

    blocked = await desk.mention("Buy cheap followers", handle="spammer42", author_id="s42")
    ticket = await desk.app.service.get_ticket(blocked)
    assert ticket.status == TicketStatus.CLOSED and ticket.spam_suspected
    assert "blocked author" in ticket.priority_reasons
    by_id = await desk.app.service.ingest(mention(text="again", handle="renamed", author_id="S42"))
    assert (await desk.app.service.get_ticket(by_id.ticket_id)).status == TicketStatus.OPEN  # handles, not ids, here
    other = await desk.mention("Where is my order?", handle="fine_customer")
    await desk.card(other)
    await desk.settled()
    assert (await desk.app.service.get_ticket(blocked)).card_ts is None

    assert await desk.command("unblock @spammer42 testnet", user=CAROL) == "Unblocked @\u2060spammer42 on testnet."
    again = await desk.mention("Please help, I was wrong", handle="spammer42", author_id="s42")
    assert (await desk.app.service.get_ticket(again)).status == TicketStatus.OPEN
    assert [(k, a) for k, a, _ in await admin_audit(desk)] == [("author_blocked", CAROL), ("author_unblocked", CAROL)]
    assert (await admin_audit(desk))[0][2] == {"platform": "testnet", "who": "spammer42"}


async def test_every_replica_sees_a_block(start_desk, make_app) -> None:
    desk = await start_desk("http", desk=INSTANT, plugins=NO_STORMS)
    replica = await make_app({"desk": INSTANT, "plugins": {"storms": {"enabled": False}}})
    await desk.command("block @everywhere", user=CAROL)  # no platform: every platform
    result = await replica.service.ingest(mention(text="hello", handle="Everywhere", author_id="e1"))
    async with replica.database.sessions() as session:
        assert (await session.get(Ticket, result.ticket_id)).status == TicketStatus.CLOSED
    assert await admin_lists(replica).blocklist.is_blocked("testnet", "@EVERYWHERE", "zzz")


async def test_macros_added_and_removed_without_a_restart(start_desk) -> None:
    desk = await start_desk("http", desk=INSTANT, plugins=NO_STORMS)
    assert await desk.command("macro add shipping Hi {author}, parcels leave within 2 days.", user=CAROL) == \
        "Macro `shipping` added; it is in the reply modal's macro list now."
    assert (await desk.command("macro add bad Hi {nobody}", user=CAROL)).startswith("Unknown variable(s) {nobody}")
    assert (await desk.command("macro add Bad! text", user=CAROL)).startswith("A macro name is lowercase")
    assert await desk.command("macro remove refund", user=CAROL) == "Macro `refund` removed."  # from plugins.toml
    assert await desk.command("macro remove refund", user=CAROL) == "No macro named `refund`; nothing was removed."
    listing = await desk.command("macro list", user=ALICE)
    assert "`shipping`" in listing and "`thanks`" in listing and "`refund`" not in listing
    assert (await desk.command("macro show shipping", user=ALICE)).startswith("*Macro `shipping`*")

    tid = await desk.mention()
    await desk.card(tid)
    await desk.click(tid, Actions.REPLY, user=ALICE)
    view = await desk.view(ALICE, Callbacks.REPLY)
    macro_block = next(b for b in view.blocks if b.get("block_id") == "macro")
    assert [o["value"] for o in macro_block["element"]["options"]] == ["shipping", "thanks"]
    kinds = [(k, d["name"]) for k, _, d in await admin_audit(desk)]
    assert kinds == [("macro_saved", "shipping"), ("macro_removed", "refund")]


async def test_agents_listed_added_and_removed(start_desk) -> None:
    desk = await start_desk("http", desk=INSTANT, plugins=NO_STORMS)
    listing = await desk.command("agents", user=ALICE)
    assert f"Agents: <@{ALICE}>, <@{BOB}>" in listing and f"Admins: <@{CAROL}>" in listing
    assert "Agent groups: <!subteam^S0RACERS01>" in listing

    tid = await desk.mention()
    await desk.card(tid)
    assert await desk.command(f"agents add <@{ERIN}|erin>", user=CAROL) == f"<@{ERIN}> is now an agent."
    assert await desk.command(f"agents add <@{ERIN}>", user=CAROL) == f"<@{ERIN}> is already an agent; nothing changed."
    assert await desk.command(f"claim {tid}", user=ERIN) == f"You have #{tid} now."
    assert await desk.command(f"agents remove <@{ERIN}>", user=CAROL) == f"<@{ERIN}> is no longer an agent."
    assert (await desk.command("queue", user=ERIN)).startswith("Only desk agents can do that")
    assert await desk.command(f"agents remove <@{BOB}>", user=CAROL) == f"<@{BOB}> is no longer an agent."
    assert f"<@{BOB}>" not in (await desk.command("agents", user=ALICE)).split("Admins")[0]
    assert await desk.command(f"agents add <@{ALICE}> admin", user=CAROL) == f"<@{ALICE}> is now an admin."
    assert (await desk.command("block @someone", user=ALICE)).startswith("Blocked")
    assert await desk.command(f"agents remove <@{CAROL}> admin", user=CAROL) == \
        "You cannot remove yourself as an admin; ask another admin."
    kinds = [(k, d["subject"], d["role"]) for k, _, d in await admin_audit(desk) if k.startswith("member")]
    assert kinds == [("member_added", ERIN, "agent"), ("member_removed", ERIN, "agent"),
                     ("member_removed", BOB, "agent"), ("member_added", ALICE, "admin")]
    assert (await desk.app.service.get_ticket(tid)).assignee == ERIN  # what they did stays done
