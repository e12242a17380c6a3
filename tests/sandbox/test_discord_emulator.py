"""The Discord emulator, driven by the real discord.py and, where discord.py hides the wire, by hand.

Every wait has a timeout (``eventually`` / ``asyncio.wait_for``); nothing asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import random
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import discord
import pytest

from socialdesk.sandbox.discord import (
    COMMUNITY,
    PARTNERS,
    DiscordEmulator,
    DiscordSettings,
    GatewayFaults,
    RateLimitRule,
)
from socialdesk.sandbox.discord import intents as intent_bits
from socialdesk.sandbox.discord import mentions
from socialdesk.sandbox.discord.history import ChannelHistory
from socialdesk.sandbox.discord.snowflake import SnowflakeGenerator, snowflake_for, snowflake_time
from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.traffic import TrafficRecorder
from tests.sandbox.discord_loopback import (
    WAIT,
    GatewayClosed,
    Inbox,
    SandboxShardedClient,
    eventually,
    intents,
    make_client,
    pointed_at,
    raw_gateway,
    running,
)

FAST = {"heartbeat_interval_ms": 1000}
DEFAULT_INTENTS = intent_bits.KNOWN & ~intent_bits.PRIVILEGED
EmulatorFactory = Callable[..., Any]


@pytest.fixture
async def make_emulator() -> AsyncIterator[EmulatorFactory]:
    started: list[DiscordEmulator] = []

    async def factory(faults: FaultPlan | None = None, gateway_faults: GatewayFaults | None = None,
                      **settings: Any) -> DiscordEmulator:
        emulator = DiscordEmulator(faults=faults, gateway_faults=gateway_faults,
                                   settings=DiscordSettings(**{**FAST, **settings}))
        started.append(await emulator.start())
        return emulator

    yield factory
    for emulator in started:
        await emulator.stop()


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory) -> DiscordEmulator:
    return await make_emulator()


@pytest.fixture
async def http(emulator: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.base_url,
                                     timeout=aiohttp.ClientTimeout(total=WAIT)) as session:
        yield session


def auth(emulator: DiscordEmulator) -> dict[str, str]:
    return {"Authorization": f"Bot {emulator.token}"}


# -- the world's building blocks ------------------------------------------------------------------------


def test_snowflakes_increase_and_carry_their_creation_time() -> None:
    now = [1_800_000_000.0]
    ids = SnowflakeGenerator(clock=lambda: now[0])
    first = ids.next()
    same_ms = [ids.next() for _ in range(5000)]  # more than 4096 in one millisecond
    now[0] -= 10  # the clock steps back
    after_step_back = ids.next()
    sequence = [first, *same_ms, after_step_back]
    assert sequence == sorted(set(sequence))
    assert snowflake_time(first) == datetime.fromtimestamp(1_800_000_000, tz=timezone.utc)
    assert discord.utils.snowflake_time(first) == snowflake_time(first)
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert discord.utils.snowflake_time(snowflake_for(moment)) == moment


def test_the_intents_the_emulator_knows_are_the_ones_discord_py_can_ask_for() -> None:
    assert discord.Intents.all().value == intent_bits.KNOWN
    assert discord.Intents.default().value == DEFAULT_INTENTS
    privileged = discord.Intents.none()
    privileged.members = privileged.presences = privileged.message_content = True
    assert privileged.value == intent_bits.PRIVILEGED


def test_history_pages_newest_first_like_discord() -> None:
    history = ChannelHistory(capacity=1000)
    for i in range(1, 11):
        history.add({"id": str(i)})

    def page(**kwargs: int) -> list[int]:
        return [int(m["id"]) for m in history.page(**kwargs)]

    assert page(limit=3) == [10, 9, 8]
    assert page(limit=3, before=5) == [4, 3, 2]
    assert page(limit=3, after=5) == [8, 7, 6]  # the three right after 5, newest first
    assert page(limit=3, after=0) == [3, 2, 1]
    assert page(limit=4, around=5) == [6, 5, 4, 3]
    with pytest.raises(ValueError):
        history.add({"id": "3"})


def test_history_forgets_the_oldest_past_its_capacity() -> None:
    history = ChannelHistory(capacity=50)
    for i in range(1, 201):
        history.add({"id": str(i)})
    assert len(history) <= 50
    assert int(history.oldest_first()[-1]["id"]) == 200
    assert history.get(1) is None


def test_allowed_mentions_decide_who_is_pinged() -> None:
    known = {1, 2, 3}
    common = {"known_users": known, "mentionable_roles": set(), "all_roles": {50}, "replied_author": 3}
    text = "hi <@1> <@!2> <@&50> @everyone"
    default = mentions.resolve(text, None, may_mention_everyone=True, **common)
    assert (default.users, default.roles, default.everyone) == ([1, 2, 3], [50], True)
    nobody = mentions.resolve(text, {"parse": []}, may_mention_everyone=True, **common)
    assert (nobody.users, nobody.roles, nobody.everyone) == ([], [], False)
    only_two = mentions.resolve(text, {"parse": [], "users": ["2"], "replied_user": True},
                                may_mention_everyone=True, **common)
    assert only_two.users == [2, 3] and not only_two.everyone
    customer = mentions.resolve(text, None, may_mention_everyone=False, **common)
    assert not customer.everyone and customer.roles == []
    assert mentions.allowed_mentions_errors({"parse": ["users"], "users": ["1"]})


# -- REST --------------------------------------------------------------------------------------------------


async def test_every_rest_answer_is_exactly_application_json_with_rate_limit_headers(
        emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    guild = emulator.guild_id()
    channel = emulator.channel_id("general")
    message = emulator.post_message(channel, "alice", "hello")
    paths = ["/api/v10/users/@me", "/api/v10/users/@me/guilds", "/api/v10/oauth2/applications/@me",
             "/api/v10/gateway/bot", f"/api/v10/guilds/{guild}", f"/api/v10/guilds/{guild}/channels",
             f"/api/v10/guilds/{guild}/threads/active", f"/api/v10/channels/{channel}",
             f"/api/v10/channels/{channel}/messages", f"/api/v10/channels/{channel}/messages/{message['id']}"]
    for path in paths:
        async with http.get(path, headers=auth(emulator)) as response:
            assert response.status == 200, path
            assert response.headers["Content-Type"] == "application/json", path
            for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                           "X-RateLimit-Reset-After", "X-RateLimit-Bucket"):
                assert header in response.headers, (path, header)
            await response.json()
    for path, status in [("/api/v10/nope", 404), ("/api/v10/channels/1/messages/2/nope", 404)]:
        async with http.get(path, headers=auth(emulator)) as response:
            assert (response.status, response.headers["Content-Type"]) == (status, "application/json")
            assert await response.json() == {"message": "404: Not Found", "code": 0}
    async with http.delete("/api/v10/users/@me", headers=auth(emulator)) as response:
        assert (response.status, response.headers["Content-Type"]) == (405, "application/json")


async def test_a_wrong_token_is_401_in_discords_words(emulator: DiscordEmulator,
                                                       http: aiohttp.ClientSession) -> None:
    for headers in ({}, {"Authorization": "Bot wrong"}, {"Authorization": emulator.token}):
        async with http.get("/api/v10/users/@me", headers=headers) as response:
            assert response.status == 401
            assert response.headers["Content-Type"] == "application/json"
            assert await response.json() == {"message": "401: Unauthorized", "code": 0}
    async with http.get("/api/v10/gateway") as response:  # the one route that needs no token
        assert (await response.json())["url"] == emulator.gateway_url


async def test_unknown_things_answer_with_discords_error_codes(emulator: DiscordEmulator,
                                                                http: aiohttp.ClientSession) -> None:
    channel = emulator.channel_id("general")
    cases = [
        ("/api/v10/channels/123456789012345678", 404, {"message": "Unknown Channel", "code": 10003}),
        (f"/api/v10/channels/{channel}/messages/123456789012345678", 404,
         {"message": "Unknown Message", "code": 10008}),
        ("/api/v10/guilds/123456789012345678", 404, {"message": "Unknown Guild", "code": 10004}),
    ]
    for path, status, body in cases:
        async with http.get(path, headers=auth(emulator)) as response:
            assert (response.status, await response.json()) == (status, body)
    async with http.get("/api/v10/channels/general", headers=auth(emulator)) as response:
        body = await response.json()
        assert response.status == 400 and body["code"] == 50035
        assert body["errors"]["channel_id"]["_errors"][0]["code"] == "NUMBER_TYPE_COERCE"


async def test_content_over_2000_characters_is_an_invalid_form_body(emulator: DiscordEmulator,
                                                                     http: aiohttp.ClientSession) -> None:
    path = f"/api/v10/channels/{emulator.channel_id('support')}/messages"
    async with http.post(path, json={"content": "x" * 2001}, headers=auth(emulator)) as response:
        assert response.status == 400
        assert await response.json() == {
            "code": 50035, "message": "Invalid Form Body",
            "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                "message": "Must be 2000 or fewer in length."}]}}}
    async with http.post(path, json={"content": ""}, headers=auth(emulator)) as response:
        assert (response.status, (await response.json())["code"]) == (400, 50006)
    async with http.post(path, data=b"{not json", headers={**auth(emulator), "Content-Type": "application/json"}) \
            as response:
        assert (response.status, (await response.json())["code"]) == (400, 50109)
    async with http.post(path, json={"content": "x" * 2000}, headers=auth(emulator)) as response:
        assert response.status == 200
    assert [len(m["content"]) for m in emulator.messages(emulator.channel_id("support"))] == [2000]


async def test_message_list_limit_must_be_1_to_100(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    channel = emulator.channel_id("general")
    for limit, code in (("0", "NUMBER_TYPE_MIN"), ("101", "NUMBER_TYPE_MAX"), ("ten", "NUMBER_TYPE_COERCE")):
        async with http.get(f"/api/v10/channels/{channel}/messages", params={"limit": limit},
                            headers=auth(emulator)) as response:
            body = await response.json()
            assert response.status == 400 and body["errors"]["limit"]["_errors"][0]["code"] == code


async def test_gateway_bot_hands_out_a_loopback_url_and_the_shard_count(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(recommended_shards=3)
    async with aiohttp.ClientSession() as http, \
            http.get(emulator.api_base + "/gateway/bot", headers=auth(emulator)) as response:
        body = await response.json()
    assert body["url"] == f"ws://127.0.0.1:{emulator.port}"
    assert body["shards"] == 3
    assert body["session_start_limit"] == {"total": 1000, "remaining": 1000, "reset_after": 86_400_000,
                                           "max_concurrency": 1}


async def test_route_buckets_answer_429_with_via_retry_after_and_a_json_body(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(route_limits={"POST /channels/{channel_id}/messages": RateLimitRule(2, 60.0)})
    support, general = emulator.channel_id("support"), emulator.channel_id("general")
    async with aiohttp.ClientSession(base_url=emulator.base_url) as http:
        statuses = []
        for _ in range(3):
            async with http.post(f"/api/v10/channels/{support}/messages", json={"content": "hi"},
                                 headers=auth(emulator)) as response:
                statuses.append(response.status)
                last, body = response, await response.json()
        assert statuses == [200, 200, 429]
        assert last.headers["Content-Type"] == "application/json"
        assert last.headers["Via"] == "1.1 google"
        assert int(last.headers["Retry-After"]) >= 1
        assert last.headers["X-RateLimit-Remaining"] == "0" and last.headers["X-RateLimit-Scope"] == "user"
        assert body["message"] == "You are being rate limited." and body["global"] is False
        assert 0 < body["retry_after"] <= 60
        # The bucket is per channel: another channel still has room.
        async with http.post(f"/api/v10/channels/{general}/messages", json={"content": "hi"},
                             headers=auth(emulator)) as response:
            assert response.status == 200
    assert len(emulator.messages(support)) == 2


async def test_the_global_limit_is_answered_as_global(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(global_limit_per_second=3)
    async with aiohttp.ClientSession(base_url=emulator.base_url) as http:
        answers = []
        for _ in range(4):
            async with http.get("/api/v10/users/@me", headers=auth(emulator)) as response:
                answers.append((response.status, response.headers.get("X-RateLimit-Global"),
                                await response.json()))
    assert [a[0] for a in answers] == [200, 200, 200, 429]
    assert answers[-1][1] == "true" and answers[-1][2]["global"] is True


async def test_fault_plan_errors_are_discord_json_and_drops_close_the_connection(
        make_emulator: EmulatorFactory) -> None:
    plan = FaultPlan()
    emulator = await make_emulator(faults=plan)
    async with aiohttp.ClientSession(base_url=emulator.base_url) as http:
        plan.set(server_error=1.0)
        async with http.get("/api/v10/users/@me", headers=auth(emulator)) as response:
            assert (response.status, response.headers["Content-Type"]) == (500, "application/json")
            assert await response.json() == {"message": "500: Internal Server Error", "code": 0}
        plan.set(server_error=0.0, rate_limited=1.0, retry_after_seconds=2.5)
        async with http.get("/api/v10/users/@me", headers=auth(emulator)) as response:
            body = await response.json()
            assert (response.status, response.headers["Via"], response.headers["Retry-After"]) == (429, "1.1 google",
                                                                                                  "3")
            assert body == {"message": "You are being rate limited.", "retry_after": 2.5, "global": False, "code": 0}
        plan.set(rate_limited=0.0, dropped=1.0)
        with pytest.raises(aiohttp.ClientError):
            async with http.get("/api/v10/users/@me", headers=auth(emulator)) as response:
                await response.read()
        plan.set(dropped=0.0, slow=1.0, slow_seconds=0.05)
        async with http.get("/api/v10/users/@me", headers=auth(emulator)) as response:
            assert response.status == 200
    # aiohttp retries a GET once when a reused keep-alive connection drops, so drops may count twice.
    assert plan.counts["dropped"] >= 1
    assert {k: plan.counts[k] for k in ("server_error", "rate_limited", "slow")} == {
        "server_error": 1, "rate_limited": 1, "slow": 1}
    statuses = [r["status"] for r in emulator.recorder.of("discord", method="GET", path="/api/v10/users/@me")]
    # a dropped request is recorded without a status (aiohttp may have retried it once)
    assert statuses[:2] == [500, 429] and statuses[-1] == 200
    assert set(statuses[2:-1]) == {None} and 1 <= len(statuses[2:-1]) == plan.counts["dropped"]


async def test_enforce_nonce_answers_a_repeat_with_the_first_message(emulator: DiscordEmulator,
                                                                      http: aiohttp.ClientSession) -> None:
    channel = emulator.channel_id("support")
    body = {"content": "your refund is on its way", "nonce": "reply-42", "enforce_nonce": True}
    ids = []
    for _ in range(2):
        async with http.post(f"/api/v10/channels/{channel}/messages", json=body, headers=auth(emulator)) as response:
            ids.append((await response.json())["id"])
    assert ids[0] == ids[1]
    assert len(emulator.messages(channel)) == 1


async def test_rest_reads_hide_content_when_the_app_lacks_the_message_content_setting(
        make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(enabled_privileged_intents=0)
    channel = emulator.channel_id("support")
    emulator.post_message(channel, "alice", "private details")
    emulator.post_message(channel, "bob", "hey bot", mentions_bot=True)
    async with aiohttp.ClientSession() as http, \
            http.get(f"{emulator.api_base}/channels/{channel}/messages", headers=auth(emulator)) as response:
        listed = await response.json()
    assert [m["content"] for m in listed] == [f"<@{emulator.bot_user['id']}> hey bot", ""]


async def test_threads_and_forum_posts_over_rest(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    forum, support, guild = emulator.channel_id("help-forum"), emulator.channel_id("support"), emulator.guild_id()
    async with http.post(f"/api/v10/channels/{forum}/threads", headers=auth(emulator),
                         json={"name": "Refund?", "message": {"content": "How do refunds work?"}}) as response:
        post = await response.json()
        assert response.status == 201
    assert post["parent_id"] == str(forum) and post["type"] == 11
    assert post["message"]["id"] == post["id"] and post["message"]["channel_id"] == post["id"]
    question = emulator.post_message(support, "alice", "It broke")
    async with http.post(f"/api/v10/channels/{support}/messages/{question['id']}/threads", headers=auth(emulator),
                         json={"name": "It broke", "auto_archive_duration": 60}) as response:
        thread = await response.json()
        assert response.status == 201
    assert thread["id"] == question["id"]  # a thread on a message takes the message's id
    assert emulator.message(support, int(question["id"]))["thread"]["id"] == thread["id"]
    async with http.post(f"/api/v10/channels/{support}/messages/{question['id']}/threads", headers=auth(emulator),
                         json={"name": "again"}) as response:
        assert (response.status, (await response.json())["code"]) == (400, 160004)
    async with http.post(f"/api/v10/channels/{support}/threads", headers=auth(emulator),
                         json={"name": "no type"}) as response:
        assert (await response.json())["errors"]["type"]["_errors"][0]["code"] == "BASE_TYPE_REQUIRED"
    async with http.post(f"/api/v10/channels/{forum}/messages", headers=auth(emulator),
                         json={"content": "into a forum"}) as response:
        assert (response.status, (await response.json())["code"]) == (400, 50008)
    async with http.get(f"/api/v10/guilds/{guild}/threads/active", headers=auth(emulator)) as response:
        active = await response.json()
    assert {t["id"] for t in active["threads"]} == {post["id"], thread["id"]}
    assert {m["id"] for m in active["members"]} == {post["id"], thread["id"]}


# -- the gateway by hand -------------------------------------------------------------------------------


async def test_gateway_plain_json_hello_heartbeat_identify_ready_guild_create(emulator: DiscordEmulator) -> None:
    async with raw_gateway(emulator) as gateway:
        hello = await gateway.receive()
        assert hello == {"op": 10, "d": {"heartbeat_interval": 1000, "_trace": hello["d"]["_trace"]},
                         "s": None, "t": None}
        await gateway.send(1, None)
        assert (await gateway.receive())["op"] == 11
        ready = await gateway.identify(emulator.token, DEFAULT_INTENTS)
        assert ready["s"] == 1
        data = ready["d"]
        assert data["v"] == 10 and data["user"]["id"] == emulator.bot_user["id"] and data["user"]["bot"] is True
        assert data["resume_gateway_url"] == f"ws://127.0.0.1:{emulator.port}/resume"
        assert data["application"]["id"] == str(emulator.application_id)
        assert sorted(g["id"] for g in data["guilds"]) == sorted(str(g) for g in emulator.state.guilds)
        assert all(g["unavailable"] is True for g in data["guilds"])
        created = [await gateway.receive_dispatch("GUILD_CREATE") for _ in data["guilds"]]
        assert [c["s"] for c in created] == [2, 3]
        community = next(c["d"] for c in created if c["d"]["name"] == COMMUNITY)
        assert {c["name"]: c["type"] for c in community["channels"]} == {"general": 0, "support": 0,
                                                                          "help-forum": 15}
        assert community["unavailable"] is False and community["member_count"] == 4
        assert [m["user"]["id"] for m in community["members"]] == [emulator.bot_user["id"]]
    assert not gateway.binary_frames


async def test_gateway_zlib_stream_is_one_context_flushed_per_payload(emulator: DiscordEmulator) -> None:
    async with raw_gateway(emulator, compress=True) as gateway:
        assert (await gateway.receive())["op"] == 10
        await gateway.identify(emulator.token, DEFAULT_INTENTS)
        await gateway.receive_dispatch("GUILD_CREATE")
        assert gateway.binary_frames and all(f.endswith(b"\x00\x00\xff\xff") for f in gateway.binary_frames)
        # A fresh inflater cannot read a later frame on its own: the stream shares one context.
        with pytest.raises(zlib.error):
            zlib.decompressobj().decompress(gateway.binary_frames[-1])


@pytest.mark.parametrize(("identify", "code"), [
    ({"token": "wrong", "intents": DEFAULT_INTENTS}, 4004),
    ({"intents": 1 << 30}, 4013),
    ({"intents": DEFAULT_INTENTS, "shard": [2, 2]}, 4010),
])
async def test_gateway_refuses_bad_identifies_with_discords_close_codes(
        emulator: DiscordEmulator, identify: dict[str, Any], code: int) -> None:
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        await gateway.send(2, {"token": emulator.token, **identify})
        with pytest.raises(GatewayClosed) as closed:
            await gateway.receive_dispatch("READY")
        assert closed.value.code == code


async def test_gateway_protocol_errors_close_the_connection(emulator: DiscordEmulator) -> None:
    async def closed_after(op: int | None, data: Any = None, raw: str | None = None) -> int | None:
        async with raw_gateway(emulator) as gateway:
            await gateway.receive()
            if raw is not None:
                await gateway.ws.send_str(raw)
            else:
                await gateway.send(op, data)  # type: ignore[arg-type]
            with pytest.raises(GatewayClosed) as closed:
                await gateway.receive_dispatch("NEVER")
            return closed.value.code

    assert await closed_after(3, {"status": "online"}) == 4003  # before IDENTIFY
    assert await closed_after(99) == 4001
    assert await closed_after(None, raw="{not json") == 4002
    assert await closed_after(None, raw='{"op": 1, "d": "' + "x" * 5000 + '"}') == 4002


async def test_gateway_rejects_an_unsupported_api_version(emulator: DiscordEmulator) -> None:
    async with raw_gateway(emulator, query={"v": "6"}) as gateway:
        with pytest.raises(GatewayClosed) as closed:
            await gateway.receive()
    assert closed.value.code == 4012


async def test_resume_of_an_unknown_session_is_told_invalid_session(emulator: DiscordEmulator) -> None:
    async with raw_gateway(emulator, path="/resume") as gateway:
        await gateway.receive()
        await gateway.send(6, {"token": emulator.token, "session_id": "nope", "seq": 3})
        assert await gateway.receive() == {"op": 9, "d": False, "s": None, "t": None}


async def test_a_silent_connection_is_closed_as_timed_out(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(heartbeat_interval_ms=100)
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        await gateway.identify(emulator.token, DEFAULT_INTENTS)
        with pytest.raises(GatewayClosed) as closed:  # we never heartbeat
            await gateway.receive_dispatch("NEVER")
    assert closed.value.code == 4009
    assert emulator.gateway_sessions[0].invalid  # Discord: reconnect and start a new session


async def test_too_many_client_payloads_close_with_4008(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(gateway_send_limit=3)
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        for _ in range(4):
            await gateway.send(1, None)
        with pytest.raises(GatewayClosed) as closed:
            await gateway.receive_dispatch("NEVER")
    assert closed.value.code == 4008


async def test_resume_replays_from_the_bounded_buffer_or_is_refused(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(resume_buffer_events=2)
    channel = emulator.channel_id("support")

    async def session_then_away(messages: int) -> str:
        async with raw_gateway(emulator, close_code=4000) as gateway:  # 4000 keeps the session resumable
            await gateway.receive()
            ready = await gateway.identify(emulator.token, DEFAULT_INTENTS | intent_bits.MESSAGE_CONTENT)
            for _ in ready["d"]["guilds"]:  # READY is 1, the two GUILD_CREATEs 2 and 3
                await gateway.receive_dispatch("GUILD_CREATE")
        await eventually(lambda: not emulator.hub.connections, what="the connection to close")
        for i in range(messages):
            emulator.post_message(channel, "alice", f"while away {i}")
        return ready["d"]["session_id"]

    async def resume(session_id: str, count: int) -> list[dict[str, Any]]:
        async with raw_gateway(emulator, path="/resume") as gateway:
            await gateway.receive()
            await gateway.send(6, {"token": emulator.token, "session_id": session_id, "seq": 3})
            return [await gateway.receive() for _ in range(count)]

    kept = await session_then_away(2)
    replayed = await resume(kept, 3)
    assert [(f["t"], f["s"]) for f in replayed] == [("MESSAGE_CREATE", 4), ("MESSAGE_CREATE", 5), ("RESUMED", 6)]
    assert [f["d"]["content"] for f in replayed[:2]] == ["while away 0", "while away 1"]

    overflowed = await session_then_away(3)  # event 4 has left the two-event buffer
    assert await resume(overflowed, 1) == [{"op": 9, "d": False, "s": None, "t": None}]
    assert emulator.hub.sessions[overflowed].invalid


async def test_message_content_intent_decides_who_reads_content(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    async with raw_gateway(emulator) as without, raw_gateway(emulator) as with_intent:
        await without.receive()
        await with_intent.receive()
        await without.identify(emulator.token, DEFAULT_INTENTS)
        await with_intent.identify(emulator.token, DEFAULT_INTENTS | intent_bits.MESSAGE_CONTENT)
        emulator.post_message(channel, "alice", "order 1234 is late",
                              attachments=[{"filename": "a.txt", "data": b"x"}])
        emulator.post_message(channel, "alice", "are you there?", mentions_bot=True)
        plain, mentioned = [(await without.receive_dispatch("MESSAGE_CREATE"))["d"] for _ in range(2)]
        full = (await with_intent.receive_dispatch("MESSAGE_CREATE"))["d"]
    assert (plain["content"], plain["attachments"]) == ("", [])
    assert mentioned["content"].endswith("are you there?")
    assert mentioned["mentions"][0]["id"] == emulator.bot_user["id"]
    assert full["content"] == "order 1234 is late" and len(full["attachments"]) == 1
    assert full["guild_id"] == str(emulator.guild_id()) and "member" in full


async def test_request_guild_members_answers_in_chunks(emulator: DiscordEmulator) -> None:
    guild = emulator.guild_id()
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        await gateway.identify(emulator.token, DEFAULT_INTENTS | intent_bits.GUILD_MEMBERS)
        await gateway.send(8, {"guild_id": str(guild), "query": "", "limit": 0, "nonce": "n1"})
        chunk = (await gateway.receive_dispatch("GUILD_MEMBERS_CHUNK"))["d"]
        await gateway.send(8, {"guild_id": str(guild), "query": "ali", "limit": 5})
        by_name = (await gateway.receive_dispatch("GUILD_MEMBERS_CHUNK"))["d"]
    assert chunk["nonce"] == "n1" and (chunk["chunk_index"], chunk["chunk_count"]) == (0, 1)
    assert {m["user"]["username"] for m in chunk["members"]} == {"socialdesk-bot", "acme-admin", "alice", "bob"}
    assert [m["user"]["username"] for m in by_name["members"]] == ["alice"]


# -- the real discord.py ---------------------------------------------------------------------------------


async def test_discord_py_connects_and_sees_guilds_channels_and_threads(emulator: DiscordEmulator) -> None:
    post = emulator.create_thread(emulator.channel_id("help-forum"), "Where is my order?",
                                  author_username="alice", content="It has been 3 weeks")
    client = make_client()
    async with running(client, emulator):
        assert client.user is not None and str(client.user.id) == emulator.bot_user["id"]
        assert client.application_id == emulator.application_id
        assert {g.name for g in client.guilds} == {COMMUNITY, PARTNERS}
        community = discord.utils.get(client.guilds, name=COMMUNITY)
        assert isinstance(community.get_channel(emulator.channel_id("support")), discord.TextChannel)
        forum = community.get_channel(emulator.channel_id("help-forum"))
        assert isinstance(forum, discord.ForumChannel)
        thread = community.get_thread(int(post["id"]))
        assert thread is not None and thread.parent == forum and thread.name == "Where is my order?"
    [session] = emulator.gateway_sessions
    assert not session.connected
    handshake = emulator.recorder.of("discord", method="GET", path="/", status=101)
    # discord.py asks for zstd-stream when a zstd module is importable (atproto brings zstandard)
    expected = "zstd-stream" if importlib.util.find_spec("zstandard") else "zlib-stream"
    assert handshake[0]["query"] == {"v": "10", "encoding": "json", "compress": expected}


async def test_on_message_gets_content_with_the_intent_and_mentions_without_it(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    with_intent, without = make_client(), make_client(intents=intents(message_content=False))
    inbox, inbox_without = Inbox(with_intent), Inbox(without)
    async with running(with_intent, emulator), running(without, emulator):
        emulator.post_message(channel, "alice", "my parcel is lost")
        emulator.post_message(channel, "bob", "help please", mentions_bot=True)
        await eventually(lambda: len(inbox.messages) == 2 and len(inbox_without.messages) == 2, what="4 messages")
    assert [m.content for m in inbox.messages] == ["my parcel is lost",
                                                   f"<@{emulator.bot_user['id']}> help please"]
    assert [m.content for m in inbox_without.messages] == ["", f"<@{emulator.bot_user['id']}> help please"]
    mentioned = inbox.messages[1]
    assert with_intent.user in mentioned.mentions and mentioned.author.name == "bob"
    assert mentioned.guild is not None and mentioned.channel.id == channel


async def test_reply_with_no_allowed_mentions_pings_nobody(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        emulator.post_message(channel, "alice", "I want a refund")
        question = (await eventually(lambda: inbox.messages, what="the question"))[0]
        reply = await asyncio.wait_for(question.channel.send(
            "@everyone gets a refund, <@%s>!" % question.author.id, reference=question,
            allowed_mentions=discord.AllowedMentions.none()), WAIT)
        await eventually(lambda: inbox.own, what="our own MESSAGE_CREATE")
    stored = emulator.message(channel, reply.id)
    assert stored["message_reference"]["message_id"] == str(question.id)
    assert stored["referenced_message"]["content"] == "I want a refund"
    assert stored["type"] == 19
    assert stored["mentions"] == [] and stored["mention_roles"] == [] and stored["mention_everyone"] is False
    [post] = emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel}/messages")
    assert post["body"]["allowed_mentions"] == {"parse": []}
    assert post["body"]["message_reference"]["message_id"] == question.id
    assert reply.reference is not None and reply.reference.message_id == question.id


async def test_the_same_reply_without_allowed_mentions_would_ping_everyone(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        emulator.post_message(channel, "alice", "I want a refund")
        question = (await eventually(lambda: inbox.messages, what="the question"))[0]
        reply = await asyncio.wait_for(question.reply("@everyone look"), WAIT)
    stored = emulator.message(channel, reply.id)
    assert stored["mention_everyone"] is True
    assert [u["username"] for u in stored["mentions"]] == ["alice"]  # replies ping their author by default


async def test_disconnect_on_demand_then_resume_replays_missed_events_exactly_once(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    resumed = asyncio.Event()
    client.event(_set_on(resumed, "on_resumed"))
    async with running(client, emulator):
        emulator.post_message(channel, "alice", "before")
        await eventually(lambda: len(inbox.messages) == 1, what="the first message")
        assert emulator.disconnect_gateway() == 1
        missed = [emulator.post_message(channel, "alice", f"while down {i}") for i in range(3)]
        assert len(inbox.messages) == 1  # stored, not delivered: nobody is connected
        await asyncio.wait_for(resumed.wait(), WAIT)
        await eventually(lambda: len(inbox.messages) == 4, what="the missed messages")
        emulator.post_message(channel, "alice", "after")
        # One connection keeps order: any duplicate replay would have arrived before "after".
        await eventually(lambda: len(inbox.messages) >= 5, what="the message after resuming")
    assert inbox.ids() == sorted(set(inbox.ids()))
    assert [m.content for m in inbox.messages] == ["before", "while down 0", "while down 1", "while down 2", "after"]
    assert list(emulator.gateway_sessions[0].connection_paths) == ["/", "/resume"]
    assert [int(m["id"]) for m in missed] == inbox.ids()[1:4]
    [session] = emulator.gateway_sessions
    assert session.resumes == 1
    resume = [r for r in emulator.recorder.of("discord", method="WS", direction="inbound")
              if isinstance(r["body"], dict) and r["body"].get("op") == 6]
    assert resume and resume[0]["path"] == "/resume"


def _set_on(event: asyncio.Event, name: str) -> Callable[..., Any]:
    async def handler(*_: Any) -> None:
        event.set()

    handler.__name__ = name
    return handler


async def test_a_non_resumable_disconnect_makes_discord_py_identify_again(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        first = emulator.gateway_sessions[0]
        emulator.disconnect_gateway(resumable=False)
        lost = emulator.post_message(channel, "alice", "lost with the old session")
        await eventually(lambda: any(s.connected and s is not first for s in emulator.gateway_sessions),
                         what="a new session")
        emulator.post_message(channel, "alice", "seen by the new session")
        await eventually(lambda: inbox.messages, what="a message on the new session")
    assert [m.content for m in inbox.messages] == ["seen by the new session"]
    assert lost["id"] not in {str(i) for i in inbox.ids()}
    assert first.invalid and emulator.hub.identifies == 2
    op9 = [r for r in emulator.recorder.of("discord", method="WS", direction="outbound")
           if isinstance(r["body"], dict) and r["body"].get("op") == 9]
    assert op9 and op9[0]["body"]["d"] is False


async def test_op7_reconnect_and_op9_resumable_both_end_in_resume(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        [session] = emulator.gateway_sessions
        assert emulator.send_reconnect() == 1
        emulator.post_message(channel, "alice", "during reconnect")
        await eventually(lambda: session.resumes == 1 and session.connected, what="resume after op 7")
        assert emulator.invalidate_sessions(resumable=True) == 1
        emulator.post_message(channel, "alice", "during invalid session")
        await eventually(lambda: session.resumes == 2 and session.connected, what="resume after op 9")
        await eventually(lambda: len(inbox.messages) == 2, what="both messages")
    assert [m.content for m in inbox.messages] == ["during reconnect", "during invalid session"]
    assert emulator.hub.identifies == 1


async def test_a_held_outage_refuses_connections_until_restored(emulator: DiscordEmulator) -> None:
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        emulator.disconnect_gateway(hold=True)
        emulator.post_message(channel, "alice", "posted during the outage")
        await eventually(lambda: emulator.recorder.of("discord", method="GET", path="/resume", status=503),
                         what="a refused reconnect")
        assert inbox.messages == []
        emulator.restore_gateway()
        await eventually(lambda: inbox.messages, timeout=30, what="the message after the outage")
    assert [m.content for m in inbox.messages] == ["posted during the outage"]
    assert emulator.gateway_sessions[0].resumes == 1


async def test_random_gateway_disconnects_still_deliver_every_message_once(make_emulator: EmulatorFactory) -> None:
    faults = GatewayFaults(disconnect=0.3, drop=0.1, seed=7)
    emulator = await make_emulator(gateway_faults=faults)
    channel = emulator.channel_id("support")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        posted = []
        for i in range(20):
            posted.append(int(emulator.post_message(channel, "alice", f"message {i}")["id"]))
            await eventually(lambda: inbox.ids() and inbox.ids()[-1] == posted[-1], what=f"message {i}")
    assert inbox.ids() == posted
    assert faults.counts.get("disconnect", 0) + faults.counts.get("drop", 0) > 0
    assert emulator.gateway_sessions[0].resumes > 0 and emulator.hub.identifies == 1


async def test_discord_py_waits_out_an_injected_429_and_succeeds(make_emulator: EmulatorFactory) -> None:
    # A seed whose first draw is a 429 and second is not: the first send is limited, its retry passes.
    seed = next(s for s in range(1000) if (r := random.Random(s)).random() < 0.5 <= r.random())
    plan = FaultPlan(rate_limited=0.5, retry_after_seconds=0.2, only_paths=("/api/v10/channels/",), seed=seed)
    emulator = await make_emulator(faults=plan)
    channel_id = emulator.channel_id("support")
    client = make_client()
    async with running(client, emulator):
        channel = client.get_channel(channel_id)
        sent = await asyncio.wait_for(channel.send("hello after a 429"), WAIT)
    assert emulator.message(channel_id, sent.id)["content"] == "hello after a 429"
    posts = emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel_id}/messages")
    assert [p["status"] for p in posts] == [429, 200]
    assert posts[0]["response"]["retry_after"] == 0.2
    assert len(emulator.messages(channel_id)) == 1


async def test_discord_py_retries_an_injected_500(make_emulator: EmulatorFactory) -> None:
    seed = next(s for s in range(1000) if (r := random.Random(s)).random() < 0.5 <= r.random())
    plan = FaultPlan(server_error=0.5, only_paths=("/api/v10/channels/",), seed=seed)
    emulator = await make_emulator(faults=plan)
    channel_id = emulator.channel_id("support")
    client = make_client()
    async with running(client, emulator):
        sent = await asyncio.wait_for(client.get_channel(channel_id).send("after a 500"), WAIT)
    posts = emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel_id}/messages")
    assert [p["status"] for p in posts] == [500, 200]
    assert [m["id"] for m in emulator.messages(channel_id)] == [str(sent.id)]


async def test_discord_py_honours_bucket_headers_without_hitting_429(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(route_limits={"POST /channels/{channel_id}/messages": RateLimitRule(2, 0.5)})
    channel_id = emulator.channel_id("support")
    client = make_client()
    async with running(client, emulator):
        channel = client.get_channel(channel_id)
        for i in range(5):
            await asyncio.wait_for(channel.send(f"burst {i}"), WAIT)
    posts = emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel_id}/messages")
    assert [p["status"] for p in posts] == [200] * 5
    assert [m["content"] for m in emulator.messages(channel_id)] == [f"burst {i}" for i in range(5)]


async def test_history_after_pages_through_every_message_in_order(emulator: DiscordEmulator) -> None:
    channel_id = emulator.channel_id("general")
    posted = [emulator.post_message(channel_id, "bob", f"m{i}") for i in range(150)]
    client = make_client()
    async with running(client, emulator):
        channel = client.get_channel(channel_id)
        first = discord.Object(id=int(posted[0]["id"]))
        after = [m async for m in channel.history(limit=None, after=first)]
        newest = [m async for m in channel.history(limit=120)]
    assert [m.content for m in after] == [f"m{i}" for i in range(1, 150)]
    assert [m.content for m in newest] == [f"m{i}" for i in range(149, 29, -1)]
    pages = emulator.recorder.of("discord", method="GET", path=f"/api/v10/channels/{channel_id}/messages")
    assert [p["query"].get("limit") for p in pages] == ["100", "100", "100", "20"]


async def test_auto_sharded_client_gets_messages_from_guilds_on_both_shards(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(recommended_shards=2)
    community, partners = emulator.guild_id(COMMUNITY), emulator.guild_id(PARTNERS)
    assert {emulator.shard_of(community, 2), emulator.shard_of(partners, 2)} == {0, 1}
    client = make_client(SandboxShardedClient)
    inbox = Inbox(client)
    async with running(client, emulator):
        assert client.shard_count == 2
        assert {g.id: g.shard_id for g in client.guilds} == {community: emulator.shard_of(community, 2),
                                                             partners: emulator.shard_of(partners, 2)}
        emulator.post_message(emulator.channel_id("support"), "alice", "from the community")
        emulator.post_message(emulator.channel_id("partners"), "carol", "from a partner")
        await eventually(lambda: len(inbox.messages) == 2, what="one message per shard")
    assert {(m.guild.id, m.guild.shard_id) for m in inbox.messages} == {
        (community, emulator.shard_of(community, 2)), (partners, emulator.shard_of(partners, 2))}
    assert sorted(s.shard for s in emulator.gateway_sessions) == [(0, 2), (1, 2)]
    assert [r["status"] for r in emulator.recorder.of("discord", path="/api/v10/gateway/bot")] == [200]


async def test_asking_for_a_privileged_intent_the_app_lacks_closes_with_4014(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(enabled_privileged_intents=0)
    client = make_client()
    with pointed_at(emulator):
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(emulator.token), WAIT)
        await client.close()
    closes = [r for r in emulator.recorder.of("discord", method="WS", direction="outbound")
              if "close_code" in (r["body"] or {})]
    assert closes[0]["body"]["close_code"] == 4014


async def test_a_wrong_token_fails_discord_py_login(emulator: DiscordEmulator) -> None:
    client = make_client()
    with pointed_at(emulator), pytest.raises(discord.LoginFailure):
        await asyncio.wait_for(client.login("MTIz.wrong.token"), WAIT)
    await client.close()


async def test_the_members_intent_fills_the_member_cache_by_chunking(emulator: DiscordEmulator) -> None:
    client = make_client(intents=intents(members=True))
    async with running(client, emulator):
        community = discord.utils.get(client.guilds, name=COMMUNITY)
        assert community.chunked
        assert {m.name for m in community.members} == {"socialdesk-bot", "acme-admin", "alice", "bob"}
    requests = [r for r in emulator.recorder.of("discord", method="WS", direction="inbound")
                if isinstance(r["body"], dict) and r["body"].get("op") == 8]
    assert len(requests) == 2  # one per guild


async def test_files_are_uploaded_as_multipart_and_served_back(emulator: DiscordEmulator) -> None:
    channel_id = emulator.channel_id("support")
    client = make_client()
    async with running(client, emulator):
        sent = await asyncio.wait_for(client.get_channel(channel_id).send(
            "the invoice", file=discord.File(io.BytesIO(b"%PDF-1.7 invoice"), "invoice.pdf")), WAIT)
        [attachment] = sent.attachments
        assert (attachment.filename, attachment.size) == ("invoice.pdf", 16)
        assert attachment.url.startswith(f"http://127.0.0.1:{emulator.port}/attachments/")
        assert await asyncio.wait_for(attachment.read(), WAIT) == b"%PDF-1.7 invoice"
    [post] = emulator.recorder.of("discord", method="POST", path=f"/api/v10/channels/{channel_id}/messages")
    assert post["status"] == 200


async def test_discord_py_starts_threads_and_forum_posts(emulator: DiscordEmulator) -> None:
    support_id, forum_id = emulator.channel_id("support"), emulator.channel_id("help-forum")
    client = make_client()
    created: list[discord.Thread] = []

    @client.event
    async def on_thread_create(thread: discord.Thread) -> None:
        created.append(thread)

    inbox = Inbox(client)
    async with running(client, emulator):
        emulator.post_message(support_id, "alice", "my package is damaged")
        question = (await eventually(lambda: inbox.messages, what="the question"))[0]
        thread = await asyncio.wait_for(question.create_thread(name="Damaged package"), WAIT)
        await asyncio.wait_for(thread.send("Sorry to hear that!"), WAIT)
        forum = client.get_channel(forum_id)
        post = await asyncio.wait_for(forum.create_thread(name="Shipping times", content="How long?"), WAIT)
        emulator.post_message(thread.id, "alice", "thanks")
        await eventually(lambda: any(m.channel.id == thread.id for m in inbox.messages), what="the reply in thread")
        await eventually(lambda: len(created) == 2, what="THREAD_CREATE for both threads")
    assert thread.id == question.id and thread.parent_id == support_id
    assert [m["content"] for m in emulator.messages(thread.id)] == ["Sorry to hear that!", "thanks"]
    assert post.thread.parent_id == forum_id and post.message.content == "How long?"
    assert emulator.messages(post.thread.id)[0]["id"] == str(post.thread.id)


async def test_the_traffic_record_holds_every_frame_and_never_the_token(tmp_path: Any) -> None:
    record = tmp_path / "traffic.jsonl"
    recorder = TrafficRecorder(record)
    emulator = DiscordEmulator(recorder=recorder, settings=DiscordSettings(**FAST))
    await emulator.start()
    try:
        client = make_client()
        inbox = Inbox(client)
        async with running(client, emulator):
            emulator.post_message(emulator.channel_id("support"), "alice", "hello")
            await eventually(lambda: inbox.messages, what="a message")
            await asyncio.wait_for(inbox.messages[0].reply("hi!"), WAIT)
    finally:
        await emulator.stop()
        recorder.close()
    text = record.read_text()
    assert emulator.token not in text
    lines = text.splitlines()
    assert len(lines) == len(recorder.records)
    frames = recorder.of("discord", method="WS")
    inbound_ops = [r["body"].get("op") for r in frames if r["direction"] == "inbound" and "op" in r["body"]]
    outbound = [(r["body"].get("op"), r["body"].get("t")) for r in frames
                if r["direction"] == "outbound" and "op" in r["body"]]
    assert {1, 2} <= set(inbound_ops)
    assert {(10, None), (11, None), (0, "READY"), (0, "GUILD_CREATE"), (0, "MESSAGE_CREATE")} <= set(outbound)
    identify = next(r for r in frames if r["body"].get("op") == 2)
    assert identify["body"]["d"]["token"] == "***"
    for record_ in recorder.records:
        assert {"emulator", "direction", "method", "path", "query", "body", "status", "time"} <= set(record_)


async def test_stop_closes_live_gateway_connections(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator()
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        await gateway.identify(emulator.token, DEFAULT_INTENTS)
        await asyncio.wait_for(emulator.stop(), WAIT)
        with pytest.raises(GatewayClosed) as closed:
            await gateway.receive_dispatch("NEVER")
    assert closed.value.code == 1001
    assert not emulator.hub.connections
