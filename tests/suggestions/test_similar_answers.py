"""Similar past answers (plugin ``suggestions``): which earlier answers a ticket is offered,
how they are made reusable and safe to show, and how the index follows the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, update

from socialdesk.core.extensions import Actor
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.store.models import CsatSurvey, PastAnswerVector, Reply
from socialdesk.core.ticket import TicketStatus
from socialdesk.plugins.suggestions import store
from socialdesk.plugins.suggestions.index import index_for
from socialdesk.plugins.suggestions import plugin as suggestions_plugin
from socialdesk.plugins.suggestions.lookup import PastAnswer, similar_answers, similar_answers_for
from socialdesk.plugins.suggestions.plugin import catch_up
from tests.conftest import mention
from tests.store_queries import count

AGENT = Actor("U0AGENT001")
NO_STORMS = {"plugins": {"storms": {"enabled": False}}}

REFUND_ANSWER = "Sorry about the lost parcel! We have refunded your order, it shows in 3-5 days."
ORDER_TALK = [
    ("My order never arrived and I want a refund", REFUND_ANSWER),
    ("my order never arrived, where is my refund??", "So sorry! Your refund for the missing order is on its way."),
    ("Order never arrived. Refund please", "Apologies, the refund for your order was issued today."),
]


async def answered(app, text: str, answer: str, *, handle: str = "customer", close: bool = True) -> int:  # type: ignore[no-untyped-def]
    """A ticket with ``text`` answered with ``answer`` (and closed, unless not ``close``)."""
    tid = (await app.service.ingest(mention(text=text, author_id=f"id-{handle}", handle=handle))).ticket_id
    await app.service.reply(tid, AGENT, answer, close_after=close)
    await app.outbox_runner().drain()
    return tid


async def desk(make_app, **plugins):  # type: ignore[no-untyped-def]
    return await make_app({"plugins": {**NO_STORMS["plugins"], **plugins}})


async def test_a_similar_follow_up_gets_the_three_most_similar_answered_and_closed_conversations(make_app) -> None:
    app = await desk(make_app)
    order_tickets = [await answered(app, text, answer) for text, answer in ORDER_TALK]
    unrelated = await answered(app, "Love the new dark mode in the app!", "Thank you, glad you like it!")
    still_open = await answered(app, "My order never arrived, refund me", "Looking into it now.", close=False)
    assert (await app.service.get_ticket(still_open)).status == TicketStatus.WAITING

    follow_up = (await app.service.ingest(mention(text="Hi, my order never arrived. Can I get a refund?"))).ticket_id
    answers = await similar_answers(app, follow_up)

    assert len(answers) == 3
    assert {a.ticket_id for a in answers} == set(order_tickets)  # not the open one, not the unrelated one
    assert all(isinstance(a, PastAnswer) for a in answers)
    assert [a.similarity for a in answers] == sorted((a.similarity for a in answers), reverse=True)
    assert all(0.2 <= a.similarity <= 1 for a in answers)
    best = next(a for a in answers if a.ticket_id == order_tickets[0])
    assert best.answer_text == REFUND_ANSWER and best.customer_text == ORDER_TALK[0][0]
    assert (best.ticket_ref, best.platform, best.csat, best.agent) == (f"#{order_tickets[0]}", "testnet", None,
                                                                       AGENT.user_id)
    assert unrelated not in {a.ticket_id for a in await similar_answers(app, follow_up, limit=5)}


async def test_an_answer_rated_1_or_2_edited_or_deleted_is_never_suggested(make_app) -> None:
    app = await desk(make_app)
    rated_low, edited, deleted, kept = [await answered(app, text, answer) for text, answer in
                                        [*ORDER_TALK, ("order never arrived, refund?", "Refund issued, sorry!")]]
    async with app.database.transaction() as session:
        now = app.clock()
        session.add(CsatSurvey(ticket_id=rated_low, platform="testnet", conversation_id="c", status="answered",
                               created_at=now, score=1))
        await session.execute(update(Reply).where(Reply.ticket_id == edited).values(status="edited"))
        await session.execute(update(Reply).where(Reply.ticket_id == deleted).values(status="deleted"))
    follow_up = (await app.service.ingest(mention(text="my order never arrived, I need a refund"))).ticket_id
    assert [a.ticket_id for a in await similar_answers(app, follow_up)] == [kept]

    async with app.database.transaction() as session:  # a 3 is good enough to be suggested
        await session.execute(update(CsatSurvey).where(CsatSurvey.ticket_id == rated_low).values(score=3))
    answers = await similar_answers(app, follow_up)
    assert {a.ticket_id for a in answers} == {kept, rated_low}
    assert next(a for a in answers if a.ticket_id == rated_low).csat == 3


async def test_the_old_customers_name_becomes_author_and_personal_data_is_masked(make_app) -> None:
    app = await desk(make_app)
    old = await answered(
        app, "My order never arrived, mail me at jo.smith@example.com or call +1 212 555 0143",
        "Hi @jo_smith, sorry jo_smith! We refunded your order. Write to jo.smith@example.com if it is late.",
        handle="jo_smith")
    follow_up = (await app.service.ingest(mention(text="my order never arrived, refund please", author_id="id-sam", handle="sam"))).ticket_id
    [answer] = await similar_answers(app, follow_up)
    assert answer.ticket_id == old
    assert answer.answer_text == ("Hi {author}, sorry {author}! We refunded your order. Write to [email hidden] if "
                                  "it is late.")
    assert answer.customer_text == "My order never arrived, mail me at [email hidden] or call [phone hidden]"


async def test_the_old_ticket_ref_becomes_a_variable(make_app) -> None:
    app = await desk(make_app)
    tid = (await app.service.ingest(mention(text="My order never arrived"))).ticket_id
    await app.service.reply(tid, AGENT, f"Refund issued for #{tid} (not #{tid}0).", close_after=True)
    await app.outbox_runner().drain()
    follow_up = (await app.service.ingest(mention(text="order never arrived"))).ticket_id
    [answer] = await similar_answers(app, follow_up)
    assert answer.answer_text == f"Refund issued for {{ticket}} (not #{tid}0)."


async def test_answers_are_suggested_within_the_same_language_only(make_app) -> None:
    app = await desk(make_app, language={"languages": ["en", "fr"]})
    english = await answered(app, "My order never arrived, I want a refund for the order",
                             "Sorry! Refund issued for your order.")
    french = await answered(app, "Ma commande n'est jamais arrivée, je veux un remboursement de la commande",
                            "Désolés ! Le remboursement de votre commande est fait.")
    assert (await app.service.get_ticket(english)).language == "en"
    assert (await app.service.get_ticket(french)).language == "fr"
    follow_fr = (await app.service.ingest(mention(text="Ma commande n'est jamais arrivée, remboursement svp"))).ticket_id
    follow_en = (await app.service.ingest(mention(text="my order never arrived, refund please"))).ticket_id
    assert [a.ticket_id for a in await similar_answers(app, follow_fr)] == [french]
    assert [a.ticket_id for a in await similar_answers(app, follow_en)] == [english]


async def test_the_index_reads_only_new_answers_when_a_ticket_closes(make_app, clock) -> None:
    app = await desk(make_app)
    for text, answer in ORDER_TALK[:2]:
        await answered(app, text, answer)
    follow_up = (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id
    index = index_for(app)
    assert len(await similar_answers(app, follow_up)) == 2 and len(index) == 2
    clock.advance(minutes=5)  # the rows settle: later reads start after them
    await similar_answers(app, follow_up)
    read_before = index.stats.rows_read

    third = await answered(app, *ORDER_TALK[2])  # closed: indexed by the CLOSED observer
    assert await count(app, PastAnswerVector) == 3
    answers = await similar_answers(app, follow_up)
    assert third in {a.ticket_id for a in answers} and len(index) == 3
    assert index.stats.rows_read - read_before == 1  # the new row only, not a rescan


async def test_every_replica_suggests_an_answer_closed_on_another(make_app) -> None:
    first, second = await desk(make_app), await desk(make_app)
    follow_up = (await first.service.ingest(mention(text="my order never arrived, refund?"))).ticket_id
    assert await similar_answers(second, follow_up) == []  # the second replica's index is read, empty
    tid = await answered(first, *ORDER_TALK[0])
    assert [a.ticket_id for a in await similar_answers(second, follow_up)] == [tid]


async def test_a_reopened_conversation_is_not_suggested_until_closed_again(make_app) -> None:
    app = await desk(make_app)
    tid = await answered(app, *ORDER_TALK[0])
    await app.service.reopen(tid, AGENT)
    follow_up = (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id
    assert await similar_answers(app, follow_up) == []
    await app.service.close(tid, AGENT)
    assert [a.ticket_id for a in await similar_answers(app, follow_up)] == [tid]
    # the reopened ticket itself is never offered its own earlier answer
    await app.service.reopen(tid, AGENT)
    assert await similar_answers(app, tid) == []


async def test_the_sweep_indexes_a_close_whose_event_was_lost(make_app) -> None:
    app = await desk(make_app)
    tid = await answered(app, *ORDER_TALK[0])
    async with app.database.transaction() as session:  # as if the process died before the observer ran
        await session.execute(delete(PastAnswerVector))
    assert await store.closed_unindexed(app.database, app.clock().replace(year=2000), 10) == [tid]
    assert (await catch_up(app))["indexed"] == 1
    assert (await catch_up(app))["indexed"] == 0  # once
    follow_up = (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id
    assert [a.ticket_id for a in await similar_answers(app, follow_up)] == [tid]


async def test_weak_matches_are_not_shown_and_the_plugin_can_be_turned_off(make_app) -> None:
    app = await desk(make_app, suggestions={"min_similarity": 0.9})
    await answered(app, *ORDER_TALK[0])
    follow_up = (await app.service.ingest(mention(text="where is my refund"))).ticket_id
    assert await similar_answers(app, follow_up) == []
    off = await desk(make_app, suggestions={"enabled": False})
    assert await similar_answers(off, follow_up) == []
    assert await off.hooks.past_answers(await off.service.get_ticket(follow_up), 3) == []


async def test_a_conversation_retention_redacted_is_forgotten(make_app, clock) -> None:
    from socialdesk.plugins.retention import redact_closed

    app = await desk(make_app)
    tid = await answered(app, *ORDER_TALK[0])
    clock.advance(days=3)
    assert await redact_closed(app.database, app.clock(), 2, 100, 1) == [tid]
    follow_up = (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id
    assert await similar_answers(app, follow_up) == []
    assert (await catch_up(app)) == {"indexed": 0, "forgotten": 1}  # its words are deleted, never indexed again
    assert await count(app, PastAnswerVector) == 0
    assert (await catch_up(app)) == {"indexed": 0, "forgotten": 0}


class BrokenSuggestions:
    @hookimpl
    async def socialdesk_past_answers(self, ticket, limit):  # type: ignore[no-untyped-def]
        raise RuntimeError("index unavailable")


async def test_a_failing_plugin_leaves_the_others_answers(make_app) -> None:
    app = await make_app({"plugins": NO_STORMS["plugins"]}, extra=[PluginEntry("broken", BrokenSuggestions(), "test",
                                                                               True)])
    tid = await answered(app, *ORDER_TALK[0])
    follow_up = await app.service.get_ticket(
        (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id)
    assert [a.ticket_id for a in await app.hooks.past_answers(follow_up, 3)] == [tid]


async def test_a_lookup_past_its_budget_returns_nothing_and_finishes_for_the_next_form(make_app,
                                                                                      monkeypatch) -> None:
    app = await desk(make_app, suggestions={"lookup_budget_seconds": 0.05})
    tid = await answered(app, *ORDER_TALK[0])
    follow_up = await app.service.get_ticket(
        (await app.service.ingest(mention(text="order never arrived, refund"))).ticket_id)
    release, finished = asyncio.Event(), asyncio.Event()

    async def held(app_, ticket, limit):  # type: ignore[no-untyped-def]
        await release.wait()  # the index is still loading
        try:
            return await similar_answers_for(app_, ticket, limit)
        finally:
            finished.set()

    monkeypatch.setattr(suggestions_plugin, "similar_answers_for", held)
    assert await app.hooks.past_answers(follow_up, 3) == []  # the form does not wait
    release.set()
    await asyncio.wait_for(finished.wait(), 30)  # the lookup went on in the background...
    assert len(index_for(app)) == 1  # ...and read the index for the next form
    assert [a.ticket_id for a in await similar_answers(app, follow_up.id)] == [tid]
