"""Contract: the Reddit emulator serves only paths asyncpraw names (tests/contract/specs/reddit/
praw_endpoints.json, generated from praw/endpoints.py), and its OAuth and rate-limit answers
have the shape reddit-archive/reddit documents (NOTE.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from socialdesk.plugins.reddit.streams import streams_for
from socialdesk.plugins.reddit.settings import RedditSettings
from socialdesk.sandbox.reddit import RedditEmulator

SPECS = Path(__file__).parent / "specs" / "reddit"


def endpoints() -> dict[str, str]:
    return json.loads((SPECS / "praw_endpoints.json").read_text())


def test_every_api_path_the_emulator_serves_is_one_praw_uses():
    known = {"/" + path.strip("/") for path in endpoints().values()}
    pattern = re.compile(r"\{[^}]+\}")
    described = {pattern.sub("{}", path) for path in known}
    served = ["/api/v1/me", "/r/{}/comments", "/r/{}/new", "/message/mentions", "/message/comments",
              "/user/{}/comments", "/api/comment"]
    for path in served:
        # Listing sorts (new, comments) hang off the subreddit and user paths praw names.
        base = path if path in described else path.rsplit("/", 1)[0]
        assert base in described or base + "/" in described or base in {"/r/{}", "/user/{}"}, path
    assert endpoints()["comment"] == "api/comment/" and endpoints()["mentions"] == "message/mentions"


def test_the_scopes_the_desk_needs_exist():
    scopes = json.loads((SPECS / "oauth2_scopes.json").read_text())
    for scope in ("identity", "read", "submit", "privatemessages", "history"):
        assert scope in scopes


@pytest.fixture
async def reddit():  # type: ignore[no-untyped-def]
    async with RedditEmulator(rate_limit=2) as emulator:
        yield emulator


async def test_oauth_and_rate_limit_answers_have_reddits_shape(reddit):
    url = reddit.base_url
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/v1/access_token", data={"grant_type": "password"}) as response:
            assert response.status == 401 and response.headers["WWW-Authenticate"] == 'Basic realm="reddit"'
        auth = aiohttp.BasicAuth(reddit.web_app.client_id, reddit.web_app.client_secret)
        form = {"grant_type": "password", "username": reddit.brand, "password": reddit.password}
        async with session.post(f"{url}/api/v1/access_token", data=form, auth=auth) as response:
            assert (await response.json())["error"] == "unauthorized_client"  # only script apps use passwords
        auth = aiohttp.BasicAuth(reddit.script_app.client_id, reddit.script_app.client_secret)
        async with session.post(f"{url}/api/v1/access_token", data=form, auth=auth) as response:
            token = await response.json()
        assert set(token) == {"access_token", "token_type", "expires_in", "scope"}
        headers = {"Authorization": f"bearer {token['access_token']}"}
        statuses = []
        for _ in range(3):
            async with session.get(f"{url}/api/v1/me", headers=headers) as response:
                statuses.append(response.status)
                limits = {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")}
                assert set(limits) == {"x-ratelimit-used", "x-ratelimit-remaining", "x-ratelimit-reset"}
                float(limits["x-ratelimit-remaining"]), int(limits["x-ratelimit-used"]), int(limits["x-ratelimit-reset"])
        assert statuses == [200, 200, 429]


def test_the_desk_reads_the_listings_asyncpraw_names():
    settings = RedditSettings(subreddits=["acme"], keywords=["acme"])
    assert [s.name for s in streams_for(settings)] == ["mentions", "comment_replies", "subreddit_comments",
                                                       "subreddit_posts"]
