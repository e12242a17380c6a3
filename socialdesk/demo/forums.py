"""The demo's forum chapter: a Discourse topic, a Reddit post and a shop's webhook become
cards, and each gets one answer back in its own place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.core.push.plugin import push_server
from socialdesk.plugins.reddit.plugin import poll_stream

if TYPE_CHECKING:
    from socialdesk.demo.scenario import Demo

DEMO_AGENT = "U0AGENT001"


def forum_settings(base: dict[str, str]) -> dict[str, Any]:
    """``[plugins.*]`` tables for the forum platforms, pointed at the sandbox (``base`` = addresses)."""
    return {
        "push": {"host": "127.0.0.1", "port": 0},
        "reddit": {"enabled": True, "oauth_url": base["reddit"], "reddit_url": base["reddit"],
                   "subreddits": ["acme"], "keywords": ["acme"], "developer": "acme_dev", "poll_interval": 30},
        "discourse": {"enabled": True, "base_url": base["discourse"], "backfill_interval": 30},
        "webhook": {"enabled": True, "sources": {"shop": {"label": "Acme shop reviews",
                                                          "secret_env": "WEBHOOK_SHOP_SECRET",
                                                          "callback_url": base["shop_callback"]}}},
    }


async def forums_chapter(demo: Demo, eventually: Any, truthy: Any) -> None:
    forums = demo.sandbox.forums
    assert forums is not None
    say, app = demo.say, demo.app
    server = await eventually("the push server", lambda: truthy(push_server(app)))
    forums.discourse.webhooks.url = f"{server.url}/push/discourse"
    # The first poll and backfill only note where each forum is; customers speak after that.
    await eventually("Reddit and Discourse read once", lambda: _cursors(app))

    say("\n6. Forums: Discourse, Reddit and a shop that sends webhooks")
    topic, _ = await forums.discourse.create_topic("maria", "Checkout fails",
                                                   "Checkout fails with error 500 since this morning")
    say(f"  discourse maria opened '{topic.title}' (a signed webhook reaches /push/discourse)")
    post = forums.reddit.submit("jonas_h", "acme", "acme order stuck in processing", "Ten days now, no email")
    say(f"  reddit u/jonas_h in r/acme: {post.title}")
    await poll_stream(app, "subreddit_posts")
    status, _ = await forums.webhook.send_mention(f"{server.url}/push/webhook/shop", id="review-81",
                                                  conversation_id="order-1042", handle="dana",
                                                  text="Two stars: the parcel arrived broken")
    say(f"  shop   signed webhook for review-81 answered {status}")
    tickets = {platform: await demo.ticket_for(platform, part) for platform, part in
               (("discourse", "error 500"), ("reddit", "processing"), ("webhook", "arrived broken"))}
    for platform, ticket in tickets.items():
        await demo.desk(DEMO_AGENT, f"claim {ticket.id}")
    await demo.desk(DEMO_AGENT, f"reply {tickets['discourse'].id} Sorry Maria, a fix is live; please try again.")
    await demo.desk(DEMO_AGENT, f"reply {tickets['reddit'].id} Hi Jonas, it shipped today, tracking is in your inbox.")
    await demo.desk(DEMO_AGENT, f"reply {tickets['webhook'].id} Sorry Dana, a replacement is on its way.")
    answer = await eventually("the answer in the Discourse topic",
                              lambda: truthy(forums.discourse.posts_by(forums.discourse.api_username)))
    say(f"  discourse @{forums.discourse.api_username} replied in topic {answer[0].topic_id}: {answer[0].raw}")
    comment = await eventually("the answer on Reddit", lambda: truthy(forums.reddit.comments_by(forums.reddit.brand)))
    say(f"  reddit u/{forums.reddit.brand} commented under {comment[0].parent_id}: {comment[0].body}")
    applied = await eventually("the signed answer at the shop", lambda: truthy(forums.webhook.applied))
    say(f"  shop   received {applied[0]['webhook_id']}: {applied[0]['document']['data']['text']}")


async def _cursors(app: Any) -> bool:
    return (await app.cursors.get("reddit", "subreddit_posts") is not None
            and await app.cursors.get("discourse", "last_post_id") is not None)
