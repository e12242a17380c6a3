"""What a push source gives the server: its path, its checks and what it does with a delivery.

A platform plugin declares its sources with the ``socialdesk_push_sources`` hook. The
server calls, in order: ``authenticate`` (signature in constant time, staleness), the
replay check on the delivery id, then ``accept`` (filter, ingest). A refusal changes
nothing: nothing is written before ``accept``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


class PushRefused(Exception):
    """The request is refused with ``status``; ``reason`` is safe to send back (no secrets)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Delivery:
    """An authenticated delivery: its id (the replay key) and the parsed body."""

    delivery_id: str
    payload: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What ``accept`` did: mentions stored (new) and ignored (filtered out or seen)."""

    stored: int = 0
    ignored: int = 0
    note: str | None = None


class PushSource(ABC):
    """One configured sender. ``name`` is its path under ``/push/`` (``discourse``, ``webhook/shop``)."""

    name: str
    platform: str

    @property
    def path(self) -> str:
        return f"/push/{self.name}"

    @abstractmethod
    def configuration_problem(self) -> str | None:
        """``None`` when the source can verify requests; else what an admin must set (no secret values)."""

    @abstractmethod
    def authenticate(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Delivery:
        """Check the signature (constant time) and freshness; raise ``PushRefused`` otherwise."""

    @abstractmethod
    async def accept(self, delivery: Delivery, app: DeskApp) -> Accepted:
        """Store what the delivery carries (idempotently: a retry may arrive meanwhile)."""
