"""One odd post never stops a timeline: NUL bytes and lone surrogates in an X post are
stored exactly as written (PostgreSQL's text cannot hold NUL, so the store escapes them
losslessly), and the posts after it are stored too."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.store.models import Author, Message
from tests.x_plugin.conftest import poll

POISON = "@acme broken\x00byte and a lone \ud83d surrogate \udfff here \U0010ffff"


async def test_a_nul_byte_or_lone_surrogate_never_stops_the_timeline(desk, x, clock):
    x.add_user("nul", "Nul\x00 \ud800Name", followers=1)
    poisoned = x.post_as("nul", POISON)
    after = x.post_as("dana", "@acme still there?")

    report = await poll(desk)
    assert report.caught_up and report.new == 2

    clock.advance(seconds=60)
    later = x.post_as("fox", "@acme and later?")
    assert (await poll(desk)).new == 1

    async with desk.database.sessions() as session:
        stored = {m.external_id: m for m in (await session.scalars(select(Message))).all()}
        author = await session.scalar(select(Author).where(Author.handle == "nul"))
    assert set(stored) == {poisoned["id"], after["id"], later["id"]}
    assert stored[poisoned["id"]].text == POISON  # lossless, whatever the database
    assert author is not None and author.display_name == "Nul\x00 \ud800Name"
