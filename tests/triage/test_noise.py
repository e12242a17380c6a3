"""The noise plugin, one rule type at a time: promotion and scam patterns, link farms,
repeated text, pleasantries and blocked authors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.triage import merge_triage
from socialdesk.plugins.triage.noise import NoiseSettings, RepeatTracker, spam_findings, triage_mention
from tests.conftest import mention

DEFAULT = NoiseSettings()


def verdict(m, settings: NoiseSettings = DEFAULT, tracker: RepeatTracker | None = None):
    return merge_triage([triage_mention(m, settings, tracker or RepeatTracker(100))])


@pytest.mark.parametrize(("text", "reason"), [
    ("🎁 FREE GIFT for the first 100 followers, click here!", "promotion pattern 'free gift'"),
    ("Huge GIVEAWAY today only", "promotion pattern 'giveaway'"),
    ("use promo code SAVE20 for 20% off", "promotion pattern 'promo code'"),
    ("Txt WIN to 80086 now", "promotion pattern 'txt win to 80086'"),
    ("Congratulations! You have WON a £900 prize", "scam pattern 'congratulations! you have won"),
    ("you have WON a £900 prize", "scam pattern 'you have won'"),
    ("Double your Bitcoin in 24h, send BTC to this wallet", "scam pattern 'double your bitcoin'"),
    ("Contact our support team on WhatsApp +1 555 0100 to fix your account", "scam pattern"),
    ("Vérifiez: verify your account here", "scam pattern 'verify your account'"),
])
def test_promotion_and_scam_patterns_are_spam(text, reason):
    result = verdict(mention(text=text))
    assert result.spam is True and result.priority == 4
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


@pytest.mark.parametrize("text", [
    "My order never arrived and I want a refund",
    "I know you won't answer but the app keeps crashing",
    "is the free plan still available?",
    "the site is down, I already called support twice",
])
def test_customers_are_not_spam(text):
    assert spam_findings(text, DEFAULT) == []
    result = verdict(mention(text=text))
    assert (result.spam, result.reasons) == (False, ())


def test_link_farms_many_links_or_many_shortened_links():
    links = " ".join(f"https://shop{i}.example/deal" for i in range(4))
    assert spam_findings(f"best deals {links}", DEFAULT) == ["link farm (4 links)"]
    assert spam_findings("see https://bit.ly/a and https://tinyurl.com/b", DEFAULT) == ["link farm (2 shortened links)"]
    assert spam_findings("screenshot: https://bit.ly/a https://acme.example/status", DEFAULT) == []
    # X wraps every link in t.co: not a shortener here.
    assert spam_findings("https://t.co/a https://t.co/b broken again", DEFAULT) == []
    assert spam_findings("two links https://a.example https://b.example", NoiseSettings(max_links=2)) == [
        "link farm (2 links)"]


def test_repeated_text_from_one_author_within_the_window():
    tracker = RepeatTracker(100)
    first = mention(text="Follow me for crypto tips!!", author_id="spammer")
    repeats = [mention(text="follow me for CRYPTO tips!!", author_id="spammer",
                       created_at=first.created_at + timedelta(minutes=i)) for i in (1, 2)]
    assert verdict(first, tracker=tracker).reasons == ()
    assert verdict(repeats[0], tracker=tracker).reasons == ()
    third = verdict(repeats[1], tracker=tracker)
    assert (third.spam, third.reasons, third.priority) == (True, ("repeated text (3x)",), 4)
    # Another author with the same text is counted on its own.
    assert verdict(mention(text="Follow me for crypto tips!!", author_id="someone"), tracker=tracker).reasons == ()


def test_repeats_outside_the_window_or_the_same_mention_again_do_not_count():
    settings = NoiseSettings(repeat_threshold=2, repeat_window_seconds=600)
    tracker = RepeatTracker(100)
    first = mention(text="where is my parcel", author_id="a1")
    assert verdict(first, settings, tracker).spam is False
    assert verdict(first, settings, tracker).spam is False  # the same mention triaged twice counts once
    later = mention(text="where is my parcel", author_id="a1", created_at=first.created_at + timedelta(minutes=11))
    assert verdict(later, settings, tracker).spam is False
    soon = mention(text="where is my parcel", author_id="a1", created_at=later.created_at + timedelta(minutes=5))
    assert verdict(soon, settings, tracker).reasons == ("repeated text (2x)",)


def test_repeat_memory_is_bounded_least_recently_seen_first():
    settings = NoiseSettings(repeat_threshold=2)
    tracker = RepeatTracker(capacity=2)
    for author in ("a", "b", "c"):  # "a" is forgotten when "c" arrives
        verdict(mention(text="same words", author_id=author), settings, tracker)
    assert verdict(mention(text="same words", author_id="c"), settings, tracker).spam is True
    assert verdict(mention(text="same words", author_id="a"), settings, tracker).spam is False


@pytest.mark.parametrize("text", [
    "thanks!", "@acme Thank you so much 🙏", "THX", "ok 👍🏽", "Merci beaucoup !", "thanks for the quick help ❤️",
    "danke schön", "got it, cheers", "❤️",
])
def test_pleasantries_are_low_priority(text):
    result = verdict(mention(text=text))
    assert (result.priority, result.reasons, result.spam, result.auto_close) == (4, ("pleasantry",), False, None)
    assert "pleasantry" in result.tags


@pytest.mark.parametrize("text", [
    "thanks, but it still doesn't work", "thanks for nothing", "ok so when is my refund coming?", "hello",
    "thank you " * 20,
])
def test_not_pleasantries(text):
    assert "pleasantry" not in verdict(mention(text=text)).reasons


def test_pleasantries_may_be_closed_automatically():
    result = verdict(mention(text="thank you!"), NoiseSettings(auto_close_pleasantries=True))
    assert result.auto_close == "pleasantry"
    own = verdict(mention(text="ta muchly"), NoiseSettings(pleasantries=["ta muchly"]))
    assert own.reasons == ("pleasantry",)
    assert verdict(mention(text="thanks"), NoiseSettings(pleasantries=["ta"])).reasons == ()


def test_blocked_authors_by_handle_or_id_are_spam_and_closed():
    settings = NoiseSettings(blocked_authors=["testnet:@Troll", "testnet:u-666", "x:customer"])
    by_handle = verdict(mention(text="I have a real question", handle="troll"), settings)
    assert (by_handle.spam, by_handle.auto_close, by_handle.reasons, by_handle.priority) == (
        True, "blocked author", ("blocked author",), 4)
    assert verdict(mention(text="hi", author_id="u-666"), settings).auto_close == "blocked author"
    # The same handle on another platform is someone else.
    assert verdict(mention(text="my order is late", handle="customer"), settings).auto_close is None


def test_configured_patterns_replace_the_defaults():
    settings = NoiseSettings(patterns=[{"name": "casino", "phrases": ["jackpot"], "regex": [r"\bbet\s?\d+"]}])
    assert spam_findings("JACKPOT tonight", settings) == ["casino pattern 'jackpot'"]
    assert spam_findings("bet50 now", settings) == ["casino pattern 'bet50'"]
    assert spam_findings("free gift giveaway", settings) == []


def test_reasons_quote_at_most_forty_characters():
    settings = NoiseSettings(patterns=[{"name": "long", "regex": [r"buy\s.*"]}])
    [reason] = spam_findings("buy " + "x" * 100, settings)
    assert reason.startswith("long pattern 'buy x") and len(reason) <= len("long pattern ''") + 40


@pytest.mark.parametrize(("settings", "path", "message"), [
    ({"blocked_authors": ["troll"]}, "blocked_authors", "must be 'platform:handle' or 'platform:id'"),
    ({"patterns": [{"name": "p", "regex": ["(oops"]}]}, "patterns.0.regex", "does not compile"),
    ({"patterns": [{"name": "p"}]}, "patterns.0", "needs at least one of phrases or regex"),
    ({"repeat_threshold": 1}, "repeat_threshold", "greater than or equal to 2"),
    ({"auto_close_pleasantry": True}, "auto_close_pleasantry", "did you mean 'auto_close_pleasantries'"),
])
def test_bad_settings_are_clear_config_problems(settings, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"noise": settings}}, discover_plugins())
    [line] = caught.value.lines()
    assert line.startswith(f"plugins.toml: plugins.noise.{path}: ") and message in line, line


# --- the learned model may set a pattern aside: a customer is never spam on a phrase alone ----------


@pytest.fixture(scope="module")
def predict():
    from socialdesk.plugins.triage.learned import base_model

    return base_model().predict


@pytest.mark.parametrize("text", [
    "@acme the discount code you emailed me doesn't work, can someone look at my order?",
    "@acme your app says click here to reset my password but nothing happens, I'm locked out",
    "@acme I was told to verify your account in the app but it keeps failing, why?",
])
def test_a_customer_quoting_an_offer_or_a_button_is_not_spam_when_the_model_reads_a_customer(text, predict):
    m = mention(text=text)
    assert len(spam_findings(text, DEFAULT)) == 1  # the pattern alone would call it spam
    assert verdict(m).spam is True
    result = merge_triage([triage_mention(m, DEFAULT, RepeatTracker(100), predict)])
    assert (result.spam, result.priority) == (False, 3)
    assert "spam pattern overruled" in result.tags
    assert any(r.startswith("not spam: ") and "set aside (model spam 0." in r for r in result.reasons), result.reasons
    # An admin may keep the patterns absolute.
    strict = NoiseSettings(model_overrules=False)
    assert merge_triage([triage_mention(m, strict, RepeatTracker(100), predict)]).spam is True


@pytest.mark.parametrize("text", [
    "Congratulations! You have WON a £900 prize. Call 09061701461 to claim",
    "FREE entry to win a brand new iPhone, txt WIN to 80086 now",
    "Get free followers fast, link in bio!",
    "Huge GIVEAWAY today only, click here to claim your prize",
])
def test_spam_stays_spam_with_the_model(text, predict):
    result = merge_triage([triage_mention(mention(text=text), DEFAULT, RepeatTracker(100), predict)])
    assert (result.spam, result.priority) == (True, 4)
    assert "spam pattern overruled" not in result.tags


def test_link_farms_and_repeats_are_never_overruled(predict):
    farm = "@acme the discount code is broken, see https://bit.ly/a https://bit.ly/b"
    result = merge_triage([triage_mention(mention(text=farm), DEFAULT, RepeatTracker(100), predict)])
    assert result.spam is True and "link farm (2 shortened links)" in result.reasons
    tracker = RepeatTracker(100)
    text = "@acme the discount code you emailed me doesn't work"
    first = mention(text=text, author_id="a")
    for i in range(2):
        triage_mention(mention(text=text, author_id="a", created_at=first.created_at + timedelta(minutes=i)),
                       DEFAULT, tracker, predict)
    third = triage_mention(mention(text=text, author_id="a", created_at=first.created_at + timedelta(minutes=3)),
                           DEFAULT, tracker, predict)
    assert merge_triage([third]).spam is True


@pytest.mark.parametrize("text", [
    "@airline all I got for a 9 hour delay is a $50 voucher? Seriously?",
    "@airline why have you chosen to cancel my flight without telling me??",
    "@bank stop sending me credit card offers #OptOut",
    "@shop the site said 40% off but the cart charged me full price",
])
def test_complaints_about_vouchers_choices_and_discounts_match_no_pattern(text):
    assert spam_findings(text, DEFAULT) == []
