"""`socialdesk demo` end to end: the real plugins against the sandbox, as a newcomer runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from socialdesk.demo.scenario import run_demo


async def test_demo_story_happens_exactly_once(tmp_path: Path):
    lines: list[str] = []
    record = tmp_path / "demo-traffic.jsonl"
    assert await run_demo(say=lines.append, record=str(record), workdir=str(tmp_path / "work")) == 0
    story = "\n".join(lines)
    # the second agent was told who has it (ticket numbers depend on which platform is read first)
    assert re.search(r"#\d+ is claimed by <@U0AGENT001>", story)
    assert "(pinged: nobody)" in story
    assert "created → claimed → reply_queued → reply_sent → message_added → closed" in story

    traffic = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    tweets = [r for r in traffic if r["emulator"] == "x" and r["method"] == "POST" and r["path"] == "/2/tweets"]
    assert len(tweets) == 1 and tweets[0]["status"] == 201  # one answer on X, never two
    assert tweets[0]["body"]["reply"]["in_reply_to_tweet_id"]
    discord_posts = [r for r in traffic if r["emulator"] == "discord" and r["method"] == "POST"
                     and r["path"].endswith("/messages")]
    assert len(discord_posts) == 1
    assert discord_posts[0]["body"]["allowed_mentions"] == {"parse": []}
    cards = [r for r in traffic if r["emulator"] == "slack" and r["path"] == "/api/chat.postMessage"
             and r["status"] == 200 and (r["response"] or {}).get("ok")
             and "blocks" in (r["body"] or {})]
    assert len({c["response"]["ts"] for c in cards}) >= 3
    # The stranger's <!channel> never reached Slack unescaped.
    assert not any("<!channel>" in json.dumps(c["body"]) for c in cards)
    assert (tmp_path / "work" / "plugins.toml").exists()
