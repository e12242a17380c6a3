"""Edit and Delete of a sent reply, from its card, through the real Bolt app, against the
Discord and X emulators: exactly once, a lost answer included, for the author or an admin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor
from socialdesk.core.mention import Author, Mention
from socialdesk.core.reports.report import build_report
from socialdesk.core.slack.reply_correction_actions import EDIT_ACTION, EDIT_BLOCK, EDIT_CALLBACK
from socialdesk.core.slack.reply_correction_card import CorrectionActions
from socialdesk.core.ticket import ReplyStatus
from socialdesk.plugins.discord.refs import ConversationRef, MessageRef
from socialdesk.sandbox.discord import DiscordEmulator, DiscordSettings
from socialdesk.sandbox.x import XEmulator
from tests.slack.conftest import ALICE, BOB, CAROL, Desk, eventually

DISCORD_TOKEN_ENV = "SOCIALDESK_TEST_DISCORD_TOKEN"
X_ENV = {"bearer_token_env": "X_BEARER_TOKEN", "consumer_key_env": "X_CONSUMER_KEY",
         "consumer_secret_env": "X_CONSUMER_SECRET", "access_token_env": "X_ACCESS_TOKEN",
         "access_token_secret_env": "X_ACCESS_TOKEN_SECRET"}


@pytest.fixture
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator(settings=DiscordSettings(heartbeat_interval_ms=1000))
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def x_emulator() -> AsyncIterator[XEmulator]:
    async with XEmulator(brand_username="acme", brand_name="Acme Support") as emulator:
        emulator.add_user("dana", "Dana Scully")
        yield emulator


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _reply_of(desk: Desk, ticket_id: int, status: str) -> Any:
    async def found() -> Any:
        return next((r for r in await desk.app.service.replies_of(ticket_id) if r.status == status), None)

    await eventually(found, message=f"a {status} reply on #{ticket_id}")
    return await found()


def _buttons(desk: Desk, message: Any) -> list[str]:
    return [e.get("action_id") for b in message.blocks or [] if b.get("type") == "actions" for e in b["elements"]]


async def _card_with(desk: Desk, ticket_id: int, action_id: str) -> Any:
    async def shown() -> bool:
        return action_id in _buttons(desk, await desk.card(ticket_id))

    await eventually(shown, message=f"{action_id} on the card of #{ticket_id}")
    return await desk.card(ticket_id)


async def _thread_texts(desk: Desk, ticket_id: int) -> list[str]:
    ticket = await desk.app.service.get_ticket(ticket_id)
    return [m.text for m in desk.slack.state.timeline(ticket.card_channel or "").thread(ticket.card_ts or "")
            if m.ts != ticket.card_ts]


async def _kinds(desk: Desk, ticket_id: int) -> list[str]:
    return [e.kind for e in await desk.app.service.audit_trail(ticket_id)]


async def test_a_discord_reply_is_edited_in_place_and_deleted_once_even_when_an_answer_is_lost(
        start_desk, discord_emulator: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = discord_emulator
    monkeypatch.setenv(DISCORD_TOKEN_ENV, emulator.token)
    desk: Desk = await start_desk("http", plugins={"discord": {
        "enabled": True, "token_env": DISCORD_TOKEN_ENV, "api_base": emulator.api_base,
        "guild_ready_timeout": 0.05}})
    guild, support = emulator.guild_id(), emulator.channel_id("support")
    question = emulator.post_message(support, "customer", "my order never arrived")
    ref = MessageRef(guild, support, int(question["id"]))
    tid = (await desk.app.service.ingest(Mention(
        platform="discord", external_id=ref.external_id,
        conversation_id=ConversationRef(guild, support, ref.message_id).conversation_id,
        author=Author("discord", question["author"]["id"], "customer"), text="my order never arrived",
        created_at=_now(), url=ref.url))).ticket_id
    await desk.app.service.reply(tid, Actor(ALICE), "We are on it")
    sent = await _reply_of(desk, tid, ReplyStatus.SENT)
    posted = MessageRef.parse(sent.platform_id)
    card = await _card_with(desk, tid, CorrectionActions.EDIT)
    assert CorrectionActions.DELETE in _buttons(desk, card)

    # Bob neither wrote the reply nor is an admin: refused, nothing sent.
    await desk.click(tid, CorrectionActions.EDIT, user=BOB)
    assert "only <@U0AGENT001>, who wrote this reply, or an admin" in (await desk.told(BOB))[-1]

    # Alice edits; Discord edits the message but its answer never arrives.
    message_path = f"/api/v10/channels/{support}/messages/{posted.message_id}"
    emulator.lose_next_response(message_path, method="PATCH")
    await desk.click(tid, CorrectionActions.EDIT)
    view = await desk.view(ALICE, EDIT_CALLBACK)
    box = next(b for b in view.blocks if b.get("block_id") == EDIT_BLOCK)
    assert box["element"]["initial_value"] == "We are on it"
    submitted = await desk.driver.submit_view(view.id, {EDIT_BLOCK: {EDIT_ACTION: "Fixed: your parcel ships today"}})
    assert submitted.outcome == "closed"
    edited = await _reply_of(desk, tid, ReplyStatus.EDITED)
    assert edited.text == "Fixed: your parcel ships today" and len(emulator.lost_answers) == 1
    await desk.settled()
    assert emulator.message(support, posted.message_id)["content"] == "Fixed: your parcel ships today"
    assert len(emulator.recorder.of("discord", method="PATCH", path=message_path)) == 1  # looked, did not redo
    card = await _card_with(desk, tid, CorrectionActions.DELETE)
    assert "(edited)" in desk.card_text(card)
    # The thread's copy of the reply shows what was first sent; a notice there says what it reads now.
    notices = [t for t in await _thread_texts(desk, tid) if "edited the reply" in t]
    assert notices == [f"<@{ALICE}> edited the reply “We are on it” on discord. It now reads:\n"
                       ">Fixed: your parcel ships today"]

    # Carol (an admin) deletes it; one DELETE, the message is gone.
    await desk.click(tid, CorrectionActions.DELETE, user=CAROL)
    await _reply_of(desk, tid, ReplyStatus.DELETED)
    await desk.settled()
    assert emulator.recorder.of("discord", method="DELETE", path=message_path)[0]["status"] == 204
    assert len(emulator.recorder.of("discord", method="DELETE", path=message_path)) == 1
    assert str(posted.message_id) not in [m["id"] for m in emulator.messages(support)]
    kinds = await _kinds(desk, tid)
    assert [k for k in kinds if k.startswith("reply_") and k not in ("reply_queued", "reply_sent")] == [
        EventKind.REPLY_EDIT_REQUESTED, EventKind.REPLY_EDITED, EventKind.REPLY_DELETE_REQUESTED,
        EventKind.REPLY_DELETED]
    card = await desk.card(tid)
    assert CorrectionActions.DELETE not in _buttons(desk, card) and "was deleted from discord" in desk.card_text(card)
    assert [t for t in await _thread_texts(desk, tid) if "deleted the reply" in t] == [
        f"<@{CAROL}> deleted the reply “Fixed: your parcel ships today” from discord."]


async def test_an_x_edit_deletes_and_reposts_once_even_when_the_delete_answer_is_lost(
        start_desk, x_emulator: XEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    x = x_emulator
    secrets = {"bearer_token_env": x.app_credentials.bearer_token,
               "consumer_key_env": x.app_credentials.consumer_key,
               "consumer_secret_env": x.app_credentials.consumer_secret,
               "access_token_env": x.brand_credentials.access_token,
               "access_token_secret_env": x.brand_credentials.access_token_secret}
    for key, value in secrets.items():
        monkeypatch.setenv(X_ENV[key], value)
    desk: Desk = await start_desk("http", plugins={"x": {"enabled": True, "api_base": x.base_url}})
    question = x.post_as("dana", "@acme my order never arrived")
    tid = (await desk.app.service.ingest(Mention(
        platform="x", external_id=question["id"], conversation_id=question["conversation_id"],
        author=Author("x", question["author_id"], "dana"), text=question["text"], created_at=_now()))).ticket_id
    await desk.app.service.reply(tid, Actor(ALICE), "We are on it")
    first = await _reply_of(desk, tid, ReplyStatus.SENT)
    card = await _card_with(desk, tid, CorrectionActions.EDIT)
    edit = next(e for b in card.blocks if b.get("type") == "actions" for e in b["elements"]
                if e.get("action_id") == CorrectionActions.EDIT)
    assert "deletes your reply there and posts the new text as a new reply" in json.dumps(edit["confirm"])

    delete_path = f"/2/tweets/{first.platform_id}"
    x.lose_next_response(delete_path, method="DELETE")
    await desk.click(tid, CorrectionActions.EDIT)
    view = await desk.view(ALICE, EDIT_CALLBACK)
    assert "posts the new text as a new reply" in json.dumps(view.blocks)
    assert view.definition["submit"]["text"] == "Delete and repost"
    submitted = await desk.driver.submit_view(view.id, {EDIT_BLOCK: {EDIT_ACTION: "Your parcel ships today"}})
    assert submitted.outcome == "closed"

    async def reposted() -> bool:
        return [r["text"] for r in x.replies_by("acme")] == ["@dana Your parcel ships today"] or \
            [r["text"] for r in x.replies_by("acme")] == ["Your parcel ships today"]

    await eventually(reposted, message="the new reply on X, the old one gone")
    replacement = await _reply_of(desk, tid, ReplyStatus.SENT)
    assert replacement.text == "Your parcel ships today" and replacement.id != first.id
    assert (await desk.app.service.get_reply(first.id)).status == ReplyStatus.EDITED
    await desk.settled()
    assert len(x.lost_answers) == 1
    # The post was deleted once: by the DELETE whose answer was lost. aiohttp repeats an idempotent
    # request whose kept-alive connection broke; X refuses that copy (its OAuth 1.0a nonce is spent)
    # or finds nothing to delete. The desk then looks the post up instead of deleting again.
    statuses = [r["status"] for r in x.recorder.of("x", method="DELETE", path=delete_path)]
    assert statuses[0] is None and statuses[1:] in ([], [401], [404])
    assert len(x.recorder.of("x", method="POST", path="/2/tweets")) == 2  # the first reply and the new one
    assert [t for t in await _thread_texts(desk, tid) if "deleted the reply" in t] == [
        f"<@{ALICE}> deleted the reply “We are on it” from x; the new text follows here as a new reply."]
    # Still one answer: /desk stats and the report count the repost with the reply it replaced.
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert (await desk.app.service.stats(since)).replies_sent == 1
    report = await build_report(desk.app.database, since, desk.app.clock() + timedelta(days=1), now=desk.app.clock())
    assert [(a.agent, a.replies) for a in report.agents] == [(ALICE, 1)]

    # The new reply can be deleted in turn, once.
    await _card_with(desk, tid, CorrectionActions.DELETE)
    await desk.click(tid, CorrectionActions.DELETE)
    await _reply_of(desk, tid, ReplyStatus.DELETED)
    await eventually(lambda: x.replies_by("acme") == [], message="the new reply deleted")
    await desk.settled()
    assert len(x.recorder.of("x", method="DELETE", path=f"/2/tweets/{replacement.platform_id}")) == 1


async def test_a_platform_that_can_neither_edit_nor_delete_says_so_on_the_button(start_desk) -> None:
    desk: Desk = await start_desk("http")  # testnet declares no capability: neither
    tid = await desk.mention()
    await desk.app.service.reply(tid, Actor(ALICE), "We are on it")
    await _reply_of(desk, tid, ReplyStatus.SENT)
    card = await _card_with(desk, tid, CorrectionActions.UNAVAILABLE)
    buttons = [e for b in card.blocks if b.get("type") == "actions" for e in b["elements"]]
    (unavailable,) = [e for e in buttons if e.get("action_id") == CorrectionActions.UNAVAILABLE]
    assert unavailable["text"]["text"] == "Can't edit or delete on testnet"
    assert not {CorrectionActions.EDIT, CorrectionActions.DELETE} & {e.get("action_id") for e in buttons}
    await desk.click(tid, CorrectionActions.UNAVAILABLE)
    assert "testnet does not let the desk edit a reply it posted" in (await desk.told(ALICE))[-1]


def test_a_notice_quotes_the_reply_without_letting_it_ping_or_format() -> None:
    from socialdesk.core.reply_corrections import _quoted, _quoted_block

    line = _quoted("<!channel> *urgent*\n> not a quote " + "x" * 200)
    assert "<!channel>" not in line and "*urgent*" not in line and "\n" not in line
    assert line.endswith("…”") and line.count("x") < 80  # cut to 80 characters before escaping
    block = _quoted_block("first line\n<@U0AGENT001> second\n> third")
    assert block.split("\n>")[0] == "first line" and "<@" not in block and len(block.split("\n>")) == 3
