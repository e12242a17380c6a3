"""The Mastodon plugin's pure parts: counting, HTML to text, visibility, the rate budget, error sorting."""

from __future__ import annotations

import pytest
import requests
import urllib3.exceptions
from mastodon import MastodonNetworkError

from socialdesk.plugins.mastodon.api_errors import never_left
from socialdesk.plugins.mastodon.html_text import html_to_text
from socialdesk.plugins.mastodon.rate_budget import REPLY_RESERVE, RateBudget
from socialdesk.plugins.mastodon.reply_text import addressed
from socialdesk.plugins.mastodon.status_length import countable_text, status_length
from socialdesk.plugins.mastodon.visibility import reply_visibility


@pytest.mark.parametrize(("text", "length"), [
    ("hello", 5),
    ("https://example.com/a/very/long/path/that/goes/on/and/on/and/on", 23),
    ("see https://x.io.", 4 + 23 + 1),  # the sentence's full stop is not part of the link
    ("@dana@example.social hi", len("@dana hi")),  # a remote mention counts by its local part
    ("@dana hi", 8),
    ("mail me: dana@example.social", len("mail me: dana@example.social")),  # an e-mail is not a mention
    ("👩‍👩‍👧‍👦", 1),  # one grapheme cluster, seven code points
    ("e\u0301", 1),  # a letter and its combining accent
    ("🇫🇷🇩🇪", 2),  # two flags
    ("example.com", 11),  # Mastodon shortens only links with their protocol
])
def test_mastodon_counts_as_mastodon_does(text: str, length: int) -> None:
    assert status_length(text) == length


def test_the_content_warning_counts_too() -> None:
    assert status_length("body", spoiler_text="cw") == 6
    assert countable_text("a https://b.example/c d") == "a " + "x" * 23 + " d"


def test_html_becomes_the_text_as_written_with_real_link_targets() -> None:
    html = ('<p><span class="h-card"><a href="https://s.example/@acme" class="u-url mention">@<span>acme</span>'
            '</a></span> help &amp; &lt;!here&gt;</p><p>line one<br />line two <a href="https://real.example/x" '
            'rel="nofollow"><span class="invisible">https://</span><span class="">shown.example</span></a> '
            '<a href="https://s.example/tags/x" class="mention hashtag">#<span>x</span></a></p>')
    assert html_to_text(html) == "@acme help & <!here>\n\nline one\nline two https://real.example/x #x"
    assert html_to_text("") == "" and html_to_text("<p>unclosed <b>tag") == "unclosed tag"


@pytest.mark.parametrize(("customer", "allowed", "expected"), [
    ("public", "public", "public"), ("public", "private", "private"), ("direct", "public", "direct"),
    ("private", "unlisted", "private"), ("limited", "public", "direct"), (None, "public", "direct"),
])
def test_visibility_is_kept_or_narrowed(customer: str | None, allowed: str, expected: str) -> None:
    assert reply_visibility(customer, allowed) == expected


def test_the_reply_addresses_the_customer_once() -> None:
    assert addressed("thanks", "dana@example.social") == "@dana@example.social thanks"
    assert addressed("@Dana@example.social thanks", "dana@example.social") == "@Dana@example.social thanks"
    assert addressed("thanks", "acme", brand_acct="acme") == "thanks"
    assert addressed("thanks", None) == "thanks"


def test_polls_leave_the_reply_reserve_and_429_waits_for_the_reset() -> None:
    budget = RateBudget()
    budget.observe(300, REPLY_RESERVE + 1, 120.0, now=1000.0)
    assert budget.wait_seconds(1000.0, polling=True) == 0 and budget.wait_seconds(1000.0) == 0
    budget.observe(300, REPLY_RESERVE, 100.0, now=1020.0)
    assert budget.wait_seconds(1020.0, polling=True) == 100.0  # polls wait for the next window...
    assert budget.wait_seconds(1020.0) == 0  # ...replies may still go
    assert budget.rate_limited(30.0, now=1030.0) == 1060.0 and budget.wait_seconds(1030.0) == 30.0
    budget.failed(2000.0)
    first = budget.wait_seconds(2000.0)
    budget.failed(2000.0)
    assert budget.wait_seconds(2000.0) == 2 * first


def _network_error(inner: BaseException) -> MastodonNetworkError:
    try:
        try:
            raise inner
        except Exception as exc:
            raise MastodonNetworkError(f"Could not complete request: {exc}")
    except MastodonNetworkError as outer:
        return outer


def test_a_refused_connection_never_left_but_a_broken_answer_may_have() -> None:
    refused = requests.ConnectionError(urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.NewConnectionError(None, "refused")))  # type: ignore[arg-type]
    assert never_left(_network_error(refused)) is True
    assert never_left(_network_error(requests.ConnectTimeout())) is True
    assert never_left(_network_error(requests.ConnectionError("Connection aborted.", ConnectionResetError()))) is False
    assert never_left(_network_error(requests.ReadTimeout())) is False
