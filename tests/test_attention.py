"""AgentAttention: work nobody waits on lets a burst of agents' requests go first, for a
moment, never longer than its longest wait."""

from __future__ import annotations

import pytest

from socialdesk.core.attention import AgentAttention


class FakeTime:
    """A clock that moves only when the code under test sleeps; arrivals scripted by time."""

    def __init__(self, attention_arrivals: list[float]) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._arrivals = sorted(attention_arrivals)
        self.attention: AgentAttention | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        until = self.now + seconds
        assert self.attention is not None
        while self._arrivals and self._arrivals[0] <= until:  # requests arriving during the sleep
            self.now = self._arrivals.pop(0)
            self.attention.request_arrived()
        self.now = until


def attention_with(time: FakeTime) -> AgentAttention:
    time.attention = AgentAttention(quiet_after=0.15, longest_wait=1.0, clock=time.clock, sleep=time.sleep)
    return time.attention


async def test_no_request_lately_means_no_wait() -> None:
    time = FakeTime([])
    attention = attention_with(time)
    await attention.quiet()
    assert time.slept == []
    attention.request_arrived()
    time.now += 0.2  # the last request is older than quiet_after
    await attention.quiet()
    assert time.slept == []


async def test_waits_until_the_requests_pause() -> None:
    time = FakeTime([100.1, 100.2])  # two more clicks arrive while waiting
    attention = attention_with(time)
    attention.request_arrived()
    await attention.quiet()
    assert time.now == pytest.approx(100.35)  # 0.15 after the last arrival
    assert time.slept == [0.15, 0.1, 0.1]


async def test_an_endless_stream_of_requests_is_waited_out_for_one_second_at_most() -> None:
    time = FakeTime([100 + n / 20 for n in range(1, 200)])  # a click every 50 ms for ten seconds
    attention = attention_with(time)
    attention.request_arrived()
    await attention.quiet()
    assert time.now == pytest.approx(101.0)
