"""Attachments reach Slack: X asks for media and shows a photo as an image block (alt text
escaped); a follow-up's image goes into the card's thread; other files are listed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from socialdesk.core.attachments import Attachment
from socialdesk.core.mention import Author, Mention
from socialdesk.core.slack.attachment_blocks import media_blocks
from socialdesk.plugins.x.plugin import poll_timeline
from socialdesk.plugins.x.runtime import close_runtime
from socialdesk.sandbox.x import XEmulator
from tests.slack.conftest import Desk, eventually

X_ENV = {"X_BEARER_TOKEN": "bearer", "X_CONSUMER_KEY": "consumer_key", "X_CONSUMER_SECRET": "consumer_secret",
         "X_ACCESS_TOKEN": "access_token", "X_ACCESS_TOKEN_SECRET": "access_token_secret"}


@pytest.fixture
async def x_emulator() -> AsyncIterator[XEmulator]:
    async with XEmulator(brand_username="acme", brand_name="Acme Support") as emulator:
        emulator.add_user("dana", "Dana Scully")
        yield emulator


async def _x_desk(start_desk: Any, x: XEmulator, monkeypatch: pytest.MonkeyPatch) -> Desk:
    values = {"bearer": x.app_credentials.bearer_token, "consumer_key": x.app_credentials.consumer_key,
              "consumer_secret": x.app_credentials.consumer_secret, "access_token": x.brand_credentials.access_token,
              "access_token_secret": x.brand_credentials.access_token_secret}
    for env, key in X_ENV.items():
        monkeypatch.setenv(env, values[key])
    return await start_desk("http", plugins={"x": {"enabled": True, "api_base": x.base_url}})


def _images(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == "image"]


async def test_an_x_photo_is_shown_on_the_card_and_a_follow_ups_photo_in_its_thread(
        start_desk, x_emulator: XEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    x = x_emulator
    desk = await _x_desk(start_desk, x, monkeypatch)
    try:
        question = x.post_as("dana", "@acme my parcel arrived like this",
                             media=[{"type": "photo", "alt_text": "a crushed box <!channel> & tape"}])
        await poll_timeline(desk.app, "x.poll_mentions")
        (ticket,) = await desk.app.service.queue(platform="x")
        card = await desk.card(ticket.id)
        ticket = await desk.app.service.get_ticket(ticket.id)  # now with its card's place
        (image,) = _images(card.blocks or [])
        photo = x.store.get(question["id"]).media[0]
        assert image["image_url"] == photo.url and image["image_url"].startswith("https://pbs.twimg.com/media/")
        alt = image["alt_text"]  # escaped, never a ping
        assert alt.startswith("a crushed box &lt;!") and alt.endswith("&gt; &amp; tape") and "<!channel" not in alt
        # X was asked for the media and their fields, as X documents them.
        (request,) = [r for r in x.recorder.of("x", method="GET") if r["path"].endswith("/mentions")][:1]
        assert "attachments.media_keys" in request["query"]["expansions"]
        assert set(request["query"]["media.fields"].split(",")) >= {"url", "preview_image_url", "alt_text", "type",
                                                                     "width", "height"}

        x.post_as("dana", "@acme and the label", in_reply_to=question["id"],
                  media=[{"type": "video", "alt_text": "unboxing"}])
        await poll_timeline(desk.app, "x.poll_mentions")

        def thread_images() -> list[dict[str, Any]]:
            replies = desk.slack.state.timeline(ticket.card_channel or "").thread(ticket.card_ts or "")
            return [b for m in replies if m.ts != ticket.card_ts for b in _images(m.blocks or [])]

        await eventually(lambda: thread_images(), message="the follow-up's video still in the thread")
        (still,) = thread_images()
        assert still["image_url"].startswith("https://pbs.twimg.com/ext_tw_video_thumb/")
        assert still["title"]["text"] == "video"
    finally:
        await close_runtime(desk.app)


async def test_files_are_listed_with_name_type_and_size(start_desk) -> None:
    desk = await start_desk("http")
    tid = (await desk.app.service.ingest(Mention(
        platform="testnet", external_id="m-1", conversation_id="c-1",
        author=Author("testnet", "a-1", "jo"), text="the invoice is wrong", created_at=datetime.now(timezone.utc),
        media=(Attachment(kind="file", url="https://cdn.example/invoice.pdf", name="invoice *bold* <@U1>.pdf",
                          content_type="application/pdf", size=2048),
               Attachment(kind="image", url="http://insecure.example/p.png", name="p.png", content_type="image/png",
                          size=10))))).ticket_id
    card = await desk.card(tid)
    text = json.dumps(card.blocks)
    assert _images(card.blocks or []) == []  # not https: listed, not fetched by Slack
    assert "invoice" in text and "application/pdf, 2.0 KB" in text and "p.png" in text and "image/png, 10 B" in text
    assert "<@U1>" not in text  # a name cannot mention anyone


def test_expired_signed_links_and_too_many_images_are_listed_instead() -> None:
    now = datetime.now(timezone.utc)
    expired = Attachment(kind="image", url="https://cdn.discordapp.com/a.png?ex=1", name="a.png",
                         expires_at=now + timedelta(minutes=1))
    fresh = [Attachment(kind="image", url=f"https://cdn.example/{n}.png", name=f"{n}.png") for n in range(6)]
    blocks = [b.to_dict() for b in media_blocks([expired, *fresh], now)]
    assert [b["image_url"] for b in _images(blocks)] == [f"https://cdn.example/{n}.png" for n in range(4)]
    listed = blocks[-1]["elements"][0]["text"]
    assert "a.png" in listed and "4.png" in listed and "5.png" in listed
    assert len(Mention(platform="p", external_id="e", conversation_id="c", author=Author("p", "a", "h"), text="t",
                       created_at=now, media=tuple(fresh * 10)).media) == 20  # bounded


async def test_an_image_slack_cannot_download_is_listed_and_the_card_still_goes_out(start_desk) -> None:
    desk = await start_desk("http")
    desk.slack.state.unreachable_images.add("https://gone.example/")  # Slack's download fails there
    tid = (await desk.app.service.ingest(Mention(
        platform="testnet", external_id="m-2", conversation_id="c-2",
        author=Author("testnet", "a-2", "jo"), text="see the photo", created_at=datetime.now(timezone.utc),
        media=(Attachment(kind="image", url="https://gone.example/p.png", name="p.png", content_type="image/png",
                          size=2048),)))).ticket_id
    card = await desk.card(tid)
    assert _images(card.blocks or []) == [] and "p.png" in json.dumps(card.blocks)
    refused = [r for r in desk.slack.recorder.of("slack", path="/api/chat.postMessage")
               if (r["response"] or {}).get("error") == "invalid_blocks"]
    assert len(refused) == 1  # tried once with the image, then sent with it listed
    await desk.click(tid, "desk.claim")  # later updates keep it listed: no more refusals
    await eventually(lambda: "Claimed by" in desk.card_text(desk.slack.message(card.channel, card.ts)),
                     message="the card updated")
    assert not [r for r in desk.slack.recorder.of("slack", path="/api/chat.update")
                if (r["response"] or {}).get("error") == "invalid_blocks"]
