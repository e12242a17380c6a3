"""A Discord message holding NUL or a lone surrogate is stored (PostgreSQL cannot keep
NUL in text: the store escapes it losslessly), and it never stops a channel's catch-up."""

from __future__ import annotations

from tests.discord_plugin.desk_driver import DiscordDesk

POISON = "acme help\x00 me, broken byte and a lone \ud83d half"


async def test_poisoned_messages_live_and_while_away_are_stored_and_never_stop_the_channel(
        desk: DiscordDesk) -> None:
    emulator = desk.emulator
    support = emulator.channel_id("support")
    live = emulator.post_message(support, "alice", POISON, mentions_bot=True)
    await desk.until_inbound(1)
    passes = desk.runtime.catch_up.passes

    emulator.disconnect_gateway(resumable=False, hold=True)
    away = emulator.post_message(support, "bob", "written\x00 during the restart", mentions_bot=True)
    after = emulator.post_message(support, "bob", "and one more after it", mentions_bot=True)
    emulator.restore_gateway()
    await desk.until_caught_up(passes=passes + 1)
    stored = await desk.until_inbound(3)

    by_id = {s.external_id.rsplit("/", 1)[1]: s for s in stored}
    assert set(by_id) == {live["id"], away["id"], after["id"]}
    assert "\x00 me" in by_id[live["id"]].text  # stored as sent: NUL kept
    assert "\ufffd" in by_id[live["id"]].text  # Discord itself holds no lone surrogate
    assert "written\x00 during" in by_id[away["id"]].text
