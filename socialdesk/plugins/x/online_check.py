"""`socialdesk check --online` for X: whose credentials these are and whether reading works."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import tweepy

from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.secrets import MissingSecret
from socialdesk.plugins.x.connection import CredentialsRefused, XConnection
from socialdesk.plugins.x.settings import XSettings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

PLATFORM = "x"


async def check_online(app: DeskApp, settings: XSettings) -> OnlineCheck:
    try:
        connection = XConnection(app, settings)
    except MissingSecret as exc:
        return OnlineCheck(PLATFORM, problems=(str(exc),))
    seen: list[str] = [f"API at {settings.api_base}"]
    problems: list[str] = []
    try:
        try:
            brand = await connection.brand()
        except CredentialsRefused as exc:
            return OnlineCheck(PLATFORM, tuple(seen), (str(exc),))
        seen.append(f"posting as @{brand.username} (id {brand.id}) with {connection.posting_credentials}")
        try:
            await connection.reader.get_users_mentions(brand.id, max_results=5)
            seen.append(f"reading @{brand.username}'s mentions with {connection.reading_credentials}")
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            problems.append(f"X refused to read mentions with {connection.reading_credentials} "
                            f"({type(exc).__name__}); check the bearer token and the app's access level")
    except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
        problems.append(f"X could not be reached at {settings.api_base}: {type(exc).__name__}")
    finally:
        await connection.close()
    return OnlineCheck(PLATFORM, tuple(seen), tuple(problems))
