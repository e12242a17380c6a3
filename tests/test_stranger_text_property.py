"""Whatever a stranger writes is stored exactly, shown escaped, and never crashes the desk:
NUL, lone surrogates, RTL and zero-width characters, 10k-character posts, Slack's control
sequences, in mention texts and author names, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from socialdesk.core.mention import Author, Mention
from socialdesk.core.slack.card import build_card
from socialdesk.core.store.models import Author as AuthorRow
from socialdesk.core.store.models import Message
from tests.platform_double import PLATFORM

HOSTILE = ["\x00", "\ud83d", "\udfff", "\ud83d\ude00", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\uffff",
           "\uffffe", "<!channel>", "<!here>", "<@U0AGENT001>", "<!subteam^S1>", "<https://evil.example|bank>",
           "@channel", "@here", "&amp;", "&lt;", "*", "_", "~", "`", "```", "> ", "\n", "\t", "\x1b[31m", "مرحبا",
           "שלום", "😀", "👨\u200d👩\u200d👧", "e\u0301", "\U0010ffff"]
pieces = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
texts = st.one_of(st.lists(pieces, max_size=30).map("".join),
                  st.builds(lambda p, n: (p * n)[:10_000], st.sampled_from(HOSTILE + ["a"]), st.just(10_000)))
names = st.lists(pieces, min_size=1, max_size=8).map("".join).map(lambda s: s[:60])
_ids = itertools.count(1)
AT = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=texts, handle=names, display=names)
async def test_any_mention_text_and_author_name_is_stored_exactly_and_shown_escaped(
        app, text: str, handle: str, display: str) -> None:
    n = next(_ids)
    mention = Mention(platform=PLATFORM, external_id=f"h{n}", conversation_id=f"hc{n}",
                      author=Author(PLATFORM, f"ha{n}", handle, display_name=display), text=text, created_at=AT,
                      url=f"https://testnet.example/p/h{n}")
    result = await app.service.ingest(mention)
    async with app.database.sessions() as session:
        stored = await session.get(Message, result.message_id)
        author = await session.scalar(select(AuthorRow).where(AuthorRow.external_id == f"ha{n}"))
    assert stored is not None and stored.text == text  # byte for byte, on both databases
    assert author is not None and (author.handle, author.display_name) == (handle, display)

    details = await app.service.ticket_details(result.ticket_id)
    card = build_card(details, fields=[], now=AT, preview_chars=1200, oncall_group=None)
    shown = card.text + json.dumps([b.to_dict() for b in card.blocks], ensure_ascii=False)
    shown.encode("utf-8")  # no lone surrogate reaches Slack
    for forbidden in ("<!channel>", "<!here>", "<@U", "<!subteam", "<https://evil", "\x00", "\u202e"):
        assert forbidden not in shown
