"""Rotating platform user tokens in the database: one refresh at a time, across replicas.

X's OAuth 2.0 user access tokens expire after two hours and the refresh token that
renews them works once (each refresh returns a new one). Kept in an environment variable,
the second replica or the first restart after a refresh would present a spent refresh
token and lose the account. So the newest pair lives in ``platform_credentials``:

* ``seed`` writes the pair from the environment the first time (and again only after a
  refusal, when the admin has put a *different* refresh token in the environment);
* ``refresh`` renews it while holding the row (``SELECT ... FOR UPDATE`` on PostgreSQL;
  SQLite's ``BEGIN IMMEDIATE`` write lock), so a refresh token is presented once: a
  replica that waited finds a newer generation and uses it instead of refreshing again;
* a refusal is written down (``failure``) and shown by ``/healthz`` and on the reply's
  error, until an admin authorises again.

The platform call happens inside the transaction (at most the request timeout, every
couple of hours): that is what makes "presented once" hold.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from socialdesk.core.errors import DeskError
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import PlatformCredential


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a refresh returned."""

    access_token: str
    refresh_token: str | None  # None: the platform kept the old one
    expires_in: float | None  # seconds; None: not said


@dataclass(frozen=True, slots=True)
class StoredCredential:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    generation: int
    failure: str | None

    def due(self, now: datetime, margin: timedelta) -> bool:
        """Renew now: it expires within ``margin`` (unknown expiry: only when refused)."""
        return self.expires_at is not None and now >= self.expires_at - margin


class RefreshRefused(DeskError):
    """The platform refused the refresh token: nothing renews it until an admin authorises again."""


Refresher = Callable[[str], Awaitable[TokenGrant]]


def _stored(row: PlatformCredential) -> StoredCredential:
    return StoredCredential(row.access_token, row.refresh_token, row.expires_at, row.generation, row.failure)


class CredentialStore:
    def __init__(self, database: Database, platform: str, account: str = "posting") -> None:
        self._db = database
        self.platform = platform
        self.account = account

    def _select(self):  # type: ignore[no-untyped-def]
        return select(PlatformCredential).where(PlatformCredential.platform == self.platform,
                                                PlatformCredential.account == self.account)

    async def current(self) -> StoredCredential | None:
        async with self._db.sessions() as session:
            row = await session.scalar(self._select())
            return _stored(row) if row else None

    async def seed(self, access_token: str, refresh_token: str | None, now: datetime) -> StoredCredential:
        """The stored pair, written from the environment if there is none yet (or it was
        refused and the environment now holds another refresh token)."""
        async with self._db.transaction() as session:
            insert = pg_insert if self._db.is_postgres else sqlite_insert
            await session.execute(insert(PlatformCredential).values(
                platform=self.platform, account=self.account, access_token=access_token,
                # With a refresh token the expiry is unknown until the first renewal: renew at first use.
                refresh_token=refresh_token, expires_at=now if refresh_token else None, generation=0, updated_at=now,
            ).on_conflict_do_nothing())
            row = await session.scalar(self._select().with_for_update())
            assert row is not None
            if row.failure is not None and refresh_token and refresh_token != row.refresh_token:
                row.access_token, row.refresh_token, row.expires_at = access_token, refresh_token, now
                row.failure, row.failed_at, row.updated_at = None, None, now
                row.generation += 1
            return _stored(row)

    async def refresh(self, refresher: Refresher, *, seen_generation: int, now: datetime) -> StoredCredential:
        """Renew the pair unless another replica already did since ``seen_generation``.

        Raises ``RefreshRefused`` (and records it) when the platform refuses the refresh
        token; other errors (network, 5xx) propagate and change nothing.
        """
        refused: RefreshRefused | None = None
        async with self._db.transaction() as session:
            row = await session.scalar(self._select().with_for_update())
            if row is None:
                raise DeskError(f"no stored {self.platform} credentials to refresh")
            if row.generation != seen_generation and row.failure is None:
                return _stored(row)  # another replica (or task) renewed it meanwhile
            if row.failure is not None:
                raise RefreshRefused(row.failure)
            if not row.refresh_token:
                refused = RefreshRefused("there is no refresh token to renew the expired access token")
            else:
                try:
                    grant = await refresher(row.refresh_token)
                except RefreshRefused as exc:
                    refused = exc
                else:
                    row.access_token = grant.access_token
                    row.refresh_token = grant.refresh_token or row.refresh_token
                    row.expires_at = now + timedelta(seconds=grant.expires_in) if grant.expires_in else None
                    row.generation += 1
                    row.updated_at = now
                    return _stored(row)
            row.failure, row.failed_at, row.updated_at = str(refused), now, now
        raise refused

    async def expire(self, generation: int, now: datetime) -> None:
        """The platform refused the access token before its time: renew it on the next use."""
        async with self._db.transaction() as session:
            row = await session.scalar(self._select().with_for_update())
            if row is not None and row.generation == generation:
                row.expires_at = now


async def credential_failures(database: Database) -> dict[str, str]:
    """Platform -> why its posting credentials stopped working (for ``/healthz``)."""
    async with database.sessions() as session:
        rows = await session.execute(select(PlatformCredential.platform, PlatformCredential.failure)
                                     .where(PlatformCredential.failure.is_not(None)))
        return {platform: str(failure) for platform, failure in rows}
