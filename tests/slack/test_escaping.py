"""Untrusted text in Slack: an injection suite through the real desk and the emulator,
and the escaping functions one by one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from socialdesk.core.mention import Author, Mention
from socialdesk.core.slack.escaping import (
    WORD_JOINER,
    clean,
    cut,
    escape_mrkdwn,
    escape_text,
    fit,
    link,
    safe_url,
)
from tests.platform_double import PLATFORM
from tests.slack.conftest import ALICE, CHANNEL, NO_STORMS
from tests.slack.inert import message_problems, text_objects

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<@U123>",
    "<@U0AGENT001>",
    "<@W123ABC|boss>",
    "<!subteam^S1>",
    "<!subteam^S0ONCALL1|@desk-oncall>",
    "<https://evil.example|docs>",
    "<https://evil.example>",
    "<http://bank.example.evil|https://bank.example>",
    "<mailto:help@evil.example|support@brand.example>",
    "<tel:+15555550100|call support>",
    "<slack://open|Open Slack>",
    "<#C0SOCIAL01>",
    "<#C0SOCIAL01|general>",
    "<!date^1392734382^{date}|Feb 18>",
    "&lt;!here&gt;",
    "&lt;@U123&gt;",
    "&amp;lt;!channel&amp;gt;",
    "<<!here>>",
    "@here",
    "@channel",
    "@everyone hello",
    "hey @here, read this",
    "<!chan\u200bnel>",
    "<\u200b!here>",
    "\u202e<!here>\u202c",
    "\ufeff<!channel>",
    "*bold*",
    "_italic_",
    "~strike~",
    "`code`",
    "```block```",
    "> quote\n>> more",
    "[docs](https://evil.example)",
    ":warning: <!channel> refund NOW *urgent* <https://evil.example|your bank>",
]
MARKUP = ("*bold*", "_italic_", "~strike~", "`code`", "```block```")


def evil_mention(n: int, evil: str) -> Mention:
    return Mention(
        platform=PLATFORM, external_id=f"evil-{n}", conversation_id=f"evil-conv-{n}",
        author=Author(platform=PLATFORM, external_id=f"a{n}", handle=f"h{n}{evil}"[:150], display_name=evil,
                      followers=5, profile_url=f"https://testnet.example/u/h{n}"),
        text=f"Hi team {evil} please help", created_at=datetime(2026, 11, 2, 8, 59, tzinfo=timezone.utc),
        url=f"https://testnet.example/p/evil-{n}",
    )


def test_the_suite_is_big_enough() -> None:
    assert len(INJECTIONS) >= 30 and len(set(INJECTIONS)) == len(INJECTIONS)


async def test_nothing_posted_pings_or_links(start_desk) -> None:
    # One card per injection: storm grouping (of texts that share their wrapping) is off here;
    # incident cards are checked for escaping in tests/storms/.
    desk = await start_desk("http", plugins=NO_STORMS)
    tickets = [(await desk.app.service.ingest(evil_mention(n, evil))).ticket_id for n, evil in enumerate(INJECTIONS)]
    # a follow-up and a note of each kind land in the thread
    follow_up = Mention(platform=PLATFORM, external_id="evil-follow", conversation_id="evil-conv-0",
                        author=Author(PLATFORM, "a0", "<!here>", "<!channel>"), text=" ".join(INJECTIONS),
                        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc), url="https://testnet.example/p/f")
    await desk.app.service.ingest(follow_up)
    for tid in tickets:
        await desk.card(tid)
    await desk.settled()
    messages = desk.slack.timeline(CHANNEL)
    assert len(messages) == len(INJECTIONS)
    first_card = (await desk.app.service.get_ticket(tickets[0])).card_ts or ""
    thread = desk.slack.thread(CHANNEL, first_card)[1:]
    assert len(thread) == 1
    for message in [*messages, *thread]:
        assert message_problems(message.text, message.blocks) == [], message.text
        for obj in text_objects(message.blocks):
            if obj["type"] == "mrkdwn":
                assert not any(m in obj["text"] for m in MARKUP), obj["text"]
    # and the agents' listings, which quote handles and messages too
    answer = await desk.command("queue", user=ALICE)
    assert message_problems(answer, None) == []
    assert not any(m in answer for m in MARKUP)


def test_escape_text_breaks_every_control_sequence() -> None:
    assert escape_text("<!channel> & <@U1>") == f"&lt;!{WORD_JOINER}channel&gt; &amp; &lt;@{WORD_JOINER}U1&gt;"
    assert escape_text("@here @channel #general") == f"@{WORD_JOINER}here @{WORD_JOINER}channel #{WORD_JOINER}general"
    assert escape_text("&lt;!here&gt;") == f"&amp;lt;!{WORD_JOINER}here&amp;gt;"
    assert escape_text("a@b.example") == f"a@{WORD_JOINER}b.example"  # harmless, and still reads the same
    assert escape_text("line 1\nline 2\ttab") == "line 1\nline 2\ttab"


def test_escape_mrkdwn_neutralises_markup() -> None:
    assert escape_mrkdwn("*bold* _it_ ~s~ `c`") == "∗bold∗ ˍitˍ ∼s∼ ˋcˋ"
    assert escape_mrkdwn("> quote") == "&gt; quote"
    assert "<" not in escape_mrkdwn("<https://evil|bank>")


def test_clean_removes_invisible_and_reordering_characters_but_keeps_emoji() -> None:
    assert clean("a\u200bb\u202ec\u2066d\ufeffe\x01f\x1b") == "abcdef"
    assert clean("nul\x00 and \ud83d lone") == "nul\u2400 and \ufffd lone"  # shown, not dropped
    family = "👨\u200d👩\u200d👧"
    assert clean(family) == family  # the zero-width joiner holds emoji sequences together


@pytest.mark.parametrize(("url", "expected"), [
    ("https://testnet.example/p/1", "https://testnet.example/p/1"),
    ("https://x.example/?a=1&b=2", "https://x.example/?a=1&amp;b=2"),
    ("https://x.example/a|b", "https://x.example/a%7Cb"),
    ("https://x.example/<!here>", "https://x.example/%3C!here%3E"),
    ("https://x.example/a b", "https://x.example/a%20b"),
    ("javascript:alert(1)", None),
    ("slack://open", None),
    ("//no-scheme.example", None),
    ("", None),
    (None, None),
])
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_link_labels_are_escaped_and_unsafe_urls_are_dropped() -> None:
    assert link("https://ok.example/x", "*label* <!here>") == f"<https://ok.example/x|∗label∗ &lt;!{WORD_JOINER}here&gt;>"
    assert link("javascript:x", "click") == "click"


def test_cut_and_fit() -> None:
    assert cut("abcdef", 4) == "abc…" and cut("abc", 4) == "abc"
    fitted = fit("&" * 1000, 100)
    assert len(fitted) <= 100 and fitted.endswith(("&amp;", "…")) and "&am…" not in fitted
    assert fit("<" * 50, 3000) == "&lt;" * 50
