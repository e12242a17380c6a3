"""The reply modal's live counter: typing updates what is left (views.update with the
view's hash), counted the platform's way, paced per modal, and the typed text is kept."""

from __future__ import annotations

import asyncio
from typing import Any

from socialdesk.core.platform import ReplyLimits
from socialdesk.core.slack.card import Actions
from socialdesk.core.slack.modals import Callbacks, Inputs
from socialdesk.core.slack.reply_counter import COUNTER_BLOCK, counter_line
from socialdesk.core.slack.reply_counter_actions import CounterPacer, Typed
from socialdesk.plugins.bluesky.post_length import grapheme_length
from socialdesk.plugins.x.reply_text import UNIT as X_UNIT
from socialdesk.plugins.x.weighted_length import weighted_length
from tests.slack.conftest import ALICE, Desk, eventually

BOX = f"{Inputs.REPLY_TEXT}_0"


def _counter(view: Any) -> str:
    block = next(b for b in view.blocks if b.get("block_id") == COUNTER_BLOCK)
    return str(block["elements"][0]["text"])


async def _open(desk: Desk) -> Any:
    tid = await desk.mention()
    await desk.card(tid)
    await desk.click(tid, Actions.REPLY)
    return await desk.view(ALICE, Callbacks.REPLY)


async def test_typing_updates_the_counter_and_keeps_the_text(start_desk) -> None:
    desk = await start_desk("http")
    view = await _open(desk)
    box = next(b for b in view.blocks if b.get("block_id") == BOX)
    assert box["dispatch_action"] is True
    assert box["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_character_entered"]}
    assert _counter(view).startswith("✏️ 280 of 280 characters left")
    first_hash = view.hash
    delivery = await desk.driver.type_in_view(view.id, BOX, Inputs.TEXT_ACTION, "Hello there")
    assert delivery.acked
    await eventually(lambda: "269 of 280" in _counter(view), message="counter after typing")
    assert view.hash != first_hash and len(view.history) == 1  # one views.update, with the hash
    # The text the agent typed is still in the box, and is what gets sent.
    assert view.state_values[BOX][Inputs.TEXT_ACTION]["value"] == "Hello there"
    submitted = await desk.driver.submit_view(view.id, {BOX: {Inputs.TEXT_ACTION: "Hello there"}})
    assert submitted.outcome == "closed"
    await eventually(lambda: len(desk.platform.posted) == 1)
    assert desk.platform.posted[0].text == "Hello there"


async def test_the_last_text_typed_is_the_one_counted(start_desk) -> None:
    desk = await start_desk("http")
    view = await _open(desk)
    for n in range(1, 8):
        await desk.driver.type_in_view(view.id, BOX, Inputs.TEXT_ACTION, "x" * (n * 10))
    await eventually(lambda: "210 of 280" in _counter(view), message="the final count")
    assert 1 <= len(view.history) <= 7


def test_the_counter_counts_the_platform_way() -> None:
    x = ReplyLimits("x", 280, X_UNIT)
    text = "日本語のテキスト" * 10  # CJK weighs 2 on X: 80 characters, 160 weighted
    assert counter_line(weighted_length(text), x).startswith("✏️ 120 of 280 weighted characters left")
    over = "é" * 292
    assert counter_line(weighted_length(over), x) == (
        "⚠️ *12 over the limit* of 280 weighted characters on x — shorten before sending")
    family = "👨‍👩‍👧" * 301  # one grapheme each on Bluesky
    assert grapheme_length(family) == 301
    assert "1 over the limit" in counter_line(grapheme_length(family), ReplyLimits("bluesky", 300, "characters"))


async def test_fast_typing_makes_one_update_while_one_is_in_flight_then_counts_the_last() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    updates: list[tuple[str, str | None]] = []

    async def update(typed: Typed, expected: str | None) -> str | None:
        updates.append((typed.text, expected))
        started.set()
        await release.wait()
        return f"h{len(updates)}"

    pacer = CounterPacer(update, interval=0.0, workspace_interval=0.0)
    view = {"id": "V1", "hash": "h0"}
    pacer.offer(Typed(view, BOX, "a"))
    await asyncio.wait_for(started.wait(), 10)
    for n in range(2, 50):  # typed while the first update is on its way, all with the old hash
        pacer.offer(Typed(view, BOX, "a" * n))
    release.set()
    await asyncio.wait_for(pacer.wait_idle(), 10)
    # Two updates in all: the first text, then the last; the second carries the hash the first made.
    assert updates == [("a", "h0"), ("a" * 49, "h1")]


async def test_modals_share_the_workspace_budget_in_order() -> None:
    """Two agents typing at once: their updates take turns for the workspace-wide slots
    (a long spacing here, so the second update is provably still waiting)."""
    updates: list[str] = []

    async def update(typed: Typed, expected: str | None) -> str | None:
        updates.append(typed.view_id)
        return None

    pacer = CounterPacer(update, interval=0.0, workspace_interval=3600.0)
    pacer.offer(Typed({"id": "V1", "hash": "a"}, BOX, "x"))
    pacer.offer(Typed({"id": "V2", "hash": "b"}, BOX, "y"))
    await eventually(lambda: updates == ["V1"], message="the first modal's update")
    await asyncio.sleep(0)  # the second is parked on its slot, an hour away
    assert updates == ["V1"]
    await pacer.close()
