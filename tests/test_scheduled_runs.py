"""run_logged: a plugin's scheduled run that raises is logged on the plugin's logger and
gives None (the next run starts from what was committed); one that works gives its result."""

from __future__ import annotations

import asyncio
import logging

import pytest

from socialdesk.core.runtime.scheduler import run_logged

PLUGIN_LOG = logging.getLogger("socialdesk.plugins.example")


async def test_a_run_that_works_gives_its_result() -> None:
    async def poll() -> int:
        return 7

    assert await run_logged(PLUGIN_LOG, "example poll", poll) == 7


async def test_a_run_that_raises_is_logged_with_its_context_and_gives_none(
        caplog: pytest.LogCaptureFixture) -> None:
    async def poll() -> int:
        raise ConnectionResetError("the platform hung up")

    with caplog.at_level(logging.ERROR, logger=PLUGIN_LOG.name):
        assert await run_logged(PLUGIN_LOG, "example poll", poll, stream="mentions") is None
    (record,) = caplog.records
    assert record.name == PLUGIN_LOG.name
    assert record.getMessage() == "example poll raised; the next run starts over from what was committed"
    assert record.stream == "mentions"  # type: ignore[attr-defined]
    assert record.exc_info and isinstance(record.exc_info[1], ConnectionResetError)


async def test_cancellation_is_not_swallowed() -> None:
    async def poll() -> int:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_logged(PLUGIN_LOG, "example poll", poll)
