"""The author_weight plugin: VIPs, verified accounts and follower tiers raise priority."""

from __future__ import annotations

import pytest

from socialdesk.core.config import ConfigError, parse_config
from socialdesk.core.mention import Author
from socialdesk.core.plugin_catalog import discover_plugins
from socialdesk.core.triage import TriageContribution, merge_triage
from socialdesk.plugins.triage.author_weight import AuthorWeightSettings, followers_label, weigh

DEFAULT = AuthorWeightSettings()


def author(**kw) -> Author:
    return Author(**{"platform": "x", "external_id": "42", "handle": "someone", "followers": 10, **kw})


def merged(a: Author, settings: AuthorWeightSettings = DEFAULT, priority: int = 3):
    return merge_triage([TriageContribution(priority=priority), weigh(a, settings)])


def test_an_ordinary_author_weighs_nothing():
    assert weigh(author(), DEFAULT) == []
    assert weigh(author(followers=None), DEFAULT) == []


@pytest.mark.parametrize(("followers", "priority", "reason"), [
    (9_999, 3, None), (10_000, 2, "10k followers"), (12_345, 2, "12k followers"),
    (99_999, 2, "99k followers"), (100_000, 2, "100k followers"), (1_250_000, 2, "1.2M followers"),
])
def test_follower_tiers_only_the_highest_reached_counts(followers, priority, reason):
    result = merged(author(followers=followers))
    assert result.priority == priority  # P3 + 2 steps would be P1: an audience alone stops at P2
    assert result.reasons == ((reason,) if reason else ())


def test_audience_raises_to_p2_at_most_unless_configured_and_never_lowers():
    big = author(followers=250_000, verified=True)
    assert merged(big, priority=4).priority == 2
    assert merged(big, AuthorWeightSettings(escalate_up_to=1), priority=4).priority == 1
    assert merged(big, priority=1).priority == 1  # an outage rule's P1 stays P1
    assert merged(author(followers=12_000), AuthorWeightSettings(escalate_up_to=3), priority=4).priority == 3


def test_follower_labels_are_short():
    assert [followers_label(n) for n in (950, 1_000, 1_500, 12_345, 2_000_000)] == [
        "950 followers", "1k followers", "1.5k followers", "12k followers", "2M followers"]


def test_verified_accounts():
    result = merged(author(verified=True))
    assert (result.priority, result.reasons) == (2, ("verified account",))
    assert merged(author(verified=True), AuthorWeightSettings(verified_escalate=0)).reasons == ()


def test_vips_by_handle_or_id_on_their_platform():
    settings = AuthorWeightSettings(vips=["x:@BigCustomer", "discord:1234"])
    result = merged(author(handle="bigcustomer", verified=True, followers=15_000), settings, priority=4)
    assert result.priority == 2  # 4 - 2 (VIP); verified and the tier are capped at P2
    assert result.reasons == ("VIP", "verified account", "15k followers")
    assert result.tags == ("vip",)
    by_id = Author(platform="discord", external_id="1234", handle="anyone")
    assert weigh(by_id, settings)[0].reasons == ("VIP",)
    elsewhere = Author(platform="discord", external_id="99", handle="bigcustomer")
    assert weigh(elsewhere, settings) == []


def test_custom_tiers():
    settings = AuthorWeightSettings(follower_tiers=[{"min_followers": 500, "escalate": 1},
                                                    {"min_followers": 50, "escalate": 0}])
    assert merged(author(followers=60), settings).reasons == ()
    assert merged(author(followers=800), settings).reasons == ("800 followers",)
    assert merged(author(followers=10**6), AuthorWeightSettings(follower_tiers=[])).reasons == ()


@pytest.mark.parametrize(("settings", "path", "message"), [
    ({"vips": ["bigcustomer"]}, "vips", "must be 'platform:handle' or 'platform:id'"),
    ({"follower_tiers": [{"min_followers": 10, "escalate": 1}, {"min_followers": 10, "escalate": 2}]},
     "follower_tiers", "same min_followers"),
    ({"follower_tiers": [{"min_followers": 10, "escalate": 5}]}, "follower_tiers.0.escalate", "less than or equal to 3"),
    ({"vip": ["x:a"]}, "vip", "did you mean 'vips'"),
])
def test_bad_settings_are_clear_config_problems(settings, path, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"author_weight": settings}}, discover_plugins())
    [line] = caught.value.lines()
    assert line.startswith(f"plugins.toml: plugins.author_weight.{path}: ") and message in line, line
