"""The whole sandbox: every emulator, one traffic record, the `socialdesk sandbox` command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import aiohttp
from atproto import AsyncClient
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.plugins.mastodon.connection import new_client
from tests.sandbox.tweepy_loopback import close_client, loopback_client

RECORD_KEYS = {"emulator", "direction", "method", "path", "query", "body", "status", "time"}


async def test_real_clients_reach_every_emulator_and_the_record_has_it_all(sandbox, traffic_record: Path):
    env = sandbox.environment()
    slack = AsyncWebClient(token=env["SLACK_BOT_TOKEN"], base_url=sandbox.slack.api_url)
    assert (await slack.auth_test())["ok"] is True

    x = loopback_client(sandbox.x.base_url, bearer_token=env["X_BEARER_TOKEN"],
                        consumer_key=env["X_CONSUMER_KEY"], consumer_secret=env["X_CONSUMER_SECRET"],
                        access_token=env["X_ACCESS_TOKEN"], access_token_secret=env["X_ACCESS_TOKEN_SECRET"])
    try:
        me = await x.get_me(user_auth=True)
        assert me.data.username == "acme"
    finally:
        await close_client(x)

    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {env['DISCORD_BOT_TOKEN']}"}
        async with http.get(f"{sandbox.discord.api_base}/users/@me", headers=headers) as response:
            assert response.status == 200 and response.content_type == "application/json"
        async with http.ws_connect(sandbox.discord.gateway_url + "/?v=10&encoding=json") as ws:
            hello = await ws.receive_json(timeout=10)
            assert hello["op"] == 10

    mastodon = new_client(sandbox.mastodon.base_url, env["MASTODON_ACCESS_TOKEN"], 10)
    assert (await asyncio.to_thread(mastodon.account_verify_credentials))["acct"] == "acme"

    bluesky = AsyncClient(base_url=sandbox.bluesky.xrpc_url)
    try:
        profile = await bluesky.login(env["BLUESKY_HANDLE"], env["BLUESKY_APP_PASSWORD"])
        assert profile is not None and profile.handle == sandbox.bluesky.brand_handle
        session_tokens = bluesky.export_session_string()
    finally:
        await bluesky.request.close()

    lines = traffic_record.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["emulator"] for r in records} == {"slack", "x", "discord", "bluesky", "mastodon"}
    http_records = [r for r in records if r["method"] != "WS"]
    assert all(RECORD_KEYS <= set(r) for r in http_records)
    assert any(r["emulator"] == "discord" and r["method"] == "WS" for r in records)  # frames too
    dumped = "\n".join(lines)
    secrets = [value for name, value in env.items() if name != "BLUESKY_HANDLE"]  # a handle is public
    for secret in [*secrets, *session_tokens.split(":::")[2:4]]:  # with the session's JWTs
        assert secret not in dumped


def test_sandbox_command_serves_until_interrupted_and_records(tmp_path: Path):
    record = tmp_path / "cli-traffic.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sandbox", "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("press Ctrl-C"):
                break
        slack_api = next(line.split()[-1] for line in lines if line.startswith("slack web api"))
        assert any(line.startswith("mastodon api") for line in lines)
        assert any("MASTODON_ACCESS_TOKEN=" in line for line in lines)
        token = next(line.split("=", 1)[1].strip() for line in lines if "SLACK_BOT_TOKEN=" in line)
        request = urllib.request.Request(slack_api + "auth.test", data=b"", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["ok"] is True
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    recorded = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [r["path"] for r in recorded] == ["/api/auth.test"]
    assert token not in record.read_text(encoding="utf-8")
