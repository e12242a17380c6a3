"""`socialdesk check --online` for Bluesky: whose app password this is, whether reading and posting work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atproto import models
from atproto_client.client.session import Session

from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.secrets import MissingSecret
from socialdesk.plugins.bluesky.connection import BlueskyConnection, CredentialsRefused, LoginDeferred
from socialdesk.plugins.bluesky.errors import API_ERRORS, describe, status_of
from socialdesk.plugins.bluesky.mentions import PLATFORM, REASONS
from socialdesk.plugins.bluesky.poller import LIST_NOTIFICATIONS
from socialdesk.plugins.bluesky.settings import BlueskySettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

GET_SESSION = "com.atproto.server.getSession"
# Scopes of sessions that may write records (an app password, privileged or not; a full login).
POSTING_SCOPES = {"com.atproto.appPass", "com.atproto.appPassPrivileged", "com.atproto.access"}


async def check_online(app: DeskApp, settings: BlueskySettings) -> OnlineCheck:
    try:
        connection = BlueskyConnection(app, settings, lambda: app.clock().timestamp())
    except MissingSecret as exc:
        return OnlineCheck(PLATFORM, problems=(str(exc),))
    seen: list[str] = [f"service at {settings.service}"]
    problems: list[str] = []
    try:
        try:
            brand = await connection.brand()
        except (CredentialsRefused, LoginDeferred) as exc:
            return OnlineCheck(PLATFORM, tuple(seen), (str(exc),))
        followers = f", {brand.followers:,} followers" if brand.followers is not None else ""
        seen.append(f"logged in as @{brand.handle} ({brand.did}{followers}) with {connection.credentials}")
        session = await connection.query(GET_SESSION, None)
        content = session.content if isinstance(session.content, dict) else {}
        if content.get("active") is False:
            problems.append(f"the account is not active on its PDS ({content.get('status', 'no reason given')}): "
                            "it can neither read nor post")
        else:
            scope = Session.decode(connection.client.export_session_string()).access_jwt_payload.scope
            if scope in POSTING_SCOPES:
                seen.append(f"posting replies: allowed (session scope {scope}; nothing was posted to check)")
            else:
                problems.append(f"the session's scope {scope!r} does not allow posting; create an app password "
                                "(Settings -> Privacy and security -> App passwords) and use it instead")
        try:
            await connection.query(LIST_NOTIFICATIONS, models.AppBskyNotificationListNotifications.Params(
                reasons=list(REASONS), limit=1))
            seen.append("reading notifications (mentions, replies, quotes): allowed")
        except API_ERRORS as exc:
            if status_of(exc) is None:
                raise
            problems.append(f"Bluesky refused to list notifications ({describe(exc)}); the app password needs no "
                            "special scope for this, so check that the account is active")
    except API_ERRORS as exc:
        problems.append(f"Bluesky could not be reached at {settings.service}: {describe(exc)}")
    finally:
        await connection.close()
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
