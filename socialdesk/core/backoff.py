"""Retry delays: exponential with full jitter, never shorter than the server asked for."""

from __future__ import annotations

import random


def retry_delay(attempt: int, *, base: float, cap: float, at_least: float | None = None,
                rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Full jitter (a uniform draw up to the exponential ceiling) spreads retries of many
    workers hit by the same outage; ``at_least`` honours a Retry-After header.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = (rng or random).uniform(0, ceiling)
    return max(delay, at_least or 0.0)
