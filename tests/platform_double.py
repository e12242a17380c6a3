"""A platform plugin for tests: records what it posts and fails on demand.

It stands for the real platform plugins (X, Discord), which are tested against the
sandbox emulators; here it lets core tests script every kind of platform outcome.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import ReconciledReply, ReplyLimits, ReplyRequest, SentReply

PLATFORM = "testnet"
MAX_LENGTH = 280


@dataclass
class TestPlatform:
    """Register with name ``testnet``. ``script`` holds exceptions to raise, in order."""

    __test__ = False  # not a pytest test class

    posted: list[ReplyRequest] = field(default_factory=list)
    script: list[BaseException] = field(default_factory=list)
    post_then_fail: list[BaseException] = field(default_factory=list)  # posted, then the answer is lost
    delay: float = 0.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    @hookimpl
    def socialdesk_platform(self) -> str:
        return PLATFORM

    @hookimpl
    def socialdesk_reply_limits(self, platform: str) -> ReplyLimits | None:
        return ReplyLimits(PLATFORM, MAX_LENGTH) if platform == PLATFORM else None

    @hookimpl
    async def socialdesk_send_reply(self, request: ReplyRequest) -> SentReply | None:
        if request.platform != PLATFORM:
            return None
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            raise self.script.pop(0)
        self.posted.append(request)
        if self.post_then_fail:
            raise self.post_then_fail.pop(0)
        post_id = str(next(self._ids))
        return SentReply(platform_id=post_id, url=f"https://testnet.example/p/{post_id}")

    @hookimpl
    def socialdesk_reconcile_reply(self, request: ReplyRequest) -> ReconciledReply | None:
        if request.platform != PLATFORM:
            return None
        for index, posted in enumerate(self.posted):
            if posted.reply_id == request.reply_id:
                return ReconciledReply(True, SentReply(platform_id=f"found-{index}"))
        return ReconciledReply(False)


@dataclass
class CardRecorder:
    """Performs the card jobs in place of the Slack app: records what it was asked to do."""

    __test__ = False

    done: list[tuple[str, dict]] = field(default_factory=list)

    async def _perform(self, job, app) -> None:  # type: ignore[no-untyped-def]
        if job.kind == "post_card":
            await app.service.set_card(job.payload["ticket_id"], "CDESK", f"{len(self.done)}.0001")
        self.done.append((job.kind, dict(job.payload)))

    @hookimpl
    def socialdesk_outbox_performers(self):  # type: ignore[no-untyped-def]
        return {kind: self._perform for kind in ("post_card", "update_card", "post_to_card_thread",
                                                 "slack_channel_notice")}
