"""Answers: parsed, linked to the survey through a real ingest, filed without a new card."""

from __future__ import annotations

import pytest

from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.plugins.csat import plugin as csat
from socialdesk.plugins.csat.answer import SurveyAnswer, parse_answer
from socialdesk.plugins.csat.store import SurveyStatus, SurveyStore
from tests.conftest import mention
from tests.csat.conftest import closed_ticket
from tests.store_queries import OutboxJob, audit_kinds, count


@pytest.mark.parametrize(("text", "expected"), [
    ("5", SurveyAnswer(5, None)),
    ("1", SurveyAnswer(1, None)),
    ("5/5", SurveyAnswer(5, None)),
    ("4 / 5", SurveyAnswer(4, None)),
    ("3 out of 5", SurveyAnswer(3, None)),
    ("⭐⭐⭐⭐", SurveyAnswer(4, None)),
    ("⭐️⭐️⭐️ slow but fine", SurveyAnswer(3, "slow but fine")),
    ("★★", SurveyAnswer(2, None)),
    ("5 - great job", SurveyAnswer(5, "great job")),
    ("5 stars! thanks", SurveyAnswer(5, "thanks")),
    ("@acme 4", SurveyAnswer(4, None)),
    ("@acme @support 2: took too long", SurveyAnswer(2, "took too long")),
    ("<@123456> 5", SurveyAnswer(5, None)),
    ("I have 5 problems", None),
    ("2nd order missing", None),
    ("10/10", None),
    ("5/10", None),
    ("6", None),
    ("0", None),
    ("5.5", None),
    ("3,000 euros gone", None),
    ("⭐⭐⭐⭐⭐⭐", None),
    ("great", None),
    ("", None),
])
def test_answer_parsing(text, expected):
    assert parse_answer(text) == expected


async def sent_survey(app, clock, external_id="c1", author_id="u1") -> int:
    tid = await closed_ticket(app, external_id, author_id=author_id)
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    assert (await csat.store_for(app).survey_of(tid)).status == SurveyStatus.SENT
    return tid


async def test_answer_is_captured_and_linked_without_a_new_card(app, clock):
    tid = await sent_survey(app, clock)
    clock.advance(minutes=5)
    result = await app.service.ingest(mention("a1", conversation_id="conv-c1", text="5 - great job"))
    assert result.outcome == IngestOutcome.CREATED and result.ticket_id != tid
    answer_ticket = await app.service.get_ticket(result.ticket_id)
    assert answer_ticket.status == "closed" and "csat" in answer_ticket.tags
    assert answer_ticket.close_reason == "auto-closed: survey answer"
    assert await count(app, OutboxJob, OutboxJob.kind == JobKind.POST_CARD,
                       OutboxJob.ticket_id == result.ticket_id) == 0
    survey = await csat.store_for(app).survey_of(tid)
    assert (survey.status, survey.score, survey.comment, survey.answer_message_id) == (
        SurveyStatus.ANSWERED, 5, "great job", result.message_id)
    assert "csat_answered" in await audit_kinds(app, tid)
    # A second answer changes nothing; it is still filed without a card.
    again = await app.service.ingest(mention("a2", conversation_id="conv-c1", text="1"))
    assert (await app.service.get_ticket(again.ticket_id)).status != "closed"  # no sent survey left: a real mention
    assert (await csat.store_for(app).survey_of(tid)).score == 5


async def test_a_score_from_someone_else_is_an_ordinary_mention(app, clock):
    tid = await sent_survey(app, clock)
    result = await app.service.ingest(mention("a1", conversation_id="conv-c1", text="1", author_id="u2"))
    assert (await app.service.get_ticket(result.ticket_id)).status == "open"
    assert await count(app, OutboxJob, OutboxJob.kind == JobKind.POST_CARD, OutboxJob.ticket_id == result.ticket_id) == 1
    assert (await csat.store_for(app).survey_of(tid)).status == SurveyStatus.SENT


async def test_a_score_before_the_survey_was_sent_is_an_ordinary_mention(app, clock):
    tid = await closed_ticket(app, "c1")
    result = await app.service.ingest(mention("a1", conversation_id="conv-c1", text="5"))
    assert (await app.service.get_ticket(result.ticket_id)).status == "open"
    assert (await csat.store_for(app).survey_of(tid)).status == SurveyStatus.PENDING


async def test_text_that_is_not_a_score_opens_a_ticket(app, clock):
    await sent_survey(app, clock)
    result = await app.service.ingest(mention("a1", conversation_id="conv-c1", text="still broken, 5 days now"))
    assert (await app.service.get_ticket(result.ticket_id)).status == "open"


async def test_sweep_records_an_answer_the_observer_missed(app, clock, monkeypatch):
    tid = await sent_survey(app, clock)

    async def crash(self, message_id):
        raise RuntimeError("the desk died right after the commit")

    monkeypatch.setattr(SurveyStore, "inbound_message", crash)
    result = await app.service.ingest(mention("a1", conversation_id="conv-c1", text="⭐⭐⭐⭐"))
    monkeypatch.undo()
    assert (await csat.store_for(app).survey_of(tid)).status == SurveyStatus.SENT
    report = await csat.follow_up(app)
    assert report["answered"] == 1
    survey = await csat.store_for(app).survey_of(tid)
    assert (survey.score, survey.answer_message_id) == (4, result.message_id)
    # The cursor waits for young messages, then passes them; nothing is recorded twice.
    clock.advance(minutes=3)
    assert (await csat.follow_up(app))["answered"] == 0
    assert await app.cursors.get("csat", "answers") == str(result.message_id)


async def test_answered_survey_shows_on_the_card(app, clock):
    tid = await sent_survey(app, clock)
    await app.service.ingest(mention("a1", conversation_id="conv-c1", text="4 - quick, thanks"))
    fields = await app.hooks.card_fields(await app.service.get_ticket(tid))
    assert csat.CardField("CSAT", "4/5 — quick, thanks") in fields
