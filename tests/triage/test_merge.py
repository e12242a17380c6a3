"""How the core merges triage contributions: conditions, lists, auto-close and storms."""

from __future__ import annotations

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.ticket import TicketStatus
from socialdesk.core.triage import COMPLAINT_CATEGORIES, TriageContribution, merge_triage
from tests.conftest import mention
from tests.store_queries import jobs

C = TriageContribution


def test_language_condition_applies_only_to_that_language() -> None:
    french_rule = C(category="refund", category_confidence=0.9, reasons=("keyword 'remboursement'",),
                    when_language=("fr",))
    assert merge_triage([C(language="fr"), french_rule]).category == "refund"
    assert merge_triage([C(language="de"), french_rule]).category == "question"
    assert merge_triage([french_rule]).reasons == ()  # no language known: the French rule does not apply


def test_category_condition_sees_the_merged_category() -> None:
    negative = [C(sentiment="negative", sentiment_score=-0.8),
                C(escalate=1, reasons=("negative sentiment",), when_category=COMPLAINT_CATEGORIES)]
    complaint = merge_triage([C(category="refund", priority=2), *negative])
    assert (complaint.priority, complaint.reasons) == (1, ("negative sentiment",))
    praise = merge_triage([C(category="praise", priority=4), *negative])
    assert (praise.priority, praise.reasons, praise.sentiment) == (4, (), "negative")


def test_a_plugin_may_return_a_list_and_none_entries_are_ignored() -> None:
    result = merge_triage([[C(tags=("a",)), C(tags=("b",), reasons=("r",))], None, C(tags=("a", "c"))])
    assert result.tags == ("a", "b", "c") and result.reasons == ("r",)


def test_a_conditional_language_is_not_the_language() -> None:
    # Only unconditional contributions say what the language is: a rule for French cannot make it French.
    assert merge_triage([C(language="fr", when_language=("fr",))]).language is None


def test_auto_close_and_storm_are_carried_into_the_result() -> None:
    result = merge_triage([C(auto_close="pleasantry"), C(storm_key="s1", storm_title="down",
                                                         storm_members=(("x", "c1"),))])
    assert (result.auto_close, result.storm_key, result.storm_members) == ("pleasantry", "s1", (("x", "c1"),))
    assert merge_triage([C()]).auto_close is None


class Pleasantries:
    """A triage plugin that files a bare "thanks!" without a card."""

    @hookimpl
    def socialdesk_triage(self, mention):  # type: ignore[no-untyped-def]
        if mention.text.strip().lower().rstrip("!") == "thanks":
            return C(priority=4, auto_close="pleasantry", reasons=("pleasantry",))
        return None


async def test_auto_closed_mention_is_stored_closed_without_a_card(make_app) -> None:
    app = await make_app(extra=[PluginEntry("pleasantries", Pleasantries(), "test", True)])
    result = await app.service.ingest(mention("thx1", text="thanks!"))
    assert result.outcome == IngestOutcome.CREATED
    ticket = await app.service.get_ticket(result.ticket_id)
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.close_reason == "auto-closed: pleasantry" and ticket.closed_at is not None
    assert await jobs(app, JobKind.POST_CARD) == []
    kinds = [e.kind for e in await app.service.audit_trail(ticket.id)]
    assert kinds == ["created", "closed"]
    # Seen again (a poller's overlap): still one message, still no card.
    again = await app.service.ingest(mention("thx1", text="thanks!"))
    assert again.outcome == IngestOutcome.DUPLICATE and await jobs(app, JobKind.POST_CARD) == []


async def test_thanks_after_our_answer_does_not_wake_a_waiting_ticket(make_app) -> None:
    app = await make_app(extra=[PluginEntry("pleasantries", Pleasantries(), "test", True)])
    first = await app.service.ingest(mention("q1", conversation_id="conv-w", text="Where is my order?"))
    await _make_waiting(app, first.ticket_id)
    await app.service.ingest(mention("q2", conversation_id="conv-w", text="thanks!"))
    assert (await app.service.get_ticket(first.ticket_id)).status == TicketStatus.WAITING
    await app.service.ingest(mention("q3", conversation_id="conv-w", text="It still has not arrived"))
    assert (await app.service.get_ticket(first.ticket_id)).status == TicketStatus.OPEN


async def _make_waiting(app, ticket_id: int) -> None:  # type: ignore[no-untyped-def]
    from socialdesk.core.extensions import Actor
    from socialdesk.core.platform import SentReply

    agent = Actor("UAGENT")
    await app.service.claim(ticket_id, agent)
    reply = await app.service.reply(ticket_id, agent, "It is on its way")
    await app.service.begin_sending(reply.id)
    await app.service.record_sent(reply.id, SentReply("r1"))
    assert (await app.service.get_ticket(ticket_id)).status == TicketStatus.WAITING


def test_spam_sinks_to_the_lowest_priority_whatever_else_matched() -> None:
    result = merge_triage([C(category="account_security", priority=1, reasons=("keyword 'hacked'",)),
                           C(spam=True, priority=4, reasons=("scam pattern 'click here'",)), C(escalate=2)])
    assert (result.priority, result.spam) == (4, True)
    assert result.reasons == ("keyword 'hacked'", "scam pattern 'click here'")
    assert merge_triage([C(category="account_security", priority=1), C(spam=False)]).priority == 1


def test_capped_escalation_stops_at_its_cap_and_never_lowers():
    rule = TriageContribution(priority=3)
    capped = TriageContribution(escalate=2, escalate_limit=2, reasons=("12k followers",))
    assert merge_triage([rule, capped]).priority == 2  # 3 - 2 would be P1: stopped at P2
    assert merge_triage([TriageContribution(priority=1), capped]).priority == 1  # already above: kept
    # free steps apply first, then the capped ones; caps do not add up past each other
    free = TriageContribution(escalate=1, reasons=("VIP",))
    assert merge_triage([TriageContribution(priority=4), capped, free]).priority == 2
    assert merge_triage([TriageContribution(priority=4), free, free, capped]).priority == 2
    assert merge_triage([TriageContribution(priority=4), free, free, free, capped]).priority == 1
    # a capped step down is a step down; spam still sinks
    assert merge_triage([rule, TriageContribution(escalate=-1, escalate_limit=2)]).priority == 4
    assert merge_triage([rule, capped, TriageContribution(spam=True)]).priority == 4
