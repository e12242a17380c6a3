"""Is this text a status the instance will accept? Checked before anything is written or sent.

The limit is the instance's own (``/api/v2/instance`` ->
``configuration.statuses.max_characters``, 500 unless the admin changed it), counted as
Mastodon counts (``status_length``). Mastodon does not address a reply by itself: the
status must mention the person answered, or they are not notified (and a ``direct``
reply would reach nobody). So the desk starts the reply with ``@user@domain`` unless
the agent wrote that mention, and that mention counts as ``@user``.
"""

from __future__ import annotations

from socialdesk.plugins.mastodon.status_length import MENTION, URL_WEIGHT, status_length

HINT_UNIT = (f"characters (Mastodon's default; each link counts {URL_WEIGHT}; the instance's own limit is "
             "checked before sending)")


def mentions_in(text: str) -> set[str]:
    """The accts mentioned in ``text``, lower-cased (``user`` or ``user@domain``)."""
    return {m.group(0).lstrip("@").lower() for m in MENTION.finditer(text)}


def addressed(text: str, acct: str | None, brand_acct: str | None = None) -> str:
    """The status to post: ``text`` starting with the mention of ``acct`` unless it mentions them already."""
    if not acct or (brand_acct and acct.lower() == brand_acct.lower()):
        return text
    acct = acct.lstrip("@")
    if acct.lower() in mentions_in(text):
        return text
    return f"@{acct} {text}"


def length_problems(text: str, max_characters: int) -> list[str]:
    length = status_length(text)
    if length > max_characters:
        return [f"{max_characters} characters at most on this Mastodon instance, this reply has {length} with the "
                f"mention of the customer (each link counts {URL_WEIGHT}, a remote mention counts as @user)"]
    return []
