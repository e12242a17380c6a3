"""End to end on the X emulator with tweepy: the survey is a reply in the conversation,
the customer's answer arrives through the mentions timeline and is filed without a card."""

from __future__ import annotations

from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.csat import plugin as csat
from socialdesk.plugins.csat.store import SurveyStatus
from socialdesk.plugins.x.runtime import close_runtime
from tests.store_queries import OutboxJob, count
from tests.x_plugin.conftest import poll, x, x_secrets  # noqa: F401  (fixtures)

AGENT = Actor("U1")


async def test_survey_and_answer_on_x(make_app, x, x_secrets, cards, clock):  # noqa: F811
    desk = await make_app({"plugins": {"x": {"enabled": True, "api_base": x.base_url},
                                       "csat": {"enabled": True, "platforms": ["x"]}}},
                          extra=[PluginEntry("cards", cards, "test", True)], with_platform=False)
    try:
        question = x.post_as("dana", "@acme my order never arrived")
        await poll(desk)
        (ticket,) = await desk.service.queue(platform="x")
        await desk.service.reply(ticket.id, AGENT, "Sorry! It ships today.")
        await desk.outbox_runner().drain()
        await desk.service.close(ticket.id, AGENT)
        clock.advance(minutes=10)
        await desk.outbox_runner().drain()
        await desk.outbox_runner().drain()

        ours = x.replies_by("acme")
        assert [p["text"] for p in ours] == [
            "Sorry! It ships today.",
            "Thanks for contacting us, Dana Scully! How did we do? Reply with a number from 1 (bad) to 5 (great).",
        ]
        survey_post = ours[1]
        assert survey_post["conversation_id"] == question["conversation_id"]
        survey = await csat.store_for(desk).survey_of(ticket.id)
        assert survey.status == SurveyStatus.SENT and survey.platform_message_id == survey_post["id"]

        clock.advance(minutes=2)
        answer = x.post_as("dana", "@acme 4 - quick, thanks", in_reply_to=survey_post["id"])
        await poll(desk)
        survey = await csat.store_for(desk).survey_of(ticket.id)
        assert (survey.status, survey.score, survey.comment) == (SurveyStatus.ANSWERED, 4, "quick, thanks")
        message = await desk.service.get_message(survey.answer_message_id)
        assert message.external_id == answer["id"]
        assert await desk.service.queue(platform="x") == []  # no new card: the answer is filed closed
        assert await count(desk, OutboxJob, OutboxJob.kind == JobKind.POST_CARD) == 1
        await desk.outbox_runner().drain()
        assert len(x.replies_by("acme")) == 2  # the survey went out once
    finally:
        await close_runtime(desk)
