"""Which forum posts the desk takes: the filter, our own posts left out, follow-ups kept.

Shared by the webhook endpoint and the backfill so both take exactly the same posts.
"""

from __future__ import annotations

from socialdesk.core.mention import Mention
from socialdesk.plugins.discourse.posts import REGULAR_POST, ForumPost, concerns_desk, to_mention
from socialdesk.plugins.discourse.runtime import DiscourseRuntime


async def wanted(runtime: DiscourseRuntime, posts: list[ForumPost]) -> list[Mention]:
    settings = runtime.settings
    ours = runtime.client().api_username.lower()
    mentions: list[Mention] = []
    taken_topics: set[int] = set()  # a later post of a topic taken earlier in this batch joins it
    for post in posts:
        if post.post_type != REGULAR_POST or post.username.lower() == ours:
            continue
        tags = await runtime.topic_tags(post.topic_id) if settings.tags else None
        # A follow-up in a topic the desk already handles joins its ticket, filter or not.
        if (post.topic_id in taken_topics or concerns_desk(post, settings, tags)
                or await runtime.has_open_ticket(post.topic_id)):
            taken_topics.add(post.topic_id)
            mentions.append(to_mention(post, settings.base_url))
    return mentions
