"""Gateway faults on demand: a chosen share of live dispatches followed by a disconnect.

The HTTP ``FaultPlan`` covers REST and the websocket upgrade; this covers connections that
are already up. ``disconnect`` closes with 4000 (the client may RESUME), ``drop`` cuts the
TCP connection without a close frame. Replayed events never trigger a fault, so a client
that keeps resuming always makes progress. Seeded, so a run is repeatable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GatewayFaults:
    disconnect: float = 0.0  # share of live dispatches after which the connection is closed (4000)
    drop: float = 0.0  # share after which the TCP connection is cut without a close frame
    seed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            if not hasattr(self, key) or key.startswith("_") or key == "counts":
                raise AttributeError(f"GatewayFaults has no setting {key!r}")
            setattr(self, key, value)
        if "seed" in changes:
            self._rng = random.Random(self.seed)

    def clear(self) -> None:
        self.set(disconnect=0.0, drop=0.0)

    def choose(self) -> str | None:
        for name, share in (("drop", self.drop), ("disconnect", self.disconnect)):
            if share > 0 and self._rng.random() < share:
                self.counts[name] = self.counts.get(name, 0) + 1
                return name
        return None
