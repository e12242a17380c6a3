"""Fields and expansions: X returns only what the client asked for.

A post always carries ``id``, ``text`` and ``edit_history_tweet_ids``; a user ``id``,
``name`` and ``username``. Anything else appears only when listed in ``tweet.fields`` /
``user.fields`` (and only when the object has it). ``expansions`` put the referenced
users and posts under ``includes``. The accepted names are the live API's (what tweepy
sends); ``post.fields`` is accepted as an alias of ``tweet.fields`` because the vendored
OpenAPI description spells it that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from socialdesk.sandbox.x.timeline import PublicTimeline, Tweet, XMedia, XUser

DEFAULT_TWEET_FIELDS = frozenset({"id", "text", "edit_history_tweet_ids"})
DEFAULT_USER_FIELDS = frozenset({"id", "name", "username"})

TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations", "conversation_id",
    "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id",
    "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets", "reply_settings", "scopes",
    "source", "text", "withheld",
)
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm", "subscription",
    "subscription_type", "url", "username", "verified", "verified_followers_count", "verified_type", "withheld",
)
TWEET_EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys", "attachments.media_source_tweet",
    "attachments.poll_ids", "author_id", "edit_history_tweet_ids", "entities.mentions.username",
    "entities.note.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
)
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics", "preview_image_url",
    "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
)
DEFAULT_MEDIA_FIELDS = frozenset({"media_key", "type"})
# Other object types X can expand (polls and places: the sandbox has none, so they are accepted and empty).
OTHER_FIELD_PARAMETERS = ("media.fields", "poll.fields", "place.fields")


@dataclass(frozen=True)
class Selection:
    tweet_fields: frozenset[str] = frozenset()
    user_fields: frozenset[str] = frozenset()
    expansions: frozenset[str] = frozenset()
    media_fields: frozenset[str] = frozenset()


def render_tweet(tweet: Tweet, fields: frozenset[str]) -> dict[str, Any]:
    full = tweet.as_dict()
    wanted = DEFAULT_TWEET_FIELDS | fields
    return {name: value for name, value in full.items() if name in wanted}


def render_media(media: XMedia, fields: frozenset[str]) -> dict[str, Any]:
    full = media.as_dict()
    wanted = DEFAULT_MEDIA_FIELDS | fields
    return {name: value for name, value in full.items() if name in wanted}


def render_user(user: XUser, fields: frozenset[str]) -> dict[str, Any]:
    full = user.as_dict()
    wanted = DEFAULT_USER_FIELDS | fields
    return {name: value for name, value in full.items() if name in wanted}


class Renderer:
    """Builds ``data`` and ``includes`` for a list of posts or one user."""

    def __init__(self, timeline: PublicTimeline, selection: Selection) -> None:
        self.timeline = timeline
        self.selection = selection

    def tweets(self, tweets: list[Tweet]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        fields = self.selection.tweet_fields
        if "attachments.media_keys" in self.selection.expansions:
            fields = fields | {"attachments"}  # the expansion brings the keys it expands
        data = [render_tweet(t, fields) for t in tweets]
        return data, self._includes_for_tweets(tweets)

    def user(self, user: XUser) -> tuple[dict[str, Any], dict[str, Any]]:
        includes: dict[str, Any] = {}
        if "most_recent_tweet_id" in self.selection.expansions:
            recent = self.timeline.get(user.most_recent_tweet_id)
            if recent is not None:
                includes["tweets"] = [render_tweet(recent, self.selection.tweet_fields)]
        return render_user(user, self.selection.user_fields), includes

    def _includes_for_tweets(self, tweets: list[Tweet]) -> dict[str, Any]:
        expansions = self.selection.expansions
        referenced: dict[str, Tweet] = {}
        if expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"}:
            for tweet in tweets:
                for ref in tweet.referenced_tweets:
                    found = self.timeline.get(ref["id"])
                    if found is not None:
                        referenced.setdefault(found.id, found)
        user_ids: dict[str, None] = {}  # ordered set: first appearance first, like X
        for tweet in tweets:
            if "author_id" in expansions:
                user_ids[tweet.author_id] = None
            if "in_reply_to_user_id" in expansions and tweet.in_reply_to_user_id:
                user_ids[tweet.in_reply_to_user_id] = None
            if "entities.mentions.username" in expansions:
                for mention in tweet.entities.get("mentions", ()):
                    if "id" in mention:
                        user_ids[mention["id"]] = None
        if "referenced_tweets.id.author_id" in expansions:
            for ref in referenced.values():
                user_ids[ref.author_id] = None
        includes: dict[str, Any] = {}
        users = [u for u in (self.timeline.user(uid) for uid in user_ids) if u is not None]
        if users:
            includes["users"] = [render_user(u, self.selection.user_fields) for u in users]
        if referenced:
            includes["tweets"] = [render_tweet(t, self.selection.tweet_fields) for t in referenced.values()]
        media: dict[str, XMedia] = {}
        if "attachments.media_keys" in expansions:
            for tweet in tweets:
                media.update((m.media_key, m) for m in tweet.media)
        if "referenced_tweets.id.attachments.media_keys" in expansions:
            for ref in referenced.values():
                media.update((m.media_key, m) for m in ref.media)
        if media:
            includes["media"] = [render_media(m, self.selection.media_fields) for m in media.values()]
        return includes
