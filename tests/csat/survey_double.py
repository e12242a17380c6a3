"""The test platform's survey side: records surveys, fails on demand (like ``TestPlatform``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.platform import SentReply, SurveyRequest
from tests.platform_double import PLATFORM


@dataclass
class SurveyDouble:
    __test__ = False

    sent: list[SurveyRequest] = field(default_factory=list)
    script: list[BaseException] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5000))

    @hookimpl
    async def socialdesk_send_survey(self, request: SurveyRequest) -> SentReply | None:
        if request.platform != PLATFORM:
            return None
        if self.script:
            raise self.script.pop(0)
        self.sent.append(request)
        post_id = str(next(self._ids))
        return SentReply(platform_id=post_id, url=f"https://testnet.example/p/{post_id}")
