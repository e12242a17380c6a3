"""Conformance to Discord's own API description (tests/contract/specs/discord/openapi.json).

The emulator's real answers are validated against the response schema of the operation
they answer, and what discord.py (the client socialdesk uses) really sends against the
request schema — JSON Schema 2020-12 over the whole document, ``$ref``s resolved with the
``referencing`` registry jsonschema uses. The gateway is not in the description; the
objects it carries (users, guilds, channels, messages) are checked against the REST shapes.

Two errata, each with a test that fails once the upstream description is fixed:
- request snowflakes: discord.py sends ids as JSON integers (Discord accepts them); the
  description types SnowflakeType as a string.
- field errors: Discord's ``errors`` tree carries string codes ("BASE_TYPE_MAX_LENGTH");
  the description reuses ``Error`` whose ``code`` is an integer.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import jsonschema
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from socialdesk.sandbox.discord import DiscordEmulator, DiscordSettings, RateLimitRule
from socialdesk.sandbox.discord import intents as intent_bits
from socialdesk.sandbox.faults import FaultPlan
from tests.sandbox.discord_loopback import WAIT, Inbox, eventually, make_client, raw_gateway, running

SPEC_PATH = Path(__file__).parent / "specs" / "discord" / "openapi.json"
SPEC_URI = "urn:socialdesk:contract:discord-openapi"  # the document has no $id; any base URI will do
DEFAULT_INTENTS = intent_bits.KNOWN & ~intent_bits.PRIVILEGED  # what discord.Intents.default() asks for


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _with_request_erratum(document: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(document)
    schemas = patched["components"]["schemas"]
    schemas["SnowflakeType"] = {"anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]}
    return patched


def _with_error_erratum(document: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(document)
    items = patched["components"]["schemas"]["InnerErrors"]["properties"]["_errors"]
    items["items"] = {"type": "object", "required": ["code", "message"],
                      "properties": {"code": {"type": ["integer", "string"]}, "message": {"type": "string"}}}
    return patched


@functools.cache
def registry(erratum: str | None = None) -> Registry:
    document = spec()
    if erratum == "request-snowflakes":
        document = _with_request_erratum(document)
    elif erratum == "field-error-codes":
        document = _with_error_erratum(document)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def validator(pointer: str, erratum: str | None = None) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=registry(erratum))


def component(name: str, erratum: str | None = None) -> Draft202012Validator:
    return validator(_pointer("components", "schemas", name), erratum)


def response_validator(path: str, method: str, status: int, erratum: str | None = None) -> Draft202012Validator:
    """The schema of the operation's answer for ``status`` (exact code, else ``4XX``-style)."""
    responses = spec()["paths"][path][method.lower()]["responses"]
    key = str(status) if str(status) in responses else f"{status // 100}XX"
    response = responses[key]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        return validator(_pointer("components", "responses", name, "content", "application/json", "schema"), erratum)
    return validator(_pointer("paths", path, method.lower(), "responses", key, "content", "application/json",
                              "schema"), erratum)


def request_validator(path: str, method: str, erratum: str | None = "request-snowflakes") -> Draft202012Validator:
    return validator(_pointer("paths", path, method.lower(), "requestBody", "content", "application/json",
                              "schema"), erratum)


