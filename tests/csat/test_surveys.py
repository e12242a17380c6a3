"""Surveys: created once per agent close (event, sweep, racing replicas), sent at most once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from socialdesk.core.store.models import CsatSurvey
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.triage import TriageContribution
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.plugins.csat import plugin as csat
from socialdesk.plugins.csat.store import SEND_CSAT, SurveyStatus
from tests.conftest import mention
from tests.csat.conftest import AGENT, answered_ticket, closed_ticket
from tests.platform_double import PLATFORM
from tests.store_queries import audit_kinds, count, jobs
from tests.test_metrics import sample


async def survey_of(app, tid):
    return await csat.store_for(app).survey_of(tid)


async def test_survey_scheduled_at_close_and_sent_once_after_the_delay(app, clock, surveys):
    tid = await closed_ticket(app, "c1")
    closed_at = clock.now
    survey = await survey_of(app, tid)
    assert survey.status == SurveyStatus.PENDING and survey.author_external_id == "u1"
    [job] = await jobs(app, SEND_CSAT)
    assert job.dedupe_key == f"csat:{tid}" and job.not_before == closed_at + timedelta(minutes=10)

    await app.outbox_runner().drain()
    assert surveys.sent == []  # not before the delay
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    await app.outbox_runner().drain()
    assert await csat.follow_up(app) == {"created": 0, "cancelled": 0, "answered": 0, "expired": 0}
    [sent] = surveys.sent
    assert sent.ticket_id == tid and sent.in_reply_to_id == "c1" and sent.conversation_id == "conv-c1"
    assert sent.text.startswith("Thanks for contacting us, customer! How did we do?")
    survey = await survey_of(app, tid)
    assert survey.status == SurveyStatus.SENT and survey.sent_at == clock.now and survey.platform_message_id
    assert "csat_sent" in await audit_kinds(app, tid)
    assert await count(app, CsatSurvey) == 1


async def test_question_template_uses_the_display_name_without_mentions(make_csat_app, clock, surveys):
    app = await make_csat_app(question="Hi {name}, rate us 1-5", delay="0m")
    m = mention("c1")
    m = m.__class__(**{**{f: getattr(m, f) for f in m.__dataclass_fields__},
                       "author": m.author.__class__(platform=m.platform, external_id="u1", handle="h",
                                                   display_name="@everyone <!channel>")})
    tid = (await app.service.ingest(m)).ticket_id
    await app.service.reply(tid, AGENT, "done")
    await app.outbox_runner().drain()
    await app.service.close(tid, AGENT)
    await app.outbox_runner().drain()
    assert surveys.sent[0].text == "Hi everyone !channel, rate us 1-5"


async def test_sweep_creates_the_survey_the_event_missed(make_csat_app, surveys):
    plain = await make_csat_app(enabled=False)  # a replica without csat closes the ticket
    tid = await closed_ticket(plain)
    with_csat = await make_csat_app()
    assert await survey_of(with_csat, tid) is None
    report = await csat.follow_up(with_csat)
    assert report["created"] == 1
    assert (await survey_of(with_csat, tid)).status == SurveyStatus.PENDING
    assert (await csat.follow_up(with_csat))["created"] == 0
    assert len(await jobs(with_csat, SEND_CSAT)) == 1


async def test_two_replicas_racing_create_one_survey_and_one_job(make_csat_app, surveys, clock):
    plain = await make_csat_app(enabled=False)
    tids = [await closed_ticket(plain) for _ in range(3)]
    a, b = await make_csat_app(), await make_csat_app()
    store_a, store_b = csat.store_for(a), csat.store_for(b)
    settings = a.settings("csat")
    results = await asyncio.gather(csat.follow_up(a), csat.follow_up(b),
                                   *(s.create(t, settings, clock.now) for t in tids for s in (store_a, store_b)))
    created = results[0]["created"] + results[1]["created"] + sum(results[2:])
    assert created == 3, results
    assert await count(a, CsatSurvey) == 3
    assert len(await jobs(a, SEND_CSAT)) == 3
    clock.advance(minutes=10)
    await asyncio.gather(a.outbox_runner().drain(), b.outbox_runner().drain())
    assert sorted(r.ticket_id for r in surveys.sent) == sorted(tids)


async def test_no_survey_when_csat_is_off(make_csat_app, surveys, clock):
    app = await make_csat_app(enabled=False)
    await closed_ticket(app)
    clock.advance(hours=1)
    await app.outbox_runner().drain()
    assert await count(app, CsatSurvey) == 0 and surveys.sent == []


async def test_no_survey_without_a_sent_reply(app, surveys):
    tid = (await app.service.ingest(mention())).ticket_id
    await app.service.close(tid, AGENT)
    assert await survey_of(app, tid) is None
    assert (await csat.follow_up(app))["created"] == 0


async def test_no_survey_for_spam(app):
    tid = await answered_ticket(app)
    await app.service.mark_spam(tid, AGENT)
    await csat.follow_up(app)
    assert await survey_of(app, tid) is None


class AutoCloser:
    @hookimpl
    def socialdesk_triage(self, mention):
        return TriageContribution(auto_close="pleasantry") if mention.text == "thanks!" else None


async def test_no_survey_for_auto_closed_mentions(make_app, surveys):
    from tests.csat.conftest import csat_config
    app = await make_app(csat_config(), extra=[PluginEntry("survey_double", surveys, "test", True),
                                               PluginEntry("auto_closer", AutoCloser(), "test", True)])
    tid = (await app.service.ingest(mention(text="thanks!"))).ticket_id
    assert (await app.service.get_ticket(tid)).status == "closed"
    await csat.follow_up(app)
    assert await survey_of(app, tid) is None


async def test_no_survey_when_the_platform_is_not_surveyed_or_not_enabled(make_csat_app):
    app = await make_csat_app(platforms=["x", "discord"])  # neither plugin is enabled here
    assert csat.surveyed_platforms(app) == []
    tid = await closed_ticket(app)
    await csat.follow_up(app)
    assert await survey_of(app, tid) is None
    both = await make_csat_app(platforms=["testnet", "x"])
    assert csat.surveyed_platforms(both) == ["testnet"]


async def test_reopen_cancels_a_survey_not_yet_sent_and_a_new_close_schedules_it_again(app, clock, surveys):
    tid = await closed_ticket(app)
    await app.service.reopen(tid, AGENT)
    assert (await survey_of(app, tid)).status == SurveyStatus.CANCELLED
    clock.advance(minutes=30)
    await app.outbox_runner().drain()
    assert surveys.sent == []
    await app.service.close(tid, AGENT)
    assert (await survey_of(app, tid)).status == SurveyStatus.PENDING
    [job] = await jobs(app, SEND_CSAT)
    assert job.status == JobStatus.PENDING and job.not_before == clock.now + timedelta(minutes=10)
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    assert len(surveys.sent) == 1 and (await survey_of(app, tid)).status == SurveyStatus.SENT


async def test_reopen_missed_by_the_event_is_caught_at_send_time(make_csat_app, clock, surveys):
    app = await make_csat_app()
    tid = await closed_ticket(app)
    plain = await make_csat_app(enabled=False)
    await plain.service.reopen(tid, AGENT)  # no csat observer on this replica
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    assert surveys.sent == [] and (await survey_of(app, tid)).status == SurveyStatus.CANCELLED


async def test_unanswered_survey_expires(app, clock):
    tid = await closed_ticket(app)
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    clock.advance(days=3)
    assert (await csat.follow_up(app))["expired"] == 0
    clock.advance(minutes=1)
    assert (await csat.follow_up(app))["expired"] == 1
    assert (await survey_of(app, tid)).status == SurveyStatus.EXPIRED


async def test_survey_due_after_it_would_have_expired_is_not_sent(app, clock, surveys):
    tid = await closed_ticket(app)
    clock.advance(days=4)  # the desk was down
    await app.outbox_runner().drain()
    assert surveys.sent == [] and (await survey_of(app, tid)).status == SurveyStatus.EXPIRED


@pytest.mark.parametrize("error", [PermanentPlatformError("DMs closed"), AmbiguousPlatformError("timed out"),
                                   RuntimeError("boom")])
async def test_refused_or_ambiguous_send_fails_visibly_and_is_never_resent(app, clock, surveys, error):
    tid = await closed_ticket(app)
    surveys.script.append(error)
    clock.advance(minutes=10)
    stats = await app.outbox_runner().drain()
    assert stats.failed == 1
    [job] = await jobs(app, SEND_CSAT)
    assert job.status == JobStatus.FAILED and job.last_error
    assert (await survey_of(app, tid)).status == SurveyStatus.FAILED
    kind = {PermanentPlatformError: "permanent", AmbiguousPlatformError: "ambiguous"}.get(type(error))
    if kind is not None:  # a platform's answer is counted on /metrics; a plugin's own bug is not
        assert sample(app, "socialdesk_platform_api_errors_total", platform=PLATFORM, kind=kind) == 1.0
    clock.advance(hours=1)
    await app.outbox_runner().drain()
    await csat.follow_up(app)
    assert surveys.sent == []


async def test_transient_error_is_retried_then_sent_once(app, clock, surveys):
    tid = await closed_ticket(app)
    surveys.script.append(TransientPlatformError("429", retry_after=30, status=429))
    clock.advance(minutes=10)
    await app.outbox_runner().drain()
    assert (await survey_of(app, tid)).status == SurveyStatus.PENDING and surveys.sent == []
    assert sample(app, "socialdesk_platform_rate_limited_total", platform=PLATFORM) == 1.0
    clock.advance(seconds=31)
    await app.outbox_runner().drain()
    assert len(surveys.sent) == 1 and (await survey_of(app, tid)).status == SurveyStatus.SENT


async def test_send_interrupted_by_a_crash_is_not_repeated(app, clock, surveys):
    tid = await closed_ticket(app)
    clock.advance(minutes=10)
    survey = await survey_of(app, tid)
    # An earlier worker moved it to sending and died before recording the outcome.
    assert not isinstance(await csat.store_for(app).begin_sending(survey.id, app.settings("csat"), clock.now), str)
    stats = await app.outbox_runner().drain()
    assert stats.failed == 1 and surveys.sent == []
    assert (await survey_of(app, tid)).status == SurveyStatus.FAILED


async def test_card_shows_the_survey(app, clock):
    tid = await closed_ticket(app)
    ticket = await app.service.get_ticket(tid)
    assert csat.CardField("CSAT", "survey scheduled") in await app.hooks.card_fields(ticket)


async def test_follow_up_job_is_registered(app):
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    scheduler = AsyncIOScheduler()
    app.hooks.register_jobs(scheduler)
    job = scheduler.get_job("csat.follow_up")
    assert job is not None and job.trigger.interval == timedelta(seconds=60)
    assert scheduler.get_job("retention.clean_up") is not None


@pytest.mark.parametrize(("settings", "message"), [
    ({"prefer": "dm"}, "plugins.csat.prefer: \"dm\" is not available"),
    ({"question": "Hi {customer}"}, "plugins.csat.question: may only use the placeholder {name}"),
    ({"delay": "ten minutes"}, "plugins.csat.delay: must be a duration such as"),
    ({"delay": "4d"}, "delay must be shorter than expire_after"),
])
async def test_bad_settings_name_the_key_and_the_fix(make_app, settings, message):
    from socialdesk.core.config import ConfigError
    with pytest.raises(ConfigError) as refused:
        await make_app({"plugins": {"csat": {"enabled": True, **settings}}})
    assert message in str(refused.value)


async def test_csat_is_off_by_default(make_app):
    assert "csat" not in (await make_app()).config.enabled
