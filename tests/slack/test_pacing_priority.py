"""Slack's per-channel slots go to the most urgent job: a P1 takes the slot a P4 is still
sleeping for, the P4s keep their order behind it, and nobody waits past its limit.

The pacer's clock stands still here, so the slots and the tokens are exact; the callers
still sleep until their slot (in real time), and wake in the order of their slots.
"""

from __future__ import annotations

import asyncio

from socialdesk.core.slack.pacing import Pacer


async def test_a_p1_takes_the_next_slot_ahead_of_sleeping_p4s() -> None:
    pacer = Pacer(per_second=2.0, burst=1, clock=lambda: 0.0)
    order: list[str] = []

    async def post(name: str, priority: int) -> None:
        slot = await pacer.acquire("C1", priority=priority, max_wait=5)
        assert slot.granted, name
        order.append(name)

    assert (await pacer.acquire("C1", priority=4, max_wait=5)).wait == 0.0  # the burst
    waiting = [asyncio.create_task(post(f"p4-{n}", 4)) for n in range(3)]
    await asyncio.sleep(0)  # each has reserved one of the next slots and sleeps
    assert len(pacer._buckets["C1"].sleepers) == 3
    await asyncio.gather(asyncio.create_task(post("p1", 1)), *waiting)
    assert order == ["p1", "p4-0", "p4-1", "p4-2"]
    assert pacer._buckets["C1"].tokens == -4.0  # five slots given, five taken: none invented


async def test_a_pushed_back_job_gives_up_at_its_limit_and_takes_nothing() -> None:
    pacer = Pacer(per_second=1.0, burst=1, clock=lambda: 0.0)
    await pacer.acquire("C1", priority=4, max_wait=0)
    low = asyncio.create_task(pacer.acquire("C1", priority=4, max_wait=1.5))  # slot 1 s away
    await asyncio.sleep(0)
    urgent = await asyncio.gather(*(pacer.acquire("C1", priority=1, max_wait=5) for _ in range(2)))
    assert all(slot.granted for slot in urgent)
    pushed = await low
    assert not pushed.granted  # behind two P1s its slot is 3 s away, past its 1.5 s
    # three slots were used in all (the burst and the two P1s); the P4 holds none
    assert pacer._buckets["C1"].tokens == -2.0


async def test_equal_priorities_are_served_in_order_and_other_channels_do_not_wait() -> None:
    pacer = Pacer(per_second=20.0, burst=1, clock=lambda: 0.0)
    order: list[int] = []

    async def post(n: int) -> None:
        assert (await pacer.acquire("C1", priority=2, max_wait=5)).granted
        order.append(n)

    await asyncio.gather(*(post(n) for n in range(6)))
    assert order == list(range(6))
    assert (await pacer.acquire("C2", priority=4, max_wait=0)).granted  # its own bucket
