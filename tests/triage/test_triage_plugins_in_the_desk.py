"""The default triage plugins inside a desk: reasons on the stored ticket, auto-close on
ingest, and every plugin can be switched off in plugins.toml or replaced by another."""

from __future__ import annotations

import pytest

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.ticket import TicketStatus
from socialdesk.core.triage import TriageContribution
from tests.conftest import mention
from tests.store_queries import jobs

OURS = ("sentiment", "language", "noise", "author_weight")
ANGRY_REFUND = "@acme I want a REFUND now, this is the worst, most disgusting service ever 😡"


async def _ticket(app, m):
    return await app.service.get_ticket((await app.service.ingest(m)).ticket_id)


async def test_the_card_reasons_explain_the_priority(make_app):
    app = await make_app()
    ticket = await _ticket(app, mention(text=ANGRY_REFUND, followers=12_345))
    # refund proposes 2; negative sentiment and 12k followers would each raise it, but
    # neither may make a P1 (page on-call) by itself: P2, with every reason shown
    assert (ticket.priority, ticket.category, ticket.sentiment, ticket.language) == (2, "refund", "negative", "en")
    assert set(ticket.priority_reasons) == {"keyword 'refund'", "negative sentiment", "12k followers"}
    vip = await make_app({"plugins": {"author_weight": {"vips": ["testnet:bigco"]}}})
    assert (await _ticket(vip, mention(text=ANGRY_REFUND, handle="bigco"))).priority == 1  # a VIP does page
    assert {"refund", "lang:en"} <= set(ticket.tags)
    audit = await app.service.audit_trail(ticket.id)
    assert set(audit[0].details["reasons"]) == set(ticket.priority_reasons)


async def test_per_language_rules_through_the_desk(make_app):
    app = await make_app({"plugins": {"language": {"languages": ["en", "fr", "de"]}}})
    ticket = await _ticket(app, mention(text="@acme le site est en panne depuis ce matin"))
    assert (ticket.language, ticket.category, ticket.priority) == ("fr", "outage", 1)
    assert "keyword 'panne'" in ticket.priority_reasons and "lang:fr" in ticket.tags


async def test_spam_is_flagged_and_a_blocked_author_filed_closed_without_a_card(make_app):
    app = await make_app({"plugins": {"noise": {"blocked_authors": ["testnet:troll"]}}})
    spam = await _ticket(app, mention(text="FREE GIFT giveaway, click here https://bit.ly/a https://bit.ly/b"))
    assert (spam.spam_suspected, spam.priority, spam.status) == (True, 4, TicketStatus.OPEN)
    assert "promotion pattern 'free gift'" in spam.priority_reasons

    created = await app.service.ingest(mention(text="my order is late", handle="troll"))
    blocked = await app.service.get_ticket(created.ticket_id)
    assert (blocked.status, blocked.spam_suspected, blocked.priority_reasons) == (
        TicketStatus.CLOSED, True, ("blocked author",))
    assert [j for j in await jobs(app) if j.ticket_id == created.ticket_id and j.kind == JobKind.POST_CARD] == []


async def test_a_pleasantry_is_low_priority_and_may_be_closed(make_app):
    app = await make_app()
    ticket = await _ticket(app, mention(text="thanks so much! 🙏"))
    assert (ticket.priority, ticket.status) == (4, TicketStatus.OPEN)
    assert "pleasantry" in ticket.priority_reasons

    closing = await make_app({"plugins": {"noise": {"auto_close_pleasantries": True}}})
    created = await closing.service.ingest(mention(text="thank you!"))
    assert created.outcome == IngestOutcome.CREATED
    assert (await closing.service.get_ticket(created.ticket_id)).status == TicketStatus.CLOSED
    assert [j for j in await jobs(closing) if j.ticket_id == created.ticket_id and j.kind == JobKind.POST_CARD] == []


# --- off in plugins.toml ----------------------------------------------------------------------


@pytest.mark.parametrize(("plugin", "gone"), [
    ("sentiment", "negative sentiment"), ("author_weight", "12k followers"), ("language", "lang:en"),
    ("noise", "promotion pattern 'click here'"),
])
async def test_each_plugin_can_be_switched_off(make_app, plugin, gone):
    text = ANGRY_REFUND + " click here"
    on = await make_app()
    ticket = await _ticket(on, mention(text=text, followers=12_345))
    assert gone in ticket.priority_reasons + ticket.tags

    off = await make_app({"plugins": {plugin: {"enabled": False}}})
    assert off.pm.get_plugin(plugin) is None
    ticket = await _ticket(off, mention(text=text, followers=12_345))
    assert gone not in ticket.priority_reasons + ticket.tags
    assert "keyword 'refund'" in ticket.priority_reasons  # the others still speak


async def test_everything_off_leaves_the_default_verdict(make_app):
    app = await make_app({"plugins": {p: {"enabled": False} for p in (*OURS, "keyword_triage")}})
    ticket = await _ticket(app, mention(text=ANGRY_REFUND, followers=10**6))
    assert (ticket.priority, ticket.category, ticket.sentiment, ticket.language, ticket.spam_suspected) == (
        3, "question", None, None, False)


# --- replaced by a third-party plugin of the same kind ---------------------------------------------


class GrumpyMeter:
    """A team's own sentiment model: everything is negative, and complaints go up two steps."""

    @hookimpl
    def socialdesk_triage(self, mention, app):
        return [TriageContribution(sentiment="negative", sentiment_score=-1.0),
                TriageContribution(escalate=2, reasons=("grumpy meter",), when_category=("refund",))]


class AlwaysGerman:
    @hookimpl
    def socialdesk_triage(self, mention, app):
        return TriageContribution(language="de", tags=("sprache:de",))


class OwnSpamFilter:
    @hookimpl
    async def socialdesk_triage(self, mention, app):
        if "crypto" in mention.text:
            return TriageContribution(spam=True, priority=4, reasons=("own spam filter",))
        return None


class FollowerCount:
    @hookimpl
    def socialdesk_triage(self, mention, app):
        return TriageContribution(escalate=3, reasons=("celebrity",)) if (mention.author.followers or 0) > 5 else None


@pytest.mark.parametrize(("plugin", "replacement", "text", "expected"), [
    ("sentiment", GrumpyMeter(), "I'd like a refund please, lovely day", {"sentiment": "negative", "priority": 1,
                                                                          "reason": "grumpy meter"}),
    ("language", AlwaysGerman(), "the app is down", {"language": "de", "tag": "sprache:de"}),
    ("noise", OwnSpamFilter(), "buy crypto", {"spam": True, "reason": "own spam filter"}),
    ("author_weight", FollowerCount(), "hello there", {"priority": 1, "reason": "celebrity"}),
])
async def test_each_plugin_can_be_replaced(make_app, plugin, replacement, text, expected):
    app = await make_app({"plugins": {plugin: {"enabled": False}}},
                         extra=[PluginEntry(f"my_{plugin}", replacement, "test", True)])
    ticket = await _ticket(app, mention(text=text))
    if "sentiment" in expected:
        assert ticket.sentiment == expected["sentiment"]
    if "language" in expected:
        assert ticket.language == expected["language"] and expected["tag"] in ticket.tags
        assert not any(t.startswith("lang:") for t in ticket.tags)
    if "spam" in expected:
        assert ticket.spam_suspected is expected["spam"]
    if "priority" in expected:
        assert ticket.priority == expected["priority"]
    assert expected.get("reason", ticket.priority_reasons[0] if ticket.priority_reasons else "") in (
        ticket.priority_reasons or ("",))
