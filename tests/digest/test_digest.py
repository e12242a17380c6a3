"""The daily digest end to end against the sandbox Slack (real slack_sdk client, real outbox):
rendered, uploaded and shared once per day; and the emulator's files endpoints answer like Slack."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from PIL import Image
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from socialdesk.core.app import DeskApp
from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.plugin_catalog import PluginEntry
from socialdesk.core.runtime.scheduler import build_scheduler
from socialdesk.plugins.digest.chart import DPI, HEIGHT_INCHES, WIDTH_INCHES
from socialdesk.plugins.digest.delivery import file_name
from socialdesk.plugins.digest.schedule import POST_DIGEST, digest_for, latest_due_day, queue_digest
from socialdesk.plugins.digest.settings import DigestSettings
from socialdesk.sandbox.slack import Message, SlackEmulator
from tests.conftest import mention
from tests.platform_double import PLATFORM, TestPlatform
from tests.slack.conftest import ALICE, CHANNEL, ENV, FAST_RATE, GROUPS, USERS, LiveClock, desk_config
from tests.store_queries import OutboxJob, jobs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPEC = Path(__file__).parents[1] / "contract" / "specs" / "slack" / "slack_web_openapi_v2.json"


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(users=USERS, usergroups=GROUPS, rate_limits=FAST_RATE) as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def digest_desk(make_app: Any, platform: TestPlatform, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch,
                      **digest: Any) -> DeskApp:
    monkeypatch.setenv(ENV["bot"], slack.bot_token)
    config = desk_config(slack, "http")
    # Midnight UTC: the digest of day D covers the `period` before D 00:00 UTC.
    config["plugins"]["digest"] = {"enabled": True, "time": "00:00", "period": "1d", **digest}
    return await make_app(config, extra=[PluginEntry(PLATFORM, platform, "test", True)], with_platform=False)


def shared(slack: SlackEmulator, channel: str = CHANNEL) -> list[Message]:
    return [m for m in slack.timeline(channel) if m.files]


async def a_busy_day(app: DeskApp, clock: LiveClock) -> None:
    """Two tickets from two people; Alice claims, answers and closes one."""
    first = (await app.service.ingest(mention(text="My order never arrived", handle="ann"))).ticket_id
    await app.service.ingest(mention(text="How do I reset my password?", handle="bob"))
    alice = Actor(ALICE)
    await app.service.claim(first, alice)
    clock.advance(minutes=4)
    await app.service.reply(first, alice, "Sorry! It ships today.")
    await app.outbox_runner().drain()
    await app.service.close(first, alice)


async def test_the_digest_is_rendered_uploaded_and_shared_once(make_app, platform, slack, clock, monkeypatch) -> None:
    # The digest of the day after tomorrow, covering 3 days: today's work is inside it even
    # when the test runs just before midnight.
    app = await digest_desk(make_app, platform, slack, monkeypatch, period="3d")
    await a_busy_day(app, clock)
    day = clock().date() + timedelta(days=2)
    assert await queue_digest(app, day) is True
    assert await queue_digest(app, day) is False  # a second trigger (another replica, a restart) queues nothing
    await app.outbox_runner().drain()

    [job] = await jobs(app, POST_DIGEST)
    assert (job.status, job.dedupe_key, job.last_error) == (JobStatus.DONE, f"digest:{day.isoformat()}", None)
    [upload] = slack.files
    assert upload.name == file_name(digest_for(app, day)) == f"socialdesk-digest-{day.isoformat()}.png"
    assert upload.content is not None and upload.content.startswith(PNG_SIGNATURE)
    assert 10_000 < len(upload.content) < 1_000_000 and upload.length == len(upload.content)
    with Image.open(io.BytesIO(upload.content)) as image:
        assert image.format == "PNG"
        assert image.size == (round(WIDTH_INCHES * DPI), round(HEIGHT_INCHES * DPI))
    assert upload.channels == [CHANNEL]

    [message] = shared(slack)
    assert message.files[0]["id"] == upload.id and message.bot_id
    assert message.text.startswith(f"*Desk stats for the digest of {day.isoformat()}*")
    assert "• New tickets: 2 " in message.text and "• Replies sent: 1" in message.text
    assert "• Closed: 1 (and 0 spam)" in message.text
    # Agents by name: a daily channel message must not notify the people it lists.
    assert "• Agents: alice 1 replies/1 closed/1 claimed" in message.text and "<@" not in message.text

    # The next day's trigger for the same date, and the outbox drained again: nothing more.
    assert await queue_digest(app, day) is False
    await app.outbox_runner().drain()
    assert len(slack.files) == 1 and len(shared(slack)) == 1


async def test_a_retry_after_a_lost_answer_finds_the_shared_digest(make_app, platform, slack, clock,
                                                                   monkeypatch) -> None:
    """The worker died after Slack shared the file, before the job was marked done: the lease
    runs out, the job is taken again, finds the digest in the channel and posts nothing."""
    app = await digest_desk(make_app, platform, slack, monkeypatch)
    day = clock().date() + timedelta(days=1)
    await queue_digest(app, day)
    await app.outbox_runner().drain()
    assert len(shared(slack)) == 1
    async with app.database.transaction() as session:
        await session.execute(update(OutboxJob).where(OutboxJob.kind == POST_DIGEST).values(
            status=JobStatus.RUNNING, finished_at=None, locked_by="dead-worker",
            locked_until=clock() - timedelta(seconds=1)))
    stats = await app.outbox_runner().drain()
    assert stats.done == 1
    [job] = await jobs(app, POST_DIGEST)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert len(slack.files) == 1 and len(shared(slack)) == 1
    assert [c.method for c in slack.api_calls].count("files.completeUploadExternal") == 1


async def test_a_channel_slack_refuses_fails_the_job_visibly(make_app, platform, slack, clock, monkeypatch) -> None:
    app = await digest_desk(make_app, platform, slack, monkeypatch, channel="C0NOWHERE1")
    await queue_digest(app, clock().date())
    await app.outbox_runner().drain()
    [job] = await jobs(app, POST_DIGEST)
    assert job.status == JobStatus.FAILED
    assert job.last_error == f"Slack refused to share the digest of {clock().date().isoformat()} in C0NOWHERE1: " \
                             "channel_not_found"
    assert shared(slack) == []


async def test_the_daily_job_is_scheduled_in_the_desk_time_zone(make_app, platform, slack, monkeypatch) -> None:
    app = await digest_desk(make_app, platform, slack, monkeypatch, time="09:30")
    scheduler = build_scheduler(app)
    daily = scheduler.get_job("digest.daily")
    assert daily is not None and str(daily.trigger) == "cron[hour='9', minute='30']"
    assert str(daily.trigger.timezone) == app.config.desk.timezone
    assert scheduler.get_job("digest.catch_up") is not None  # a desk down at 09:30 posts when it is back


async def test_start_up_refuses_a_digest_it_cannot_post(make_app, platform, slack, monkeypatch) -> None:
    monkeypatch.setenv(ENV["bot"], slack.bot_token)
    config = desk_config(slack, "http")
    del config["desk"]["channel"]
    config["plugins"]["digest"] = {"enabled": True}
    app = await make_app(config, extra=[PluginEntry(PLATFORM, platform, "test", True)], with_platform=False)
    with pytest.raises(DeskError, match=r"plugins.digest.channel: the digest needs a channel; set it, or desk.channel"):
        build_scheduler(app)
    no_slack = await make_app({"desk": {"channel": CHANNEL}, "plugins": {"digest": {"enabled": True}}})
    with pytest.raises(DeskError, match=r"enable \[plugins.slack\] too"):
        build_scheduler(no_slack)


def test_which_day_is_due() -> None:
    settings = DigestSettings(time="09:00")
    morning = datetime(2026, 11, 2, 7, 59, tzinfo=timezone.utc)  # 08:59 in Berlin
    assert latest_due_day(morning, settings, "Europe/Berlin") == date(2026, 11, 1)
    assert latest_due_day(morning + timedelta(minutes=1), settings, "Europe/Berlin") == date(2026, 11, 2)
    for bad, message in (({"time": "9:00"}, "24-hour time HH:MM"), ({"period": "soon"}, "an amount such as")):
        with pytest.raises(ValueError, match=message):
            DigestSettings(**bad)


# --- the emulator's files endpoints ------------------------------------------------------------------------


def _files_info_schema() -> dict[str, Any]:
    spec = json.loads(SPEC.read_text())
    schema = spec["paths"]["/files.info"]["get"]["responses"]["200"]["schema"]
    return {**schema, "definitions": spec["definitions"]}


async def test_files_info_describes_a_shared_file_as_the_spec_does(slack: SlackEmulator,
                                                                   client: AsyncWebClient) -> None:
    sent = await client.files_upload_v2(channel=CHANNEL, content=b"\x89PNG fake", filename="chart.png",
                                        title="Chart", initial_comment="today")
    info = await client.files_info(file=sent["file"]["id"])
    jsonschema.Draft4Validator(_files_info_schema()).validate(info.data)  # the spec is Swagger 2.0 (draft 4)
    assert info["file"]["name"] == "chart.png" and info["file"]["title"] == "Chart"
    assert info["file"]["size"] == 9 and info["file"]["mimetype"] == "image/png"
    assert info["file"]["channels"] == [CHANNEL] and info["comments"] == []


async def test_files_endpoints_refuse_like_slack(slack: SlackEmulator, client: AsyncWebClient) -> None:
    async def error(call: Any) -> dict[str, Any]:
        with pytest.raises(SlackApiError) as refused:
            await call
        return dict(refused.value.response.data)

    assert (await error(client.files_info(file="F0NOSUCH01")))["error"] == "file_not_found"
    assert (await error(client.api_call("files.info", params={})))["error"] == "invalid_arguments"
    missing = await error(client.api_call("files.getUploadURLExternal", params={"filename": "a.png"}))
    assert missing["error"] == "invalid_arguments"
    assert missing["response_metadata"]["messages"] == ["[ERROR] missing required field: length"]
    # Reserved but never uploaded or completed: Slack knows no such file yet.
    reserved = await client.files_getUploadURLExternal(filename="a.png", length=3)
    assert (await error(client.files_info(file=reserved["file_id"])))["error"] == "file_not_found"
    assert (await error(client.files_completeUploadExternal(files=[{"id": reserved["file_id"]}],
                                                            channel_id=CHANNEL)))["error"] == "file_not_found"
    assert (await error(client.files_completeUploadExternal(files=[{"id": "F0BADUPLOAD"}])))["error"] == \
        "file_not_found"
    # The upload URL takes the bytes once.
    async with aiohttp.ClientSession() as session:
        async with session.post(reserved["upload_url"], data=b"abc") as answer:
            assert (answer.status, await answer.text()) == (200, "OK - 3")
        async with session.post(reserved["upload_url"], data=b"abc") as again:
            assert again.status == 404
    done = await client.files_completeUploadExternal(files=[{"id": reserved["file_id"], "title": "A"}],
                                                     channel_id=CHANNEL, initial_comment="first")
    assert done["files"] == [{"id": reserved["file_id"], "title": "A"}]
    twice = await error(client.files_completeUploadExternal(files=[{"id": reserved["file_id"]}], channel_id=CHANNEL))
    assert twice["error"] == "invalid_arguments"
    assert len(shared(slack)) == 1


async def test_complete_upload_shares_blocks_unless_there_is_an_initial_comment(slack: SlackEmulator,
                                                                                client: AsyncWebClient) -> None:
    # Slack takes blocks here as a JSON string (slack_sdk passes the argument through as given).
    blocks = json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "*Digest*"}}])
    await client.files_upload_v2(channel=CHANNEL, content="a", filename="a.txt", blocks=blocks)
    await client.files_upload_v2(channel=CHANNEL, content="b", filename="b.txt", blocks=blocks, initial_comment="hi")
    with_blocks, with_comment = shared(slack)
    assert with_blocks.blocks and with_blocks.blocks[0]["text"]["text"] == "*Digest*" and with_blocks.text == ""
    assert with_comment.text == "hi" and not with_comment.blocks  # Slack ignores blocks next to a comment
    with pytest.raises(SlackApiError) as refused:
        await client.files_upload_v2(channel=CHANNEL, content="c", filename="c.txt",
                                     blocks=json.dumps([{"type": "nonsense"}]))
    assert refused.value.response["error"] == "invalid_blocks"