def assert_valid(check: Draft202012Validator, instance: Any, what: str) -> None:
    problems = sorted(check.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not problems, f"{what} does not conform: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in problems[:5])


def assert_headers_conform(headers: Any) -> None:
    for name, declared in spec()["components"]["headers"].items():
        value = headers.get(name)
        assert value is not None, f"missing {name}"
        kind = declared["schema"]["type"]
        parsed: Any = int(value) if kind == "integer" else float(value) if kind == "number" else value
        assert_valid(Draft202012Validator(declared["schema"]), parsed, name)


# -- the world the answers are taken from -----------------------------------------------------------------


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator(settings=DiscordSettings(heartbeat_interval_ms=1000))
    await emulator.start()
    support = emulator.channel_id("support")
    role = emulator.add_role(emulator.guild_id(), "customers", mentionable=True)
    first = emulator.post_message(support, "alice", "My order never arrived",
                                  attachments=[{"filename": "receipt.png", "data": b"\x89PNG", "content_type": "image/png"}],
                                  embeds=[{"title": "Order 1234", "description": "Placed last week"}])
    emulator.post_message(support, "bob", f"Same here <@{emulator.user_id('alice')}> <@&{role}>", reply_to=int(first["id"]),
                          mentions_bot=True)
    emulator.create_thread(support, "Order 1234", message_id=int(first["id"]))
    emulator.create_thread(emulator.channel_id("help-forum"), "Returns", author_username="alice",
                           content="How do returns work?")
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def http(emulator: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.base_url, timeout=aiohttp.ClientTimeout(total=WAIT),
                                     headers={"Authorization": f"Bot {emulator.token}"}) as session:
        yield session


# -- the description and the validator ----------------------------------------------------------------------


def test_the_vendored_description_is_openapi_3_1_for_rest_v10() -> None:
    document = spec()
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == "https://discord.com/api/v10"


@pytest.mark.parametrize(("schema", "instance"), [
    ("UserPIIResponse", {"id": 1, "username": "x"}),
    ("MessageResponse", {"id": "1", "content": "no author or anything else"}),
    ("MessageCreateRequest", {"content": 5}),
    ("MessageCreateRequest", {"content": "x" * 4001}),
    ("MessageCreateRequest", {"allowed_mentions": {"parse": ["nobody"]}}),
    ("RatelimitedResponse", {"message": "You are being rate limited.", "code": 0, "global": False}),
    ("ErrorResponse", {"message": "401: Unauthorized"}),
])
def test_the_validator_rejects_what_the_description_forbids(schema: str, instance: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        component(schema).validate(instance)


def test_the_validator_follows_refs_across_the_whole_document() -> None:
    message = {"type": 0, "content": "", "mentions": [{"id": "x"}], "mention_roles": [], "attachments": [],
               "embeds": [], "timestamp": "t", "edited_timestamp": None, "flags": 0, "components": [],
               "id": "1", "channel_id": "2", "pinned": False, "mention_everyone": False, "tts": False,
               "author": {"id": "3", "username": "u", "avatar": None, "discriminator": "0", "public_flags": 0,
                          "flags": 0, "global_name": None, "primary_guild": None}}
    errors = list(component("MessageResponse").iter_errors(message))
    # The bad nested user is caught two $refs deep (MessageResponse -> UserResponse -> SnowflakeType).
    assert errors and all(list(e.absolute_path)[:1] == ["mentions"] for e in errors)
    message["mentions"] = []
    component("MessageResponse").validate(message)


def test_erratum_request_snowflakes_is_still_needed() -> None:
    body = {"content": "hi", "message_reference": {"message_id": 1234567890123456789, "channel_id": 1}}
    with pytest.raises(jsonschema.ValidationError):
        component("MessageCreateRequest").validate(body)
    component("MessageCreateRequest", "request-snowflakes").validate(body)


def test_erratum_field_error_codes_is_still_needed() -> None:
    body = {"code": 50035, "message": "Invalid Form Body",
            "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                "message": "Must be 2000 or fewer in length."}]}}}
    with pytest.raises(jsonschema.ValidationError):
        component("ErrorResponse").validate(body)
    component("ErrorResponse", "field-error-codes").validate(body)


# -- what the emulator answers ------------------------------------------------------------------------------


def _paths(emulator: DiscordEmulator) -> list[tuple[str, str]]:
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    first = emulator.messages(support)[0]["id"]
    post = emulator.channel_id("Returns")
    return [
        ("/users/@me", "/users/@me"),
        ("/users/@me/guilds", "/users/@me/guilds?with_counts=true"),
        ("/oauth2/applications/@me", "/oauth2/applications/@me"),
        ("/gateway", "/gateway"),
        ("/gateway/bot", "/gateway/bot"),
        ("/guilds/{guild_id}", f"/guilds/{guild}?with_counts=true"),
        ("/guilds/{guild_id}", f"/guilds/{guild}"),
        ("/guilds/{guild_id}/channels", f"/guilds/{guild}/channels"),
        ("/guilds/{guild_id}/threads/active", f"/guilds/{guild}/threads/active"),
        ("/channels/{channel_id}", f"/channels/{support}"),
        ("/channels/{channel_id}", f"/channels/{emulator.channel_id('help-forum')}"),
        ("/channels/{channel_id}", f"/channels/{post}"),
        ("/channels/{channel_id}", f"/channels/{first}"),  # the thread on the first message
        ("/channels/{channel_id}/messages", f"/channels/{support}/messages"),
        ("/channels/{channel_id}/messages", f"/channels/{post}/messages?limit=5"),
        ("/channels/{channel_id}/messages/{message_id}", f"/channels/{support}/messages/{first}"),
    ]


async def test_every_read_answer_conforms(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    for template, path in _paths(emulator):
        async with http.get("/api/v10" + path) as response:
            assert response.status == 200, path
            assert response.headers["Content-Type"] == "application/json"
            assert_headers_conform(response.headers)
            assert_valid(response_validator(template, "GET", 200), await response.json(), f"GET {path}")


async def test_answers_are_not_empty_of_what_they_should_carry(emulator: DiscordEmulator,
                                                               http: aiohttp.ClientSession) -> None:
    # Guards the test above against passing on empty lists.
    async with http.get(f"/api/v10/channels/{emulator.channel_id('support')}/messages") as response:
        listed = await response.json()
    reply, first = listed
    assert first["attachments"] and first["embeds"] and first["thread"]
    assert reply["message_reference"] and reply["referenced_message"] and reply["mentions"] and reply["mention_roles"]


async def test_the_answer_to_a_sent_message_conforms(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    support = emulator.channel_id("support")
    first = emulator.messages(support)[0]["id"]
    body = {"content": "We are on it", "message_reference": {"message_id": first},
            "allowed_mentions": {"parse": []}, "embeds": [{"title": "Ticket #7"}], "nonce": "n-7",
            "enforce_nonce": True}
    assert_valid(request_validator("/channels/{channel_id}/messages", "POST", erratum=None), body, "our request")
    async with http.post(f"/api/v10/channels/{support}/messages", json=body) as response:
        assert response.status == 200
        assert_headers_conform(response.headers)
        assert_valid(response_validator("/channels/{channel_id}/messages", "POST", 200), await response.json(),
                     "POST messages answer")


async def test_editing_and_deleting_our_message_conform(emulator: DiscordEmulator,
                                                        http: aiohttp.ClientSession) -> None:
    support = emulator.channel_id("support")
    async with http.post(f"/api/v10/channels/{support}/messages", json={"content": "We are on it"}) as response:
        ours = await response.json()
    path = f"/api/v10/channels/{support}/messages/{ours['id']}"
    body = {"content": "Fixed: it ships today", "allowed_mentions": {"parse": []}}
    assert_valid(request_validator("/channels/{channel_id}/messages/{message_id}", "PATCH", erratum=None), body,
                 "our edit")
    async with http.patch(path, json=body) as response:
        assert response.status == 200
        assert_headers_conform(response.headers)
        edited = await response.json()
        assert_valid(response_validator("/channels/{channel_id}/messages/{message_id}", "PATCH", 200), edited,
                     "PATCH message answer")
    assert edited["content"] == "Fixed: it ships today" and edited["edited_timestamp"] is not None
    first = emulator.messages(support)[0]["id"]  # a customer's message: the bot may not edit it
    async with http.patch(f"/api/v10/channels/{support}/messages/{first}", json=body) as response:
        assert response.status == 403 and (await response.json())["code"] == 50005
    async with http.delete(path) as response:
        assert response.status == 204 and await response.read() == b""
        assert_headers_conform(response.headers)
    async with http.delete(path) as response:
        assert response.status == 404 and (await response.json())["code"] == 10008


async def test_thread_answers_conform(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    support, forum = emulator.channel_id("support"), emulator.channel_id("help-forum")
    second = emulator.messages(support)[1]["id"]
    cases = [
        ("/channels/{channel_id}/threads", f"/channels/{forum}/threads",
         {"name": "Billing", "message": {"content": "Charged twice"}, "applied_tags": []}),
        ("/channels/{channel_id}/threads", f"/channels/{support}/threads",
         {"name": "Escalation", "type": 11, "auto_archive_duration": 1440}),
        ("/channels/{channel_id}/messages/{message_id}/threads", f"/channels/{support}/messages/{second}/threads",
         {"name": "Follow-up"}),
    ]
    for template, path, body in cases:
        assert_valid(request_validator(template, "POST", erratum=None), body, f"our request to {path}")
        async with http.post("/api/v10" + path, json=body) as response:
            assert response.status == 201, path
            assert_valid(response_validator(template, "POST", 201), await response.json(), f"POST {path}")


async def test_error_answers_conform(emulator: DiscordEmulator) -> None:
    support = emulator.channel_id("support")
    url = emulator.api_base
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        good = {"Authorization": f"Bot {emulator.token}"}
        cases = [
            ("/users/@me", "GET", f"{url}/users/@me", {}, None, 401, None),
            ("/channels/{channel_id}", "GET", f"{url}/channels/1", good, None, 404, None),
            ("/channels/{channel_id}/messages", "GET", f"{url}/channels/{support}/messages?limit=500", good, None,
             400, "field-error-codes"),
            ("/channels/{channel_id}/messages", "POST", f"{url}/channels/{support}/messages", good,
             {"content": "x" * 2001}, 400, "field-error-codes"),
            ("/channels/{channel_id}/messages", "POST", f"{url}/channels/{support}/messages", good, {"content": ""},
             400, None),
        ]
        for template, method, target, headers, body, status, erratum in cases:
            async with http.request(method, target, headers=headers, json=body) as response:
                assert (response.status, response.headers["Content-Type"]) == (status, "application/json")
                assert_valid(response_validator(template, method, status, erratum), await response.json(),
                             f"{method} {target} -> {status}")


async def test_rate_limited_answers_conform() -> None:
    plan = FaultPlan()
    emulator = DiscordEmulator(faults=plan, settings=DiscordSettings(
        route_limits={"POST /channels/{channel_id}/messages": RateLimitRule(1, 60.0)}))
    await emulator.start()
    try:
        target = f"{emulator.api_base}/channels/{emulator.channel_id('support')}/messages"
        headers = {"Authorization": f"Bot {emulator.token}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
            answers = []
            for _ in range(2):  # the bucket's own 429
                async with http.post(target, json={"content": "hi"}, headers=headers) as response:
                    answers.append((response.status, response.headers, await response.json()))
            plan.set(rate_limited=1.0)  # an injected 429
            async with http.get(f"{emulator.api_base}/users/@me", headers=headers) as response:
                answers.append((response.status, response.headers, await response.json()))
        for (status, response_headers, body), template, method in zip(
                answers[1:], ("/channels/{channel_id}/messages", "/users/@me"), ("POST", "GET"), strict=True):
            assert status == 429
            assert_headers_conform(response_headers)
            assert_valid(response_validator(template, method, 429), body, f"{method} {template} 429")
    finally:
        await emulator.stop()


async def test_gateway_objects_have_the_rest_shapes(emulator: DiscordEmulator) -> None:
    async with raw_gateway(emulator) as gateway:
        await gateway.receive()
        ready = await gateway.identify(emulator.token, DEFAULT_INTENTS | intent_bits.MESSAGE_CONTENT)
        created = await gateway.receive_dispatch("GUILD_CREATE")
        emulator.post_message(emulator.channel_id("support"), "alice", "one more thing", mentions_bot=True)
        message = await gateway.receive_dispatch("MESSAGE_CREATE")
    assert_valid(component("UserPIIResponse"), ready["d"]["user"], "READY user")
    guild = created["d"]
    assert_valid(component("GuildWithCountsResponse"), guild, "GUILD_CREATE guild")
    for channel in guild["channels"]:
        assert_valid(component("GuildChannelResponse"), channel, f"GUILD_CREATE channel {channel['name']}")
    for thread in guild["threads"]:
        assert_valid(component("ThreadResponse"), thread, f"GUILD_CREATE thread {thread['name']}")
    for member in guild["members"]:
        assert_valid(component("GuildMemberResponse"), member, "GUILD_CREATE member")
    assert guild["threads"] and guild["members"]
    assert_valid(component("MessageResponse"), message["d"], "MESSAGE_CREATE message")


# -- what discord.py sends ----------------------------------------------------------------------------------


def _sent_bodies(emulator: DiscordEmulator, method: str, prefix: str) -> list[Any]:
    bodies = []
    for record in emulator.recorder.of("discord", method=method):
        if not record["path"].startswith(prefix) or not 200 <= record["status"] < 300:
            continue
        body = record["body"]
        if isinstance(body, dict) and "payload_json" in body:  # multipart: the JSON is in payload_json
            body = body["payload_json"]
        bodies.append((record["path"], body))
    return bodies


async def test_what_discord_py_sends_conforms(emulator: DiscordEmulator) -> None:
    support, forum_id = emulator.channel_id("support"), emulator.channel_id("help-forum")
    client = make_client()
    inbox = Inbox(client)
    async with running(client, emulator):
        emulator.post_message(support, "alice", "Where is my refund?")
        question = (await eventually(lambda: inbox.messages, what="the question"))[0]
        channel = question.channel
        await asyncio.wait_for(channel.send("Looking into it", reference=question,
                                            allowed_mentions=discord.AllowedMentions.none()), WAIT)
        await asyncio.wait_for(question.reply("Refunded", mention_author=False,
                                              embed=discord.Embed(title="Refund", description="3-5 days")), WAIT)
        await asyncio.wait_for(channel.send("Receipt", file=discord.File(io.BytesIO(b"pdf"), "receipt.pdf")), WAIT)
        thread = await asyncio.wait_for(question.create_thread(name="Refund #1"), WAIT)
        await asyncio.wait_for(thread.send("Details here"), WAIT)
        await asyncio.wait_for(client.get_channel(forum_id).create_thread(name="FAQ", content="Refunds"), WAIT)
    message_posts = _sent_bodies(emulator, "POST", "/api/v10/channels/")
    checked = 0
    for path, body in message_posts:
        if path.endswith("/messages"):
            template = "/channels/{channel_id}/messages"
        elif "/messages/" in path:
            template = "/channels/{channel_id}/messages/{message_id}/threads"
        else:
            template = "/channels/{channel_id}/threads"
        assert_valid(request_validator(template, "POST"), body, f"discord.py's POST {path}")
        checked += 1
    assert checked == 6
    reply = message_posts[0][1]
    assert reply["allowed_mentions"] == {"parse": []} and reply["message_reference"]["message_id"] == question.id
