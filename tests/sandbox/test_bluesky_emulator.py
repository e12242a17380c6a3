"""The Bluesky emulator answers as a PDS + AppView do, driven by atproto's real client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from atproto import AsyncClient, models
from atproto_client.client.session import Session
from atproto_client.exceptions import BadRequestError, RateLimitExceededError, UnauthorizedError

from socialdesk.sandbox.bluesky import BlueskyEmulator, Limit, RateLimits

BRAND, DANA, FOX = "acme.bsky.social", "dana.bsky.social", "fox.bsky.social"


@pytest.fixture
async def bsky() -> AsyncIterator[BlueskyEmulator]:
    now = [1_790_000_000.0]
    async with BlueskyEmulator(brand_handle=BRAND, clock=lambda: now[0]) as emulator:
        emulator.add_user(DANA)
        emulator.add_user(FOX)
        emulator.tick = now  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
async def client(bsky: BlueskyEmulator) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(base_url=bsky.xrpc_url)
    await client.login(bsky.brand_handle, bsky.brand_password)
    yield client
    await client.request.close()


async def test_who_is_notified_of_what(bsky, client):
    question = bsky.post_as(DANA, f"@{BRAND} hello")  # mention
    ours = bsky.post_as(BRAND, "hi!", reply_to=question["uri"])  # our own: nobody notifies us
    bsky.post_as(DANA, "thanks", reply_to=ours["uri"])  # a reply to us
    bsky.post_as(FOX, "deeper in the thread", reply_to=question["uri"])  # no notification for the brand
    bsky.post_as(FOX, "look", quote=ours["uri"])  # a quote
    bsky.post_as(FOX, f"@{BRAND} and @{DANA}")  # a mention
    page = await client.app.bsky.notification.list_notifications(params={"reasons": ["mention", "reply", "quote"]})
    assert [(n.reason, n.record.text) for n in page.notifications] == [
        ("mention", f"@{BRAND} and @{DANA}"), ("quote", "look"), ("reply", "thanks"), ("mention", f"@{BRAND} hello")]
    assert page.notifications[1].reason_subject == ours["uri"]
    only_replies = await client.app.bsky.notification.list_notifications(params={"reasons": ["reply"]})
    assert [n.record.text for n in only_replies.notifications] == ["thanks"]


async def test_pages_join_with_their_cursor_and_the_last_one_is_empty(bsky, client):
    for n in range(5):
        bsky.tick[0] += 1
        bsky.post_as(DANA, f"@{BRAND} {n}")
    seen, cursor = [], None
    for _ in range(4):
        page = await client.app.bsky.notification.list_notifications(params={"limit": 2, "cursor": cursor})
        seen += [n.record.text for n in page.notifications]
        if not page.notifications:
            break
        cursor = page.cursor
    assert seen == [f"@{BRAND} {n}" for n in (4, 3, 2, 1, 0)]


async def test_update_seen_marks_notifications_read(bsky, client):
    bsky.post_as(DANA, f"@{BRAND} hello")
    page = await client.app.bsky.notification.list_notifications()
    assert page.notifications[0].is_read is False
    await client.app.bsky.notification.update_seen({"seenAt": page.notifications[0].indexed_at})
    page = await client.app.bsky.notification.list_notifications()
    assert page.notifications[0].is_read is True and page.seen_at == page.notifications[0].indexed_at


async def test_refresh_tokens_are_single_use_and_logins_are_limited(bsky):
    first = AsyncClient(base_url=bsky.xrpc_url)
    await first.login(bsky.brand_handle, bsky.brand_password)
    refresh = first.export_session_string().split(":::")[3]
    await first.com.atproto.server.refresh_session(headers={"Authorization": f"Bearer {refresh}"},
                                                   ignore_session_check=True)
    with pytest.raises(BadRequestError) as spent:
        await first.com.atproto.server.refresh_session(headers={"Authorization": f"Bearer {refresh}"},
                                                       ignore_session_check=True)
    assert spent.value.response.content.error == "ExpiredToken"
    await first.request.close()

    bsky.rate_limits = RateLimits(create_session=(Limit(2, 300),))
    other = AsyncClient(base_url=bsky.xrpc_url)
    with pytest.raises(UnauthorizedError):
        await other.login(bsky.brand_handle, "wrong-wrong-wrong-wrong")
    await other.login(bsky.brand_handle, bsky.brand_password)
    with pytest.raises(RateLimitExceededError) as limited:
        await other.login(bsky.brand_handle, bsky.brand_password)  # failed logins count too
    assert limited.value.policy == "2;w=300" and limited.value.remaining == 0
    bsky.tick[0] += 301
    await other.login(bsky.brand_handle, bsky.brand_password)
    await other.request.close()


async def test_create_record_checks_the_post_lexicon(bsky, client):
    question = bsky.post_as(DANA, f"@{BRAND} hello")
    ref = models.ComAtprotoRepoStrongRef.Main(uri=question["uri"], cid=question["cid"])
    reply = models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref)
    created = await client.send_post("e\u0301" * 300, reply_to=reply)  # 300 graphemes, 900 bytes: fine
    assert bsky.post(created.uri)["record"]["reply"]["parent"]["uri"] == question["uri"]
    access = Session.decode(client.export_session_string()).access_jwt

    async def create(data: dict) -> httpx.Response:  # raw: atproto's models would refuse these themselves
        async with httpx.AsyncClient() as http:
            return await http.post(f"{bsky.xrpc_url}/com.atproto.repo.createRecord", json=data,
                                   headers={"Authorization": f"Bearer {access}"})

    data = {"repo": bsky.brand_did, "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", "text": "e\u0301" * 301, "createdAt": "2026-11-02T09:00:00Z"}}
    refused = await create(data)
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidRequest"
    assert refused.json()["message"].endswith("must not be longer than 300 graphemes")
    data["record"] = {**data["record"], "text": "ok", "facets": [
        {"index": {"byteStart": 0, "byteEnd": 9}, "features": [{"$type": "app.bsky.richtext.facet#link",
                                                                  "uri": "https://x.example"}]}]}
    refused = await create(data)
    assert refused.status_code == 400 and "UTF-8 bytes" in refused.json()["message"]
    data["record"]["facets"][0]["index"]["byteEnd"] = 2
    data["repo"] = bsky.network.by_handle(DANA).did
    assert (await create(data)).status_code == 401  # not the caller's repo
    data["repo"] = bsky.brand_did
    assert (await create(data)).status_code == 200


async def test_a_thread_reads_down_and_up(bsky, client):
    root = bsky.post_as(DANA, f"@{BRAND} q")
    middle = bsky.post_as(BRAND, "a", reply_to=root["uri"])
    leaf = bsky.post_as(DANA, "b", reply_to=middle["uri"])
    thread = (await client.app.bsky.feed.get_post_thread(params={"uri": middle["uri"]})).thread
    assert thread.post.uri == middle["uri"] and thread.parent.post.uri == root["uri"]
    assert [r.post.uri for r in thread.replies] == [leaf["uri"]]
    assert bsky.post(leaf["uri"])["record"]["reply"]["root"]["uri"] == root["uri"]
    bsky.delete(root["uri"])
    thread = (await client.app.bsky.feed.get_post_thread(params={"uri": middle["uri"]})).thread
    assert thread.parent.not_found is True
