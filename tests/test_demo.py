"""`socialdesk demo` end to end: the real plugins against the sandbox, as a newcomer runs it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from socialdesk.demo.scenario import run_demo


async def test_demo_story_happens_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lines: list[str] = []
    record = tmp_path / "demo-traffic.jsonl"
    monkeypatch.chdir(tmp_path)  # a relative --workdir, as `socialdesk demo --workdir work` from here
    assert await run_demo(say=lines.append, record=str(record), workdir="work") == 0
    story = "\n".join(lines)
    # the second agent was told who has it (ticket numbers depend on which platform is read first)
    assert re.search(r"#\d+ is claimed by <@U0AGENT001>", story)
    assert "(pinged: nobody)" in story
    # A draft from the sandbox's model endpoint in the second agent's reply form, never sent by itself.
    assert "opens Reply on #" in story and "a draft from the model, not sent: Hi! Sorry your refund" in story
    # The App Home, once: the agent's own ticket and the queue, as views.publish left them.
    assert story.count("opens the socialdesk App Home tab") == 1
    home = story.split("opens the socialdesk App Home tab", 1)[1]
    assert "home   My tickets" in home and "home   Unclaimed queue, most urgent first" in home
    assert re.search(r"home     .*#\d+ · x · .*dana.dev", home)  # mrkdwn-escaped: danaˍdev
    assert "created → claimed → reply_queued → reply_sent → message_added → closed" in story

    traffic = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    tweets = [r for r in traffic if r["emulator"] == "x" and r["method"] == "POST" and r["path"] == "/2/tweets"]
    assert all(t["status"] == 201 and t["body"]["reply"]["in_reply_to_tweet_id"] for t in tweets)
    answered = Counter(t["body"]["reply"]["in_reply_to_tweet_id"] for t in tweets)
    assert len(tweets) == 6 and set(answered.values()) == {1}  # Dana once, the storm's five once each
    storm_answers = [t["body"]["text"] for t in tweets if t["body"]["text"].startswith("Hi ")]
    assert sorted(a.split(",")[0] for a in storm_answers) == ["Hi Jonas", "Hi Lee", "Hi Maria", "Hi Priya", "Hi Tom"]
    assert "5 conversations on x" in story and "4 before the storm, 4 after" in story
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
    # Bluesky: one reply record, in Jo's thread (root and parent are her post), its link a facet
    bluesky_posts = [r for r in traffic if r["emulator"] == "bluesky"
                     and r["path"] == "/xrpc/com.atproto.repo.createRecord"]
    assert len(bluesky_posts) == 1 and bluesky_posts[0]["status"] == 200
    reply = bluesky_posts[0]["body"]["record"]["reply"]
    assert reply["root"]["uri"] == reply["parent"]["uri"] and reply["root"]["cid"]
    assert "link facets: https://acme.example/t/77" in story and "one ticket for the whole thread" in story
    assert (tmp_path / "work" / "plugins.toml").exists()
    # The forum chapter: one answer each, in its own place.
    assert "6. Forums" in story and "signed webhook for review-81 answered 200" in story
    discourse_posts = [r for r in traffic if r["emulator"] == "discourse" and r.get("method") == "POST"
                       and r.get("path") == "/posts.json"]
    reddit_comments = [r for r in traffic if r["emulator"] == "reddit" and r.get("method") == "POST"
                       and str(r.get("path", "")).startswith("/api/comment")]
    shop_answers = [r for r in traffic if r["emulator"] == "webhook" and r.get("method") == "POST"
                    and str(r.get("path", "")).startswith("/callback/")]
    assert [r["status"] for r in discourse_posts] == [200]
    assert [r["status"] for r in reddit_comments] == [200]
    assert [r["status"] for r in shop_answers] == [200]
    written = (tmp_path / "work" / "plugins.toml").read_text(encoding="utf-8")
    # The database path is absolute: `socialdesk --config work/plugins.toml report` works from anywhere.
    assert f'database_url = "sqlite+aiosqlite:///{tmp_path / "work" / "demo.db"}"' in written
    # Mastodon: the private mention came over the stream and was answered once, in its thread, privately.
    toots = [r for r in traffic if r["emulator"] == "mastodon" and r["method"] == "POST"
             and r["path"] == "/api/v1/statuses"]
    assert len(toots) == 1 and toots[0]["status"] == 200
    assert toots[0]["body"]["visibility"] == "direct" and toots[0]["body"]["in_reply_to_id"]
    assert toots[0]["body"]["status"].startswith("@noor@fosstodon.example Hi Noor")
    assert "mastodon @acme, in reply to @noor@fosstodon.example (direct)" in story
