"""The Bluesky plugin's pure parts: link rendering, the cursor's arithmetic, the count, the cost."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from socialdesk.plugins.bluesky.cost import poll_cost
from socialdesk.plugins.bluesky.mentions import conversation_of, readable_text, to_mention
from socialdesk.plugins.bluesky.notification_cursor import OVERLAP_SECONDS, NotificationCursor, PageRun
from socialdesk.plugins.bluesky.post_length import byte_length, grapheme_length, length_problems

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def link(text: str, shown: str, uri: str) -> dict:  # type: ignore[type-arg]
    start = text.encode().index(shown.encode())
    return {"text": text, "facets": [{"index": {"byteStart": start, "byteEnd": start + len(shown.encode())},
                                      "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]}]}


@pytest.mark.parametrize(("shown", "uri", "target_shown"), [
    ("https://acme.example/help", "https://acme.example/help", False),
    ("acme.example/help", "https://acme.example/help", False),
    ("acme.example/orders/12345/tra...", "https://acme.example/orders/12345/tracking?x=1", False),  # the app's shortening
    ("bsky.app/support", "https://evil.example/login", True),
    ("bsky.app...", "https://bsky.app.evil.example/login", True),  # the host must be shown whole
    ("click here", "https://evil.example", True),
])
def test_a_link_shows_its_target_unless_its_text_already_says_it(shown: str, uri: str, target_shown: bool) -> None:
    text = f"Grüße 👋 {shown} !"
    rendered = readable_text(link(text, shown, uri))
    assert rendered == (text.replace(shown, f"{shown} ({uri})") if target_shown else text)


def test_broken_facets_and_odd_records_do_not_break_reading() -> None:
    assert readable_text({"text": "hi", "facets": [{"index": {"byteStart": 5, "byteEnd": 1}}, "junk"]}) == "hi"
    assert readable_text({"text": 42}) == ""
    assert conversation_of("at://a/app.bsky.feed.post/1", {"reply": {"root": {"uri": "not-at-uri"}}}) == \
        "at://a/app.bsky.feed.post/1"
    assert to_mention({"uri": "at://a/app.bsky.feed.post/1", "record": "nope"}) is None
    assert to_mention({"uri": "at://a/app.bsky.feed.post/1", "record": {"text": "x"}, "author": {"did": "did:plc:a"},
                       "indexedAt": "yesterday"}) is None


def test_the_cursor_moves_to_the_newest_only_when_the_run_reaches_the_floor() -> None:
    start = NotificationCursor(floor=T0)
    page_one = [T0 + timedelta(minutes=m) for m in (50, 40, 30)]
    mid = start.after_page(page_one, next_page="c1")
    assert mid == NotificationCursor(floor=T0, run=PageRun(T0 + timedelta(minutes=50), "c1"))
    done = mid.after_page([T0 + timedelta(minutes=20), T0 - timedelta(minutes=5)], next_page=None)
    assert done == NotificationCursor(floor=T0 + timedelta(minutes=50))
    assert NotificationCursor.loads(mid.dumps()) == mid and NotificationCursor.loads(None) is None
    assert start.reach == T0 - timedelta(seconds=OVERLAP_SECONDS)
    assert start.after_page([], next_page=None) == start  # nothing new: the floor stays


def test_graphemes_and_bytes_are_counted_as_bluesky_counts() -> None:
    assert grapheme_length("👨‍👩‍👧‍👦🇫🇷e\u0301\u0302ab") == 5
    assert byte_length("é") == 2
    assert length_problems("a" * 300) == []
    assert length_problems("👍🏽" * 301)[0].startswith("300 characters at most on Bluesky, this reply has 301")


def test_what_a_poll_costs() -> None:
    cost = poll_cost(30)
    assert (cost.per_window, cost.busy_per_window, cost.per_day) == (10, 20, 2892)
    assert "0.7% of the 3000 per IP" in cost.summary()
