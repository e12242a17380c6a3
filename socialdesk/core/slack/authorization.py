"""Who the bot is, for Bolt: from auth.test, cached, and never a reason to drop a request.

Bolt's own single-workspace check calls ``auth.test`` on the first request and, if Slack
answers 429 or 5xx, tells the agent "please install this app" and drops the command.
The desk has one workspace and one bot token, so a request can always act with that
token: the identity from ``auth.test`` is cached once Slack gives it, and while Slack
cannot answer, the request goes ahead with the token alone (nothing the desk does needs
more). Only a token Slack refuses stops requests: that is a real installation problem.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from socialdesk.core.single_flight import SingleFlight

if TYPE_CHECKING:
    from socialdesk.core.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

REFUSED_TOKEN = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                           "not_allowed_token_type"})


class DeskAuthorize(AsyncAuthorize):
    def __init__(self, rt: SlackRuntime) -> None:
        super().__init__()
        self._rt = rt
        self._known: AuthorizeResult | None = None
        # The first burst of clicks after a start asks once, not once per click.
        self._asking: SingleFlight[str, AsyncSlackResponse | Exception] = SingleFlight()

    async def __call__(self, *, context: Any, enterprise_id: str | None, team_id: str | None,
                       user_id: str | None, **_actor: Any) -> AuthorizeResult | None:
        if self._known is not None:
            return self._known
        token = self._rt.bot_token
        answer = await self._asking.call(token, self._auth_test)
        if isinstance(answer, SlackApiError):
            error = str(answer.response.get("error") or f"HTTP {answer.response.status_code}")
            if error in REFUSED_TOKEN:
                log.error("Slack refused the bot token", extra={"error": error})
                return None
            log.warning("auth.test failed; the request goes ahead with the configured token",
                        extra={"error": error, "status": answer.response.status_code})
        elif isinstance(answer, Exception):
            log.warning("auth.test unanswered; the request goes ahead with the configured token",
                        extra={"error": type(answer).__name__})
        else:
            self._known = AuthorizeResult.from_auth_test_response(auth_test_response=answer, bot_token=token)
            return self._known
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token)

    async def _auth_test(self) -> AsyncSlackResponse | Exception:
        """auth.test's answer, or the error that kept it from answering."""
        try:
            return await self._rt.client.auth_test()
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return exc
