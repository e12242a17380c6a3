"""`socialdesk check --online` for Mastodon: whose token this is, what it may read and post, what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastodon import MastodonAPIError

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import OnlineCheck
from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS, describe, status_of
from socialdesk.plugins.mastodon.connection import MastodonConnection
from socialdesk.plugins.mastodon.mentions import PLATFORM
from socialdesk.plugins.mastodon.rate_budget import RateBudget
from socialdesk.plugins.mastodon.settings import MastodonSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

# What the desk needs, and why (README, "Mastodon setup").
NEEDED_SCOPES = {
    "read:accounts": "to know the brand account",
    "read:notifications": "to read mentions",
    "read:statuses": "to read threads and the user stream",
    "write:statuses": "to post replies",
}


def _holds(scopes: list[str], scope: str) -> bool:
    return scope in scopes or scope.split(":", 1)[0] in scopes


async def check_online(app: DeskApp, settings: MastodonSettings) -> OnlineCheck:
    try:
        connection = MastodonConnection(app, settings, RateBudget(), lambda: app.clock().timestamp())
    except DeskError as exc:  # api_base unset, or the variable is not set
        return OnlineCheck(PLATFORM, problems=(str(exc),))
    client = connection.client
    seen: list[str] = [f"instance at {connection.api_base}"]
    problems: list[str] = []
    try:
        try:
            brand = await connection.brand()
        except DeskError as exc:
            return OnlineCheck(PLATFORM, tuple(seen), (str(exc),))
        seen.append(f"account @{brand.acct} (id {brand.id}), token from {connection.token_env}")
        instance = await connection.call(client.instance_v2)
        limit = instance["configuration"]["statuses"]["max_characters"]
        seen.append(f"Mastodon {instance.get('version', '?')} at {instance.get('domain', '?')}: "
                    f"statuses up to {limit} characters")
        scopes: list[str] | None = None
        try:
            application = await connection.call(client.app_verify_credentials)
            scopes = [str(s) for s in application.get("scopes") or []] or None
        except MastodonAPIError:
            scopes = None  # servers before 4.3 do not say
        if scopes is not None:
            seen.append(f"token scopes: {' '.join(scopes)}")
            for scope, why in NEEDED_SCOPES.items():
                if not _holds(scopes, scope):
                    problems.append(f"the token lacks {scope} ({why}); create a token whose application has it "
                                    "(Preferences > Development > your application > scopes)")
            if _holds(scopes, "write:statuses"):
                seen.append("may post replies (write:statuses)")
        try:
            await connection.call(client.notifications, types=["mention"], limit=1)
            seen.append(f"reading @{brand.acct}'s mentions")
        except MastodonAPIError as exc:
            if status_of(exc) not in (401, 403):
                raise
            if not any("read:notifications" in p for p in problems):
                problems.append(f"Mastodon refused to list mentions ({describe(exc)}); the token needs "
                                "read:notifications")
        if settings.streaming:
            try:
                healthy = await connection.call(client.stream_healthy)
            except CALL_ERRORS:
                healthy = False
            if healthy:
                seen.append("streaming server answers")
            else:
                problems.append("the streaming server does not answer; mentions still arrive by catch-up every "
                                f"{settings.catch_up_interval} s (or set streaming = false)")
    except CALL_ERRORS as exc:
        problems.append(f"Mastodon could not be reached at {connection.api_base}: {describe(exc)}")
    finally:
        connection.client.session.close()
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
