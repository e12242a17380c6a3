"""Contract: the Mastodon emulator's answers, and what Mastodon.py sends, against Mastodon's description.

The description (tests/contract/specs/mastodon/mastodon_openapi_schema.json, OpenAPI 3.1
of Mastodon 4.7.0, generated from the official documentation) is JSON Schema 2020-12.
A scenario drives the emulator through Mastodon.py as the plugin does (credentials,
instance, notifications with pagination, status, context, posts with an
Idempotency-Key, errors); then every exchange in the traffic record is checked: the
path is a described operation, the query parameters are described ones, the POST body
has only described fields, and the answer matches the schema of its status code.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonRatelimitError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from socialdesk.plugins.mastodon.connection import new_client
from socialdesk.sandbox.mastodon import MastodonEmulator

SPEC_PATH = Path(__file__).parent / "specs" / "mastodon" / "mastodon_openapi_schema.json"
SPEC_URI = "urn:socialdesk:mastodon-openapi"
START = datetime(2026, 11, 2, 9, 0).timestamp()
DANA = "dana@example.social"


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@functools.cache
def registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validator(*parts: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/{_pointer(*parts)}"}, registry=registry())


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The described path template and operation for a concrete request path."""
    for template, operations in spec()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$"
        if re.match(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    raise AssertionError(f"{method} {path} is not in Mastodon's description")


def response_validator(template: str, method: str, status: int) -> Draft202012Validator:
    responses = spec()["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} never answers {status} in the description"
    return validator("paths", template, method.lower(), "responses", str(status), "content", "application/json",
                     "schema")


def problems(v: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


@pytest.fixture
async def masto() -> AsyncIterator[MastodonEmulator]:
    now = [START]
    async with MastodonEmulator(clock=lambda: now[0], max_characters=500) as emulator:
        emulator.add_account("dana", "Dana", domain="example.social", followers=3)
        emulator.add_account("fox", "Fox")
        yield emulator


def client(masto: MastodonEmulator, token: str | None = None) -> Mastodon:
    return new_client(masto.base_url, token or masto.brand_token, 10)


def scenario(masto: MastodonEmulator) -> None:
    """What the plugin does, through Mastodon.py (synchronous: run in a thread)."""
    api = client(masto)
    root = masto.post_as("fox", "Parcels late again?")
    question = masto.post_as(DANA, "@acme @fox mine too <b>, see https://example.com/x", in_reply_to=root["id"])
    for n in range(5):
        masto.post_as(DANA, f"@acme question {n}", visibility="direct" if n % 2 else "public")
    api.account_verify_credentials()
    api.instance_v2()
    api.instance()
    api.app_verify_credentials()
    first = api.notifications(types=["mention"], limit=2)
    api.notifications(types=["mention"], min_id=first[-1]["id"], limit=40)
    api.notifications(types=["mention"], max_id=first[-1]["id"], limit=40)
    api.notifications(types=["mention"], since_id=first[-1]["id"])
    api.status(question["id"])
    api.status_context(question["id"])
    posted = api.status_post(f"@{DANA} thanks", in_reply_to_id=question["id"], visibility="unlisted",
                             idempotency_key="contract-1")
    api.status_post(f"@{DANA} thanks", in_reply_to_id=question["id"], visibility="unlisted",
                    idempotency_key="contract-1")
    api.status_delete(posted["id"])
    for bad in (lambda: api.status("1"), lambda: api.status_post("x" * 501),
                lambda: api.status_post("hi", in_reply_to_id="1"), lambda: api.status_context("1")):
        with pytest.raises(MastodonAPIError):
            bad()
    with pytest.raises(MastodonAPIError):
        client(masto, "not-a-token").account_verify_credentials()


async def test_every_exchange_matches_the_description(masto):
    await asyncio.to_thread(scenario, masto)
    exchanges = masto.recorder.of("mastodon")
    assert len(exchanges) >= 20
    described_statuses = set()
    for exchange in exchanges:
        template, operation = operation_of(exchange["method"], exchange["path"])
        names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        for key in exchange["query"]:
            assert key.removesuffix("[]") in names, f"{template}: query parameter {key} is not described"
        if exchange["method"] == "POST" and template == "/api/v1/statuses":
            body_schema = spec()["components"]["schemas"]["BaseStatus"]["properties"]
            assert set(exchange["body"]) <= {*body_schema, "status"}, exchange["body"]
        errors = problems(response_validator(template, exchange["method"], exchange["status"]), exchange["response"])
        assert errors == [], (exchange["method"], exchange["path"], exchange["status"], errors[:5])
        described_statuses.add(exchange["status"])
    assert {200, 401, 404, 422} <= described_statuses  # errors are checked as well as successes


async def test_a_repeated_idempotency_key_creates_nothing(masto):
    def post_twice() -> tuple[str, str]:
        api = client(masto)
        one = api.status_post("hello", idempotency_key="k")
        two = api.status_post("hello", idempotency_key="k")
        return one["id"], two["id"]

    first, second = await asyncio.to_thread(post_twice)
    assert first == second and len(masto.statuses_by("acme")) == 1


async def test_rate_limit_headers_and_429_are_mastodons(masto):
    masto.limiter.limit = 2
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {masto.brand_token}"}) as session:
        url = f"{masto.base_url}/api/v1/accounts/verify_credentials"
        async with session.get(url) as ok:
            assert ok.status == 200
            assert ok.headers["X-RateLimit-Limit"] == "2" and ok.headers["X-RateLimit-Remaining"] == "1"
            reset = datetime.fromisoformat(ok.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
            assert reset.timestamp() == (START // 300 + 1) * 300  # the end of the 5-minute window
        async with session.get(url):
            pass
        async with session.get(url) as limited:
            assert limited.status == 429 and limited.headers["X-RateLimit-Remaining"] == "0"
            body = await limited.json()
    assert problems(response_validator("/api/v1/accounts/verify_credentials", "get", 429), body) == []

    def through_mastodon_py() -> None:
        with pytest.raises(MastodonRatelimitError):
            client(masto).account_verify_credentials()

    await asyncio.to_thread(through_mastodon_py)


async def test_streamed_notifications_are_described_notifications(masto):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{masto.base_url}/api/v1/streaming/user",
                               headers={"Authorization": f"Bearer {masto.brand_token}"}) as stream:
            assert stream.status == 200 and stream.content_type == "text/event-stream"
            assert (await stream.content.readline()) == b":)\n"
            masto.post_as(DANA, "@acme streamed", visibility="direct")
            event = (await stream.content.readline()).decode()
            data = (await stream.content.readline()).decode()
    assert event == "event: notification\n"
    payload = json.loads(data.removeprefix("data: "))
    assert problems(validator("components", "schemas", "Notification"), payload) == []
    assert payload["type"] == "mention" and payload["status"]["visibility"] == "direct"
    operation_of("GET", "/api/v1/streaming/user")  # the route is a described one


async def test_a_missing_status_is_404_record_not_found(masto):
    def lookup() -> None:
        with pytest.raises(MastodonNotFoundError) as raised:
            client(masto).status("123")
        assert raised.value.args[3] == "Record not found"

    await asyncio.to_thread(lookup)
