"""[plugins.discord] validation, `check --online`, the card field, and error sorting."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.extensions import Actor
from socialdesk.core.mention import Author, Mention
from socialdesk.core.platform import AmbiguousPlatformError, PermanentPlatformError, TransientPlatformError
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.ticket import ReplyStatus
from socialdesk.plugins.discord.online_check import check_online
from socialdesk.plugins.discord.refs import ConversationRef, MessageRef
from socialdesk.plugins.discord.replies import classify
from socialdesk.plugins.discord.settings import DiscordSettings
from socialdesk.sandbox.discord import DiscordEmulator
from tests.discord_plugin.conftest import DeskFactory, EmulatorFactory
from tests.discord_plugin.desk_driver import DiscordDesk
from tests.sandbox.discord_loopback import eventually


def problems_of(table: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_config({"plugins": {"discord": {"enabled": True, **table}}}, discover_plugins())
    return error.value.lines()


@pytest.mark.parametrize(("table", "expected"), [
    ({"channels": ["support"]}, "plugins.toml: plugins.discord.channels.0: must be a Discord id"),
    ({"guilds": [-5]}, "plugins.toml: plugins.discord.guilds.0: must be a Discord id"),
    ({"token_env": "my token"}, "plugins.toml: plugins.discord.token_env: must be the NAME of an environment variable"),
    ({"token": "abc"}, "plugins.toml: plugins.discord.token: secrets are not read from plugins.toml"),
    ({"api_base": "discord.com/api"}, "plugins.toml: plugins.discord.api_base: must be an http(s) URL"),
    ({"api_base": "https://discord.com/api/v9"}, "plugins.toml: plugins.discord.api_base: must end in /api/v10"),
    ({"gateway_url": "https://gateway.discord.gg"}, "plugins.toml: plugins.discord.gateway_url: must be a websocket"),
    ({"listen_to_mentions": False}, "plugins.toml: plugins.discord: nothing to listen for"),
    ({"shard_count": 2}, "plugins.toml: plugins.discord: shard_count needs sharded = true"),
    ({"keywords": ["acme", " "]}, "plugins.toml: plugins.discord.keywords: keywords must not be blank"),
    ({"keyword": ["acme"]}, "plugins.toml: plugins.discord.keyword: unknown key; did you mean 'keywords'?"),
    ({"max_ratelimit_wait_seconds": 5}, "plugins.toml: plugins.discord.max_ratelimit_wait_seconds:"),
])
def test_bad_settings_name_the_key_and_the_fix(table: dict[str, Any], expected: str) -> None:
    lines = problems_of(table)
    assert any(line.startswith(expected) for line in lines), lines


def test_defaults_and_ids_given_as_strings() -> None:
    config = parse_config({"plugins": {"discord": {"enabled": True, "channels": ["1234567890123456789"],
                                                   "api_base": "https://proxy.example/api/v10/"}}},
                          discover_plugins())
    settings: DiscordSettings = config.settings("discord")
    assert settings.channels == [1234567890123456789]
    assert settings.api_base == "https://proxy.example/api/v10"
    assert (settings.token_env, settings.listen_to_mentions, settings.sharded, settings.backfill_limit) == (
        "DISCORD_BOT_TOKEN", True, False, 0)
    assert "discord" in config.enabled
    assert "discord" not in parse_config({}, discover_plugins()).enabled  # off unless enabled


async def test_a_missing_token_variable_stops_start_up_with_its_name(make_desk: DeskFactory,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    desk = await make_desk(token_env="SOCIALDESK_TEST_UNSET_TOKEN")
    monkeypatch.delenv("SOCIALDESK_TEST_UNSET_TOKEN", raising=False)
    with pytest.raises(Exception, match="SOCIALDESK_TEST_UNSET_TOKEN .*plugins.discord.token_env.* is not set"):
        await desk.app.hooks.start_listeners()


async def test_online_check_says_what_the_bot_can_see(emulator: DiscordEmulator) -> None:
    settings = DiscordSettings(api_base=emulator.api_base, channels=[emulator.channel_id("support"), 42])
    report = await check_online(settings, emulator.token)
    text = "\n".join(report.seen)
    assert "bot account: socialdesk-bot" in text
    assert "server: Acme Community" in text and "server: Acme Partners" in text
    assert "watching #support (text" in text and "#general" not in text
    assert report.problems == ["plugins.discord.channels: channel 42 is not in a watched server the bot can see; "
                               "check the id (Copy ID) and that the bot may view it"]
    assert emulator.token not in repr(report)


async def test_online_check_reports_a_missing_intent_a_missing_guild_and_a_bad_token(
        make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(enabled_privileged_intents=0, recommended_shards=2)
    settings = DiscordSettings(api_base=emulator.api_base, guilds=[emulator.guild_id(), 99])
    report = await check_online(settings, emulator.token)
    assert not report.ok
    joined = "\n".join(report.problems)
    assert "Message Content Intent is off" in joined
    assert "plugins.discord.sharded: Discord asks for 2 shards" in joined
    assert "plugins.discord.guilds: the bot is not in server 99; invite it with https://discord.com/oauth2/authorize?client_id=" in joined
    assert "server: Acme Partners" not in "\n".join(report.seen)  # not watched

    refused = await check_online(settings, "MTIz.wrong.token")
    assert refused.problems[0].startswith("plugins.discord.token_env: Discord refused the token in $DISCORD_BOT_TOKEN")
    assert "MTIz.wrong.token" not in repr(refused)


async def test_the_card_says_where_the_conversation_is(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    emulator.post_message(emulator.channel_id("support"), "alice", "hello", mentions_bot=True)
    emulator.create_thread(emulator.channel_id("help-forum"), "Lost parcel", author_username="bob",
                           content=desk.at_bot("where is it"))
    stored = await desk.until_inbound(2)
    fields = {s.text: await desk.app.hooks.card_fields(await desk.app.service.get_ticket(s.ticket_id))
              for s in stored}
    assert {text: [(f.label, f.value) for f in found if f.label == "Discord"] for text, found in fields.items()} == {
        "@socialdesk-bot hello": [("Discord", "#support · Acme Community")],
        "@socialdesk-bot where is it": [("Discord", "thread “Lost parcel” in #help-forum · Acme Community")],
    }


async def test_when_discord_cannot_be_reached_the_reply_waits_for_a_retry(make_emulator: EmulatorFactory,
                                                                          make_desk: DeskFactory) -> None:
    emulator = await make_emulator()
    desk = await make_desk(on=emulator)  # never started: a replica without the gateway
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    ref = MessageRef(guild, support, 1234567890123456789)
    mention = Mention(platform="discord", external_id=ref.external_id,
                      conversation_id=ConversationRef(guild, support, ref.message_id).conversation_id,
                      author=Author("discord", "42", "alice"), text="hi", created_at=datetime.now(timezone.utc))
    ticket_id = (await desk.app.service.ingest(mention)).ticket_id
    await emulator.stop()  # connection refused from now on
    reply = await desk.app.service.reply(ticket_id, Actor("U0AGENT1"), "Hello!")
    await desk.drain()
    stored = await desk.app.service.get_reply(reply.id)
    assert stored.status == ReplyStatus.PENDING and "could not reach Discord" in stored.error


def _http_error(cls: type[discord.HTTPException], status: int, message: str, code: int = 0) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="reason")
    return cls(response, {"message": message, "code": code})  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "expected"), [
    (discord.RateLimited(120.0), TransientPlatformError),
    (_http_error(discord.Forbidden, 403, "Missing Access", 50001), PermanentPlatformError),
    (_http_error(discord.NotFound, 404, "Unknown Channel", 10003), PermanentPlatformError),
    (_http_error(discord.HTTPException, 400, "Invalid Form Body", 50035), PermanentPlatformError),
    (_http_error(discord.DiscordServerError, 502, "Bad Gateway"), TransientPlatformError),
    (aiohttp.ClientConnectorError(SimpleNamespace(ssl=None, host="h", port=1), OSError(111, "refused")),  # type: ignore[arg-type]
     TransientPlatformError),
    (TimeoutError(), AmbiguousPlatformError),
    (aiohttp.ServerDisconnectedError(), AmbiguousPlatformError),
    (ConnectionResetError(104, "reset"), AmbiguousPlatformError),
])
def test_discord_errors_are_sorted_by_what_they_prove(error: BaseException, expected: type) -> None:
    sorted_as = classify(error, 30)
    assert type(sorted_as) is expected
    if isinstance(error, discord.RateLimited):
        assert sorted_as.retry_after == 120.0  # type: ignore[attr-defined]


async def test_a_missing_message_content_intent_is_logged_with_the_fix(make_emulator: EmulatorFactory,
                                                                       make_desk: DeskFactory,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    emulator = await make_emulator(enabled_privileged_intents=0)
    desk = await make_desk(on=emulator)
    await desk.app.hooks.start_listeners()  # the token works: start-up goes on without Discord's gateway
    await eventually(lambda: not desk.runtime.running, what="the gateway to give up")
    assert "switch on 'Message Content Intent' in the Developer Portal" in caplog.text


async def test_the_token_never_reaches_the_logs_or_the_card(make_desk: DeskFactory,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    desk = await make_desk()
    await desk.start()
    emulator = desk.emulator
    guild = emulator.guild_id()
    emulator.post_message(emulator.channel_id("support"), "alice", "hello", mentions_bot=True)
    [stored] = await desk.until_inbound(1)
    sent = await desk.app.service.reply(stored.ticket_id, Actor("U0AGENT1"), "hi!")
    gone = MessageRef(guild, 1234, 5678)  # a channel that does not exist (any more): 404 Unknown Channel
    lost = await desk.app.service.ingest(Mention(
        platform="discord", external_id=gone.external_id,
        conversation_id=ConversationRef(guild, 1234, 5678).conversation_id,
        author=Author("discord", "42", "alice"), text="hi", created_at=datetime.now(timezone.utc)))
    failing = await desk.app.service.reply(lost.ticket_id, Actor("U0AGENT1"), "into the void")
    await desk.drain()
    await desk.stop()

    assert (await desk.app.service.get_reply(sent.id)).status == ReplyStatus.SENT
    failed = await desk.app.service.get_reply(failing.id)
    assert failed.status == ReplyStatus.FAILED and "Unknown Channel" in failed.error
    assert "outbox job failed" in caplog.text  # the failure was logged...
    assert emulator.token not in caplog.text  # ...and nothing logged carries the token
    assert emulator.token.split(".")[-1] not in caplog.text
    assert emulator.token not in failed.error


async def test_socialdesk_check_online_runs_the_discord_check(make_desk: DeskFactory,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    desk = await make_desk()
    [check] = await desk.app.hooks.check_online()
    assert check.platform == "discord" and check.problems == ()
    assert any(line.startswith("bot account: socialdesk-bot") for line in check.seen)

    monkeypatch.delenv("SOCIALDESK_TEST_DISCORD_TOKEN")
    [check] = await desk.app.hooks.check_online()
    assert check.problems == ("environment variable SOCIALDESK_TEST_DISCORD_TOKEN (named by "
                              "plugins.discord.token_env) is not set; export it before starting",)
