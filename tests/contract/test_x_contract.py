"""Contract: the X emulator's answers, and what tweepy sends, against X's own OpenAPI description.

The description (tests/contract/specs/x/openapi.json, OpenAPI 3.0, X API v2 2.167 from
xdevplatform/xdk) is turned into JSON Schema: ``#/components/...`` references resolve
over the whole document, and OpenAPI's ``nullable: true`` becomes an explicit null.

The description and the live API (which tweepy and the emulator speak) differ in a
few names. Rather than loosening the schemas, answers are translated into the
description's dialect before validation, one documented rename at a time
(``LIVE_TO_DESCRIBED``), and ``test_known_divergences_are_still_real`` fails as soon as
the description stops needing a translation. Problems the description does not list at
all (``about:blank``, unsupported-authentication) are checked against the shape every
problem in the description shares. Error bodies are checked as ``Problem`` whatever
their content type: X sends its problem bodies as ``application/json``, for which the
description names a ``{code, message}`` ``Error`` schema that no v2 answer uses.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tweepy
from referencing import Registry
from referencing.jsonschema import DRAFT4

from socialdesk.sandbox.x import RateLimits, XEmulator
from tests.sandbox.tweepy_loopback import close_client, loopback_client

SPEC_PATH = Path(__file__).parent / "specs" / "x" / "openapi.json"
SPEC_URI = "urn:socialdesk:x-openapi"
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc).timestamp()

# Operations the emulator serves: (method, path template in the description).
EMULATED = [("get", "/2/users/me"), ("get", "/2/users/{id}/mentions"), ("get", "/2/tweets/search/recent"),
            ("get", "/2/tweets"), ("get", "/2/tweets/{id}"), ("post", "/2/tweets"), ("delete", "/2/tweets/{id}")]

# Live API name -> the description's name. (schema where the described name lives, described name)
LIVE_TO_DESCRIBED: dict[str, tuple[str, str]] = {
    "edit_history_tweet_ids": ("Post", "edit_history_post_ids"),
    "referenced_tweets": ("Post", "referenced_posts"),
    "retweet_count": ("PostPublicMetrics", "repost_count"),
    "tweet_count": ("UserPublicMetrics", "post_count"),
    "most_recent_tweet_id": ("User", "most_recent_post_id"),
}
LIVE_INCLUDES = {"tweets": "posts"}  # includes.tweets is includes.posts in the description
LIVE_PROBLEM_ORIGIN = "https://api.twitter.com/2/problems/"
DESCRIBED_PROBLEM_ORIGIN = "https://api.x.com/2/problems/"
# Problem types the live API sends that the description does not list.
UNDESCRIBED_PROBLEM_TYPES = {"about:blank", "https://api.x.com/2/problems/unsupported-authentication"}


# --- the description as JSON Schema ----------------------------------------------------------

def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema that also accepts null, everywhere in the document."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if converted.get("nullable") is not True:
        return converted
    del converted["nullable"]
    if "$ref" in converted or "type" not in converted:
        # $ref siblings are ignored in OpenAPI 3.0 / draft 4, so wrap instead of annotating
        return {"anyOf": [converted, {"type": "null"}]}
    converted["type"] = [converted["type"], "null"]
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    return converted


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT4.create_resource(_nullable_to_json_schema(spec())))


def validator(schema: dict[str, Any]) -> jsonschema.Draft4Validator:
    """A validator for a schema that may ``$ref`` into the description (``#/components/...``)."""
    rooted = json.loads(json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/'))
    return jsonschema.Draft4Validator(rooted, registry=_registry())


def component(name: str) -> jsonschema.Draft4Validator:
    return validator({"$ref": f"#/components/schemas/{name}"})


@cache
def generic_problem_schema() -> dict[str, Any]:
    """What every problem in the description has in common: required fields and their types, any ``type`` URI."""
    members = [spec()["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
               for ref in spec()["components"]["schemas"]["Problem"]["oneOf"]]
    required = set.intersection(*(set(m["required"]) for m in members))
    shared = set.intersection(*(set(m["properties"]) for m in members))
    properties = {name: members[0]["properties"][name] for name in shared if name != "type"}
    for name in properties:
        assert all(m["properties"][name] == properties[name] for m in members), name
    return {"type": "object", "required": sorted(required), "properties": {**properties, "type": {"type": "string"}}}


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The described operation serving a concrete request path."""
    for verb, template in EMULATED:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if verb == method.lower() and re.match(pattern, path) and not (
                template == "/2/tweets/{id}" and path == "/2/tweets/search/recent"):
            return template, spec()["paths"][template][verb]
    raise LookupError(f"{method} {path} is not an emulated operation")


# --- translating the live dialect into the description's -------------------------------------

def to_described(body: Any) -> Any:
    """``body`` with live-API names and problem URIs renamed to the description's."""
    if isinstance(body, list):
        return [to_described(item) for item in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "type" and isinstance(value, str) and value.startswith(LIVE_PROBLEM_ORIGIN):
            value = DESCRIBED_PROBLEM_ORIGIN + value[len(LIVE_PROBLEM_ORIGIN):]
        elif key == "includes" and isinstance(value, dict):
            value = {LIVE_INCLUDES.get(k, k): v for k, v in value.items()}
        out[LIVE_TO_DESCRIBED[key][1] if key in LIVE_TO_DESCRIBED else key] = to_described(value)
    return out


def problem_errors(body: dict[str, Any]) -> list[str]:
    """Why an error answer does not conform (empty when it does)."""
    described = to_described(body)
    if described.get("type") in UNDESCRIBED_PROBLEM_TYPES:
        found = validator(generic_problem_schema()).iter_errors(described)
    else:
        found = component("Problem").iter_errors(described)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def answer_errors(record: dict[str, Any]) -> list[str]:
    """Why a recorded answer does not conform to its operation's described response (empty when it does)."""
    template, op = operation(record["method"], record["path"])
    status = record["status"]
    if status >= 400:
        return problem_errors(record["response"])
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    return [f"{template} {status} {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(schema).iter_errors(to_described(record["response"]))]


# --- a session of real traffic ---------------------------------------------------------------

class EpochClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def x() -> AsyncIterator[XEmulator]:
    async with XEmulator(clock=EpochClock()) as emulator:
        emulator.add_user("dana", "Dana", followers=1200, verified=True)
        emulator.add_user("fox", "Fox")
        yield emulator


@pytest.fixture
async def clients(x: XEmulator) -> AsyncIterator[tuple[Any, Any]]:
    app, brand = x.app_credentials, x.brand_credentials
    reader = loopback_client(x.base_url, bearer_token=app.bearer_token)
    poster = loopback_client(x.base_url, consumer_key=app.consumer_key, consumer_secret=app.consumer_secret,
                             access_token=brand.access_token, access_token_secret=brand.access_token_secret)
    yield reader, poster
    await close_client(reader)
    await close_client(poster)


ALL_TWEET_FIELDS = ["created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "author_id",
                    "entities", "public_metrics", "lang", "possibly_sensitive", "reply_settings", "edit_controls",
                    "display_text_range", "edit_history_tweet_ids"]
ALL_USER_FIELDS = ["created_at", "description", "profile_image_url", "protected", "public_metrics", "url",
                   "verified", "verified_type", "most_recent_tweet_id", "location"]


async def successful_session(x: XEmulator, reader: Any, poster: Any) -> None:
    """Every emulated operation answering 2xx, with every field the emulator knows."""
    mention = x.post_as("dana", "@acme order #A1 lost, see https://shop.example.com/o/A1 $ACME")
    quoted = x.post_as("fox", "@acme me too", quote=mention["id"])
    for n in range(5):
        x.post_as("fox", f"@acme ping {n}")
    selection = {"expansions": ["author_id", "referenced_tweets.id", "in_reply_to_user_id",
                                "entities.mentions.username"],
                 "tweet_fields": ALL_TWEET_FIELDS, "user_fields": ALL_USER_FIELDS}
    sent = await poster.create_tweet(text="@dana sorry! acme.com/help", in_reply_to_tweet_id=mention["id"])
    await poster.create_tweet(text="Quoting for context", quote_tweet_id=quoted["id"], reply_settings="following")
    await poster.get_me(user_fields=ALL_USER_FIELDS, expansions=["most_recent_tweet_id"], tweet_fields=ALL_TWEET_FIELDS)
    page = await reader.get_users_mentions(x.brand["id"], max_results=5, **selection)
    await reader.get_users_mentions(x.brand["id"], max_results=5, pagination_token=page.meta["next_token"])
    await reader.get_users_mentions(x.brand["id"], since_id=x.tweets[-1]["id"])  # an empty page
    await reader.search_recent_tweets(f"conversation_id:{mention['id']} from:acme", **selection)
    await reader.get_tweet(sent.data["id"], **selection)
    await reader.get_tweet("1")  # 200 with a resource-not-found error and no data
    await reader.get_tweets([mention["id"], "2"], **selection)
    await poster.delete_tweet(sent.data["id"])


async def failing_session(x: XEmulator, reader: Any, poster: Any) -> set[int]:
    """Every error answer the emulator gives; returns the statuses seen."""
    statuses = set()

    async def expect(error: type[Exception], call: Any) -> None:
        with pytest.raises(error) as raised:
            await call
        statuses.add(raised.value.response.status)

    mention = x.post_as("dana", "@acme hello")
    await expect(tweepy.BadRequest, reader.get_users_mentions(x.brand["id"], max_results=500))
    await expect(tweepy.BadRequest, reader.search_recent_tweets("-acme"))
    await expect(tweepy.BadRequest, poster.create_tweet(text="字" * 141))
    stranger = loopback_client(x.base_url, bearer_token="A" * 40)
    try:
        await expect(tweepy.Unauthorized, stranger.get_users_mentions("1"))
    finally:
        await close_client(stranger)
    await expect(tweepy.Forbidden, reader.get_me(user_auth=False))  # unsupported authentication
    await poster.create_tweet(text="same words", in_reply_to_tweet_id=mention["id"])
    await expect(tweepy.Forbidden, poster.create_tweet(text="same words"))  # duplicate content
    x.delete(mention["id"])
    await expect(tweepy.Forbidden, poster.create_tweet(text="@dana hi", in_reply_to_tweet_id=mention["id"]))
    await expect(tweepy.NotFound, poster.delete_tweet(mention["id"]))
    x.rate_limits = RateLimits().with_limit("search_recent", app=1)
    x.reset_rate_limits()
    await reader.search_recent_tweets("acme")
    await expect(tweepy.TooManyRequests, reader.search_recent_tweets("acme"))  # a real 429
    x.faults.set(rate_limited=1.0, only_paths=("/2/users/",))
    await expect(tweepy.TooManyRequests, reader.get_users_mentions(x.brand["id"]))  # an injected 429
    x.faults.set(rate_limited=0.0, server_error=1.0)
    await expect(tweepy.TwitterServerError, reader.get_users_mentions(x.brand["id"]))
    x.faults.clear()
    return statuses


# --- the tests ---------------------------------------------------------------------------------

def test_the_description_covers_the_emulated_operations() -> None:
    assert spec()["openapi"].startswith("3.0")
    for method, template in EMULATED:
        op = spec()["paths"][template][method]
        success = "201" if method == "post" else "200"
        assert "schema" in op["responses"][success]["content"]["application/json"]
        assert op["responses"]["default"]["content"]["application/problem+json"]["schema"] == \
            {"$ref": "#/components/schemas/Problem"}


def test_known_divergences_are_still_real() -> None:
    """Each translation must still be needed: the live name absent from the description, the described one present."""
    schemas = spec()["components"]["schemas"]
    for live, (schema, described) in LIVE_TO_DESCRIBED.items():
        assert described in schemas[schema]["properties"], (schema, described)
        assert live not in schemas[schema]["properties"], f"the description now has {live}; drop the translation"
    assert "posts" in schemas["Expansions"]["properties"] and "tweets" not in schemas["Expansions"]["properties"]
    described_types = set(schemas["Problem"]["discriminator"]["mapping"])
    assert all(t.startswith(DESCRIBED_PROBLEM_ORIGIN) for t in described_types)
    assert not UNDESCRIBED_PROBLEM_TYPES & described_types
    assert "tweet.fields" not in json.dumps(spec()["components"]["parameters"])  # it says post.fields
    default = spec()["paths"]["/2/tweets"]["post"]["responses"]["default"]["content"]
    assert default["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert spec()["components"]["schemas"]["Error"]["required"] == ["code", "message"]


async def test_successful_answers_conform(x: XEmulator, clients: tuple[Any, Any]) -> None:
    await successful_session(x, *clients)
    records = x.recorder.of("x")
    assert {(r["method"], operation(r["method"], r["path"])[0]) for r in records} == \
        {(m.upper(), t) for m, t in EMULATED}
    for record in records:
        assert 200 <= record["status"] < 300, record
        assert answer_errors(record) == [], record


async def test_error_answers_conform(x: XEmulator, clients: tuple[Any, Any]) -> None:
    statuses = await failing_session(x, *clients)
    assert statuses == {400, 401, 403, 404, 429, 500}
    failures = [r for r in x.recorder.of("x") if r["status"] >= 400]
    assert len(failures) == 11, [(r["method"], r["path"], r["status"]) for r in failures]
    for record in failures:
        assert answer_errors(record) == [], record
    # the typed ones really are described problems, not just problem-shaped
    typed = [r for r in failures if r["response"]["type"] != "about:blank"
             and "unsupported-authentication" not in r["response"]["type"]]
    assert {r["status"] for r in typed} == {400, 404}


async def test_tweepy_request_bodies_conform(x: XEmulator, clients: tuple[Any, Any]) -> None:
    _reader, poster = clients
    mention = x.post_as("dana", "@acme hi")
    await poster.create_tweet(text="plain post")
    await poster.create_tweet(text="@dana a reply", in_reply_to_tweet_id=mention["id"],
                              exclude_reply_user_ids=[x.user("fox")["id"]])
    await poster.create_tweet(text="a quote", quote_tweet_id=mention["id"], reply_settings="mentionedUsers")
    await poster.create_tweet(text="for fans", for_super_followers_only=False)
    request_schema = operation("POST", "/2/tweets")[1]["requestBody"]["content"]["application/json"]["schema"]
    bodies = [r["body"] for r in x.recorder.of("x", method="POST", path="/2/tweets")]
    assert len(bodies) == 4 and bodies[1]["reply"]["in_reply_to_tweet_id"] == mention["id"]
    for body in bodies:
        assert list(validator(request_schema).iter_errors(body)) == [], body


async def test_tweepy_query_parameters_conform(x: XEmulator, clients: tuple[Any, Any]) -> None:
    """Scalar parameters tweepy sends fit the described parameter schemas.

    Field lists are not checked: the description calls them ``post.fields`` and its enum
    lacks author_id, in_reply_to_user_id, referenced_tweets and edit_history_tweet_ids,
    which the live API and tweepy use.
    """
    reader, _poster = clients
    x.post_as("dana", "@acme hi")
    await reader.get_users_mentions(x.brand["id"], max_results=5, since_id="1", until_id="9" * 19,
                                    start_time=datetime(2026, 11, 1, tzinfo=timezone.utc),
                                    end_time=datetime(2026, 11, 3, tzinfo=timezone.utc))
    await reader.search_recent_tweets("acme OR help", max_results=10, sort_order="recency", since_id="1")
    checked = 0
    for record in x.recorder.of("x"):
        template, op = operation(record["method"], record["path"])
        described = {p["name"]: p for p in op["parameters"] if "name" in p}
        for name, value in record["query"].items():
            if name in ("tweet.fields", "user.fields", "expansions"):
                continue
            schema = described[name]["schema"]
            typed = int(value) if schema.get("type") == "integer" else value
            assert list(validator(schema).iter_errors(typed)) == [], (template, name, value)
            checked += 1
    assert checked == 9


def test_the_validators_can_fail() -> None:
    """Negative control: nonconforming bodies are caught, so a green run means something."""
    created = operation("POST", "/2/tweets")[1]
    request = validator(created["requestBody"]["content"]["application/json"]["schema"])
    assert list(request.iter_errors({"text": "hi", "reply": {"in_reply_to_tweet_id": "1"}})) == []
    assert list(request.iter_errors({"text": "hi", "reply": {}}))  # in_reply_to_tweet_id is required
    assert list(request.iter_errors({"text": "hi", "colour": "blue"}))  # no additional properties
    assert list(request.iter_errors({"text": 5}))
    assert list(request.iter_errors({"quote_tweet_id": "abc"}))  # not a snowflake
    assert answer_errors({"method": "POST", "path": "/2/tweets", "status": 201,
                          "response": {"data": {"id": "1"}}})  # text is required
    assert answer_errors({"method": "GET", "path": "/2/users/1/mentions", "status": 200,
                          "response": {"data": [{"id": "1", "text": "x", "public_metrics": {"like_count": 1}}]}})
    assert answer_errors({"method": "GET", "path": "/2/users/1/mentions", "status": 200,
                          "response": {"meta": {"result_count": "none"}}})
    assert problem_errors({"title": "Invalid Request", "type": "https://api.twitter.com/2/problems/no-such-problem",
                           "detail": "x"})
    assert problem_errors({"title": "Unauthorized", "type": "about:blank", "status": 401})  # detail missing
    assert problem_errors({"detail": "x", "title": "Not Found Error",
                           "type": "https://api.twitter.com/2/problems/resource-not-found"})  # resource_type missing


def test_nullable_is_translated() -> None:
    entities = component("PostEntities")
    assert list(entities.iter_errors({"mentions": None})) == []
    assert list(entities.iter_errors({"mentions": [{"start": 0, "end": 5, "username": None}]})) == []
    assert list(entities.iter_errors({"mentions": [{"start": 0}]}))  # end is still required
    assert list(entities.iter_errors({"mentions": "no"}))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_translation_leaves_no_live_names_behind() -> None:
    live = {"data": [{"id": "1", "text": "t", "edit_history_tweet_ids": ["1"],
                      "referenced_tweets": [{"type": "replied_to", "id": "2"}],
                      "public_metrics": {"retweet_count": 0}}],
            "includes": {"tweets": [{"id": "2", "text": "u"}], "users": [{"public_metrics": {"tweet_count": 1}}]},
            "errors": [{"type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    described = to_described(copy.deepcopy(live))
    keys = {key for node in _walk(described) for key in node}
    assert not keys & (set(LIVE_TO_DESCRIBED) | {"tweets"})
    assert described["errors"][0]["type"] == "https://api.x.com/2/problems/resource-not-found"


async def test_media_answers_conform_and_carry_what_was_asked(x: XEmulator, clients: tuple[Any, Any]) -> None:
    reader, _ = clients
    x.post_as("dana", "@acme look at this", media=[{"type": "photo", "alt_text": "a crushed box"}, {"type": "video"}])
    await reader.get_users_mentions(x.brand["id"], expansions=["author_id", "attachments.media_keys"],
                                    tweet_fields=["attachments"],
                                    media_fields=["url", "preview_image_url", "alt_text", "type", "width", "height"])
    (record,) = [r for r in x.recorder.of("x") if r["path"].endswith("/mentions")]
    assert answer_errors(record) == []
    photo, video = record["response"]["includes"]["media"]
    assert record["response"]["data"][0]["attachments"]["media_keys"] == [photo["media_key"], video["media_key"]]
    assert photo["type"] == "photo" and photo["url"].startswith("https://pbs.twimg.com/media/")
    assert photo["alt_text"] == "a crushed box" and "preview_image_url" not in photo
    assert video["type"] == "video" and video["preview_image_url"].startswith("https://pbs.twimg.com/") \
        and "url" not in video
    await reader.get_users_mentions(x.brand["id"], expansions=["attachments.media_keys"])
    plain = [r for r in x.recorder.of("x") if r["path"].endswith("/mentions")][-1]["response"]["includes"]["media"]
    assert set(plain[0]) == {"media_key", "type"}  # without media.fields: X's defaults only
