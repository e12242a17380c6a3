"""The delivery ids accepted per source: a second request with one of them is a replay.

Recorded after the delivery's mentions commit. A crash between the two leaves the id
unrecorded: the sender's retry is accepted again and finds its mentions stored
(ingest is idempotent on the platform's ids), so nothing is lost or doubled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from socialdesk.core.store.database import Database
from socialdesk.core.store.models import PushDelivery


class DeliveryLog:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def seen(self, source: str, delivery_id: str) -> bool:
        query = select(PushDelivery.id).where(PushDelivery.source == source, PushDelivery.delivery_id == delivery_id)
        return await self._db.run_read(lambda connection: connection.execute(query).first() is not None)

    async def record(self, source: str, delivery_id: str, now: datetime) -> None:
        def write(connection: Connection) -> None:
            insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(insert(PushDelivery).values(source=source, delivery_id=delivery_id, received_at=now)
                               .on_conflict_do_nothing(index_elements=[PushDelivery.source, PushDelivery.delivery_id]))

        await self._db.run_in_transaction(write)

    async def prune(self, older_than: datetime) -> int:
        def write(connection: Connection) -> int:
            return connection.execute(delete(PushDelivery).where(PushDelivery.received_at < older_than)).rowcount

        return await self._db.run_in_transaction(write)
