"""SingleFlight: simultaneous askers of one key share one call, its answer and its error."""

from __future__ import annotations

import asyncio

import pytest

from socialdesk.core.single_flight import SingleFlight


async def test_one_call_per_key_while_it_runs_then_a_new_one() -> None:
    calls: list[str] = []
    release = asyncio.Event()

    async def fetch(key: str) -> str:
        calls.append(key)
        await release.wait()
        return key.upper()

    flight: SingleFlight[str, str] = SingleFlight()
    waiting = [asyncio.ensure_future(flight.call(k, lambda k=k: fetch(k))) for k in ("a", "a", "b", "a")]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["A", "A", "B", "A"]
    assert calls == ["a", "b"]
    assert await flight.call("a", lambda: fetch("a")) == "A"  # done: the next ask calls again
    assert calls == ["a", "b", "a"]


async def test_every_waiter_gets_the_error_and_a_cancelled_waiter_cancels_nothing() -> None:
    release = asyncio.Event()

    async def failing() -> str:
        await release.wait()
        raise RuntimeError("slack is down")

    flight: SingleFlight[str, str] = SingleFlight()
    first = asyncio.ensure_future(flight.call("k", failing))
    second = asyncio.ensure_future(flight.call("k", failing))
    impatient = asyncio.ensure_future(flight.call("k", failing))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    release.set()
    for waiter in (first, second):
        with pytest.raises(RuntimeError, match="slack is down"):
            await waiter
    assert impatient.cancelled()
