"""The triage card's content, built from a ticket's details (and one posted through Slack
with a plugin's fields on it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

from socialdesk.core.extensions import CardField
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.slack.card import Actions, build_card
from socialdesk.core.ticket import TicketSnapshot
from socialdesk.core.store.ticket_queries import AuthorSnapshot, LatestReply, MessageSnapshot, TicketDetails
from socialdesk.sandbox.slack import validate_message_blocks
from tests.slack.conftest import CHANNEL, ONCALL, desk_config, start_running, stop_running, Desk
from tests.slack.inert import message_problems

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def details(**ticket_changes: object) -> TicketDetails:
    ticket = TicketSnapshot(
        id=42, platform="testnet", conversation_id="c", status="open", priority=2, category="billing",
        tags=("billing", "vip"), sentiment="negative", language="en", spam_suspected=False,
        priority_reasons=("keyword 'charged'",), suggested_macro=None, assignee=None, author_id=1,
        first_response_due=CREATED + timedelta(minutes=42), resolution_due=None, first_response_at=None,
        snoozed_until=None, closed_at=None, close_reason=None, card_channel=None, card_ts=None,
        created_at=CREATED, updated_at=CREATED, version=1)
    ticket = dataclasses.replace(ticket, **ticket_changes)  # type: ignore[arg-type]
    author = AuthorSnapshot(1, "testnet", "a1", "jo", "Jo Customer", 12345, True, "https://testnet.example/u/jo")
    opening = MessageSnapshot(7, 42, "testnet", "p1", "inbound", 1, None, "I was charged twice!",
                              "https://testnet.example/p/p1", True, CREATED)
    return TicketDetails(ticket, author, opening, None, 1, 0, None, 0)


def render(d: TicketDetails, **kwargs: object) -> tuple[str, str, list[dict]]:
    card = build_card(d, fields=kwargs.pop("fields", []), now=NOW, preview_chars=kwargs.pop("preview", 1200),
                      oncall_group=kwargs.pop("oncall", None))  # type: ignore[arg-type]
    blocks = card.blocks_json()
    assert validate_message_blocks(blocks) == []
    return card.text, json.dumps(blocks, ensure_ascii=False), blocks


def test_everything_issue_four_asks_for_is_on_the_card() -> None:
    text, shown, blocks = render(details())
    assert text == "[P2] testnet #42 from @\u2060jo: I was charged twice!"
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "🟠 P2 · testnet · #42", "emoji": True}}
    for expected in ("*Jo Customer*", "<https://testnet.example/u/jo|@\u2060jo>", "12,345 followers", "verified",
                     "I was charged twice!", "<https://testnet.example/p/p1|Open on testnet>",
                     "*Priority*\\nP2 high", "*Category*\\nbilling", "*Sentiment*\\nnegative", "*Language*\\nen",
                     "*Tags*\\nbilling, vip", "*Why P2*\\nkeyword 'charged'",
                     "First response due in 12 min (by <!date^", "🟢 Open — unclaimed"):
        assert expected in shown, expected
    actions = [e.get("action_id") for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Actions.CLAIM, Actions.REPLY, Actions.NOTE, Actions.SNOOZE, Actions.CLOSE, Actions.MORE]
    overflow = next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "overflow")
    assert [o["value"] for o in overflow["options"]] == ["assign:42", "triage:42", "spam:42", "history:42"]


def test_the_sla_clock() -> None:
    assert "*First response overdue by 18 min*" in render(details(first_response_due=CREATED + timedelta(minutes=12)))[1]
    answered = details(first_response_at=CREATED + timedelta(minutes=7), status="waiting")
    assert "First response after 7 min" in render(answered)[1]
    assert "Waiting 30 min (no SLA set)" in render(details(first_response_due=None))[1]
    due = details(resolution_due=CREATED + timedelta(hours=4))
    assert "resolution due in 3 h 30 min" in render(due)[1]


def test_status_lines() -> None:
    assert "🙋 Claimed by <@U0AGENT001>" in render(details(assignee="U0AGENT001"))[1]
    snoozed = render(details(status="snoozed", snoozed_until=NOW + timedelta(hours=2), assignee="U1"))[1]
    assert "😴 Snoozed until <!date^" in snoozed and "held by <@U1>" in snoozed
    assert "💬 Replied — waiting for the customer" in render(details(status="waiting"))[1]
    closed = dataclasses.replace(details(status="closed", closed_at=NOW, close_reason="dup *of* #41"),
                                 closed_by="U0AGENT002")
    shown = render(closed)[1]
    assert "✅ Closed by <@U0AGENT002> <!date^" in shown and "dup ∗of∗ #\u206041" in shown
    actions = [e["action_id"] for b in render(closed)[2] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Actions.REOPEN, Actions.NOTE, Actions.MORE]  # the overflow: History…
    spam = dataclasses.replace(details(status="spam"), closed_by="U0AGENT002")
    assert "🚫 Marked as spam by <@U0AGENT002>" in render(spam)[1]


def test_replies_on_the_card() -> None:
    def with_reply(status: str, **extra: object) -> str:
        reply = LatestReply(**{"id": 5, "text": "We *refunded* you", "agent": "U1", "status": status,
                               "platform_url": None, "error": None, **extra})  # type: ignore[arg-type]
        return render(dataclasses.replace(details(), latest_reply=reply))[1]

    assert "⏳ <@U1>'s reply is being sent: “We ∗refunded∗ you”" in with_reply("pending")
    sent = with_reply("sent", platform_url="https://testnet.example/p/99")
    assert "↩️ <@U1> replied: “We ∗refunded∗ you” · <https://testnet.example/p/99|view it>" in sent
    failed = with_reply("failed", error="<!here> rejected")
    assert "reply failed:* &lt;!\u2060here&gt; rejected" in failed
    assert Actions.RESEND in failed and Actions.DISCARD in failed
    uncertain = with_reply("uncertain", error="timeout")
    assert "may or may not have been posted" in uncertain and Actions.RESEND in uncertain
    assert "reply" not in with_reply("discarded").split("🟢 Open — unclaimed")[1].split("desk.claim")[0]


def test_long_messages_are_cut_with_a_link_to_the_original() -> None:
    d = details()
    long = dataclasses.replace(d, opening=dataclasses.replace(d.opening, text="wordy " * 1000 + "end"))  # type: ignore[arg-type]
    _, shown, blocks = render(long, preview=300)
    body = blocks[2]["text"]["text"]
    assert len(body) <= 300 and body.endswith("…")
    assert "shortened: 6,003 characters in all, <https://testnet.example/p/p1|read it there>" in shown


def test_p1_pages_on_call_and_plugin_fields_are_escaped() -> None:
    fields = [CardField("CSAT <!here>", "*4/5* <https://evil|x>")] + [CardField(f"F{n}", "v") for n in range(10)]
    text, shown, blocks = render(details(priority=1), oncall=ONCALL, fields=fields)
    assert text.startswith(f"<!subteam^{ONCALL}> [P1]")
    assert f"<!subteam^{ONCALL}> 🔴 P1 urgent: someone please pick this up" in shown
    sections = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 7]  # Slack allows 10 fields per section
    assert message_problems(text, blocks, allowed=(f"<!subteam^{ONCALL}>",)) == []
    assert "∗4/5∗ &lt;https://evil|x&gt;" in shown


class CsatPlugin:
    @hookimpl
    def socialdesk_card_fields(self, ticket: TicketSnapshot) -> list[CardField]:
        return [CardField("CSAT", f"last score for {ticket.ref}: 5/5")]


async def test_plugin_fields_on_a_posted_card(start_desk, make_app, platform) -> None:
    base = await start_desk("http", start=False)
    config = desk_config(base.slack, "http")
    config["plugins"]["csat"] = {"enabled": True}
    app = await make_app(config, extra=[PluginEntry("csat", CsatPlugin(), "test", True),
                                        PluginEntry("testnet", platform, "test", True)], with_platform=False)
    desk = Desk(app, base.slack, base.driver, platform, "http")
    await start_running(desk)
    try:
        tid = await desk.mention()
        card = await desk.card(tid)
        assert f"*CSAT*\\nlast score for #\u2060{tid}: 5/5" in desk.card_text(card)  # escaped, as all plugin text
        assert card.channel == CHANNEL
    finally:
        await stop_running(desk)
