"""End to end on the Discord emulator with discord.py: the survey is a reply to the
customer, pinging nobody; the customer's reply to it is ingested after the ticket closed
(no mention of the bot needed) and filed without a card."""

from __future__ import annotations

import asyncio

from socialdesk.core.extensions import Actor
from socialdesk.plugins.csat import plugin as csat
from socialdesk.plugins.csat.store import SurveyStatus
from tests.discord_plugin.conftest import emulator, make_desk, make_emulator  # noqa: F401  (fixtures)

AGENT = Actor("U0AGENT1")


async def test_survey_and_answer_on_discord(make_desk, clock):  # noqa: F811
    desk = await make_desk(config={"plugins": {"csat": {"enabled": True, "platforms": ["discord"],
                                                        "question": "@everyone {name}, 1 to 5?"}}})
    await desk.start()
    emulator = desk.emulator
    support = emulator.channel_id("support")
    asked = emulator.post_message(support, "alice", "my order never arrived", mentions_bot=True)
    [stored] = await desk.until_inbound(1)
    tid = stored.ticket_id
    await desk.app.service.reply(tid, AGENT, "Sorry! It ships today.")
    await desk.drain()
    await desk.app.service.close(tid, AGENT)
    clock.advance(minutes=10)
    await desk.drain()
    await desk.drain()

    answer, survey_msg = desk.bot_messages(support)
    assert survey_msg["content"] == "@everyone Alice, 1 to 5?"
    assert survey_msg["message_reference"]["message_id"] == asked["id"]
    assert survey_msg["mention_everyone"] is False
    assert desk.posts(support)[-1]["body"]["allowed_mentions"] == {"parse": []}
    survey = await csat.store_for(desk.app).survey_of(tid)
    assert survey.status == SurveyStatus.SENT

    # The closed ticket's conversation is still followed because its survey awaits an answer.
    await desk.runtime.followed.refresh()
    clock.advance(minutes=1)
    emulator.post_message(support, "alice", "5 - great job", reply_to=int(survey_msg["id"]))
    inbound = await desk.until_inbound(2)
    answer_ticket = inbound[-1].ticket_id
    # The answer is recorded by the CREATED observer, which runs just after the message is stored.
    survey = await _settled(desk, tid)
    assert (survey.status, survey.score, survey.comment) == (SurveyStatus.ANSWERED, 5, "great job")
    assert (await desk.app.service.get_ticket(answer_ticket)).status == "closed"
    assert await desk.app.service.queue(platform="discord") == []
    assert len(await desk.jobs("post_card")) == 1
    await desk.drain()
    assert len(desk.bot_messages(support)) == 2  # the survey went out once


async def _settled(desk, ticket_id: int, attempts: int = 100):  # type: ignore[no-untyped-def]
    store = csat.store_for(desk.app)
    for _ in range(attempts):
        survey = await store.survey_of(ticket_id)
        if survey.status != SurveyStatus.SENT:
            return survey
        await asyncio.sleep(0.05)
    return survey
