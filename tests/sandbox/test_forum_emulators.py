"""The forum emulators in the whole sandbox: real clients reach them, the record has it all."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import asyncpraw

from socialdesk.core.push.signatures import standard_signature_valid, standard_secret_key


async def test_real_clients_reach_reddit_discourse_and_the_shop(sandbox, traffic_record: Path):
    env = sandbox.environment()
    forums = sandbox.forums
    reddit = asyncpraw.Reddit(client_id=env["REDDIT_CLIENT_ID"], client_secret=env["REDDIT_CLIENT_SECRET"],
                              username=env["REDDIT_USERNAME"], password=env["REDDIT_PASSWORD"],
                              user_agent="python:sandbox-test:1.0 (by /u/acme_dev)", check_for_updates=False,
                              oauth_url=forums.reddit.base_url, reddit_url=forums.reddit.base_url)
    try:
        assert (await reddit.user.me()).name == env["REDDIT_USERNAME"]
    finally:
        await reddit.close()
    headers = {"Api-Key": env["DISCOURSE_API_KEY"], "Api-Username": env["DISCOURSE_API_USERNAME"]}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{forums.discourse.base_url}/posts.json", headers=headers) as response:
            assert response.status == 200 and (await response.json()) == {"latest_posts": []}
    # The shop signs with the secret the desk is given.
    body = forums.webhook.mention_body(id="1", conversation_id="c", text="hello")
    signed = forums.webhook.signed_headers(body, message_id="msg_1")
    assert standard_signature_valid(standard_secret_key(env["WEBHOOK_SHOP_SECRET"]), "msg_1",
                                    int(signed["webhook-timestamp"]), body, signed["webhook-signature"])

    recorded = [json.loads(line) for line in traffic_record.read_text(encoding="utf-8").splitlines()]
    assert {r["emulator"] for r in recorded} >= {"reddit", "discourse"}
    text = traffic_record.read_text(encoding="utf-8")
    assert env["REDDIT_PASSWORD"] not in text and env["DISCOURSE_API_KEY"] not in text
