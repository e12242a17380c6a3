"""Contract: the Bluesky emulator's answers, and what atproto sends, against Bluesky's own descriptions.

The description (tests/contract/specs/bluesky/openapi.json) is the OpenAPI 3.1 conversion
of the AT Protocol lexicons kept in bluesky-social/bsky-docs; JSON Schema 2020-12 over the
whole document, ``$ref``s resolved with the ``referencing`` registry. The formats the
lexicons name (at-uri, did, cid, datetime, handle) are checked too, with the grammar of
the AT Protocol specification. JSON Schema cannot express the lexicon's ``maxGraphemes``:
the post lexicon itself (app.bsky.feed.post.json) is read for it, and the desk's limits
must equal it.

One erratum, with a test that fails once the description is fixed: the conversion gives
every 401 the error name ``AuthMissing`` (a ``const``); a PDS answers
``AuthenticationRequired`` (``AuthRequiredError`` in @atproto/xrpc-server, what atproto's
clients and the desk read). 401 answers are checked with both names allowed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from atproto import AsyncClient, models
from atproto_client.client.session import Session
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from socialdesk.plugins.bluesky.post_length import MAX_BYTES, MAX_GRAPHEMES
from socialdesk.sandbox.bluesky import BlueskyEmulator, Limit, RateLimits

SPECS = Path(__file__).parent / "specs" / "bluesky"
SPEC_URI = "urn:socialdesk:contract:bluesky-openapi"

FORMATS = FormatChecker()


@FORMATS.checks("at-uri")
def _at_uri(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"at://[a-zA-Z0-9._:%-]+(/[a-zA-Z0-9.-]+(/[^/\s]+)?)?", value) is not None


@FORMATS.checks("did")
def _did(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]", value) is not None


@FORMATS.checks("cid")
def _cid(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"b[a-z2-7]{50,}", value) is not None


@FORMATS.checks("handle")
def _handle(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(
        r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", value) is not None


@FORMATS.checks("date-time")
@FORMATS.checks("datetime")
def _datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # atproto: RFC 3339 with a timezone, upper-case T and Z
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads((SPECS / "openapi.json").read_text(encoding="utf-8"))


@functools.cache
def registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


def validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry(), format_checker=FORMATS)


LIVE_401_NAME = "AuthenticationRequired"


def response_schema(nsid: str, status: int = 200) -> Draft202012Validator:
    operation = spec()["paths"][f"/xrpc/{nsid}"]
    method = "get" if "get" in operation else "post"
    pointer = f"/paths/~1xrpc~1{nsid}/{method}/responses/{status}/content/application~1json/schema"
    if status == 401:  # the erratum: the described const, or the name a PDS really sends
        described = operation[method]["responses"]["401"]["content"]["application/json"]["schema"]
        names = [described["properties"]["error"]["const"], LIVE_401_NAME]
        return Draft202012Validator({**described, "properties": {**described["properties"],
                                                                  "error": {"enum": names}}})
    return validator(pointer)


def test_the_401_erratum_is_still_needed():
    described = spec()["paths"]["/xrpc/com.atproto.server.createSession"]["post"]["responses"]["401"]
    assert described["content"]["application/json"]["schema"]["properties"]["error"] == {"const": "AuthMissing"}


def request_schema(nsid: str) -> Draft202012Validator:
    return validator(f"/paths/~1xrpc~1{nsid}/post/requestBody/content/application~1json/schema")


def component(name: str) -> Draft202012Validator:
    return validator(f"/components/schemas/{name}")


def assert_valid(check: Draft202012Validator, instance: Any, what: str) -> None:
    problems = sorted(check.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not problems, f"{what} does not conform: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in problems[:5])


@pytest.fixture
async def world() -> AsyncIterator[tuple[BlueskyEmulator, AsyncClient]]:
    async with BlueskyEmulator(brand_handle="acme.bsky.social") as bsky:
        bsky.add_user("dana.bsky.social", "Dana")
        question = bsky.post_as("dana.bsky.social", "@acme.bsky.social my order 🙃 https://example.com/o/1")
        ours = bsky.post_as("acme.bsky.social", "which one?", reply_to=question["uri"])
        bsky.post_as("dana.bsky.social", "the blue one", reply_to=ours["uri"])
        bsky.post_as("dana.bsky.social", "look at this", quote=ours["uri"])
        client = AsyncClient(base_url=bsky.xrpc_url)
        await client.login(bsky.brand_handle, bsky.brand_password)
        try:
            yield bsky, client
        finally:
            await client.request.close()


def answers(bsky: BlueskyEmulator, nsid: str) -> list[dict[str, Any]]:
    return [r for r in bsky.recorder.of("bluesky") if r["path"] == f"/xrpc/{nsid}"]


async def test_every_answer_the_desk_reads_conforms(world):
    bsky, client = world
    await client.com.atproto.server.get_session()
    listing = await client.app.bsky.notification.list_notifications(
        params={"reasons": ["mention", "reply", "quote"], "limit": 2})
    await client.app.bsky.notification.list_notifications(params={"cursor": listing.cursor, "limit": 50})
    uri = listing.notifications[0].uri
    await client.app.bsky.feed.get_posts(params={"uris": [uri]})
    await client.app.bsky.feed.get_post_thread(params={"uri": uri, "depth": 3})
    await client.com.atproto.identity.resolve_handle(params={"handle": "dana.bsky.social"})
    await client.app.bsky.actor.get_profile(params={"actor": "dana.bsky.social"})
    for nsid in ("com.atproto.server.createSession", "com.atproto.server.getSession",
                 "app.bsky.notification.listNotifications", "app.bsky.feed.getPosts", "app.bsky.feed.getPostThread",
                 "com.atproto.identity.resolveHandle", "app.bsky.actor.getProfile"):
        recorded = [r for r in answers(bsky, nsid) if r["status"] == 200]
        assert recorded, nsid
        for record in recorded:
            body = record["response"]
            if nsid == "com.atproto.server.createSession":  # tokens are redacted in the record
                body = {**body, "accessJwt": "x", "refreshJwt": "x"}
            assert_valid(response_schema(nsid), body, nsid)
    for record in answers(bsky, "app.bsky.notification.listNotifications"):
        for notification in record["response"]["notifications"]:
            assert_valid(component("app.bsky.feed.post"), notification["record"], "a notification's post record")


async def test_what_the_desk_writes_conforms_and_so_do_the_answers(world):
    bsky, client = world
    thread = await client.app.bsky.feed.get_post_thread(params={"uri": bsky.posts_by("dana.bsky.social")[0]["uri"]})
    parent = thread.thread.post
    ref = models.create_strong_ref(parent)
    text = "Grüße @dana.bsky.social, see https://status.acme.com/incident/42"
    record = models.AppBskyFeedPost.Record(text=text, created_at=client.get_current_time_iso(),
                                           reply=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref),
                                           facets=await client.detect_facets(text))
    await client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(repo=bsky.brand_did, collection="app.bsky.feed.post", record=record))
    (sent,) = answers(bsky, "com.atproto.repo.createRecord")
    assert_valid(request_schema("com.atproto.repo.createRecord"), sent["body"], "createRecord input")
    assert_valid(component("app.bsky.feed.post"), sent["body"]["record"], "the reply record")
    assert_valid(response_schema("com.atproto.repo.createRecord"), sent["response"], "createRecord output")
    await client.app.bsky.notification.update_seen({"seenAt": client.get_current_time_iso()})
    (seen,) = answers(bsky, "app.bsky.notification.updateSeen")
    assert_valid(request_schema("app.bsky.notification.updateSeen"), seen["body"], "updateSeen input")
    (login,) = answers(bsky, "com.atproto.server.createSession")
    assert_valid(request_schema("com.atproto.server.createSession"),
                 {**login["body"], "password": "x"}, "createSession input")


@pytest.mark.parametrize(("nsid", "params", "status"), [
    ("app.bsky.notification.listNotifications", {"limit": "500"}, 400),
    ("app.bsky.feed.getPosts", {}, 400),
    ("app.bsky.feed.getPostThread", {"uri": "at://did:plc:nobody/app.bsky.feed.post/3aaaaaaaaaaaa"}, 400),
    ("com.atproto.identity.resolveHandle", {"handle": "nobody.example.org"}, 400),
])
async def test_error_answers_use_the_described_names(world, nsid, params, status):
    bsky, client = world
    access = Session.decode(client.export_session_string()).access_jwt
    async with httpx.AsyncClient() as http:  # raw: atproto would refuse the bad parameters itself
        answer = await http.get(f"{bsky.xrpc_url}/{nsid}", params=params, headers={"Authorization": f"Bearer {access}"})
    assert answer.status_code == status
    (record,) = [r for r in answers(bsky, nsid) if r["status"] == status]
    assert_valid(response_schema(nsid, status), record["response"], f"{nsid} {status}")


async def test_a_bad_login_and_an_expired_session_answer_as_described(world):
    bsky, client = world
    other = AsyncClient(base_url=bsky.xrpc_url)
    with pytest.raises(Exception):
        await other.login(bsky.brand_handle, "wrong-pass-word-here")
    await other.request.close()
    (refused,) = [r for r in answers(bsky, "com.atproto.server.createSession") if r["status"] == 401]
    assert_valid(response_schema("com.atproto.server.createSession", 401), refused["response"], "bad login")
    bsky.expire_sessions()
    with pytest.raises(Exception):
        await client.com.atproto.server.get_session()
    expired = [r for r in answers(bsky, "com.atproto.server.getSession") if r["status"] == 400][-1]
    assert expired["response"] == {"error": "ExpiredToken", "message": "Token has expired"}
    assert_valid(response_schema("com.atproto.server.getSession", 400), expired["response"], "expired session")


async def test_a_rate_limited_write_carries_the_pds_headers(world):
    bsky, client = world
    bsky.rate_limits = RateLimits(repo_write=(Limit(3, 3600),))
    uri = bsky.posts_by("dana.bsky.social")[0]["uri"]
    post = (await client.app.bsky.feed.get_posts(params={"uris": [uri]})).posts[0]
    ref = models.create_strong_ref(post)
    for n in range(2):
        try:
            await client.send_post(f"reply {n}", reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref))
        except Exception as exc:  # atproto's RateLimitExceededError, read below
            error = exc
    assert error.reset_at is not None and error.remaining == 0 and error.policy == "3;w=3600"
    (limited,) = [r for r in answers(bsky, "com.atproto.repo.createRecord") if r["status"] == 429]
    assert limited["response"] == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}


def test_the_desks_limits_are_the_lexicons():
    lexicon = json.loads((SPECS / "app.bsky.feed.post.json").read_text(encoding="utf-8"))
    text = lexicon["defs"]["main"]["record"]["properties"]["text"]
    assert (text["maxGraphemes"], text["maxLength"]) == (MAX_GRAPHEMES, MAX_BYTES)
